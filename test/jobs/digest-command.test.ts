import { afterEach, describe, expect, it } from 'vitest';
import type { PostedMessage } from '../../src/sandbox/slack-stand-in.js';
import { connectionId } from '../../src/sandbox/vpn-data.js';
import { createDigestAnswer } from '../../src/slack/digest-command.js';
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
const NEXT = new Date('2026-11-27T11:00:00Z');
const at = (hhmmss: string) => new Date(`2026-11-27T${hhmmss}Z`);
const unix = (date: Date) => Math.floor(date.getTime() / 1000);

let harness: DigestHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** The answer as the stand-in's message shape, for the shared text helpers. */
const asPosted = (message: { text: string; blocks: unknown[] }): PostedMessage => ({
  channel: 'ephemeral',
  ts: '0',
  text: message.text,
  blocks: message.blocks,
});

async function pollUntil(h: DigestHarness, until: Date): Promise<void> {
  for (let ms = h.clock.now().getTime(); ms <= until.getTime(); ms += 5 * 60_000) {
    h.setClock(new Date(ms));
    await h.instance.poll();
  }
}

describe('/vpn-conns digest', () => {
  it('shows each digest with its pending count, last run and next run', async () => {
    harness = await startDigestHarness({
      start: START,
      digests: [
        digestConfig({ name: 'security', timezone: 'Europe/Paris' }),
        digestConfig({ name: 'dev-only', endpoints: ['dev'], empty: 'post', channel: 'C0DEV' }),
      ],
    });
    const h = harness;
    const answer = createDigestAnswer({
      service: h.instance.digests,
      digests: h.digests,
      nextRun: (name) => (name === 'security' ? NEXT : null),
    });
    h.scheduleSessions([
      endedConnection(1, at('09:10:00')),
      endedConnection(2, at('09:20:00'), { endpointId: DEV.id }),
      endedConnection(3, at('09:30:00')),
    ]);
    await pollUntil(h, at('09:55:00'));

    const before = blocksText(asPosted(await answer('show')));
    expect(before).toContain(
      '*security* → <#C0DIGEST> · `0 * * * *` (Europe/Paris) · every endpoint\n' +
        `Next: <!date^${unix(NEXT)}^{date_short_pretty} {time}|2026-11-27 11:00 UTC> · Last: never · Pending: 3`,
    );
    expect(before).toContain(
      '*dev-only* → <#C0DEV> · `0 * * * *` (UTC) · dev · posts empty digests\n' +
        'Next: not scheduled in this process · Last: never · Pending: 1',
    );

    h.setClock(at('10:00:30'));
    expect(await h.instance.tick(h.digest, at('10:00:00'))).toMatchObject({
      kind: 'posted',
      sessions: 3,
    });
    const after = blocksText(asPosted(await answer('show')));
    expect(after).toContain(
      `Last: <!date^${unix(at('10:00:30'))}^{date_short_pretty} {time}|2026-11-27 10:00 UTC> (3 sessions) · Pending: 0`,
    );
    // The other digest reports on its own: the dev session is still pending for it.
    expect(after).toContain('Last: never · Pending: 1');
  });

  it('previews the first digest for the requester and marks nothing as reported', async () => {
    harness = await startDigestHarness({ start: START });
    const h = harness;
    const answer = createDigestAnswer({
      service: h.instance.digests,
      digests: h.digests,
      nextRun: () => null,
    });
    h.scheduleSessions([
      endedConnection(1, at('09:10:00'), { username: '<!channel>' }),
      endedConnection(2, at('09:40:00'), { endpointId: DEV.id }),
    ]);
    await pollUntil(h, at('09:50:00'));
    const ids = [PROD.id, DEV.id];
    const pendingBefore = await h.instance.store.pendingSessions(
      h.digest.name,
      ids,
      at('23:00:00'),
      START,
    );

    const preview = asPosted(await answer('now'));

    expect(preview.text).toMatch(/^Preview: VPN sessions ended /);
    const text = blocksText(preview);
    expect(text).toContain('Only you can see this preview; nothing is marked as reported.');
    expect(text).toContain('&lt;!channel&gt;');
    expect(listedConnectionIds(preview).sort()).toEqual([connectionId(1), connectionId(2)].sort());
    expect(h.slack.messages).toHaveLength(0);
    expect(
      await h.instance.store.pendingSessions(h.digest.name, ids, at('23:00:00'), START),
    ).toEqual(pendingBefore);
    expect(await h.instance.store.countPending(h.digest.name, ids, START)).toBe(2);
    expect(await h.instance.store.lastPost(h.digest.name)).toBeNull();

    // The real digest still has both.
    h.setClock(at('10:00:00'));
    expect(await h.instance.tick(h.digest, at('10:00:00'))).toMatchObject({
      kind: 'posted',
      sessions: 2,
    });
  });
});
