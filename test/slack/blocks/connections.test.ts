import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { validateBlocks } from '../../../src/sandbox/block-kit-limits.js';
import {
  buildConnectionsMessage,
  type ConnectionsView,
} from '../../../src/slack/blocks/connections.js';
import {
  ACTION_EXPORT_CSV,
  ACTION_PAGE_NEXT,
  ACTION_PAGE_PREV,
  BLOCK_ACTIONS,
  decodeButtonValue,
  encodeButtonValue,
  PAGE_SIZE,
} from '../../../src/slack/blocks/ids.js';
import type { SlackMessage } from '../../../src/slack/blocks/limits.js';
import {
  type Connection,
  normalizeConnection,
  type RawConnection,
} from '../../../src/vpn/connection.js';
import { limitProblems } from './limit-problems.js';

// Every date must come out in UTC even though the process runs in Los Angeles.
process.env.TZ = 'America/Los_Angeles';

const NOW = new Date('2026-11-27T12:00:00Z');
const PROD = 'cvpn-endpoint-0aaaaaaaaaaaaaaa1';
const DEV = 'cvpn-endpoint-0bbbbbbbbbbbbbbb2';
const ALIASES: Record<string, string> = { [PROD]: 'prod', [DEV]: 'dev' };
const aliasOf = (id: string) => ALIASES[id] ?? id;

/** EC2's zone-less time format, `2026-11-27 11:59:00`. */
const awsTime = (date: Date) => date.toISOString().slice(0, 19).replace('T', ' ');

/**
 * The n-th connection of a test fleet: established n minutes before NOW (so a higher n is
 * older), active unless overridden, ids that sort like n.
 */
function connection(n: number, raw: RawConnection = {}): Connection {
  return normalizeConnection({
    ClientVpnEndpointId: PROD,
    ConnectionId: `cvpn-connection-${n.toString(16).padStart(17, '0')}`,
    Username: `user${n}`,
    CommonName: `user${n}`,
    Status: { Code: 'active' },
    ConnectionEstablishedTime: awsTime(new Date(NOW.getTime() - (n + 1) * 60_000)),
    ConnectionEndTime: '-',
    ClientIp: `10.0.${(n >> 8) & 255}.${n & 255}`,
    IngressBytes: String(n * 1000),
    EgressBytes: String(n * 2000),
    ...raw,
  });
}

/** 2,345 connections: 2,101 active and 244 terminated. */
const FLEET: Connection[] = Array.from({ length: 2345 }, (_, n) =>
  n < 2101
    ? connection(n)
    : connection(n, {
        Status: { Code: 'terminated' },
        ConnectionEndTime: awsTime(new Date(NOW.getTime() - 30_000)),
      }),
);

function view(overrides: Partial<ConnectionsView> = {}): ConnectionsView {
  return {
    title: 'prod',
    connections: FLEET,
    page: 0,
    queryText: 'list prod',
    failures: [],
    aliasOf,
    fetchedAt: NOW,
    now: NOW,
    ...overrides,
  };
}

const sectionTexts = (message: SlackMessage) =>
  message.blocks.flatMap((block) =>
    block.type === 'section' && block.text !== undefined ? [block.text.text] : [],
  );

const contextTexts = (message: SlackMessage) =>
  message.blocks.flatMap((block) =>
    block.type === 'context'
      ? block.elements.flatMap((el) => (el.type === 'mrkdwn' ? [el.text] : []))
      : [],
  );

/** The connection entries: the sections whose second line starts with `since`. */
const entries = (message: SlackMessage) =>
  sectionTexts(message).filter((text) => text.includes('\nsince '));

const entryIds = (message: SlackMessage) =>
  entries(message).map((text) => /`(cvpn-connection-[^`]*)`$/.exec(text)?.[1]);

function buttons(message: SlackMessage): Record<string, string> {
  const actions = message.blocks.find((block) => block.block_id === BLOCK_ACTIONS);
  if (actions === undefined) return {};
  if (actions.type !== 'actions') throw new Error('the actions block id is on a non-actions block');
  return Object.fromEntries(
    actions.elements.flatMap((el) =>
      el.type === 'button' ? [[el.action_id ?? '', el.value ?? '']] : [],
    ),
  );
}

/** Every mrkdwn text in the message, the top-level text included. */
function mrkdwnTexts(message: SlackMessage): string[] {
  const texts = [message.text];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if (record.type === 'mrkdwn' && typeof record.text === 'string') texts.push(record.text);
      else Object.values(record).forEach(visit);
    }
  };
  visit(message.blocks);
  return texts;
}

/** The only `<…>` markup the builder may produce is its own date tokens. */
function foreignMarkup(message: SlackMessage): string[] {
  return mrkdwnTexts(message).flatMap((text) =>
    [...text.matchAll(/<[^>]*>?/g)]
      .map((match) => match[0])
      .filter((token) => !/^<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>$/.test(token)),
  );
}

function expectSendable(message: SlackMessage): void {
  expect(limitProblems(message)).toEqual([]);
  expect(validateBlocks(message.blocks)).toEqual([]);
  expect(JSON.stringify(message)).not.toMatch(/undefined|NaN|Invalid Date|\[object /);
  expect(foreignMarkup(message)).toEqual([]);
}

describe('buildConnectionsMessage', () => {
  describe('with 2,345 connections', () => {
    const first = buildConnectionsMessage(view());

    it('gives exact totals per status in the summary and the notification text', () => {
      expect(sectionTexts(first)[0]).toBe(
        '*2,345 connections* · 2,101 active · 244 terminated in the last hour',
      );
      expect(first.text).toBe(
        'prod: 2,345 connections · 2,101 active · 244 terminated in the last hour',
      );
    });

    it('starts with a header naming what was asked about', () => {
      expect(first.blocks[0]).toEqual({
        type: 'header',
        text: { type: 'plain_text', text: 'prod', emoji: true },
      });
    });

    it('says when the list was fetched, in the reader’s zone with a UTC fallback, and which page this is', () => {
      expect(contextTexts(first)[0]).toBe(
        'Fetched <!date^1795780800^{date_short_pretty} {time}|2026-11-27 12:00 UTC> · page 1 of 118' +
          ' · active and terminated in the last hour',
      );
    });

    it('shows PAGE_SIZE entries on the first page, with Next and Export CSV but no Previous', () => {
      expect(PAGE_SIZE).toBe(20);
      expect(entries(first)).toHaveLength(20);
      const values = buttons(first);
      expect(Object.keys(values).sort()).toEqual([ACTION_EXPORT_CSV, ACTION_PAGE_NEXT].sort());
      expect(decodeButtonValue(values[ACTION_PAGE_NEXT])).toEqual({ q: 'list prod', p: 1 });
      expect(decodeButtonValue(values[ACTION_EXPORT_CSV])).toEqual({ q: 'list prod', p: 0 });
    });

    it('shows the last 5 on the last page, with Previous but no Next', () => {
      const last = buildConnectionsMessage(view({ page: 117 }));
      expect(entries(last)).toHaveLength(2345 - 117 * 20);
      expect(contextTexts(last)[0]).toContain('page 118 of 118');
      const values = buttons(last);
      expect(Object.keys(values).sort()).toEqual([ACTION_EXPORT_CSV, ACTION_PAGE_PREV].sort());
      expect(decodeButtonValue(values[ACTION_PAGE_PREV])).toEqual({ q: 'list prod', p: 116 });
      expect(decodeButtonValue(values[ACTION_EXPORT_CSV])).toEqual({ q: 'list prod', p: 117 });
      // The oldest terminated connections come last.
      expect(entryIds(last)).toEqual(FLEET.slice(-5).map((c) => c.connectionId));
    });

    it('clamps a page beyond the end to the last page, and a negative or non-integer page to a real one', () => {
      expect(buildConnectionsMessage(view({ page: 500 }))).toEqual(
        buildConnectionsMessage(view({ page: 117 })),
      );
      expect(buildConnectionsMessage(view({ page: -3 }))).toEqual(first);
      expect(buildConnectionsMessage(view({ page: Number.NaN }))).toEqual(first);
      expect(buildConnectionsMessage(view({ page: 2.7 }))).toEqual(
        buildConnectionsMessage(view({ page: 2 })),
      );
    });

    it('shows each connection once across all pages, active newest first, then terminated', () => {
      const seen = Array.from({ length: 118 }, (_, page) =>
        entryIds(buildConnectionsMessage(view({ page }))),
      ).flat();
      expect(seen).toHaveLength(2345);
      expect(new Set(seen).size).toBe(2345);
      // Connection n started n minutes ago, so newest first is the fleet's own order.
      expect(seen).toEqual(FLEET.map((c) => c.connectionId));
    });

    it('gives the same message whatever order the connections arrive in', () => {
      const reversed = [...FLEET].reverse();
      const interleaved = FLEET.map((_, i) => FLEET[(i * 11) % FLEET.length] as Connection);
      for (const page of [0, 50, 117]) {
        const expected = buildConnectionsMessage(view({ page }));
        expect(buildConnectionsMessage(view({ page, connections: reversed }))).toEqual(expected);
        expect(buildConnectionsMessage(view({ page, connections: interleaved }))).toEqual(expected);
      }
    });

    it('fits every page within the limits', () => {
      for (const page of [0, 1, 58, 105, 106, 117]) {
        expectSendable(buildConnectionsMessage(view({ page })));
      }
    });
  });

  describe('an entry', () => {
    const one = (c: Connection, overrides: Partial<ConnectionsView> = {}) => {
      const message = buildConnectionsMessage(view({ connections: [c], ...overrides }));
      expectSendable(message);
      return entries(message)[0] ?? '';
    };

    it('shows status, who, client IP and IPv6, since, duration, bytes and connection id', () => {
      const text = one(
        connection(0, {
          Username: 'alice',
          ClientIp: '172.31.0.226',
          ClientIpv6Address: '2001:db8:a:b::1',
          ConnectionEstablishedTime: '2026-11-27 09:55:00',
          IngressBytes: '2951',
          EgressBytes: '5000000000',
        }),
      );
      expect(text).toBe(
        ':large_green_circle: *alice* · `172.31.0.226` · `2001:db8:a:b::1`\n' +
          'since <!date^1795773300^{date_short_pretty} {time}|2026-11-27 09:55 UTC> · 2h 05m · ' +
          '↓ 3.0 KB ↑ 5.0 GB · `cvpn-connection-00000000000000000`',
      );
    });

    it('shows how long until the endpoint’s session limit ends an active session', () => {
      // Established 09:55, NOW is 12:00, 8-hour limit: ends 17:55.
      const text = one(connection(0, { ConnectionEstablishedTime: '2026-11-27 09:55:00' }), {
        sessionTimeoutOf: (id) => (id === PROD ? 8 : null),
      });
      expect(text).toContain(' · 2h 05m · ends in 5h 55m · ↓');
      expect(text).not.toContain(':hourglass:');
    });

    it('marks an active session in the last hour of its limit, and says nothing without a limit', () => {
      const started = { ConnectionEstablishedTime: '2026-11-27 04:40:00' };
      const text = one(connection(0, started), { sessionTimeoutOf: () => 8 });
      expect(text).toMatch(/^:large_green_circle: :hourglass: \*/);
      expect(text).toContain(' · ends in 40m · ');
      const unknown = one(connection(0, started), { sessionTimeoutOf: () => null });
      expect(unknown).not.toContain('ends in');
      expect(unknown).not.toContain(':hourglass:');
      const ended = one(
        connection(0, {
          ...started,
          Status: { Code: 'terminated' },
          ConnectionEndTime: '2026-11-27 11:30:00',
        }),
        { sessionTimeoutOf: () => 8 },
      );
      expect(ended).not.toContain('ends in');
      expect(ended).not.toContain(':hourglass:');
    });

    it('keeps a full page of sessions near their limit within the Block Kit limits', () => {
      const near = Array.from({ length: 60 }, (_, n) =>
        connection(n, { ConnectionEstablishedTime: '2026-11-27 04:01:00' }),
      );
      const message = buildConnectionsMessage(
        view({ connections: near, sessionTimeoutOf: () => 8 }),
      );
      expectSendable(message);
      const shown = entries(message);
      expect(shown.length).toBeGreaterThan(0);
      for (const text of shown) expect(text).toContain(':hourglass:');
    });

    it('shows when a terminated connection ended and how long it lasted', () => {
      const text = one(
        connection(0, {
          Status: { Code: 'terminated' },
          ConnectionEstablishedTime: '2026-11-27 10:00:00',
          ConnectionEndTime: '2026-11-27 11:30:00',
        }),
      );
      expect(text).toMatch(/^:white_circle: /);
      expect(text).toContain(
        'since <!date^1795773600^{date_short_pretty} {time}|2026-11-27 10:00 UTC> · ' +
          'ended <!date^1795779000^{date_short_pretty} {time}|2026-11-27 11:30 UTC> · 1h 30m',
      );
    });

    it('has an emoji for every status, unknown included', () => {
      const emoji = (code: string) => one(connection(0, { Status: { Code: code } })).split(' ')[0];
      expect(emoji('active')).toBe(':large_green_circle:');
      expect(emoji('terminating')).toBe(':hourglass_flowing_sand:');
      expect(emoji('failed-to-terminate')).toBe(':warning:');
      expect(emoji('terminated')).toBe(':white_circle:');
      expect(emoji('something-new')).toBe(':grey_question:');
    });

    it('falls back to the certificate common name, and says when a user lookup matched it', () => {
      const cert = connection(0, { Username: undefined, CommonName: 'alice.laptop.corp' });
      expect(one(cert)).toContain('*alice.laptop.corp*');
      expect(one(cert, { matchedField: () => 'commonName' })).toContain(
        '*alice.laptop.corp* (matched certificate name)',
      );
      expect(one(cert, { matchedField: () => 'username' })).not.toContain('matched');
    });

    it('escapes names that would ping a channel or disguise a link', () => {
      const channel = one(connection(0, { Username: '<!channel>' }));
      expect(channel).toContain('&lt;!channel&gt;');
      expect(channel).not.toContain('<!channel');
      const link = one(connection(0, { Username: '<https://evil.example|click>' }));
      expect(link).toContain('&lt;https://evil.example|click&gt;');
      expect(link).not.toContain('<https:');
      expect(one(connection(0, { Username: 'tom&jerry' }))).toContain('tom&amp;jerry');
    });

    it('does not let *admin* turn bold or a name break out of its own bold', () => {
      const text = one(connection(0, { Username: '*admin*' }));
      expect(text).toContain('*\u200B*admin\u200B**');
      expect(text).not.toContain(' *admin* ');
    });

    it('cuts a very long name to 64 characters and keeps it on one line', () => {
      const text = one(connection(0, { Username: `${'x'.repeat(2000)}\nsecond line` }));
      const who = /\*([^*]*)\*/.exec(text)?.[1] ?? '';
      expect(who).toHaveLength(64);
      expect(who.endsWith('…')).toBe(true);
      expect(text.split('\n')).toHaveLength(2);
    });

    it('names the endpoint only when the view spans more than one', () => {
      const prod = connection(0);
      const dev = connection(1, { ClientVpnEndpointId: DEV });
      expect(one(prod)).not.toContain('prod');
      const both = buildConnectionsMessage(view({ connections: [prod, dev] }));
      expect(entries(both)[0]).toContain('*user0* · prod · ');
      expect(entries(both)[1]).toContain('*user1* · dev · ');
    });

    it('shows a dash, never undefined, NaN or Invalid Date, for a record AWS sent half empty', () => {
      const text = one(normalizeConnection({}, PROD));
      expect(text).toBe(
        ':grey_question: *(unknown user)* · –\nsince – · – · ↓ – ↑ – · `(unknown)`',
      );
    });

    it('shows no duration for a terminated connection without an end time', () => {
      const text = one(
        connection(0, { Status: { Code: 'terminated' }, ConnectionEndTime: undefined }),
      );
      expect(text).toContain('ended – · – ·');
    });
  });

  describe('failures', () => {
    it('warns about each endpoint that could not be read, escaped, in one section', () => {
      const message = buildConnectionsMessage(
        view({
          title: 'prod, dev',
          failures: [
            { endpointAlias: 'dev', message: 'AWS denied <access> & more' },
            { endpointAlias: 'staging', message: 'Timed out' },
          ],
        }),
      );
      const warnings = sectionTexts(message).filter((text) => text.startsWith(':warning: *'));
      expect(warnings).toEqual([
        ':warning: *dev*: AWS denied &lt;access&gt; &amp; more\n:warning: *staging*: Timed out',
      ]);
      expect(message.text).toContain('2 endpoints could not be read');
      expectSendable(message);
    });

    it('summarizes 300 failing endpoints within one section', () => {
      const failures = Array.from({ length: 300 }, (_, i) => ({
        endpointAlias: `vpn-${i}`,
        message: `Endpoint vpn-${i} could not be read: ${'x'.repeat(i)}`,
      }));
      const message = buildConnectionsMessage(view({ failures }));
      const warning = sectionTexts(message).find((text) => text.startsWith(':warning:')) ?? '';
      expect(warning.length).toBeLessThanOrEqual(3000);
      expect(warning).toMatch(/\n…and \d+ more endpoints failed\.$/);
      expectSendable(message);
    });
  });

  describe('an empty result', () => {
    it('says so clearly, with no buttons', () => {
      const message = buildConnectionsMessage(view({ connections: [] }));
      expect(sectionTexts(message)).toEqual([
        'No connections on prod (active or terminated in the last hour).',
      ]);
      expect(message.text).toBe('prod: no connections (active or terminated in the last hour)');
      expect(buttons(message)).toEqual({});
      expect(contextTexts(message)[0]).not.toContain('page');
      expectSendable(message);
    });

    it('names the statuses that were asked for, and reads right for a user lookup', () => {
      const message = buildConnectionsMessage(
        view({
          title: 'alice on every endpoint',
          connections: [],
          statusesNote: 'status: active',
          matchedField: () => null,
        }),
      );
      expect(sectionTexts(message)).toEqual([
        'No connections for alice on every endpoint (status: active).',
      ]);
    });
  });

  describe('the title', () => {
    it('is escaped wherever it is mrkdwn and shown as typed in the plain-text header', () => {
      const message = buildConnectionsMessage(view({ title: '<!here> & co', connections: [] }));
      expect(message.blocks[0]).toMatchObject({
        text: { type: 'plain_text', text: '<!here> & co' },
      });
      expect(message.text).toBe(
        '&lt;!here&gt; &amp; co: no connections (active or terminated in the last hour)',
      );
      expectSendable(message);
    });

    it('is cut to fit the header', () => {
      const message = buildConnectionsMessage(view({ title: 't'.repeat(2000) }));
      expectSendable(message);
      expect(message.text.length).toBeLessThan(300);
    });
  });

  describe('a query too long for a button', () => {
    it('leaves the buttons out and says paging is unavailable', () => {
      const message = buildConnectionsMessage(view({ queryText: `list ${'u'.repeat(1995)}` }));
      expect(buttons(message)).toEqual({});
      expect(message.blocks.some((block) => block.type === 'actions')).toBe(false);
      expect(contextTexts(message).join('\n')).toContain('Paging and CSV export are unavailable');
      expectSendable(message);
    });

    it('also when JSON escaping would push a shorter query over the button limit', () => {
      const message = buildConnectionsMessage(
        view({ queryText: `user "${'\u0001'.repeat(400)}"` }),
      );
      expect(buttons(message)).toEqual({});
      expectSendable(message);
    });
  });

  describe('whatever it is given', () => {
    /** mulberry32: a small seeded PRNG, so every run tries the same inputs. */
    function random(seed: number): () => number {
      let a = seed >>> 0;
      return () => {
        a = (a + 0x6d2b79f5) | 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }
    const NASTY = [
      '<!channel>',
      '<https://evil.example|click>',
      '*admin*',
      '&amp;&lt;',
      '`code`',
      '_x_ ~y~',
      'zoë 名前 😀',
      '>'.repeat(300),
      '&'.repeat(2000),
      'x'.repeat(2000),
      '\n\t ',
      '',
    ];

    it('always fits the limits and never prints undefined, NaN or Invalid Date', () => {
      const rng = random(42);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
      const maybe = (value: string) => (rng() < 0.2 ? undefined : value);
      for (let round = 0; round < 150; round++) {
        const size = pick([0, 1, 5, 19, 20, 21, 45, 400]);
        const connections = Array.from({ length: size }, (_, n) =>
          connection(n, {
            ClientVpnEndpointId: pick([PROD, DEV, 'cvpn-endpoint-0ccccccccccccccc3']),
            Username: maybe(pick(NASTY)),
            CommonName: maybe(pick(NASTY)),
            ClientIp: maybe(pick(['10.0.0.1', pick(NASTY)])),
            ClientIpv6Address: maybe(pick(['fe80::a:b:c:d', pick(NASTY)])),
            Status: {
              Code: pick(['active', 'terminated', 'terminating', 'failed-to-terminate', 'x']),
            },
            ConnectionEstablishedTime: maybe(pick(['2026-11-27 10:00:00', 'garbage', '-'])),
            ConnectionEndTime: maybe(pick(['-', '2026-11-27 11:00:00', 'garbage'])),
            IngressBytes: maybe(pick(['0', '123456789012', 'NaN', '-1'])),
            EgressBytes: maybe(pick(['7', '99999999999999999999'])),
          }),
        );
        const failures = Array.from({ length: pick([0, 0, 1, 3, 300]) }, (_, i) => ({
          endpointAlias: pick([`vpn-${i}`, pick(NASTY)]),
          message: pick(['Timed out', pick(NASTY)]),
        }));
        const message = buildConnectionsMessage({
          title: pick(['prod', 'prod, dev', pick(NASTY)]),
          connections,
          page: pick([0, 1, 2, 99, -1, Number.NaN]),
          queryText: pick(['list all', `list ${pick(NASTY)}`, pick(NASTY)]),
          failures,
          aliasOf: (id) => (id === PROD ? pick(NASTY) : aliasOf(id)),
          fetchedAt: pick([NOW, new Date(Number.NaN)]),
          now: NOW,
          ...(rng() < 0.5 ? { statusesNote: pick(['status: active', pick(NASTY)]) } : {}),
          ...(rng() < 0.5
            ? { matchedField: () => pick(['username', 'commonName', null] as const) }
            : {}),
        });
        expectSendable(message);
      }
    });

    it('is pure: the same view gives the same message', () => {
      const input = view({ page: 3, failures: [{ endpointAlias: 'dev', message: 'down' }] });
      expect(buildConnectionsMessage(input)).toEqual(buildConnectionsMessage(input));
    });
  });
});

describe('button values', () => {
  it('decode back to what was encoded', () => {
    for (const value of [
      { q: 'list prod', p: 0 },
      { q: 'user "Mary Ann" status=active', p: 10_000 },
      { q: '', p: 7 },
      { q: 'ü'.repeat(1900), p: 1 },
    ]) {
      expect(decodeButtonValue(encodeButtonValue(value))).toEqual(value);
    }
  });

  it('refuse to encode what could not be decoded', () => {
    expect(() => encodeButtonValue({ q: 'x'.repeat(1901), p: 0 })).toThrow(RangeError);
    expect(() => encodeButtonValue({ q: 'list', p: -1 })).toThrow(RangeError);
    expect(() => encodeButtonValue({ q: 'list', p: 1.5 })).toThrow(RangeError);
    expect(() => encodeButtonValue({ q: 'list', p: 10_001 })).toThrow(RangeError);
  });

  it('reject anything a button of ours could not have sent', () => {
    for (const bad of [
      undefined,
      42,
      '',
      'not json',
      '{"q":"list"}',
      '{"q":"list","p":"1"}',
      '{"q":"list","p":-1}',
      '{"q":"list","p":1.5}',
      '{"q":"list","p":10001}',
      '{"q":5,"p":1}',
      JSON.stringify({ q: 'x'.repeat(1901), p: 0 }),
      'x'.repeat(3000),
    ]) {
      expect(() => decodeButtonValue(bad)).toThrow(UsageError);
      expect(() => decodeButtonValue(bad)).toThrow(/This button is no longer valid/);
    }
  });
});
