/**
 * Alert evaluation, pure: the rules against one poll's connections give the set of alerts
 * firing now; {@link diffAlerts} against the set stored after the previous poll says what to
 * post and what to mark cleared. "Posted once per rule and subject until the condition clears
 * and comes back" is then a set difference the caller stores (with the leader lock that digests
 * use, so several instances post once).
 */
import { type Connection, displayName } from '../vpn/connection.js';
import type { AuthenticationType } from '../vpn/endpoint.js';
import {
  type AlertCondition,
  type AlertRule,
  SUBJECT_OF,
  type SubjectKind,
  watches,
} from './rules.js';

/** One endpoint as the collector saw it at this poll. */
export interface EndpointSnapshot {
  /** `cvpn-endpoint-…`: part of the key of an endpoint or session alert. */
  readonly id: string;
  readonly alias: string;
  /** Empty when unknown: the person is then the user name, else the certificate name. */
  readonly authenticationTypes: readonly AuthenticationType[];
  /** The YAML `maxConnections` (default 2,000), for `endpointUsagePercent`. */
  readonly maxConnections: number;
  /**
   * Every connection this poll read (any status), or `null` when the endpoint could not be
   * read: its alerts then neither fire nor clear until it is read again.
   */
  readonly connections: readonly Connection[] | null;
  /**
   * The last time the endpoint was seen with an active session before this poll, or when
   * watching began if it never was (start-up, or the history); `null` = unknown, and
   * `idleHours` stays quiet.
   */
  readonly lastActiveAt: Date | null;
}

/** What {@link evaluateAlerts} reads. */
export interface AlertInput {
  readonly rules: readonly AlertRule[];
  readonly endpoints: readonly EndpointSnapshot[];
  readonly now: Date;
  /**
   * `newUser`: has this person been seen on a session that started before `before` (the
   * earliest start among their active sessions)? Answered from the session history
   * (`jobs/alerts.ts`).
   */
  readonly isKnownPerson: (person: string, before: Date) => boolean;
}

/** A session an alert is about, with the alias of its endpoint. */
export interface AlertSession {
  readonly endpointAlias: string;
  readonly connection: Connection;
}

/** Who or what an alert is about. */
export interface AlertSubject {
  readonly kind: SubjectKind;
  /** In the key: `endpointId/connectionId`, the person, or the endpoint id. */
  readonly id: string;
  /** What a person reads: the user name (or certificate name), or the endpoint alias. */
  readonly name: string;
}

/** One alert that holds now. */
export interface FiringAlert {
  /** `rule/kind/subject`: stable across polls, restarts and instances; what the store keeps. */
  readonly key: string;
  readonly rule: AlertRule;
  readonly subject: AlertSubject;
  /** The sessions involved, all of this subject; none for endpoint alerts. */
  readonly sessions: readonly AlertSession[];
  /**
   * The figure that crossed the threshold: sessions of the person, hours of the session,
   * idle hours, or active sessions `of` the endpoint's `maxConnections`; `null` for yes/no
   * conditions.
   */
  readonly measure: { readonly value: number; readonly of?: number } | null;
  /** Endpoints the alert is about, by alias. */
  readonly endpointAliases: readonly string[];
}

/** What the store keeps of a posted alert, enough to edit it when it clears. */
export interface PostedAlert {
  readonly ruleName: string;
  /** `null` when the rule has since been removed from the file. */
  readonly condition: AlertCondition | null;
  readonly subject: { readonly kind: SubjectKind; readonly name: string };
  readonly firedAt: Date;
  /** For a session alert: its connection id, so the cleared message says which session. */
  readonly connectionId?: string;
}

/** A firing alert as `/vpn-conns alerts` lists it (from the store). */
export interface FiringSummary {
  readonly ruleName: string;
  readonly subject: { readonly kind: SubjectKind; readonly name: string };
  readonly since: Date;
}

/** What one poll found. */
export interface AlertEvaluation {
  /** Sorted by rule order, then key. */
  readonly firing: readonly FiringAlert[];
  /**
   * Keys (of the previous poll) whose condition cannot be decided now because an endpoint
   * they depend on could not be read; as a predicate so the caller's stored keys suffice.
   */
  readonly undecided: (key: string) => boolean;
}

/** What to do after a poll: post these, mark those cleared (edit their messages). */
export interface AlertChanges {
  readonly fire: readonly FiringAlert[];
  readonly clear: readonly string[];
}

const HOUR_MS = 3_600_000;

/** The key of an alert: the rule name has no `/`, so the subject id after it is unambiguous. */
export function alertKey(rule: string, kind: SubjectKind, id: string): string {
  return `${rule}/${kind}/${id}`;
}

/** Splits a key made by {@link alertKey}; `null` for anything else. */
export function parseAlertKey(key: string): { rule: string; kind: SubjectKind; id: string } | null {
  const match = /^([^/]+)\/(session|person|endpoint)\/(.+)$/s.exec(key);
  if (!match) return null;
  return { rule: match[1] as string, kind: match[2] as SubjectKind, id: match[3] as string };
}

/**
 * The person a connection belongs to: the user name on directory and federated endpoints, the
 * certificate's common name on certificate-only ones (AWS fills the common name for AD users
 * too, where it is the device's certificate, not the person). `null` when there is none.
 */
export function personOf(connection: Connection, endpoint: EndpointSnapshot): string | null {
  return personReader(endpoint)(connection);
}

/** {@link personOf} for one endpoint, decided once per endpoint rather than per connection. */
function personReader(endpoint: EndpointSnapshot): (c: Connection) => string | null {
  const types = endpoint.authenticationTypes;
  if (types.some((t) => t !== 'certificate-authentication')) return (c) => c.username;
  if (types.length > 0) return (c) => c.commonName;
  return (c) => c.username ?? c.commonName;
}

interface Watched {
  readonly endpoint: EndpointSnapshot;
  readonly connections: readonly Connection[];
  readonly active: readonly Connection[];
}

/**
 * The alerts firing at `input.now`. Linear in rules × connections; a rule only looks at the
 * endpoints it watches, and an endpoint that could not be read contributes nothing (its
 * alerts are `undecided`, neither fired nor cleared).
 */
export function evaluateAlerts(input: AlertInput): AlertEvaluation {
  const read: Watched[] = [];
  const unread = new Set<string>();
  for (const endpoint of input.endpoints) {
    if (endpoint.connections === null) {
      unread.add(endpoint.id);
      continue;
    }
    const active = endpoint.connections.filter((c) => c.status === 'active');
    read.push({ endpoint, connections: endpoint.connections, active });
  }

  // Person rules watching the same endpoints share one grouping of sessions by person.
  const groupings = new Map<string, ReadonlyMap<string, PersonSessions>>();
  const people = (watched: readonly Watched[]) => {
    const id = watched.map((w) => w.endpoint.id).join(' ');
    let grouped = groupings.get(id);
    if (!grouped) {
      grouped = groupByPerson(watched);
      groupings.set(id, grouped);
    }
    return grouped;
  };
  const firing: FiringAlert[] = [];
  // Person rules span endpoints: one unread endpoint leaves every person of the rule undecided.
  const undecidedRules = new Set<string>();
  for (const rule of input.rules) {
    const watched = read.filter((w) => watches(rule, w.endpoint.alias));
    if (input.endpoints.some((e) => unread.has(e.id) && watches(rule, e.alias))) {
      undecidedRules.add(rule.name);
    }
    const found = evaluateRule(rule, watched, input, people);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // A loop, not push(...found): a spread of 100,000+ alerts would overflow the stack.
    for (const alert of found) firing.push(alert);
  }

  const undecided = (key: string): boolean => {
    const parsed = parseAlertKey(key);
    if (parsed === null) return false;
    if (parsed.kind === 'person') return undecidedRules.has(parsed.rule);
    // Session ids are `endpointId/connectionId`; endpoint ids are the endpoint id.
    const endpointId = parsed.kind === 'session' ? parsed.id.split('/')[0] : parsed.id;
    return endpointId !== undefined && unread.has(endpointId);
  };
  return { firing, undecided };
}

function evaluateRule(
  rule: AlertRule,
  watched: readonly Watched[],
  input: AlertInput,
  people: (watched: readonly Watched[]) => ReadonlyMap<string, PersonSessions>,
) {
  const kind = SUBJECT_OF[rule.condition.kind];
  if (kind === 'session') return sessionAlerts(rule, watched, input.now);
  if (kind === 'endpoint') return endpointAlerts(rule, watched, input.now);
  return personAlerts(rule, people(watched), input);
}

/** Per-session conditions: too old, not posture compliant, failed to terminate. */
function sessionAlerts(rule: AlertRule, watched: readonly Watched[], now: Date): FiringAlert[] {
  const condition = rule.condition;
  const alerts: FiringAlert[] = [];
  const nowMs = now.getTime();
  for (const { endpoint, connections, active } of watched) {
    const pool = condition.kind === 'failedToTerminate' ? connections : active;
    const person = personReader(endpoint);
    for (const connection of pool) {
      const observed = sessionObserved(condition, connection, nowMs);
      if (observed === undefined) continue;
      const id = `${endpoint.id}/${connection.connectionId}`;
      const name = person(connection) ?? displayName(connection);
      alerts.push({
        key: alertKey(rule.name, 'session', id),
        rule,
        subject: { kind: 'session', id, name },
        sessions: [{ endpointAlias: endpoint.alias, connection }],
        measure: observed === null ? null : { value: observed },
        endpointAliases: [endpoint.alias],
      });
    }
  }
  return alerts;
}

/** The figure of a firing session condition (`null` when it has none), `undefined` when quiet. */
function sessionObserved(
  condition: AlertCondition,
  c: Connection,
  nowMs: number,
): number | null | undefined {
  switch (condition.kind) {
    case 'maxSessionHours': {
      if (c.establishedAt === null) return undefined;
      const hours = (nowMs - c.establishedAt.getTime()) / HOUR_MS;
      return hours > condition.hours ? hours : undefined;
    }
    case 'postureNonCompliant':
      // No statuses at all means no posture checks on this endpoint, not a failed one.
      return c.postureCompliance.some((s) => s !== 'compliant' && s.toLowerCase() !== 'compliant')
        ? null
        : undefined;
    case 'failedToTerminate':
      return c.status === 'failed-to-terminate' ? null : undefined;
    default:
      return undefined;
  }
}

/** Per-endpoint conditions: near the connection limit, idle. */
function endpointAlerts(rule: AlertRule, watched: readonly Watched[], now: Date): FiringAlert[] {
  const condition = rule.condition;
  const alerts: FiringAlert[] = [];
  for (const { endpoint, active } of watched) {
    let measure: FiringAlert['measure'] | undefined;
    if (condition.kind === 'endpointUsagePercent') {
      const percent = (active.length / endpoint.maxConnections) * 100;
      if (percent >= condition.percent) {
        measure = { value: active.length, of: endpoint.maxConnections };
      }
    } else if (condition.kind === 'idleHours' && active.length === 0) {
      const since = endpoint.lastActiveAt;
      const idle = since === null ? 0 : (now.getTime() - since.getTime()) / HOUR_MS;
      if (since !== null && idle >= condition.hours) measure = { value: idle };
    }
    if (measure === undefined) continue;
    alerts.push({
      key: alertKey(rule.name, 'endpoint', endpoint.id),
      rule,
      subject: { kind: 'endpoint', id: endpoint.id, name: endpoint.alias },
      sessions: [],
      measure,
      endpointAliases: [endpoint.alias],
    });
  }
  return alerts;
}

/**
 * One person's active sessions on the watched endpoints, in endpoint then AWS order. Parallel
 * arrays rather than one object per session: 10,000 sessions a poll would otherwise be 10,000
 * short-lived objects for the few people who fire.
 */
interface PersonSessions {
  readonly connections: Connection[];
  readonly aliases: string[];
}

function groupByPerson(watched: readonly Watched[]): Map<string, PersonSessions> {
  const byPerson = new Map<string, PersonSessions>();
  for (const { endpoint, active } of watched) {
    const personFor = personReader(endpoint);
    for (const connection of active) {
      const person = personFor(connection);
      if (person === null) continue;
      const group = byPerson.get(person);
      if (group) {
        group.connections.push(connection);
        group.aliases.push(endpoint.alias);
      } else {
        byPerson.set(person, { connections: [connection], aliases: [endpoint.alias] });
      }
    }
  }
  return byPerson;
}

/** Per-person conditions over every endpoint the rule watches: too many sessions, never seen. */
function personAlerts(
  rule: AlertRule,
  byPerson: ReadonlyMap<string, PersonSessions>,
  input: AlertInput,
) {
  const condition = rule.condition;
  const alerts: FiringAlert[] = [];
  for (const [person, group] of byPerson) {
    if (!personFires(condition, person, group.connections, input)) continue;
    alerts.push({
      key: alertKey(rule.name, 'person', person),
      rule,
      subject: { kind: 'person', id: person, name: person },
      sessions: group.connections.map((connection, i) => ({
        endpointAlias: group.aliases[i] ?? '',
        connection,
      })),
      measure: condition.kind === 'maxSessionsPerUser' ? { value: group.connections.length } : null,
      endpointAliases: [...new Set(group.aliases)],
    });
  }
  return alerts;
}

function personFires(
  condition: AlertCondition,
  person: string,
  connections: readonly Connection[],
  input: AlertInput,
): boolean {
  if (condition.kind === 'maxSessionsPerUser') return connections.length > condition.sessions;
  if (condition.kind !== 'newUser') return false;
  let earliest = input.now.getTime();
  for (const connection of connections) {
    const t = connection.establishedAt?.getTime();
    if (t !== undefined && t < earliest) earliest = t;
  }
  return !input.isKnownPerson(person, new Date(earliest));
}

/**
 * What changed since the previous poll: alerts firing now whose key was not firing before
 * (post them), and keys firing before that no longer hold (edit their messages to say so).
 * A key whose endpoint could not be read is neither: it is decided at the next good poll.
 * A key of a rule that no longer exists is cleared.
 */
export function diffAlerts(
  previousFiringKeys: ReadonlySet<string>,
  now: AlertEvaluation,
): AlertChanges {
  const current = new Set<string>();
  const fire: FiringAlert[] = [];
  for (const alert of now.firing) {
    current.add(alert.key);
    if (!previousFiringKeys.has(alert.key)) fire.push(alert);
  }
  const clear: string[] = [];
  for (const key of previousFiringKeys) {
    if (!current.has(key) && !now.undecided(key)) clear.push(key);
  }
  return { fire, clear };
}
