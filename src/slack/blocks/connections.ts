/**
 * The `/vpn-conns` answer: a header, exact totals, failures, one page of
 * connections and the paging / export buttons. Pure: the same view (with the
 * same `now`) gives the same message.
 */
import type { types } from '@slack/bolt';
import { type Connection, type ConnectionStatus, displayName } from '../../vpn/connection.js';
import { formatBytes, formatCount, formatDuration } from '../../vpn/format.js';
import { sessionTimeLeft } from '../../vpn/session-limit.js';
import { type StatusBucket, sortConnections, statusBucket, summarize } from '../../vpn/summary.js';
import {
  ACTION_EXPORT_CSV,
  ACTION_PAGE_NEXT,
  ACTION_PAGE_PREV,
  ACTION_TERMINATE,
  ACTION_TERMINATE_USER,
  BLOCK_ACTIONS,
  encodeButtonValue,
  isEncodableQuery,
  MAX_PAGE,
  PAGE_SIZE,
} from './ids.js';
import { guardMessage, type KnownBlock, type SlackMessage } from './limits.js';
import { dateToken, escapeMrkdwn, inlineCode, literal, truncate } from './mrkdwn.js';

/** Everything the connections message shows; see {@link buildConnectionsMessage}. */
export interface ConnectionsView {
  /** What was asked about, raw (`prod`, `prod, dev`, `alice on every endpoint`). */
  readonly title: string;
  /** The full filtered result; the builder sorts and pages it. */
  readonly connections: readonly Connection[];
  /** 0-based; clamped to the last page. */
  readonly page: number;
  /** The canonical query text, carried in the button values. */
  readonly queryText: string;
  /** Endpoints that could not be read, with the message a user should see. */
  readonly failures: readonly { readonly endpointAlias: string; readonly message: string }[];
  /** Endpoint id → alias, for display. */
  readonly aliasOf: (endpointId: string) => string;
  /** Endpoint id → its `SessionTimeoutHours` (`null`/absent: unknown, no "ends in"). */
  readonly sessionTimeoutOf?: (endpointId: string) => number | null | undefined;
  readonly fetchedAt: Date;
  readonly now: Date;
  /** Which statuses were asked for; default `active and terminated in the last hour`. */
  readonly statusesNote?: string;
  /** User lookups: which field of the connection matched the name. */
  readonly matchedField?: (connection: Connection) => 'username' | 'commonName' | null;
  /** Admins only: Terminate buttons (values are signed by the caller). */
  readonly terminate?: TerminateButtons;
}

export interface TerminateButtons {
  /** The value of one active connection's Terminate button, or `null` for no button. */
  readonly valueFor: (connection: Connection) => string | null;
  /** User lookups: "Terminate all sessions of NAME". */
  readonly all?: { readonly name: string; readonly value: string };
}

/** The Terminate button of one connection, with a confirm dialog naming user, endpoint and connection. */
export function terminateButton(c: Connection, value: string, alias: string): types.Button {
  return {
    type: 'button',
    action_id: ACTION_TERMINATE,
    text: { type: 'plain_text', text: 'Terminate' },
    style: 'danger',
    value,
    confirm: {
      title: { type: 'plain_text', text: 'Terminate this session?' },
      text: {
        type: 'mrkdwn',
        text: truncate(
          `Disconnect *${shown(displayName(c), MAX_NAME)}* from *${shown(alias, MAX_ALIAS)}*?\nConnection ${inlineCode(c.connectionId)}`,
          300,
        ),
      },
      confirm: { type: 'plain_text', text: 'Terminate' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    },
  };
}

export const STATUS_EMOJI: Readonly<Record<StatusBucket, string>> = {
  active: ':large_green_circle:',
  terminating: ':hourglass_flowing_sand:',
  'failed-to-terminate': ':warning:',
  terminated: ':white_circle:',
  unknown: ':grey_question:',
};

/** How each status reads in a count (`244 terminated in the last hour`). */
const STATUS_PHRASE: Readonly<Record<StatusBucket, string>> = {
  active: 'active',
  terminating: 'terminating',
  'failed-to-terminate': 'failed to terminate',
  // AWS reports terminated connections for 60 minutes after they end.
  terminated: 'terminated in the last hour',
  unknown: 'with an unknown status',
};

/** Counts that are shown even when zero; the others only when there are some. */
const ALWAYS_COUNTED: readonly ConnectionStatus[] = ['active', 'terminated'];
const COUNT_ORDER: readonly StatusBucket[] = [
  'active',
  'terminated',
  'terminating',
  'failed-to-terminate',
  'unknown',
];

const DEFAULT_STATUSES_NOTE = 'active and terminated in the last hour';
const DEFAULT_EMPTY_NOTE = 'active or terminated in the last hour';
const MAX_TITLE = 150;
const MAX_NAME = 64;
const MAX_ALIAS = 64;
const MAX_FAILURE_MESSAGE = 300;
const MAX_SECTION = 3000;
const PAGING_UNAVAILABLE =
  'Paging and CSV export are unavailable for such a long query: narrow it down to see more.';

/** Text on one line: AWS and people can put newlines and tabs in names. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A short raw value, cut and made literal for mrkdwn. */
function shown(text: string, max: number): string {
  return literal(truncate(oneLine(text), max));
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** `2,345 connections · 2,101 active · 244 terminated in the last hour` (the first part bold when asked). */
function countsLine(
  byStatus: Readonly<Record<StatusBucket, number>>,
  total: number,
  bold: boolean,
): string {
  const totalText = plural(total, 'connection', 'connections');
  const parts = [bold ? `*${totalText}*` : totalText];
  for (const bucket of COUNT_ORDER) {
    const n = byStatus[bucket];
    if (n > 0 || (ALWAYS_COUNTED as readonly StatusBucket[]).includes(bucket)) {
      parts.push(`${formatCount(n)} ${STATUS_PHRASE[bucket]}`);
    }
  }
  return parts.join(' · ');
}

function failuresSection(failures: ConnectionsView['failures']): KnownBlock {
  const lines: string[] = [];
  let length = 0;
  for (const [i, failure] of failures.entries()) {
    const alias = shown(failure.endpointAlias, MAX_ALIAS) || 'unknown endpoint';
    const line = `:warning: *${alias}*: ${escapeMrkdwn(
      truncate(oneLine(failure.message), MAX_FAILURE_MESSAGE),
    )}`;
    const rest = failures.length - i - 1;
    // Room for this line and, if more follow, the "and N more" line.
    const reserve = rest > 0 ? 60 : 0;
    if (length + line.length + 1 + reserve > MAX_SECTION) {
      lines.push(`…and ${plural(failures.length - i, 'more endpoint', 'more endpoints')} failed.`);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } };
}

interface EntryOptions {
  readonly now: Date;
  readonly showEndpoint: boolean;
  readonly aliasOf: (endpointId: string) => string;
  readonly sessionTimeoutOf: ConnectionsView['sessionTimeoutOf'];
  readonly matchedField: ConnectionsView['matchedField'];
}

/** Marks an active session in the last hour before its endpoint's session limit ends it. */
export const LAST_HOUR_MARK = ':hourglass:';

/** One connection, two compact lines of mrkdwn. */
function entryText(c: Connection, options: EntryOptions): string {
  let who = `*${shown(displayName(c), MAX_NAME)}*`;
  if (options.matchedField?.(c) === 'commonName') who += ' (matched certificate name)';
  // AWS ends an active session when the endpoint's session timeout is reached.
  const left =
    c.status === 'active'
      ? sessionTimeLeft(options.sessionTimeoutOf?.(c.endpointId), c.establishedAt, options.now)
      : null;
  const mark = left?.lastHour ? ` ${LAST_HOUR_MARK}` : '';
  const first = [`${STATUS_EMOJI[statusBucket(c)]}${mark} ${who}`];
  if (options.showEndpoint) first.push(shown(options.aliasOf(c.endpointId), MAX_ALIAS));
  first.push(inlineCode(c.clientIp));
  if (c.clientIpv6 !== null) first.push(inlineCode(c.clientIpv6));

  // A terminated connection without an end time has no known duration.
  const end = c.endedAt ?? (c.status === 'terminated' ? null : options.now);
  const second = [`since ${dateToken(c.establishedAt)}`];
  if (c.status === 'terminated' || c.endedAt !== null) second.push(`ended ${dateToken(c.endedAt)}`);
  second.push(
    formatDuration(c.establishedAt, end),
    ...(left ? [left.text] : []),
    `↓ ${formatBytes(c.ingressBytes)} ↑ ${formatBytes(c.egressBytes)}`,
    inlineCode(c.connectionId),
  );
  return `${first.join(' · ')}\n${second.join(' · ')}`;
}

/** The first section (totals, or "no connections") and the notification text it gives. */
function summaryOf(
  input: ConnectionsView,
  summary: ReturnType<typeof summarize>,
  shownTitle: string,
): { block: KnownBlock; text: string } {
  if (summary.total === 0) {
    const note = escapeMrkdwn(oneLine(input.statusesNote ?? DEFAULT_EMPTY_NOTE));
    const on = input.matchedField ? 'for' : 'on';
    return {
      block: {
        type: 'section',
        text: { type: 'mrkdwn', text: `No connections ${on} ${shownTitle} (${note}).` },
      },
      text: `${shownTitle}: no connections (${note})`,
    };
  }
  return {
    block: {
      type: 'section',
      text: { type: 'mrkdwn', text: countsLine(summary.byStatus, summary.total, true) },
    },
    text: `${shownTitle}: ${countsLine(summary.byStatus, summary.total, false)}`,
  };
}

/** "Terminate all sessions of NAME", with a confirm dialog naming how many. */
function terminateAllButton(all: { name: string; value: string }, active: number): types.Button {
  const name = shown(all.name, MAX_NAME);
  return {
    type: 'button',
    action_id: ACTION_TERMINATE_USER,
    text: {
      type: 'plain_text',
      text: truncate(`Terminate all sessions of ${oneLine(all.name)}`, 75),
    },
    style: 'danger',
    value: all.value,
    confirm: {
      title: { type: 'plain_text', text: 'Terminate all sessions?' },
      text: {
        type: 'mrkdwn',
        text: `Disconnect *${name}* from ${plural(active, 'active session', 'active sessions')} on every endpoint shown?`,
      },
      confirm: { type: 'plain_text', text: 'Terminate all' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    },
  };
}

/** Previous / Next / Export CSV (and Terminate all), each carrying the query and a page. */
function actionsBlock(
  input: ConnectionsView,
  page: number,
  pageCount: number,
  active: number,
): KnownBlock | null {
  const buttons: types.Button[] = [];
  const add = (label: string, actionId: string, p: number) => {
    // Beyond MAX_PAGE a button could not be read back; such lists are far too long to page.
    if (p >= 0 && p <= MAX_PAGE) {
      const value = encodeButtonValue({ q: input.queryText, p });
      buttons.push({
        type: 'button',
        text: { type: 'plain_text', text: label },
        action_id: actionId,
        value,
      });
    }
  };
  if (page > 0) add('Previous', ACTION_PAGE_PREV, page - 1);
  if (page + 1 < pageCount) add('Next', ACTION_PAGE_NEXT, page + 1);
  add('Export CSV', ACTION_EXPORT_CSV, page);
  const all = input.terminate?.all;
  if (all && active > 0) buttons.push(terminateAllButton(all, active));
  return buttons.length > 0
    ? { type: 'actions', block_id: BLOCK_ACTIONS, elements: buttons }
    : null;
}

/**
 * The answer to a connections query: header, exact totals per status, a
 * warning for endpoints that failed, one page of `PAGE_SIZE` connections in
 * {@link sortConnections} order, and Previous / Next / Export CSV buttons
 * carrying the query text and a page. Every AWS- or user-supplied string is
 * escaped; the result has passed {@link guardMessage}.
 */
export function buildConnectionsMessage(input: ConnectionsView): SlackMessage {
  const title = oneLine(input.title) || 'VPN connections';
  const summary = summarize(input.connections);
  const pageCount = Math.max(1, Math.ceil(summary.total / PAGE_SIZE));
  const page = Number.isFinite(input.page)
    ? Math.min(Math.max(0, Math.floor(input.page)), pageCount - 1)
    : 0;
  const shownTitle = escapeMrkdwn(truncate(title, MAX_TITLE));
  const failed =
    input.failures.length > 0
      ? ` · ${plural(input.failures.length, 'endpoint', 'endpoints')} could not be read`
      : '';

  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, MAX_TITLE), emoji: true } },
  ];
  const head = summaryOf(input, summary, shownTitle);
  blocks.push(head.block);
  const text = `${head.text}${failed}`;

  const context = [`Fetched ${dateToken(input.fetchedAt)}`];
  if (pageCount > 1) context.push(`page ${formatCount(page + 1)} of ${formatCount(pageCount)}`);
  if (summary.total > 0) {
    context.push(escapeMrkdwn(oneLine(input.statusesNote ?? DEFAULT_STATUSES_NOTE)));
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });

  const pageable = isEncodableQuery(input.queryText);
  if (!pageable && summary.total > 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: PAGING_UNAVAILABLE }] });
  }
  if (input.failures.length > 0) blocks.push(failuresSection(input.failures));

  const sorted = sortConnections(input.connections);
  const entry: EntryOptions = {
    now: input.now,
    showEndpoint: new Set(input.connections.map((c) => c.endpointId)).size > 1,
    aliasOf: input.aliasOf,
    sessionTimeoutOf: input.sessionTimeoutOf,
    matchedField: input.matchedField,
  };
  for (const c of sorted.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
    const value = c.status === 'active' ? (input.terminate?.valueFor(c) ?? null) : null;
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: entryText(c, entry) },
      ...(value ? { accessory: terminateButton(c, value, input.aliasOf(c.endpointId)) } : {}),
    });
  }

  if (pageable && summary.total > 0) {
    const actions = actionsBlock(input, page, pageCount, summary.byStatus.active);
    if (actions) blocks.push(actions);
  }

  const guarded = guardMessage({ text, blocks });
  return { text: guarded.text, blocks: guarded.blocks };
}
