/**
 * Reading connections over several endpoints at once: a bounded number in
 * flight, and one endpoint's failure never loses the others' results.
 */
import type { Connection, ConnectionStatus } from './connection.js';
import type { Endpoint } from './endpoint.js';
import type { ConnectionFilters, VpnGateway } from './gateway.js';

export interface EndpointFailure {
  readonly endpoint: Endpoint;
  readonly error: unknown;
}

export interface FetchResult {
  readonly connections: Connection[];
  readonly failures: EndpointFailure[];
  /** Endpoints that answered, in the order asked. */
  readonly succeeded: Endpoint[];
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

/** The pages of one endpoint with the client-side filters applied; empty pages are skipped. */
export async function* collectPages(
  gateway: VpnGateway,
  endpoint: Endpoint,
  query: FetchQuery,
): AsyncGenerator<Connection[]> {
  const filters = query.filtersFor?.(endpoint) ?? {
    ...(query.connectionIds?.length ? { connectionIds: query.connectionIds } : {}),
    ...(query.usernames?.length ? { usernames: query.usernames } : {}),
  };
  for await (const page of gateway.listConnections(endpoint, filters)) {
    const kept = page.filter(
      (connection) => hasStatus(connection, query.statuses) && (query.match?.(connection) ?? true),
    );
    if (kept.length > 0) yield kept;
  }
}

/** Every matching connection of one endpoint, in one array. */
export async function collectEndpoint(
  gateway: VpnGateway,
  endpoint: Endpoint,
  query: FetchQuery,
): Promise<Connection[]> {
  const out: Connection[] = [];
  for await (const page of collectPages(gateway, endpoint, query)) {
    for (const connection of page) out.push(connection);
  }
  return out;
}

/**
 * Reads the matching connections of several endpoints, at most `concurrency`
 * at once. Failed endpoints are reported beside the others' results.
 */
export async function fetchConnections(
  gateway: VpnGateway,
  endpoints: readonly Endpoint[],
  query: FetchQuery,
  concurrency = 4,
): Promise<FetchResult> {
  const settled = await settleBounded(endpoints, concurrency, (endpoint) =>
    collectEndpoint(gateway, endpoint, query),
  );
  const connections: Connection[] = [];
  const failures: EndpointFailure[] = [];
  const succeeded: Endpoint[] = [];
  settled.forEach((result, i) => {
    const endpoint = endpoints[i] as Endpoint;
    if (result.status === 'fulfilled') {
      succeeded.push(endpoint);
      for (const c of result.value) connections.push(c);
    } else {
      failures.push({ endpoint, error: result.reason });
    }
  });
  return { connections, failures, succeeded };
}
