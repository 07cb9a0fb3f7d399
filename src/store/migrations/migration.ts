/**
 * The shape of a schema change. Every migration is written once for both
 * databases with Kysely's schema builder and the column types of
 * `ColumnTypes` (dialects.ts); it runs inside the migration's transaction and
 * is recorded in `schema_migrations` by its version.
 */
import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../dialects.js';

export interface Migration {
  /** Applied in ascending order; never reuse or renumber one that has shipped. */
  readonly version: number;
  readonly name: string;
  /**
   * Brings the schema from `version - 1` to `version`. `db` is untyped: a
   * migration describes the tables as they were then, not as schema.ts says now.
   */
  up(db: Kysely<unknown>, types: ColumnTypes): Promise<void>;
}
