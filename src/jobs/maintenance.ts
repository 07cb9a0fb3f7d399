/**
 * Maintenance: keeps the store to its promised size. Runs on every instance
 * that opens the store, whatever its role (`all`, `web`, `worker`) and
 * whether or not a digest is configured, so the audit trail's 90 days hold on
 * a `web`-only deployment too. Not leader-only: the deletes are idempotent,
 * and a `web` instance must never take the collector's lead.
 */
import type { Logger } from '../logger.js';
import type { StateStore } from '../store/types.js';
import type { ScheduledJob } from './scheduler.js';

/** Ended sessions, digest marks, gaps and posts older than this are never reported, and are pruned. */
export const SESSION_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** Audit entries are kept this long. */
export const AUDIT_RETENTION_MS = 90 * 24 * 60 * 60_000;
/** Session history and concurrency samples are kept this long unless `HISTORY_DAYS` says otherwise. */
export const DEFAULT_HISTORY_DAYS = 90;
/** How often maintenance runs (and once at start-up). */
export const MAINTENANCE_EVERY_MS = 60 * 60_000;

export interface MaintenanceDeps {
  readonly store: StateStore;
  readonly logger: Logger;
  /** Default `MAINTENANCE_EVERY_MS`. */
  readonly everyMs?: number;
  /** Days of session history kept (`HISTORY_DAYS`); default `DEFAULT_HISTORY_DAYS`. */
  readonly historyDays?: number;
}

export interface MaintenanceOutcome {
  readonly kind: 'pruned';
  /** Rows deleted (report marks included). */
  readonly removed: number;
}

/** Deletes what is past its retention, as of `at`. */
export async function runMaintenance(deps: MaintenanceDeps, at: Date): Promise<MaintenanceOutcome> {
  let removed = await deps.store.prune(
    new Date(at.getTime() - SESSION_RETENTION_MS),
    new Date(at.getTime() - AUDIT_RETENTION_MS),
  );
  const historyMs = (deps.historyDays ?? DEFAULT_HISTORY_DAYS) * 24 * 60 * 60_000;
  removed += await deps.store.pruneHistory(new Date(at.getTime() - historyMs));
  if (removed > 0) deps.logger.debug(`maintenance: pruned ${removed} old rows`);
  return { kind: 'pruned', removed };
}

/** The maintenance job: at start-up, then every hour, on every instance. */
export function createMaintenanceJob(deps: MaintenanceDeps): ScheduledJob<MaintenanceOutcome> {
  return {
    name: 'maintenance',
    schedule: { everyMs: deps.everyMs ?? MAINTENANCE_EVERY_MS },
    leaderOnly: false,
    description: `(prunes digest state after 7 days, audit entries after 90, history after ${deps.historyDays ?? DEFAULT_HISTORY_DAYS})`,
    run: (at) => runMaintenance(deps, at),
  };
}
