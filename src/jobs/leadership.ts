/**
 * Leadership: which instance sharing a database collects and posts. One
 * `Leadership` per process, shared by every leader-only job, so the collector
 * and the digests always run on the same instance.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StateStore } from '../store/types.js';

/**
 * The lock's name in the store. It stays `digest` (the name before jobs had their own module) so
 * that an old and a new version running side by side during a deploy still elect one leader.
 */
export const LEADER_LOCK = 'digest';

export interface Leadership {
  /** This instance's name in the lock. */
  readonly holder: string;
  /**
   * True if this instance leads now. Call it before each unit of leader-only work: it renews the
   * lease (SQLite) or proves the lock's connection is alive (Postgres). A store error counts as
   * not leading (logged), so a database hiccup skips a round instead of failing it.
   */
  lead(): Promise<boolean>;
  /** Gives up the lead (shutdown), so another instance takes over at its next round. */
  release(): Promise<void>;
}

export interface LeadershipOptions {
  readonly store: StateStore;
  readonly holder: string;
  /** Lease length for stores that use one (SQLite); Postgres holds a lock. */
  readonly leaseMs: number;
  readonly logger: Logger;
  /** Default `LEADER_LOCK`. */
  readonly lock?: string;
}

/** Leadership over the store's `tryLead`/`releaseLead`; logs when this instance gains or loses it. */
export function createLeadership(options: LeadershipOptions): Leadership {
  const { store, holder, leaseMs, logger } = options;
  const lock = options.lock ?? LEADER_LOCK;
  let leading = false;
  return {
    holder,
    async lead() {
      let now: boolean;
      try {
        now = await store.tryLead(lock, holder, leaseMs);
      } catch (error) {
        logger.warn('jobs: could not check leadership; skipping this round', describeError(error));
        now = false;
      }
      if (now !== leading) {
        logger.info(
          now
            ? `jobs: ${holder} now collects and posts`
            : `jobs: ${holder} is no longer the leader`,
        );
        leading = now;
      }
      return now;
    },
    async release() {
      await store.releaseLead(lock, holder);
      leading = false;
    },
  };
}
