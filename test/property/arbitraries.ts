/**
 * Generators shared by the property-based tests: hostile text, SDK-shaped connection records
 * and command text built from the grammar's own words.
 */
import fc from 'fast-check';
import type { RawConnection } from '../../src/vpn/connection.js';

/** Text Slack and spreadsheets give a meaning to, and the shapes of Slack's own tokens. */
const HOSTILE_PIECES = [
  '<',
  '>',
  '&',
  '&amp;',
  '&lt;',
  '&gt;',
  '&#60;',
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<!subteam^S123|@team>',
  '<!date^1795812000^{date}|x>',
  '<@U0123ABCD>',
  '<@W0123ABCD|someone>',
  '<#C0123ABCD>',
  '<#C0123ABCD|general>',
  '<https://evil.example|click>',
  '<http://evil.example>',
  '<mailto:a@b.example|mail>',
  '|',
  '*',
  '_',
  '~',
  '`',
  '```',
  '"',
  "'",
  '\\',
  '\u201C',
  '\u201D',
  '=',
  '+',
  '-',
  '@',
  ',',
  ';',
  '\t',
  '\r',
  '\n',
  '\r\n',
  ' ',
  '\u00A0',
  '\u200B',
  '\u2028',
  '\uD83D\uDE00',
  '\uD83D',
  '\uDE00',
  '-',
  'NaN',
  'undefined',
  'Invalid Date',
  'null',
  '=HYPERLINK("http://evil.example")',
];

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));

/**
 * Any string, biased towards what breaks escaping: Slack tokens, entities, formula prefixes,
 * quotes, whitespace, surrogates, stitched together with arbitrary text.
 */
export const hostileText: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_PIECES) },
      { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
      { weight: 1, arbitrary: fc.string({ unit: codeUnit, maxLength: 4 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
    ),
    { maxLength: 8 },
  )
  .map((pieces) => pieces.join(''));

/** Occasionally very long hostile text, to reach the truncation paths. */
export const longHostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileText },
  {
    weight: 1,
    arbitrary: fc
      .tuple(hostileText, fc.integer({ min: 1, max: 400 }))
      .map(([text, times]) => (text === '' ? '<!channel>' : text).repeat(times).slice(0, 5000)),
  },
);

/**
 * Text at its most expensive: long runs of what escaping lengthens (`&` becomes five characters,
 * `*` two) and of surrogate pairs, which no cut may split.
 */
export const heavyText: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('&', '<', '>', '*', '_', '\uD83D\uDE00', '<!channel>', '&amp;'),
    fc.integer({ min: 20, max: 1200 }),
    hostileText,
  )
  .map(([piece, times, tail]) => `${piece.repeat(times)}${tail}`);

const digits = (min: number, max: number) =>
  fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'));

/** An EC2 time as AWS writes it (`2026-11-27 09:55:00`), valid or not. */
export const awsTime: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }).map((y) => String(y).padStart(4, '0')),
      digits(0, 13),
      digits(0, 32),
      digits(0, 25),
      digits(0, 60),
      digits(0, 60),
      fc.constantFrom(' ', 'T'),
      fc.constantFrom('', 'Z', '.123Z', '.5'),
    )
    .map(([y, mo, d, h, mi, s, sep, tail]) => `${y}-${mo}-${d}${sep}${h}:${mi}:${s}${tail}`),
  fc.constantFrom('-', '', ' ', '2019-02-31 00:00:00', '2026-11-27T09:55:00+02:00', 'now'),
  hostileText,
);

/** A counter as AWS writes it (`"12345"`), or any other string. */
export const awsCounter: fc.Arbitrary<string> = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String),
  fc.constantFrom('-1', '1e3', '0x10', ' 42 ', '١٢', 'NaN', 'Infinity', '9007199254740993'),
  hostileText,
);

const status = fc.oneof(
  fc.constantFrom('active', 'terminated', 'terminating', 'failed-to-terminate'),
  fc.constantFrom('ACTIVE', 'pending', ''),
  hostileText,
);

const optional = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.option(arbitrary, { nil: undefined, freq: 4 });

/**
 * A record shaped like the SDK's `ClientVpnConnection`: every field optional, every value a
 * string, any string (mostly plausible ones, so the interesting paths are reached).
 */
export const rawConnection: fc.Arbitrary<RawConnection> = fc.record(
  {
    ClientVpnEndpointId: optional(
      fc.oneof(fc.constant('cvpn-endpoint-0123456789abcdef0'), hostileText),
    ),
    Timestamp: optional(awsTime),
    ConnectionId: optional(
      fc.oneof(
        fc
          .string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 17, maxLength: 17 })
          .map((h) => `cvpn-connection-${h}`),
        hostileText,
      ),
    ),
    Username: optional(longHostileText),
    ConnectionEstablishedTime: optional(awsTime),
    IngressBytes: optional(awsCounter),
    EgressBytes: optional(awsCounter),
    IngressPackets: optional(awsCounter),
    EgressPackets: optional(awsCounter),
    ClientIp: optional(fc.oneof(fc.ipV4(), hostileText)),
    ClientIpv6Address: optional(fc.oneof(fc.ipV6(), hostileText)),
    CommonName: optional(longHostileText),
    Status: optional(
      fc.record({ Code: optional(status), Message: optional(hostileText) }, { requiredKeys: [] }),
    ),
    ConnectionEndTime: optional(awsTime),
    PostureComplianceStatuses: optional(fc.array(hostileText, { maxLength: 3 })),
  },
  { requiredKeys: [] },
);

/** A word as a person would quote it: `"…"` with `\` before quotes and backslashes. */
const quoted = (word: string) => `"${word.replace(/["\\\u201C\u201D]/g, (ch) => `\\${ch}`)}"`;

const value = fc.oneof(hostileText, fc.constantFrom('alice', 'Jane Doe', 'me', 'public', 'all'));

/** One word of command text: the grammar's own vocabulary, its filters, and anything else. */
export const word: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'list',
    'LIST',
    'user',
    'endpoints',
    'help',
    'digest',
    'now',
    'audit',
    'history',
    'report',
    '7d',
    '30d',
    'at=2026-11-27',
    'since=12h',
    'since=2026-11-27T14:00+01:00',
    'month',
    'all',
    'public',
    'me',
    'prod',
    'dev-1',
    'cvpn-endpoint-0123456789abcdef0',
    'CVPN-ENDPOINT-0ABC',
    '<@U0123ABCD>',
    '<@W0123ABCD|jane>',
    '<@u0123abcd>',
    '@alice',
    '@@alice',
    '@me',
    '@public',
    '@',
    '=',
    '0',
    '1',
    '100',
    '101',
    '1e1',
    '-1',
    'status=active',
    'status=terminated,failed-to-terminate',
    'status=ALL',
    'status=gone',
    'status=',
    'conn=cvpn-connection-0aa11bb22cc33dd44',
    'conn=12345',
  ),
  fc
    .tuple(
      fc.constantFrom('user', 'USER', 'conn', 'status', 'ip', 'User'),
      fc.oneof(value, value.map(quoted)),
    )
    .map(([key, v]) => `${key}=${v}`),
  value.map(quoted),
  value.map((v) => `@${quoted(v)}`),
  hostileText,
);

const spacing = fc.constantFrom(' ', '  ', '\t', '\n', '\u00A0');

/** How a person names someone after `user`: bare, quoted, `@name`, a mention, `me`. */
const person: fc.Arbitrary<string> = fc.oneof(
  value,
  value.map(quoted),
  value.map((v) => `@${v}`),
  value.map((v) => `@${quoted(v)}`),
  fc.constantFrom('me', 'ME', '@me', '@@alice', '@', '<@U0123ABCD>', '&lt;@U0123ABCD&gt;'),
);

const words = (arbitrary: fc.Arbitrary<string>) =>
  fc
    .array(fc.tuple(arbitrary, spacing), { maxLength: 6 })
    .map((parts) => parts.map(([w, s]) => `${w}${s}`).join(''));

/** Command text built from grammar words (often a `user` lookup), or any string at all. */
export const commandText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: words(word) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('user', 'User', 'history user', 'history  USER'),
        spacing,
        person,
        spacing,
        words(word),
      )
      .map((parts) => parts.join('')),
  },
  { weight: 1, arbitrary: hostileText },
);
