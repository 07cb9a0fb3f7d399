/**
 * The state the digest and the audit trail keep between runs and across
 * instances: ended VPN sessions, what each digest has reported, polls, coverage
 * gaps, leadership and the audit log. One implementation (store.ts) over
 * SQLite and Postgres honours this contract, checked by one test suite run
 * against both databases.
 */

/** A VPN session that AWS showed as ended, as the collector recorded it. */
export interface EndedSession {
  endpointId: string;
  connectionId: string;
  username: string | null;
  commonName: string | null;
  clientIp: string | null;
  clientIpv6: string | null;
  status: 'terminated' | 'failed-to-terminate';
  establishedAt: Date | null;
  endedAt: Date;
  /** May exceed 2^32; exact up to 2^53. */
  ingressBytes: number | null;
  /** May exceed 2^32; exact up to 2^53. */
  egressBytes: number | null;
}

/** An interval in which sessions of an endpoint may have been missed (the collector was down). */
export interface CoverageGap {
  id: number;
  endpointId: string;
  from: Date;
  to: Date;
}

/** One Slack message a digest posted. A message is identified by `channel` and `ts`. */
export interface DigestPost {
  digestId: string;
  tickAt: Date;
  postedAt: Date;
  channel: string;
  ts: string;
  sessionCount: number;
}

/**
 * A digest post about to be made, recorded before the post and cleared once the post is recorded
 * with `markReported` (or known not to have reached Slack). A crash between Slack's `ok` and the
 * commit leaves it behind: the next tick looks for its `id` in the channel's history (the
 * message's metadata) and, if the post is there, records it instead of posting again.
 */
export interface DigestIntent {
  /** Unique; sent in the message's metadata. */
  id: string;
  digestId: string;
  tickAt: Date;
  channel: string;
  createdAt: Date;
  sessions: SessionKey[];
  gapIds: number[];
}

/** One command someone ran, for the audit trail. */
export interface AuditEntry {
  at: Date;
  teamId: string | null;
  userId: string;
  channelId: string | null;
  action: string;
  detail: string;
  endpoints: string[];
  outcome: string;
  requestIds: string[];
}

/** The identity of a recorded session. */
export interface SessionKey {
  endpointId: string;
  connectionId: string;
}

/** The statuses AWS gives a connection, as the history keeps them. */
export const HISTORY_STATUSES = [
  'active',
  'terminating',
  'terminated',
  'failed-to-terminate',
] as const;

export type HistoryStatus = (typeof HISTORY_STATUSES)[number];

/** A session as one poll saw it, for the history. */
export interface ObservedSession {
  endpointId: string;
  connectionId: string;
  username: string | null;
  commonName: string | null;
  clientIp: string | null;
  clientIpv6: string | null;
  status: HistoryStatus;
  postureCompliance: readonly string[];
  /** AWS's established time; `null` when AWS gave none (the poll's time is kept instead). */
  startedAt: Date | null;
  /** `null` while active. */
  endedAt: Date | null;
  ingressBytes: number | null;
  egressBytes: number | null;
  ingressPackets: number | null;
  egressPackets: number | null;
}

/** A session the history holds. */
export interface HistorySession extends Omit<ObservedSession, 'startedAt' | 'postureCompliance'> {
  startedAt: Date;
  postureCompliance: string[];
  /** The first and the last poll that saw it. */
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** The part of a recorded session a usage report reads. */
export type UsageSession = Pick<
  HistorySession,
  | 'endpointId'
  | 'connectionId'
  | 'username'
  | 'commonName'
  | 'startedAt'
  | 'endedAt'
  | 'ingressBytes'
  | 'egressBytes'
>;

/** What one poll of one endpoint gives the history. */
export interface HistoryPoll {
  endpointId: string;
  /** When the poll started. */
  at: Date;
  /** Every session AWS listed (active and ended), every page. */
  sessions: readonly ObservedSession[];
  /** Sessions AWS listed as active: the concurrency sample. */
  active: number;
}

/** What recording a poll changed. */
export interface HistoryWrite {
  /** Sessions seen for the first time. */
  added: number;
  /** Open sessions this poll no longer listed, closed at their last sighting. */
  closed: number;
}

/**
 * Which sessions of the history: those overlapping [from, to) — started
 * before `to`, and still active or ended at or after `from` — of these
 * endpoints (ids), optionally of one person (user name or common name, exact).
 * `at=` is the instant t as [t, t + 1 ms).
 */
export interface HistoryQuery {
  endpointIds: readonly string[] | 'all';
  from: Date;
  to: Date;
  person?: string;
}

/** The active count of one endpoint at one poll. */
export interface StoredSample {
  endpointId: string;
  at: Date;
  active: number;
}

/**
 * An alert whose condition holds, one per rule and subject: recorded before its message is
 * posted, deleted when the condition clears. A record without `ts` is a post whose outcome is
 * not known yet (Slack did not answer): the next poll looks for `postId` in the channel.
 */
export interface FiringAlertRecord {
  /** `rule/kind/subject`, see `alertKey`. */
  key: string;
  ruleName: string;
  subjectKind: 'session' | 'person' | 'endpoint';
  /** What a person reads: user name, common name or endpoint alias. */
  subjectName: string;
  channel: string;
  firedAt: Date;
  /** Unique; sent in the message's metadata. */
  postId: string;
  /** The posted message, `null` until Slack confirmed it. */
  ts: string | null;
}

/** An endpoint's activity as the history's samples show it. */
export interface EndpointActivity {
  /** The last sample with an active session; `null` if no sample had one. */
  lastActiveAt: Date | null;
  /** The first sample: when watching began. */
  firstSampleAt: Date;
}

/** What the history knows of a person. */
export interface PersonSeen {
  /** The earliest start of their sessions. */
  firstStartedAt: Date;
  /** The earliest poll that saw one of their sessions. */
  firstSeenAt: Date;
}

/**
 * The persistent state. Every method may reject with the driver's error when
 * the database is unavailable; none swallows errors. Times go in and come out
 * as `Date`s and are stored in UTC with millisecond precision.
 */
export interface StateStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Records each session once per (endpointId, connectionId); returns how many
   * were new. A session already recorded and not yet reported by any digest gets
   * its status, endedAt and byte counts updated (a session first seen as
   * failed-to-terminate that later shows as terminated); once a digest has
   * reported it, it is left as reported. Within one call the last occurrence
   * of a session wins.
   */
  recordSessions(sessions: readonly EndedSession[]): Promise<number>;
  /** Records a successful poll of an endpoint; returns the previous successful poll time (null the first time). */
  recordPoll(endpointId: string, at: Date): Promise<Date | null>;
  /** The last successful poll time of an endpoint, null if it was never polled. */
  lastPoll(endpointId: string): Promise<Date | null>;
  /** Records an interval in which sessions may have been missed (collector down > 60 min). */
  recordGap(endpointId: string, from: Date, to: Date): Promise<void>;
  /**
   * Sessions of these endpoints that ended strictly before `endedBefore` and at
   * or after `notBefore` (the digest's horizon), not yet reported by this
   * digest, oldest end first (ties by endpoint then connection id).
   */
  pendingSessions(
    digestId: string,
    endpointIds: readonly string[],
    endedBefore: Date,
    notBefore: Date,
  ): Promise<EndedSession[]>;
  /** How many sessions of these endpoints that ended at or after `notBefore` this digest has not reported. */
  countPending(digestId: string, endpointIds: readonly string[], notBefore: Date): Promise<number>;
  /** Gaps of these endpoints not yet reported by this digest, earliest first. */
  pendingGaps(digestId: string, endpointIds: readonly string[]): Promise<CoverageGap[]>;
  /**
   * In ONE transaction: record the post, mark these sessions and gaps reported
   * for this digest. Marking something already reported for this digest is a
   * no-op (never an error), and so is marking a session or gap the store does
   * not hold (pruned meanwhile); recording the same post (`channel`, `ts`)
   * twice keeps one. Returns how many sessions were newly marked. If anything
   * fails, nothing is recorded.
   */
  markReported(
    post: DigestPost,
    sessions: readonly SessionKey[],
    gapIds: readonly number[],
  ): Promise<number>;
  /** The post of this digest with the latest tick (then latest postedAt), null if it never posted. */
  lastPost(digestId: string): Promise<DigestPost | null>;
  /** Records a digest's intent to post (before posting); recording the same `id` again keeps one. */
  recordIntent(intent: DigestIntent): Promise<void>;
  /** This digest's intents not yet cleared, oldest first (by `createdAt`, then `id`). */
  pendingIntents(digestId: string): Promise<DigestIntent[]>;
  /** Forgets an intent (its post was recorded, or never made); unknown ids are a no-op. */
  clearIntent(id: string): Promise<void>;
  /**
   * Leadership for the collector/poster: true if this holder leads now. Call it
   * again before each unit of work; it renews. Another holder is refused while
   * the lead is held. SQLite: a lease that lapses `ttlMs` after the last
   * renewal. Postgres: a session advisory lock held on a dedicated connection,
   * so it lasts exactly as long as this process's connection (`ttlMs` unused).
   */
  tryLead(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives up the lead if this holder has it; otherwise does nothing. */
  releaseLead(name: string, holder: string): Promise<void>;
  /** Appends one entry to the audit trail. */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first, at most `limit` entries. */
  recentAudit(limit: number): Promise<AuditEntry[]>;
  /**
   * Deletes sessions (and their report marks) that ended before `before`, gaps
   * that ended before `before` (and their marks), posts made and intents recorded before
   * `before`, audit entries older than `auditBefore`; returns rows deleted (marks included).
   */
  prune(before: Date, auditBefore: Date): Promise<number>;
  /**
   * Records one poll of one endpoint in the history, in one transaction: each
   * session once per (endpointId, connectionId), its status, end, counters
   * and last sighting updated while it is open or when they change; open
   * sessions of the endpoint this poll did not list closed at their last
   * sighting (they ended while nobody looked); the concurrency sample.
   * Recording the same poll twice changes nothing more.
   */
  recordHistory(poll: HistoryPoll): Promise<HistoryWrite>;
  /**
   * The sessions a query selects, ordered by start (then endpoint, then
   * connection id), read a page at a time: iterate without holding them all.
   */
  historySessions(query: HistoryQuery): AsyncIterable<HistorySession>;
  /** Like `historySessions`, with only what a usage report reads: half the cost per row. */
  historyUsage(query: HistoryQuery): AsyncIterable<UsageSession>;
  /** Samples of these endpoints taken in [from, to), by time then endpoint. */
  concurrencySamples(
    endpointIds: readonly string[] | 'all',
    from: Date,
    to: Date,
  ): Promise<StoredSample[]>;
  /** The first sample: when the history begins; `null` before the first poll. */
  historyStartsAt(): Promise<Date | null>;
  /** Deletes sessions that ended, and samples taken, before `before`; returns rows deleted. */
  pruneHistory(before: Date): Promise<number>;
  /** Every alert firing now, oldest first (then by key). */
  firingAlerts(): Promise<FiringAlertRecord[]>;
  /** Records an alert before its post; false (and nothing changes) when the key is recorded already. */
  recordFiringAlert(record: FiringAlertRecord): Promise<boolean>;
  /** Records the `ts` of an alert's post, if the record still has this `postId`. */
  setAlertPosted(key: string, postId: string, ts: string): Promise<void>;
  /** Forgets an alert (cleared, or its post refused); unknown keys are a no-op. */
  clearFiringAlert(key: string): Promise<void>;
  /** Per endpoint (absent: no sample yet): its last active sample and its first sample. */
  endpointActivity(endpointIds: readonly string[]): Promise<Map<string, EndpointActivity>>;
  /** What the history knows of these people (user or common names); absent = never seen. */
  peopleSeen(people: readonly string[]): Promise<Map<string, PersonSeen>>;
  /** Closes connections; Postgres also gives up any lead. The store is unusable afterwards. */
  close(): Promise<void>;
}

/** The statuses a stored session may have, for validating what comes back from the database. */
export const SESSION_STATUSES = ['terminated', 'failed-to-terminate'] as const;

/** Reads a stored status back; throws on anything the schema should have refused. */
export function toSessionStatus(value: string): EndedSession['status'] {
  const status = SESSION_STATUSES.find((known) => known === value);
  if (status === undefined) throw new Error(`Unexpected session status in the store: ${value}`);
  return status;
}

/** Reads an intent's stored session keys and gap ids back (JSON in both stores). */
export function parseIntentLists(
  sessionsJson: string,
  gapIdsJson: string,
): { sessions: SessionKey[]; gapIds: number[] } {
  const sessions: unknown = JSON.parse(sessionsJson);
  const gapIds: unknown = JSON.parse(gapIdsJson);
  const isKey = (v: unknown): v is SessionKey =>
    typeof v === 'object' &&
    v !== null &&
    'endpointId' in v &&
    typeof v.endpointId === 'string' &&
    'connectionId' in v &&
    typeof v.connectionId === 'string';
  if (!Array.isArray(sessions) || !sessions.every(isKey)) {
    throw new Error('Unexpected intent sessions in the store');
  }
  if (!Array.isArray(gapIds) || !gapIds.every((g) => typeof g === 'number')) {
    throw new Error('Unexpected intent gap ids in the store');
  }
  return {
    sessions: sessions.map((k) => ({ endpointId: k.endpointId, connectionId: k.connectionId })),
    gapIds,
  };
}

/** One session per (endpointId, connectionId), the last occurrence winning, in first-seen order. */
export function latestPerSession(sessions: readonly EndedSession[]): EndedSession[] {
  const byKey = new Map<string, EndedSession>();
  for (const session of sessions) {
    byKey.set(JSON.stringify([session.endpointId, session.connectionId]), session);
  }
  return [...byKey.values()];
}

/** Reads a stored history status back; throws on anything else. */
export function toHistoryStatus(value: string): HistoryStatus {
  const status = HISTORY_STATUSES.find((known) => known === value);
  if (status === undefined) throw new Error(`Unexpected session status in the history: ${value}`);
  return status;
}
