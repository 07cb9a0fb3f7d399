/**
 * The collector: polls the endpoints and records every ended session once in
 * the state store, before AWS forgets it (60 minutes after it ended). When
 * two successful polls of an endpoint are further apart than that window, the
 * interval in between is recorded as a gap the next digest reports.
 */
import type { Logger } from '../logger.js';
import type { EndedSession, StateStore } from '../store/types.js';
import type { Connection } from '../vpn/connection.js';
import type { Endpoint } from '../vpn/endpoint.js';
import { type EndpointFailure, settleBounded } from '../vpn/fetch.js';
import type { VpnGateway } from '../vpn/gateway.js';

/** How long AWS lists a terminated connection. */
export const API_WINDOW_MS = 60 * 60_000;

export interface CollectorDeps {
  readonly gateway: VpnGateway;
  readonly store: StateStore;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Endpoints read at once. Default 4. */
  readonly concurrency?: number;
}

export interface CollectResult {
  /** Sessions seen for the first time. */
  readonly recorded: number;
  readonly failures: readonly EndpointFailure[];
  /** Gaps found by this poll. */
  readonly gaps: readonly { endpointId: string; from: Date; to: Date }[];
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

/** Polls each endpoint once (unfiltered, uncached) and records what ended. */
export async function collect(
  endpoints: readonly Endpoint[],
  deps: CollectorDeps,
): Promise<CollectResult> {
  let recorded = 0;
  const gaps: { endpointId: string; from: Date; to: Date }[] = [];
  const settled = await settleBounded(endpoints, deps.concurrency ?? 4, async (endpoint) => {
    // The time the poll started bounds what it can still see: sessions ended after at − 60 min.
    const at = deps.now();
    const ended: EndedSession[] = [];
    for await (const page of deps.gateway.listConnections(endpoint)) {
      for (const connection of page) {
        const session = toEndedSession(connection, at);
        if (session) ended.push(session);
      }
    }
    recorded += await deps.store.recordSessions(ended);
    const previous = await deps.store.recordPoll(endpoint.id, at);
    const visibleFrom = new Date(at.getTime() - API_WINDOW_MS);
    if (previous !== null && previous < visibleFrom) {
      await deps.store.recordGap(endpoint.id, previous, visibleFrom);
      gaps.push({ endpointId: endpoint.id, from: previous, to: visibleFrom });
      deps.logger.warn(
        `collector gap on ${endpoint.alias}: sessions that ended between ${previous.toISOString()} and ` +
          `${visibleFrom.toISOString()} may be missing (no successful poll for more than 60 minutes)`,
      );
    }
  });
  const failures: EndpointFailure[] = [];
  settled.forEach((result, i) => {
    if (result.status === 'rejected') {
      const endpoint = endpoints[i] as Endpoint;
      deps.logger.warn(
        `collector: reading ${endpoint.alias} failed; will retry next poll`,
        result.reason,
      );
      failures.push({ endpoint, error: result.reason });
    }
  });
  return { recorded, failures, gaps };
}
