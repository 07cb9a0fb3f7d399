/**
 * Shared settings of the property-based tests: a fixed seed, so every run of `npm test` checks
 * the same cases and a failure reproduces, and a modest number of runs per property.
 *
 * - `FC_SEED=123 npx vitest run test/property` explores other cases; on failure fast-check prints
 *   the seed and the shrunk counterexample, and the same seed replays it;
 * - `FC_RUNS=10000` searches harder (default 100 per property).
 */
import type { Parameters } from 'fast-check';

const DEFAULT_SEED = 20261201;
const DEFAULT_RUNS = 100;

function integerFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The seed of every property (`FC_SEED`, default a fixed one). */
export const SEED = integerFromEnv('FC_SEED', DEFAULT_SEED, Number.MIN_SAFE_INTEGER);
/** Runs per property (`FC_RUNS`, default 100). */
export const RUNS = integerFromEnv('FC_RUNS', DEFAULT_RUNS, 1);

/**
 * The parameters for `fc.assert`: the shared seed and runs, scaled by `share` for properties whose
 * single run is expensive (a whole fleet through a message builder).
 */
export function settings<T>(share = 1): Parameters<T> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(RUNS * share)) };
}
