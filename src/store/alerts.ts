/**
 * The store's part of alerting: which alerts fire now (one row per rule and subject, written
 * before the post and deleted when the condition clears), and what the history says for the
 * `idleHours` and `newUser` conditions. Written once for both databases.
 */
import type { StoreDialect } from './dialects.js';
import type { EndpointActivity, FiringAlertRecord, PersonSeen } from './types.js';

const SUBJECT_KINDS = ['session', 'person', 'endpoint'] as const;

/** People per statement when reading what the history knows of them. */
const PEOPLE_PER_STATEMENT = 1000;

/** Every alert firing now, oldest first (then by key). */
export async function firingAlerts(dialect: StoreDialect): Promise<FiringAlertRecord[]> {
  const rows = await dialect.db
    .selectFrom('alerts_firing')
    .selectAll()
    .orderBy('fired_at')
    .orderBy('key')
    .execute();
  return rows.map((row) => {
    const kind = SUBJECT_KINDS.find((k) => k === row.subject_kind);
    if (kind === undefined)
      throw new Error(`Unexpected alert subject in the store: ${row.subject_kind}`);
    return {
      key: row.key,
      ruleName: row.rule_name,
      subjectKind: kind,
      subjectName: row.subject_name,
      channel: row.channel,
      firedAt: row.fired_at,
      postId: row.post_id,
      ts: row.ts,
    };
  });
}

/** Records an alert about to be posted; false when its key is already recorded (nothing changes). */
export async function recordFiringAlert(
  dialect: StoreDialect,
  record: FiringAlertRecord,
): Promise<boolean> {
  return dialect.write(async (trx) => {
    const result = await trx
      .insertInto('alerts_firing')
      .values({
        key: record.key,
        rule_name: record.ruleName,
        subject_kind: record.subjectKind,
        subject_name: record.subjectName,
        channel: record.channel,
        fired_at: record.firedAt,
        post_id: record.postId,
        ts: record.ts,
      })
      .onConflict((conflict) => conflict.column('key').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  });
}

/** Records the `ts` of an alert's post (only for the post id recorded). */
export async function setAlertPosted(
  dialect: StoreDialect,
  key: string,
  postId: string,
  ts: string,
): Promise<void> {
  await dialect.write((trx) =>
    trx
      .updateTable('alerts_firing')
      .set({ ts })
      .where('key', '=', key)
      .where('post_id', '=', postId)
      .execute(),
  );
}

/** Forgets an alert (cleared, or its post refused); unknown keys are a no-op. */
export async function clearFiringAlert(dialect: StoreDialect, key: string): Promise<void> {
  await dialect.write((trx) => trx.deleteFrom('alerts_firing').where('key', '=', key).execute());
}

/**
 * For each endpoint with samples: the last sample that saw an active session (`null` if none
 * did) and the first sample (when watching began). Two index look-ups per endpoint.
 */
export async function endpointActivity(
  dialect: StoreDialect,
  endpointIds: readonly string[],
): Promise<Map<string, EndpointActivity>> {
  const activity = new Map<string, EndpointActivity>();
  for (const endpointId of endpointIds) {
    const first = await dialect.db
      .selectFrom('concurrency_samples')
      .select('at')
      .where('endpoint_id', '=', endpointId)
      .orderBy('at')
      .limit(1)
      .executeTakeFirst();
    if (first === undefined) continue;
    const lastActive = await dialect.db
      .selectFrom('concurrency_samples')
      .select('at')
      .where('endpoint_id', '=', endpointId)
      .where('active', '>', 0)
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst();
    activity.set(endpointId, { lastActiveAt: lastActive?.at ?? null, firstSampleAt: first.at });
  }
  return activity;
}

/**
 * What the history knows of each of these people (a user name or a common name, matched on
 * either): the earliest start of their sessions and the earliest poll that saw one. People it
 * has never seen are absent.
 */
export async function peopleSeen(
  dialect: StoreDialect,
  people: readonly string[],
): Promise<Map<string, PersonSeen>> {
  const seen = new Map<string, PersonSeen>();
  const merge = (person: string | null, startedAt: Date, firstSeenAt: Date) => {
    if (person === null) return;
    const known = seen.get(person);
    seen.set(person, {
      firstStartedAt: known && known.firstStartedAt < startedAt ? known.firstStartedAt : startedAt,
      firstSeenAt: known && known.firstSeenAt < firstSeenAt ? known.firstSeenAt : firstSeenAt,
    });
  };
  for (let i = 0; i < people.length; i += PEOPLE_PER_STATEMENT) {
    const chunk = people.slice(i, i + PEOPLE_PER_STATEMENT);
    for (const column of ['username', 'common_name'] as const) {
      const rows = await dialect.db
        .selectFrom('session_history')
        .select((eb) => [
          eb.ref(column).as('person'),
          eb.fn.min('started_at').as('first_started_at'),
          eb.fn.min('first_seen_at').as('first_seen_at'),
        ])
        .where(dialect.anyOf(column, chunk))
        .groupBy(column)
        .execute();
      for (const row of rows) {
        merge(row.person, new Date(row.first_started_at), new Date(row.first_seen_at));
      }
    }
  }
  return seen;
}
