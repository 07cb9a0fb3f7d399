import type { Migration } from './migration.js';

/** The audit trail: one row per command or click, kept 90 days. */
export const auditLog: Migration = {
  version: 2,
  name: 'audit log',
  async up(db, t) {
    await t
      .table(
        db.schema
          .createTable('audit_log')
          .addColumn('id', t.id.type, t.id.build)
          .addColumn('at', t.timestamp, (c) => c.notNull())
          .addColumn('team_id', 'text')
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('channel_id', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('endpoints', t.textList, (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('request_ids', t.textList, (c) => c.notNull()),
      )
      .execute();
    await db.schema.createIndex('audit_log_by_at').on('audit_log').column('at').execute();
  },
};
