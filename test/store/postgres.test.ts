import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { openPostgresDialect, postgresConnectionConfig } from '../../src/store/dialects.js';
import { openPostgresStore, openStore } from '../../src/store/index.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { createStore } from '../../src/store/store.js';
import type { StateStore } from '../../src/store/types.js';
import { describeStoreContract } from './store-contract.js';

const databaseUrl = inject('databaseUrl');

describe('postgresConnectionConfig', () => {
  it('turns Heroku-style sslmode=require into TLS without verification and strips it', () => {
    expect(
      postgresConnectionConfig('postgres://u:p%40ss@db.example.com:5432/d1?sslmode=require'),
    ).toEqual({
      connectionString: 'postgres://u:p%40ss@db.example.com:5432/d1',
      ssl: { rejectUnauthorized: false },
    });
    expect(
      postgresConnectionConfig('postgresql://u:p@h/d?application_name=x&sslmode=no-verify'),
    ).toEqual({
      connectionString: 'postgresql://u:p@h/d?application_name=x',
      ssl: { rejectUnauthorized: false },
    });
  });

  it('leaves other URLs to pg as they are', () => {
    for (const url of ['postgres://u:p@h:5432/d', 'postgres://u:p@h/d?sslmode=verify-full']) {
      expect(postgresConnectionConfig(url)).toEqual({ connectionString: url });
    }
  });

  it('rejects an unparsable URL without repeating it', () => {
    const attempt = () => postgresConnectionConfig('postgres://u:hunter2@[bad');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).not.toThrow(/hunter2/);
  });
});

const SKIP_REASON = databaseUrl
  ? ''
  : ' (SKIPPED: no TEST_DATABASE_URL and no Postgres server binaries in /usr/lib/postgresql)';

describe.skipIf(!databaseUrl)(`postgres${SKIP_REASON}`, () => {
  // Each run of this file works in schemas of its own, dropped at the end.
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const schemas = [schema];
  const newSchema = (): string => {
    const name = `t_${randomBytes(6).toString('hex')}`;
    schemas.push(name);
    return name;
  };

  /** Runs `use` with a plain client on the test database. */
  async function withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  }

  afterAll(async () => {
    await withClient(async (client) => {
      for (const name of schemas) {
        await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`);
      }
    });
  });

  describeStoreContract('postgres', (now) => openPostgresStore(databaseUrl, { now, schema }));

  describe('openPostgresStore', () => {
    it('migrates a fresh schema once when several instances start together', async () => {
      const fresh = newSchema();
      const stores = await Promise.all(
        [1, 2, 3].map(() => openPostgresStore(databaseUrl, { schema: fresh, poolSize: 2 })),
      );
      await Promise.all(stores.map((store) => store.close()));
      const versions = await withClient(async (client) => {
        const { rows } = await client.query<{ version: number }>(
          `SELECT version FROM ${pg.escapeIdentifier(fresh)}.schema_migrations ORDER BY version`,
        );
        return rows.map((row) => row.version);
      });
      expect(versions).toEqual(MIGRATIONS.map((migration) => migration.version));
    });

    it('keeps its tables in the schema it was given', async () => {
      const store = await openPostgresStore(databaseUrl, { schema });
      await store.close();
      const found = await withClient(async (client) => {
        const { rows } = await client.query<{ table_name: string }>(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = $1
           ORDER BY table_name`,
          [schema],
        );
        return rows.map((row) => row.table_name);
      });
      expect(found).toEqual([
        'alerts_firing',
        'audit_log',
        'concurrency_samples',
        'digest_intents',
        'digest_posts',
        'gap_reports',
        'gaps',
        'polls',
        'schema_migrations',
        'session_history',
        'session_reports',
        'sessions',
      ]);
    });

    it('is what openStore opens for postgres:// and postgresql:// URLs', async () => {
      const alternate = databaseUrl.replace(/^postgres(ql)?:/, 'postgresql:');
      for (const url of [databaseUrl, alternate]) {
        const store = await openStore(url, { schema });
        expect(store.kind).toBe('postgres');
        await store.close();
      }
    });
  });

  describe('a pooled connection the server drops', () => {
    it('is reported, replaced, and does not take the process down', async () => {
      const warnings: string[] = [];
      const dialect = openPostgresDialect(databaseUrl, {
        schema,
        poolSize: 1,
        logger: { warn: (...message) => warnings.push(message.map(String).join(' ')) },
      });
      const store = createStore(dialect, () => new Date());
      try {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(
          dialect.db,
        );
        const pid = rows[0]?.pid;
        await withClient((client) => client.query('SELECT pg_terminate_backend($1)', [pid]));
        // The idle connection's error reaches the pool's listener, not an uncaught exception.
        await vi.waitFor(() => expect(warnings.join('\n')).toMatch(/connection lost/));
        await store.recordPoll('cvpn-endpoint-dropped', new Date(0));
        expect(await store.lastPoll('cvpn-endpoint-dropped')).toEqual(new Date(0));
      } finally {
        await store.close();
      }
    });
  });

  describe('leadership across instances', () => {
    const opened: StateStore[] = [];
    const open = async (): Promise<StateStore> => {
      const store = await openPostgresStore(databaseUrl, { schema, poolSize: 1 });
      opened.push(store);
      return store;
    };
    afterAll(async () => {
      await Promise.all(opened.map((store) => store.close()));
    });
    const lockName = () => `test-${randomBytes(6).toString('hex')}`;

    it('passes to the second instance when the first one closes (its process dies)', async () => {
      const [first, second] = [await open(), await open()];
      const lead = lockName();
      expect(await first.tryLead(lead, 'instance-1', 60_000)).toBe(true);
      expect(await second.tryLead(lead, 'instance-2', 60_000)).toBe(false);
      await first.close();
      await vi.waitFor(async () => {
        expect(await second.tryLead(lead, 'instance-2', 60_000)).toBe(true);
      });
    });

    it('is lost by an instance whose connection the server drops', async () => {
      const [first, second] = [await open(), await open()];
      const lead = lockName();
      expect(await first.tryLead(lead, 'instance-1', 60_000)).toBe(true);
      const terminated = await withClient(async (client) => {
        // The backend holding this advisory lock: key hashtext(...) as int8, low 32 bits in objid.
        const { rows } = await client.query<{ done: boolean }>(
          `SELECT pg_terminate_backend(pid) AS done FROM pg_locks
           WHERE locktype = 'advisory' AND granted AND objsubid = 1
             AND objid::text::bigint = (hashtext($1)::bigint & 4294967295)`,
          [`vpn-conns:${lead}`],
        );
        return rows.length;
      });
      expect(terminated).toBe(1);
      await vi.waitFor(async () => {
        expect(await second.tryLead(lead, 'instance-2', 60_000)).toBe(true);
      });
      // The first instance notices (an error or false), never believes it still leads.
      await vi.waitFor(async () => {
        expect(await first.tryLead(lead, 'instance-1', 60_000)).toBe(false);
      });
      await second.releaseLead(lead, 'instance-2');
      expect(await first.tryLead(lead, 'instance-1', 60_000)).toBe(true);
    });
  });
});
