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
   * that ended before `before` (and their marks), posts made before `before`,
   * audit entries older than `auditBefore`; returns rows deleted (marks included).
   */
  prune(before: Date, auditBefore: Date): Promise<number>;
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

/** One session per (endpointId, connectionId), the last occurrence winning, in first-seen order. */
export function latestPerSession(sessions: readonly EndedSession[]): EndedSession[] {
  const byKey = new Map<string, EndedSession>();
  for (const session of sessions) {
    byKey.set(JSON.stringify([session.endpointId, session.connectionId]), session);
  }
  return [...byKey.values()];
}
