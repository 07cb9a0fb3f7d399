/**
 * What a process runs in the background, by role: maintenance on every role;
 * on `all` and `worker` the collector over every endpoint (it keeps the
 * session history, digest or not, and the alert rules are checked after each
 * of its rounds) and one job per configured digest — all
 * leader-only, under one leadership — and one per scheduled report. The composition root builds this once
 * and starts the scheduler.
 *
 * A new scheduled consumer (a weekly report, say) is one more `ScheduledJob`
 * pushed here: a cron and time zone from its config, `leaderOnly: true`, and a
 * `run(at)` that reads what the collector stored, checks `periodDone`, posts,
 * then records the post with `markReported` in one transaction — as
 * `jobs/digest.ts` does. A consumer that needs endpoints polled adds its
 * endpoint selection to the collector's scope.
 */

import { type Collector, type CollectResult, createCollector } from '../collector/collector.js';
import type { DigestConfig, PricingConfig, ReportConfig, Role } from '../config.js';
import type { AppMetrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import type { StateStore } from '../store/types.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { VpnGateway } from '../vpn/gateway.js';
import type { AlertWatch } from './alerts.js';
import { createDigestJobs, type DigestJobs, type DigestPoster, nextDigestRun } from './digest.js';
import { createLeadership, type Leadership } from './leadership.js';
import { createMaintenanceJob } from './maintenance.js';
import { createReportJobs, type ReportPoster } from './report.js';
import { createScheduler, type ScheduledJob, type Scheduler } from './scheduler.js';

/**
 * The collector's round as a job: leader-only, every `everyMs` (and once at start). The alert
 * rules are checked right after each round, under the same lead, on what it read.
 */
export function createCollectorJob(
  collector: Collector,
  everyMs: number,
  alerts?: AlertWatch,
): ScheduledJob<CollectResult> {
  return {
    name: 'collector',
    schedule: { everyMs },
    leaderOnly: true,
    async run() {
      const round = await collector.poll();
      await alerts?.check(round);
      return round;
    },
  };
}

export interface BackgroundDeps {
  readonly role: Role;
  readonly digests: readonly DigestConfig[];
  /** The digests' poll interval (`DIGEST_POLL_SECONDS`). */
  readonly pollSeconds: number;
  /** The history's poll interval (`HISTORY_POLL_SECONDS`); default `pollSeconds`. */
  readonly historyPollSeconds?: number;
  /** Days of history kept (`HISTORY_DAYS`); default 90. */
  readonly historyDays?: number;
  /** Scheduled usage reports, their poster, prices and the default region (all or none). */
  readonly reports?: {
    readonly configs: readonly ReportConfig[];
    readonly poster: ReportPoster;
    readonly pricing: PricingConfig;
    readonly region: string;
  };
  readonly store: StateStore;
  readonly gateway: VpnGateway;
  readonly catalogue: EndpointCatalogue;
  readonly poster: DigestPoster;
  readonly logger: Logger;
  readonly now: () => Date;
  /** This instance's name in the leadership lock. */
  readonly holder: string;
  readonly concurrency?: number;
  /** Alert rules checked after each collector round; absent = none. */
  readonly alerts?: AlertWatch;
  /** Collector polls and digest posts are counted here for `/metrics`. */
  readonly metrics?: AppMetrics;
}

export interface Background {
  readonly scheduler: Scheduler;
  /** The jobs the scheduler runs. */
  readonly jobs: readonly ScheduledJob[];
  /** The collector's job (scheduled on `all` and `worker`). */
  readonly collectorJob: ScheduledJob<CollectResult>;
  readonly leadership: Leadership;
  readonly collector: Collector;
  /** Status and preview for `/vpn-conns digest` (on every role); `null` with no digest. */
  readonly digests: DigestJobs | null;
  /** The alert rules checked after each collector round (`/vpn-conns alerts` reads them); `null` = none given. */
  readonly alerts: AlertWatch | null;
  /** The next run of a digest by name, for `/vpn-conns digest`. */
  readonly nextDigestRun: (name: string) => Date | null;
}

/**
 * How often the collector polls: the history's interval, but never less often
 * than a configured digest needs (its ended sessions are listed for 60 minutes).
 */
export function collectorIntervalSeconds(
  deps: Pick<BackgroundDeps, 'digests' | 'pollSeconds' | 'historyPollSeconds'>,
): number {
  const history = deps.historyPollSeconds ?? deps.pollSeconds;
  return deps.digests.length === 0 ? history : Math.min(history, deps.pollSeconds);
}

/** One job per scheduled report (none without `deps.reports`). */
function reportJobsOf(deps: BackgroundDeps): ScheduledJob[] {
  if (!deps.reports) return [];
  return createReportJobs({
    reports: deps.reports.configs,
    store: deps.store,
    catalogue: deps.catalogue,
    region: deps.reports.region,
    pricing: deps.reports.pricing,
    poster: deps.reports.poster,
    logger: deps.logger,
    now: deps.now,
  });
}

/** Builds the collector, the jobs this role runs, and their scheduler; nothing runs until `scheduler.start()`. */
export function createBackground(deps: BackgroundDeps): Background {
  const { store, logger, now } = deps;
  const everySeconds = collectorIntervalSeconds(deps);
  const leadership = createLeadership({
    store,
    holder: deps.holder,
    // Renewed every poll: two poll intervals survive one slow or failed round.
    leaseMs: everySeconds * 2000,
    logger,
  });
  const collector = createCollector({
    gateway: deps.gateway,
    catalogue: deps.catalogue,
    store,
    logger,
    now,
    // Every endpoint: the history keeps them all, whatever the digests read.
    scope: 'all',
    ...(deps.concurrency ? { concurrency: deps.concurrency } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  const digests =
    deps.digests.length === 0
      ? null
      : createDigestJobs({
          digests: deps.digests,
          store,
          catalogue: deps.catalogue,
          collector,
          poster: deps.poster,
          logger,
          now,
          ...(deps.metrics ? { metrics: deps.metrics } : {}),
        });
  const collectorJob = createCollectorJob(collector, everySeconds * 1000, deps.alerts);
  const jobs: ScheduledJob[] = [
    createMaintenanceJob({
      store,
      logger,
      ...(deps.historyDays !== undefined ? { historyDays: deps.historyDays } : {}),
    }),
  ];
  const reportJobs = reportJobsOf(deps);
  if (deps.role !== 'web') jobs.push(collectorJob, ...(digests?.jobs ?? []), ...reportJobs);
  const scheduler = createScheduler({ jobs, leadership, logger, now });
  return {
    scheduler,
    jobs,
    collectorJob,
    leadership,
    collector,
    digests,
    alerts: deps.alerts ?? null,
    nextDigestRun: nextDigestRun(deps.digests, (name) => scheduler.nextRun(name)),
  };
}
