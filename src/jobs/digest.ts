/**
 * The digest jobs, exactly once: one cron job per configured digest. At a
 * tick the job polls the digest's endpoints once more (the collector), posts
 * every recorded session of those endpoints that ended before the tick and is
 * not yet reported, with the coverage gaps not yet reported, and marks them
 * reported in the same transaction that records the post. A failed post
 * leaves them pending for the next tick. Leader-only (the scheduler checks):
 * one instance per database collects and posts.
 *
 * Before posting, the job records an intent (an id and what the post covers)
 * and sends the id in the message's metadata. An intent still there at the
 * next tick means the process died between Slack's `ok` and the commit, or
 * Slack never answered: the job looks for the id in the channel's history and,
 * if the post is there, records it instead of posting its sessions again.
 */
import { randomUUID } from 'node:crypto';
import type { Collector } from '../collector/collector.js';
import { API_WINDOW_MS, selectEndpoints } from '../collector/collector.js';
import type { DigestConfig } from '../config.js';
import { describeError, SlackDeliveryError, UNANSWERED_DELIVERY } from '../errors.js';
import type { AppMetrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import type { DigestIntent, SessionKey, StateStore } from '../store/types.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Endpoint } from '../vpn/endpoint.js';
import type { DigestView } from './digest-view.js';
import { SESSION_RETENTION_MS } from './maintenance.js';
import { periodDone } from './period.js';
import { nextRunOf, type ScheduledJob } from './scheduler.js';

/** Delivers a digest to its channel (the Slack adapter implements it). */
export interface DigestPoster {
  /**
   * Posts the digest with `intentId` in the message's metadata.
   * @returns the posted message's `ts`. @throws SlackDeliveryError
   */
  post(digest: DigestConfig, view: DigestView, intentId?: string): Promise<{ ts: string }>;
  /**
   * The message posted with `intentId` in the digest's channel since `since`, or null if there is
   * none. @throws SlackDeliveryError (`missing_scope` when the app may not read the history)
   */
  findPosted(digest: DigestConfig, intentId: string, since: Date): Promise<{ ts: string } | null>;
  /** Finishes a post found after a crash: the full list in its thread when the message shortened it. */
  complete(digest: DigestConfig, view: DigestView, ts: string): Promise<void>;
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
  /** Counts posts and failed ticks, and the sessions left pending, for `/metrics`. */
  readonly metrics?: AppMetrics;
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

function keyOf(session: SessionKey): string {
  return JSON.stringify([session.endpointId, session.connectionId]);
}

/**
 * Records the intent, posts the view with the intent's id, then marks its sessions and gaps
 * reported with the post, in one transaction, and forgets the intent. If Slack refused the post
 * the intent goes at once; if Slack did not answer it stays for the next tick to look for.
 */
async function postAndMark(
  deps: DigestJobsDeps,
  digest: DigestConfig,
  tickAt: Date,
  view: DigestView,
): Promise<TickOutcome> {
  const intent: DigestIntent = {
    id: randomUUID(),
    digestId: digest.name,
    tickAt,
    channel: digest.channel,
    createdAt: deps.now(),
    sessions: view.sessions.map((s) => ({
      endpointId: s.endpointId,
      connectionId: s.connectionId,
    })),
    gapIds: view.gaps.map((g) => g.id),
  };
  await deps.store.recordIntent(intent);
  let ts: string;
  try {
    ({ ts } = await deps.poster.post(digest, view, intent.id));
  } catch (error) {
    if (error instanceof SlackDeliveryError && !UNANSWERED_DELIVERY.has(error.code)) {
      await deps.store.clearIntent(intent.id);
    }
    throw error;
  }
  await markPosted(deps, intent, ts);
  deps.logger.info(
    `digest ${digest.name}: posted ${view.sessions.length} sessions to ${digest.channel} (ts ${ts})`,
  );
  return { kind: 'posted', sessions: view.sessions.length, gaps: view.gaps.length, ts };
}

/** Records an intent's post and marks what it covered reported (one transaction), then forgets it. */
async function markPosted(deps: DigestJobsDeps, intent: DigestIntent, ts: string): Promise<void> {
  await deps.store.markReported(
    {
      digestId: intent.digestId,
      tickAt: intent.tickAt,
      postedAt: deps.now(),
      channel: intent.channel,
      ts,
      sessionCount: intent.sessions.length,
    },
    intent.sessions,
    intent.gapIds,
  );
  await deps.store.clearIntent(intent.id);
}

/** Whether the post of an intent reached the channel: its `ts`, or null. */
async function lookForPost(
  deps: DigestJobsDeps,
  digest: DigestConfig,
  intent: DigestIntent,
): Promise<{ ts: string } | null> {
  try {
    return await deps.poster.findPosted(digest, intent.id, intent.createdAt);
  } catch (error) {
    if (!(error instanceof SlackDeliveryError) || error.code !== 'missing_scope') throw error;
    deps.logger.warn(
      `digest ${digest.name}: cannot tell whether the digest of ${intent.tickAt.toISOString()} ` +
        `reached ${digest.channel}: reading its history needs the channels:history scope ` +
        '(groups:history for a private channel); reinstall the app from manifest.yml. ' +
        'Its sessions are posted again.',
    );
    return null;
  }
}

/**
 * Settles the intents an interrupted tick left behind, before anything is posted: a post found
 * in the channel's history is recorded (and its CSV attached again if it had one) without
 * posting again; a post not found is forgotten, so its sessions go out with this tick.
 */
async function settleIntents(deps: DigestJobsDeps, digest: DigestConfig): Promise<void> {
  for (const intent of await deps.store.pendingIntents(digest.name)) {
    // Its period is recorded as posted: by its own commit (the clear did not run). Not by time:
    // a post settled earlier in the same tick can carry the very millisecond the intent was made.
    const last = await deps.store.lastPost(digest.name);
    if (last !== null && last.tickAt.getTime() === intent.tickAt.getTime()) {
      await deps.store.clearIntent(intent.id);
      continue;
    }
    const found = await lookForPost(deps, digest, intent);
    if (found === null) {
      deps.logger.info(
        `digest ${digest.name}: the digest of ${intent.tickAt.toISOString()} did not reach ${digest.channel}; its sessions go out with this tick`,
      );
      await deps.store.clearIntent(intent.id);
      continue;
    }
    const endpoints = await endpointsOf(deps, digest);
    const view = await buildView(deps, digest, endpoints, intent.tickAt, false);
    const keys = new Set(intent.sessions.map(keyOf));
    await deps.poster.complete(
      digest,
      {
        ...view,
        sessions: view.sessions.filter((s) => keys.has(keyOf(s))),
        gaps: view.gaps.filter((g) => intent.gapIds.includes(g.id)),
      },
      found.ts,
    );
    await markPosted(deps, intent, found.ts);
    deps.logger.info(
      `digest ${digest.name}: the digest of ${intent.tickAt.toISOString()} was posted (ts ${found.ts}) before an interruption; recorded it without posting again`,
    );
  }
}

/** One tick of one digest; never throws (a failure is logged and left for the next tick). */
async function tickDigest(
  deps: DigestJobsDeps,
  digest: DigestConfig,
  tickAt: Date,
): Promise<TickOutcome> {
  let pending = 0;
  try {
    // First: a post interrupted before its commit may settle this very period.
    await settleIntents(deps, digest);
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
    const posted = await postAndMark(deps, digest, tickAt, view);
    deps.metrics?.recordDigestPost(digest.name, 'ok');
    deps.metrics?.setPendingDigestSessions(digest.name, 0);
    return posted;
  } catch (error) {
    deps.metrics?.recordDigestPost(digest.name, 'error');
    deps.metrics?.setPendingDigestSessions(digest.name, pending);
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
