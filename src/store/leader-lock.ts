/**
 * How an instance leads (collects and posts) while others wait, per database:
 * SQLite a lease row renewed before each unit of work, Postgres a session
 * advisory lock held on a dedicated connection, so that it is lost exactly
 * when that connection dies (process death included).
 */
import type { Kysely } from 'kysely';
import type { ClientConfig } from 'pg';
import pg from 'pg';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Database } from './schema.js';

/** The store's leadership calls (see `StateStore.tryLead`), as each database implements them. */
export interface LeaderLock {
  tryLead(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLead(name: string, holder: string): Promise<void>;
  close(): Promise<void>;
}

type Write = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;

/** Leases in the `leases` table: held until `ttlMs` after the holder's last renewal. */
export function createLeaseLock(write: Write, now: () => Date): LeaderLock {
  return {
    tryLead: (name, holder, ttlMs) =>
      write(async (trx) => {
        const at = now();
        const result = await trx
          .insertInto('leases')
          .values({ name, holder, expires_at: new Date(at.getTime() + ttlMs) })
          .onConflict((conflict) =>
            conflict
              .column('name')
              .doUpdateSet((eb) => ({
                holder: eb.ref('excluded.holder'),
                expires_at: eb.ref('excluded.expires_at'),
              }))
              .where((eb) =>
                eb.or([
                  eb('leases.holder', '=', eb.ref('excluded.holder')),
                  eb('leases.expires_at', '<=', at),
                ]),
              ),
          )
          .executeTakeFirst();
        return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
      }),
    releaseLead: async (name, holder) => {
      await write((trx) =>
        trx.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute(),
      );
    },
    close: async () => {},
  };
}

/** The advisory lock key of a lead; the same as every earlier version, so old and new instances contend. */
function lockKey(name: string): string {
  return `vpn-conns:${name}`;
}

interface LeaderConnection {
  client: pg.Client;
  ready: Promise<void>;
}

/**
 * Session advisory locks on one dedicated connection (outside the pool, which
 * would hand the connection to other work). Calls run one at a time: advisory
 * locks are re-entrant, so two overlapping acquisitions would need two unlocks.
 */
export class AdvisoryLock implements LeaderLock {
  readonly #connection: ClientConfig;
  readonly #logger: Pick<Logger, 'warn'> | undefined;
  #closed = false;
  #leader: LeaderConnection | null = null;
  // Leads this instance holds: name → holder. Valid only while #leader is the same connection.
  readonly #held = new Map<string, string>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(connection: ClientConfig, logger: Pick<Logger, 'warn'> | undefined) {
    this.#connection = connection;
    this.#logger = logger;
  }

  // ttlMs is unused: the lock lasts as long as the leadership connection, and
  // the server releases it when that connection closes.
  tryLead(name: string, holder: string): Promise<boolean> {
    return this.#serially(async () => {
      const current = this.#held.get(name);
      if (current !== undefined && current !== holder) return false;
      const client = await this.#leaderConnection();
      try {
        if (current === holder) {
          // Still ours as long as the connection lives; prove that it does.
          await client.query('SELECT 1');
          return this.#held.get(name) === holder;
        }
        const { rows } = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
          [lockKey(name)],
        );
        const locked = rows[0]?.locked === true;
        if (locked) this.#held.set(name, holder);
        return locked;
      } catch (error) {
        this.#abandon(client);
        throw error;
      }
    });
  }

  releaseLead(name: string, holder: string): Promise<void> {
    return this.#serially(async () => {
      if (this.#held.get(name) !== holder || this.#leader === null) return;
      const { client } = this.#leader;
      this.#held.delete(name);
      try {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey(name)]);
      } catch (error) {
        this.#abandon(client);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#serially(async () => {
      const current = this.#leader;
      if (current === null) return;
      this.#forget(current.client);
      await current.client.end();
    });
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #forget(client: pg.Client): void {
    if (this.#leader?.client !== client) return;
    this.#leader = null;
    this.#held.clear();
  }

  // The connection is in doubt: end it, so that whatever it held is released by the server.
  #abandon(client: pg.Client): void {
    this.#forget(client);
    client.end().catch(() => undefined);
  }

  async #leaderConnection(): Promise<pg.Client> {
    if (this.#closed) throw new Error('The state store is closed');
    let current = this.#leader;
    if (current === null) {
      const client = new pg.Client({ ...this.#connection, application_name: 'vpn-conns leader' });
      client.on('error', (error) => {
        this.#logger?.warn(`state store leadership connection lost: ${describeError(error)}`);
        this.#forget(client);
      });
      client.on('end', () => this.#forget(client));
      const ready = client.connect().then(
        () => undefined,
        (error: unknown) => {
          this.#forget(client);
          throw error;
        },
      );
      current = { client, ready };
      this.#leader = current;
    }
    await current.ready;
    return current.client;
  }
}
