/**
 * Runs a parsed query against the gateway: resolves endpoints, reads them
 * with bounded concurrency, applies client-side filters. Identical reads
 * arriving together share one fetch, and a result is reused for a few
 * seconds (a burst of `/vpn-conns` or a paging click costs no extra calls).
 */
import type { Logger } from '../logger.js';
import type { EndpointCatalogue } from './catalogue.js';
import type { Connection, ConnectionStatus } from './connection.js';
import { type Endpoint, type EndpointChoice, resolveEndpoints } from './endpoint.js';
import { type EndpointFailure, type FetchQuery, hasStatus, settleBounded } from './fetch.js';
import type { ConnectionFilters, VpnGateway } from './gateway.js';
import { type MatchedField, matchUser, userLookupQuery } from './lookup.js';

export interface ConnectionsResult {
  /** The endpoints asked, in order. */
  readonly endpoints: readonly Endpoint[];
  readonly connections: readonly Connection[];
  readonly failures: readonly EndpointFailure[];
  readonly fetchedAt: Date;
  /** For user lookups: which field named the person. */
  readonly matchedField?: (connection: Connection) => MatchedField | null;
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

interface CacheEntry {
  readonly at: number;
  readonly value: Promise<Connection[]>;
  /** False while the read is in flight: it is then shared whatever its age. */
  settled: boolean;
}

/** Builds the service the Slack listeners and the digest use to read connections. */
export function createConnectionService(options: ConnectionServiceOptions): ConnectionService {
  const now = options.now ?? (() => new Date());
  const ttl = options.cacheTtlMs ?? 10_000;
  const cache = new Map<string, CacheEntry>();

  const keyOf = (endpoint: Endpoint, filters: ConnectionFilters) =>
    JSON.stringify([
      endpoint.region,
      endpoint.id,
      filters.connectionIds ?? [],
      filters.usernames ?? [],
    ]);

  /** Every connection of one endpoint under the server-side filters, shared and briefly cached. */
  const read = (endpoint: Endpoint, filters: ConnectionFilters): Promise<Connection[]> => {
    const key = keyOf(endpoint, filters);
    const at = now().getTime();
    const hit = cache.get(key);
    // A read in flight is shared however long it takes; a finished one only within the TTL.
    if (hit && (!hit.settled || at - hit.at < ttl)) return hit.value;
    const value = (async () => {
      const all: Connection[] = [];
      for await (const page of options.gateway.listConnections(endpoint, filters)) {
        for (const c of page) all.push(c);
      }
      return all;
    })();
    const entry: CacheEntry = { at, value, settled: false };
    cache.set(key, entry);
    value.then(
      () => {
        entry.settled = true;
      },
      () => {
        entry.settled = true;
        // Failures are never reused: the next command asks AWS again.
        if (cache.get(key) === entry) cache.delete(key);
      },
    );
    // Keep the map small: drop expired entries now and then.
    if (cache.size > 256) {
      for (const [k, e] of cache) if (e.settled && at - e.at >= ttl) cache.delete(k);
    }
    return value;
  };

  const run = async (endpoints: readonly Endpoint[], query: FetchQuery) => {
    const fetchedAt = now();
    const settled = await settleBounded(endpoints, options.concurrency ?? 4, async (endpoint) => {
      const filters = query.filtersFor?.(endpoint) ?? {
        ...(query.connectionIds?.length ? { connectionIds: query.connectionIds } : {}),
        ...(query.usernames?.length ? { usernames: query.usernames } : {}),
      };
      const all = await read(endpoint, filters);
      return all.filter((c) => hasStatus(c, query.statuses) && (query.match?.(c) ?? true));
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
      }
    });
    return { endpoints, connections, failures, fetchedAt };
  };

  return {
    async list(request) {
      const endpoints = resolveEndpoints(
        request.endpoints,
        await options.catalogue.list(),
        options.region,
      );
      return run(endpoints, {
        ...(request.usernames ? { usernames: request.usernames } : {}),
        ...(request.connectionIds ? { connectionIds: request.connectionIds } : {}),
        statuses: request.statuses,
      });
    },
    async lookupUser(request) {
      const endpoints = resolveEndpoints(
        request.endpoints,
        await options.catalogue.described(),
        options.region,
      );
      const result = await run(endpoints, userLookupQuery(request.name, request.statuses));
      return { ...result, matchedField: (c: Connection) => matchUser(c, request.name) };
    },
    invalidate(endpointId) {
      for (const key of [...cache.keys()]) {
        if (endpointId === undefined || key.includes(`"${endpointId}"`)) cache.delete(key);
      }
    },
  };
}
