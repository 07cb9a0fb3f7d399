/**
 * Ordering and counting connections: the pure part of every list and summary
 * the bot shows (Slack messages, the digest, the CLI).
 */
import type { Connection, ConnectionStatus } from './connection.js';

/** A status bucket: one of AWS's statuses, or `unknown` for a status this version cannot read. */
export type StatusBucket = ConnectionStatus | 'unknown';

/** The display order of the status buckets: what needs attention first, unknown last. */
export const STATUS_ORDER: readonly StatusBucket[] = [
  'active',
  'terminating',
  'failed-to-terminate',
  'terminated',
  'unknown',
];

/** Exact totals of a set of connections. */
export interface ConnectionSummary {
  readonly total: number;
  readonly byStatus: Readonly<Record<StatusBucket, number>>;
}

/** The bucket a connection is counted and sorted in. */
export function statusBucket(connection: Connection): StatusBucket {
  return connection.status ?? 'unknown';
}

function rank(connection: Connection): number {
  return STATUS_ORDER.indexOf(statusBucket(connection));
}

// Plain code-unit comparison: the same order whatever locale the process runs in.
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function compareConnections(a: Connection, b: Connection): number {
  const byStatus = rank(a) - rank(b);
  if (byStatus !== 0) return byStatus;
  const aTime = a.establishedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  const bTime = b.establishedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  if (aTime !== bTime) return bTime > aTime ? 1 : -1;
  return compareText(a.connectionId, b.connectionId) || compareText(a.endpointId, b.endpointId);
}

/**
 * The order every list shows connections in, so that paging is stable: active
 * first, then terminating, failed-to-terminate, terminated and unknown status;
 * within a status the newest `establishedAt` first (unknown start times last);
 * then by connection id and endpoint id. Returns a new array; the input is untouched.
 */
export function sortConnections(connections: readonly Connection[]): Connection[] {
  return [...connections].sort(compareConnections);
}

/** How many connections are in each status bucket; every bucket is present, zero when empty. */
export function countByStatus(connections: readonly Connection[]): Record<StatusBucket, number> {
  const counts: Record<StatusBucket, number> = {
    active: 0,
    terminating: 0,
    'failed-to-terminate': 0,
    terminated: 0,
    unknown: 0,
  };
  for (const connection of connections) counts[statusBucket(connection)] += 1;
  return counts;
}

/** The total and the per-status counts of a set of connections. */
export function summarize(connections: readonly Connection[]): ConnectionSummary {
  return { total: connections.length, byStatus: countByStatus(connections) };
}
