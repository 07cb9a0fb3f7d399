/**
 * Digests, exactly once. The collector records ended sessions between ticks;
 * at a tick the service polls once more, posts every recorded session of the
 * digest's endpoints that ended before the tick and is not yet reported, and
 * marks them reported in the same transaction that records the post. A failed
 * post leaves them pending for the next tick. Only the leader (one instance
 * per database) collects and posts.
 */
import type { DigestConfig } from '../config.js';
import { describeError, SlackDeliveryError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StateStore } from '../store/types.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Endpoint } from '../vpn/endpoint.js';
import type { VpnGateway } from '../vpn/gateway.js';
import { API_WINDOW_MS, collect } from './collector.js';
import type { DigestView } from './view.js';

/** Sessions older than this are never reported, and are pruned. */
export const RETENTION_MS = 7 * 24 * 60 * 60_000;
/** Audit entries are kept this long. */
export const AUDIT_RETENTION_MS = 90 * 24 * 60 * 60_000;
export const LEADER_LOCK = 'digest';

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
  | { readonly kind: 'not-leader' }
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

export interface DigestServiceDeps {
  readonly digests: readonly DigestConfig[];
  readonly store: StateStore;
  readonly gateway: VpnGateway;
  readonly catalogue: EndpointCatalogue;
  readonly poster: DigestPoster;
  readonly logger: Logger;
  readonly now: () => Date;
  /** This instance's name in the leadership lock. */
  readonly holder: string;
  /** Lease length for stores that use one (SQLite); Postgres holds a lock. */
  readonly leaseMs: number;
  readonly concurrency?: number;
}

export interface DigestService {
  /** One collector round over every digest's endpoints (leader only). */
  poll(): Promise<void>;
  /** Posts one digest for the tick at `tickAt` (leader only). */
  tick(digest: DigestConfig, tickAt: Date): Promise<TickOutcome>;
  /** What `/vpn-conns digest` shows. */
  status(): Promise<DigestStatus[]>;
  /** The digest as it would be posted now, marking nothing (`/vpn-conns digest now`). */
  preview(digest: DigestConfig): Promise<DigestView>;
  /** Gives up leadership (shutdown). */
  release(): Promise<void>;
}

/** Builds the digest service over the store, the gateway and a poster. */
export function createDigestService(deps: DigestServiceDeps): DigestService {
  const { store, logger } = deps;
  let leading = false;

  const lead = async (): Promise<boolean> => {
    let now: boolean;
    try {
      now = await store.tryLead(LEADER_LOCK, deps.holder, deps.leaseMs);
    } catch (error) {
      logger.warn('digest: could not check leadership; skipping this round', describeError(error));
      now = false;
    }
    if (now !== leading) {
      logger.info(
        now
          ? `digest: ${deps.holder} now collects and posts`
          : `digest: ${deps.holder} is no longer the leader`,
      );
      leading = now;
    }
    return now;
  };

  const endpointsOf = async (digest: DigestConfig | null): Promise<Endpoint[]> => {
    const all = await deps.catalogue.list();
    if (digest === null) {
      const wanted = new Set<string>();
      for (const d of deps.digests) {
        if (d.endpoints === 'all') return all;
        for (const alias of d.endpoints) wanted.add(alias);
      }
      return all.filter((e) => wanted.has(e.alias));
    }
    if (digest.endpoints === 'all') return all;
    const aliases = digest.endpoints;
    const missing = aliases.filter((a) => !all.some((e) => e.alias === a));
    if (missing.length > 0) {
      logger.warn(
        `digest ${digest.name}: unknown endpoint ${missing.join(', ')}; known: ${all.map((e) => e.alias).join(', ')}`,
      );
    }
    return all.filter((e) => aliases.includes(e.alias));
  };

  const aliasLookup = (endpoints: readonly Endpoint[]) => {
    const byId = new Map(endpoints.map((e) => [e.id, e.alias]));
    return (id: string) => byId.get(id) ?? id;
  };

  /** The sessions and gaps a digest would post at `tickAt`, and the interval it covers. */
  const buildView = async (
    digest: DigestConfig,
    endpoints: readonly Endpoint[],
    tickAt: Date,
    preview: boolean,
  ) => {
    const ids = endpoints.map((e) => e.id);
    const notBefore = new Date(tickAt.getTime() - RETENTION_MS);
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
    const view: DigestView = {
      name: digest.name,
      timezone: digest.timezone,
      from,
      to: tickAt,
      sessions,
      gaps,
      aliasOf: aliasLookup(endpoints),
      ...(preview ? { preview: true } : {}),
    };
    return view;
  };

  const prune = async () => {
    const now = deps.now().getTime();
    const removed = await store.prune(
      new Date(now - RETENTION_MS),
      new Date(now - AUDIT_RETENTION_MS),
    );
    if (removed > 0) logger.debug(`digest: pruned ${removed} old rows`);
  };

  return {
    async poll() {
      if (deps.digests.length === 0 || !(await lead())) return;
      try {
        const result = await collect(await endpointsOf(null), {
          gateway: deps.gateway,
          store,
          logger,
          now: deps.now,
          ...(deps.concurrency ? { concurrency: deps.concurrency } : {}),
        });
        if (result.recorded > 0) logger.debug(`digest: recorded ${result.recorded} ended sessions`);
        await prune();
      } catch (error) {
        // Store or discovery trouble: the next poll tries again; sessions stay visible for 60 minutes.
        logger.error('digest: collector round failed', describeError(error));
      }
    },

    async tick(digest, tickAt) {
      if (!(await lead())) return { kind: 'not-leader' };
      let pending = 0;
      try {
        const endpoints = await endpointsOf(digest);
        await collect(endpoints, {
          gateway: deps.gateway,
          store,
          logger,
          now: deps.now,
          ...(deps.concurrency ? { concurrency: deps.concurrency } : {}),
        });
        const view = await buildView(digest, endpoints, tickAt, false);
        pending = view.sessions.length;
        if (view.sessions.length === 0 && view.gaps.length === 0 && digest.empty === 'skip') {
          logger.info(
            `digest ${digest.name}: nothing ended before ${tickAt.toISOString()}; not posting`,
          );
          return { kind: 'empty' };
        }
        const { ts } = await deps.poster.post(digest, view);
        await store.markReported(
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
        logger.info(
          `digest ${digest.name}: posted ${view.sessions.length} sessions to ${digest.channel} (ts ${ts})`,
        );
        return { kind: 'posted', sessions: view.sessions.length, gaps: view.gaps.length, ts };
      } catch (error) {
        const reason =
          error instanceof SlackDeliveryError
            ? `${error.code}: ${error.hint}`
            : describeError(error);
        logger.error(
          `digest ${digest.name}: not posted to ${digest.channel}; ${pending} sessions stay pending for the next tick. ${reason}`,
        );
        return { kind: 'failed', reason, pending };
      }
    },

    async status() {
      const endpoints = await deps.catalogue.list();
      const notBefore = new Date(deps.now().getTime() - RETENTION_MS);
      return Promise.all(
        deps.digests.map(async (digest) => {
          const ids = (
            digest.endpoints === 'all'
              ? endpoints
              : endpoints.filter((e) => digest.endpoints.includes(e.alias))
          ).map((e) => e.id);
          const last = await store.lastPost(digest.name);
          return {
            digest,
            lastPost: last
              ? { tickAt: last.tickAt, postedAt: last.postedAt, sessions: last.sessionCount }
              : null,
            pending: await store.countPending(digest.name, ids, notBefore),
          };
        }),
      );
    },

    async preview(digest) {
      const endpoints = await endpointsOf(digest);
      // A preview reads what the collector has recorded; it does not poll AWS.
      return buildView(digest, endpoints, deps.now(), true);
    },

    async release() {
      await store.releaseLead(LEADER_LOCK, deps.holder);
      leading = false;
    },
  };
}
