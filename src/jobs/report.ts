/**
 * Scheduled usage reports (`reports:` in the YAML file): one leader-only job
 * per report, on its cron in its time zone. Each run summarizes the period
 * that ends at the scheduled time from the history the collector stored,
 * posts it, and records the post with `markReported` (no sessions, no gaps),
 * so `periodDone` skips a period already posted — across restarts and
 * instances, as the digest does. The one window left is a crash between
 * Slack accepting the post and the record's commit (the digest closes it
 * with intents; a report would post that period again).
 */
import type { PricingConfig, ReportConfig } from '../config.js';
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
  /** @returns the posted message's `ts`. @throws SlackDeliveryError */
  post(report: ReportConfig, scheduled: ScheduledReport): Promise<{ ts: string }>;
}

export type ReportOutcome =
  | { readonly kind: 'posted'; readonly ts: string; readonly sessions: number }
  | { readonly kind: 'already-posted' };

export interface ReportJobDeps {
  readonly reports: readonly ReportConfig[];
  readonly store: StateStore;
  readonly catalogue: EndpointCatalogue;
  readonly region: string;
  readonly pricing: PricingConfig;
  readonly poster: ReportPoster;
  readonly logger: Logger;
  readonly now: () => Date;
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
  const { ts } = await deps.poster.post(report, { query, answer });
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

/** One leader-only job per configured report. */
export function createReportJobs(deps: ReportJobDeps): ScheduledJob<ReportOutcome>[] {
  return deps.reports.map((report) => ({
    name: reportJobId(report),
    schedule: { cron: report.cron, timezone: report.timezone },
    leaderOnly: true,
    description: `(${report.period} usage report to ${report.channel})`,
    run: (at) => runScheduledReport(report, at, deps),
  }));
}
