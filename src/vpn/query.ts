/**
 * The query grammar shared by the `/vpn-conns` slash command and the
 * `vpn-conns` terminal command. Pure: text in, a `Query` (or a `UsageError`
 * naming the bad word) out.
 *
 * ```
 * [list] [ENDPOINT…|all] [user=NAME]… [conn=ID]… [status=STATUS[,STATUS]]
 * user NAME|@someone|me [ENDPOINT…|all] [status=…]
 * history [user NAME|@someone|me] [ENDPOINT…|all] [since=DURATION|DATE] [at=DATE-TIME]
 * report [24h|7d|30d|month|last-month|last-7d] [ENDPOINT…|all]
 * endpoints
 * help
 * digest [now]          (Slack only)
 * public                (Slack only, anywhere: post in the channel)
 * ```
 */
import { UsageError } from '../errors.js';
import {
  parseInstant,
  parseSince,
  REPORT_PERIODS,
  type ReportPeriodWord,
} from '../reports/period.js';
import { type ConnectionStatus, isConnectionStatus } from './connection.js';
import { CONNECTION_ID, ENDPOINT_ID, type EndpointChoice } from './endpoint.js';

export type Surface = 'slack' | 'cli';

/** Which endpoints a query reads: the default one, all of them, or named ones (aliases or ids). */
export type EndpointSelector = EndpointChoice;

/** Who a `user` lookup is about. */
export type UserRef =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'slack-user'; readonly userId: string }
  | { readonly kind: 'me' };

export interface ListQuery {
  readonly kind: 'list';
  readonly endpoints: EndpointSelector;
  readonly usernames: readonly string[];
  readonly connectionIds: readonly string[];
  /** `null` = every status (active, then terminated in the last 60 minutes). */
  readonly statuses: readonly ConnectionStatus[] | null;
}

export interface UserQuery {
  readonly kind: 'user';
  readonly who: UserRef;
  /** Defaults to every endpoint. */
  readonly endpoints: EndpointSelector;
  readonly statuses: readonly ConnectionStatus[] | null;
}

/**
 * Sessions from the history: by default the last 24 hours. `since` and `at`
 * are kept as typed (checked): they are read against the clock and time zone
 * when the query runs, so a paging button re-runs the same words.
 */
export interface HistoryQuery {
  readonly kind: 'history';
  /** `null` = everyone. */
  readonly who: UserRef | null;
  /** Defaults to every endpoint. */
  readonly endpoints: EndpointSelector;
  /** A duration (`30m`, `12h`, `7d`) or an ISO 8601 date or date-time; `null` = 24h. */
  readonly since: string | null;
  /** An ISO 8601 date-time: who was connected at that moment. */
  readonly at: string | null;
}

/** Usage and cost over a period. */
export interface ReportQuery {
  readonly kind: 'report';
  readonly period: ReportPeriodWord;
  /** Defaults to every endpoint. */
  readonly endpoints: EndpointSelector;
}

/** The period of a `report` without one. */
export const DEFAULT_REPORT_PERIOD: ReportPeriodWord = '7d';

export type Query =
  | ListQuery
  | UserQuery
  | HistoryQuery
  | ReportQuery
  | { readonly kind: 'endpoints' }
  | { readonly kind: 'help' }
  | { readonly kind: 'digest'; readonly action: 'show' | 'now' }
  | { readonly kind: 'audit'; readonly limit: number }
  | { readonly kind: 'alerts' };

export const AUDIT_DEFAULT = 20;
export const AUDIT_MAX = 100;

export interface ParsedCommand {
  readonly query: Query;
  /** Slack only: reply in the channel instead of ephemerally. */
  readonly public: boolean;
}

export const COMMAND_WORDS = [
  'list',
  'user',
  'endpoints',
  'help',
  'digest',
  'audit',
  'alerts',
  'history',
  'report',
] as const;
/** Words that can never be endpoint aliases. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  ...COMMAND_WORDS,
  'all',
  'public',
  'me',
  'now',
]);

export const ALIAS = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const STATUS_VALUES = ['active', 'terminated', 'terminating', 'failed-to-terminate', 'all'];

export const USAGE_LINES: readonly string[] = [
  '[ENDPOINT…|all] [user=NAME]… [conn=ID] [status=STATUS[,STATUS]]',
  'user NAME|@someone|me [ENDPOINT…|all] [status=STATUS[,STATUS]]',
  'history [user NAME|@someone|me] [ENDPOINT…|all] [since=DURATION|DATE] [at=DATE-TIME]',
  `report [${REPORT_PERIODS.join('|')}] [ENDPOINT…|all]`,
  'endpoints',
  'help',
];

/** Usage for one surface, each line prefixed with the command name. */
export function usage(surface: Surface): string {
  const prefix = surface === 'slack' ? '/vpn-conns ' : 'vpn-conns ';
  const lines = USAGE_LINES.map((line, i) => {
    if (surface === 'slack') return `${prefix}${line}`;
    if (i === 0) return `${prefix}list ${line}`;
    // Slack mentions and `me` mean nothing in a terminal.
    return `${prefix}${line.replace('NAME|@someone|me', 'NAME')}`;
  });
  lines.push(
    `STATUS: ${STATUS_VALUES.join(', ')} (default: all)`,
    'DURATION: 30m, 12h, 7d (history default: 24h); DATE: 2026-12-01 or 2026-12-01T14:00 (with Z or +01:00 as given, else in DIGEST_TIMEZONE)',
  );
  if (surface === 'slack') {
    lines.push(
      `${prefix}digest [now]`,
      `${prefix}alerts`,
      `${prefix}audit [N]   (admins)`,
      'Add `public` to post the answer in the channel.',
    );
  } else {
    lines.push(
      'Options: --json (JSON lines) or --csv   (default: a table; list, user, history, report)',
    );
  }
  return lines.join('\n');
}

// Slack (should_escape: true) sends a mention as <@U123|name> or <@U123>.
const SLACK_USER_MENTION = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/;

/** Splits command text into words; `"…"` (also Slack's curly quotes) keeps spaces inside a value. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let inQuotes = false;
  let hasToken = false;
  let escaping = false;
  for (const ch of text) {
    if (escaping) {
      current += ch;
      escaping = false;
    } else if (inQuotes && ch === '\\') {
      escaping = true;
    } else if (ch === '"' || ch === '\u201C' || ch === '\u201D') {
      inQuotes = !inQuotes;
      hasToken = true;
    } else if (!inQuotes && /\s/.test(ch)) {
      if (hasToken) tokens.push(current);
      current = '';
      hasToken = false;
    } else {
      current += ch;
      hasToken = true;
    }
  }
  if (inQuotes) throw new UsageError('Unclosed quote (") in the command.');
  if (hasToken) tokens.push(current);
  return tokens;
}

/** Slack escapes `&`, `<` and `>` in command text; turn them back into what the person typed. */
export function unescapeSlack(word: string): string {
  return word.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

function quote(word: string): string {
  return JSON.stringify(word);
}

function parseStatuses(value: string): ConnectionStatus[] | null {
  const statuses: ConnectionStatus[] = [];
  for (const part of value.split(',')) {
    const word = part.trim().toLowerCase();
    if (word === 'all') return null;
    if (!isConnectionStatus(word)) {
      // An empty part (`status=active,`) is named by the whole value: `""` names nothing typed.
      const what =
        word === '' ? `An empty status in ${quote(value)}` : `Unknown status ${quote(part)}`;
      throw new UsageError(`${what}: use one of ${STATUS_VALUES.join(', ')}.`);
    }
    if (!statuses.includes(word)) statuses.push(word);
  }
  return statuses;
}

interface Filters {
  endpoints: EndpointSelector;
  usernames: string[];
  connectionIds: string[];
  statuses: ConnectionStatus[] | null;
}

function addEndpoint(filters: Filters, name: string): void {
  if (filters.endpoints.kind === 'all') return;
  const names = filters.endpoints.kind === 'named' ? filters.endpoints.names : [];
  if (!names.includes(name)) filters.endpoints = { kind: 'named', names: [...names, name] };
}

/**
 * Reads the endpoint words and `key=value` filters after a command word.
 * `allowUserFilters` is false for `user …`, which already names its person.
 */
function parseFilters(words: readonly string[], allowUserFilters: boolean): Filters {
  const filters: Filters = {
    endpoints: { kind: 'default' },
    usernames: [],
    connectionIds: [],
    statuses: null,
  };
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq > 0) {
      const key = word.slice(0, eq).toLowerCase();
      const value = word.slice(eq + 1);
      if (value === '') throw new UsageError(`${quote(word)} needs a value after "=".`);
      if (key === 'status') {
        filters.statuses = parseStatuses(value);
      } else if (key === 'user' && allowUserFilters) {
        if (!filters.usernames.includes(value)) filters.usernames.push(value);
      } else if (key === 'conn' && allowUserFilters) {
        if (!CONNECTION_ID.test(value)) {
          throw new UsageError(
            `${quote(value)} is not a connection id (they look like cvpn-connection-0123456789abcdef0).`,
          );
        }
        if (!filters.connectionIds.includes(value)) filters.connectionIds.push(value);
      } else {
        const allowed = allowUserFilters ? 'user=, conn= and status=' : 'status=';
        throw new UsageError(`Unknown filter ${quote(`${key}=`)}: here you can use ${allowed}.`);
      }
      continue;
    }
    const lower = word.toLowerCase();
    if (lower === 'all') {
      filters.endpoints = { kind: 'all' };
    } else if (ENDPOINT_ID.test(word)) {
      addEndpoint(filters, word.toLowerCase());
    } else if (ALIAS.test(lower) && !RESERVED_WORDS.has(lower)) {
      addEndpoint(filters, lower);
    } else {
      throw new UsageError(`I don't understand ${quote(word)}.`);
    }
  }
  return filters;
}

/** Far enough ahead that checking a `since=` word never calls it "in the future". */
const CHECK_NOW = new Date('9999-01-01T00:00:00Z');

/** Reads the endpoint words of `history` and `report`: every endpoint unless some are named. */
function endpointsOf(words: readonly string[], what: string): EndpointSelector {
  const filters = parseFiltersWithout(words, what);
  return filters.kind === 'default' ? { kind: 'all' } : filters;
}

/** Endpoint words only (no `key=value`), for `history` and `report`. */
function parseFiltersWithout(words: readonly string[], what: string): EndpointSelector {
  for (const word of words) {
    if (word.indexOf('=') > 0) {
      throw new UsageError(
        `Unknown filter ${quote(`${word.slice(0, word.indexOf('=') + 1)}`)}: ${what}.`,
      );
    }
  }
  return parseFilters(words, false).endpoints;
}

/** `history [user WHO] [ENDPOINT…|all] [since=…] [at=…]`. */
function parseHistory(args: readonly string[], surface: Surface): HistoryQuery {
  let rest = [...args];
  let who: UserRef | null = null;
  if (rest[0]?.toLowerCase() === 'user') {
    who = parseUserRef(rest[1], surface);
    rest = rest.slice(2);
  }
  let since: string | null = null;
  let at: string | null = null;
  const endpointWords: string[] = [];
  for (const word of rest) {
    const eq = word.indexOf('=');
    const key = eq > 0 ? word.slice(0, eq).toLowerCase() : null;
    const value = word.slice(eq + 1);
    if (key !== null && value === '')
      throw new UsageError(`${quote(word)} needs a value after "=".`);
    if (key === 'since') {
      parseSince(value, CHECK_NOW, 'UTC');
      since = value;
    } else if (key === 'at') {
      parseInstant(value, 'UTC');
      at = value;
    } else {
      endpointWords.push(word);
    }
  }
  if (since !== null && at !== null) {
    throw new UsageError(
      'Use `since=` or `at=`, not both: `at=` asks who was connected at one moment.',
    );
  }
  const endpoints = endpointsOf(endpointWords, 'history takes since= and at=');
  return { kind: 'history', who, endpoints, since, at };
}

function isReportPeriod(word: string): word is ReportPeriodWord {
  return (REPORT_PERIODS as readonly string[]).includes(word);
}

/** `report [PERIOD] [ENDPOINT…|all]`; `formatQuery` puts the period first. */
function parseReport(args: readonly string[]): ReportQuery {
  let period: ReportPeriodWord | null = null;
  const endpointWords: string[] = [];
  for (const word of args) {
    const lower = word.toLowerCase();
    // The first period word is the period; a later one is an endpoint (an alias may be `month`).
    if (period === null && isReportPeriod(lower)) period = lower;
    else endpointWords.push(word);
  }
  const endpoints = endpointsOf(
    endpointWords,
    `report takes a period (${REPORT_PERIODS.join(', ')}) and endpoints`,
  );
  return { kind: 'report', period: period ?? DEFAULT_REPORT_PERIOD, endpoints };
}

function parseUserRef(word: string | undefined, surface: Surface): UserRef {
  if (word === undefined) {
    throw new UsageError('`user` needs a name: user NAME, user @someone or user me.');
  }
  const mention = SLACK_USER_MENTION.exec(word);
  if (mention?.[1]) {
    if (surface !== 'slack') {
      throw new UsageError(`${quote(word)}: Slack mentions work only in Slack; give a name.`);
    }
    return { kind: 'slack-user', userId: mention[1] };
  }
  if (word.toLowerCase() === 'me') {
    if (surface !== 'slack') throw new UsageError('`user me` works only in Slack: give a name.');
    return { kind: 'me' };
  }
  if (word.startsWith('@')) {
    // Without should_escape, or typed as plain text: a name, not an ID we can trust.
    const name = word.slice(1);
    if (name === '') throw new UsageError('`user @` needs a name after the @.');
    return { kind: 'name', name };
  }
  if (word.includes('=')) {
    throw new UsageError(`${quote(word)} is not a name: use \`user NAME\`.`);
  }
  return { kind: 'name', name: word };
}

/** `digest [now]`, `audit [N]`, `alerts`: words that read the bot's own state, Slack only. */
function parseSlackOnly(
  command: 'digest' | 'audit' | 'alerts',
  args: readonly string[],
  surface: Surface,
): Query {
  if (surface !== 'slack') throw new UsageError(`\`${command}\` works only in Slack.`);
  const [word, extra] = args;
  if (command === 'alerts') {
    if (word === undefined) return { kind: 'alerts' };
    throw new UsageError(`\`alerts\` takes no arguments; I don't understand ${quote(word)}.`);
  }
  if (command === 'digest') {
    if (word === undefined) return { kind: 'digest', action: 'show' };
    if (word.toLowerCase() === 'now' && extra === undefined)
      return { kind: 'digest', action: 'now' };
    throw new UsageError(
      `I don't understand ${quote(extra ?? word)}: use \`digest\` or \`digest now\`.`,
    );
  }
  if (word === undefined) return { kind: 'audit', limit: AUDIT_DEFAULT };
  const limit = Number(word);
  if (extra !== undefined || !Number.isInteger(limit) || limit < 1 || limit > AUDIT_MAX) {
    throw new UsageError(
      `I don't understand ${quote(extra ?? word)}: use \`audit\` or \`audit N\` with N from 1 to ${AUDIT_MAX}.`,
    );
  }
  return { kind: 'audit', limit };
}

/**
 * Parses the text of a `/vpn-conns` command (Slack) or the CLI's arguments.
 *
 * @throws UsageError naming the first word it cannot use.
 */
export function parseCommand(
  input: string | readonly string[],
  surface: Surface,
  options: { slackEscaped?: boolean } = {},
): ParsedCommand {
  const raw = typeof input === 'string' ? tokenize(input) : [...input];
  const slackEscaped = options.slackEscaped ?? surface === 'slack';
  const words = slackEscaped ? raw.map(unescapeSlack) : raw;
  let isPublic = false;
  const rest: string[] = [];
  for (const word of words) {
    if (surface === 'slack' && word.toLowerCase() === 'public') isPublic = true;
    else rest.push(word);
  }

  const [first, ...args] = rest;
  const command = first?.toLowerCase();
  const ok = (query: Query): ParsedCommand => ({ query, public: isPublic });
  const noArgs = (name: string) => {
    if (args[0] !== undefined) {
      throw new UsageError(`\`${name}\` takes no arguments; I don't understand ${quote(args[0])}.`);
    }
  };

  switch (command) {
    case 'help':
      return ok({ kind: 'help' });
    case 'endpoints':
      noArgs('endpoints');
      return ok({ kind: 'endpoints' });
    case 'digest':
    case 'audit':
    case 'alerts':
      return ok(parseSlackOnly(command, args, surface));
    case 'history':
      return ok(parseHistory(args, surface));
    case 'report':
      return ok(parseReport(args));
    case 'user': {
      const who = parseUserRef(args[0], surface);
      const filters = parseFilters(args.slice(1), false);
      const endpoints: EndpointSelector =
        filters.endpoints.kind === 'default' ? { kind: 'all' } : filters.endpoints;
      return ok({ kind: 'user', who, endpoints, statuses: filters.statuses });
    }
    default: {
      const filters = parseFilters(command === 'list' ? args : rest, true);
      return ok({ kind: 'list', ...filters });
    }
  }
}

function formatWord(word: string): string {
  if (word !== '' && !/[\s"\\\u201C\u201D]/.test(word)) return word;
  return `"${word.replace(/["\\\u201C\u201D]/g, (ch) => `\\${ch}`)}"`;
}

/**
 * A `user` lookup's name as a word that reads back as that name: with an `@` in front when the
 * bare word would mean something else (`me`, `public`, a mention, `a=b`, `@x`).
 */
function formatName(name: string): string {
  const word = formatWord(name);
  const special =
    /^(?:me|public)$/i.test(name) ||
    name.startsWith('@') ||
    name.startsWith('<') ||
    name.includes('=');
  return special ? `@${word}` : word;
}

function formatWho(who: UserRef): string {
  if (who.kind === 'me') return 'me';
  return who.kind === 'slack-user' ? `<@${who.userId}>` : formatName(who.name);
}

function formatSelector(selector: EndpointSelector): string[] {
  if (selector.kind === 'all') return ['all'];
  if (selector.kind === 'named') return [...selector.names];
  return [];
}

function formatStatuses(statuses: readonly ConnectionStatus[] | null): string[] {
  return statuses === null ? [] : [`status=${statuses.join(',')}`];
}

/**
 * The canonical text of a query; `parseCommand(formatQuery(q), 'slack',
 * { slackEscaped: false })` gives `q` back. Used to carry a query in a button value (stateless paging).
 */
export function formatQuery(query: Query): string {
  switch (query.kind) {
    case 'help':
    case 'endpoints':
    case 'alerts':
      return query.kind;
    case 'digest':
      return query.action === 'now' ? 'digest now' : 'digest';
    case 'audit':
      return `audit ${query.limit}`;
    case 'user': {
      const who = formatWho(query.who);
      const endpoints = query.endpoints.kind === 'all' ? [] : formatSelector(query.endpoints);
      return ['user', who, ...endpoints, ...formatStatuses(query.statuses)].join(' ');
    }
    case 'history':
      return [
        'history',
        ...(query.who === null ? [] : ['user', formatWho(query.who)]),
        ...(query.endpoints.kind === 'all' ? [] : formatSelector(query.endpoints)),
        ...(query.since === null ? [] : [`since=${formatWord(query.since)}`]),
        ...(query.at === null ? [] : [`at=${formatWord(query.at)}`]),
      ].join(' ');
    case 'report':
      return [
        'report',
        query.period,
        ...(query.endpoints.kind === 'all' ? [] : formatSelector(query.endpoints)),
      ].join(' ');
    case 'list':
      return [
        'list',
        ...formatSelector(query.endpoints),
        ...query.usernames.map((u) => `user=${formatWord(u)}`),
        ...query.connectionIds.map((c) => `conn=${c}`),
        ...formatStatuses(query.statuses),
      ].join(' ');
  }
}
