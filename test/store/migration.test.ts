/**
 * Databases made by the store before it was written once for both databases
 * (the schema in fixtures/previous-schema.ts, rows as that code stored them)
 * open with today's store, keep their digest state, and go on working; and a
 * database the migrations create today has exactly the previous schema, plus
 * what the migrations since (3: digest intents) add to both alike.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  openPostgresDialect,
  openSqliteDialect,
  type StoreDialect,
} from '../../src/store/dialects.js';
import { openPostgresStore, openSqliteStore } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS, type Migration } from '../../src/store/migrations/index.js';
import { createStore } from '../../src/store/store.js';
import type { AuditEntry, DigestPost, EndedSession, StateStore } from '../../src/store/types.js';
import {
  POSTGRES_MIGRATIONS,
  POSTGRES_VERSION_TABLE,
  SQLITE_MIGRATIONS,
  SQLITE_VERSION_TABLE,
} from './fixtures/previous-schema.js';

const MINUTE = 60_000;
const T = Date.parse('2026-11-30T09:00:00.000Z');
const at = (minutes: number): Date => new Date(T + minutes * MINUTE);
const ENDPOINT = 'cvpn-endpoint-0123456789abcdef0';
const DIGEST = 'prod-hourly';
const LEASE = 'digest:prod-hourly';

function session(connectionId: string, endedAt: Date, extra: Partial<EndedSession> = {}) {
  return {
    endpointId: ENDPOINT,
    connectionId,
    username: 'alice',
    commonName: 'alice.vpn.example.com',
    clientIp: '10.0.0.7',
    clientIpv6: null,
    status: 'terminated',
    establishedAt: new Date(endedAt.getTime() - 30 * MINUTE),
    endedAt,
    ingressBytes: 1_000,
    egressBytes: 2_000,
    ...extra,
  } satisfies EndedSession;
}

/** The digest state the previous store left: what each database is seeded with. */
const previous = {
  reported: session('cvpn-connection-r1', at(-20)),
  pending: [
    session('cvpn-connection-p1', at(10), {
      clientIpv6: '2001:db8::7',
      ingressBytes: 2 ** 40 + 7,
      egressBytes: 2 ** 33,
    }),
    session('cvpn-connection-p2', new Date(T + 20 * MINUTE + 123), {
      username: null,
      commonName: null,
      clientIp: null,
      status: 'failed-to-terminate',
      establishedAt: null,
      ingressBytes: null,
      egressBytes: null,
    }),
  ],
  post: {
    digestId: DIGEST,
    tickAt: at(0),
    postedAt: new Date(T + 1_500),
    channel: 'C0123456789',
    ts: '1764493201.000100',
    sessionCount: 1,
  } satisfies DigestPost,
  poll: at(55),
  reportedGap: { from: at(-180), to: at(-120) },
  pendingGap: { from: at(-90), to: at(-61) },
  audit: [
    {
      at: at(-60),
      teamId: 'T0001',
      userId: 'U0ADMIN01',
      channelId: 'C0123456789',
      action: 'terminate',
      detail: 'cvpn-connection-x1',
      endpoints: ['prod', 'corp'],
      outcome: 'ok',
      requestIds: ['req-1', 'req-2'],
    },
    {
      at: at(30),
      teamId: null,
      userId: 'U0ALICE01',
      channelId: null,
      action: 'command',
      detail: '/vpn-conns all',
      endpoints: [],
      outcome: 'refused',
      requestIds: [],
    },
  ] satisfies AuditEntry[],
};

const sessionColumns = `endpoint_id, connection_id, username, common_name, client_ip, client_ipv6,
  status, established_at, ended_at, ingress_bytes, egress_bytes, recorded_at`;

/** A session's values in column order, times through `time` (the database's representation). */
function sessionValues<T>(s: EndedSession, time: (date: Date) => T): unknown[] {
  return [
    s.endpointId,
    s.connectionId,
    s.username,
    s.commonName,
    s.clientIp,
    s.clientIpv6,
    s.status,
    s.establishedAt === null ? null : time(s.establishedAt),
    time(s.endedAt),
    s.ingressBytes,
    s.egressBytes,
    time(at(-30)),
  ];
}

/** The previous store's rows in its SQLite representation (epoch ms, JSON lists). */
function insertPreviousSqliteRows(db: Database.Database): void {
  const ms = (date: Date) => date.getTime();
  const insertSession = db.prepare(
    `INSERT INTO sessions (${sessionColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const s of [previous.reported, ...previous.pending]) {
    insertSession.run(...sessionValues(s, ms));
  }
  db.prepare('INSERT INTO session_reports VALUES (?, ?, ?, ?)').run(
    DIGEST,
    ENDPOINT,
    previous.reported.connectionId,
    ms(at(1)),
  );
  db.prepare('INSERT INTO polls VALUES (?, ?)').run(ENDPOINT, ms(previous.poll));
  for (const gap of [previous.reportedGap, previous.pendingGap]) {
    db.prepare(
      'INSERT INTO gaps (endpoint_id, from_at, to_at, recorded_at) VALUES (?, ?, ?, ?)',
    ).run(ENDPOINT, ms(gap.from), ms(gap.to), ms(gap.to));
  }
  db.prepare('INSERT INTO gap_reports VALUES (?, 1, ?)').run(DIGEST, ms(at(1)));
  const p = previous.post;
  db.prepare(
    `INSERT INTO digest_posts (digest_id, tick_at, posted_at, channel, ts, session_count)
       VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(p.digestId, ms(p.tickAt), ms(p.postedAt), p.channel, p.ts, p.sessionCount);
  db.prepare('INSERT INTO leases VALUES (?, ?, ?)').run(LEASE, 'old-instance', ms(at(120)));
  for (const e of previous.audit) {
    db.prepare(
      `INSERT INTO audit_log (at, team_id, user_id, channel_id, action, detail, endpoints,
           outcome, request_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      ms(e.at),
      e.teamId,
      e.userId,
      e.channelId,
      e.action,
      e.detail,
      JSON.stringify(e.endpoints),
      e.outcome,
      JSON.stringify(e.requestIds),
    );
  }
}

/** A SQLite file as the previous store left it: its schema and versions, then its rows. */
function seedPreviousSqlite(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.exec(SQLITE_VERSION_TABLE);
    for (const migration of SQLITE_MIGRATIONS) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        at(-1440).getTime(),
      );
    }
    insertPreviousSqliteRows(db);
  } finally {
    db.close();
  }
}

/** A Postgres schema as the previous store left it: its schema and versions, then its rows. */
async function seedPreviousPostgres(client: pg.Client, schema: string): Promise<void> {
  await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
  await client.query(`SET search_path = ${pg.escapeIdentifier(schema)}`);
  await client.query(POSTGRES_VERSION_TABLE);
  for (const migration of POSTGRES_MIGRATIONS) {
    await client.query(migration.sql);
    await client.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [
      migration.version,
      migration.name,
      at(-1440),
    ]);
  }
  await insertPreviousPostgresRows(client);
}

/** The previous store's rows in its Postgres representation (timestamptz, text[] lists). */
async function insertPreviousPostgresRows(client: pg.Client): Promise<void> {
  const iso = (date: Date) => date.toISOString();
  for (const s of [previous.reported, ...previous.pending]) {
    await client.query(
      `INSERT INTO sessions (${sessionColumns})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      sessionValues(s, iso),
    );
  }
  await client.query('INSERT INTO session_reports VALUES ($1, $2, $3, $4)', [
    DIGEST,
    ENDPOINT,
    previous.reported.connectionId,
    iso(at(1)),
  ]);
  await client.query('INSERT INTO polls VALUES ($1, $2)', [ENDPOINT, iso(previous.poll)]);
  for (const gap of [previous.reportedGap, previous.pendingGap]) {
    await client.query(
      'INSERT INTO gaps (endpoint_id, from_at, to_at, recorded_at) VALUES ($1, $2, $3, $4)',
      [ENDPOINT, iso(gap.from), iso(gap.to), iso(gap.to)],
    );
  }
  await client.query('INSERT INTO gap_reports VALUES ($1, 1, $2)', [DIGEST, iso(at(1))]);
  const p = previous.post;
  await client.query(
    `INSERT INTO digest_posts (digest_id, tick_at, posted_at, channel, ts, session_count)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [p.digestId, iso(p.tickAt), iso(p.postedAt), p.channel, p.ts, p.sessionCount],
  );
  for (const e of previous.audit) {
    await client.query(
      `INSERT INTO audit_log (at, team_id, user_id, channel_id, action, detail, endpoints,
         outcome, request_ids) VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8, $9::text[])`,
      [
        iso(e.at),
        e.teamId,
        e.userId,
        e.channelId,
        e.action,
        e.detail,
        e.endpoints,
        e.outcome,
        e.requestIds,
      ],
    );
  }
}

const keyOf = (s: EndedSession) => ({ endpointId: s.endpointId, connectionId: s.connectionId });

/** Everything the previous store left is there, as it was. */
async function expectPreviousStateKept(store: StateStore): Promise<void> {
  expect(await store.pendingSessions(DIGEST, [ENDPOINT], at(60), at(-1440))).toEqual(
    previous.pending,
  );
  expect(await store.countPending(DIGEST, [ENDPOINT], at(-1440))).toBe(2);
  expect(await store.pendingSessions('another-digest', [ENDPOINT], at(60), at(-1440))).toEqual([
    previous.reported,
    ...previous.pending,
  ]);
  expect(await store.pendingGaps(DIGEST, [ENDPOINT])).toEqual([
    { id: 2, endpointId: ENDPOINT, ...previous.pendingGap },
  ]);
  expect(await store.lastPost(DIGEST)).toEqual(previous.post);
  expect(await store.lastPoll(ENDPOINT)).toEqual(previous.poll);
  expect(await store.recentAudit(10)).toEqual([...previous.audit].reverse());
}

/** The store goes on from that state: records, reports, audits and prunes. */
async function expectUsable(store: StateStore, now: () => Date): Promise<void> {
  const [p1, p2] = previous.pending;
  if (p1 === undefined || p2 === undefined) throw new Error('fixture');
  const fresh = session('cvpn-connection-n1', at(40));
  expect(
    await store.recordSessions([
      { ...previous.reported, status: 'failed-to-terminate', ingressBytes: 1 },
      { ...p1, ingressBytes: (p1.ingressBytes ?? 0) + 1 },
      fresh,
    ]),
  ).toBe(1);
  const seen = await store.pendingSessions('another-digest', [ENDPOINT], at(60), at(-1440));
  expect(seen).toEqual([
    previous.reported,
    { ...p1, ingressBytes: (p1.ingressBytes ?? 0) + 1 },
    p2,
    fresh,
  ]);
  await store.recordGap(ENDPOINT, at(-30), at(-10));
  const gaps = await store.pendingGaps(DIGEST, [ENDPOINT]);
  expect(gaps.map((gap) => gap.id)).toEqual([2, 3]);
  const post: DigestPost = { ...previous.post, tickAt: at(60), ts: '1764496801.000200' };
  const marked = await store.markReported(
    post,
    [keyOf(p1), keyOf(p2), keyOf(fresh), keyOf(previous.reported)],
    gaps.map((gap) => gap.id),
  );
  expect(marked).toBe(3);
  expect(await store.pendingSessions(DIGEST, [ENDPOINT], at(60), at(-1440))).toEqual([]);
  expect(await store.pendingGaps(DIGEST, [ENDPOINT])).toEqual([]);
  expect(await store.lastPost(DIGEST)).toEqual(post);
  const entry = { ...previous.audit[0], at: now(), endpoints: ['prod'] } as AuditEntry;
  await store.appendAudit(entry);
  expect(await store.recentAudit(1)).toEqual([entry]);
  // 4 sessions + 4 marks, 3 gaps + 3 marks, 2 posts, 3 audit rows.
  expect(await store.prune(at(1440), at(1440))).toBe(19);
}

/** The migrations after the previous store's two, as today's store applies them to its files. */
const SINCE_PREVIOUS = MIGRATIONS.filter((m) => m.version > 2);

/** A next migration, as a feature would add one: a table with a time, a counter and an id. */
const nextMigration: Migration = {
  version: Math.max(...MIGRATIONS.map((m) => m.version)) + 1,
  name: 'session history (test)',
  async up(db, t) {
    await t
      .table(
        db.schema
          .createTable('history_test')
          .addColumn('id', t.id.type, t.id.build)
          .addColumn('seen_at', t.timestamp, (c) => c.notNull())
          .addColumn('bytes', t.bigint),
      )
      .execute();
  },
};

/** Migrates with `nextMigration` added, twice (the second finds nothing to do), and checks the state. */
async function expectNextMigrationApplied(dialect: StoreDialect): Promise<void> {
  try {
    await migrate(dialect, () => at(70), [...MIGRATIONS, nextMigration]);
    await migrate(dialect, () => at(80), [...MIGRATIONS, nextMigration]);
    const versions = await dialect.db
      .selectFrom('schema_migrations')
      .select(['version', 'applied_at'])
      .orderBy('version')
      .execute();
    expect(versions).toEqual([
      { version: 1, applied_at: at(-1440) },
      { version: 2, applied_at: at(-1440) },
      ...[...SINCE_PREVIOUS, nextMigration].map((m) => ({
        version: m.version,
        applied_at: at(70),
      })),
    ]);
    await expectPreviousStateKept(createStore(dialect, () => at(65)));
  } finally {
    await dialect.close();
  }
}

describe('a SQLite file made by the previous store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpn-conns-migration-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const now = () => at(65);

  it('opens with its digest state kept, its versions kept, and the old lease honoured', async () => {
    const file = join(dir, 'kept.db');
    seedPreviousSqlite(file);
    const store = await openSqliteStore(file, { now });
    try {
      await expectPreviousStateKept(store);
      expect(await store.tryLead(LEASE, 'new-instance', 60_000)).toBe(false);
      expect(await store.tryLead(LEASE, 'old-instance', 60_000)).toBe(true);
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT version, name, applied_at FROM schema_migrations').all()).toEqual([
        ...SQLITE_MIGRATIONS.map((m) => ({
          version: m.version,
          name: m.name,
          applied_at: at(-1440).getTime(),
        })),
        ...SINCE_PREVIOUS.map((m) => ({
          version: m.version,
          name: m.name,
          applied_at: at(65).getTime(),
        })),
      ]);
    } finally {
      db.close();
    }
  });

  it('goes on recording, reporting, auditing and pruning from it', async () => {
    const file = join(dir, 'usable.db');
    seedPreviousSqlite(file);
    const store = await openSqliteStore(file, { now });
    try {
      await expectUsable(store, now);
    } finally {
      await store.close();
    }
  });

  it('takes the next migration once, keeping its state', async () => {
    const file = join(dir, 'next.db');
    seedPreviousSqlite(file);
    await expectNextMigrationApplied(openSqliteDialect(file, now));
  });

  it('has, once opened, the schema a fresh database gets', async () => {
    const old = join(dir, 'old-schema.db');
    seedPreviousSqlite(old);
    await (await openSqliteStore(old)).close();
    const fresh = join(dir, 'fresh-schema.db');
    await (await openSqliteStore(fresh)).close();
    expect(describeSqliteSchema(fresh)).toEqual(describeSqliteSchema(old));
  });
});

/** Tables, columns, indexes, foreign keys and STRICT-ness of a SQLite file, names sorted. */
function describeSqliteSchema(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare<[], { name: string; strict: number }>(
        "SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all();
    return tables.map(({ name, strict }) => ({
      name,
      strict,
      columns: db.prepare(`SELECT * FROM pragma_table_xinfo('${name}')`).all(),
      indexes: db
        .prepare<[], { name: string; unique: number; origin: string }>(
          `SELECT name, "unique", origin FROM pragma_index_list('${name}') ORDER BY name`,
        )
        .all()
        .map((index) => ({
          ...index,
          columns: db.prepare(`SELECT name FROM pragma_index_info('${index.name}')`).all(),
        })),
      foreignKeys: db
        .prepare(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list('${name}')`)
        .all(),
      checks: /CHECK\s*\(/i.test(
        db
          .prepare<[string], { sql: string }>('SELECT sql FROM sqlite_master WHERE name = ?')
          .get(name)?.sql ?? '',
      ),
    }));
  } finally {
    db.close();
  }
}

const databaseUrl = inject('databaseUrl');

describe.skipIf(!databaseUrl)('a Postgres schema made by the previous store', () => {
  const schemas: string[] = [];
  const newSchema = (): string => {
    const name = `m_${randomBytes(6).toString('hex')}`;
    schemas.push(name);
    return name;
  };
  const now = () => at(65);

  async function withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  }

  afterAll(async () => {
    await withClient(async (client) => {
      for (const name of schemas) {
        await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`);
      }
    });
  });

  it('opens with its digest state kept and its versions kept', async () => {
    const schema = newSchema();
    await withClient((client) => seedPreviousPostgres(client, schema));
    const store = await openPostgresStore(databaseUrl, { schema, now });
    try {
      await expectPreviousStateKept(store);
    } finally {
      await store.close();
    }
    const versions = await withClient(async (client) => {
      const { rows } = await client.query(
        `SELECT version, name, applied_at FROM ${pg.escapeIdentifier(schema)}.schema_migrations`,
      );
      return rows;
    });
    expect(versions).toEqual([
      ...POSTGRES_MIGRATIONS.map((m) => ({
        version: m.version,
        name: m.name,
        applied_at: at(-1440),
      })),
      ...SINCE_PREVIOUS.map((m) => ({ version: m.version, name: m.name, applied_at: at(65) })),
    ]);
  });

  it('goes on recording, reporting, auditing and pruning from it', async () => {
    const schema = newSchema();
    await withClient((client) => seedPreviousPostgres(client, schema));
    const store = await openPostgresStore(databaseUrl, { schema, now });
    try {
      await expectUsable(store, now);
    } finally {
      await store.close();
    }
  });

  it('takes the next migration once, keeping its state', async () => {
    const schema = newSchema();
    await withClient((client) => seedPreviousPostgres(client, schema));
    await expectNextMigrationApplied(openPostgresDialect(databaseUrl, { schema }));
  });

  it('has, once opened, the schema a fresh database gets, constraint names included', async () => {
    const old = newSchema();
    await withClient((client) => seedPreviousPostgres(client, old));
    await (await openPostgresStore(databaseUrl, { schema: old })).close();
    const fresh = newSchema();
    await (await openPostgresStore(databaseUrl, { schema: fresh })).close();
    const [oldSchema, freshSchema] = await withClient(async (client) => [
      await describePostgresSchema(client, old),
      await describePostgresSchema(client, fresh),
    ]);
    expect(freshSchema).toEqual(oldSchema);
  });
});

/** Columns, indexes and constraints of a Postgres schema, with the schema's name taken out. */
async function describePostgresSchema(client: pg.Client, schema: string): Promise<unknown> {
  const columns = await client.query(
    `SELECT table_name, column_name, ordinal_position, data_type, udt_name, is_nullable,
       column_default, is_identity, identity_generation
     FROM information_schema.columns WHERE table_schema = $1
     ORDER BY table_name, ordinal_position`,
    [schema],
  );
  const indexes = await client.query(
    `SELECT tablename, indexname, replace(indexdef, $1 || '.', '') AS indexdef
     FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename, indexname`,
    [schema],
  );
  const constraints = await client.query(
    `SELECT c.relname AS table_name, k.conname, k.contype,
       replace(pg_get_constraintdef(k.oid), $1 || '.', '') AS definition
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 ORDER BY c.relname, k.conname`,
    [schema],
  );
  return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows };
}
