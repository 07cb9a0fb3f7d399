/**
 * The state store on Postgres (pg): for several instances sharing one
 * database, one of which leads (collects and posts) at a time.
 */

import type { ClientConfig, PoolClient } from 'pg';
import pg from 'pg';
import { ConfigError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  type AuditEntry,
  type CoverageGap,
  type DigestPost,
  type EndedSession,
  latestPerSession,
  type StateStore,
  toSessionStatus,
} from './types.js';

export interface PostgresStoreOptions {
  /** The clock for bookkeeping columns (recorded, reported, applied); tests inject one. */
  now?: () => Date;
  /** The schema holding the tables, created if missing; `public` by default. Tests use one each. */
  schema?: string;
  /** Connections in the pool (the leadership connection comes on top); 5 by default. */
  poolSize?: number;
  /** Where connection errors that happen between calls are reported; nothing by default. */
  logger?: Pick<Logger, 'warn'>;
}

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered schema changes, applied in order at open and recorded in `schema_migrations`. */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'digest state',
    sql: `
      CREATE TABLE sessions (
        endpoint_id text NOT NULL,
        connection_id text NOT NULL,
        username text,
        common_name text,
        client_ip text,
        client_ipv6 text,
        status text NOT NULL CHECK (status IN ('terminated', 'failed-to-terminate')),
        established_at timestamptz,
        ended_at timestamptz NOT NULL,
        ingress_bytes bigint,
        egress_bytes bigint,
        recorded_at timestamptz NOT NULL,
        PRIMARY KEY (endpoint_id, connection_id)
      );
      CREATE INDEX sessions_by_endpoint_end ON sessions (endpoint_id, ended_at);
      CREATE INDEX sessions_by_end ON sessions (ended_at);
      CREATE TABLE session_reports (
        digest_id text NOT NULL,
        endpoint_id text NOT NULL,
        connection_id text NOT NULL,
        reported_at timestamptz NOT NULL,
        PRIMARY KEY (digest_id, endpoint_id, connection_id),
        FOREIGN KEY (endpoint_id, connection_id)
          REFERENCES sessions (endpoint_id, connection_id) ON DELETE CASCADE
      );
      CREATE INDEX session_reports_by_session ON session_reports (endpoint_id, connection_id);
      CREATE TABLE polls (
        endpoint_id text PRIMARY KEY,
        last_success_at timestamptz NOT NULL
      );
      CREATE TABLE gaps (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        endpoint_id text NOT NULL,
        from_at timestamptz NOT NULL,
        to_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL
      );
      CREATE INDEX gaps_by_endpoint ON gaps (endpoint_id);
      CREATE TABLE gap_reports (
        digest_id text NOT NULL,
        gap_id bigint NOT NULL REFERENCES gaps (id) ON DELETE CASCADE,
        reported_at timestamptz NOT NULL,
        PRIMARY KEY (digest_id, gap_id)
      );
      CREATE INDEX gap_reports_by_gap ON gap_reports (gap_id);
      CREATE TABLE digest_posts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        digest_id text NOT NULL,
        tick_at timestamptz NOT NULL,
        posted_at timestamptz NOT NULL,
        channel text NOT NULL,
        ts text NOT NULL,
        session_count integer NOT NULL,
        UNIQUE (channel, ts)
      );
      CREATE INDEX digest_posts_by_digest ON digest_posts (digest_id, tick_at);
    `,
  },
  {
    version: 2,
    name: 'audit log',
    sql: `
      CREATE TABLE audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL,
        team_id text,
        user_id text NOT NULL,
        channel_id text,
        action text NOT NULL,
        detail text NOT NULL,
        endpoints text[] NOT NULL,
        outcome text NOT NULL,
        request_ids text[] NOT NULL
      );
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
  established_at: Date | null;
  ended_at: Date;
  // pg returns bigint as a string so no precision is lost silently.
  ingress_bytes: string | null;
  egress_bytes: string | null;
}

interface GapRow {
  id: string;
  endpoint_id: string;
  from_at: Date;
  to_at: Date;
}

interface PostRow {
  digest_id: string;
  tick_at: Date;
  posted_at: Date;
  channel: string;
  ts: string;
  session_count: number;
}

interface AuditRow {
  at: Date;
  team_id: string | null;
  user_id: string;
  channel_id: string | null;
  action: string;
  detail: string;
  endpoints: string[];
  outcome: string;
  request_ids: string[];
}

const SESSION_COLUMNS = `endpoint_id, connection_id, username, common_name, client_ip,
  client_ipv6, status, established_at, ended_at, ingress_bytes, egress_bytes`;

/** A date as an ISO string for a `timestamptz` parameter; refuses an invalid `Date`. */
function iso(date: Date): string {
  if (!Number.isFinite(date.getTime()))
    throw new RangeError('Invalid Date given to the state store');
  return date.toISOString();
}

function isoOrNull(date: Date | null): string | null {
  return date === null ? null : iso(date);
}

function numberOrNull(value: string | null): number | null {
  return value === null ? null : Number(value);
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
    establishedAt: row.established_at,
    endedAt: row.ended_at,
    ingressBytes: numberOrNull(row.ingress_bytes),
    egressBytes: numberOrNull(row.egress_bytes),
  };
}

function toPost(row: PostRow): DigestPost {
  return {
    digestId: row.digest_id,
    tickAt: row.tick_at,
    postedAt: row.posted_at,
    channel: row.channel,
    ts: row.ts,
    sessionCount: row.session_count,
  };
}

function toAudit(row: AuditRow): AuditEntry {
  return {
    at: row.at,
    teamId: row.team_id,
    userId: row.user_id,
    channelId: row.channel_id,
    action: row.action,
    detail: row.detail,
    endpoints: row.endpoints,
    outcome: row.outcome,
    requestIds: row.request_ids,
  };
}

/**
 * The pg connection settings for a `postgres://` URL. Heroku-style URLs carry
 * `sslmode=require` (or `no-verify`) for servers whose certificate does not
 * verify; pg would now read that as verify-full, so it is stripped and TLS is
 * used without verification, as libpq does for `require`.
 */
export function postgresConnectionConfig(url: string): ClientConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never the URL itself in the message: it holds the password.
    throw new ConfigError(['DATABASE_URL: not a valid postgres:// URL']);
  }
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode === 'require' || sslmode === 'no-verify') {
    parsed.searchParams.delete('sslmode');
    return { connectionString: parsed.toString(), ssl: { rejectUnauthorized: false } };
  }
  return { connectionString: url };
}

/** Runs `work` in a transaction on one pooled connection; a connection that cannot roll back is discarded. */
async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Applies the migrations not yet recorded, under a transaction-level advisory
 * lock so that instances starting together migrate one after the other.
 */
async function migrate(pool: pg.Pool, schema: string, now: () => Date): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `vpn-conns:migrate:${schema}`,
    ]);
    // Identifiers cannot be parameters; escapeIdentifier quotes the schema name safely.
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL
    )`);
    const { rows } = await client.query<{ version: number }>(
      'SELECT version FROM schema_migrations',
    );
    const applied = new Set(rows.map((row) => row.version));
    for (const migration of POSTGRES_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
        [migration.version, migration.name, iso(now())],
      );
    }
  });
}

/**
 * Connects to the Postgres database at `url` (`postgres://` or
 * `postgresql://`, Heroku's `?sslmode=require` understood) and brings the
 * schema up to date. Rejects if the database cannot be reached.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<StateStore> {
  const now = options.now ?? (() => new Date());
  const schema = options.schema ?? 'public';
  if (schema === '') throw new ConfigError(['Postgres schema: must not be empty']);
  const logger = options.logger;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(['Postgres schema: letters, digits and "_" only']);
  }
  const connection: ClientConfig = {
    ...postgresConnectionConfig(url),
    connectionTimeoutMillis: 10_000,
    application_name: 'vpn-conns',
    // Set at connection start-up, so no query can run before it.
    options: `-c search_path=${schema}`,
  };
  const pool = new pg.Pool({ ...connection, max: options.poolSize ?? 5 });
  // An idle pooled connection that drops is replaced by the pool; without a listener it would crash the process.
  pool.on('error', (error) => logger?.warn(`state store connection lost: ${describeError(error)}`));
  try {
    await migrate(pool, schema, now);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return createPostgresStore(pool, connection, now, logger);
}

interface LeaderConnection {
  client: pg.Client;
  ready: Promise<void>;
}

function createPostgresStore(
  pool: pg.Pool,
  connection: ClientConfig,
  now: () => Date,
  logger: Pick<Logger, 'warn'> | undefined,
): StateStore {
  let closed = false;
  let leader: LeaderConnection | null = null;
  // Leads this instance holds: name → holder. Valid only while `leader` is the same connection.
  const held = new Map<string, string>();
  // Leadership calls run one at a time: advisory locks are re-entrant, so two
  // overlapping acquisitions would need two unlocks.
  let leadership: Promise<unknown> = Promise.resolve();

  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = leadership.then(work, work);
    leadership = run.catch(() => undefined);
    return run;
  };

  const forgetLeader = (client: pg.Client): void => {
    if (leader?.client !== client) return;
    leader = null;
    held.clear();
  };

  const leaderConnection = async (): Promise<pg.Client> => {
    if (closed) throw new Error('The state store is closed');
    let current = leader;
    if (current === null) {
      const client = new pg.Client({ ...connection, application_name: 'vpn-conns leader' });
      client.on('error', (error) => {
        logger?.warn(`state store leadership connection lost: ${describeError(error)}`);
        forgetLeader(client);
      });
      client.on('end', () => forgetLeader(client));
      const ready = client.connect().then(
        () => undefined,
        (error: unknown) => {
          forgetLeader(client);
          throw error;
        },
      );
      current = { client, ready };
      leader = current;
    }
    await current.ready;
    return current.client;
  };

  // The connection is in doubt: end it, so that whatever it held is released by the server.
  const abandonLeader = (client: pg.Client): void => {
    forgetLeader(client);
    client.end().catch(() => undefined);
  };

  const lockKey = (name: string): string => `vpn-conns:${name}`;

  return {
    kind: 'postgres',

    async recordSessions(sessions) {
      const unique = latestPerSession(sessions);
      if (unique.length === 0) return 0;
      const column = <T>(pick: (session: EndedSession) => T): T[] => unique.map(pick);
      // One statement: the UPDATE sees the table as it was before the INSERT, so
      // it touches only sessions recorded earlier, and only those no digest reported.
      const { rows } = await pool.query<{ added: string }>(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
             $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[], $10::bigint[],
             $11::bigint[]) AS t(${SESSION_COLUMNS})
         ),
         inserted AS (
           INSERT INTO sessions (${SESSION_COLUMNS}, recorded_at)
           SELECT *, $12::timestamptz FROM input
           ON CONFLICT (endpoint_id, connection_id) DO NOTHING
           RETURNING 1
         ),
         updated AS (
           UPDATE sessions s
           SET status = i.status, ended_at = i.ended_at,
             ingress_bytes = i.ingress_bytes, egress_bytes = i.egress_bytes
           FROM input i
           WHERE s.endpoint_id = i.endpoint_id AND s.connection_id = i.connection_id
             AND (s.status, s.ended_at, s.ingress_bytes, s.egress_bytes)
               IS DISTINCT FROM (i.status, i.ended_at, i.ingress_bytes, i.egress_bytes)
             AND NOT EXISTS (
               SELECT 1 FROM session_reports r
               WHERE r.endpoint_id = s.endpoint_id AND r.connection_id = s.connection_id
             )
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM inserted) AS added`,
        [
          column((s) => s.endpointId),
          column((s) => s.connectionId),
          column((s) => s.username),
          column((s) => s.commonName),
          column((s) => s.clientIp),
          column((s) => s.clientIpv6),
          column((s) => s.status),
          column((s) => isoOrNull(s.establishedAt)),
          column((s) => iso(s.endedAt)),
          column((s) => s.ingressBytes),
          column((s) => s.egressBytes),
          iso(now()),
        ],
      );
      return Number(rows[0]?.added ?? 0);
    },

    async recordPoll(endpointId, at) {
      const { rows } = await pool.query<{ last_success_at: Date }>(
        `WITH previous AS (
           SELECT last_success_at FROM polls WHERE endpoint_id = $1
         ),
         upserted AS (
           INSERT INTO polls (endpoint_id, last_success_at) VALUES ($1, $2)
           ON CONFLICT (endpoint_id) DO UPDATE SET last_success_at = excluded.last_success_at
         )
         SELECT last_success_at FROM previous`,
        [endpointId, iso(at)],
      );
      return rows[0]?.last_success_at ?? null;
    },

    async lastPoll(endpointId) {
      const { rows } = await pool.query<{ last_success_at: Date }>(
        'SELECT last_success_at FROM polls WHERE endpoint_id = $1',
        [endpointId],
      );
      return rows[0]?.last_success_at ?? null;
    },

    async recordGap(endpointId, from, to) {
      await pool.query(
        'INSERT INTO gaps (endpoint_id, from_at, to_at, recorded_at) VALUES ($1, $2, $3, $4)',
        [endpointId, iso(from), iso(to), iso(now())],
      );
    },

    async pendingSessions(digestId, endpointIds, endedBefore, notBefore) {
      const { rows } = await pool.query<SessionRow>(
        `SELECT ${SESSION_COLUMNS} FROM sessions s
         WHERE s.endpoint_id = ANY($2::text[])
           AND s.ended_at < $3 AND s.ended_at >= $4
           AND NOT EXISTS (
             SELECT 1 FROM session_reports r
             WHERE r.digest_id = $1
               AND r.endpoint_id = s.endpoint_id AND r.connection_id = s.connection_id
           )
         ORDER BY s.ended_at, s.endpoint_id, s.connection_id`,
        [digestId, [...endpointIds], iso(endedBefore), iso(notBefore)],
      );
      return rows.map(toSession);
    },

    async countPending(digestId, endpointIds, notBefore) {
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM sessions s
         WHERE s.endpoint_id = ANY($2::text[])
           AND s.ended_at >= $3
           AND NOT EXISTS (
             SELECT 1 FROM session_reports r
             WHERE r.digest_id = $1
               AND r.endpoint_id = s.endpoint_id AND r.connection_id = s.connection_id
           )`,
        [digestId, [...endpointIds], iso(notBefore)],
      );
      return Number(rows[0]?.n ?? 0);
    },

    async pendingGaps(digestId, endpointIds): Promise<CoverageGap[]> {
      const { rows } = await pool.query<GapRow>(
        `SELECT g.id, g.endpoint_id, g.from_at, g.to_at FROM gaps g
         WHERE g.endpoint_id = ANY($2::text[])
           AND NOT EXISTS (
             SELECT 1 FROM gap_reports r WHERE r.digest_id = $1 AND r.gap_id = g.id
           )
         ORDER BY g.from_at, g.id`,
        [digestId, [...endpointIds]],
      );
      return rows.map((row) => ({
        id: Number(row.id),
        endpointId: row.endpoint_id,
        from: row.from_at,
        to: row.to_at,
      }));
    },

    async markReported(post, sessions, gapIds) {
      const reportedAt = iso(now());
      return inTransaction(pool, async (client) => {
        // INSERT … SELECT: a session or gap the store no longer holds is skipped, not an error.
        const marked = await client.query(
          `INSERT INTO session_reports (digest_id, endpoint_id, connection_id, reported_at)
           SELECT DISTINCT $1, s.endpoint_id, s.connection_id, $4::timestamptz
           FROM unnest($2::text[], $3::text[]) AS k(endpoint_id, connection_id)
           JOIN sessions s USING (endpoint_id, connection_id)
           ON CONFLICT DO NOTHING`,
          [
            post.digestId,
            sessions.map((s) => s.endpointId),
            sessions.map((s) => s.connectionId),
            reportedAt,
          ],
        );
        await client.query(
          `INSERT INTO gap_reports (digest_id, gap_id, reported_at)
           SELECT $1, g.id, $3 FROM gaps g WHERE g.id = ANY($2::bigint[])
           ON CONFLICT DO NOTHING`,
          [post.digestId, [...gapIds], reportedAt],
        );
        await client.query(
          `INSERT INTO digest_posts (digest_id, tick_at, posted_at, channel, ts, session_count)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (channel, ts) DO NOTHING`,
          [
            post.digestId,
            iso(post.tickAt),
            iso(post.postedAt),
            post.channel,
            post.ts,
            post.sessionCount,
          ],
        );
        return marked.rowCount ?? 0;
      });
    },

    async lastPost(digestId) {
      const { rows } = await pool.query<PostRow>(
        `SELECT digest_id, tick_at, posted_at, channel, ts, session_count FROM digest_posts
         WHERE digest_id = $1 ORDER BY tick_at DESC, posted_at DESC, id DESC LIMIT 1`,
        [digestId],
      );
      const row = rows[0];
      return row === undefined ? null : toPost(row);
    },

    // ttlMs is unused: the lock lasts as long as the leadership connection, and
    // the server releases it when that connection closes (process death included).
    tryLead(name, holder) {
      return serially(async () => {
        const current = held.get(name);
        if (current !== undefined && current !== holder) return false;
        const client = await leaderConnection();
        try {
          if (current === holder) {
            // Still ours as long as the connection lives; prove that it does.
            await client.query('SELECT 1');
            return held.get(name) === holder;
          }
          const { rows } = await client.query<{ locked: boolean }>(
            'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
            [lockKey(name)],
          );
          const locked = rows[0]?.locked === true;
          if (locked) held.set(name, holder);
          return locked;
        } catch (error) {
          abandonLeader(client);
          throw error;
        }
      });
    },

    releaseLead(name, holder) {
      return serially(async () => {
        if (held.get(name) !== holder || leader === null) return;
        const { client } = leader;
        held.delete(name);
        try {
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey(name)]);
        } catch (error) {
          abandonLeader(client);
          throw error;
        }
      });
    },

    async appendAudit(entry) {
      await pool.query(
        `INSERT INTO audit_log (at, team_id, user_id, channel_id, action, detail, endpoints,
           outcome, request_ids)
         VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8, $9::text[])`,
        [
          iso(entry.at),
          entry.teamId,
          entry.userId,
          entry.channelId,
          entry.action,
          entry.detail,
          entry.endpoints,
          entry.outcome,
          entry.requestIds,
        ],
      );
    },

    async recentAudit(limit) {
      const { rows } = await pool.query<AuditRow>(
        `SELECT at, team_id, user_id, channel_id, action, detail, endpoints, outcome, request_ids
         FROM audit_log ORDER BY at DESC, id DESC LIMIT $1`,
        [Math.max(0, Math.floor(limit))],
      );
      return rows.map(toAudit);
    },

    async prune(before, auditBefore) {
      const cutoff = iso(before);
      const auditCutoff = iso(auditBefore);
      return inTransaction(pool, async (client) => {
        const statements: [string, string][] = [
          [
            `DELETE FROM session_reports r USING sessions s
             WHERE r.endpoint_id = s.endpoint_id AND r.connection_id = s.connection_id
               AND s.ended_at < $1`,
            cutoff,
          ],
          ['DELETE FROM sessions WHERE ended_at < $1', cutoff],
          [
            'DELETE FROM gap_reports WHERE gap_id IN (SELECT id FROM gaps WHERE to_at < $1)',
            cutoff,
          ],
          ['DELETE FROM gaps WHERE to_at < $1', cutoff],
          ['DELETE FROM digest_posts WHERE posted_at < $1', cutoff],
          ['DELETE FROM audit_log WHERE at < $1', auditCutoff],
        ];
        let deleted = 0;
        for (const [sql, at] of statements) {
          const result = await client.query(sql, [at]);
          deleted += result.rowCount ?? 0;
        }
        return deleted;
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      try {
        await serially(async () => {
          const current = leader;
          if (current === null) return;
          forgetLeader(current.client);
          await current.client.end();
        });
      } finally {
        await pool.end();
      }
    },
  };
}
