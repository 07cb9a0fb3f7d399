/**
 * The session history's queries (issue 11): one row per session the
 * collector saw, written once per poll in bulk, and the concurrency samples.
 * Written once for both databases like store.ts; bulk input through the
 * dialect's `rowsOf`.
 *
 * The write path is an upsert (INSERT … SELECT … ON CONFLICT DO UPDATE) of
 * the poll's rows alone: unlike the digest's UPDATE … FROM, it touches only
 * the conflicting rows by their primary key, never a scan of the table, so a
 * poll costs the same with 90 days of history as with none.
 */
import { type Insertable, type Kysely, type Selectable, type SqlBool, sql } from 'kysely';
import type { InputColumns, StoreDialect } from './dialects.js';
import type { Database, SessionHistoryTable } from './schema.js';
import {
  type HistoryPoll,
  type HistoryQuery,
  type HistorySession,
  type HistoryWrite,
  type StoredSample,
  toHistoryStatus,
  type UsageSession,
} from './types.js';

/** Rows per statement, as in store.ts. */
const ROWS_PER_STATEMENT = 10_000;
/** Sessions read per page by `historySessions`. */
const PAGE_SIZE = 5_000;

const HISTORY_INPUT: InputColumns<Insertable<SessionHistoryTable>> = [
  ['endpoint_id', 'text'],
  ['connection_id', 'text'],
  ['username', 'text'],
  ['common_name', 'text'],
  ['client_ip', 'text'],
  ['client_ipv6', 'text'],
  ['status', 'text'],
  ['posture', 'text'],
  ['started_at', 'time'],
  ['ended_at', 'time'],
  ['ingress_bytes', 'integer'],
  ['egress_bytes', 'integer'],
  ['ingress_packets', 'integer'],
  ['egress_packets', 'integer'],
  ['first_seen_at', 'time'],
  ['last_seen_at', 'time'],
];

const HISTORY_COLUMNS = HISTORY_INPUT.map(([name]) => name);

const KEY_INPUT = HISTORY_INPUT.slice(0, 2);

/** Each session once per call, the last occurrence winning. */
function uniqueRows(poll: HistoryPoll): Insertable<SessionHistoryTable>[] {
  const byKey = new Map<string, Insertable<SessionHistoryTable>>();
  for (const s of poll.sessions) {
    byKey.set(JSON.stringify([s.endpointId, s.connectionId]), {
      endpoint_id: s.endpointId,
      connection_id: s.connectionId,
      username: s.username,
      common_name: s.commonName,
      client_ip: s.clientIp,
      client_ipv6: s.clientIpv6,
      status: s.status,
      posture: JSON.stringify(s.postureCompliance),
      started_at: s.startedAt ?? poll.at,
      ended_at: s.endedAt,
      ingress_bytes: s.ingressBytes,
      egress_bytes: s.egressBytes,
      ingress_packets: s.ingressPackets,
      egress_packets: s.egressPackets,
      first_seen_at: poll.at,
      last_seen_at: poll.at,
    });
  }
  return [...byKey.values()];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}

/** How many of `rows` the history does not hold yet: a primary-key lookup each. */
async function countNew(
  dialect: StoreDialect,
  trx: Kysely<Database>,
  rows: readonly Insertable<SessionHistoryTable>[],
): Promise<number> {
  const row = await trx
    .selectFrom(dialect.rowsOf(KEY_INPUT, rows))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('session_history as h')
            .select('h.endpoint_id')
            .whereRef('h.endpoint_id', '=', 'input.endpoint_id')
            .whereRef('h.connection_id', '=', 'input.connection_id'),
        ),
      ),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Inserts new sessions and updates known ones that are still open or whose
 * status, end or counters changed (an ended session AWS lists for another
 * hour is left alone). Returns how many were new.
 */
async function upsertSessions(
  dialect: StoreDialect,
  trx: Kysely<Database>,
  rows: readonly Insertable<SessionHistoryTable>[],
): Promise<number> {
  const added = await countNew(dialect, trx, rows);
  await trx
    .insertInto('session_history')
    .columns(HISTORY_COLUMNS)
    .expression(
      trx
        .selectFrom(dialect.rowsOf(HISTORY_INPUT, rows))
        .select(HISTORY_COLUMNS.map((name) => `input.${name}` as const))
        // SQLite's: the SELECT of an INSERT … ON CONFLICT needs a WHERE.
        .where(sql<SqlBool>`true`),
    )
    .onConflict((conflict) =>
      conflict
        .columns(['endpoint_id', 'connection_id'])
        .doUpdateSet((eb) => ({
          username: eb.ref('excluded.username'),
          common_name: eb.ref('excluded.common_name'),
          client_ip: eb.ref('excluded.client_ip'),
          client_ipv6: eb.ref('excluded.client_ipv6'),
          status: eb.ref('excluded.status'),
          posture: eb.ref('excluded.posture'),
          ended_at: eb.ref('excluded.ended_at'),
          ingress_bytes: eb.ref('excluded.ingress_bytes'),
          egress_bytes: eb.ref('excluded.egress_bytes'),
          ingress_packets: eb.ref('excluded.ingress_packets'),
          egress_packets: eb.ref('excluded.egress_packets'),
          last_seen_at: eb.ref('excluded.last_seen_at'),
        }))
        .where((eb) =>
          eb.or([
            eb('session_history.ended_at', 'is', null),
            eb('session_history.status', 'is distinct from', eb.ref('excluded.status')),
            eb('session_history.ended_at', 'is distinct from', eb.ref('excluded.ended_at')),
            eb(
              'session_history.ingress_bytes',
              'is distinct from',
              eb.ref('excluded.ingress_bytes'),
            ),
            eb('session_history.egress_bytes', 'is distinct from', eb.ref('excluded.egress_bytes')),
          ]),
        ),
    )
    .execute();
  return added;
}

/** Records one poll; see `StateStore.recordHistory`. */
export async function recordHistory(
  dialect: StoreDialect,
  poll: HistoryPoll,
): Promise<HistoryWrite> {
  const rows = uniqueRows(poll);
  return dialect.write(async (trx) => {
    let added = 0;
    for (const chunk of chunks(rows, ROWS_PER_STATEMENT)) {
      added += await upsertSessions(dialect, trx, chunk);
    }
    // Open sessions this poll did not list: every listed one now has last_seen_at = at.
    const closed = await trx
      .updateTable('session_history')
      .set((eb) => ({ ended_at: eb.ref('last_seen_at'), status: 'terminated' }))
      .where('endpoint_id', '=', poll.endpointId)
      .where('ended_at', 'is', null)
      .where('last_seen_at', '<', poll.at)
      .executeTakeFirst();
    await trx
      .insertInto('concurrency_samples')
      .values({ endpoint_id: poll.endpointId, at: poll.at, active: poll.active })
      .onConflict((conflict) => conflict.columns(['endpoint_id', 'at']).doNothing())
      .execute();
    return { added, closed: Number(closed.numUpdatedRows) };
  });
}

type HistoryRow = Selectable<SessionHistoryTable>;

function toHistorySession(row: HistoryRow): HistorySession {
  const posture: unknown = JSON.parse(row.posture);
  return {
    endpointId: row.endpoint_id,
    connectionId: row.connection_id,
    username: row.username,
    commonName: row.common_name,
    clientIp: row.client_ip,
    clientIpv6: row.client_ipv6,
    status: toHistoryStatus(row.status),
    postureCompliance: Array.isArray(posture) ? posture.map(String) : [],
    startedAt: row.started_at,
    endedAt: row.ended_at,
    ingressBytes: row.ingress_bytes,
    egressBytes: row.egress_bytes,
    ingressPackets: row.ingress_packets,
    egressPackets: row.egress_packets,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
  };
}

/**
 * The earliest start among the sessions a query's window can hold: those
 * ended at or after `from`, and the open ones. Both read from the
 * (ended_at, started_at) index alone.
 */
async function earliestStart(dialect: StoreDialect, query: HistoryQuery): Promise<Date | null> {
  const ended = await dialect.db
    .selectFrom('session_history')
    .select((eb) => eb.fn.min('started_at').as('start_at'))
    .where('ended_at', '>=', query.from)
    .executeTakeFirst();
  const open = await dialect.db
    .selectFrom('session_history')
    .select((eb) => eb.fn.min('started_at').as('start_at'))
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  const starts = [ended?.start_at, open?.start_at].filter((d): d is Date => d instanceof Date);
  if (starts.length === 0) return null;
  return new Date(Math.min(...starts.map((d) => d.getTime())));
}

/**
 * One page of a history query after `after` (the last row of the previous
 * page), from `earliest` on. Only the start is an indexed range, so both
 * databases walk the start index in order, with no sort and no OR of two
 * indexes: an open session counts as ending at `to` (coalesce).
 */
function historyPage<C extends keyof HistoryRow>(
  dialect: StoreDialect,
  columns: readonly C[],
  query: HistoryQuery,
  earliest: Date,
  after: Pick<HistoryRow, KeyColumn> | null,
) {
  let select = dialect.db
    .selectFrom('session_history')
    .select([...new Set<C | KeyColumn>([...columns, ...KEY_COLUMNS])])
    .where('started_at', '>=', after?.started_at ?? earliest)
    .where('started_at', '<', query.to)
    .where((eb) => eb(eb.fn.coalesce('ended_at', eb.val(query.to)), '>=', query.from));
  if (query.endpointIds !== 'all') {
    select = select.where(dialect.anyOfUnindexed('endpoint_id', query.endpointIds));
  }
  const person = query.person;
  if (person !== undefined) {
    // As `user NAME` on live connections: the user name, or a certificate common name that is the
    // name or starts with it up to a `.` or `@` (any case). The caller applies `matchUser` exactly.
    const wanted = escapeLike(person.toLowerCase());
    select = select.where((eb) =>
      eb.or([
        eb('username', '=', person),
        sql<SqlBool>`lower(common_name) = ${person.toLowerCase()}`,
        sql<SqlBool>`lower(common_name) like ${`${wanted}.%`} escape '\\'`,
        sql<SqlBool>`lower(common_name) like ${`${wanted}@%`} escape '\\'`,
      ]),
    );
  }
  if (after !== null) {
    // The tuple breaks ties between sessions that started in the same millisecond.
    select = select.where((eb) =>
      eb(
        eb.refTuple('started_at', 'endpoint_id', 'connection_id'),
        '>',
        eb.tuple(after.started_at, after.endpoint_id, after.connection_id),
      ),
    );
  }
  return select
    .orderBy('started_at')
    .orderBy('endpoint_id')
    .orderBy('connection_id')
    .limit(PAGE_SIZE)
    .execute();
}

/** The columns keyset paging reads back. */
const KEY_COLUMNS = ['started_at', 'endpoint_id', 'connection_id'] as const;
type KeyColumn = (typeof KEY_COLUMNS)[number];

/** Rows of a query, a page at a time (keyset paging: no cursor held between pages). */
async function* historyRows<C extends keyof HistoryRow>(
  dialect: StoreDialect,
  columns: readonly C[],
  query: HistoryQuery,
): AsyncGenerator<Pick<HistoryRow, C | KeyColumn>> {
  if (query.endpointIds !== 'all' && query.endpointIds.length === 0) return;
  const earliest = await earliestStart(dialect, query);
  if (earliest === null) return;
  let after: Pick<HistoryRow, KeyColumn> | null = null;
  for (;;) {
    // Kysely cannot follow a generic column list through the select: the columns are C and the key.
    const page: unknown[] = await historyPage(dialect, columns, query, earliest, after);
    const rows = page as Pick<HistoryRow, C | KeyColumn>[];
    yield* rows;
    if (rows.length < PAGE_SIZE) return;
    after = rows[rows.length - 1] ?? null;
  }
}

const ALL_COLUMNS = HISTORY_COLUMNS;

/** The sessions a query selects, ordered by start. */
export async function* historySessions(
  dialect: StoreDialect,
  query: HistoryQuery,
): AsyncGenerator<HistorySession> {
  for await (const row of historyRows(dialect, ALL_COLUMNS, query)) yield toHistorySession(row);
}

const USAGE_COLUMNS = [
  'endpoint_id',
  'connection_id',
  'username',
  'common_name',
  'started_at',
  'ended_at',
  'ingress_bytes',
  'egress_bytes',
] as const;

/** What a usage report reads of the sessions a query selects, ordered by start. */
export async function* historyUsage(
  dialect: StoreDialect,
  query: HistoryQuery,
): AsyncGenerator<UsageSession> {
  for await (const row of historyRows(dialect, USAGE_COLUMNS, query)) {
    yield {
      endpointId: row.endpoint_id,
      connectionId: row.connection_id,
      username: row.username,
      commonName: row.common_name,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      ingressBytes: row.ingress_bytes,
      egressBytes: row.egress_bytes,
    };
  }
}

/** Samples of these endpoints in [from, to). */
export async function concurrencySamples(
  dialect: StoreDialect,
  endpointIds: readonly string[] | 'all',
  from: Date,
  to: Date,
): Promise<StoredSample[]> {
  if (endpointIds !== 'all' && endpointIds.length === 0) return [];
  let select = dialect.db
    .selectFrom('concurrency_samples')
    .select(['endpoint_id', 'at', 'active'])
    .where('at', '>=', from)
    .where('at', '<', to);
  if (endpointIds !== 'all') select = select.where(dialect.anyOf('endpoint_id', endpointIds));
  const rows = await select.orderBy('at').orderBy('endpoint_id').execute();
  return rows.map((row) => ({ endpointId: row.endpoint_id, at: row.at, active: row.active }));
}

/** The first sample's time, or null. */
export async function historyStartsAt(dialect: StoreDialect): Promise<Date | null> {
  const row = await dialect.db
    .selectFrom('concurrency_samples')
    .select('at')
    .orderBy('at')
    .limit(1)
    .executeTakeFirst();
  return row?.at ?? null;
}

/** Deletes sessions that ended, and samples taken, before `before`. */
export async function pruneHistory(dialect: StoreDialect, before: Date): Promise<number> {
  return dialect.write(async (trx) => {
    const sessions = await trx
      .deleteFrom('session_history')
      .where('ended_at', '<', before)
      .executeTakeFirst();
    const samples = await trx
      .deleteFrom('concurrency_samples')
      .where('at', '<', before)
      .executeTakeFirst();
    return Number(sessions.numDeletedRows) + Number(samples.numDeletedRows);
  });
}

/** `text` as a literal inside a LIKE pattern whose escape character is `\`. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
