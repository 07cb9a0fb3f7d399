import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatedConnection } from '../../src/sandbox/ec2-emulator.js';
import {
  type DigestHarness,
  digestConfig,
  digestIndexById,
  endedConnection,
  expectedTick,
  listedConnectionIds,
  planSessions,
  startDigestHarness,
  type TickResult,
} from '../support/digest-harness.js';

const START = new Date('2026-11-27T09:00:00Z');
const HOUR_MS = 60 * 60_000;
const STEP_MS = 5 * 60_000;
/** The scheduler fires a little after the scheduled minute: the tick's own poll runs then. */
const TICK_LATENCY_MS = 2000;
const HOURS = 6;

let harness: DigestHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface RunOptions {
  /** Called before each step with the step's time (restarts, outages). */
  readonly beforeStep?: (at: Date) => Promise<void>;
}

/**
 * Runs the collector every 5 minutes for `HOURS` hours from START and the digest at each full
 * hour (with the clock 2 s past it, as a real timer fires late); returns the tick outcomes.
 */
async function runHours(h: DigestHarness, options: RunOptions = {}): Promise<TickResult[]> {
  const outcomes: TickResult[] = [];
  for (let ms = START.getTime(); ms <= START.getTime() + HOURS * HOUR_MS; ms += STEP_MS) {
    const at = new Date(ms);
    await options.beforeStep?.(at);
    if (ms > START.getTime() && (ms - START.getTime()) % HOUR_MS === 0) {
      h.setClock(new Date(ms + TICK_LATENCY_MS));
      outcomes.push(await h.instance.tick(h.digest, at));
    } else {
      h.setClock(at);
      await h.instance.poll();
    }
  }
  return outcomes;
}

/** Every planned session is listed in exactly one digest: the one of the first tick after it ended. */
function expectEachSessionOnceInItsDigest(h: DigestHarness, plan: readonly EmulatedConnection[]) {
  const messages = h.digestMessages();
  expect(messages).toHaveLength(HOURS);
  const byId = digestIndexById(messages);
  const planned = new Set(plan.map((c) => c.connectionId));
  expect([...byId.keys()].filter((id) => !planned.has(id))).toEqual([]);
  const wrong: string[] = [];
  for (const connection of plan) {
    const endedAt = connection.endedAt ?? START;
    const tick = expectedTick(endedAt, START);
    const expected = Math.round((tick.getTime() - START.getTime()) / HOUR_MS) - 1;
    const seen = byId.get(connection.connectionId) ?? [];
    if (seen.length !== 1 || seen[0] !== expected) {
      wrong.push(
        `${connection.connectionId} ended ${endedAt.toISOString()}: in digests [${seen.join(', ')}], expected [${expected}]`,
      );
    }
  }
  expect(wrong).toEqual([]);
  // Each digest's own count agrees with what it lists: nothing was cut from the message.
  for (const message of messages) {
    const listed = listedConnectionIds(message).length;
    expect(message.text).toContain(`: ${listed} sessions`);
  }
}

describe('digest jobs: every ended session in exactly one digest', () => {
  it('over six hours of polls and hourly ticks, including sessions ending on and around the hour', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    const plan = planSessions({ start: START, hours: HOURS, seed: 20261127 });
    expect(plan.some((c) => (c.endedAt?.getTime() ?? 0) % HOUR_MS === 0)).toBe(true);
    expect(plan.some((c) => (c.endedAt?.getTime() ?? 0) % HOUR_MS === HOUR_MS - 1000)).toBe(true);
    h.scheduleSessions(plan);

    const outcomes = await runHours(h);

    expect(outcomes.map((o) => o.kind)).toEqual(Array(HOURS).fill('posted'));
    expectEachSessionOnceInItsDigest(h, plan);
    // Nothing is left behind: the last digest took everything that ended before it.
    const ids = h.endpoints.map((e) => e.id);
    expect(await h.instance.store.countPending(h.digest.name, ids, START)).toBe(0);
  });

  it('continues exactly once across a clean restart and a crash mid-hour (same SQLite file)', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    const plan = planSessions({ start: START, hours: HOURS, seed: 7 });
    h.scheduleSessions(plan);
    const firstHolder = h.instance.holder;

    const outcomes = await runHours(h, {
      beforeStep: async (at) => {
        if (at.getTime() === START.getTime() + 2.5 * HOUR_MS) await h.restart();
        // A crash leaves the lease behind; the new process (another holder) waits it out.
        if (at.getTime() === START.getTime() + 3 * HOUR_MS + 20 * 60_000) {
          await h.restart({ crash: true, holder: 'after-crash' });
        }
      },
    });

    expect(h.instance.holder).toBe('after-crash');
    expect(h.instance.holder).not.toBe(firstHolder);
    expect(outcomes.map((o) => o.kind)).toEqual(Array(HOURS).fill('posted'));
    expectEachSessionOnceInItsDigest(h, plan);
  });

  it('posts a period once when its tick runs again after a restart (e.g. a late clock on the next leader)', async () => {
    harness = await startDigestHarness({
      start: START,
      digests: [digestConfig({ empty: 'post' })],
    });
    const h = harness;
    const tick = new Date(START.getTime() + HOUR_MS);
    h.scheduleSessions([endedConnection(1, new Date(START.getTime() + 10 * 60_000))]);
    h.setClock(new Date(tick.getTime() + TICK_LATENCY_MS));
    expect(await h.instance.tick(h.digest, tick)).toMatchObject({ kind: 'posted', sessions: 1 });

    await h.restart({ holder: 'next-leader' });
    // An empty digest would be posted again ("none") if the period itself were not recorded.
    expect(await h.instance.tick(h.digest, tick)).toEqual({ kind: 'already-posted' });
    expect(await h.instance.tick(h.digest, new Date(tick.getTime() - 1000))).toEqual({
      kind: 'already-posted',
    });
    expect(h.digestMessages()).toHaveLength(1);

    // The next period posts as usual.
    const next = new Date(tick.getTime() + HOUR_MS);
    h.setClock(next);
    expect(await h.instance.tick(h.digest, next)).toMatchObject({ kind: 'posted', sessions: 0 });
    expect(h.digestMessages()).toHaveLength(2);
  });
});
