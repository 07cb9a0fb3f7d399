/**
 * The collector: the one stage that polls AWS for the store. Each round reads
 * every endpoint in its scope (unfiltered, uncached) and records what AWS will
 * soon forget: every ended session once (AWS lists one for 60 minutes after it
 * ended), the poll itself, and — when two successful polls of an endpoint are
 * further apart than that window — the interval in between as a coverage gap.
 * Every poll also goes to the session history: each session AWS listed,
 * active or ended, with its counters, and the endpoint's active count (see
 * `StateStore.recordHistory`).
 * It is the only writer of session rows; consumers (the digest job, history
 * and reports, App Home) read the store; alert rules read each round's
 * connections right after it (`jobs/alerts.ts`).
 *
 * A round runs on the leader only (the scheduler's `collector` job, every
 * poll interval); a digest also calls `collect` for its own endpoints right
 * before it posts, so what ended just before the tick is in it.
 */
import { type AppMetrics, type StatusCounts, statusCounts } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import type { EndedSession, ObservedSession, StateStore } from '../store/types.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Connection } from '../vpn/connection.js';
import type { Endpoint } from '../vpn/endpoint.js';
import { type EndpointFailure, settleBounded } from '../vpn/fetch.js';
import type { VpnGateway } from '../vpn/gateway.js';

/** How long AWS lists a terminated connection. */
export const API_WINDOW_MS = 60 * 60_000;

/** Endpoint aliases, or every endpoint the catalogue knows. */
export type EndpointSelection = 'all' | readonly string[];

/** An interval in which an endpoint's ended sessions may have been missed. */
export interface FoundGap {
  readonly endpointId: string;
  readonly from: Date;
  readonly to: Date;
}

/** What one successful poll of one endpoint saw and recorded. */
export interface EndpointPoll {
  readonly endpoint: Endpoint;
  /** When the poll started: it sees sessions that ended after `at` − 60 minutes. */
  readonly at: Date;
  /** Connections AWS listed as `active`: the concurrency sample a history or a metric keeps. */
  readonly active: number;
  /** Every connection AWS listed, any status, in its order: what alert rules read. */
  readonly connections: readonly Connection[];
  /** Connections AWS listed as ended (`terminated`, `failed-to-terminate`). */
  readonly ended: number;
  /** Ended sessions recorded for the first time. */
  readonly recorded: number;
  /** Sessions the history saw for the first time (active or ended). */
  readonly historyAdded: number;
  /** Open sessions in the history this poll no longer saw, closed at their last sighting. */
  readonly historyClosed: number;
  readonly gap: FoundGap | null;
}

export interface CollectResult {
  readonly kind: 'collected';
  /** Sessions seen for the first time. */
  readonly recorded: number;
  /** One per endpoint read successfully, in the order given. */
  readonly polls: readonly EndpointPoll[];
  readonly failures: readonly EndpointFailure[];
  /** Gaps found by this round. */
  readonly gaps: readonly FoundGap[];
}

export interface CollectorDeps {
  readonly gateway: VpnGateway;
  readonly store: StateStore;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Endpoints read at once. Default 4. */
  readonly concurrency?: number;
  /** Counts each endpoint's poll (connections by status, last success, failures) for `/metrics`. */
  readonly metrics?: AppMetrics;
}

export interface Collector {
  /** The endpoints a round reads: the scope, resolved against the catalogue. */
  endpoints(): Promise<Endpoint[]>;
  /** One round over the scope (the scheduled job; the caller holds the lead). */
  poll(): Promise<CollectResult>;
  /** When a poll of an endpoint last succeeded in this process (`/readyz`); `null` = never. */
  lastSuccessAt(): Date | null;
  /** One round over these endpoints now (a digest's poll right before its tick). */
  collect(endpoints: readonly Endpoint[]): Promise<CollectResult>;
}

export interface CreateCollectorOptions extends CollectorDeps {
  readonly catalogue: EndpointCatalogue;
  /** Which endpoints a scheduled round reads (see `unionOfSelections`). */
  readonly scope: EndpointSelection;
}

/**
 * The session record of an ended connection, or `null` while it is still up
 * (`active`, `terminating`). A missing end time falls back to when AWS last
 * updated the record, then to `now`: the session is kept, not dropped.
 */
export function toEndedSession(connection: Connection, now: Date): EndedSession | null {
  if (connection.status !== 'terminated' && connection.status !== 'failed-to-terminate')
    return null;
  return {
    endpointId: connection.endpointId,
    connectionId: connection.connectionId,
    username: connection.username,
    commonName: connection.commonName,
    clientIp: connection.clientIp,
    clientIpv6: connection.clientIpv6,
    status: connection.status,
    establishedAt: connection.establishedAt,
    endedAt: connection.endedAt ?? connection.observedAt ?? now,
    ingressBytes: connection.ingressBytes,
    egressBytes: connection.egressBytes,
  };
}

/** A connection as the history keeps it; `null` for a status this version does not know. */
export function toObservedSession(connection: Connection): ObservedSession | null {
  if (connection.status === null) return null;
  return {
    endpointId: connection.endpointId,
    connectionId: connection.connectionId,
    username: connection.username,
    commonName: connection.commonName,
    clientIp: connection.clientIp,
    clientIpv6: connection.clientIpv6,
    status: connection.status,
    postureCompliance: connection.postureCompliance,
    startedAt: connection.establishedAt,
    // AWS may omit an ended session's end: when it last updated the record stands in.
    endedAt:
      connection.status === 'terminated' || connection.status === 'failed-to-terminate'
        ? (connection.endedAt ?? connection.observedAt)
        : null,
    ingressBytes: connection.ingressBytes,
    egressBytes: connection.egressBytes,
    ingressPackets: connection.ingressPackets,
    egressPackets: connection.egressPackets,
  };
}

/** The endpoints of several consumers together: `all` if any wants all. */
export function unionOfSelections(selections: readonly EndpointSelection[]): EndpointSelection {
  const aliases = new Set<string>();
  for (const selection of selections) {
    if (selection === 'all') return 'all';
    for (const alias of selection) aliases.add(alias);
  }
  return [...aliases];
}

/** The known endpoints a selection names (unknown aliases are left out; callers may warn). */
export function selectEndpoints(
  all: readonly Endpoint[],
  selection: EndpointSelection,
): Endpoint[] {
  if (selection === 'all') return [...all];
  return all.filter((e) => selection.includes(e.alias));
}

/** Reads one endpoint (every page) and records its ended sessions, the poll, and any gap. */
export async function pollEndpoint(endpoint: Endpoint, deps: CollectorDeps): Promise<EndpointPoll> {
  // The time the poll started bounds what it can still see: sessions ended after at − 60 min.
  const at = deps.now();
  const ended: EndedSession[] = [];
  const observed: ObservedSession[] = [];
  const connections: Connection[] = [];
  let active = 0;
  const counts: Partial<Record<keyof StatusCounts, number>> = {};
  for await (const page of deps.gateway.listConnections(endpoint)) {
    const pageCounts = statusCounts(page);
    for (const status of Object.keys(pageCounts) as (keyof StatusCounts)[]) {
      counts[status] = (counts[status] ?? 0) + (pageCounts[status] ?? 0);
    }
    for (const connection of page) {
      connections.push(connection);
      const session = toEndedSession(connection, at);
      if (session) ended.push(session);
      else if (connection.status === 'active') active += 1;
      const seen = toObservedSession(connection);
      if (seen) observed.push(seen);
    }
  }
  const recorded = await deps.store.recordSessions(ended);
  // Every page read: only now may the history close what this poll no longer lists.
  const history = await deps.store.recordHistory({
    endpointId: endpoint.id,
    at,
    sessions: observed,
    active,
  });
  // The gap before the poll: a process that dies between the two must find the gap again at
  // its next poll, which it would not once this poll's time were recorded.
  const previous = await deps.store.lastPoll(endpoint.id);
  const visibleFrom = new Date(at.getTime() - API_WINDOW_MS);
  let gap: FoundGap | null = null;
  if (previous !== null && previous < visibleFrom) {
    await deps.store.recordGap(endpoint.id, previous, visibleFrom);
    gap = { endpointId: endpoint.id, from: previous, to: visibleFrom };
    deps.logger.warn(
      `collector gap on ${endpoint.alias}: sessions that ended between ${previous.toISOString()} and ` +
        `${visibleFrom.toISOString()} may be missing (no successful poll for more than 60 minutes)`,
    );
  }
  await deps.store.recordPoll(endpoint.id, at);
  deps.metrics?.recordPoll(endpoint.alias, counts, at);
  return {
    endpoint,
    at,
    active,
    connections,
    ended: ended.length,
    recorded,
    historyAdded: history.added,
    historyClosed: history.closed,
    gap,
  };
}

/**
 * Polls each endpoint once, a few at a time. An endpoint that fails is logged and left for the
 * next round (its ended sessions stay listed for 60 minutes); the others are recorded.
 */
export async function collect(
  endpoints: readonly Endpoint[],
  deps: CollectorDeps,
): Promise<CollectResult> {
  const settled = await settleBounded(endpoints, deps.concurrency ?? 4, (endpoint) =>
    pollEndpoint(endpoint, deps),
  );
  const polls: EndpointPoll[] = [];
  const failures: EndpointFailure[] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      polls.push(result.value);
      return;
    }
    const endpoint = endpoints[i] as Endpoint;
    deps.logger.warn(
      `collector: reading ${endpoint.alias} failed; will retry next poll`,
      result.reason,
    );
    deps.metrics?.recordPollFailure(endpoint.alias);
    failures.push({ endpoint, error: result.reason });
  });
  return {
    kind: 'collected',
    recorded: polls.reduce((sum, poll) => sum + poll.recorded, 0),
    polls,
    failures,
    gaps: polls.flatMap((poll) => (poll.gap ? [poll.gap] : [])),
  };
}

/** Builds the collector over its scope; nothing runs until `poll()` or `collect()`. */
export function createCollector(options: CreateCollectorOptions): Collector {
  const { catalogue, scope, ...deps } = options;
  const endpoints = async () => selectEndpoints(await catalogue.list(), scope);
  let lastSuccess: Date | null = null;
  const collectNow = async (list: readonly Endpoint[]) => {
    const result = await collect(list, deps);
    for (const poll of result.polls) {
      if (lastSuccess === null || poll.at > lastSuccess) lastSuccess = poll.at;
    }
    if (result.recorded > 0)
      deps.logger.debug(`collector: recorded ${result.recorded} ended sessions`);
    return result;
  };
  return {
    endpoints,
    async poll() {
      const started = performance.now();
      try {
        return await collectNow(await endpoints());
      } finally {
        deps.metrics?.recordPollDuration((performance.now() - started) / 1000);
      }
    },
    lastSuccessAt: () => lastSuccess,
    collect: collectNow,
  };
}
