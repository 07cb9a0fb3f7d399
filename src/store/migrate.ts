/**
 * Brings a database's schema up to date at open. The applied versions are
 * kept in `schema_migrations (version, name, applied_at)`, the table every
 * installation has had from its first start, so a database made by an earlier
 * version simply continues from the versions it records.
 */
import type { Kysely } from 'kysely';
import type { StoreDialect } from './dialects.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import type { Database } from './schema.js';

async function createVersionTable(trx: Kysely<Database>, dialect: StoreDialect): Promise<void> {
  const t = dialect.columns;
  await t
    .table(
      trx.schema
        .createTable('schema_migrations')
        .ifNotExists()
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('applied_at', t.timestamp, (c) => c.notNull()),
    )
    .execute();
}

/**
 * Applies the migrations of `migrations` not yet recorded, in one transaction
 * holding the dialect's migration lock, so instances starting together migrate
 * one after the other and a failed migration leaves nothing half done.
 * Versions the database records but this code does not know (a newer instance
 * migrated it) are left alone: migrations only add.
 */
export async function migrate(
  dialect: StoreDialect,
  now: () => Date,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<void> {
  await dialect.migrating(async (trx) => {
    await createVersionTable(trx, dialect);
    const rows = await trx.selectFrom('schema_migrations').select('version').execute();
    const applied = new Set(rows.map((row) => row.version));
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      // Untyped on purpose: a migration describes the tables as they were at its version.
      await migration.up(trx as Kysely<unknown>, dialect.columns);
      await trx
        .insertInto('schema_migrations')
        .values({ version: migration.version, name: migration.name, applied_at: now() })
        .execute();
    }
  });
}
