/**
 * Alert messages: the one message posted when a rule fires for a subject, the same message
 * edited when the condition clears, and the `/vpn-conns alerts` listing. Pure: the same input
 * (with the same `now`) gives the same message. An alert names its rule, its subject and that
 * subject's sessions, nothing else; admins get the signed Terminate buttons of the lists.
 */
import type {
  AlertSession,
  FiringAlert,
  FiringSummary,
  PostedAlert,
} from '../../alerts/evaluate.js';
import { type AlertRule, describeCondition } from '../../alerts/rules.js';
import type { Connection } from '../../vpn/connection.js';
import { formatCount, formatDuration, formatMilliseconds } from '../../vpn/format.js';
import { sessionTimeLeft } from '../../vpn/session-limit.js';
import { terminateButton } from './connections.js';
import { guardMessage, type KnownBlock, type SlackMessage } from './limits.js';
import { dateToken, escapeMrkdwn, inlineCode, literal, truncate } from './mrkdwn.js';

/** Block id of the sections listing an alert's sessions (`vpn_conns_alert_session_3`). */
export const BLOCK_ALERT_SESSION = 'vpn_conns_alert_session';
/** Sessions an alert message lists; the others are counted. */
export const MAX_ALERT_SESSIONS = 20;
/** Rules the listing shows in full; the others are counted. */
export const MAX_LISTED_RULES = 20;
/** Firing subjects the listing names per rule. */
export const MAX_LISTED_SUBJECTS = 10;

/** What the alert message needs besides the alert. */
export interface AlertMessageOptions {
  readonly now: Date;
  /**
   * The signed value of an active session's Terminate button, or `null` for none. Set it to
   * offer the buttons (Slack shows a channel message's buttons to everyone: the click is checked
   * again, and refused to non-admins).
   */
  readonly terminateValue?: (connection: Connection) => string | null;
  /** The endpoint's `SessionTimeoutHours`, by alias, to show "ends in 1h 20m". */
  readonly sessionTimeoutHours?: (endpointAlias: string) => number | null;
}

const MAX_NAME = 64;
const MAX_ALIAS = 64;
const MAX_SECTION = 3000;

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A raw name, cut, on one line and literal in mrkdwn. */
function shown(text: string, max = MAX_NAME): string {
  return literal(truncate(oneLine(text), max)) || '(unnamed)';
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

const HOUR_MS = 3_600_000;
const percent = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** The headline of a firing alert: what holds, about whom, in one sentence of mrkdwn. */
function headline(alert: FiringAlert): string {
  const who = `*${shown(alert.subject.name)}*`;
  const on = alert.endpointAliases.map((a) => shown(a, MAX_ALIAS)).join(', ');
  const condition = alert.rule.condition;
  const value = alert.measure?.value ?? 0;
  switch (condition.kind) {
    case 'maxSessionsPerUser':
      return `${who} has ${plural(value, 'active session', 'active sessions')} on ${on} (more than ${formatCount(condition.sessions)}).`;
    case 'maxSessionHours':
      return `A session of ${who} on ${on} has been active for ${formatMilliseconds(value * HOUR_MS)} (more than ${percent.format(condition.hours)}h).`;
    case 'postureNonCompliant':
      return `A device of ${who} on ${on} is not posture compliant.`;
    case 'failedToTerminate':
      return `AWS failed to terminate a session of ${who} on ${on}.`;
    case 'endpointUsagePercent': {
      const of = alert.measure?.of ?? 0;
      const used = of > 0 ? (value / of) * 100 : 0;
      return `${who} has ${plural(value, 'active connection', 'active connections')}: ${percent.format(used)} % of its limit of ${formatCount(of)} (alert at ${percent.format(condition.percent)} %).`;
    }
    case 'idleHours':
      return `${who} has had no active session for ${formatMilliseconds(value * HOUR_MS)} (alert after ${percent.format(condition.hours)}h); its subnet associations still bill by the hour.`;
    case 'newUser':
      return `${who} connected to ${on} for the first time.`;
  }
}

/** One session of an alert: who, where, address, since when, time left, connection id. */
function sessionText(session: AlertSession, options: AlertMessageOptions): string {
  const c = session.connection;
  const first = [
    `*${shown(c.username ?? c.commonName ?? '(unknown user)')}*`,
    shown(session.endpointAlias, MAX_ALIAS),
    inlineCode(c.clientIp),
  ];
  const second = [`since ${dateToken(c.establishedAt)}`];
  if (c.status === 'active') {
    second.push(formatDuration(c.establishedAt, options.now));
    const left = sessionTimeLeft(
      options.sessionTimeoutHours?.(session.endpointAlias),
      c.establishedAt,
      options.now,
    );
    if (left) second.push(left.lastHour ? `:hourglass: *${left.text}*` : left.text);
  } else {
    second.push(escapeMrkdwn(c.status ?? 'unknown status'));
  }
  // Only a failing posture check is worth the space; "compliant" on every line is noise.
  if (c.postureCompliance.some((p) => p.toLowerCase() !== 'compliant')) {
    const statuses = escapeMrkdwn(truncate(oneLine(c.postureCompliance.join(', ')), 80));
    second.push(`:warning: posture ${statuses}`);
  }
  if (c.statusMessage !== null && c.status !== 'active') {
    second.push(escapeMrkdwn(truncate(oneLine(c.statusMessage), 200)));
  }
  second.push(inlineCode(c.connectionId));
  return `${first.join(' · ')}\n${second.join(' · ')}`;
}

/** The rule line under an alert: its name, its condition, its endpoints. */
function ruleContext(rule: AlertRule, at: Date, verb: string): KnownBlock {
  const endpoints =
    rule.endpoints === 'all'
      ? 'every endpoint'
      : rule.endpoints.map((a) => shown(a, MAX_ALIAS)).join(', ');
  return {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Rule *${shown(rule.name)}*: ${escapeMrkdwn(describeCondition(rule.condition))} · watching ${endpoints} · ${verb} ${dateToken(at)}`,
      },
    ],
  };
}

/**
 * The alert message for one rule and subject: the rule, a headline naming the subject, and
 * that subject's sessions (at most {@link MAX_ALERT_SESSIONS}, the rest counted), each active
 * one with a Terminate button when `terminateValue` gives a value. Guarded by the limits guard.
 */
export function buildAlertMessage(alert: FiringAlert, options: AlertMessageOptions): SlackMessage {
  const title = truncate(`Alert: ${oneLine(alert.rule.name)}`, 150);
  const line = headline(alert);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: title, emoji: false } },
    { type: 'section', text: { type: 'mrkdwn', text: `:rotating_light: ${line}` } },
    ruleContext(alert.rule, options.now, 'detected'),
  ];
  let buttons = 0;
  for (const [i, session] of alert.sessions.slice(0, MAX_ALERT_SESSIONS).entries()) {
    const c = session.connection;
    const value = c.status === 'active' ? (options.terminateValue?.(c) ?? null) : null;
    if (value) buttons += 1;
    blocks.push({
      type: 'section',
      block_id: `${BLOCK_ALERT_SESSION}_${i}`,
      text: { type: 'mrkdwn', text: sessionText(session, options) },
      ...(value ? { accessory: terminateButton(c, value, session.endpointAlias) } : {}),
    });
  }
  const notes: string[] = [];
  const more = alert.sessions.length - MAX_ALERT_SESSIONS;
  if (more > 0) notes.push(`…and ${plural(more, 'more session', 'more sessions')}.`);
  if (buttons > 0) notes.push('Terminate works for VPN admins only.');
  if (notes.length > 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: notes.join(' ') }] });
  }
  const text = `Alert ${shown(alert.rule.name)}: ${line}`;
  const guarded = guardMessage({ text: truncate(text, 300), blocks });
  return { text: guarded.text, blocks: guarded.blocks };
}

/**
 * The alert message once its condition has cleared (for `chat.update` of the posted message):
 * names the rule and the subject, says when it fired and cleared; no sessions, no buttons.
 */
export function buildAlertClearedMessage(alert: PostedAlert, clearedAt: Date): SlackMessage {
  const who = `*${shown(alert.subject.name)}*`;
  const rule = `*${shown(alert.ruleName)}*`;
  const what =
    alert.condition === null
      ? 'the rule was removed'
      : escapeMrkdwn(describeCondition(alert.condition));
  const lasted = formatDuration(alert.firedAt, clearedAt);
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`Cleared: ${oneLine(alert.ruleName)}`, 150) },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `:white_check_mark: Rule ${rule} no longer holds for ${who}${alert.connectionId ? `, session ${inlineCode(alert.connectionId)}` : ''} (${what}).`,
      },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Fired ${dateToken(alert.firedAt)} · cleared ${dateToken(clearedAt)} · lasted ${lasted}`,
        },
      ],
    },
  ];
  const guarded = guardMessage({
    text: truncate(`Cleared: ${shown(alert.ruleName)} for ${shown(alert.subject.name)}`, 300),
    blocks,
  });
  return { text: guarded.text, blocks: guarded.blocks };
}

/**
 * The "firing now" part of one rule in the listing: each subject once, with how many alerts it
 * has when several (one per session of the same person) and since when the first fired.
 */
function firingText(firing: readonly FiringSummary[]): string {
  if (firing.length === 0) return 'Quiet now.';
  const bySubject = new Map<string, { count: number; since: Date }>();
  for (const f of firing) {
    const seen = bySubject.get(f.subject.name);
    if (!seen) bySubject.set(f.subject.name, { count: 1, since: f.since });
    else {
      seen.count += 1;
      if (f.since < seen.since) seen.since = f.since;
    }
  }
  const names = [...bySubject]
    .slice(0, MAX_LISTED_SUBJECTS)
    .map(
      ([name, { count, since }]) =>
        `*${shown(name)}*${count > 1 ? ` (${formatCount(count)} sessions)` : ''} since ${dateToken(since)}`,
    );
  const more = bySubject.size - MAX_LISTED_SUBJECTS;
  const tail = more > 0 ? `, and ${formatCount(more)} more` : '';
  return `:rotating_light: Firing for ${names.join(', ')}${tail}.`;
}

/**
 * The answer to `/vpn-conns alerts`: each rule (name, channel, condition, endpoints) and what
 * it is firing for now. Alerts of rules no longer in the file are listed under their name.
 */
export function buildAlertsListMessage(input: {
  readonly rules: readonly AlertRule[];
  readonly firing: readonly FiringSummary[];
  readonly now: Date;
}): SlackMessage {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Alert rules' } },
  ];
  const total = input.firing.length;
  if (input.rules.length === 0) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: 'No alert rules: add an `alerts:` list to the YAML file named by `VPN_CONNS_CONFIG` (see the README).',
      },
    });
  } else {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${plural(input.rules.length, 'rule', 'rules')} · ${plural(total, 'alert', 'alerts')} firing now`,
      },
    });
  }
  const byRule = new Map<string, FiringSummary[]>();
  for (const f of input.firing) byRule.set(f.ruleName, [...(byRule.get(f.ruleName) ?? []), f]);
  for (const rule of input.rules.slice(0, MAX_LISTED_RULES)) {
    const endpoints =
      rule.endpoints === 'all'
        ? 'every endpoint'
        : rule.endpoints.map((a) => shown(a, MAX_ALIAS)).join(', ');
    // The channel id is checked by the rule schema (C…/G…), so it can be a channel mention.
    const head = `*${shown(rule.name)}* → <#${rule.channel}> · ${escapeMrkdwn(describeCondition(rule.condition))} · ${endpoints}`;
    const text = `${head}\n${firingText(byRule.get(rule.name) ?? [])}`;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(text, MAX_SECTION) } });
  }
  const notes: string[] = [];
  const hidden = input.rules.length - MAX_LISTED_RULES;
  if (hidden > 0) notes.push(`…and ${plural(hidden, 'more rule', 'more rules')}.`);
  const known = new Set(input.rules.map((r) => r.name));
  const orphans = input.firing.filter((f) => !known.has(f.ruleName)).length;
  if (orphans > 0) {
    notes.push(
      `${plural(orphans, 'alert', 'alerts')} of removed rules will clear at the next poll.`,
    );
  }
  notes.push(`As of ${dateToken(input.now)}`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: notes.join(' ') }] });
  const text = `Alert rules: ${plural(input.rules.length, 'rule', 'rules')}, ${plural(total, 'alert', 'alerts')} firing now`;
  const guarded = guardMessage({ text, blocks });
  return { text: guarded.text, blocks: guarded.blocks };
}
