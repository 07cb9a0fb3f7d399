/**
 * Opens the state store a `DATABASE_URL` names: SQLite for one instance,
 * Postgres for several. One implementation (store.ts) over both; what
 * differs is in dialects.ts and leader-lock.ts.
 */
import { ConfigError } from '../errors.js';
import {
  openPostgresDialect,
  openSqliteDialect,
  type PostgresOptions,
  type StoreDialect,
} from './dialects.js';
import { migrate } from './migrate.js';
import { createStore } from './store.js';
import type { StateStore } from './types.js';

export type * from './types.js';

/** Where the state lives when `DATABASE_URL` is not set. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/vpn-conns.db';

export interface SqliteStoreOptions {
  /** The clock for lease expiry and bookkeeping columns; tests inject one. */
  now?: () => Date;
}

export interface PostgresStoreOptions extends PostgresOptions {
  /** The clock for bookkeeping columns (recorded, reported, applied); tests inject one. */
  now?: () => Date;
}

/** Options for either store; each uses those that apply to it. */
export type StoreOptions = SqliteStoreOptions & PostgresStoreOptions;

const EXPECTED = 'expected sqlite:PATH or postgres://…';

async function openMigrated(dialect: StoreDialect, now: () => Date): Promise<StateStore> {
  try {
    await migrate(dialect, now);
  } catch (error) {
    await dialect.close();
    throw error;
  }
  return createStore(dialect, now);
}

/**
 * Opens (creating if needed, with its parent directory) the SQLite state file
 * at `path` (`:memory:` for a throwaway one) and brings its schema up to date.
 */
export async function openSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Promise<StateStore> {
  const now = options.now ?? (() => new Date());
  return openMigrated(openSqliteDialect(path, now), now);
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
  return openMigrated(openPostgresDialect(url, options), now);
}

/**
 * Opens and migrates the store for `databaseUrl`: `sqlite:./relative.db`,
 * `sqlite:/absolute.db`, `sqlite::memory:`, `postgres://…` or `postgresql://…`.
 * Anything else throws a `ConfigError` naming at most the scheme, never the
 * URL, which may hold a password.
 */
export async function openStore(
  databaseUrl: string,
  options: StoreOptions = {},
): Promise<StateStore> {
  const url = databaseUrl.trim();
  if (url.toLowerCase().startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '' || path.startsWith('//')) {
      throw new ConfigError([
        `DATABASE_URL: sqlite: takes a file path (sqlite:./data/vpn-conns.db, sqlite:/abs/path.db or sqlite::memory:); ${EXPECTED}`,
      ]);
    }
    return openSqliteStore(path, options);
  }
  if (/^postgres(ql)?:\/\//i.test(url)) return openPostgresStore(url, options);
  // Only a URL-shaped scheme is named: in `user:secret@host` the text before ':' is not one.
  const scheme = /^([a-z][a-z0-9+.-]{0,19}):\/\//i.exec(url)?.[1];
  const found =
    url === '' ? 'empty' : scheme === undefined ? 'not a URL' : `unsupported scheme ${scheme}:`;
  throw new ConfigError([`DATABASE_URL: ${found}; ${EXPECTED}`]);
}
