/**
 * What the App Home tab shows (issue 11), gathered for the builder in
 * `slack/blocks/home.ts`: one live read of every endpoint (the connection
 * service's, shared and briefly cached), the longest-running active sessions,
 * each digest's last post, and the last 24 hours from the session history.
 * A part that cannot be read is left out (`null`), never fatal.
 */

import type { DigestStatus } from '../jobs/digest.js';
import type { Logger } from '../logger.js';
import type { Pricing, UsageReport } from '../reports/usage.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Connection } from '../vpn/connection.js';
import type { ConnectionService } from './connections.js';
import { type HistoryStore, runReportQuery } from './history.js';

/** One endpoint's line: counts from one live read. */
export interface HomeEndpoint {
  readonly alias: string;
  readonly id: string;
  /** `null` when reading the endpoint failed. */
  readonly active: number | null;
  readonly endedLastHour: number | null;
}

/** One of the longest-running active sessions. */
export interface HomeSession {
  readonly endpoint: string;
  readonly username: string | null;
  readonly commonName: string | null;
  readonly clientIp: string | null;
  readonly establishedAt: Date;
}

/** One configured digest and its last post. */
export interface HomeDigest {
  readonly name: string;
  readonly channel: string;
  readonly lastPostAt: Date | null;
  readonly sessions: number;
}

/** The last 24 hours, from the session history. */
export interface HomeUsage {
  readonly sessions: number;
  readonly people: number;
  readonly connectionHours: number;
  readonly estimatedCost: number;
  readonly currency: string;
  readonly endpoints: readonly {
    readonly endpoint: string;
    readonly connectionHours: number;
    readonly peak: number;
    readonly peakAt: Date | null;
  }[];
  readonly historyStartsAt: Date | null;
  /** The chart the bot uploaded for this view (a private file), when it could. */
  readonly chart: { readonly fileId: string; readonly altText: string } | null;
}

export interface HomeInput {
  readonly endpoints: readonly HomeEndpoint[];
  /** Most senior first, at most {@link HOME_LONGEST}. */
  readonly longest: readonly HomeSession[];
  /** `null` when no digest is configured on this instance. */
  readonly digests: readonly HomeDigest[] | null;
  /** `null` when the session history is not available. */
  readonly usage: HomeUsage | null;
  readonly fetchedAt: Date;
}

/** Longest-running sessions shown. */
export const HOME_LONGEST = 5;
const HOUR_MS = 3_600_000;

export interface HomeSources {
  readonly service: ConnectionService;
  readonly catalogue: EndpointCatalogue;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The session history; absent, the 24-hour part says it is not available. */
  readonly history?: {
    readonly store: HistoryStore;
    readonly region: string;
    readonly timeZone: string;
    readonly pricing: Pricing;
  };
  /** Each configured digest's last post; absent = no digest on this instance. */
  readonly digests?: () => Promise<readonly DigestStatus[]>;
  /** Draws and uploads the 24-hour chart, answering its file id (see `slack/home-chart.ts`). */
  readonly chart?: (report: UsageReport) => Promise<HomeUsage['chart']>;
}

/** Active and recently ended counts per endpoint, and the most senior active sessions. */
async function liveRead(sources: HomeSources, now: Date) {
  const result = await sources.service.list({ endpoints: { kind: 'all' }, statuses: null });
  const failed = new Set(result.failures.map((f) => f.endpoint.id));
  const since = now.getTime() - HOUR_MS;
  const byEndpoint = new Map<string, Connection[]>();
  for (const c of result.connections) {
    const list = byEndpoint.get(c.endpointId) ?? [];
    list.push(c);
    byEndpoint.set(c.endpointId, list);
  }
  const endpoints: HomeEndpoint[] = result.endpoints.map((e) => {
    if (failed.has(e.id)) return { alias: e.alias, id: e.id, active: null, endedLastHour: null };
    const list = byEndpoint.get(e.id) ?? [];
    return {
      alias: e.alias,
      id: e.id,
      active: list.filter((c) => c.status === 'active').length,
      endedLastHour: list.filter(
        (c) => c.status !== 'active' && c.endedAt !== null && c.endedAt.getTime() >= since,
      ).length,
    };
  });
  const aliasOf = new Map(result.endpoints.map((e) => [e.id, e.alias]));
  const longest: HomeSession[] = result.connections
    .filter((c) => c.status === 'active' && c.establishedAt !== null)
    .sort((a, b) => (a.establishedAt?.getTime() ?? 0) - (b.establishedAt?.getTime() ?? 0))
    .slice(0, HOME_LONGEST)
    .map((c) => ({
      endpoint: aliasOf.get(c.endpointId) ?? c.endpointId,
      username: c.username,
      commonName: c.commonName,
      clientIp: c.clientIp ?? c.clientIpv6,
      establishedAt: c.establishedAt as Date,
    }));
  return { endpoints, longest, fetchedAt: result.fetchedAt };
}

/** The last 24 hours over every endpoint, from the history store. */
async function lastDay(sources: HomeSources): Promise<HomeUsage | null> {
  const history = sources.history;
  if (!history) return null;
  const { report, historyStartsAt } = await runReportQuery(
    { kind: 'report', period: '24h', endpoints: { kind: 'all' } },
    { ...history, catalogue: sources.catalogue, now: sources.now },
  );
  let chart: HomeUsage['chart'] = null;
  if (sources.chart && report.totals.sessions > 0) {
    chart = await sources.chart(report).catch((error: unknown) => {
      sources.logger.warn('could not draw or upload the Home chart', error);
      return null;
    });
  }
  return {
    sessions: report.totals.sessions,
    people: report.totals.people,
    connectionHours: report.totals.connectionHours,
    estimatedCost: report.totals.estimatedCost,
    currency: report.currency,
    endpoints: report.endpoints.map((e) => ({
      endpoint: e.endpoint,
      connectionHours: e.connectionHours,
      peak: e.peak.count,
      peakAt: e.peak.at,
    })),
    historyStartsAt,
    chart,
  };
}

/** Logs a failed part and answers `fallback` instead. */
function orElse<T>(sources: HomeSources, what: string, fallback: T) {
  return (error: unknown): T => {
    sources.logger.warn(`App Home: could not read ${what}`, error);
    return fallback;
  };
}

/** Everything the Home tab shows, read now. A live read that fails entirely throws. */
export async function gatherHomeInput(sources: HomeSources): Promise<HomeInput> {
  const now = sources.now();
  const [live, usage, digests] = await Promise.all([
    liveRead(sources, now),
    lastDay(sources).catch(orElse(sources, 'the session history', null)),
    sources.digests
      ? sources
          .digests()
          .then((statuses) =>
            statuses.map((s) => ({
              name: s.digest.name,
              channel: s.digest.channel,
              lastPostAt: s.lastPost?.postedAt ?? null,
              sessions: s.lastPost?.sessions ?? 0,
            })),
          )
          .catch(orElse(sources, 'the digest status', null))
      : Promise.resolve(null),
  ]);
  return { ...live, usage, digests };
}
