import { afterEach, describe, expect, it } from 'vitest';
import { connectionId } from '../../src/sandbox/vpn-data.js';
import {
  blocksText,
  DEV,
  type DigestHarness,
  digestConfig,
  endedConnection,
  listedConnectionIds,
  PROD,
  startDigestHarness,
} from '../support/digest-harness.js';

const START = new Date('2026-11-27T09:00:00Z');
const MINUTE = 60_000;
const at = (hhmmss: string) => new Date(`2026-11-27T${hhmmss}Z`);

let harness: DigestHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Polls every 5 minutes from the clock's time up to (not including) `until`. */
async function pollUntil(h: DigestHarness, until: Date): Promise<void> {
  for (let ms = h.clock.now().getTime(); ms < until.getTime(); ms += 5 * MINUTE) {
    h.setClock(new Date(ms));
    await h.instance.poll();
  }
}

async function tickAt(h: DigestHarness, time: Date) {
  h.setClock(time);
  return h.instance.tick(h.digest, time);
}

describe('digest delivery', () => {
  it('waits out a rate_limited answer and posts once, about a second later', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    h.scheduleSessions([endedConnection(1, at('09:10:00')), endedConnection(2, at('09:40:00'))]);
    await pollUntil(h, at('10:00:00'));
    h.slack.faults.rateLimitNext('chat.postMessage', 1, 1);

    const began = performance.now();
    const outcome = await tickAt(h, at('10:00:00'));
    const elapsed = performance.now() - began;

    expect(outcome).toMatchObject({ kind: 'posted', sessions: 2 });
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(5000);
    expect(h.slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(2);
    expect(h.digestMessages()).toHaveLength(1);
    expect(listedConnectionIds(h.digestMessages()[0] ?? { channel: '', ts: '' }).sort()).toEqual(
      [connectionId(1), connectionId(2)].sort(),
    );
    expect(
      h.instance.logs.some((l) => /rate-limited chat\.postMessage; retrying after 1 s/.test(l)),
    ).toBe(true);
    expect(await h.instance.store.countPending(h.digest.name, [PROD.id, DEV.id], START)).toBe(0);
  });

  it('keeps sessions pending when the bot is not in the channel, says to invite it, and delivers them all once after', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    const ids = [PROD.id, DEV.id];
    h.scheduleSessions([
      endedConnection(1, at('09:20:00')),
      endedConnection(2, at('10:15:00')),
      endedConnection(3, at('10:45:00'), { endpointId: DEV.id }),
      endedConnection(4, at('11:30:00')),
    ]);
    await pollUntil(h, at('10:00:00'));
    expect(await tickAt(h, at('10:00:00'))).toMatchObject({ kind: 'posted', sessions: 1 });

    await pollUntil(h, at('11:00:00'));
    h.slack.faults.failNext('chat.postMessage', 'not_in_channel');
    const failed = await tickAt(h, at('11:00:00'));
    expect(failed.kind).toBe('failed');
    expect(failed).toMatchObject({ pending: 2 });
    if (failed.kind === 'failed') expect(failed.reason).toMatch(/not_in_channel.*invite/);
    expect(
      h.instance.logs.some(
        (l) => l.includes('2 sessions stay pending') && l.includes('/invite @vpn-conns'),
      ),
    ).toBe(true);
    expect(await h.instance.store.countPending(h.digest.name, ids, START)).toBe(2);
    expect(h.digestMessages()).toHaveLength(1);
    const metrics = async () => (await h.instance.metrics.scrape()).body;
    expect(await metrics()).toContain(
      `vpn_conns_digest_posts_total{digest="${h.digest.name}",outcome="error"} 1`,
    );
    expect(await metrics()).toContain(
      `vpn_conns_digest_pending_sessions{digest="${h.digest.name}"} 2`,
    );

    // The bot is invited: the fault is gone.
    await pollUntil(h, at('12:00:00'));
    const delivered = await tickAt(h, at('12:00:00'));
    expect(delivered).toMatchObject({ kind: 'posted', sessions: 3 });
    expect(await metrics()).toContain(
      `vpn_conns_digest_posts_total{digest="${h.digest.name}",outcome="ok"} 2`,
    );
    expect(await metrics()).toContain(
      `vpn_conns_digest_pending_sessions{digest="${h.digest.name}"} 0`,
    );
    const messages = h.digestMessages();
    expect(messages).toHaveLength(2);
    expect(listedConnectionIds(messages[0] ?? { channel: '', ts: '' })).toEqual([connectionId(1)]);
    expect(listedConnectionIds(messages[1] ?? { channel: '', ts: '' }).sort()).toEqual(
      [connectionId(2), connectionId(3), connectionId(4)].sort(),
    );
    // The interval reaches back to the last digest posted, not to the failed tick.
    expect(messages[1]?.text).toContain('2026-11-27 10:00 – 2026-11-27 12:00 (UTC)');
    expect(await h.instance.store.countPending(h.digest.name, ids, START)).toBe(0);
  });

  it('widens the first digest back to the oldest pending session when the very first post failed', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    h.scheduleSessions([endedConnection(1, at('09:20:00')), endedConnection(2, at('10:30:00'))]);
    await pollUntil(h, at('10:00:00'));
    h.slack.faults.failNext('chat.postMessage', 'not_in_channel');
    expect((await tickAt(h, at('10:00:00'))).kind).toBe('failed');
    await pollUntil(h, at('11:00:00'));
    expect(await tickAt(h, at('11:00:00'))).toMatchObject({ kind: 'posted', sessions: 2 });
    expect(h.digestMessages()[0]?.text).toContain('2026-11-27 09:20 – 2026-11-27 11:00 (UTC)');
  });

  it('reports a collector outage of 90 minutes as a gap in the digest time zone, and what AWS still lists', async () => {
    harness = await startDigestHarness({
      start: START,
      digests: [digestConfig({ timezone: 'Europe/Berlin' })],
    });
    const h = harness;
    h.scheduleSessions([
      endedConnection(1, at('09:30:00')),
      endedConnection(2, at('10:02:00')), // seen by the last poll before the outage
      endedConnection(3, at('10:20:00')), // ended and expired during the outage: lost
      endedConnection(4, at('10:40:00')), // ended during the outage, still listed at 11:35
      endedConnection(5, at('11:20:00'), { endpointId: DEV.id }),
      endedConnection(6, at('11:50:00')),
    ]);
    await pollUntil(h, at('10:00:00'));
    expect(await tickAt(h, at('10:00:00'))).toMatchObject({ kind: 'posted', sessions: 1 });
    h.setClock(at('10:05:00'));
    await h.instance.poll();
    // Down from 10:05 to 11:35: no polls, no 11:00 tick.
    h.setClock(at('11:35:00'));
    await pollUntil(h, at('12:00:00'));
    const outcome = await tickAt(h, at('12:00:00'));
    expect(outcome).toMatchObject({ kind: 'posted', sessions: 4, gaps: 2 });

    const digest = h.digestMessages()[1] ?? { channel: '', ts: '' };
    expect(listedConnectionIds(digest).sort()).toEqual(
      [connectionId(2), connectionId(4), connectionId(5), connectionId(6)].sort(),
    );
    const text = blocksText(digest);
    // 10:05–10:35 UTC is 11:05–11:35 in Berlin (UTC+1 in November), on each endpoint.
    for (const alias of ['prod', 'dev']) {
      expect(text).toContain(
        `*Possible gap on ${alias}*: sessions that ended between 2026-11-27 11:05 and 2026-11-27 11:35 (Europe/Berlin) may be missing`,
      );
    }
    expect(digest.text).toContain('possible gap in coverage');
    expect(h.instance.logs.some((l) => l.includes('collector gap on prod'))).toBe(true);

    // A gap is reported once.
    await pollUntil(h, at('13:00:00'));
    expect(await tickAt(h, at('13:00:00'))).toMatchObject({ kind: 'empty' });
  });

  it('flags sessions that failed to terminate instead of dropping them', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    h.scheduleSessions([endedConnection(1, at('09:10:00'))]);
    // AWS lists these with no end time (emulator: endedAt null) or with one; neither expires.
    h.emulator.addConnections([
      endedConnection(2, at('09:00:00'), {
        status: 'failed-to-terminate',
        endedAt: null,
        establishedAt: at('08:00:00'),
        statusMessage: 'Failed to terminate the connection',
      }),
      endedConnection(3, at('09:25:00'), {
        status: 'failed-to-terminate',
        endpointId: DEV.id,
        statusMessage: 'Failed to terminate the connection',
      }),
    ]);
    await pollUntil(h, at('10:00:00'));
    // The scheduler fires a moment after the hour; AWS stamps the tick's own read with that moment.
    h.setClock(at('10:00:01'));
    const outcome = await h.instance.tick(h.digest, at('10:00:00'));

    expect(outcome).toMatchObject({ kind: 'posted', sessions: 3 });
    const digest = h.digestMessages()[0] ?? { channel: '', ts: '' };
    expect(listedConnectionIds(digest).sort()).toEqual(
      [connectionId(1), connectionId(2), connectionId(3)].sort(),
    );
    const text = blocksText(digest);
    expect(text).toContain('*2 sessions failed to terminate*');
    expect(text).toMatch(/:warning: \*user2\*/);
    expect(text).toMatch(/:warning: \*user3\*/);
    expect(digest.text).toContain('2 failed to terminate');

    // Still listed by AWS afterwards, but already reported: not in the next digest.
    await pollUntil(h, at('11:00:00'));
    h.setClock(at('11:00:01'));
    expect(await h.instance.tick(h.digest, at('11:00:00'))).toMatchObject({
      kind: 'empty',
    });
  });

  it("posts nothing when nothing ended and the digest says empty: 'skip'", async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    await pollUntil(h, at('10:00:00'));
    expect(await tickAt(h, at('10:00:00'))).toEqual({ kind: 'empty' });
    expect(h.slack.messages).toHaveLength(0);
    expect(h.slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(0);
  });

  it("posts a 'none' digest when nothing ended and the digest says empty: 'post'", async () => {
    harness = await startDigestHarness({
      start: START,
      digests: [digestConfig({ empty: 'post' })],
    });
    const h = harness;
    await pollUntil(h, at('10:00:00'));
    expect(await tickAt(h, at('10:00:00'))).toMatchObject({ kind: 'posted', sessions: 0 });
    const [digest] = h.digestMessages();
    expect(digest?.text).toBe(
      'VPN sessions ended 2026-11-27 09:00 – 2026-11-27 10:00 (UTC): none.',
    );
    expect(blocksText(digest ?? { channel: '', ts: '' })).toContain(
      'No VPN sessions ended in this interval.',
    );
    expect(await h.instance.store.lastPost(h.digest.name)).toMatchObject({ sessionCount: 0 });
  });
});
