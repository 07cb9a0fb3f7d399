/**
 * Running a query, for Slack, the CLI and jobs alike: resolves endpoints, reads them
 * with bounded concurrency, applies client-side filters. Identical reads
 * arriving together share one fetch, and a result is reused for a few
 * seconds (a burst of `/vpn-conns` or a paging click costs no extra calls).
 * Returns domain results; rendering is the caller's.
 */
import { createSharedCache, type SharedCache } from '../cache.js';
import { AwsError, UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Connection, ConnectionStatus } from '../vpn/connection.js';
import { type Endpoint, type EndpointChoice, resolveEndpoints } from '../vpn/endpoint.js';
import {
  type EndpointFailure,
  type FetchQuery,
  keeps,
  serverFilters,
  settleBounded,
} from '../vpn/fetch.js';
import type { ConnectionFilters, VpnGateway } from '../vpn/gateway.js';
import {
  type MatchedField,
  matchAnyUser,
  matchUser,
  userLookupQuery,
  usersQuery,
} from '../vpn/lookup.js';
import type { Query, UserRef } from '../vpn/query.js';

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

interface EndpointRead {
  readonly fetchedAt: Date;
  readonly connections: readonly Connection[];
  readonly requestIds: readonly string[];
}

/** What the module-level readers below share: the gateway, the read cache and the clock. */
interface Reader {
  readonly gateway: VpnGateway;
  readonly reads: SharedCache<EndpointRead>;
  readonly now: () => Date;
  readonly concurrency: number;
  readonly logger: Logger;
}

function readKey(endpoint: Endpoint, filters: ConnectionFilters): string {
  return JSON.stringify([
    endpoint.region,
    endpoint.id,
    filters.connectionIds ?? [],
    filters.usernames ?? [],
  ]);
}

/** Every connection of one endpoint under the server-side filters, shared and briefly cached. */
function readEndpoint(
  reader: Reader,
  endpoint: Endpoint,
  filters: ConnectionFilters,
): Promise<EndpointRead> {
  return reader.reads.get(readKey(endpoint, filters), async () => {
    const fetchedAt = reader.now();
    const connections: Connection[] = [];
    const requestIds: string[] = [];
    for await (const page of reader.gateway.listConnections(endpoint, filters)) {
      if (page.requestId) requestIds.push(page.requestId);
      for (const c of page) connections.push(c);
    }
    return { fetchedAt, connections, requestIds };
  });
}

/** Reads the endpoints (a bounded number at once) and keeps what the query's client-side filters pass. */
async function runQuery(
  reader: Reader,
  endpoints: readonly Endpoint[],
  query: FetchQuery,
): Promise<ConnectionsResult> {
  let fetchedAt = reader.now();
  const requestIds: string[] = [];
  const settled = await settleBounded(endpoints, reader.concurrency, async (endpoint) => {
    const endpointRead = await readEndpoint(reader, endpoint, serverFilters(query, endpoint));
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
      reader.logger.warn(`reading ${endpoint.alias} (${endpoint.id}) failed`, result.reason);
      failures.push({ endpoint, error: result.reason });
      if (result.reason instanceof AwsError && result.reason.requestId) {
        requestIds.push(result.reason.requestId);
      }
    }
  });
  return { endpoints, connections, failures, fetchedAt, requestIds };
}

function idsOf(endpoints: readonly Endpoint[]): string[] {
  return endpoints.map((e) => e.id);
}

/** The cache key of a list answer; it names each endpoint id in quotes (see `invalidate`). */
function listKey(endpoints: readonly Endpoint[], request: ListRequest): string {
  return JSON.stringify([
    'list',
    idsOf(endpoints),
    request.usernames ?? [],
    request.connectionIds ?? [],
    request.statuses,
  ]);
}

/** `user=NAME` follows `user NAME`: AWS filters user names, certificate names are matched here. */
function listQuery(request: ListRequest): FetchQuery {
  const rest = {
    ...(request.connectionIds ? { connectionIds: request.connectionIds } : {}),
    statuses: request.statuses,
  };
  const names = request.usernames ?? [];
  return names.length > 0 ? usersQuery(names, rest) : rest;
}

/** Builds the service the Slack listeners and the digest use to read connections. */
export function createConnectionService(options: ConnectionServiceOptions): ConnectionService {
  const now = options.now ?? (() => new Date());
  const ttl = options.cacheTtlMs ?? 10_000;
  // Reads of one endpoint, and whole answers: a burst of identical commands
  // costs one fetch and one filtering, and the same result object, so the
  // Slack side can build its message once.
  const clock = () => now().getTime();
  const reader: Reader = {
    gateway: options.gateway,
    reads: createSharedCache<EndpointRead>({ ttlMs: ttl, now: clock }),
    now,
    concurrency: options.concurrency ?? 4,
    logger: options.logger,
  };
  // A result with a failed endpoint is shared while in flight, then dropped: the next command retries.
  const results = createSharedCache<ConnectionsResult>({
    ttlMs: ttl,
    now: clock,
    keep: (r) => r.failures.length === 0,
  });
  const run = (endpoints: readonly Endpoint[], query: FetchQuery) =>
    runQuery(reader, endpoints, query);

  return {
    async list(request) {
      const names = request.usernames ?? [];
      if (names.length === 0) {
        // Lists show the time left before each endpoint's session limit: describe the
        // endpoints (cached) while the connections are read, not before.
        const described = options.catalogue.described().catch(() => null);
        const endpoints = resolveEndpoints(
          request.endpoints,
          await options.catalogue.list(),
          options.region,
        );
        const result = await results.get(listKey(endpoints, request), () =>
          run(endpoints, listQuery(request)),
        );
        return withDescriptions(result, await described);
      }
      // `user=NAME` on certificate endpoints needs their authentication type first.
      const endpoints = resolveEndpoints(
        request.endpoints,
        await options.catalogue.described(),
        options.region,
      );
      return results.get(listKey(endpoints, request), async () => {
        const result = await run(endpoints, listQuery(request));
        return { ...result, matchedField: (c: Connection) => matchAnyUser(c, names) };
      });
    },
    async lookupUser(request) {
      const endpoints = resolveEndpoints(
        request.endpoints,
        await options.catalogue.described(),
        options.region,
      );
      const key = JSON.stringify(['user', idsOf(endpoints), request.name, request.statuses]);
      return results.get(key, async () => {
        const result = await run(endpoints, userLookupQuery(request.name, request.statuses));
        return { ...result, matchedField: (c: Connection) => matchUser(c, request.name) };
      });
    },
    invalidate(endpointId) {
      const part = `"${endpointId}"`;
      const test = endpointId === undefined ? undefined : (key: string) => key.includes(part);
      reader.reads.drop(test);
      results.drop(test);
    },
  };
}

/** Tells the VPN user name of a person known to a front end (a Slack user ID, say). */
export interface UserDirectory {
  /** @throws UsageError when the person has no VPN user name the directory can tell. */
  vpnUsername(personId: string): Promise<string>;
}

/** A `list` or `user` query, as the grammar parses it. */
export type ConnectionsQuery = Extract<Query, { kind: 'list' | 'user' }>;

export interface QueryAnswer {
  readonly result: ConnectionsResult;
  /** For a `user` query: whom it looked up, and where (`null` = every endpoint). */
  readonly user?: { readonly name: string; readonly endpointIds: readonly string[] | null };
}

export interface QueryDeps {
  readonly service: ConnectionService;
  /** Resolves `user me` and `user @someone`; absent, those are refused. */
  readonly directory?: UserDirectory;
}

/** The VPN user name a `user …` query is about. */
function resolveWho(who: UserRef, askerId: string, directory: UserDirectory | undefined) {
  if (who.kind === 'name') return Promise.resolve(who.name);
  if (!directory) throw new UsageError('Look people up by their VPN user name here.');
  return directory.vpnUsername(who.kind === 'me' ? askerId : who.userId);
}

/**
 * Runs a list or user query for the person `askerId` (whom `user me` means). Throws what the
 * service throws (UsageError, AwsError); a failed endpoint among several is in `failures`.
 */
export async function runConnectionsQuery(
  query: ConnectionsQuery,
  askerId: string,
  deps: QueryDeps,
): Promise<QueryAnswer> {
  if (query.kind === 'list') {
    const result = await deps.service.list({
      endpoints: query.endpoints,
      usernames: query.usernames,
      connectionIds: query.connectionIds,
      statuses: query.statuses,
    });
    return { result };
  }
  const name = await resolveWho(query.who, askerId, deps.directory);
  const result = await deps.service.lookupUser({
    name,
    endpoints: query.endpoints,
    statuses: query.statuses,
  });
  const endpointIds = query.endpoints.kind === 'all' ? null : result.endpoints.map((e) => e.id);
  return { result, user: { name, endpointIds } };
}

/** The result with each endpoint AWS described replaced by its description (session timeout). */
function withDescriptions(
  result: ConnectionsResult,
  described: readonly Endpoint[] | null,
): ConnectionsResult {
  if (described === null) return result;
  const byId = new Map(described.map((e) => [e.id, e]));
  const endpoints = result.endpoints.map((e) => {
    const found = byId.get(e.id);
    return found && found.alias === e.alias ? found : e;
  });
  return { ...result, endpoints };
}
