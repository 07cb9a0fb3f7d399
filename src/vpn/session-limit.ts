/**
 * Session time limits: AWS ends a Client VPN session `SessionTimeoutHours` (8, 10, 12 or 24;
 * DescribeClientVpnEndpoints) after it was established. Pure: how long an active session has
 * left, for the lists ("ends in 1h 20m") and the mark on sessions in their last hour.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The timeouts AWS allows; its default is 24. */
export const SESSION_TIMEOUT_HOURS = [8, 10, 12, 24] as const;

/** What is left of one session. */
export interface SessionTimeLeft {
  /** When AWS will end the session. */
  readonly endsAt: Date;
  /** Milliseconds until then; 0 once the limit has passed (AWS is about to end it). */
  readonly leftMs: number;
  /** Within the last hour of the limit (or past it): lists mark such sessions. */
  readonly lastHour: boolean;
  /** `ends in 1h 20m`, `ends in 5m`, `ends in under a minute`, `ending now`. */
  readonly text: string;
}

/**
 * The time left before the endpoint's session limit ends a session. `null` when it cannot be
 * known: no timeout (not described yet), a timeout that is not a positive number, or no start
 * time. Minutes are rounded down, so "ends in 1h 20m" never promises more than is left.
 */
export function sessionTimeLeft(
  timeoutHours: number | null | undefined,
  establishedAt: Date | null,
  now: Date,
): SessionTimeLeft | null {
  if (timeoutHours === null || timeoutHours === undefined) return null;
  if (!Number.isFinite(timeoutHours) || timeoutHours <= 0) return null;
  if (establishedAt === null || Number.isNaN(establishedAt.getTime())) return null;
  const endsAt = new Date(establishedAt.getTime() + timeoutHours * HOUR_MS);
  const leftMs = Math.max(0, endsAt.getTime() - now.getTime());
  return { endsAt, leftMs, lastHour: leftMs <= HOUR_MS, text: leftText(leftMs) };
}

/** `ends in 1h 20m` (whole minutes, rounded down). */
function leftText(leftMs: number): string {
  if (leftMs <= 0) return 'ending now';
  const minutes = Math.floor(leftMs / MINUTE_MS);
  if (minutes === 0) return 'ends in under a minute';
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `ends in ${m}m`;
  return m === 0 ? `ends in ${h}h` : `ends in ${h}h ${String(m).padStart(2, '0')}m`;
}
