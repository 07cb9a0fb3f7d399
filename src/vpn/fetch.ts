/**
 * Reading connections over several endpoints: the query's filters (server
 * side and client side), and a bounded number of endpoints in flight where a
 * rejection never stops the others.
 */
import type { Connection, ConnectionStatus } from './connection.js';
import type { Endpoint } from './endpoint.js';
import type { ConnectionFilters, VpnGateway } from './gateway.js';

export interface EndpointFailure {
  readonly endpoint: Endpoint;
  readonly error: unknown;
}

export interface FetchQuery extends ConnectionFilters {
  /** `null`/absent = every status. Applied here: the API has no status filter. */
  readonly statuses?: readonly ConnectionStatus[] | null;
  /** Per-endpoint override of the server-side filters (user lookup on certificate endpoints). */
  readonly filtersFor?: (endpoint: Endpoint) => ConnectionFilters;
  /** Per-connection test applied after the status filter. */
  readonly match?: (connection: Connection) => boolean;
}

/** True when the connection passes the client-side status filter. */
export function hasStatus(
  connection: Connection,
  statuses: readonly ConnectionStatus[] | null | undefined,
): boolean {
  return statuses == null || (connection.status !== null && statuses.includes(connection.status));
}

/**
 * Runs `task` over `items` with at most `limit` running at once; results in
 * input order, each settled (a rejection never stops the others).
 */
export async function settleBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      try {
        results[index] = { status: 'fulfilled', value: await task(item) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** The server-side filters of a query for one endpoint (AWS filters user names and ids). */
export function serverFilters(query: FetchQuery, endpoint: Endpoint): ConnectionFilters {
  return (
    query.filtersFor?.(endpoint) ?? {
      ...(query.connectionIds?.length ? { connectionIds: query.connectionIds } : {}),
      ...(query.usernames?.length ? { usernames: query.usernames } : {}),
    }
  );
}

/** True when a connection passes the query's client-side filters (status, then `match`). */
export function keeps(query: FetchQuery, connection: Connection): boolean {
  return hasStatus(connection, query.statuses) && (query.match?.(connection) ?? true);
}

/** The pages of one endpoint with the client-side filters applied; empty pages are skipped. */
export async function* collectPages(
  gateway: VpnGateway,
  endpoint: Endpoint,
  query: FetchQuery,
): AsyncGenerator<Connection[]> {
  for await (const page of gateway.listConnections(endpoint, serverFilters(query, endpoint))) {
    const kept = page.filter((connection) => keeps(query, connection));
    if (kept.length > 0) yield kept;
  }
}
