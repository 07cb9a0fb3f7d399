/**
 * Opens the state store a `DATABASE_URL` names: SQLite for one instance,
 * Postgres for several.
 */
import { ConfigError } from '../errors.js';
import { openPostgresStore, type PostgresStoreOptions } from './postgres.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { StateStore } from './types.js';

export type * from './types.js';

/** Where the state lives when `DATABASE_URL` is not set. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/vpn-conns.db';

/** Options for either store; each uses those that apply to it. */
export type StoreOptions = SqliteStoreOptions & PostgresStoreOptions;

const EXPECTED = 'expected sqlite:PATH or postgres://…';

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
