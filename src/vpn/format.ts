/**
 * Small, pure formatters shared by the CLI table, the Slack blocks and the
 * digest: they never print `NaN`, `undefined` or `Invalid Date`.
 */
import { intervalToDuration } from 'date-fns/intervalToDuration';

export const MISSING = '–';

const NUMBER = new Intl.NumberFormat('en-US');

/** `2345` → `2,345`. */
export function formatCount(n: number): string {
  return NUMBER.format(n);
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes in decimal units: `1536` → `1.5 KB`; `null` → `–`. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) return MISSING;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/**
 * A compact duration between two instants: `3d 4h`, `2h 05m`, `4m 10s`,
 * `0s`. `–` when either end is unknown or the interval is negative.
 */
export function formatDuration(start: Date | null, end: Date | null): string {
  if (start === null || end === null) return MISSING;
  const ms = end.getTime() - start.getTime();
  if (!Number.isFinite(ms) || ms < 0) return MISSING;
  const d = intervalToDuration({ start, end });
  const days = Math.floor(ms / 86_400_000);
  const hours = d.hours ?? 0;
  const minutes = d.minutes ?? 0;
  const seconds = d.seconds ?? 0;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
  return `${seconds}s`;
}

/** A total duration in milliseconds, same style as `formatDuration`. */
export function formatMilliseconds(ms: number): string {
  return formatDuration(new Date(0), new Date(Math.max(0, ms)));
}

/** `2026-11-27 20:40 UTC` (minute precision); `–` for `null`. */
export function formatUtc(date: Date | null): string {
  if (date === null || Number.isNaN(date.getTime())) return MISSING;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
