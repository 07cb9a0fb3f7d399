/**
 * Alert rules, checked after every collector round (leader only, in the collector's job). The
 * rules are evaluated purely (`alerts/evaluate.ts`) against what the round read; the store keeps
 * one record per rule and subject while its condition holds, so an alert is posted once until it
 * clears and comes back — across polls, restarts and instances (the leader lock the collector
 * runs under means one instance checks at a time).
 *
 * A record is written before its post, with a fresh id the message carries in its metadata, and
 * gets the message's `ts` once Slack confirms. A post Slack refused is forgotten at once (it is
 * tried again at the next poll); a post Slack did not answer keeps its record, and the next
 * check looks for the id in the channel's history: found, the `ts` is recorded; not found, the
 * record goes and the alert is posted again if it still holds. When a condition clears, the
 * message is edited to say so (a failed edit is logged, not retried) and the record deleted.
 */
import { randomUUID } from 'node:crypto';
import {
  diffAlerts,
  type EndpointSnapshot,
  evaluateAlerts,
  type FiringAlert,
  type FiringSummary,
  type PostedAlert,
  parseAlertKey,
  personOf,
} from '../alerts/evaluate.js';
import { type AlertRule, DEFAULT_MAX_CONNECTIONS, watches } from '../alerts/rules.js';
import type { CollectResult } from '../collector/collector.js';
import { describeError, SlackDeliveryError, UNANSWERED_DELIVERY } from '../errors.js';
import type { AppMetrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import type { FiringAlertRecord, StateStore } from '../store/types.js';
import type { Endpoint } from '../vpn/endpoint.js';

/** What an alert message needs besides the alert. */
export interface AlertPostContext {
  readonly now: Date;
  /** The endpoint's `SessionTimeoutHours` by alias (`null` = unknown), for "ends in 1h 20m". */
  readonly sessionTimeoutHours: (alias: string) => number | null;
}

/** Delivers alerts to their channels (the Slack adapter implements it). */
export interface AlertPoster {
  /**
   * Posts the alert's message to its rule's channel with `postId` in the metadata.
   * @returns the message's `ts`. @throws SlackDeliveryError
   */
  post(alert: FiringAlert, postId: string, context: AlertPostContext): Promise<{ ts: string }>;
  /** The message posted with `postId` in `channel` since `since`, or null. @throws SlackDeliveryError */
  findPosted(channel: string, postId: string, since: Date): Promise<{ ts: string } | null>;
  /** Edits a posted alert to say its condition no longer holds. @throws SlackDeliveryError */
  markCleared(channel: string, ts: string, alert: PostedAlert, clearedAt: Date): Promise<void>;
}

export interface AlertWatchDeps {
  readonly rules: readonly AlertRule[];
  /** The YAML `maxConnections` by endpoint alias; others have {@link DEFAULT_MAX_CONNECTIONS}. */
  readonly maxConnections?: Readonly<Record<string, number>>;
  readonly store: StateStore;
  readonly poster: AlertPoster;
  readonly logger: Logger;
  readonly now: () => Date;
  /**
   * The endpoints as DescribeClientVpnEndpoints gives them (the catalogue's `described`, cached),
   * read only when there is something to post: their `SessionTimeoutHours` gives each active
   * session's time left. Absent or failing: the alerts show no time left.
   */
  readonly described?: () => Promise<readonly Endpoint[]>;
  /** Alert posts and edits, and alerts firing per rule, for `/metrics`. */
  readonly metrics?: AppMetrics;
  /**
   * New alerts posted per check (default {@link MAX_POSTS_PER_CHECK}); the others wait for the
   * next poll, so a rule that matches hundreds of sessions at once does not flood the channel
   * faster than Slack's one message per second per channel.
   */
  readonly maxPostsPerCheck?: number;
}

/** What one check did. */
export interface AlertCheck {
  /** Alerts whose condition holds now. */
  readonly firing: number;
  readonly posted: number;
  readonly cleared: number;
  /** Posts Slack refused or did not answer (tried again at the next poll). */
  readonly failed: number;
  /** New alerts left for the next poll by `maxPostsPerCheck`. */
  readonly deferred: number;
}

export interface AlertWatch {
  readonly rules: readonly AlertRule[];
  /** Checks the rules against a collector round; never throws (a failure is logged). */
  check(round: CollectResult): Promise<AlertCheck>;
  /** The alerts firing now, from the store (any role, any instance). */
  firing(): Promise<FiringSummary[]>;
}

/** Default new alerts posted per check. */
export const MAX_POSTS_PER_CHECK = 20;

const NOTHING: AlertCheck = { firing: 0, posted: 0, cleared: 0, failed: 0, deferred: 0 };

/** Builds the check; nothing runs until `check()`. */
export function createAlertWatch(deps: AlertWatchDeps): AlertWatch {
  // People the history knew at an earlier check stay known: only newcomers are looked up.
  const knownPeople = new Set<string>();
  const warnedAliases = new Set<string>();
  return {
    rules: deps.rules,
    async check(round) {
      try {
        // No rules: nothing to do, unless alerts of rules since removed are still recorded.
        if (deps.rules.length === 0 && (await deps.store.firingAlerts()).length === 0) {
          return NOTHING;
        }
        warnUnknownAliases(deps, round, warnedAliases);
        return await checkRound(deps, round, knownPeople);
      } catch (error) {
        deps.logger.error(`alerts: checking the rules failed: ${describeError(error)}`);
        return NOTHING;
      }
    },
    async firing() {
      return (await deps.store.firingAlerts()).map((r) => ({
        ruleName: r.ruleName,
        subject: { kind: r.subjectKind, name: r.subjectName },
        since: r.firedAt,
      }));
    },
  };
}

/**
 * Logs, once per rule and alias, an alias a rule names that the round did not have (with
 * discovered endpoints the file cannot be checked at start-up): such a rule watches nothing there.
 */
function warnUnknownAliases(deps: AlertWatchDeps, round: CollectResult, warned: Set<string>): void {
  const known = new Set([
    ...round.polls.map((p) => p.endpoint.alias),
    ...round.failures.map((f) => f.endpoint.alias),
  ]);
  for (const rule of deps.rules) {
    if (rule.endpoints === 'all') continue;
    for (const alias of rule.endpoints) {
      const key = `${rule.name}/${alias}`;
      if (known.has(alias) || warned.has(key)) continue;
      warned.add(key);
      deps.logger.warn(
        `alerts: rule ${rule.name} watches endpoint ${alias}, which is not one of the endpoints read (${[...known].join(', ')}); it matches nothing there`,
      );
    }
  }
}

/** The round's endpoints as the rules read them; an endpoint that failed has no connections. */
async function snapshotsOf(
  deps: AlertWatchDeps,
  round: CollectResult,
): Promise<EndpointSnapshot[]> {
  const endpoints = [
    ...round.polls.map((p) => p.endpoint),
    ...round.failures.map((f) => f.endpoint),
  ];
  const activity = deps.rules.some((r) => r.condition.kind === 'idleHours')
    ? await deps.store.endpointActivity(endpoints.map((e) => e.id))
    : new Map();
  const read = new Map(round.polls.map((p) => [p.endpoint.id, p.connections]));
  return endpoints.map((endpoint) => {
    const seen = activity.get(endpoint.id);
    return {
      id: endpoint.id,
      alias: endpoint.alias,
      authenticationTypes: endpoint.authenticationTypes ?? [],
      maxConnections: deps.maxConnections?.[endpoint.alias] ?? DEFAULT_MAX_CONNECTIONS,
      connections: read.get(endpoint.id) ?? null,
      lastActiveAt: seen ? (seen.lastActiveAt ?? seen.firstSampleAt) : null,
    };
  });
}

/**
 * `newUser`: a person is known when the history holds a session of theirs that started before
 * their earliest session now, or one seen at the history's first poll (the people connected
 * when watching began are the baseline, not newcomers). A person the history does not hold at
 * all (not recorded yet) counts as known: no alert on a guess.
 */
async function personKnowledge(
  deps: AlertWatchDeps,
  snapshots: readonly EndpointSnapshot[],
  knownPeople: Set<string>,
): Promise<(person: string, before: Date) => boolean> {
  const rules = deps.rules.filter((r) => r.condition.kind === 'newUser');
  if (rules.length === 0) return () => true;
  const people = new Set<string>();
  for (const endpoint of snapshots) {
    if (!rules.some((rule) => watches(rule, endpoint.alias))) continue;
    for (const connection of endpoint.connections ?? []) {
      if (connection.status !== 'active') continue;
      const person = personOf(connection, endpoint);
      if (person !== null && !knownPeople.has(person)) people.add(person);
    }
  }
  if (people.size === 0) return () => true;
  const seen = await deps.store.peopleSeen([...people]);
  const historyStart = await deps.store.historyStartsAt();
  return (person, before) => {
    if (knownPeople.has(person)) return true;
    const history = seen.get(person);
    if (history === undefined) return true;
    const known =
      history.firstStartedAt < before ||
      (historyStart !== null && history.firstSeenAt <= historyStart);
    if (known) knownPeople.add(person);
    return known;
  };
}

/** Records whose post is unconfirmed, settled: found in the channel, or forgotten. */
async function settleUnconfirmed(
  deps: AlertWatchDeps,
  records: readonly FiringAlertRecord[],
): Promise<FiringAlertRecord[]> {
  const settled: FiringAlertRecord[] = [];
  for (const record of records) {
    if (record.ts !== null) {
      settled.push(record);
      continue;
    }
    let found: { ts: string } | null;
    try {
      found = await deps.poster.findPosted(record.channel, record.postId, record.firedAt);
    } catch (error) {
      if (error instanceof SlackDeliveryError && error.code === 'missing_scope') {
        deps.logger.warn(
          `alerts: cannot tell whether alert ${record.key} reached ${record.channel}: reading its history needs the channels:history scope (groups:history for a private channel); it is posted again`,
        );
        found = null;
      } else {
        // Slack still unreachable: keep the record, look again at the next poll.
        settled.push(record);
        continue;
      }
    }
    if (found === null) {
      await deps.store.clearFiringAlert(record.key);
      continue;
    }
    await deps.store.setAlertPosted(record.key, record.postId, found.ts);
    settled.push({ ...record, ts: found.ts });
  }
  return settled;
}

/** The connection id in a session alert's key (`rule/session/endpointId/connectionId`). */
function sessionOf(key: string): { connectionId?: string } {
  const parsed = parseAlertKey(key);
  if (parsed?.kind !== 'session') return {};
  const connectionId = parsed.id.split('/')[1];
  return connectionId ? { connectionId } : {};
}

/** Edits a cleared alert's message (if it was posted) and forgets it. */
async function clearAlert(
  deps: AlertWatchDeps,
  record: FiringAlertRecord,
  at: Date,
): Promise<void> {
  const rule = deps.rules.find((r) => r.name === record.ruleName);
  if (record.ts !== null) {
    const view: PostedAlert = {
      ruleName: record.ruleName,
      condition: rule?.condition ?? null,
      subject: { kind: record.subjectKind, name: record.subjectName },
      firedAt: record.firedAt,
      ...sessionOf(record.key),
    };
    try {
      await deps.poster.markCleared(record.channel, record.ts, view, at);
      deps.metrics?.recordAlertPost(record.ruleName, 'clear', 'ok');
    } catch (error) {
      deps.metrics?.recordAlertPost(record.ruleName, 'clear', 'error');
      deps.logger.warn(
        `alerts: ${record.key} cleared, but its message in ${record.channel} could not be edited to say so: ${describeError(error)}`,
      );
    }
  }
  await deps.store.clearFiringAlert(record.key);
  deps.logger.info(`alerts: ${record.key} cleared`);
}

/** Records, then posts one new alert; `posted`, or `failed` (tried again at the next poll). */
async function fireAlert(
  deps: AlertWatchDeps,
  alert: FiringAlert,
  context: AlertPostContext,
): Promise<'posted' | 'failed' | 'taken'> {
  const record: FiringAlertRecord = {
    key: alert.key,
    ruleName: alert.rule.name,
    subjectKind: alert.subject.kind,
    subjectName: alert.subject.name,
    channel: alert.rule.channel,
    firedAt: context.now,
    postId: randomUUID(),
    ts: null,
  };
  if (!(await deps.store.recordFiringAlert(record))) return 'taken';
  try {
    const { ts } = await deps.poster.post(alert, record.postId, context);
    await deps.store.setAlertPosted(record.key, record.postId, ts);
    deps.metrics?.recordAlertPost(alert.rule.name, 'fire', 'ok');
    deps.logger.info(`alerts: ${alert.key} posted to ${alert.rule.channel} (ts ${ts})`);
    return 'posted';
  } catch (error) {
    deps.metrics?.recordAlertPost(alert.rule.name, 'fire', 'error');
    const unanswered = error instanceof SlackDeliveryError && UNANSWERED_DELIVERY.has(error.code);
    // Refused: forget it so the next poll tries again. Unanswered: the next poll looks for it.
    if (!unanswered) await deps.store.clearFiringAlert(record.key);
    const reason =
      error instanceof SlackDeliveryError ? `${error.code}: ${error.hint}` : describeError(error);
    deps.logger.error(
      `alerts: rule ${alert.rule.name} could not post to ${alert.rule.channel}; tried again at the next poll. ${reason}`,
    );
    return 'failed';
  }
}

/** Each endpoint's `SessionTimeoutHours` by alias: described when there is something to post. */
async function sessionTimeouts(
  deps: AlertWatchDeps,
  round: CollectResult,
  needed: boolean,
): Promise<Map<string, number | null>> {
  const timeouts = new Map(
    round.polls.map((p) => [p.endpoint.alias, p.endpoint.sessionTimeoutHours ?? null]),
  );
  if (!needed || !deps.described) return timeouts;
  try {
    for (const e of await deps.described()) {
      if (e.sessionTimeoutHours != null) timeouts.set(e.alias, e.sessionTimeoutHours);
    }
  } catch (error) {
    deps.logger.debug(
      `alerts: endpoints not described, no time left shown: ${describeError(error)}`,
    );
  }
  return timeouts;
}

/** One check: evaluate, settle unconfirmed posts, clear what no longer holds, post what is new. */
async function checkRound(
  deps: AlertWatchDeps,
  round: CollectResult,
  knownPeople: Set<string>,
): Promise<AlertCheck> {
  const now = deps.now();
  const snapshots = await snapshotsOf(deps, round);
  const isKnownPerson = await personKnowledge(deps, snapshots, knownPeople);
  const evaluation = evaluateAlerts({
    rules: deps.rules,
    endpoints: snapshots,
    now,
    isKnownPerson,
  });
  const records = await settleUnconfirmed(deps, await deps.store.firingAlerts());
  const byKey = new Map(records.map((r) => [r.key, r]));
  const changes = diffAlerts(new Set(byKey.keys()), evaluation);

  for (const key of changes.clear) {
    const record = byKey.get(key);
    if (record) await clearAlert(deps, record, now);
  }
  const timeouts = await sessionTimeouts(deps, round, changes.fire.length > 0);
  const context: AlertPostContext = {
    now,
    sessionTimeoutHours: (alias) => timeouts.get(alias) ?? null,
  };
  const limit = deps.maxPostsPerCheck ?? MAX_POSTS_PER_CHECK;
  let posted = 0;
  let failed = 0;
  for (const alert of changes.fire.slice(0, limit)) {
    const outcome = await fireAlert(deps, alert, context);
    if (outcome === 'posted') posted += 1;
    else if (outcome === 'failed') failed += 1;
  }
  const deferred = Math.max(0, changes.fire.length - limit);
  if (deferred > 0) {
    deps.logger.warn(
      `alerts: ${changes.fire.length} new alerts; posted ${limit}, the other ${deferred} go out at the next polls`,
    );
  }
  const perRule = new Map(deps.rules.map((r) => [r.name, 0]));
  for (const alert of evaluation.firing) {
    perRule.set(alert.rule.name, (perRule.get(alert.rule.name) ?? 0) + 1);
  }
  for (const [rule, count] of perRule) deps.metrics?.setFiringAlerts(rule, count);
  return {
    firing: evaluation.firing.length,
    posted,
    cleared: changes.clear.length,
    failed,
    deferred,
  };
}
