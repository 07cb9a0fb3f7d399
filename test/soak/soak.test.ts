import { describe, expect, it } from 'vitest';
import { formatFigures, runSoak } from './soak.js';

/** A short soak inside `npm test`; `npm run soak` runs 1,000 hours. SOAK_SEED repeats a run. */
const HOURS = 120;
const SEED = Number(process.env.SOAK_SEED ?? 20261201);

describe('digest soak (short run; npm run soak for 1,000 hours)', () => {
  it(`reports every ended session once, or names its gap, through ${HOURS} hours of crashes, restarts, outages and faults`, async () => {
    const figures = await runSoak({ hours: HOURS, seed: SEED });
    process.stdout.write(`${formatFigures(figures)}\n`);

    expect(figures.reportedTwice, formatFigures(figures)).toBe(0);
    expect(figures.missed - figures.missedInsideReportedGap, formatFigures(figures)).toBe(0);
    // The run did what it claims: sessions on the hour's edge, crashes in the window between
    // Slack's ok and the commit, outages longer than 60 minutes.
    expect(figures.sessionsEnded).toBeGreaterThan(HOURS * 5);
    expect(figures.reportedOnce + figures.missed).toBe(figures.sessionsEnded);
    expect(figures.crashes['tick at slack.ok'] ?? 0).toBeGreaterThan(0);
    expect(figures.digestsPosted).toBeGreaterThan(HOURS / 2);
  }, 120_000);
});
