/**
 * The endpoints the bot serves: from `VPN_ENDPOINTS`, or discovered with
 * DescribeClientVpnEndpoints. Configured endpoints are described once to
 * learn their authentication type (certificate endpoints need a different
 * user lookup); the answer is cached.
 */
import { createSharedCache } from '../cache.js';
import type { Logger } from '../logger.js';
import type { Endpoint } from './endpoint.js';
import type { VpnGateway } from './gateway.js';

export interface EndpointCatalogue {
  /**
   * The endpoints, the default first. Configured endpoints cost no AWS call;
   * discovered ones are cached, and concurrent callers share one lookup.
   */
  list(): Promise<Endpoint[]>;
  /** Like `list()`, with each endpoint's authentication types and session timeout filled in where AWS tells them. */
  described(): Promise<Endpoint[]>;
}

export interface CatalogueOptions {
  readonly gateway: VpnGateway;
  /** From config; `null` = discover in `region`. */
  readonly configured: readonly Endpoint[] | null;
  readonly region: string;
  readonly logger: Logger;
  /** How long a lookup is reused. Default 10 minutes. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** Builds the endpoint catalogue over the gateway. */
export function createEndpointCatalogue(options: CatalogueOptions): EndpointCatalogue {
  const ttl = options.ttlMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;

  /** One lookup, reused for `ttl`; a failed one is not kept: the next call tries again. */
  const cachedLookup = (load: () => Promise<Endpoint[]>) => {
    const cache = createSharedCache<Endpoint[]>({ ttlMs: ttl, max: 1, now });
    return (): Promise<Endpoint[]> => cache.get('endpoints', load);
  };

  const enrich = async (configured: readonly Endpoint[]): Promise<Endpoint[]> => {
    const regions = [...new Set(configured.map((e) => e.region))];
    const described = new Map<string, Endpoint>();
    await Promise.all(
      regions.map(async (region) => {
        try {
          for (const e of await options.gateway.listEndpoints(region)) described.set(e.id, e);
        } catch (error) {
          // Listing connections may still work with a narrower IAM policy.
          options.logger.warn(
            `could not describe Client VPN endpoints in ${region}; user lookups will also match certificate names, and lists show no session time limits`,
            error,
          );
        }
      }),
    );
    return configured.map((e) => {
      const found = described.get(e.id);
      if (!found) return e;
      return {
        ...e,
        ...(found.authenticationTypes ? { authenticationTypes: found.authenticationTypes } : {}),
        ...(found.description ? { description: found.description } : {}),
        ...(found.sessionTimeoutHours !== undefined
          ? { sessionTimeoutHours: found.sessionTimeoutHours }
          : {}),
      };
    });
  };

  const { configured } = options;
  if (configured === null) {
    const discover = cachedLookup(async () =>
      (await options.gateway.listEndpoints(options.region)).map(
        (e): Endpoint => ({ ...e, origin: { kind: 'discovered' } }),
      ),
    );
    return { list: discover, described: discover };
  }
  return {
    list: async () => [...configured],
    described: cachedLookup(() => enrich(configured)),
  };
}
