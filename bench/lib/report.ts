/**
 * Output of a benchmark: aligned text tables on stdout, PASS/FAIL lines for targets, and the
 * JSON results file under bench/results/ (git-ignored).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The project root (bench/lib/../..). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** A target checked by a benchmark; `passed` decides the PASS/FAIL line. */
export interface TargetResult {
  readonly name: string;
  readonly passed: boolean;
  /** What was measured against what, e.g. `0.21 ≤ 0.50`. */
  readonly detail: string;
}

/** What every benchmark hands back to bench/run.ts. */
export interface BenchOutcome {
  readonly name: string;
  readonly targets: readonly TargetResult[];
  readonly resultsFile: string;
}

/** Prints a table with a title; columns after the first are right-aligned. */
export function printTable(
  title: string,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(rule);
  for (const row of rows) console.log(line(row));
}

/** Prints one `PASS`/`FAIL` line per target. */
export function printTargets(targets: readonly TargetResult[]): void {
  console.log('');
  for (const t of targets) console.log(`${t.passed ? 'PASS' : 'FAIL'}  ${t.name}: ${t.detail}`);
}

/** Writes `bench/results/<name>.json` and returns its path. */
export async function writeResults(name: string, data: unknown): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${name}.json`;
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/** `1234.5` → `1,235 ms`; below 10 ms one decimal. */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value).toLocaleString('en-US')} ms`;
}

/** Kilobytes (GNU time's `%M`) as megabytes with one decimal. */
export function mbFromKb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}

/** `0.4321` → `0.43×`. */
export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}
