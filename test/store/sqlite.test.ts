import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_DATABASE_URL, openSqliteStore, openStore } from '../../src/store/index.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import type { StateStore } from '../../src/store/types.js';
import { describeStoreContract } from './store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'vpn-conns-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One file for the whole contract suite, in a directory the store has to create.
const contractFile = join(dir, 'nested', 'deeper', 'contract.db');
describeStoreContract('sqlite', (now) => openSqliteStore(contractFile, { now }));

/** Opens a store, runs `use`, closes it whatever happens. */
async function withStore<T>(
  open: Promise<StateStore>,
  use: (store: StateStore) => Promise<T>,
): Promise<T> {
  const store = await open;
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

describe('openSqliteStore', () => {
  it('creates the file in WAL mode and records each migration once', async () => {
    const file = join(dir, 'fresh', 'state.db');
    await Promise.all([openSqliteStore(file), openSqliteStore(file)]).then((stores) =>
      Promise.all(stores.map((store) => store.close())),
    );
    await withStore(openSqliteStore(file), async () => {});
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const versions = db
        .prepare<[], { version: number }>('SELECT version FROM schema_migrations ORDER BY version')
        .all()
        .map((row) => row.version);
      expect(versions).toEqual(MIGRATIONS.map((migration) => migration.version));
    } finally {
      db.close();
    }
  });

  it('keeps each :memory: store to itself', async () => {
    await withStore(openSqliteStore(':memory:'), async (first) => {
      await first.recordPoll('cvpn-endpoint-1', new Date(0));
      await withStore(openSqliteStore(':memory:'), async (second) => {
        expect(await second.lastPoll('cvpn-endpoint-1')).toBeNull();
      });
      expect(await first.lastPoll('cvpn-endpoint-1')).toEqual(new Date(0));
    });
  });

  it('lets a lease lapse ttlMs after its last renewal, by the injected clock', async () => {
    const file = join(dir, 'leases.db');
    let clock = 1_000_000;
    const now = () => new Date(clock);
    const a = await openSqliteStore(file, { now });
    const b = await openSqliteStore(file, { now });
    try {
      expect(await a.tryLead('collector', 'instance-a', 10_000)).toBe(true);
      clock += 6_000;
      expect(await a.tryLead('collector', 'instance-a', 10_000)).toBe(true);
      clock += 9_999;
      expect(await b.tryLead('collector', 'instance-b', 10_000)).toBe(false);
      // instance-a stops renewing (its process died): the lease lapses at its expiry.
      clock += 1;
      expect(await b.tryLead('collector', 'instance-b', 10_000)).toBe(true);
      expect(await a.tryLead('collector', 'instance-a', 10_000)).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('openStore', () => {
  it('opens sqlite:/absolute/path and sqlite::memory:', async () => {
    await withStore(openStore(`sqlite:${join(dir, 'by-url', 'state.db')}`), async (store) => {
      expect(store.kind).toBe('sqlite');
    });
    await withStore(openStore('sqlite::memory:'), async (store) => {
      expect(store.kind).toBe('sqlite');
    });
  });

  it('defaults to a SQLite file under ./data', () => {
    expect(DEFAULT_DATABASE_URL).toBe('sqlite:./data/vpn-conns.db');
  });

  it.each([
    ['mysql://admin:hunter2@db.example.com/vpn', 'unsupported scheme mysql:'],
    ['admin:hunter2@db.example.com/vpn', 'not a URL'],
    ['', 'empty'],
    ['sqlite:', 'sqlite: takes a file path'],
    ['sqlite://admin:hunter2@host/x', 'sqlite: takes a file path'],
  ])('rejects %j naming at most its scheme', async (url, problem) => {
    const error = await openStore(url).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    const problems = error instanceof ConfigError ? error.problems : [];
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DATABASE_URL: /);
    expect(problems[0]).toContain(problem);
    expect(problems[0]).toContain('expected sqlite:PATH or postgres://…');
    expect(String(error)).not.toContain('hunter2');
    expect(String(error)).not.toContain('db.example.com');
  });
});
