import type { Migration } from './migration.js';

/**
 * Digest intents: a post about to be made, recorded before posting and cleared once the post is
 * recorded, so that a post interrupted between Slack's `ok` and the commit can be found again.
 * The session keys and gap ids are JSON text on both databases (read back whole, never queried).
 */
export const digestIntents: Migration = {
  version: 3,
  name: 'digest intents',
  async up(db, t) {
    await t
      .table(
        db.schema
          .createTable('digest_intents')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('digest_id', 'text', (c) => c.notNull())
          .addColumn('tick_at', t.timestamp, (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .addColumn('sessions', 'text', (c) => c.notNull())
          .addColumn('gap_ids', 'text', (c) => c.notNull()),
      )
      .execute();
    await db.schema
      .createIndex('digest_intents_by_digest')
      .on('digest_intents')
      .columns(['digest_id', 'created_at'])
      .execute();
  },
};
