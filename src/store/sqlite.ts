/**
 * The state store on SQLite (better-sqlite3): one file, WAL mode, for a single
 * instance or several processes on one machine. Calls are synchronous inside
 * and async outside, so both stores share one interface.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type AuditEntry,
  type CoverageGap,
  type DigestPost,
  type EndedSession,
  latestPerSession,
  type SessionKey,
  type StateStore,
  toSessionStatus,
} from './types.js';

export interface SqliteStoreOptions {
  /** The clock for lease expiry and bookkeeping columns; tests inject one. */
  now?: () => Date;
}

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered schema changes, applied in order at open and recorded in `schema_migrations`. Times are epoch milliseconds (UTC). */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'digest state',
    sql: `
      CREATE TABLE sessions (
        endpoint_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        username TEXT,
        common_name TEXT,
        client_ip TEXT,
        client_ipv6 TEXT,
        status TEXT NOT NULL CHECK (status IN ('terminated', 'failed-to-terminate')),
        established_at INTEGER,
        ended_at INTEGER NOT NULL,
        ingress_bytes INTEGER,
        egress_bytes INTEGER,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (endpoint_id, connection_id)
      ) STRICT;
      CREATE INDEX sessions_by_endpoint_end ON sessions (endpoint_id, ended_at);
      CREATE INDEX sessions_by_end ON sessions (ended_at);
      CREATE TABLE session_reports (
        digest_id TEXT NOT NULL,
        endpoint_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        reported_at INTEGER NOT NULL,
        PRIMARY KEY (digest_id, endpoint_id, connection_id),
        FOREIGN KEY (endpoint_id, connection_id)
          REFERENCES sessions (endpoint_id, connection_id) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX session_reports_by_session ON session_reports (endpoint_id, connection_id);
      CREATE TABLE polls (
        endpoint_id TEXT PRIMARY KEY,
        last_success_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE gaps (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint_id TEXT NOT NULL,
        from_at INTEGER NOT NULL,
        to_at INTEGER NOT NULL,
        recorded_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX gaps_by_endpoint ON gaps (endpoint_id);
      CREATE TABLE gap_reports (
        digest_id TEXT NOT NULL,
        gap_id INTEGER NOT NULL REFERENCES gaps (id) ON DELETE CASCADE,
        reported_at INTEGER NOT NULL,
        PRIMARY KEY (digest_id, gap_id)
      ) STRICT;
      CREATE INDEX gap_reports_by_gap ON gap_reports (gap_id);
      CREATE TABLE digest_posts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        digest_id TEXT NOT NULL,
        tick_at INTEGER NOT NULL,
        posted_at INTEGER NOT NULL,
        channel TEXT NOT NULL,
        ts TEXT NOT NULL,
        session_count INTEGER NOT NULL,
        UNIQUE (channel, ts)
      ) STRICT;
      CREATE INDEX digest_posts_by_digest ON digest_posts (digest_id, tick_at);
      CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'audit log',
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        team_id TEXT,
        user_id TEXT NOT NULL,
        channel_id TEXT,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        endpoints TEXT NOT NULL,
        outcome TEXT NOT NULL,
        request_ids TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_log_by_at ON audit_log (at);
    `,
  },
];

interface SessionRow {
  endpoint_id: string;
  connection_id: string;
  username: string | null;
  common_name: string | null;
  client_ip: string | null;
  client_ipv6: string | null;
  status: string;
  established_at: number | null;
  ended_at: number;
  ingress_bytes: number | null;
  egress_bytes: number | null;
}

interface SessionParams {
  endpointId: string;
  connectionId: string;
  username: string | null;
  commonName: string | null;
  clientIp: string | null;
  clientIpv6: string | null;
  status: string;
  establishedAt: number | null;
  endedAt: number;
  ingressBytes: number | null;
  egressBytes: number | null;
  recordedAt: number;
}

interface GapRow {
  id: number;
  endpoint_id: string;
  from_at: number;
  to_at: number;
}

interface PostRow {
  digest_id: string;
  tick_at: number;
  posted_at: number;
  channel: string;
  ts: string;
  session_count: number;
}

interface AuditRow {
  at: number;
  team_id: string | null;
  user_id: string;
  channel_id: string | null;
  action: string;
  detail: string;
  endpoints: string;
  outcome: string;
  request_ids: string;
}

/** Epoch milliseconds of a date; refuses an invalid `Date` rather than storing NULL. */
function toMs(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('Invalid Date given to the state store');
  return ms;
}

function toMsOrNull(date: Date | null): number | null {
  return date === null ? null : toMs(date);
}

function fromMsOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function parseStringArray(json: string): string[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error('Unexpected audit array in the store');
  }
  return value;
}

function toSession(row: SessionRow): EndedSession {
  return {
    endpointId: row.endpoint_id,
    connectionId: row.connection_id,
    username: row.username,
    commonName: row.common_name,
    clientIp: row.client_ip,
    clientIpv6: row.client_ipv6,
    status: toSessionStatus(row.status),
    establishedAt: fromMsOrNull(row.established_at),
    endedAt: new Date(row.ended_at),
    ingressBytes: row.ingress_bytes,
    egressBytes: row.egress_bytes,
  };
}

function toPost(row: PostRow): DigestPost {
  return {
    digestId: row.digest_id,
    tickAt: new Date(row.tick_at),
    postedAt: new Date(row.posted_at),
    channel: row.channel,
    ts: row.ts,
    sessionCount: row.session_count,
  };
}

function toAudit(row: AuditRow): AuditEntry {
  return {
    at: new Date(row.at),
    teamId: row.team_id,
    userId: row.user_id,
    channelId: row.channel_id,
    action: row.action,
    detail: row.detail,
    endpoints: parseStringArray(row.endpoints),
    outcome: row.outcome,
    requestIds: parseStringArray(row.request_ids),
  };
}

/**
 * Applies the migrations not yet recorded. The transaction is IMMEDIATE, so a
 * second process opening the same file at once waits (busy_timeout) and then
 * finds them applied.
 */
function migrate(db: Database.Database, now: () => Date): void {
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    ) STRICT`);
    const applied = new Set(
      db
        .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
        .all()
        .map((row) => row.version),
    );
    const record = db.prepare<[number, string, number]>(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    for (const migration of SQLITE_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, toMs(now()));
    }
  });
  run.immediate();
}

/**
 * Opens (creating if needed, with its parent directory) the SQLite state file
 * at `path` (`:memory:` for a throwaway one) and brings its schema up to date.
 */
export async function openSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Promise<StateStore> {
  const now = options.now ?? (() => new Date());
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db, now);
  } catch (error) {
    db.close();
    throw error;
  }
  return createSqliteStore(db, now);
}

function createSqliteStore(db: Database.Database, now: () => Date): StateStore {
  const insertSession = db.prepare<[SessionParams]>(`
    INSERT INTO sessions (endpoint_id, connection_id, username, common_name, client_ip,
      client_ipv6, status, established_at, ended_at, ingress_bytes, egress_bytes, recorded_at)
    VALUES (@endpointId, @connectionId, @username, @commonName, @clientIp,
      @clientIpv6, @status, @establishedAt, @endedAt, @ingressBytes, @egressBytes, @recordedAt)
    ON CONFLICT (endpoint_id, connection_id) DO NOTHING`);
  const updateUnreportedSession = db.prepare<[SessionParams]>(`
    UPDATE sessions
    SET status = @status, ended_at = @endedAt,
      ingress_bytes = @ingressBytes, egress_bytes = @egressBytes
    WHERE endpoint_id = @endpointId AND connection_id = @connectionId
      AND NOT EXISTS (
        SELECT 1 FROM session_reports r
        WHERE r.endpoint_id = sessions.endpoint_id AND r.connection_id = sessions.connection_id
      )`);
  const selectPoll = db.prepare<[string], { last_success_at: number }>(
    'SELECT last_success_at FROM polls WHERE endpoint_id = ?',
  );
  const upsertPoll = db.prepare<[string, number]>(`
    INSERT INTO polls (endpoint_id, last_success_at) VALUES (?, ?)
    ON CONFLICT (endpoint_id) DO UPDATE SET last_success_at = excluded.last_success_at`);
  const insertGap = db.prepare<[string, number, number, number]>(
    'INSERT INTO gaps (endpoint_id, from_at, to_at, recorded_at) VALUES (?, ?, ?, ?)',
  );
  const selectPending = db.prepare<
    [{ digestId: string; endpoints: string; endedBefore: number; notBefore: number }],
    SessionRow
  >(`
    SELECT s.* FROM sessions s
    WHERE s.endpoint_id IN (SELECT value FROM json_each(@endpoints))
      AND s.ended_at < @endedBefore AND s.ended_at >= @notBefore
      AND NOT EXISTS (
        SELECT 1 FROM session_reports r
        WHERE r.digest_id = @digestId
          AND r.endpoint_id = s.endpoint_id AND r.connection_id = s.connection_id
      )
    ORDER BY s.ended_at, s.endpoint_id, s.connection_id`);
  const selectPendingCount = db.prepare<
    [{ digestId: string; endpoints: string; notBefore: number }],
    { n: number }
  >(`
    SELECT count(*) AS n FROM sessions s
    WHERE s.endpoint_id IN (SELECT value FROM json_each(@endpoints))
      AND s.ended_at >= @notBefore
      AND NOT EXISTS (
        SELECT 1 FROM session_reports r
        WHERE r.digest_id = @digestId
          AND r.endpoint_id = s.endpoint_id AND r.connection_id = s.connection_id
      )`);
  const selectPendingGaps = db.prepare<[{ digestId: string; endpoints: string }], GapRow>(`
    SELECT g.id, g.endpoint_id, g.from_at, g.to_at FROM gaps g
    WHERE g.endpoint_id IN (SELECT value FROM json_each(@endpoints))
      AND NOT EXISTS (
        SELECT 1 FROM gap_reports r WHERE r.digest_id = @digestId AND r.gap_id = g.id
      )
    ORDER BY g.from_at, g.id`);
  // INSERT … SELECT: a session or gap the store no longer holds is skipped, not an error.
  const markSession = db.prepare<[string, number, string, string]>(`
    INSERT INTO session_reports (digest_id, endpoint_id, connection_id, reported_at)
    SELECT ?, endpoint_id, connection_id, ? FROM sessions
    WHERE endpoint_id = ? AND connection_id = ?
    ON CONFLICT DO NOTHING`);
  const markGap = db.prepare<[string, number, number]>(`
    INSERT INTO gap_reports (digest_id, gap_id, reported_at)
    SELECT ?, id, ? FROM gaps WHERE id = ?
    ON CONFLICT DO NOTHING`);
  const insertPost = db.prepare<[string, number, number, string, string, number]>(`
    INSERT INTO digest_posts (digest_id, tick_at, posted_at, channel, ts, session_count)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (channel, ts) DO NOTHING`);
  const selectLastPost = db.prepare<[string], PostRow>(`
    SELECT digest_id, tick_at, posted_at, channel, ts, session_count FROM digest_posts
    WHERE digest_id = ? ORDER BY tick_at DESC, posted_at DESC, id DESC LIMIT 1`);
  const acquireLease = db.prepare<
    [{ name: string; holder: string; expiresAt: number; now: number }]
  >(`
    INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @expiresAt)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE leases.holder = excluded.holder OR leases.expires_at <= @now`);
  const deleteLease = db.prepare<[string, string]>(
    'DELETE FROM leases WHERE name = ? AND holder = ?',
  );
  const insertAudit = db.prepare<
    [number, string | null, string, string | null, string, string, string, string, string]
  >(`
    INSERT INTO audit_log (at, team_id, user_id, channel_id, action, detail, endpoints,
      outcome, request_ids)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const selectAudit = db.prepare<[number], AuditRow>(`
    SELECT at, team_id, user_id, channel_id, action, detail, endpoints, outcome, request_ids
    FROM audit_log ORDER BY at DESC, id DESC LIMIT ?`);
  const pruneStatements = [
    db.prepare<{ before: number; auditBefore: number }>(`
      DELETE FROM session_reports WHERE (endpoint_id, connection_id) IN (
        SELECT endpoint_id, connection_id FROM sessions WHERE ended_at < @before)`),
    db.prepare<{ before: number; auditBefore: number }>(
      'DELETE FROM sessions WHERE ended_at < @before',
    ),
    db.prepare<{ before: number; auditBefore: number }>(
      'DELETE FROM gap_reports WHERE gap_id IN (SELECT id FROM gaps WHERE to_at < @before)',
    ),
    db.prepare<{ before: number; auditBefore: number }>('DELETE FROM gaps WHERE to_at < @before'),
    db.prepare<{ before: number; auditBefore: number }>(
      'DELETE FROM digest_posts WHERE posted_at < @before',
    ),
    db.prepare<{ before: number; auditBefore: number }>(
      'DELETE FROM audit_log WHERE at < @auditBefore',
    ),
  ];

  const recordSessionsTx = db.transaction((sessions: readonly EndedSession[]): number => {
    const recordedAt = toMs(now());
    let added = 0;
    for (const session of latestPerSession(sessions)) {
      const params: SessionParams = {
        endpointId: session.endpointId,
        connectionId: session.connectionId,
        username: session.username,
        commonName: session.commonName,
        clientIp: session.clientIp,
        clientIpv6: session.clientIpv6,
        status: session.status,
        establishedAt: toMsOrNull(session.establishedAt),
        endedAt: toMs(session.endedAt),
        ingressBytes: session.ingressBytes,
        egressBytes: session.egressBytes,
        recordedAt,
      };
      if (insertSession.run(params).changes > 0) added += 1;
      else updateUnreportedSession.run(params);
    }
    return added;
  });

  const recordPollTx = db.transaction((endpointId: string, at: number): Date | null => {
    const previous = selectPoll.get(endpointId);
    upsertPoll.run(endpointId, at);
    return previous === undefined ? null : new Date(previous.last_success_at);
  });

  const markReportedTx = db.transaction(
    (post: DigestPost, sessions: readonly SessionKey[], gapIds: readonly number[]): number => {
      const reportedAt = toMs(now());
      let marked = 0;
      for (const session of sessions) {
        const result = markSession.run(
          post.digestId,
          reportedAt,
          session.endpointId,
          session.connectionId,
        );
        marked += result.changes;
      }
      for (const gapId of gapIds) markGap.run(post.digestId, reportedAt, gapId);
      insertPost.run(
        post.digestId,
        toMs(post.tickAt),
        toMs(post.postedAt),
        post.channel,
        post.ts,
        post.sessionCount,
      );
      return marked;
    },
  );

  const pruneTx = db.transaction((before: number, auditBefore: number): number =>
    pruneStatements.reduce(
      (deleted, statement) => deleted + statement.run({ before, auditBefore }).changes,
      0,
    ),
  );

  return {
    kind: 'sqlite',
    async recordSessions(sessions) {
      return recordSessionsTx.immediate(sessions);
    },
    async recordPoll(endpointId, at) {
      return recordPollTx.immediate(endpointId, toMs(at));
    },
    async lastPoll(endpointId) {
      const row = selectPoll.get(endpointId);
      return row === undefined ? null : new Date(row.last_success_at);
    },
    async recordGap(endpointId, from, to) {
      insertGap.run(endpointId, toMs(from), toMs(to), toMs(now()));
    },
    async pendingSessions(digestId, endpointIds, endedBefore, notBefore) {
      return selectPending
        .all({
          digestId,
          endpoints: JSON.stringify(endpointIds),
          endedBefore: toMs(endedBefore),
          notBefore: toMs(notBefore),
        })
        .map(toSession);
    },
    async countPending(digestId, endpointIds, notBefore) {
      const row = selectPendingCount.get({
        digestId,
        endpoints: JSON.stringify(endpointIds),
        notBefore: toMs(notBefore),
      });
      return row?.n ?? 0;
    },
    async pendingGaps(digestId, endpointIds): Promise<CoverageGap[]> {
      return selectPendingGaps
        .all({ digestId, endpoints: JSON.stringify(endpointIds) })
        .map((row) => ({
          id: row.id,
          endpointId: row.endpoint_id,
          from: new Date(row.from_at),
          to: new Date(row.to_at),
        }));
    },
    async markReported(post, sessions, gapIds) {
      return markReportedTx.immediate(post, sessions, gapIds);
    },
    async lastPost(digestId) {
      const row = selectLastPost.get(digestId);
      return row === undefined ? null : toPost(row);
    },
    async tryLead(name, holder, ttlMs) {
      const at = toMs(now());
      return acquireLease.run({ name, holder, expiresAt: at + ttlMs, now: at }).changes > 0;
    },
    async releaseLead(name, holder) {
      deleteLease.run(name, holder);
    },
    async appendAudit(entry) {
      insertAudit.run(
        toMs(entry.at),
        entry.teamId,
        entry.userId,
        entry.channelId,
        entry.action,
        entry.detail,
        JSON.stringify(entry.endpoints),
        entry.outcome,
        JSON.stringify(entry.requestIds),
      );
    },
    async recentAudit(limit) {
      return selectAudit.all(Math.max(0, Math.floor(limit))).map(toAudit);
    },
    async prune(before, auditBefore) {
      return pruneTx.immediate(toMs(before), toMs(auditBefore));
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
