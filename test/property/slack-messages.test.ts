/**
 * Properties of every Slack message the bot builds (src/slack/blocks/), fed with generated fleets,
 * queries, endpoints, errors and audit entries whose every AWS- or user-supplied string is hostile:
 *
 * - no such string becomes a live Slack token: the only `<…>` in mrkdwn (and in the top-level
 *   text, which notifications render) are the bot's own date tokens and, in the audit trail,
 *   mentions of IDs taken from signed payloads;
 * - nothing reads `NaN`, `undefined`, `null` or `Invalid Date`;
 * - every message is within Slack's Block Kit limits, checked by the independent checker the
 *   Slack stand-in uses.
 */
import { webApi } from '@slack/bolt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toEndedSession } from '../../src/collector/collector.js';
import {
  AccessDeniedError,
  AwsRequestError,
  AwsUnavailableError,
  CredentialsError,
  EndpointNotFoundError,
  ThrottledError,
  UsageError,
} from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { validateBlocks } from '../../src/sandbox/block-kit-limits.js';
import { createAccessChecker } from '../../src/slack/access.js';
import { buildAuditMessage } from '../../src/slack/blocks/audit.js';
import { buildConnectionsMessage } from '../../src/slack/blocks/connections.js';
import { buildDigestMessage } from '../../src/slack/blocks/digest.js';
import type { SlackMessage } from '../../src/slack/blocks/limits.js';
import {
  buildAwsErrorMessage,
  buildEndpointsMessage,
  buildUsageErrorMessage,
  buildWorkingMessage,
} from '../../src/slack/blocks/messages.js';
import { buildTerminateResultMessage } from '../../src/slack/blocks/terminate.js';
import { createValueSigner } from '../../src/slack/signed-values.js';
import { terminateButtons } from '../../src/slack/terminate-buttons.js';
import type { AuditEntry, CoverageGap, EndedSession } from '../../src/store/types.js';
import { normalizeConnection, type RawConnection } from '../../src/vpn/connection.js';
import type { Endpoint } from '../../src/vpn/endpoint.js';
import { formatQuery, parseCommand, type Query } from '../../src/vpn/query.js';
import {
  commandText,
  heavyText,
  hostileText,
  longHostileText,
  rawConnection,
} from './arbitraries.js';
import { settings } from './settings.js';

const NOW = new Date('2026-11-27T12:00:00Z');

/** Free text without the words this test looks for, so finding one means the code wrote it. */
const clean = (t: string) => t.replace(/NaN|undefined|null|Invalid Date/gi, '?');
const text = hostileText.map(clean);
const longText = longHostileText.map(clean);

/** A raw record whose shown fields are clean; times and counters stay as hostile as they come. */
function cleanShown(raw: RawConnection): RawConnection {
  const copy: RawConnection = { ...raw };
  const shown = ['ClientVpnEndpointId', 'ConnectionId', 'Username', 'CommonName'] as const;
  for (const key of [...shown, 'ClientIp', 'ClientIpv6Address'] as const) {
    const value = copy[key];
    if (value !== undefined) copy[key] = clean(value);
  }
  const message = raw.Status?.Message;
  if (message !== undefined) copy.Status = { ...raw.Status, Message: clean(message) };
  return copy;
}

// The bot's own date token, with an escaped fallback: `<!date^1795812000^{…} {time}|…>`.
const DATE_TOKEN = /^<!date\^-?\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>/;
const WORDS_NEVER_SHOWN = /NaN|undefined|\bnull\b|Invalid Date/;

/**
 * The top-level text and the text objects of the blocks: with `mrkdwnOnly`, those Slack renders
 * as mrkdwn (the top-level text is, in notifications); else every text a person reads.
 */
function texts(message: SlackMessage, mrkdwnOnly: boolean): string[] {
  const found = [message.text];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      const { type, text } = value as Record<string, unknown>;
      if (typeof text === 'string' && (mrkdwnOnly ? type === 'mrkdwn' : typeof type === 'string')) {
        found.push(text);
      }
      Object.values(value).forEach(walk);
    }
  };
  walk(message.blocks);
  return found;
}

/**
 * The `<…>` sequences of a mrkdwn text that Slack would read as a token, other than the bot's own
 * date tokens and the `allowed` ones. Every `<` counts: escaped text has none.
 */
function liveTokens(mrkdwn: string, allowed: readonly string[] = []): string[] {
  const found: string[] = [];
  for (let at = mrkdwn.indexOf('<'); at !== -1; at = mrkdwn.indexOf('<', at + 1)) {
    const rest = mrkdwn.slice(at);
    const ours = DATE_TOKEN.exec(rest)?.[0] ?? allowed.find((token) => rest.startsWith(token));
    if (ours) at += ours.length - 1;
    else found.push(rest.slice(0, 40));
  }
  return found;
}

/** The message carries no live token, no `NaN`-like word, and is within every Block Kit limit. */
function expectSafe(message: SlackMessage, allowedTokens: readonly string[] = []): void {
  for (const mrkdwn of texts(message, true)) {
    expect(liveTokens(mrkdwn, allowedTokens), mrkdwn).toEqual([]);
  }
  for (const shown of texts(message, false)) expect(shown).not.toMatch(WORDS_NEVER_SHOWN);
  expect(validateBlocks(message.blocks)).toEqual([]);
  expect(message.text.trim().length, 'top-level text').toBeGreaterThan(0);
  expect(message.text.length, 'top-level text').toBeLessThanOrEqual(3000);
}

/** Mostly plausible text; sometimes the longest, most escaping-heavy text there is. */
const wide = fc.oneof(
  { weight: 3, arbitrary: longText },
  { weight: 1, arbitrary: heavyText.map(clean) },
);

/** Fills every shown field of a record with heavy text: the worst case for every limit. */
function heavyRecord(raw: RawConnection, heavy: readonly string[], i: number): RawConnection {
  const pick = (k: number) => heavy[(i + k) % heavy.length];
  return {
    ...raw,
    Username: pick(0),
    CommonName: pick(1),
    ClientIp: pick(2),
    ClientIpv6Address: pick(3),
    ConnectionId: pick(4),
    Status: { Code: 'active', Message: pick(5) },
  };
}

/** A few endpoints and a fleet of normalized connections spread over them. */
const fleet = fc
  .tuple(
    fc.array(fc.oneof(text, wide), { minLength: 1, maxLength: 4 }),
    fc.array(rawConnection, { maxLength: 60 }),
    fc.nat(),
    fc.option(fc.array(wide, { minLength: 1, maxLength: 6 }), { freq: 3 }),
  )
  .map(([aliases, raws, shift, heavy]) => {
    const ids = aliases.map((_, i) => `cvpn-endpoint-${String(i).padStart(17, '0')}`);
    const connections = raws.map((raw, i) =>
      normalizeConnection(
        cleanShown(heavy ? heavyRecord(raw, heavy, i) : raw),
        ids[(i + shift) % ids.length],
      ),
    );
    const aliasOf = (id: string) => aliases[ids.indexOf(id)] ?? id;
    return { connections, aliasOf };
  });

/** Query text as the buttons carry it: a formatted query, or anything at all. */
const queryText = fc.oneof(
  text.map((t) => {
    try {
      return formatQuery(parseCommand(t, 'slack').query);
    } catch {
      return t;
    }
  }),
  longText,
);

const ADMIN = 'U0ADMIN01';
const signer = createValueSigner('property-test-secret');
// Admins are plain user IDs here, so the checker never asks Slack about groups.
const access = createAccessChecker({
  access: { allowed: '*', admins: { users: [ADMIN], groups: [], channels: [] } },
  client: new webApi.WebClient('xoxb-never-used'),
  logger: createLogger('error', () => {}),
});

const connectionsView = fc.record({
  fleet,
  title: wide,
  page: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constant(Number.NaN)),
  queryText,
  failures: fc.array(fc.record({ endpointAlias: wide, message: wide }), { maxLength: 40 }),
  statusesNote: fc.option(wide, { nil: undefined }),
  userLookup: fc.boolean(),
  admin: fc.option(fc.option(wide), { nil: undefined }),
});

describe('the connections message, for any fleet and query', () => {
  it('has no live token from AWS or user text, no NaN-like word, and keeps every limit', async () => {
    await fc.assert(
      fc.asyncProperty(connectionsView, async (v) => {
        // The admin's Terminate buttons, signed as the answer signs them.
        const terminate =
          v.admin === undefined
            ? undefined
            : await terminateButtons(
                {
                  queryText: v.queryText,
                  page: Number.isFinite(v.page) ? Math.max(0, v.page) : 0,
                  ...(v.admin === null ? {} : { user: { name: v.admin, endpointIds: null } }),
                },
                ADMIN,
                { signer, access },
              );
        expect(v.admin === undefined || terminate !== undefined).toBe(true);
        const message = buildConnectionsMessage({
          title: v.title,
          connections: v.fleet.connections,
          page: v.page,
          queryText: v.queryText,
          failures: v.failures,
          aliasOf: v.fleet.aliasOf,
          fetchedAt: NOW,
          now: NOW,
          ...(v.statusesNote === undefined ? {} : { statusesNote: v.statusesNote }),
          ...(v.userLookup ? { matchedField: () => 'commonName' as const } : {}),
          ...(terminate === undefined ? {} : { terminate }),
        });
        expectSafe(message);
      }),
      settings(0.5),
    );
  });
});

const TIME_ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/St_Johns',
  'Asia/Kathmandu',
  'Pacific/Chatham',
];

const digestView = fc.record({
  fleet,
  gaps: fc.array(
    fc.record({
      id: fc.nat(),
      endpointId: wide,
      from: fc.date({ min: new Date('2026-01-01'), max: NOW, noInvalidDate: true }),
      to: fc.date({ min: new Date('2026-01-01'), max: NOW, noInvalidDate: true }),
    }),
    { maxLength: 3 },
  ),
  timezone: fc.constantFrom(...TIME_ZONES),
  preview: fc.boolean(),
  name: wide,
});

describe('the digest message, for any sessions', () => {
  it('has no live token, no NaN-like word, keeps every limit, and lists every session in its CSV', () => {
    fc.assert(
      fc.property(digestView, (v) => {
        const sessions = v.fleet.connections
          .map((c) => toEndedSession(c, NOW))
          .filter((s): s is EndedSession => s !== null);
        const gaps: CoverageGap[] = v.gaps;
        const { message, csv } = buildDigestMessage({
          name: v.name,
          timezone: v.timezone,
          from: new Date(NOW.getTime() - 3_600_000),
          to: NOW,
          sessions,
          gaps,
          aliasOf: v.fleet.aliasOf,
          preview: v.preview,
        });
        expectSafe(message);
        if (csv !== null) expect(csv).not.toMatch(/NaN|undefined|Invalid Date/);
      }),
      settings(0.5),
    );
  });
});

const endpoint: fc.Arbitrary<Endpoint> = fc.record(
  {
    alias: wide,
    id: fc.oneof(fc.constant('cvpn-endpoint-0123456789abcdef0'), wide),
    region: wide,
    description: wide,
    authenticationTypes: fc.array(
      fc.constantFrom(
        'certificate-authentication',
        'directory-service-authentication',
        'federated-authentication',
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: ['alias', 'id', 'region'] },
);

const AWS_ERRORS = [
  AccessDeniedError,
  AwsRequestError,
  AwsUnavailableError,
  CredentialsError,
  EndpointNotFoundError,
  ThrottledError,
];

describe('the small replies, for any text', () => {
  it('the endpoint list', () => {
    fc.assert(
      fc.property(fc.array(endpoint, { maxLength: 120 }), text, (endpoints, defaultAlias) => {
        expectSafe(buildEndpointsMessage(endpoints, defaultAlias));
      }),
      settings(0.5),
    );
  });

  it('the working note and usage errors, for whatever was typed', () => {
    fc.assert(
      fc.property(fc.oneof(commandText, wide).map(clean), (typed) => {
        expectSafe(buildUsageErrorMessage(new UsageError(typed)));
        let query: Query;
        try {
          query = parseCommand(typed, 'slack').query;
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
          expectSafe(buildUsageErrorMessage(error));
          return;
        }
        // The one token a query may carry: a user ID the person mentioned, shown as their name.
        const mentioned =
          query.kind === 'user' && query.who.kind === 'slack-user'
            ? [`<@${query.who.userId}>`]
            : [];
        expect(mentioned.every((token) => /^<@[UW][A-Z0-9]+>$/.test(token))).toBe(true);
        expectSafe(buildWorkingMessage(query), mentioned);
      }),
      settings(),
    );
  });

  it('AWS errors, whatever AWS said', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...AWS_ERRORS),
        wide,
        fc.option(text, { nil: undefined }),
        fc.option(text, { nil: undefined }),
        wide,
        (Kind, said, requestId, code, context) => {
          const error = new Kind(said, { requestId, code });
          expectSafe(buildAwsErrorMessage(error, context));
          expectSafe(buildAwsErrorMessage(new Error(said), context));
        },
      ),
      settings(),
    );
  });

  it('terminate results', () => {
    const done = fc.record({
      alias: wide,
      connectionId: wide,
      previous: fc.option(text),
      current: fc.option(text),
    });
    fc.assert(
      fc.property(
        wide,
        fc.array(done, { maxLength: 30 }),
        fc.array(fc.record({ alias: wide, message: wide }), { maxLength: 30 }),
        fc.boolean(),
        (who, doneList, failed, refusedByDryRun) => {
          expectSafe(buildTerminateResultMessage({ who, done: doneList, failed, refusedByDryRun }));
        },
      ),
      settings(),
    );
  });
});

/** A signed Slack ID, or text pretending to be one. */
const slackId = (prefixes: string) =>
  fc.oneof(
    fc
      .tuple(
        fc.constantFrom(...prefixes),
        fc.string({
          unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
          minLength: 8,
        }),
      )
      .map(([prefix, rest]) => `${prefix}${rest}`),
    text,
  );

const auditEntry: fc.Arbitrary<AuditEntry> = fc.record({
  at: fc.date({ min: new Date('2026-01-01'), max: NOW, noInvalidDate: true }),
  teamId: fc.option(text),
  userId: slackId('UW'),
  channelId: fc.option(slackId('CGD')),
  action: wide,
  detail: wide,
  endpoints: fc.array(wide, { maxLength: 4 }),
  outcome: wide,
  requestIds: fc.array(text, { maxLength: 2 }),
});

describe('the audit trail, for any entries', () => {
  it('mentions only the IDs of signed payloads, and keeps every limit', () => {
    fc.assert(
      fc.property(
        fc.array(auditEntry, { maxLength: 100 }),
        fc.integer({ min: 1, max: 100 }),
        (entries, asked) => {
          // IDs come from Slack's signed payloads: those, and only those, may be mentions.
          const signed = entries.flatMap((e) => [
            ...(/^[UW][A-Z0-9]+$/.test(e.userId) ? [`<@${e.userId}>`] : []),
            ...(e.channelId && /^[CGD][A-Z0-9]+$/.test(e.channelId) ? [`<#${e.channelId}>`] : []),
          ]);
          expectSafe(buildAuditMessage(entries, asked), signed);
        },
      ),
      settings(0.3),
    );
  });
});

describe('the live-token check used above', () => {
  it('finds what escaping would have prevented, so the properties above can fail', () => {
    expect(liveTokens('a <!channel> b')).toEqual(['<!channel> b']);
    expect(liveTokens('<https://x|y>')).toEqual(['<https://x|y>']);
    expect(liveTokens('<!date^1^{date_short_pretty} {time}|x> &lt;!here&gt;')).toEqual([]);
    expect(liveTokens('<@U1> <@U2>', ['<@U1>'])).toEqual(['<@U2>']);
  });
});
