import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DigestConfig } from '../../src/config.js';
import {
  createDigestScheduler,
  type DigestScheduler,
  nextRunOf,
} from '../../src/digest/scheduler.js';
import type { DigestService, TickOutcome } from '../../src/digest/service.js';
import { createLogger } from '../../src/logger.js';
import { formatInZone } from '../../src/slack/blocks/digest.js';
import { digestConfig } from '../support/digest-harness.js';

interface RecordedTick {
  readonly digest: string;
  readonly tickAt: Date;
  /** Real time the service was called. */
  readonly calledAt: number;
  finishedAt?: number;
}

/** A digest service that records what the scheduler asks of it; each tick takes `tickMs`. */
function recordingService(tickMs = 0) {
  const ticks: RecordedTick[] = [];
  const events: string[] = [];
  let polls = 0;
  const service: DigestService = {
    async poll() {
      polls += 1;
    },
    async tick(digest: DigestConfig, tickAt: Date): Promise<TickOutcome> {
      const tick: RecordedTick = { digest: digest.name, tickAt, calledAt: Date.now() };
      ticks.push(tick);
      events.push(`tick ${tickAt.toISOString()} started`);
      if (tickMs > 0) await sleep(tickMs);
      tick.finishedAt = Date.now();
      events.push(`tick ${tickAt.toISOString()} finished`);
      return { kind: 'empty' };
    },
    async status() {
      return [];
    },
    async preview() {
      throw new Error('not used by the scheduler');
    },
    async release() {
      events.push('release');
    },
  };
  return { service, ticks, events, polls: () => polls };
}

const logLines: string[] = [];
const logger = createLogger('debug', (line) => logLines.push(line));

let scheduler: DigestScheduler | undefined;
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
});

async function waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('waitUntil timed out');
    await sleep(10);
  }
}

describe('createDigestScheduler', () => {
  it('fires tick with the scheduled second on an every-second cron, polls, and stops', async () => {
    const recorder = recordingService();
    const digest = digestConfig({ cron: '* * * * * *', timezone: 'Asia/Kolkata' });
    scheduler = createDigestScheduler({
      digests: [digest],
      service: recorder.service,
      pollSeconds: 60,
      logger,
    });
    scheduler.start();
    expect(recorder.polls()).toBe(1);
    await waitUntil(() => recorder.ticks.length >= 2, 4000);
    await scheduler.stop();
    const fired = recorder.ticks.length;

    for (const tick of recorder.ticks) {
      expect(tick.digest).toBe(digest.name);
      // The scheduled second itself, not the moment the timer happened to fire.
      expect(tick.tickAt.getTime() % 1000).toBe(0);
      expect(tick.calledAt).toBeGreaterThanOrEqual(tick.tickAt.getTime());
      // node-cron runs a slot at most 1 s late (else it counts it as missed).
      expect(tick.calledAt - tick.tickAt.getTime()).toBeLessThan(1500);
    }
    const seconds = recorder.ticks.map((t) => t.tickAt.getTime());
    const steps = seconds.slice(1).map((s, i) => s - (seconds[i] ?? 0));
    expect(steps.every((step) => step > 0 && step % 1000 === 0)).toBe(true);
    expect(recorder.events.at(-1)).toBe('release');

    await sleep(1200);
    expect(recorder.ticks).toHaveLength(fired);
  });

  it('lets a running tick finish before stop() gives up leadership', async () => {
    const recorder = recordingService(400);
    scheduler = createDigestScheduler({
      digests: [digestConfig({ cron: '* * * * * *' })],
      service: recorder.service,
      pollSeconds: 60,
      logger,
    });
    scheduler.start();
    await waitUntil(() => recorder.ticks.length >= 1, 3000);
    await scheduler.stop();

    const [tick] = recorder.ticks;
    expect(tick?.finishedAt).toBeDefined();
    // Releasing while a digest is being posted would let another instance post it again.
    expect(recorder.events.indexOf('release')).toBeGreaterThan(
      recorder.events.indexOf(`tick ${tick?.tickAt.toISOString()} finished`),
    );
  });

  it('answers nextRun before start from the cron and the time zone', () => {
    const digest = digestConfig({
      name: 'morning',
      cron: '30 9 * * *',
      timezone: 'America/New_York',
    });
    scheduler = createDigestScheduler({
      digests: [digest],
      service: recordingService().service,
      pollSeconds: 60,
      logger,
    });
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
