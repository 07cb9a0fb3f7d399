/**
 * Small statistics over samples: every benchmark reports medians, percentiles and maxima the
 * same way, so the figures in different tables mean the same thing.
 */

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new Error('no samples');
  return [...values].sort((a, b) => a - b);
}

/** The middle value (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Nearest-rank percentile: `percentile(v, 99)` is the smallest value ≥ 99 % of the samples. */
export function percentile(values: readonly number[], p: number): number {
  const s = sorted(values);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1] as number;
}

export function max(values: readonly number[]): number {
  return sorted(values).at(-1) as number;
}

export function min(values: readonly number[]): number {
  return sorted(values)[0] as number;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error('no samples');
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}
