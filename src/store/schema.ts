/**
 * The tables of the state store, as the queries see them on either database.
 *
 * Conventions every table follows, so that a new one needs no dialect code:
 * - a time is a column named `at` or ending in `_at`, a `Date` here; SQLite
 *   stores epoch milliseconds (INTEGER), Postgres `timestamptz` (the
 *   conversion is in dialects.ts, keyed on that name);
 * - a count or byte counter is a `number` (SQLite INTEGER, Postgres bigint,
 *   read back as a number: exact up to 2^53);
 * - an auto-numbered id is `Generated<number>`;
 * - a list of strings is a Postgres `text[]` and SQLite JSON text (only the
 *   audit trail has one; read it back with `readTextList`).
 *
 * Each table is created by a migration in migrations/; change a table here
 * only together with a new migration.
 */
import type { ColumnType, Generated } from 'kysely';

/** A list of strings: written as an array, read back as an array (Postgres) or JSON text (SQLite). */
export type TextList = ColumnType<string[] | string, string[], string[]>;

/** Applied migrations, one row per version (the version table of every installation so far). */
export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: Date;
}

/** Ended sessions the collector recorded, one per endpoint and connection. */
export interface SessionsTable {
  endpoint_id: string;
  connection_id: string;
  username: string | null;
  common_name: string | null;
  client_ip: string | null;
  client_ipv6: string | null;
  /** 'terminated' or 'failed-to-terminate' (a CHECK constraint). */
  status: string;
  established_at: Date | null;
  ended_at: Date;
  ingress_bytes: number | null;
  egress_bytes: number | null;
  recorded_at: Date;
}

/** Which digest reported which session. */
export interface SessionReportsTable {
  digest_id: string;
  endpoint_id: string;
  connection_id: string;
  reported_at: Date;
}

/** The last successful poll of each endpoint. */
export interface PollsTable {
  endpoint_id: string;
  last_success_at: Date;
}

/** Intervals in which an endpoint's sessions may have been missed. */
export interface GapsTable {
  id: Generated<number>;
  endpoint_id: string;
  from_at: Date;
  to_at: Date;
  recorded_at: Date;
}

/** Which digest reported which gap. */
export interface GapReportsTable {
  digest_id: string;
  gap_id: number;
  reported_at: Date;
}

/** The Slack messages digests posted. */
export interface DigestPostsTable {
  id: Generated<number>;
  digest_id: string;
  tick_at: Date;
  posted_at: Date;
  channel: string;
  ts: string;
  session_count: number;
}

/** Digest posts about to be made (see `DigestIntent`); sessions and gap ids as JSON text. */
export interface DigestIntentsTable {
  id: string;
  digest_id: string;
  tick_at: Date;
  channel: string;
  created_at: Date;
  sessions: string;
  gap_ids: string;
}

/** Leadership leases (SQLite only: Postgres leads with advisory locks and has no such table). */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: Date;
}

/** The audit trail. */
export interface AuditLogTable {
  id: Generated<number>;
  at: Date;
  team_id: string | null;
  user_id: string;
  channel_id: string | null;
  action: string;
  detail: string;
  endpoints: TextList;
  outcome: string;
  request_ids: TextList;
}

/** Every session the collector saw, active or ended, one per endpoint and connection. */
export interface SessionHistoryTable {
  endpoint_id: string;
  connection_id: string;
  username: string | null;
  common_name: string | null;
  client_ip: string | null;
  client_ipv6: string | null;
  /** The AWS status at the last poll that saw it. */
  status: string;
  /** Posture compliance statuses, a JSON list of strings. */
  posture: string;
  /** AWS's established time, or the first poll that saw it when AWS gave none. */
  started_at: Date;
  /** `null` while active. */
  ended_at: Date | null;
  ingress_bytes: number | null;
  egress_bytes: number | null;
  ingress_packets: number | null;
  egress_packets: number | null;
  first_seen_at: Date;
  last_seen_at: Date;
}

/** The active count of one endpoint at one poll. */
export interface ConcurrencySamplesTable {
  endpoint_id: string;
  at: Date;
  active: number;
}

/** Alerts whose condition holds, one per rule and subject (see `FiringAlertRecord`). */
export interface AlertsFiringTable {
  key: string;
  rule_name: string;
  subject_kind: string;
  subject_name: string;
  channel: string;
  fired_at: Date;
  post_id: string;
  ts: string | null;
}

/** Every table of the store. */
export interface Database {
  schema_migrations: SchemaMigrationsTable;
  sessions: SessionsTable;
  session_reports: SessionReportsTable;
  polls: PollsTable;
  gaps: GapsTable;
  gap_reports: GapReportsTable;
  digest_posts: DigestPostsTable;
  digest_intents: DigestIntentsTable;
  leases: LeasesTable;
  audit_log: AuditLogTable;
  session_history: SessionHistoryTable;
  concurrency_samples: ConcurrencySamplesTable;
  alerts_firing: AlertsFiringTable;
}

/** True for the columns that hold times (see the conventions above). */
export function isTimeColumn(name: string): boolean {
  return name === 'at' || name.endsWith('_at');
}

/** Reads a `TextList` column back; throws on anything that is not a list of strings. */
export function readTextList(value: string[] | string): string[] {
  const list: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    throw new Error('Unexpected list in the store');
  }
  return list;
}
