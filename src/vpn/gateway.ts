/**
 * The port through which the domain reads and acts on Client VPN. The AWS
 * adapter (`src/aws/`) implements it; nothing here imports the SDK.
 */
import type { Connection } from './connection.js';
import type { Endpoint } from './endpoint.js';

/** Server-side filters (the API has no status filter: that is applied by the caller). */
export interface ConnectionFilters {
  readonly connectionIds?: readonly string[];
  readonly usernames?: readonly string[];
}

/** One page of connections, with the AWS request id of the call that returned it (for the audit trail). */
export type ConnectionPage = Connection[] & { readonly requestId?: string };

export type TerminateTarget = { readonly connectionId: string } | { readonly username: string };

export interface TerminatedConnection {
  readonly connectionId: string;
  readonly previousStatus: string | null;
  readonly currentStatus: string | null;
}

export interface TerminateResult {
  readonly endpointId: string;
  readonly username: string | null;
  readonly connections: readonly TerminatedConnection[];
  readonly requestId: string | undefined;
}

export interface TerminateOptions {
  /** Ask AWS whether the call would be allowed, without doing it. */
  readonly dryRun?: boolean;
  /** The Slack user ID of the person acting; with a role, it names the AWS role session. */
  readonly actor?: string;
}

export interface VpnGateway {
  /** Every page of connections of one endpoint, fetched lazily, 1000 per request. */
  listConnections(endpoint: Endpoint, filters?: ConnectionFilters): AsyncIterable<ConnectionPage>;
  /** The Client VPN endpoints of a region (default: the configured region). */
  listEndpoints(region?: string): Promise<Endpoint[]>;
  terminate(
    endpoint: Endpoint,
    target: TerminateTarget,
    options?: TerminateOptions,
  ): Promise<TerminateResult>;
}
