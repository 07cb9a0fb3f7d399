/**
 * History and usage reports over the store (issue 11), for Slack and the
 * terminal alike: `history` answers which sessions were up in a window (or at
 * one moment) as domain `Connection`s, so the list builders, CSV and JSON
 * records serve it unchanged; `report` summarizes a period with
 * `summarizeUsage`. Times are read in `timeZone`; `now` is injected.
 */
import { UsageError } from '../errors.js';
import { type Period, parseInstant, parseReportPeriod, parseSince } from '../reports/period.js';
import {
  type ConcurrencySample,
  type Pricing,
  type SessionRecord,
  summarizeUsage,
  type UsageReport,
} from '../reports/usage.js';
import type { HistorySession, StateStore } from '../store/types.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Connection } from '../vpn/connection.js';
import { type Endpoint, resolveEndpoints } from '../vpn/endpoint.js';
import { matchUser } from '../vpn/lookup.js';
import type { HistoryQuery, ReportQuery, UserRef } from '../vpn/query.js';
import type { UserDirectory } from './connections.js';

/** The history store's part of the state store. */
export type HistoryStore = Pick<
  StateStore,
  'historySessions' | 'historyUsage' | 'concurrencySamples' | 'historyStartsAt'
>;

export interface HistoryDeps {
  readonly store: HistoryStore;
  readonly catalogue: EndpointCatalogue;
  /** The region of endpoint ids typed without being configured. */
  readonly region: string;
  /** Where dates without an offset are read, and calendar periods fall. */
  readonly timeZone: string;
  readonly now: () => Date;
  /** Resolves `user me` and `user @someone`; absent, those are refused. */
  readonly directory?: UserDirectory;
}

/** The window a history answer covers. */
export type HistoryWindow =
  | { readonly kind: 'since'; readonly from: Date; readonly to: Date }
  | { readonly kind: 'at'; readonly at: Date };

export interface HistoryAnswer {
  /** Ordered by start. */
  readonly connections: Connection[];
  readonly endpoints: readonly Endpoint[];
  readonly window: HistoryWindow;
  readonly historyStartsAt: Date | null;
  /** The person asked about, when one was. */
  readonly user: string | null;
  /** When the store was read. */
  readonly fetchedAt: Date;
}

/** The default window of `history` without `since=`/`at=`. */
export const DEFAULT_HISTORY_SINCE = '24h';

/** A recorded session as the rest of the product sees a connection. */
export function toConnection(s: HistorySession): Connection {
  return {
    endpointId: s.endpointId,
    connectionId: s.connectionId,
    username: s.username,
    commonName: s.commonName,
    status: s.status,
    statusMessage: null,
    clientIp: s.clientIp,
    clientIpv6: s.clientIpv6,
    establishedAt: s.startedAt,
    endedAt: s.endedAt,
    observedAt: s.lastSeenAt,
    ingressBytes: s.ingressBytes,
    egressBytes: s.egressBytes,
    ingressPackets: s.ingressPackets,
    egressPackets: s.egressPackets,
    postureCompliance: s.postureCompliance,
    issues: [],
  };
}

function resolveWho(who: UserRef, askerId: string, directory: UserDirectory | undefined) {
  if (who.kind === 'name') return Promise.resolve(who.name);
  if (!directory) throw new UsageError('Look people up by their VPN user name here.');
  return directory.vpnUsername(who.kind === 'me' ? askerId : who.userId);
}

/** The window `since=`/`at=` name, read at `now` in `timeZone`. @throws UsageError */
export function historyWindow(query: HistoryQuery, now: Date, timeZone: string): HistoryWindow {
  if (query.at !== null) return { kind: 'at', at: parseInstant(query.at, timeZone) };
  const from = parseSince(query.since ?? DEFAULT_HISTORY_SINCE, now, timeZone);
  return { kind: 'since', from, to: now };
}

/**
 * Runs a history query for `askerId` (whom `user me` means): the recorded
 * sessions of the endpoints that overlap the window, or were up at `at=` (from
 * their first to their last second). @throws UsageError
 */
export async function runHistoryQuery(
  query: HistoryQuery,
  askerId: string,
  deps: HistoryDeps,
): Promise<HistoryAnswer> {
  const now = deps.now();
  const window = historyWindow(query, now, deps.timeZone);
  const user = query.who === null ? null : await resolveWho(query.who, askerId, deps.directory);
  const endpoints = resolveEndpoints(query.endpoints, await deps.catalogue.list(), deps.region);
  const [from, to] =
    window.kind === 'at'
      ? [window.at, new Date(window.at.getTime() + 1)]
      : [window.from, new Date(window.to.getTime() + 1)];
  const connections: Connection[] = [];
  for await (const s of deps.store.historySessions({
    endpointIds: endpoints.map((e) => e.id),
    from,
    to,
    ...(user === null ? {} : { person: user }),
  })) {
    const connection = toConnection(s);
    // The store narrows by name; the exact rule is the one `user NAME` applies to live sessions.
    if (user === null || matchUser(connection, user) !== null) connections.push(connection);
  }
  return {
    connections,
    endpoints,
    window,
    historyStartsAt: await deps.store.historyStartsAt(),
    user,
    fetchedAt: now,
  };
}

export interface ReportAnswer {
  readonly report: UsageReport;
  readonly period: Period;
  readonly endpoints: readonly Endpoint[];
  readonly historyStartsAt: Date | null;
}

/** Report pricing from the configured prices (per endpoint by alias). */
export interface ReportDeps extends HistoryDeps {
  readonly pricing: Pricing;
}

/** The sessions of a period as the report reads them, endpoint named by alias, streamed. */
async function* sessionRecords(
  store: HistoryStore,
  endpoints: readonly Endpoint[],
  period: Period,
): AsyncGenerator<SessionRecord> {
  const byId = new Map(endpoints.map((e) => [e.id, e]));
  for await (const s of store.historyUsage({
    endpointIds: endpoints.map((e) => e.id),
    from: period.start,
    to: period.end,
  })) {
    const endpoint = byId.get(s.endpointId);
    yield {
      endpoint: endpoint?.alias ?? s.endpointId,
      connectionId: s.connectionId,
      username: s.username,
      commonName: s.commonName,
      authentication: endpoint?.authenticationTypes ?? [],
      start: s.startedAt,
      end: s.endedAt,
      ingressBytes: s.ingressBytes,
      egressBytes: s.egressBytes,
    };
  }
}

/**
 * Summarizes the period a report query names, at `now` in `timeZone`. The
 * sessions are gathered first (summarizeUsage takes a synchronous iterable);
 * each is a small record, about 200 bytes. @throws UsageError
 */
export async function runReportQuery(query: ReportQuery, deps: ReportDeps): Promise<ReportAnswer> {
  const now = deps.now();
  const period = parseReportPeriod(query.period, now, deps.timeZone);
  // Described: certificate-only endpoints name people by common name.
  const endpoints = resolveEndpoints(
    query.endpoints,
    await deps.catalogue.described(),
    deps.region,
  );
  const sessions: SessionRecord[] = [];
  for await (const record of sessionRecords(deps.store, endpoints, period)) sessions.push(record);
  const aliasOf = new Map(endpoints.map((e) => [e.id, e.alias]));
  const samples: ConcurrencySample[] = (
    await deps.store.concurrencySamples(
      endpoints.map((e) => e.id),
      period.start,
      period.end,
    )
  ).map((s) => ({
    endpoint: aliasOf.get(s.endpointId) ?? s.endpointId,
    at: s.at,
    active: s.active,
  }));
  const report = summarizeUsage({
    sessions,
    samples,
    period,
    now,
    pricing: deps.pricing,
    endpoints: endpoints.map((e) => e.alias),
  });
  return { report, period, endpoints, historyStartsAt: await deps.store.historyStartsAt() };
}
