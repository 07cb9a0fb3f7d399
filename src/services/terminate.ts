/**
 * Terminating VPN sessions, for Slack, the CLI and alerts alike: one connection, or every
 * active session of one person. Plans what to call where (the user-name form when AWS allows
 * it, else one connection at a time), asks AWS with `DryRun` on every endpoint first so an IAM
 * denial is reported before anything is done, then makes the calls one after another and
 * reports each connection's previous → current status. Cached reads of the endpoints touched
 * are dropped, so the next list shows the change. Returns plain results; rendering and
 * permission checks are the caller's.
 */
import { AwsError, UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EndpointCatalogue } from '../vpn/catalogue.js';
import type { Endpoint } from '../vpn/endpoint.js';
import type { TerminateTarget, VpnGateway } from '../vpn/gateway.js';
import { filtersByUsername } from '../vpn/lookup.js';
import type { ConnectionService } from './connections.js';

/** The username form of TerminateClientVpnConnections refuses more than this many connections. */
export const USERNAME_FORM_LIMIT = 5;

/** What to terminate. */
export type TerminateRequest =
  | {
      readonly kind: 'connection';
      readonly endpointId: string;
      readonly connectionId: string;
      /** Whose session it is, for the report. */
      readonly who: string;
    }
  | {
      readonly kind: 'user';
      /** The VPN user name (or certificate name) whose active sessions end. */
      readonly name: string;
      /** Only on these endpoints; `null` = every endpoint. */
      readonly endpointIds: readonly string[] | null;
    };

/** One endpoint's share of the work. */
export interface TerminatePlan {
  readonly endpoint: Endpoint;
  readonly targets: readonly TerminateTarget[];
}

export interface TerminatedSession {
  readonly endpoint: Endpoint;
  readonly connectionId: string;
  readonly previous: string | null;
  readonly current: string | null;
}

export interface TerminateFailure {
  readonly endpoint: Endpoint;
  readonly error: unknown;
}

/**
 * How it went. `not-started`: planning or the DryRun failed and nothing was attempted
 * (`refusedByAws` when AWS denied it). Otherwise every call was made: `ok` when all succeeded,
 * `partial` when some did, `failed` when none did.
 */
export type TerminateReport =
  | {
      readonly status: 'not-started';
      readonly who: string;
      readonly endpoints: readonly Endpoint[];
      readonly error: unknown;
      readonly refusedByAws: boolean;
      readonly requestIds: readonly string[];
    }
  | {
      readonly status: 'ok' | 'partial' | 'failed';
      readonly who: string;
      readonly endpoints: readonly Endpoint[];
      readonly done: readonly TerminatedSession[];
      readonly failed: readonly TerminateFailure[];
      readonly requestIds: readonly string[];
    };

export interface TerminateOptions {
  /** Who acts (a Slack user ID): on endpoints with a role, it names the AWS role session. */
  readonly actor?: string;
}

export interface TerminateService {
  /** Plans, checks with DryRun, then terminates. Never throws: failures are in the report. */
  terminate(request: TerminateRequest, options?: TerminateOptions): Promise<TerminateReport>;
}

export interface TerminateDeps {
  readonly gateway: VpnGateway;
  readonly catalogue: EndpointCatalogue;
  /** Read for a person's active sessions, and told which endpoints changed. */
  readonly connections: ConnectionService;
  readonly logger: Logger;
}

function requestIdOf(error: unknown): string[] {
  return error instanceof AwsError && error.requestId ? [error.requestId] : [];
}

/** What to call where for one person: by user name when the endpoint allows it and there are at most 5, else one by one. */
export async function planUserTermination(
  name: string,
  endpointIds: readonly string[] | null,
  connections: ConnectionService,
): Promise<TerminatePlan[]> {
  // Fresh data: a cached list could miss a session that started a moment ago.
  connections.invalidate();
  const result = await connections.lookupUser({
    name,
    endpoints: endpointIds ? { kind: 'named', names: endpointIds } : { kind: 'all' },
    statuses: ['active'],
  });
  const failure = result.failures[0];
  if (failure) throw failure.error;
  const plans: TerminatePlan[] = [];
  for (const endpoint of result.endpoints) {
    const active = result.connections.filter((c) => c.endpointId === endpoint.id);
    if (active.length === 0) continue;
    const byName =
      filtersByUsername(endpoint) &&
      active.length <= USERNAME_FORM_LIMIT &&
      active.every((c) => c.username === name);
    plans.push({
      endpoint,
      targets: byName
        ? [{ username: name }]
        : active.map((c) => ({ connectionId: c.connectionId })),
    });
  }
  return plans;
}

async function planFor(request: TerminateRequest, deps: TerminateDeps): Promise<TerminatePlan[]> {
  if (request.kind === 'user') {
    return planUserTermination(request.name, request.endpointIds, deps.connections);
  }
  const endpoint = (await deps.catalogue.described()).find((e) => e.id === request.endpointId);
  if (!endpoint) throw new UsageError(`Endpoint ${request.endpointId} is no longer configured.`);
  return [{ endpoint, targets: [{ connectionId: request.connectionId }] }];
}

/** Makes the planned calls one after another (AWS allows 5 terminate calls per second). */
async function execute(
  plans: readonly TerminatePlan[],
  options: TerminateOptions,
  deps: TerminateDeps,
) {
  const done: TerminatedSession[] = [];
  const failed: TerminateFailure[] = [];
  const requestIds: string[] = [];
  for (const { endpoint, targets } of plans) {
    for (const target of targets) {
      try {
        const result = await deps.gateway.terminate(endpoint, target, options);
        if (result.requestId) requestIds.push(result.requestId);
        for (const c of result.connections) {
          done.push({
            endpoint,
            connectionId: c.connectionId,
            previous: c.previousStatus,
            current: c.currentStatus,
          });
        }
      } catch (error) {
        requestIds.push(...requestIdOf(error));
        failed.push({ endpoint, error });
        if (!(error instanceof AwsError)) deps.logger.error('terminate failed', error);
      }
    }
    deps.connections.invalidate(endpoint.id);
  }
  return { done, failed, requestIds };
}

/** Builds the service over the gateway, the catalogue and the connection service. */
export function createTerminateService(deps: TerminateDeps): TerminateService {
  return {
    async terminate(request, options = {}) {
      const who = request.kind === 'user' ? request.name : request.who;
      const actor = options.actor === undefined ? {} : { actor: options.actor };
      let plans: TerminatePlan[] = [];
      try {
        plans = await planFor(request, deps);
        // DryRun first, everywhere: if AWS would refuse anywhere, nothing is attempted.
        for (const { endpoint, targets } of plans) {
          const [first] = targets;
          if (first) await deps.gateway.terminate(endpoint, first, { dryRun: true, ...actor });
        }
      } catch (error) {
        return {
          status: 'not-started',
          who,
          endpoints: plans.map((p) => p.endpoint),
          error,
          refusedByAws: error instanceof AwsError && error.kind === 'access-denied',
          requestIds: requestIdOf(error),
        };
      }
      const { done, failed, requestIds } = await execute(plans, actor, deps);
      const status = failed.length === 0 ? 'ok' : done.length > 0 ? 'partial' : 'failed';
      return { status, who, endpoints: plans.map((p) => p.endpoint), done, failed, requestIds };
    },
  };
}
