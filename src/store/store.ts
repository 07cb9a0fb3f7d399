/**
 * The state store's queries, written once for SQLite and Postgres with
 * Kysely. What differs between the databases is in dialects.ts; this file
 * only sees `Date`s, numbers and string lists.
 */
import {
  type AliasedRawBuilder,
  type ExpressionBuilder,
  type Insertable,
  type Kysely,
  type Selectable,
  type SqlBool,
  sql,
} from 'kysely';
import {
  clearFiringAlert,
  endpointActivity,
  firingAlerts,
  peopleSeen,
  recordFiringAlert,
  setAlertPosted,
} from './alerts.js';
import type { InputColumns, StoreDialect } from './dialects.js';
import {
  concurrencySamples,
  historySessions,
  historyStartsAt,
  historyUsage,
  pruneHistory,
  recordHistory,
} from './history.js';
import type { Database, SessionsTable } from './schema.js';
import { readTextList } from './schema.js';
import {
  type AuditEntry,
  type CoverageGap,
  type DigestIntent,
  type DigestPost,
  type EndedSession,
  latestPerSession,
  parseIntentLists,
  type SessionKey,
  type StateStore,
  toSessionStatus,
} from './types.js';

/** What every query needs: the database and the clock for bookkeeping columns. */
interface Context {
  readonly dialect: StoreDialect;
  readonly db: Kysely<Database>;
  readonly now: () => Date;
}

/**
 * Rows (or keys) per statement: bounds what one statement carries whatever a
 * call brings, and large, as a statement may hash the whole table once
 * (Postgres's plan for UPDATE … FROM) and SQLite allows 32,766 parameters.
 */
const ROWS_PER_STATEMENT = 10_000;

const SESSION_COLUMNS = [
  'endpoint_id',
  'connection_id',
  'username',
  'common_name',
  'client_ip',
  'client_ipv6',
  'status',
  'established_at',
  'ended_at',
  'ingress_bytes',
  'egress_bytes',
] as const;

type SessionRow = Pick<Selectable<SessionsTable>, (typeof SESSION_COLUMNS)[number]>;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}

function toSession(row: SessionRow): EndedSession {
  return {
    endpointId: row.endpoint_id,
    connectionId: row.connection_id,
    username: row.username,
    commonName: row.common_name,
    clientIp: row.client_ip,
    clientIpv6: row.client_ipv6,
    status: toSessionStatus(row.status),
    establishedAt: row.established_at,
    endedAt: row.ended_at,
    ingressBytes: row.ingress_bytes,
    egressBytes: row.egress_bytes,
  };
}

function toSessionRow(session: EndedSession, recordedAt: Date): Insertable<SessionsTable> {
  return {
    endpoint_id: session.endpointId,
    connection_id: session.connectionId,
    username: session.username,
    common_name: session.commonName,
    client_ip: session.clientIp,
    client_ipv6: session.clientIpv6,
    status: session.status,
    established_at: session.establishedAt,
    ended_at: session.endedAt,
    ingress_bytes: session.ingressBytes,
    egress_bytes: session.egressBytes,
    recorded_at: recordedAt,
  };
}

/** Whether some digest (`digestId` unset: any) reported the row of `sessions` in scope. */
function reported(
  eb: ExpressionBuilder<Database, 'sessions'>,
  digestId?: string,
): ReturnType<ExpressionBuilder<Database, 'sessions'>['exists']> {
  let marks = eb
    .selectFrom('session_reports as r')
    .select('r.digest_id')
    .whereRef('r.endpoint_id', '=', 'sessions.endpoint_id')
    .whereRef('r.connection_id', '=', 'sessions.connection_id');
  if (digestId !== undefined) marks = marks.where('r.digest_id', '=', digestId);
  return eb.exists(marks);
}

/** The columns of a recorded session, in the order bulk input gives them. */
const SESSION_INPUT: InputColumns<Insertable<SessionsTable>> = [
  ['endpoint_id', 'text'],
  ['connection_id', 'text'],
  ['username', 'text'],
  ['common_name', 'text'],
  ['client_ip', 'text'],
  ['client_ipv6', 'text'],
  ['status', 'text'],
  ['established_at', 'time'],
  ['ended_at', 'time'],
  ['ingress_bytes', 'integer'],
  ['egress_bytes', 'integer'],
  ['recorded_at', 'time'],
];

const SESSION_INPUT_COLUMNS = SESSION_INPUT.map(([name]) => name);

/** What may change of a recorded session (and its key): all an update needs sent. */
const SESSION_CHANGE_INPUT = SESSION_INPUT.filter(([name]) =>
  ['endpoint_id', 'connection_id', 'status', 'ended_at', 'ingress_bytes', 'egress_bytes'].includes(
    name,
  ),
);

/** Sessions to record, as the table `input` of the statements below. */
type SessionInput = AliasedRawBuilder<Insertable<SessionsTable>, 'input'>;

/**
 * Inserts the sessions not recorded yet; returns how many. The WHERE is
 * SQLite's: the SELECT of an INSERT … ON CONFLICT needs one.
 */
async function insertNew(trx: Kysely<Database>, input: SessionInput): Promise<number> {
  const result = await trx
    .insertInto('sessions')
    .columns(SESSION_INPUT_COLUMNS)
    .expression(
      trx
        .selectFrom(input)
        .select(SESSION_INPUT_COLUMNS.map((name) => `input.${name}` as const))
        .where(sql<SqlBool>`true`),
    )
    .onConflict((conflict) => conflict.columns(['endpoint_id', 'connection_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

/**
 * Updates sessions already recorded, not yet reported by any digest, whose
 * status, end or byte counts changed. UPDATE … FROM rather than an upsert:
 * Postgres locks (writes) every conflicting row of an upsert, changed or not.
 */
async function updateUnreported(trx: Kysely<Database>, input: SessionInput): Promise<void> {
  await trx
    .updateTable('sessions')
    .from(input)
    .set((eb) => ({
      status: eb.ref('input.status'),
      ended_at: eb.ref('input.ended_at'),
      ingress_bytes: eb.ref('input.ingress_bytes'),
      egress_bytes: eb.ref('input.egress_bytes'),
    }))
    .whereRef('sessions.endpoint_id', '=', 'input.endpoint_id')
    .whereRef('sessions.connection_id', '=', 'input.connection_id')
    .where((eb) =>
      eb.or([
        eb('sessions.status', 'is distinct from', eb.ref('input.status')),
        eb('sessions.ended_at', 'is distinct from', eb.ref('input.ended_at')),
        eb('sessions.ingress_bytes', 'is distinct from', eb.ref('input.ingress_bytes')),
        eb('sessions.egress_bytes', 'is distinct from', eb.ref('input.egress_bytes')),
      ]),
    )
    .where((eb) => eb.not(reported(eb)))
    .execute();
}

async function recordSessions(ctx: Context, sessions: readonly EndedSession[]): Promise<number> {
  const unique = latestPerSession(sessions);
  if (unique.length === 0) return 0;
  const recordedAt = ctx.now();
  return ctx.dialect.write(async (trx) => {
    let added = 0;
    for (const chunk of chunks(unique, ROWS_PER_STATEMENT)) {
      const rows = chunk.map((session) => toSessionRow(session, recordedAt));
      const fresh = await insertNew(trx, ctx.dialect.rowsOf(SESSION_INPUT, rows));
      added += fresh;
      // Only when some were recorded before: a poll of new sessions is one statement.
      if (fresh < rows.length) {
        await updateUnreported(trx, ctx.dialect.rowsOf(SESSION_CHANGE_INPUT, rows));
      }
    }
    return added;
  });
}

async function lastPoll(db: Kysely<Database>, endpointId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('polls')
    .select('last_success_at')
    .where('endpoint_id', '=', endpointId)
    .executeTakeFirst();
  return row?.last_success_at ?? null;
}

async function recordPoll(ctx: Context, endpointId: string, at: Date): Promise<Date | null> {
  return ctx.dialect.write(async (trx) => {
    const previous = await lastPoll(trx, endpointId);
    await trx
      .insertInto('polls')
      .values({ endpoint_id: endpointId, last_success_at: at })
      .onConflict((conflict) =>
        conflict
          .column('endpoint_id')
          .doUpdateSet((eb) => ({ last_success_at: eb.ref('excluded.last_success_at') })),
      )
      .execute();
    return previous;
  });
}

async function recordGap(ctx: Context, endpointId: string, from: Date, to: Date): Promise<void> {
  const recordedAt = ctx.now();
  await ctx.dialect.write((trx) =>
    trx
      .insertInto('gaps')
      .values({ endpoint_id: endpointId, from_at: from, to_at: to, recorded_at: recordedAt })
      .execute(),
  );
}

/** Sessions of these endpoints ending at or after `notBefore` that `digestId` has not reported. */
function unreportedSessions(
  ctx: Context,
  digestId: string,
  endpointIds: readonly string[],
  notBefore: Date,
) {
  return ctx.db
    .selectFrom('sessions')
    .where(ctx.dialect.anyOf('sessions.endpoint_id', endpointIds))
    .where('sessions.ended_at', '>=', notBefore)
    .where((eb) => eb.not(reported(eb, digestId)));
}

async function pendingSessions(
  ctx: Context,
  digestId: string,
  endpointIds: readonly string[],
  endedBefore: Date,
  notBefore: Date,
): Promise<EndedSession[]> {
  if (endpointIds.length === 0) return [];
  const rows = await unreportedSessions(ctx, digestId, endpointIds, notBefore)
    .select(SESSION_COLUMNS)
    .where('sessions.ended_at', '<', endedBefore)
    .orderBy('sessions.ended_at')
    .orderBy('sessions.endpoint_id')
    .orderBy('sessions.connection_id')
    .execute();
  return rows.map(toSession);
}

async function countPending(
  ctx: Context,
  digestId: string,
  endpointIds: readonly string[],
  notBefore: Date,
): Promise<number> {
  if (endpointIds.length === 0) return 0;
  const row = await unreportedSessions(ctx, digestId, endpointIds, notBefore)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

async function pendingGaps(
  ctx: Context,
  digestId: string,
  endpointIds: readonly string[],
): Promise<CoverageGap[]> {
  if (endpointIds.length === 0) return [];
  const rows = await ctx.db
    .selectFrom('gaps as g')
    .select(['g.id', 'g.endpoint_id', 'g.from_at', 'g.to_at'])
    .where(ctx.dialect.anyOf('g.endpoint_id', endpointIds))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('gap_reports as r')
            .select('r.gap_id')
            .where('r.digest_id', '=', digestId)
            .whereRef('r.gap_id', '=', 'g.id'),
        ),
      ),
    )
    .orderBy('g.from_at')
    .orderBy('g.id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    endpointId: row.endpoint_id,
    from: row.from_at,
    to: row.to_at,
  }));
}

/** Connection ids per endpoint, each once: a digest spans few endpoints, so one `IN` list each. */
function connectionsByEndpoint(keys: readonly SessionKey[]): Map<string, string[]> {
  const byEndpoint = new Map<string, Set<string>>();
  for (const { endpointId, connectionId } of keys) {
    const ids = byEndpoint.get(endpointId) ?? new Set<string>();
    ids.add(connectionId);
    byEndpoint.set(endpointId, ids);
  }
  return new Map([...byEndpoint].map(([endpoint, ids]) => [endpoint, [...ids]]));
}

/**
 * Marks the recorded sessions among `keys` reported by `digestId`; returns
 * how many were newly marked. INSERT … SELECT: a session the store no longer
 * holds (pruned meanwhile) is skipped, not an error.
 */
async function markSessions(
  ctx: Context,
  trx: Kysely<Database>,
  digestId: string,
  keys: readonly SessionKey[],
  reportedAt: Date,
): Promise<number> {
  let marked = 0;
  for (const [endpointId, connectionIds] of connectionsByEndpoint(keys)) {
    for (const chunk of chunks(connectionIds, ROWS_PER_STATEMENT)) {
      const result = await trx
        .insertInto('session_reports')
        .columns(['digest_id', 'endpoint_id', 'connection_id', 'reported_at'])
        .expression((eb) =>
          eb
            .selectFrom('sessions')
            .select([
              eb.val(digestId).as('digest_id'),
              'endpoint_id',
              'connection_id',
              // A typed parameter: Postgres would read an untyped one in a select list as text.
              eb.cast<Date>(eb.val(reportedAt), ctx.dialect.columns.timestamp).as('reported_at'),
            ])
            .where('endpoint_id', '=', endpointId)
            .where(ctx.dialect.anyOf('connection_id', chunk)),
        )
        .onConflict((conflict) => conflict.doNothing())
        .executeTakeFirst();
      marked += Number(result.numInsertedOrUpdatedRows ?? 0n);
    }
  }
  return marked;
}

async function markGaps(
  ctx: Context,
  trx: Kysely<Database>,
  digestId: string,
  gapIds: readonly number[],
  reportedAt: Date,
): Promise<void> {
  for (const chunk of chunks([...new Set(gapIds)], ROWS_PER_STATEMENT)) {
    await trx
      .insertInto('gap_reports')
      .columns(['digest_id', 'gap_id', 'reported_at'])
      .expression((eb) =>
        eb
          .selectFrom('gaps')
          .select([
            eb.val(digestId).as('digest_id'),
            'id',
            eb.cast<Date>(eb.val(reportedAt), ctx.dialect.columns.timestamp).as('reported_at'),
          ])
          .where('id', 'in', chunk),
      )
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  }
}

async function markReported(
  ctx: Context,
  post: DigestPost,
  sessions: readonly SessionKey[],
  gapIds: readonly number[],
): Promise<number> {
  const reportedAt = ctx.now();
  return ctx.dialect.write(async (trx) => {
    const marked = await markSessions(ctx, trx, post.digestId, sessions, reportedAt);
    await markGaps(ctx, trx, post.digestId, gapIds, reportedAt);
    // The post last: if it is refused, the marks before it roll back with it.
    await trx
      .insertInto('digest_posts')
      .values({
        digest_id: post.digestId,
        tick_at: post.tickAt,
        posted_at: post.postedAt,
        channel: post.channel,
        ts: post.ts,
        session_count: post.sessionCount,
      })
      .onConflict((conflict) => conflict.columns(['channel', 'ts']).doNothing())
      .execute();
    return marked;
  });
}

async function lastPost(db: Kysely<Database>, digestId: string): Promise<DigestPost | null> {
  const row = await db
    .selectFrom('digest_posts')
    .select(['digest_id', 'tick_at', 'posted_at', 'channel', 'ts', 'session_count'])
    .where('digest_id', '=', digestId)
    .orderBy('tick_at', 'desc')
    .orderBy('posted_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) return null;
  return {
    digestId: row.digest_id,
    tickAt: row.tick_at,
    postedAt: row.posted_at,
    channel: row.channel,
    ts: row.ts,
    sessionCount: row.session_count,
  };
}

async function recordIntent(ctx: Context, intent: DigestIntent): Promise<void> {
  await ctx.dialect.write((trx) =>
    trx
      .insertInto('digest_intents')
      .values({
        id: intent.id,
        digest_id: intent.digestId,
        tick_at: intent.tickAt,
        channel: intent.channel,
        created_at: intent.createdAt,
        sessions: JSON.stringify(intent.sessions),
        gap_ids: JSON.stringify(intent.gapIds),
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .execute(),
  );
}

async function pendingIntents(db: Kysely<Database>, digestId: string): Promise<DigestIntent[]> {
  const rows = await db
    .selectFrom('digest_intents')
    .selectAll()
    .where('digest_id', '=', digestId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    digestId: row.digest_id,
    tickAt: row.tick_at,
    channel: row.channel,
    createdAt: row.created_at,
    ...parseIntentLists(row.sessions, row.gap_ids),
  }));
}

async function clearIntent(ctx: Context, id: string): Promise<void> {
  await ctx.dialect.write((trx) => trx.deleteFrom('digest_intents').where('id', '=', id).execute());
}

async function appendAudit(ctx: Context, entry: AuditEntry): Promise<void> {
  await ctx.dialect.write((trx) =>
    trx
      .insertInto('audit_log')
      .values({
        at: entry.at,
        team_id: entry.teamId,
        user_id: entry.userId,
        channel_id: entry.channelId,
        action: entry.action,
        detail: entry.detail,
        endpoints: [...entry.endpoints],
        outcome: entry.outcome,
        request_ids: [...entry.requestIds],
      })
      .execute(),
  );
}

async function recentAudit(db: Kysely<Database>, limit: number): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.max(0, Math.floor(limit)))
    .execute();
  return rows.map((row) => ({
    at: row.at,
    teamId: row.team_id,
    userId: row.user_id,
    channelId: row.channel_id,
    action: row.action,
    detail: row.detail,
    endpoints: readTextList(row.endpoints),
    outcome: row.outcome,
    requestIds: readTextList(row.request_ids),
  }));
}

/**
 * Deletes what is older than the cutoffs, marks first: the foreign keys would
 * cascade, but a cascade's rows are not counted.
 */
async function prune(ctx: Context, before: Date, auditBefore: Date): Promise<number> {
  return ctx.dialect.write(async (trx) => {
    const deletions = [
      trx
        .deleteFrom('session_reports')
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('sessions as s')
              .select('s.endpoint_id')
              .whereRef('s.endpoint_id', '=', 'session_reports.endpoint_id')
              .whereRef('s.connection_id', '=', 'session_reports.connection_id')
              .where('s.ended_at', '<', before),
          ),
        ),
      trx.deleteFrom('sessions').where('ended_at', '<', before),
      trx
        .deleteFrom('gap_reports')
        .where('gap_id', 'in', (eb) =>
          eb.selectFrom('gaps').select('id').where('to_at', '<', before),
        ),
      trx.deleteFrom('gaps').where('to_at', '<', before),
      trx.deleteFrom('digest_posts').where('posted_at', '<', before),
      trx.deleteFrom('digest_intents').where('created_at', '<', before),
      trx.deleteFrom('audit_log').where('at', '<', auditBefore),
    ];
    let deleted = 0;
    for (const deletion of deletions) {
      const result = await deletion.executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  });
}

/** The store over an opened, migrated database. */
export function createStore(dialect: StoreDialect, now: () => Date): StateStore {
  const ctx: Context = { dialect, db: dialect.db, now };
  const { db, leaderLock } = dialect;
  return {
    kind: dialect.kind,
    recordSessions: (sessions) => recordSessions(ctx, sessions),
    recordPoll: (endpointId, at) => recordPoll(ctx, endpointId, at),
    lastPoll: (endpointId) => lastPoll(db, endpointId),
    recordGap: (endpointId, from, to) => recordGap(ctx, endpointId, from, to),
    pendingSessions: (digestId, endpointIds, endedBefore, notBefore) =>
      pendingSessions(ctx, digestId, endpointIds, endedBefore, notBefore),
    countPending: (digestId, endpointIds, notBefore) =>
      countPending(ctx, digestId, endpointIds, notBefore),
    pendingGaps: (digestId, endpointIds) => pendingGaps(ctx, digestId, endpointIds),
    markReported: (post, sessions, gapIds) => markReported(ctx, post, sessions, gapIds),
    lastPost: (digestId) => lastPost(db, digestId),
    recordIntent: (intent) => recordIntent(ctx, intent),
    pendingIntents: (digestId) => pendingIntents(db, digestId),
    clearIntent: (id) => clearIntent(ctx, id),
    tryLead: (name, holder, ttlMs) => leaderLock.tryLead(name, holder, ttlMs),
    releaseLead: (name, holder) => leaderLock.releaseLead(name, holder),
    appendAudit: (entry) => appendAudit(ctx, entry),
    recentAudit: (limit) => recentAudit(db, limit),
    prune: (before, auditBefore) => prune(ctx, before, auditBefore),
    recordHistory: (poll) => recordHistory(dialect, poll),
    historySessions: (query) => historySessions(dialect, query),
    historyUsage: (query) => historyUsage(dialect, query),
    concurrencySamples: (endpointIds, from, to) =>
      concurrencySamples(dialect, endpointIds, from, to),
    historyStartsAt: () => historyStartsAt(dialect),
    pruneHistory: (before) => pruneHistory(dialect, before),
    firingAlerts: () => firingAlerts(dialect),
    recordFiringAlert: (record) => recordFiringAlert(dialect, record),
    setAlertPosted: (key, postId, ts) => setAlertPosted(dialect, key, postId, ts),
    clearFiringAlert: (key) => clearFiringAlert(dialect, key),
    endpointActivity: (endpointIds) => endpointActivity(dialect, endpointIds),
    peopleSeen: (people) => peopleSeen(dialect, people),
    close: () => dialect.close(),
  };
}
