import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from '../dialects.js';
import type { Migration } from './migration.js';

/** Ended sessions, one per endpoint and connection. */
async function createSessions(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await t
    .table(
      db.schema
        .createTable('sessions')
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('username', 'text')
        .addColumn('common_name', 'text')
        .addColumn('client_ip', 'text')
        .addColumn('client_ipv6', 'text')
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status IN ('terminated', 'failed-to-terminate')`),
        )
        .addColumn('established_at', t.timestamp)
        .addColumn('ended_at', t.timestamp, (c) => c.notNull())
        .addColumn('ingress_bytes', t.bigint)
        .addColumn('egress_bytes', t.bigint)
        .addColumn('recorded_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('sessions_pkey', ['endpoint_id', 'connection_id']),
    )
    .execute();
  await db.schema
    .createIndex('sessions_by_endpoint_end')
    .on('sessions')
    .columns(['endpoint_id', 'ended_at'])
    .execute();
  await db.schema.createIndex('sessions_by_end').on('sessions').column('ended_at').execute();
}

/** Which digest reported which session. */
async function createSessionReports(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await t
    .table(
      db.schema
        .createTable('session_reports')
        .addColumn('digest_id', 'text', (c) => c.notNull())
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('reported_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('session_reports_pkey', [
          'digest_id',
          'endpoint_id',
          'connection_id',
        ])
        .addForeignKeyConstraint(
          'session_reports_endpoint_id_connection_id_fkey',
          ['endpoint_id', 'connection_id'],
          'sessions',
          ['endpoint_id', 'connection_id'],
          (fk) => fk.onDelete('cascade'),
        ),
    )
    .execute();
  await db.schema
    .createIndex('session_reports_by_session')
    .on('session_reports')
    .columns(['endpoint_id', 'connection_id'])
    .execute();
}

/** The last successful poll of each endpoint. */
async function createPolls(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await t
    .table(
      db.schema
        .createTable('polls')
        .addColumn('endpoint_id', 'text', (c) => c.primaryKey())
        .addColumn('last_success_at', t.timestamp, (c) => c.notNull()),
    )
    .execute();
}

/** Intervals in which sessions may have been missed. */
async function createGaps(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await t
    .table(
      db.schema
        .createTable('gaps')
        .addColumn('id', t.id.type, t.id.build)
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('from_at', t.timestamp, (c) => c.notNull())
        .addColumn('to_at', t.timestamp, (c) => c.notNull())
        .addColumn('recorded_at', t.timestamp, (c) => c.notNull()),
    )
    .execute();
  await db.schema.createIndex('gaps_by_endpoint').on('gaps').column('endpoint_id').execute();
}

/** Which digest reported which gap. */
async function createGapReports(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await t
    .table(
      db.schema
        .createTable('gap_reports')
        .addColumn('digest_id', 'text', (c) => c.notNull())
        .addColumn('gap_id', t.id.type, (c) =>
          c.notNull().references('gaps.id').onDelete('cascade'),
        )
        .addColumn('reported_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('gap_reports_pkey', ['digest_id', 'gap_id']),
    )
    .execute();
  await db.schema.createIndex('gap_reports_by_gap').on('gap_reports').column('gap_id').execute();
}

/** The Slack messages digests posted. */
async function createDigestPosts(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await t
    .table(
      db.schema
        .createTable('digest_posts')
        .addColumn('id', t.id.type, t.id.build)
        .addColumn('digest_id', 'text', (c) => c.notNull())
        .addColumn('tick_at', t.timestamp, (c) => c.notNull())
        .addColumn('posted_at', t.timestamp, (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('ts', 'text', (c) => c.notNull())
        .addColumn('session_count', 'integer', (c) => c.notNull())
        .addUniqueConstraint('digest_posts_channel_ts_key', ['channel', 'ts']),
    )
    .execute();
  await db.schema
    .createIndex('digest_posts_by_digest')
    .on('digest_posts')
    .columns(['digest_id', 'tick_at'])
    .execute();
}

/** Leadership leases. */
async function createLeases(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  // Postgres leads with advisory locks (leader-lock.ts) and has no leases.
  if (t.kind === 'sqlite') {
    await t
      .table(
        db.schema
          .createTable('leases')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('expires_at', t.timestamp, (c) => c.notNull()),
      )
      .execute();
  }
}

/**
 * Ended sessions, what each digest reported, polls, coverage gaps, digest
 * posts; leases where leadership is a lease (SQLite). Constraint names are
 * those Postgres gives unnamed constraints, as in installations made before
 * migrations were written once for both databases.
 */
export const digestState: Migration = {
  version: 1,
  name: 'digest state',
  async up(db, t) {
    await createSessions(db, t);
    await createSessionReports(db, t);
    await createPolls(db, t);
    await createGaps(db, t);
    await createGapReports(db, t);
    await createDigestPosts(db, t);
    await createLeases(db, t);
  },
};
