/**
 * Everything in which the two databases differ, and nothing else: how a
 * connection is opened, how times and lists are represented, how a writing
 * transaction and a migration are serialized, the column types migrations
 * use, and how an instance leads (leader-lock.ts). Queries, migrations and the
 * schema are written once, against the `StoreDialect` this file returns.
 *
 * SQLite (better-sqlite3): one file, WAL mode, for one instance or a few
 * processes on one machine. Postgres (pg): several instances sharing one
 * database, each with a pool, `search_path` set at connection start-up.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  type AliasedRawBuilder,
  type ColumnDataType,
  type ColumnDefinitionBuilder,
  type CreateTableBuilder,
  type Expression,
  Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresDialect,
  type PrimitiveValueListNode,
  type QueryResult,
  type RawBuilder,
  type RootOperationNode,
  type SqlBool,
  type SqliteDatabase,
  SqliteDialect,
  sql,
  type UnknownRow,
  type ValueNode,
} from 'kysely';
import type { ClientConfig } from 'pg';
import pg from 'pg';
import { ConfigError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { AdvisoryLock, createLeaseLock, type LeaderLock } from './leader-lock.js';
import { type Database, isTimeColumn } from './schema.js';

/** A column type as Kysely's schema builder takes it. */
export type DataTypeExpression = ColumnDataType | Expression<unknown>;

/** The column types and table options migrations use, per database. */
export interface ColumnTypes {
  readonly kind: 'sqlite' | 'postgres';
  /** A time (see schema.ts): INTEGER epoch milliseconds, or timestamptz. */
  readonly timestamp: DataTypeExpression;
  /** A counter that may exceed 2^31: INTEGER, or bigint. */
  readonly bigint: DataTypeExpression;
  /** A list of strings: JSON text, or text[]. */
  readonly textList: DataTypeExpression;
  /** The type of an auto-numbered id, and what makes it one. */
  readonly id: {
    readonly type: DataTypeExpression;
    readonly build: (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
  };
  /** Finishes a CREATE TABLE: SQLite tables are STRICT (a value of the wrong type is refused). */
  table<TB extends string, C extends string>(
    builder: CreateTableBuilder<TB, C>,
  ): CreateTableBuilder<TB, C>;
}

/** What a column of bulk input holds, for `rowsOf`. */
export type InputKind = 'text' | 'time' | 'integer';

/** The columns of bulk input rows `R`, in order, with what each holds. */
export type InputColumns<R> = readonly (readonly [keyof R & string, InputKind])[];

/** A database opened for the store. */
export interface StoreDialect {
  readonly kind: 'sqlite' | 'postgres';
  readonly db: Kysely<Database>;
  readonly columns: ColumnTypes;
  readonly leaderLock: LeaderLock;
  /**
   * Runs `work` in a transaction that will write. SQLite: `BEGIN IMMEDIATE`
   * (another process waits for the lock instead of failing midway), and one
   * at a time per file within this process.
   */
  write<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Like `write`, also holding the lock that makes instances starting together migrate in turn. */
  migrating<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * `column` equals one of `values`, as one parameter whatever their number.
   * Postgres: `= ANY($1)`. A plain `IN` would do on both, but Postgres turns
   * a one-value `IN` into `=`, carries that constant into the NOT EXISTS of
   * the pending queries and, with statistics not yet gathered, picks a
   * nested loop over every report: 2.8 s instead of 3 ms for 10,000
   * sessions (bench/store.ts).
   */
  anyOf(column: string, values: readonly string[]): RawBuilder<SqlBool>;
  /**
   * Like `anyOf`, on `column || ''`: a condition no index answers, so the
   * planner keeps the index of the query's range and order (the history's
   * start) instead of an index on this column followed by a sort.
   */
  anyOfUnindexed(column: string, values: readonly string[]): RawBuilder<SqlBool>;
  /**
   * `rows` as a table named `input` to INSERT … SELECT or UPDATE … FROM.
   * Postgres: one array parameter per column through `unnest`; SQLite: one
   * JSON parameter through `jsonb_each`. A VALUES list would cost a parameter
   * per value and Kysely a node per value: several times slower for 10,000
   * sessions (bench/store.ts).
   */
  rowsOf<R extends Record<string, unknown>>(
    columns: InputColumns<R>,
    rows: readonly R[],
  ): AliasedRawBuilder<R, 'input'>;
  /** Closes the connections; Postgres also gives up any lead. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Values: each database gets what it takes, the queries get `Date`s back

/** A date as it goes to the database; refuses an invalid `Date` rather than storing NULL or junk. */
function checkDate(date: Date): Date {
  if (!Number.isFinite(date.getTime())) {
    throw new RangeError('Invalid Date given to the state store');
  }
  return date;
}

/** A parameter as SQLite stores it: a time as epoch milliseconds, a list as JSON text. */
function toSqliteValue(value: unknown): unknown {
  if (value instanceof Date) return checkDate(value).getTime();
  if (Array.isArray(value)) return JSON.stringify(value);
  return value;
}

/** A parameter as pg sends it: unchanged, but an invalid `Date` refused here (rowsOf checks its own). */
function toPostgresValue(value: unknown): unknown {
  return value instanceof Date ? checkDate(value) : value;
}

/** Maps every parameter of a query through `map`. */
class ParameterTransformer extends OperationNodeTransformer {
  readonly #map: (value: unknown) => unknown;

  constructor(map: (value: unknown) => unknown) {
    super();
    this.#map = map;
  }

  protected override transformValue(node: ValueNode): ValueNode {
    return { ...node, value: this.#map(node.value) };
  }

  protected override transformPrimitiveValueList(
    node: PrimitiveValueListNode,
  ): PrimitiveValueListNode {
    return { ...node, values: node.values.map(this.#map) };
  }
}

/**
 * Reads times back as `Date`s: SQLite returns the epoch milliseconds it
 * stored. In place: each row is a fresh object of better-sqlite3's.
 */
function fromSqliteRow(row: UnknownRow): UnknownRow {
  for (const column in row) {
    const value = row[column];
    if (typeof value === 'number' && isTimeColumn(column)) row[column] = new Date(value);
  }
  return row;
}

/**
 * Gives each database the values it takes and the schema's `Date`s back (see
 * the conventions in schema.ts): parameters through `toDatabase`, result rows
 * through `fromDatabase`.
 */
class ValuesPlugin implements KyselyPlugin {
  readonly #parameters: ParameterTransformer;
  readonly #fromDatabase: (row: UnknownRow) => UnknownRow;

  constructor(
    toDatabase: (value: unknown) => unknown,
    fromDatabase: (row: UnknownRow) => UnknownRow = (row) => row,
  ) {
    this.#parameters = new ParameterTransformer(toDatabase);
    this.#fromDatabase = fromDatabase;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#parameters.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return { ...args.result, rows: args.result.rows.map(this.#fromDatabase) };
  }
}

// ---------------------------------------------------------------------------
// SQLite

/** Statements prepared once per SQL text: Kysely would prepare each query anew. */
function withStatementCache(db: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(source) {
      let statement = statements.get(source);
      if (statement === undefined) {
        // Bounded: chunked statements have as many shapes as chunk sizes.
        if (statements.size >= 500) statements.clear();
        statement = db.prepare(source);
        statements.set(source, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      db.close();
    },
  };
}

// Writers on one SQLite file within this process take turns: better-sqlite3
// blocks the thread while waiting for a lock, so a second in-process writer
// would wait on a lock only this thread can release.
const sqliteWriters = new Map<string | symbol, Promise<unknown>>();

function oneWriterAtATime<T>(file: string | symbol, work: () => Promise<T>): Promise<T> {
  const previous = sqliteWriters.get(file) ?? Promise.resolve();
  const run = previous.then(work);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  sqliteWriters.set(file, tail);
  void tail.then(() => {
    if (sqliteWriters.get(file) === tail) sqliteWriters.delete(file);
  });
  return run;
}

async function sqliteWrite<T>(
  db: Kysely<Database>,
  raw: BetterSqlite3.Database,
  file: string | symbol,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return oneWriterAtATime(file, () =>
    db.connection().execute(async (connection) => {
      await sql`begin immediate`.execute(connection);
      try {
        const result = await work(connection);
        await sql`commit`.execute(connection);
        return result;
      } catch (error) {
        if (raw.inTransaction) await sql`rollback`.execute(connection);
        throw error;
      }
    }),
  );
}

/**
 * SQLite's `rowsOf`: the rows as one JSON parameter, parsed once (`jsonb`,
 * SQLite 3.51+, bundled by better-sqlite3 12). A VALUES list costs Kysely a
 * node per value, slower in all; `json_each` on text parses each row again
 * for every column, twice as slow.
 */
function sqliteRowsOf<R extends Record<string, unknown>>(
  columns: InputColumns<R>,
  rows: readonly R[],
): AliasedRawBuilder<R, 'input'> {
  const json = JSON.stringify(rows.map((row) => columns.map(([name]) => toSqliteValue(row[name]))));
  const named = sql.join(
    columns.map(([name], i) => sql`value ->> ${sql.lit(i)} as ${sql.id(name)}`),
  );
  return sql<R>`(select ${named} from jsonb_each(jsonb(${json})))`.as('input');
}

const SQLITE_COLUMNS: ColumnTypes = {
  kind: 'sqlite',
  timestamp: 'integer',
  bigint: 'integer',
  textList: 'text',
  id: { type: 'integer', build: (column) => column.primaryKey().autoIncrement() },
  table: (builder) => builder.modifyEnd(sql`strict`),
};

/**
 * Opens (creating if needed, with its parent directory) the SQLite file at
 * `path` (`:memory:` for a throwaway one).
 */
export function openSqliteDialect(path: string, now: () => Date): StoreDialect {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new BetterSqlite3(path);
  let file: string | symbol;
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 5000');
    raw.pragma('foreign_keys = ON');
    file = path === ':memory:' ? Symbol(path) : realpathSync(path);
  } catch (error) {
    raw.close();
    throw error;
  }
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(raw) }),
    plugins: [new ValuesPlugin(toSqliteValue, fromSqliteRow)],
  });
  const write = <T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> =>
    sqliteWrite(db, raw, file, work);
  return {
    kind: 'sqlite',
    db,
    columns: SQLITE_COLUMNS,
    leaderLock: createLeaseLock(write, now),
    write,
    anyOf: (column, values) =>
      sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(values)}))`,
    anyOfUnindexed: (column, values) =>
      sql<SqlBool>`(${sql.ref(column)} || '') in (select value from json_each(${JSON.stringify(values)}))`,
    rowsOf: sqliteRowsOf,
    // BEGIN IMMEDIATE already keeps a second process out until the first has migrated.
    migrating: write,
    close: () => db.destroy(),
  };
}

// ---------------------------------------------------------------------------
// Postgres

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

export interface PostgresOptions {
  /** The schema holding the tables, created if missing; `public` by default. Tests use one each. */
  schema?: string;
  /** Connections in the pool (the leadership connection comes on top); 5 by default. */
  poolSize?: number;
  /** Where connection errors that happen between calls are reported; nothing by default. */
  logger?: Pick<Logger, 'warn'>;
}

/** bigint (counts, byte counters, ids) read as a number, exact up to 2^53, like SQLite's INTEGER. */
function postgresTypes(): pg.TypeOverrides {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));
  return types;
}

function toIsoOrNull(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Date)) throw new TypeError('rowsOf: a time column holds a non-Date');
  return checkDate(value).toISOString();
}

const POSTGRES_ARRAY_TYPES: Readonly<Record<InputKind, string>> = {
  text: 'text[]',
  time: 'timestamptz[]',
  integer: 'bigint[]',
};

/** Postgres's `rowsOf`: `unnest` over one typed array parameter per column. */
function postgresRowsOf<R extends Record<string, unknown>>(
  columns: InputColumns<R>,
  rows: readonly R[],
): AliasedRawBuilder<R, 'input'> {
  // Times as ISO strings: pg's own Date formatting costs more than the rest of the call.
  const arrays = columns.map(([name, kind]) => {
    const values = rows.map((row) => row[name]);
    const sent = kind === 'time' ? values.map(toIsoOrNull) : values;
    return sql`cast(${sent} as ${sql.raw(POSTGRES_ARRAY_TYPES[kind])})`;
  });
  const names = sql.join(columns.map(([name]) => sql.id(name)));
  return sql<R>`(select * from unnest(${sql.join(arrays)}) as t(${names}))`.as('input');
}

const POSTGRES_COLUMNS: ColumnTypes = {
  kind: 'postgres',
  timestamp: 'timestamptz',
  bigint: 'bigint',
  textList: sql`text[]`,
  id: { type: 'bigint', build: (column) => column.generatedAlwaysAsIdentity().primaryKey() },
  table: (builder) => builder,
};

function checkSchemaName(schema: string): void {
  if (schema === '') throw new ConfigError(['Postgres schema: must not be empty']);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(['Postgres schema: letters, digits and "_" only']);
  }
}

/**
 * A pool on the Postgres database at `url` (`postgres://` or `postgresql://`,
 * Heroku's `?sslmode=require` understood). Connects lazily: the first query
 * (the migration) finds out whether the database can be reached.
 */
export function openPostgresDialect(url: string, options: PostgresOptions = {}): StoreDialect {
  const schema = options.schema ?? 'public';
  checkSchemaName(schema);
  const logger = options.logger;
  const connection: ClientConfig = {
    ...postgresConnectionConfig(url),
    connectionTimeoutMillis: 10_000,
    application_name: 'vpn-conns',
    types: postgresTypes(),
    // Set at connection start-up, so no query can run before it.
    options: `-c search_path=${schema}`,
  };
  const pool = new pg.Pool({ ...connection, max: options.poolSize ?? 5 });
  // An idle pooled connection that drops is replaced by the pool; without a listener it would crash the process.
  pool.on('error', (error) => logger?.warn(`state store connection lost: ${describeError(error)}`));
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new ValuesPlugin(toPostgresValue)],
  });
  const leaderLock = new AdvisoryLock(connection, logger);
  const write = <T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> =>
    db.transaction().execute(work);
  return {
    kind: 'postgres',
    db,
    columns: POSTGRES_COLUMNS,
    leaderLock,
    write,
    anyOf: (column, values) => sql<SqlBool>`${sql.ref(column)} = any(${[...values]})`,
    anyOfUnindexed: (column, values) =>
      sql<SqlBool>`(${sql.ref(column)} || '') = any(${[...values]})`,
    rowsOf: postgresRowsOf,
    migrating: (work) =>
      write(async (trx) => {
        // The same key as every earlier version, so old and new instances take turns too.
        await sql`select pg_advisory_xact_lock(hashtext(${`vpn-conns:migrate:${schema}`}))`.execute(
          trx,
        );
        await sql`create schema if not exists ${sql.id(schema)}`.execute(trx);
        return work(trx);
      }),
    async close() {
      try {
        await leaderLock.close();
      } finally {
        await db.destroy();
      }
    },
  };
}
