import { afterEach, describe, expect, it } from 'vitest';
import type { TickOutcome } from '../../src/jobs/digest.js';
import { connectionId } from '../../src/sandbox/vpn-data.js';
import { createCrashPoints } from '../support/crash-points.js';
import {
  DEV,
  type DigestHarness,
  type DigestHarnessOptions,
  digestIndexById,
  endedConnection,
  PROD,
  startDigestHarness,
  type TickResult,
} from '../support/digest-harness.js';

const START = new Date('2026-11-27T09:00:00Z');
const HOUR = 60 * 60_000;
const TEN = new Date(START.getTime() + HOUR);
const ELEVEN = new Date(START.getTime() + 2 * HOUR);

let harness: DigestHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const crash = createCrashPoints();

async function start(options: Partial<DigestHarnessOptions> = {}): Promise<DigestHarness> {
  crash.disarm();
  harness = await startDigestHarness({
    start: START,
    wrapStore: (store) => crash.wrapStore(store),
    wrapPoster: (poster) => crash.wrapPoster(poster),
    ...options,
  });
  // Two sessions before ten, one between ten and eleven.
  harness.scheduleSessions([
    endedConnection(1, new Date(START.getTime() + 10 * 60_000)),
    endedConnection(2, new Date(START.getTime() + 40 * 60_000), { endpointId: DEV.id }),
    endedConnection(3, new Date(TEN.getTime() + 5 * 60_000)),
  ]);
  return harness;
}

/** Runs a tick with the clock 2 s past it; resolves with the outcome, or the step it crashed at. */
async function tick(h: DigestHarness, at: Date): Promise<TickResult | { crashedAt: string }> {
  h.setClock(new Date(at.getTime() + 2000));
  const crashed = crash.crashed().then((step) => ({ crashedAt: step }));
  return Promise.race([h.instance.tick(h.digest, at), crashed]);
}

/** How many digests listed each connection. */
function timesListed(h: DigestHarness): Record<string, number> {
  return Object.fromEntries(
    [...digestIndexById(h.digestMessages())].map(([id, digests]) => [id, digests.length]),
  );
}

const historyCalls = (h: DigestHarness) =>
  h.slack.calls.filter((c) => c.method === 'conversations.history');

describe("digest: a post interrupted between Slack's ok and the commit", () => {
  it('is found in the channel history after a crash and recorded, not posted again', async () => {
    const h = await start();
    crash.arm({ step: 'slack.ok' });
    expect(await tick(h, TEN)).toEqual({ crashedAt: 'slack.ok' });
    expect(h.digestMessages()).toHaveLength(1);
    expect(h.digestMessages()[0]?.metadata).toMatchObject({
      event_type: 'vpn_conns_digest',
      event_payload: { digest: h.digest.name, tick: TEN.toISOString() },
    });

    await h.restart({ crash: true });
    // The same tick again (the restarted scheduler's catch-up, or a late clock).
    expect(await tick(h, TEN)).toEqual({ kind: 'already-posted' });
    expect(historyCalls(h)).toHaveLength(1);
    expect(historyCalls(h)[0]?.body).toMatchObject({
      channel: h.digest.channel,
      include_all_metadata: 'true',
    });
    expect(h.instance.logs.some((l) => l.includes('recorded it without posting again'))).toBe(true);

    const next = await tick(h, ELEVEN);
    expect(next).toMatchObject({ kind: 'posted', sessions: 1 } satisfies Partial<TickOutcome>);
    expect(timesListed(h)).toEqual({
      [connectionId(1)]: 1,
      [connectionId(2)]: 1,
      [connectionId(3)]: 1,
    });
    // Settled: the next tick looks up nothing.
    expect(historyCalls(h)).toHaveLength(1);
  });

  it('is found after a second interruption in the tick that settled the first (same millisecond)', async () => {
    const h = await start();
    crash.arm({ step: 'slack.ok' });
    expect(await tick(h, TEN)).toEqual({ crashedAt: 'slack.ok' });
    await h.restart({ crash: true });
    // This tick records the ten o'clock post, then posts its own and dies before the commit,
    // all on one clock reading.
    crash.arm({ step: 'slack.ok' });
    expect(await tick(h, ELEVEN)).toEqual({ crashedAt: 'slack.ok' });
    await h.restart({ crash: true });

    expect(await tick(h, new Date(ELEVEN.getTime() + HOUR))).toMatchObject({ kind: 'empty' });
    expect(h.digestMessages()).toHaveLength(2);
    expect(Object.values(timesListed(h))).toEqual([1, 1, 1]);
  });

  it('is recognised without a history lookup when the commit ran and only the clear did not', async () => {
    const h = await start();
    crash.arm({ step: 'store.clearIntent' });
    expect(await tick(h, TEN)).toEqual({ crashedAt: 'store.clearIntent' });
    await h.restart({ crash: true });
    expect(await tick(h, TEN)).toEqual({ kind: 'already-posted' });
    expect(historyCalls(h)).toHaveLength(0);
    expect(await h.instance.store.pendingIntents(h.digest.name)).toEqual([]);
    expect(h.digestMessages()).toHaveLength(1);
  });

  it('is found by the next tick when Slack posted it but its answer never came (timeout)', async () => {
    const h = await start({ slackTimeoutMs: 200 });
    h.slack.faults.slowNext('chat.postMessage', 600, 'after');
    const began = performance.now();
    expect(await tick(h, TEN)).toMatchObject({ kind: 'failed', pending: 2 });
    // The poster gives up after its timeout instead of waiting for Slack indefinitely.
    expect(performance.now() - began).toBeLessThan(590);
    expect(h.digestMessages()).toHaveLength(1);

    expect(await tick(h, ELEVEN)).toMatchObject({ kind: 'posted', sessions: 1 });
    expect(timesListed(h)).toEqual({
      [connectionId(1)]: 1,
      [connectionId(2)]: 1,
      [connectionId(3)]: 1,
    });
  });

  it('is posted again, as before intents, when the app may not read the history, and says why', async () => {
    const h = await start();
    crash.arm({ step: 'slack.ok' });
    expect(await tick(h, TEN)).toEqual({ crashedAt: 'slack.ok' });
    await h.restart({ crash: true });
    h.slack.faults.failNext('conversations.history', 'missing_scope');

    expect(await tick(h, TEN)).toMatchObject({ kind: 'posted', sessions: 2 });
    expect(h.digestMessages()).toHaveLength(2);
    expect(
      h.instance.logs.some((l) => /needs the channels:history scope.*posted again/.test(l)),
    ).toBe(true);
  });

  it('keeps the sessions pending when the history cannot be read now, and settles at the next tick', async () => {
    const h = await start();
    crash.arm({ step: 'slack.ok' });
    await tick(h, TEN);
    await h.restart({ crash: true });
    h.slack.faults.serverErrorNext('conversations.history', 503);

    expect(await tick(h, TEN)).toMatchObject({ kind: 'failed' });
    expect(await tick(h, ELEVEN)).toMatchObject({ kind: 'posted', sessions: 1 });
    expect(h.digestMessages()).toHaveLength(2);
    expect(Object.values(timesListed(h))).toEqual([1, 1, 1]);
  });
});

describe('digest: a post that never reached Slack', () => {
  it('goes out with the next run when the process died before posting', async () => {
    const h = await start();
    crash.arm({ step: 'slack.post' });
    expect(await tick(h, TEN)).toEqual({ crashedAt: 'slack.post' });
    expect(h.digestMessages()).toHaveLength(0);
    await h.restart({ crash: true });

    expect(await tick(h, TEN)).toMatchObject({ kind: 'posted', sessions: 2 });
    expect(historyCalls(h)).toHaveLength(1);
    expect(timesListed(h)).toEqual({ [connectionId(1)]: 1, [connectionId(2)]: 1 });
  });

  it('needs no history lookup when Slack refused it', async () => {
    const h = await start();
    h.slack.faults.failNext('chat.postMessage', 'not_in_channel');
    expect(await tick(h, TEN)).toMatchObject({ kind: 'failed', pending: 2 });
    expect(await tick(h, ELEVEN)).toMatchObject({ kind: 'posted', sessions: 3 });
    expect(historyCalls(h)).toHaveLength(0);
    expect(await h.instance.store.pendingIntents(h.digest.name)).toEqual([]);
    expect(await h.instance.store.countPending(h.digest.name, [PROD.id, DEV.id], START)).toBe(0);
  });
});
