import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLeadership, LEADER_LOCK, type Leadership } from '../../src/jobs/leadership.js';
import {
  createScheduler,
  nextRunOf,
  runJob,
  type ScheduledJob,
  type Scheduler,
} from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/logger.js';
import { formatInZone } from '../../src/slack/blocks/digest.js';
import { openStore, type StateStore } from '../../src/store/index.js';

interface RecordedRun {
  readonly job: string;
  readonly at: Date;
  /** Real time the job was called. */
  readonly calledAt: number;
  finishedAt?: number;
  /** Whether another instance could take the lead as this run ended (it must not). */
  othersCouldLeadAtEnd?: boolean;
}

const logLines: string[] = [];
const logger = createLogger('debug', (line) => logLines.push(line));

let store: StateStore;
let leadership: Leadership;
let scheduler: Scheduler | undefined;
beforeEach(async () => {
  store = await openStore('sqlite::memory:');
  leadership = createLeadership({ store, holder: 'this-instance', leaseMs: 60_000, logger });
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  await store.close();
});

/** A job that records its runs; each run takes `runMs` of real time. */
function recordingJob(
  job: Omit<ScheduledJob, 'run'>,
  runs: RecordedRun[],
  runMs = 0,
): ScheduledJob<{ kind: 'done' }> {
  return {
    ...job,
    async run(at) {
      const run: RecordedRun = { job: job.name, at, calledAt: Date.now() };
      runs.push(run);
      if (runMs > 0) await sleep(runMs);
      run.othersCouldLeadAtEnd = await store.tryLead(LEADER_LOCK, 'another-instance', 60_000);
      run.finishedAt = Date.now();
      return { kind: 'done' };
    },
  };
}

async function waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('waitUntil timed out');
    await sleep(10);
  }
}

describe('createScheduler', () => {
  it('fires a cron job with the scheduled second in its time zone, an interval job at once, and stops', async () => {
    const runs: RecordedRun[] = [];
    const cron = recordingJob(
      {
        name: 'every-second',
        schedule: { cron: '* * * * * *', timezone: 'Asia/Kolkata' },
        leaderOnly: true,
      },
      runs,
    );
    const interval = recordingJob(
      { name: 'poll', schedule: { everyMs: 60_000 }, leaderOnly: true },
      runs,
    );
    scheduler = createScheduler({ jobs: [cron, interval], leadership, logger });
    scheduler.start();
    await waitUntil(() => runs.filter((r) => r.job === 'every-second').length >= 2, 4000);
    await scheduler.stop();
    const ticks = runs.filter((r) => r.job === 'every-second');
    const fired = ticks.length;

    // The interval job ran once, at start, not again within its minute.
    expect(runs.filter((r) => r.job === 'poll')).toHaveLength(1);
    for (const tick of ticks) {
      // The scheduled second itself, not the moment the timer happened to fire.
      expect(tick.at.getTime() % 1000).toBe(0);
      expect(tick.calledAt).toBeGreaterThanOrEqual(tick.at.getTime());
      // node-cron runs a slot at most 1 s late (else it counts it as missed).
      expect(tick.calledAt - tick.at.getTime()).toBeLessThan(1500);
    }
    const seconds = ticks.map((t) => t.at.getTime());
    const steps = seconds.slice(1).map((s, i) => s - (seconds[i] ?? 0));
    expect(steps.every((step) => step > 0 && step % 1000 === 0)).toBe(true);

    // Stopped: the lead is given up at once (not left to lapse), and nothing fires any more.
    expect(await store.tryLead(LEADER_LOCK, 'another-instance', 60_000)).toBe(true);
    await sleep(1200);
    expect(runs.filter((r) => r.job === 'every-second')).toHaveLength(fired);
  });

  it('lets a running job finish before stop() gives up leadership', async () => {
    const runs: RecordedRun[] = [];
    const slow = recordingJob(
      { name: 'slow', schedule: { cron: '* * * * * *', timezone: 'UTC' }, leaderOnly: true },
      runs,
      400,
    );
    scheduler = createScheduler({ jobs: [slow], leadership, logger });
    scheduler.start();
    await waitUntil(() => runs.length >= 1, 3000);
    await scheduler.stop();

    const [run] = runs;
    expect(run?.finishedAt).toBeDefined();
    // Releasing while a digest is being posted would let another instance post it again.
    expect(run?.othersCouldLeadAtEnd).toBe(false);
    expect(await store.tryLead(LEADER_LOCK, 'another-instance', 60_000)).toBe(true);
  });

  it('tells a waiting run that it is stopping, so stop() does not wait out its pause', async () => {
    let aborted = false;
    const waiting: ScheduledJob = {
      name: 'waiting',
      schedule: { everyMs: 60_000 },
      leaderOnly: false,
      async run(_at, signal) {
        await sleep(60_000, undefined, { signal }).catch(() => {
          aborted = true;
        });
      },
    };
    scheduler = createScheduler({ jobs: [waiting], logger });
    scheduler.start();
    await sleep(50);
    const started = Date.now();
    await scheduler.stop();
    expect(aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('never runs two rounds of an interval job at once: a slow round makes the next wait', async () => {
    const runs: RecordedRun[] = [];
    const slow = recordingJob(
      { name: 'slow-poll', schedule: { everyMs: 100 }, leaderOnly: false },
      runs,
      350,
    );
    scheduler = createScheduler({ jobs: [slow], logger });
    scheduler.start();
    await sleep(1000);
    await scheduler.stop();
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const [i, run] of runs.entries()) {
      const next = runs[i + 1];
      if (next) expect(next.calledAt).toBeGreaterThanOrEqual(run.finishedAt ?? Number.NaN);
    }
  });

  it('skips a leader-only job where another instance leads, and runs one that is not', async () => {
    expect(await store.tryLead(LEADER_LOCK, 'another-instance', 60_000)).toBe(true);
    const runs: RecordedRun[] = [];
    const leaderJob = recordingJob(
      { name: 'collector', schedule: { everyMs: 60_000 }, leaderOnly: true },
      runs,
    );
    const everywhere = recordingJob(
      { name: 'maintenance', schedule: { everyMs: 60_000 }, leaderOnly: false },
      runs,
    );
    expect(await runJob(leaderJob, new Date(), leadership)).toEqual({ kind: 'not-leader' });
    expect(await runJob(everywhere, new Date(), leadership)).toEqual({ kind: 'done' });
    expect(runs.map((r) => r.job)).toEqual(['maintenance']);
  });

  it('keeps the schedule after a run throws, and logs it', async () => {
    let calls = 0;
    const failing: ScheduledJob = {
      name: 'flaky',
      schedule: { cron: '* * * * * *', timezone: 'UTC' },
      leaderOnly: false,
      async run() {
        calls += 1;
        throw new Error('database unavailable');
      },
    };
    scheduler = createScheduler({ jobs: [failing], logger });
    scheduler.start();
    await waitUntil(() => calls >= 2, 4000);
    expect(
      logLines.some((l) => l.includes('job flaky failed') && l.includes('database unavailable')),
    ).toBe(true);
  });

  it('refuses a leader-only job without leadership', () => {
    const job = recordingJob({ name: 'x', schedule: { everyMs: 1000 }, leaderOnly: true }, []);
    expect(() => createScheduler({ jobs: [job], logger })).toThrow(/leader-only/);
  });

  it('answers nextRun before start from the cron and the time zone', () => {
    const job = recordingJob(
      {
        name: 'morning',
        schedule: { cron: '30 9 * * *', timezone: 'America/New_York' },
        leaderOnly: true,
      },
      [],
    );
    scheduler = createScheduler({ jobs: [job], leadership, logger });
    const next = scheduler.nextRun('morning');
    expect(next).not.toBeNull();
    expect(formatInZone(next ?? new Date(0), 'America/New_York')).toMatch(/ 09:30$/);
    expect(scheduler.nextRun('unknown')).toBeNull();
  });
});

describe('nextRunOf', () => {
  it('reads the cron in the given time zone', () => {
    const before = Date.now();
    const tokyo = nextRunOf('0 9 * * *', 'Asia/Tokyo');
    const utc = nextRunOf('0 9 * * *', 'UTC');
    expect(tokyo).not.toBeNull();
    expect(utc).not.toBeNull();
    if (tokyo === null || utc === null) return;
    // 09:00 in Tokyo (UTC+9, no daylight saving) is midnight UTC.
    expect(tokyo.toISOString()).toMatch(/T00:00:00\.000Z$/);
    expect(utc.toISOString()).toMatch(/T09:00:00\.000Z$/);
    for (const next of [tokyo, utc]) {
      expect(next.getTime()).toBeGreaterThan(before);
      expect(next.getTime() - before).toBeLessThanOrEqual(24 * 60 * 60_000);
    }
    const kolkata = nextRunOf('0 * * * *', 'Asia/Kolkata');
    // Full hours in Kolkata (UTC+5:30) fall at half past in UTC.
    expect(kolkata?.toISOString()).toMatch(/:30:00\.000Z$/);
  });
});
