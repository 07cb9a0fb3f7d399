import type { Migration } from './migration.js';

/**
 * Session history (issue 11): every session the collector sees, active or
 * ended, one row per endpoint and connection, kept `HISTORY_DAYS`; and the
 * active count of each endpoint at each poll. Version 4: version 3 is the
 * digest intents' (another branch); the migrator applies whatever it has not
 * recorded, in order, so either may land first.
 */
export const history: Migration = {
  version: 4,
  name: 'session history',
  // Long on purpose: two tables and their indexes, declared in one place as the schema they make.
  async up(db, t) {
    await t
      .table(
        db.schema
          .createTable('session_history')
          .addColumn('endpoint_id', 'text', (c) => c.notNull())
          .addColumn('connection_id', 'text', (c) => c.notNull())
          .addColumn('username', 'text')
          .addColumn('common_name', 'text')
          .addColumn('client_ip', 'text')
          .addColumn('client_ipv6', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          // The posture compliance statuses as JSON text on both databases (bulk input is scalar).
          .addColumn('posture', 'text', (c) => c.notNull())
          .addColumn('started_at', t.timestamp, (c) => c.notNull())
          .addColumn('ended_at', t.timestamp)
          .addColumn('ingress_bytes', t.bigint)
          .addColumn('egress_bytes', t.bigint)
          .addColumn('ingress_packets', t.bigint)
          .addColumn('egress_packets', t.bigint)
          .addColumn('first_seen_at', t.timestamp, (c) => c.notNull())
          .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
          .addPrimaryKeyConstraint('session_history_pkey', ['endpoint_id', 'connection_id']),
      )
      .execute();
    // Periods and `at=`: sessions starting before an instant, ordered by start.
    await db.schema
      .createIndex('session_history_by_start')
      .on('session_history')
      .column('started_at')
      .execute();
    // Where a window's sessions start at the earliest (sessions ended after an instant, or
    // open: the start read from the index alone), and pruning.
    await db.schema
      .createIndex('session_history_by_end')
      .on('session_history')
      .columns(['ended_at', 'started_at'])
      .execute();
    // Closing what one endpoint's poll no longer lists.
    await db.schema
      .createIndex('session_history_by_endpoint_end')
      .on('session_history')
      .columns(['endpoint_id', 'ended_at'])
      .execute();
    // One person's sessions: by user name, or by common name on certificate endpoints.
    await db.schema
      .createIndex('session_history_by_username')
      .on('session_history')
      .columns(['username', 'started_at'])
      .execute();
    await db.schema
      .createIndex('session_history_by_common_name')
      .on('session_history')
      .columns(['common_name', 'started_at'])
      .execute();
    await t
      .table(
        db.schema
          .createTable('concurrency_samples')
          .addColumn('endpoint_id', 'text', (c) => c.notNull())
          .addColumn('at', t.timestamp, (c) => c.notNull())
          .addColumn('active', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('concurrency_samples_pkey', ['endpoint_id', 'at']),
      )
      .execute();
    // "History starts at" and pruning read samples by time across endpoints.
    await db.schema
      .createIndex('concurrency_samples_by_at')
      .on('concurrency_samples')
      .column('at')
      .execute();
  },
};
