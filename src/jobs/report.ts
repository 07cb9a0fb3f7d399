/**
 * Scheduled usage reports (`reports:` in the YAML file): one leader-only job
 * per report, on its cron in its time zone. Each run summarizes the period
 * that ends at the scheduled time from the history the collector stored,
 * posts it, and records the post with `markReported` (no sessions, no gaps),
 * so `periodDone` skips a period already posted — across restarts and
 * instances, as the digest does.
 *
 * A report has no next tick to catch up at (the next run is another period),
 * so a post that fails is tried again within the run, after a pause: Slack
 * unreachable, a 5xx or a timeout, or rate limits kept up. Each attempt carries
 * the same id in the message's metadata; after an attempt Slack did not
 * answer, the run first looks for that id in the channel's history, so a
 * post Slack took is recorded, not posted twice. A refusal only a person can
 * fix (`not_in_channel`, …) is not retried: the log says what to fix.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PricingConfig, ReportConfig } from '../config.js';
import { SlackDeliveryError, UNANSWERED_DELIVERY } from '../errors.js';
import type { Logger } from '../logger.js';
import { runReportQuery } from '../services/history.js';
import type { StateStore } from '../store/types.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { ReportQuery } from '../vpn/query.js';
import { periodDone } from './period.js';
import type { ScheduledJob } from './scheduler.js';

/** A report as it goes to Slack: the period's summary, where history starts. */
export interface ScheduledReport {
  readonly query: ReportQuery;
  readonly answer: Awaited<ReturnType<typeof runReportQuery>>;
}

/** Posts a scheduled report; the Slack side lives in src/slack/report-poster.ts. */
export interface ReportPoster {
  /**
   * Posts the report with `postId` in the message's metadata.
   * @returns the posted message's `ts`. @throws SlackDeliveryError
   */
  post(report: ReportConfig, scheduled: ScheduledReport, postId: string): Promise<{ ts: string }>;
  /** The message posted with `postId` since `since`, or null. @throws SlackDeliveryError */
  findPosted(report: ReportConfig, postId: string, since: Date): Promise<{ ts: string } | null>;
}

/** Pauses before the second, third and fourth attempt of a report's post. */
export const REPORT_RETRY_DELAYS_MS: readonly number[] = [30_000, 120_000, 300_000];

/** Refusals worth another attempt: the next may go through without a person doing anything. */
const RETRYABLE = new Set([...UNANSWERED_DELIVERY, 'rate_limited']);

export type ReportOutcome =
  | { readonly kind: 'posted'; readonly ts: string; readonly sessions: number }
  | { readonly kind: 'already-posted' }
  /** Slack refused it, or kept failing through every attempt: logged with what to fix. */
  | { readonly kind: 'failed'; readonly reason: string };

export interface ReportJobDeps {
  readonly reports: readonly ReportConfig[];
  readonly store: StateStore;
  readonly catalogue: EndpointCatalogue;
  readonly region: string;
  readonly pricing: PricingConfig;
  readonly poster: ReportPoster;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Pauses between attempts of a post (default {@link REPORT_RETRY_DELAYS_MS}). */
  readonly retryDelaysMs?: readonly number[];
}

/** The id a report's posts are recorded under (digest names cannot hold `:`). */
export function reportJobId(report: ReportConfig): string {
  return `report:${report.name}`;
}

/** One run of a report for the period ending at `at`. */
export async function runScheduledReport(
  report: ReportConfig,
  at: Date,
  deps: ReportJobDeps,
  signal?: AbortSignal,
): Promise<ReportOutcome> {
  const jobId = reportJobId(report);
  if (await periodDone(deps.store, jobId, at)) return { kind: 'already-posted' };
  const query: ReportQuery = {
    kind: 'report',
    period: report.period,
    endpoints:
      report.endpoints === 'all' ? { kind: 'all' } : { kind: 'named', names: report.endpoints },
  };
  const answer = await runReportQuery(query, {
    store: deps.store,
    catalogue: deps.catalogue,
    region: deps.region,
    timeZone: report.timezone,
    // The period ends at the scheduled instant, not when the timer fired.
    now: () => at,
    pricing: deps.pricing,
  });
  let ts: string;
  try {
    ({ ts } = await deliver(report, { query, answer }, deps, signal));
  } catch (error) {
    if (!(error instanceof SlackDeliveryError)) throw error;
    const reason = `${error.code}: ${error.hint}`;
    deps.logger.error(
      `report ${report.name}: the report due ${at.toISOString()} was not posted to ${report.channel}. ${reason}`,
    );
    return { kind: 'failed', reason };
  }
  const sessions = answer.report.totals.sessions;
  await deps.store.markReported(
    {
      digestId: jobId,
      tickAt: at,
      postedAt: deps.now(),
      channel: report.channel,
      ts,
      sessionCount: sessions,
    },
    [],
    [],
  );
  deps.logger.info(`report ${report.name}: posted ${sessions} sessions to ${report.channel}`);
  return { kind: 'posted', ts, sessions };
}

/**
 * Posts the report, trying again after a failure the next attempt may not meet; after an
 * attempt Slack did not answer, looks for it by its id first. @throws SlackDeliveryError
 */
async function deliver(
  report: ReportConfig,
  scheduled: ScheduledReport,
  deps: ReportJobDeps,
  signal: AbortSignal | undefined,
): Promise<{ ts: string }> {
  const postId = randomUUID();
  const since = deps.now();
  const delays = deps.retryDelaysMs ?? REPORT_RETRY_DELAYS_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await deps.poster.post(report, scheduled, postId);
    } catch (error) {
      if (!(error instanceof SlackDeliveryError) || !RETRYABLE.has(error.code)) throw error;
      const delay = delays[attempt];
      if (delay === undefined) throw error;
      deps.logger.warn(
        `report ${report.name}: not posted to ${report.channel} (${error.code}); trying again in ${Math.round(delay / 1000)} s`,
      );
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        // The process is stopping: give up with the failure that made it wait.
        throw error;
      }
      if (UNANSWERED_DELIVERY.has(error.code)) {
        const found = await deps.poster.findPosted(report, postId, since).catch(() => null);
        if (found) return found;
      }
    }
  }
}

/** One leader-only job per configured report. */
export function createReportJobs(deps: ReportJobDeps): ScheduledJob<ReportOutcome>[] {
  return deps.reports.map((report) => ({
    name: reportJobId(report),
    schedule: { cron: report.cron, timezone: report.timezone },
    leaderOnly: true,
    description: `(${report.period} usage report to ${report.channel})`,
    run: (at, signal) => runScheduledReport(report, at, deps, signal),
  }));
}
