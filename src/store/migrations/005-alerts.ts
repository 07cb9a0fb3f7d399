import type { Migration } from './migration.js';

/**
 * Alerts firing now (issue 12): one row per rule and subject while its condition holds, so that
 * each alert is posted once across polls, restarts and instances. The row is written before the
 * post (`ts` null, `post_id` in the message's metadata) and deleted when the condition clears; a
 * row still without `ts` at the next poll is looked for in the channel's history, as digests do.
 */
export const alerts: Migration = {
  version: 5,
  name: 'alerts firing',
  async up(db, t) {
    await t
      .table(
        db.schema
          .createTable('alerts_firing')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('rule_name', 'text', (c) => c.notNull())
          .addColumn('subject_kind', 'text', (c) => c.notNull())
          .addColumn('subject_name', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('fired_at', t.timestamp, (c) => c.notNull())
          .addColumn('post_id', 'text', (c) => c.notNull())
          .addColumn('ts', 'text'),
      )
      .execute();
  },
};
