/**
 * The digest message (Block Kit): a pure function of the sessions, gaps and interval.
 * Totals, a per-user roll-up by connected time, then the sessions; large
 * digests show the top entries, say how many more, and come with the full
 * list as CSV. Same escaping and limits guard as the slash command.
 */
import type { types } from '@slack/bolt';
import type { DigestView } from '../../jobs/digest-view.js';
import type { EndedSession } from '../../store/types.js';
import { formatBytes, formatCount, formatDuration, formatMilliseconds } from '../../vpn/format.js';
import { type ConnectionRecord, csvHeader, csvRow } from '../../vpn/records.js';
import { guardMessage, type SlackMessage } from './limits.js';
import { dateToken, escapeMrkdwn, inlineCode, literal, truncate } from './mrkdwn.js';

type KnownBlock = types.KnownBlock;

/** Sessions listed in the message; the rest are in the CSV. */
export const MAX_LISTED_SESSIONS = 25;
/** Users in the roll-up. */
export const MAX_LISTED_USERS = 10;

export interface DigestMessage {
  readonly message: SlackMessage;
  /** The full list as CSV when the message could not show every session; else `null`. */
  readonly csv: string | null;
}

/** `2026-11-27 13:00` in the given IANA time zone. */
export function formatInZone(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** `1 session`, `2,345 sessions`. */
function counted(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function who(session: EndedSession): string {
  return session.username ?? session.commonName ?? '(unknown user)';
}

function durationMs(session: EndedSession): number {
  if (session.establishedAt === null) return 0;
  return Math.max(0, session.endedAt.getTime() - session.establishedAt.getTime());
}

interface UserTotal {
  readonly name: string;
  sessions: number;
  connectedMs: number;
  ingress: number;
  egress: number;
}

/** Per-user totals, longest connected time first (then name, for a stable order). */
export function rollUpByUser(sessions: readonly EndedSession[]): UserTotal[] {
  const byUser = new Map<string, UserTotal>();
  for (const s of sessions) {
    const name = who(s);
    const total = byUser.get(name) ?? { name, sessions: 0, connectedMs: 0, ingress: 0, egress: 0 };
    total.sessions += 1;
    total.connectedMs += durationMs(s);
    total.ingress += s.ingressBytes ?? 0;
    total.egress += s.egressBytes ?? 0;
    byUser.set(name, total);
  }
  return [...byUser.values()].sort(
    (a, b) => b.connectedMs - a.connectedMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/** Sessions in the order the digest lists them: flagged first, then by end time. */
function orderSessions(sessions: readonly EndedSession[]): EndedSession[] {
  return [...sessions].sort(
    (a, b) =>
      Number(b.status === 'failed-to-terminate') - Number(a.status === 'failed-to-terminate') ||
      a.endedAt.getTime() - b.endedAt.getTime() ||
      (a.connectionId < b.connectionId ? -1 : 1),
  );
}

function sessionRecord(s: EndedSession): ConnectionRecord {
  return {
    endpointId: s.endpointId,
    connectionId: s.connectionId,
    username: s.username,
    commonName: s.commonName,
    status: s.status,
    clientIp: s.clientIp,
    clientIpv6: s.clientIpv6,
    establishedAt: s.establishedAt?.toISOString() ?? null,
    endedAt: s.endedAt.toISOString(),
    ingressBytes: s.ingressBytes,
    egressBytes: s.egressBytes,
    ingressPackets: null,
    egressPackets: null,
    postureCompliance: null,
  };
}

/** The sessions as CSV with the CLI's columns (packet counters and posture are not kept). */
export function sessionsCsv(sessions: readonly EndedSession[]): string {
  const rows = orderSessions(sessions).map((s) => csvRow(sessionRecord(s)));
  return `${[csvHeader(), ...rows].join('\n')}\n`;
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, 2000) }] };
}

/** The gaps in coverage and the sessions that failed to terminate, as warnings. */
function warnings(view: DigestView, flagged: number): KnownBlock[] {
  const { timezone } = view;
  const blocks = view.gaps.map((gap) =>
    section(
      `:warning: *Possible gap on ${escapeMrkdwn(view.aliasOf(gap.endpointId))}*: sessions that ended between ` +
        `${formatInZone(gap.from, timezone)} and ${formatInZone(gap.to, timezone)} (${timezone}) may be missing. ` +
        'The collector had no successful poll for more than 60 minutes, and AWS lists ended sessions for only 60 minutes.',
    ),
  );
  if (flagged > 0) {
    blocks.push(
      section(
        `:warning: *${counted(flagged, 'session')} failed to terminate* ` +
          '(AWS status `failed-to-terminate`): check them in the console.',
      ),
    );
  }
  return blocks;
}

/** The per-user roll-up, the first `MAX_LISTED_USERS` of them. */
function byUserSection(users: ReturnType<typeof rollUpByUser>): KnownBlock {
  const lines = users
    .slice(0, MAX_LISTED_USERS)
    .map(
      (u) =>
        `• ${literal(truncate(u.name, 64))} — ${counted(u.sessions, 'session')}, ` +
        `${formatMilliseconds(u.connectedMs)}, ↓ ${formatBytes(u.ingress)} ↑ ${formatBytes(u.egress)}`,
    );
  if (users.length > MAX_LISTED_USERS)
    lines.push(`…and ${formatCount(users.length - MAX_LISTED_USERS)} more users`);
  return section(`*By user*\n${lines.join('\n')}`);
}

/** One ended session: who, where, when, how long, how much. */
function sessionLine(s: EndedSession, view: DigestView): string {
  const flag = s.status === 'failed-to-terminate' ? ':warning: ' : '';
  return (
    `${flag}*${literal(truncate(who(s), 64))}* on ${escapeMrkdwn(view.aliasOf(s.endpointId))} · ` +
    `${dateToken(s.establishedAt)} – ${dateToken(s.endedAt)} · ` +
    `${formatDuration(s.establishedAt, s.endedAt)} · ↓ ${formatBytes(s.ingressBytes)} ↑ ${formatBytes(s.egressBytes)} · ` +
    `${inlineCode(s.clientIp)} ${inlineCode(s.connectionId)}`
  );
}

/** Builds the digest message (and its CSV when it had to shorten the list). */
export function buildDigestMessage(view: DigestView): DigestMessage {
  const { sessions, timezone } = view;
  const interval = `${formatInZone(view.from, timezone)} – ${formatInZone(view.to, timezone)} (${timezone})`;
  const users = rollUpByUser(sessions);
  const totalMs = sessions.reduce((sum, s) => sum + durationMs(s), 0);
  const ingress = sessions.reduce((sum, s) => sum + (s.ingressBytes ?? 0), 0);
  const egress = sessions.reduce((sum, s) => sum + (s.egressBytes ?? 0), 0);
  const flagged = sessions.filter((s) => s.status === 'failed-to-terminate').length;
  const title = `${view.preview ? 'Preview: ' : ''}VPN sessions ended ${interval}`;

  const totals =
    sessions.length === 0
      ? 'No VPN sessions ended in this interval.'
      : `*${counted(sessions.length, 'session')}* · ${counted(users.length, 'user')} · ` +
        `${formatMilliseconds(totalMs)} connected · ↓ ${formatBytes(ingress)} ↑ ${formatBytes(egress)}`;

  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: true } },
    section(totals),
  ];
  if (view.preview) {
    blocks.push(context(':eyes: Only you can see this preview; nothing is marked as reported.'));
  }

  blocks.push(...warnings(view, flagged));

  if (users.length > 0) blocks.push(byUserSection(users));

  const ordered = orderSessions(sessions);
  const listed = ordered.slice(0, MAX_LISTED_SESSIONS);
  // Several sessions per section keeps the block count low.
  for (let i = 0; i < listed.length; i += 5) {
    blocks.push(
      section(
        listed
          .slice(i, i + 5)
          .map((x) => sessionLine(x, view))
          .join('\n'),
      ),
    );
  }
  const more = ordered.length - listed.length;
  if (more > 0) {
    blocks.push(
      context(`…and ${formatCount(more)} more sessions: the full list is in the attached CSV.`),
    );
  }

  const text =
    sessions.length === 0
      ? `${title}: none.`
      : `${title}: ${counted(sessions.length, 'session')}, ${counted(users.length, 'user')}` +
        (flagged > 0 ? `, ${formatCount(flagged)} failed to terminate` : '') +
        (view.gaps.length > 0 ? ', possible gap in coverage' : '');
  const guarded = guardMessage({ text: escapeMrkdwn(text), blocks });
  return {
    message: { text: guarded.text, blocks: guarded.blocks },
    csv: more > 0 || guarded.truncated ? sessionsCsv(sessions) : null,
  };
}
