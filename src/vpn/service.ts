/**
 * Runs a parsed query against the gateway: resolves endpoints, reads them
 * with bounded concurrency, applies client-side filters. Identical reads
 * arriving together share one fetch, and a result is reused for a few
 * seconds (a burst of `/vpn-conns` or a paging click costs no extra calls).
 */
import { AwsError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EndpointCatalogue } from './catalogue.js';
import type { Connection, ConnectionStatus } from './connection.js';
import { type Endpoint, type EndpointChoice, resolveEndpoints } from './endpoint.js';
import {
  type EndpointFailure,
  type FetchQuery,
  keeps,
  serverFilters,
  settleBounded,
} from './fetch.js';
import type { ConnectionFilters, VpnGateway } from './gateway.js';
import {
  type MatchedField,
  matchAnyUser,
  matchUser,
  userLookupQuery,
  usersQuery,
} from './lookup.js';

export interface ConnectionsResult {
  /** The endpoints asked, in order. */
  readonly endpoints: readonly Endpoint[];
  readonly connections: readonly Connection[];
  readonly failures: readonly EndpointFailure[];
  readonly fetchedAt: Date;
  /** For user lookups and `user=` filters: which field named the person. */
  readonly matchedField?: (connection: Connection) => MatchedField | null;
  /** AWS request ids of the calls behind this result, failed ones included (audit trail). */
  readonly requestIds: readonly string[];
}

export interface ListRequest {
  readonly endpoints: EndpointChoice;
  readonly usernames?: readonly string[];
  readonly connectionIds?: readonly string[];
  readonly statuses: readonly ConnectionStatus[] | null;
}

export interface UserRequest {
  readonly name: string;
  readonly endpoints: EndpointChoice;
  readonly statuses: readonly ConnectionStatus[] | null;
}

export interface ConnectionService {
  list(request: ListRequest): Promise<ConnectionsResult>;
  lookupUser(request: UserRequest): Promise<ConnectionsResult>;
  /** Drops cached reads (after a terminate, say). */
  invalidate(endpointId?: string): void;
}

export interface ConnectionServiceOptions {
  readonly gateway: VpnGateway;
  readonly catalogue: EndpointCatalogue;
  readonly region: string;
  readonly logger: Logger;
  /** Endpoints read at once. Default 4. */
  readonly concurrency?: number;
  /** How long one endpoint's read is reused. Default 10 s; 0 = only share concurrent reads. */
  readonly cacheTtlMs?: number;
  readonly now?: () => Date;
}

/**
 * A promise cache: a load in flight is shared however long it takes; a
 * settled one is reused within `ttl`; a failed one (or one `keep` refuses)
 * is never reused.
 */
function createSharedCache<V>(
  ttl: number,
  now: () => Date,
  keep: (value: V) => boolean = () => true,
) {
  const entries = new Map<string, { at: number; value: Promise<V>; settled: boolean }>();
  return {
    get(key: string, load: () => Promise<V>): Promise<V> {
      const at = now().getTime();
      const hit = entries.get(key);
      if (hit && (!hit.settled || at - hit.at < ttl)) return hit.value;
      const entry = { at, value: load(), settled: false };
      entries.set(key, entry);
      entry.value.then(
        (value) => {
          entry.settled = true;
          if (!keep(value) && entries.get(key) === entry) entries.delete(key);
        },
        () => {
          entry.settled = true;
          if (entries.get(key) === entry) entries.delete(key);
        },
      );
      // Keep the map small: drop expired entries now and then.
      if (entries.size > 256) {
        for (const [k, e] of entries) if (e.settled && at - e.at >= ttl) entries.delete(k);
      }
      return entry.value;
    },
    /** Drops entries whose key mentions `part` (all when absent). */
    drop(part?: string) {
      for (const key of [...entries.keys()]) {
        if (part === undefined || key.includes(part)) entries.delete(key);
      }
    },
  };
}

interface EndpointRead {
  readonly fetchedAt: Date;
  readonly connections: readonly Connection[];
  readonly requestIds: readonly string[];
}

/** Builds the service the Slack listeners and the digest use to read connections. */
export function createConnectionService(options: ConnectionServiceOptions): ConnectionService {
  const now = options.now ?? (() => new Date());
  const ttl = options.cacheTtlMs ?? 10_000;
  // Reads of one endpoint, and whole answers: a burst of identical commands
  // costs one fetch and one filtering, and the same result object, so the
  // Slack side can build its message once.
  const reads = createSharedCache<EndpointRead>(ttl, now);
  // A result with a failed endpoint is shared while in flight, then dropped: the next command retries.
  const results = createSharedCache<ConnectionsResult>(ttl, now, (r) => r.failures.length === 0);

  const keyOf = (endpoint: Endpoint, filters: ConnectionFilters) =>
    JSON.stringify([
      endpoint.region,
      endpoint.id,
      filters.connectionIds ?? [],
      filters.usernames ?? [],
    ]);

  /** Every connection of one endpoint under the server-side filters, shared and briefly cached. */
  const read = (endpoint: Endpoint, filters: ConnectionFilters): Promise<EndpointRead> =>
    reads.get(keyOf(endpoint, filters), async () => {
      const fetchedAt = now();
      const connections: Connection[] = [];
      const requestIds: string[] = [];
      for await (const page of options.gateway.listConnections(endpoint, filters)) {
        if (page.requestId) requestIds.push(page.requestId);
        for (const c of page) connections.push(c);
      }
      return { fetchedAt, connections, requestIds };
    });

  const run = async (
    endpoints: readonly Endpoint[],
    query: FetchQuery,
  ): Promise<ConnectionsResult> => {
    let fetchedAt = now();
    const requestIds: string[] = [];
    const settled = await settleBounded(endpoints, options.concurrency ?? 4, async (endpoint) => {
      const endpointRead = await read(endpoint, serverFilters(query, endpoint));
      // A cached read says when it was fetched: the answer shows the oldest.
      if (endpointRead.fetchedAt < fetchedAt) fetchedAt = endpointRead.fetchedAt;
      requestIds.push(...endpointRead.requestIds);
      return endpointRead.connections.filter((c) => keeps(query, c));
    });
    const connections: Connection[] = [];
    const failures: EndpointFailure[] = [];
    settled.forEach((result, i) => {
      const endpoint = endpoints[i] as Endpoint;
      if (result.status === 'fulfilled') {
        for (const c of result.value) connections.push(c);
      } else {
        options.logger.warn(`reading ${endpoint.alias} (${endpoint.id}) failed`, result.reason);
        failures.push({ endpoint, error: result.reason });
        if (result.reason instanceof AwsError && result.reason.requestId) {
          requestIds.push(result.reason.requestId);
        }
      }
    });
    return { endpoints, connections, failures, fetchedAt, requestIds };
  };

  return {
    async list(request) {
      const names = request.usernames ?? [];
      // `user=NAME` follows `user NAME`: certificate endpoints need their authentication type.
      const endpoints = resolveEndpoints(
        request.endpoints,
        await (names.length > 0 ? options.catalogue.described() : options.catalogue.list()),
        options.region,
      );
      const key = JSON.stringify([
        'list',
        endpoints.map((e) => e.id),
        request.usernames ?? [],
        request.connectionIds ?? [],
        request.statuses,
      ]);
      const ids = request.connectionIds ? { connectionIds: request.connectionIds } : {};
      if (names.length === 0) {
        return results.get(key, () => run(endpoints, { ...ids, statuses: request.statuses }));
      }
      return results.get(key, async () => ({
        ...(await run(endpoints, usersQuery(names, { ...ids, statuses: request.statuses }))),
        matchedField: (c: Connection) => matchAnyUser(c, names),
      }));
    },
    async lookupUser(request) {
      const endpoints = resolveEndpoints(
        request.endpoints,
        await options.catalogue.described(),
        options.region,
      );
      const key = JSON.stringify([
        'user',
        endpoints.map((e) => e.id),
        request.name,
        request.statuses,
      ]);
      return results.get(key, async () => {
        const result = await run(endpoints, userLookupQuery(request.name, request.statuses));
        return { ...result, matchedField: (c: Connection) => matchUser(c, request.name) };
      });
    },
    invalidate(endpointId) {
      const part = endpointId === undefined ? undefined : `"${endpointId}"`;
      reads.drop(part);
      results.drop(part);
    },
  };
}
