import { afterEach, describe, expect, it } from 'vitest';
import { connectionId, TRICKY_USERNAMES } from '../../src/sandbox/vpn-data.js';
import { MAX_LISTED_SESSIONS } from '../../src/slack/blocks/digest.js';
import { RECORD_COLUMNS } from '../../src/vpn/records.js';
import {
  blocksText,
  DEV,
  type DigestHarness,
  endedConnection,
  listedConnectionIds,
  PROD,
  startDigestHarness,
} from '../support/digest-harness.js';

const START = new Date('2026-11-27T09:00:00Z');
const TICK = new Date('2026-11-27T10:00:00Z');

let harness: DigestHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Splits one CSV line into cells (RFC 4180 quoting). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

describe('the posted digest message', () => {
  it('stays within Block Kit limits with 5,000 sessions and attaches all of them as CSV in its thread', async () => {
    harness = await startDigestHarness({ start: TICK });
    const h = harness;
    const count = 5000;
    h.scheduleSessions(
      Array.from({ length: count }, (_, i) =>
        // Ended within the 60 minutes AWS still lists them at the tick.
        endedConnection(
          i + 1,
          new Date(START.getTime() + (1 + Math.floor((i * 3599) / count)) * 1000),
          {
            endpointId: i % 3 === 0 ? DEV.id : PROD.id,
            username: TRICKY_USERNAMES[i % TRICKY_USERNAMES.length] ?? `user${i}`,
          },
        ),
      ),
    );

    const outcome = await h.instance.tick(h.digest, TICK);

    // The stand-in refuses what Slack would refuse (invalid_blocks): posted means within limits.
    expect(outcome).toMatchObject({ kind: 'posted', sessions: count });
    const [digest] = h.digestMessages();
    expect(digest).toBeDefined();
    if (digest === undefined) return;
    expect(listedConnectionIds(digest)).toHaveLength(MAX_LISTED_SESSIONS);
    expect(blocksText(digest)).toContain(
      `…and ${(count - MAX_LISTED_SESSIONS).toLocaleString('en-US')} more sessions: the full list is in the attached CSV.`,
    );
    expect(digest.text).toContain('5,000 sessions');

    expect(h.slack.files).toHaveLength(1);
    const [file] = h.slack.files;
    expect(file?.threadTs).toBe(digest.ts);
    expect(file?.channelId).toBe(h.digest.channel);
    expect(file?.filename).toBe('vpn-conns-digest-security-20261127-1000.csv');
    const lines = (file?.content ?? '').trimEnd().split('\n');
    expect(lines[0]).toBe(RECORD_COLUMNS.join(','));
    const rows = lines.slice(1).map(csvCells);
    expect(rows).toHaveLength(count);
    const idColumn = RECORD_COLUMNS.indexOf('connectionId');
    const ids = new Set(rows.map((cells) => cells[idColumn]));
    expect(ids.size).toBe(count);
    for (let n = 1; n <= count; n++) expect(ids.has(connectionId(n))).toBe(true);
    expect(rows.every((cells) => cells.length === RECORD_COLUMNS.length)).toBe(true);
    expect(await h.instance.store.countPending(h.digest.name, [PROD.id, DEV.id], START)).toBe(0);
  });

  it('escapes a VPN user name such as <!channel> so it cannot ping the channel', async () => {
    harness = await startDigestHarness({ start: TICK });
    const h = harness;
    h.scheduleSessions([
      endedConnection(1, new Date('2026-11-27T09:15:00Z'), { username: '<!channel>' }),
      endedConnection(2, new Date('2026-11-27T09:30:00Z'), {
        username: '<https://evil.example|click>',
      }),
      endedConnection(3, new Date('2026-11-27T09:45:00Z'), { username: 'tom&jerry' }),
    ]);

    expect(await h.instance.tick(h.digest, TICK)).toMatchObject({ kind: 'posted' });

    const [digest] = h.digestMessages();
    const text = blocksText(digest ?? { channel: '', ts: '' });
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain('&lt;https://evil.example|click&gt;');
    expect(text).toContain('tom&amp;jerry');
    for (const raw of ['<!channel>', '<https://evil.example', 'tom&jerry']) {
      expect(text).not.toContain(raw);
      expect(digest?.text).not.toContain(raw);
    }
    // Slack's own tokens (dates) are the only `<…>` left in the message.
    const tokens = [...text.matchAll(/<[^>]*>/g)].map((m) => m[0]);
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.every((t) => t.startsWith('<!date^'))).toBe(true);
  });
});
