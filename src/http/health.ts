/**
 * `/readyz`, pure: whether this process should receive traffic and be counted as working.
 * Not ready until the store is open and a first poll succeeded, and again whenever the last
 * successful poll is older than three poll intervals (a stalled collector). `/healthz` stays
 * the liveness check: a process that is alive but not ready is not restarted for it.
 */

/** What readiness depends on, as the composition root knows it. */
export interface ReadinessState {
  readonly storeOpen: boolean;
  /** The last poll that succeeded (the collector's, or read from the store); `null` = none yet. */
  readonly lastPollSuccessAt: Date | null;
  readonly pollIntervalSeconds: number;
}

/** The answer to `/readyz`. */
export interface Readiness {
  readonly status: 200 | 503;
  /** Why it is not ready; empty when it is. */
  readonly reasons: readonly string[];
  /** A one-line body (`ready`, or the reasons), `text/plain`. */
  readonly body: string;
}

/** How many poll intervals without a successful poll make the process not ready. */
export const STALE_POLL_INTERVALS = 3;

/** `/readyz` for `state` at `now`: 200 when ready, 503 with the reasons otherwise. */
export function readiness(state: ReadinessState, now: Date): Readiness {
  const reasons: string[] = [];
  if (!state.storeOpen) reasons.push('the state store is not open yet');
  if (state.lastPollSuccessAt === null) {
    reasons.push('no poll has succeeded yet');
  } else {
    const ageSeconds = (now.getTime() - state.lastPollSuccessAt.getTime()) / 1000;
    const limit = STALE_POLL_INTERVALS * state.pollIntervalSeconds;
    if (ageSeconds > limit) {
      reasons.push(
        `the last successful poll was ${Math.round(ageSeconds)} s ago (more than ${STALE_POLL_INTERVALS} poll intervals, ${limit} s)`,
      );
    }
  }
  return reasons.length === 0
    ? { status: 200, reasons, body: 'ready' }
    : { status: 503, reasons, body: `not ready: ${reasons.join('; ')}` };
}
