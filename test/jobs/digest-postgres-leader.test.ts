import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  type DigestHarness,
  type DigestInstance,
  digestIndexById,
  expectedTick,
  planSessions,
  startDigestHarness,
  type TickResult,
} from '../support/digest-harness.js';

const databaseUrl = inject('databaseUrl');
const SKIP_REASON = databaseUrl
  ? ''
  : ' (SKIPPED: no TEST_DATABASE_URL and no Postgres server binaries in /usr/lib/postgresql)';

const START = new Date('2026-11-27T09:00:00Z');
const HOUR_MS = 60 * 60_000;
const STEP_MS = 5 * 60_000;
const HOURS = 6;

let harness: DigestHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe.skipIf(!databaseUrl)(`digest leadership on one Postgres${SKIP_REASON}`, () => {
  it('posts one digest per tick from two instances, and the survivor takes over when the leader stops', async () => {
    harness = await startDigestHarness({
      start: START,
      store: { kind: 'postgres', databaseUrl },
    });
    const h = harness;
    const a = h.instance;
    const b = await h.startInstance('instance-b');
    expect(a.holder).not.toBe(b.holder);
    const plan = planSessions({ start: START, hours: HOURS, seed: 99 });
    h.scheduleSessions(plan);

    let running: DigestInstance[] = [a, b];
    const stopAt = START.getTime() + 2 * HOUR_MS + 30 * 60_000;
    let stopped: DigestInstance | undefined;
    const ticks: { at: Date; outcomes: Map<string, TickResult> }[] = [];

    for (let ms = START.getTime(); ms <= START.getTime() + HOURS * HOUR_MS; ms += STEP_MS) {
      const at = new Date(ms);
      if (ms === stopAt) {
        // The leader's process goes away: closing its store ends the connection holding the lock.
        const leader = ticks.at(-1)?.outcomes;
        stopped = running.find((i) => leader?.get(i.holder)?.kind === 'posted');
        expect(stopped).toBeDefined();
        await stopped?.store.close();
        running = running.filter((i) => i !== stopped);
      }
      h.setClock(at);
      if (ms > START.getTime() && (ms - START.getTime()) % HOUR_MS === 0) {
        // Both instances' schedulers fire for the same tick at once.
        const results = await Promise.all(running.map((i) => i.tick(h.digest, at)));
        ticks.push({
          at,
          outcomes: new Map(running.map((i, index) => [i.holder, results[index] as TickResult])),
        });
      } else {
        await Promise.all(running.map((i) => i.poll()));
      }
    }

    expect(ticks).toHaveLength(HOURS);
    for (const { at, outcomes } of ticks) {
      const kinds = [...outcomes.values()].map((o) => o.kind).sort();
      const expected = at.getTime() < stopAt ? ['not-leader', 'posted'] : ['posted'];
      expect(kinds, `tick ${at.toISOString()}`).toEqual(expected);
    }
    // The survivor posted every digest after the leader stopped.
    const survivor = running[0];
    expect(survivor).toBeDefined();
    for (const { at, outcomes } of ticks.filter((t) => t.at.getTime() > stopAt)) {
      expect(outcomes.get(survivor?.holder ?? '')?.kind, `tick ${at.toISOString()}`).toBe('posted');
    }
    expect(
      survivor?.logs.some((l) => l.includes(`${survivor.holder} now collects and posts`)),
    ).toBe(true);

    const messages = h.digestMessages();
    expect(messages).toHaveLength(HOURS);
    const byId = digestIndexById(messages);
    const wrong: string[] = [];
    for (const connection of plan) {
      const endedAt = connection.endedAt ?? START;
      const index =
        Math.round((expectedTick(endedAt, START).getTime() - START.getTime()) / HOUR_MS) - 1;
      const seen = byId.get(connection.connectionId) ?? [];
      if (seen.length !== 1 || seen[0] !== index) {
        wrong.push(
          `${connection.connectionId} ${endedAt.toISOString()}: [${seen.join(', ')}] ≠ [${index}]`,
        );
      }
    }
    expect(wrong).toEqual([]);
    expect(byId.size).toBe(plan.length);
  });
});
