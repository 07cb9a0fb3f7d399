/**
 * `npm run soak`: the digest soak at full length. Options (or environment):
 *   --hours N      (SOAK_HOURS, default 1000) simulated hours
 *   --seed N       (SOAK_SEED, default random) the run's seed; printed so a run can be repeated
 *   --database-url postgres://…  (SOAK_DATABASE_URL) run over Postgres instead of a SQLite file
 * Exits 1 when a session was reported twice or missed outside a reported gap.
 */
import { parseArgs } from 'node:util';
import { formatFigures, runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    hours: { type: 'string' },
    seed: { type: 'string' },
    'database-url': { type: 'string' },
  },
});
const hours = Number(values.hours ?? process.env.SOAK_HOURS ?? 1000);
const seed = Number(values.seed ?? process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const databaseUrl = values['database-url'] ?? process.env.SOAK_DATABASE_URL;
if (!Number.isInteger(hours) || hours < 1 || !Number.isInteger(seed)) {
  process.stderr.write(
    'usage: npm run soak -- [--hours N] [--seed N] [--database-url postgres://…]\n',
  );
  process.exit(2);
}
process.stdout.write(`soak: seed ${seed}, ${hours} simulated hours\n`);
const figures = await runSoak({
  hours,
  seed,
  ...(databaseUrl ? { store: { kind: 'postgres', databaseUrl } as const } : {}),
  progress: (line) => process.stdout.write(`${line}\n`),
  echoLogs: process.env.SOAK_LOGS === '1',
});
process.stdout.write(`${formatFigures(figures)}\n`);
const outsideGaps = figures.missed - figures.missedInsideReportedGap;
if (figures.reportedTwice > 0 || outsideGaps > 0) {
  process.stdout.write(
    `soak: FAILED (${figures.reportedTwice} doubles, ${outsideGaps} missed outside gaps)\n`,
  );
  process.exit(1);
}
process.stdout.write('soak: passed (no doubles, no misses outside reported gaps)\n');
