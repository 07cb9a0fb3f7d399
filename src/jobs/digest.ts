/**
 * The digest jobs, exactly once: one cron job per configured digest. At a
 * tick the job polls the digest's endpoints once more (the collector), posts
 * every recorded session of those endpoints that ended before the tick and is
 * not yet reported, with the coverage gaps not yet reported, and marks them
 * reported in the same transaction that records the post. A failed post
 * leaves them pending for the next tick. Leader-only (the scheduler checks):
 * one instance per database collects and posts.
 */
import type { Collector } from '../collector/collector.js';
import { API_WINDOW_MS, selectEndpoints } from '../collector/collector.js';
import type { DigestConfig } from '../config.js';
import { describeError, SlackDeliveryError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StateStore } from '../store/types.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Endpoint } from '../vpn/endpoint.js';
import type { DigestView } from './digest-view.js';
import { SESSION_RETENTION_MS } from './maintenance.js';
import { periodDone } from './period.js';
import { nextRunOf, type ScheduledJob } from './scheduler.js';

/** Delivers a digest to its channel (the Slack adapter implements it). */
export interface DigestPoster {
  /** @returns the posted message's `ts`. @throws SlackDeliveryError */
  post(digest: DigestConfig, view: DigestView): Promise<{ ts: string }>;
}

export type TickOutcome =
  | {
      readonly kind: 'posted';
      readonly sessions: number;
      readonly gaps: number;
      readonly ts: string;
    }
  | { readonly kind: 'empty' }
  /** This period was already posted (by this instance before a restart, or another instance). */
  | { readonly kind: 'already-posted' }
  | { readonly kind: 'failed'; readonly reason: string; readonly pending: number };

export interface DigestStatus {
  readonly digest: DigestConfig;
  readonly lastPost: {
    readonly tickAt: Date;
    readonly postedAt: Date;
    readonly sessions: number;
  } | null;
  readonly pending: number;
}

export interface DigestJobsDeps {
  readonly digests: readonly DigestConfig[];
  readonly store: StateStore;
  readonly catalogue: EndpointCatalogue;
  /** Polls a digest's endpoints right before its tick. */
  readonly collector: Collector;
  readonly poster: DigestPoster;
  readonly logger: Logger;
  readonly now: () => Date;
}

export interface DigestJobs {
  /** One scheduled job per digest (`digest:NAME`), leader-only, on the digest's cron and time zone. */
  readonly jobs: readonly ScheduledJob<TickOutcome>[];
  /** What `/vpn-conns digest` shows. */
  status(): Promise<DigestStatus[]>;
  /** The digest as it would be posted now, marking nothing (`/vpn-conns digest now`). */
  preview(digest: DigestConfig): Promise<DigestView>;
}

/** The scheduler's name for a digest's job. */
export function digestJobName(digest: DigestConfig): string {
  return `digest:${digest.name}`;
}

/**
 * The next run of a digest by name: from the scheduler when this process schedules it, else from
 * its cron (a `web` instance answering `/vpn-conns digest` for the worker's digests).
 */
export function nextDigestRun(
  digests: readonly DigestConfig[],
  scheduled: (jobName: string) => Date | null,
): (name: string) => Date | null {
  return (name) => {
    const digest = digests.find((d) => d.name === name);
    if (!digest) return null;
    return scheduled(digestJobName(digest)) ?? nextRunOf(digest.cron, digest.timezone);
  };
}

/** The endpoints a digest covers; an alias the catalogue does not know is logged and left out. */
async function endpointsOf(deps: DigestJobsDeps, digest: DigestConfig): Promise<Endpoint[]> {
  const all = await deps.catalogue.list();
  if (digest.endpoints !== 'all') {
    const missing = digest.endpoints.filter((a) => !all.some((e) => e.alias === a));
    if (missing.length > 0) {
      deps.logger.warn(
        `digest ${digest.name}: unknown endpoint ${missing.join(', ')}; known: ${all.map((e) => e.alias).join(', ')}`,
      );
    }
  }
  return selectEndpoints(all, digest.endpoints);
}

function aliasLookup(endpoints: readonly Endpoint[]): (id: string) => string {
  const byId = new Map(endpoints.map((e) => [e.id, e.alias]));
  return (id) => byId.get(id) ?? id;
}

/** The sessions and gaps a digest would post at `tickAt`, and the interval it covers. */
async function buildView(
  deps: DigestJobsDeps,
  digest: DigestConfig,
  endpoints: readonly Endpoint[],
  tickAt: Date,
  preview: boolean,
): Promise<DigestView> {
  const { store } = deps;
  const ids = endpoints.map((e) => e.id);
  const notBefore = new Date(tickAt.getTime() - SESSION_RETENTION_MS);
  // A session that failed to terminate has no end time: the collector stamps it with each read's
  // time, which at a tick is at or after `tickAt`. It is flagged at this tick, whatever its stamp.
  const horizon = new Date(Math.max(tickAt.getTime(), deps.now().getTime()) + API_WINDOW_MS);
  const sessions = (await store.pendingSessions(digest.name, ids, horizon, notBefore)).filter(
    (s) => s.endedAt < tickAt || s.status === 'failed-to-terminate',
  );
  const gaps = await store.pendingGaps(digest.name, ids);
  const last = await store.lastPost(digest.name);
  let from = last?.tickAt ?? new Date(tickAt.getTime() - API_WINDOW_MS);
  // Sessions left pending by a failed delivery widen the interval back to them.
  const oldest = sessions[0]?.endedAt;
  if (oldest && oldest < from) from = oldest;
  return {
    name: digest.name,
    timezone: digest.timezone,
    from,
    to: tickAt,
    sessions,
    gaps,
    aliasOf: aliasLookup(endpoints),
    ...(preview ? { preview: true } : {}),
  };
}

/** Posts the view, then marks its sessions and gaps reported with the post, in one transaction. */
async function postAndMark(
  deps: DigestJobsDeps,
  digest: DigestConfig,
  tickAt: Date,
  view: DigestView,
): Promise<TickOutcome> {
  const { ts } = await deps.poster.post(digest, view);
  await deps.store.markReported(
    {
      digestId: digest.name,
      tickAt,
      postedAt: deps.now(),
      channel: digest.channel,
      ts,
      sessionCount: view.sessions.length,
    },
    view.sessions.map((s) => ({ endpointId: s.endpointId, connectionId: s.connectionId })),
    view.gaps.map((g) => g.id),
  );
  deps.logger.info(
    `digest ${digest.name}: posted ${view.sessions.length} sessions to ${digest.channel} (ts ${ts})`,
  );
  return { kind: 'posted', sessions: view.sessions.length, gaps: view.gaps.length, ts };
}

/** One tick of one digest; never throws (a failure is logged and left for the next tick). */
async function tickDigest(
  deps: DigestJobsDeps,
  digest: DigestConfig,
  tickAt: Date,
): Promise<TickOutcome> {
  let pending = 0;
  try {
    if (await periodDone(deps.store, digest.name, tickAt)) {
      deps.logger.info(`digest ${digest.name}: ${tickAt.toISOString()} was already posted`);
      return { kind: 'already-posted' };
    }
    const endpoints = await endpointsOf(deps, digest);
    await deps.collector.collect(endpoints);
    const view = await buildView(deps, digest, endpoints, tickAt, false);
    pending = view.sessions.length;
    if (view.sessions.length === 0 && view.gaps.length === 0 && digest.empty === 'skip') {
      deps.logger.info(
        `digest ${digest.name}: nothing ended before ${tickAt.toISOString()}; not posting`,
      );
      return { kind: 'empty' };
    }
    return await postAndMark(deps, digest, tickAt, view);
  } catch (error) {
    const reason =
      error instanceof SlackDeliveryError ? `${error.code}: ${error.hint}` : describeError(error);
    deps.logger.error(
      `digest ${digest.name}: not posted to ${digest.channel}; ${pending} sessions stay pending for the next tick. ${reason}`,
    );
    return { kind: 'failed', reason, pending };
  }
}

async function statusOf(deps: DigestJobsDeps): Promise<DigestStatus[]> {
  const endpoints = await deps.catalogue.list();
  const notBefore = new Date(deps.now().getTime() - SESSION_RETENTION_MS);
  return Promise.all(
    deps.digests.map(async (digest) => {
      const ids = selectEndpoints(endpoints, digest.endpoints).map((e) => e.id);
      const last = await deps.store.lastPost(digest.name);
      return {
        digest,
        lastPost: last
          ? { tickAt: last.tickAt, postedAt: last.postedAt, sessions: last.sessionCount }
          : null,
        pending: await deps.store.countPending(digest.name, ids, notBefore),
      };
    }),
  );
}

/** Builds the digest jobs over the store, the collector and a poster. */
export function createDigestJobs(deps: DigestJobsDeps): DigestJobs {
  return {
    jobs: deps.digests.map((digest) => ({
      name: digestJobName(digest),
      schedule: { cron: digest.cron, timezone: digest.timezone },
      leaderOnly: true,
      description: `to ${digest.channel}`,
      // Posts one digest for the tick at `at`; the scheduler has checked the lead.
      run: (at: Date) => tickDigest(deps, digest, at),
    })),
    status: () => statusOf(deps),
    async preview(digest) {
      // A preview reads what the collector has recorded; it does not poll AWS.
      return buildView(deps, digest, await endpointsOf(deps, digest), deps.now(), true);
    },
  };
}
