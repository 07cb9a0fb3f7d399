/**
 * Exactly once per period, for jobs that post: a job records each post with
 * its period's instant (`DigestPost.tickAt`) in the same transaction as the
 * rest of its effect (`StateStore.markReported`), and before posting asks
 * whether that period — or a later one — is already recorded. With the
 * leader lock this holds across restarts and instances, even when two
 * instances' clocks disagree about when a period began.
 */
import type { StateStore } from '../store/types.js';

/** True when `jobId` already recorded a post for the period at `at` or a later one. */
export async function periodDone(store: StateStore, jobId: string, at: Date): Promise<boolean> {
  const last = await store.lastPost(jobId);
  return last !== null && last.tickAt.getTime() >= at.getTime();
}
