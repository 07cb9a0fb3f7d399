/**
 * The audit trail: every command and action, who did it, where, on which
 * endpoints, and how it ended — as one structured log line and one row in
 * the state store. Recording never fails the action it records.
 */
import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import type { AuditEntry, StateStore } from './store/types.js';

export type AuditEvent = Omit<AuditEntry, 'at'>;

export interface AuditTrail {
  record(event: AuditEvent): Promise<void>;
  /** Newest first. */
  recent(limit: number): Promise<AuditEntry[]>;
}

/** Builds the trail over the store (optional: the CLI keeps none) and the logger. */
export function createAuditTrail(deps: {
  store: StateStore | null;
  logger: Logger;
  now: () => Date;
}): AuditTrail {
  return {
    async record(event) {
      const entry: AuditEntry = { at: deps.now(), ...event };
      deps.logger.event('audit', { ...entry, at: entry.at.toISOString() });
      if (!deps.store) return;
      try {
        await deps.store.appendAudit(entry);
      } catch (error) {
        deps.logger.error(
          'audit: could not store an audit entry (it is in the log above)',
          describeError(error),
        );
      }
    },
    async recent(limit) {
      return deps.store ? deps.store.recentAudit(limit) : [];
    },
  };
}
