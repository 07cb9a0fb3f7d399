/**
 * The AWS adapter: the only module that imports `@aws-sdk/*`. It reads and
 * terminates Client VPN connections through EC2 and turns the SDK's
 * all-optional, all-string shapes and its errors into domain types once.
 */

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  type ClientVpnEndpoint,
  type DescribeClientVpnConnectionsCommandOutput,
  EC2Client,
  type EC2ClientConfig,
  type Filter,
  paginateDescribeClientVpnConnections,
  paginateDescribeClientVpnEndpoints,
  TerminateClientVpnConnectionsCommand,
  type TerminateClientVpnConnectionsCommandOutput,
} from '@aws-sdk/client-ec2';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { LRUCache } from 'lru-cache';
import {
  AccessDeniedError,
  AwsError,
  AwsRequestError,
  AwsUnavailableError,
  CredentialsError,
  EndpointNotFoundError,
  ThrottledError,
} from '../errors.js';
import type { AppMetrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { type Connection, normalizeConnection } from '../vpn/connection.js';
import {
  type AuthenticationType,
  aliasFromName,
  type Endpoint,
  whereToCheck,
} from '../vpn/endpoint.js';
import type {
  ConnectionFilters,
  ConnectionPage,
  TerminateOptions,
  TerminateResult,
  TerminateTarget,
  VpnGateway,
} from '../vpn/gateway.js';
import { RESERVED_WORDS } from '../vpn/query.js';

/** The API maximum: the fewest round trips per endpoint. */
export const PAGE_SIZE = 1000;

export interface AwsGatewayOptions {
  /** The default region (`AWS_REGION`). */
  readonly region: string;
  readonly logger: Logger;
  /** Per-attempt timeout; the SDK retries a timed-out attempt. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** SDK attempts per call, first try included. Default 3. */
  readonly maxAttempts?: number;
  /**
   * Extra EC2 client settings (credentials, `endpoint`, `retryStrategy`) —
   * tests point the SDK at the emulator with these.
   */
  readonly clientConfig?: Partial<EC2ClientConfig>;
  /** Extra STS client settings, for endpoints with a `roleArn` (tests point it at the emulator). */
  readonly stsClientConfig?: StsClientConfig;
  /** Counts every EC2 call by operation and error (one SDK middleware), for `/metrics`. */
  readonly metrics?: Pick<AppMetrics, 'recordAwsCall'>;
}

/** The settings of the STS client that assumes endpoint roles (the SDK's credential provider's). */
type StsClientConfig = NonNullable<Parameters<typeof fromTemporaryCredentials>[0]['clientConfig']>;

/** The role session name for reads; terminates carry the Slack user ID instead. */
export const READ_SESSION_NAME = 'vpn-conns';

/** `vpn-conns-U012ABCDEF`: CloudTrail then names the person who acted. */
export function actorSessionName(actor: string): string {
  return `vpn-conns-${actor.replace(/[^\w+=,.@-]/g, '')}`.slice(0, 64);
}

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { requestId?: unknown; httpStatusCode?: unknown; attempts?: unknown };
}

const NOT_FOUND = new Set([
  'InvalidClientVpnEndpointId.NotFound',
  'InvalidClientVpnEndpointId.Malformed',
]);
const DENIED = new Set([
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'OptInRequired',
  'Blocked',
]);
const THROTTLED = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
]);
const CREDENTIALS = new Set([
  'AuthFailure',
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What an SDK error says about itself, read once (every field optional in the SDK's shape). */
interface SdkFailure {
  readonly name: string;
  readonly code: string | undefined;
  readonly awsMessage: string;
  readonly requestId: string | undefined;
  readonly status: number | undefined;
  readonly attempts: number | undefined;
  readonly serverFault: boolean;
}

function readSdkFailure(error: unknown): SdkFailure {
  const shape: SdkErrorShape = typeof error === 'object' && error !== null ? error : {};
  const name = stringOf(shape.name) ?? 'Error';
  const { httpStatusCode, attempts } = shape.$metadata ?? {};
  return {
    name,
    code: stringOf(shape.code),
    awsMessage: stringOf(shape.message) ?? name,
    requestId: stringOf(shape.$metadata?.requestId),
    status: typeof httpStatusCode === 'number' ? httpStatusCode : undefined,
    attempts: typeof attempts === 'number' ? attempts : undefined,
    serverFault: shape.$fault === 'server',
  };
}

type FailureKind =
  | 'not-found'
  | 'denied'
  | 'throttled'
  | 'credentials'
  | 'timeout'
  | 'unreachable'
  | 'network'
  | 'refused';

/** Which kind of failure an SDK error is; the order of the checks matters (a 403 is a denial). */
function classifySdkFailure(f: SdkFailure): FailureKind {
  const { name, code, status } = f;
  if (NOT_FOUND.has(name)) return 'not-found';
  if (DENIED.has(name) || status === 403) return 'denied';
  if (THROTTLED.has(name)) return 'throttled';
  if (CREDENTIALS.has(name) || status === 401) return 'credentials';
  // The SDK also names a reset socket `TimeoutError` (code ECONNRESET): only a real timeout is one.
  const networkCode = code !== undefined && NETWORK_CODES.has(code);
  if (
    code === 'ETIMEDOUT' ||
    ((name === 'TimeoutError' || name === 'AbortError') && !networkCode)
  ) {
    return 'timeout';
  }
  const serverSide =
    name === 'InternalError' ||
    name === 'Unavailable' ||
    name === 'ServiceUnavailable' ||
    f.serverFault ||
    (status !== undefined && status >= 500);
  if (networkCode || serverSide) return 'unreachable';
  if (name === 'TypeError' && /fetch|socket|network/i.test(f.awsMessage)) return 'network';
  return 'refused';
}

interface AwsErrorContext {
  readonly operation: string;
  readonly endpointId?: string | undefined;
  /** The endpoint asked for: a not-found error says where it came from. */
  readonly endpoint?: Endpoint | undefined;
  readonly region: string;
  readonly timeoutMs: number;
}

/**
 * Maps anything the SDK throws to one of the named `AwsError`s, with a
 * message a Slack user can act on and the AWS request id kept for the log.
 */
export function toAwsError(error: unknown, context: AwsErrorContext): AwsError {
  if (error instanceof AwsError) return error;
  const f = readSdkFailure(error);
  const details = {
    cause: error,
    requestId: f.requestId,
    endpointId: context.endpointId,
    code: f.name,
  };
  const target = context.endpointId ?? context.region;
  const { operation, region } = context;
  switch (classifySdkFailure(f)) {
    case 'not-found':
      return new EndpointNotFoundError(
        `Client VPN endpoint ${context.endpointId ?? '(unknown)'} was not found in ${region}. ` +
          (context.endpoint ? whereToCheck(context.endpoint) : 'Check its id and region.'),
        details,
      );
    case 'denied':
      return new AccessDeniedError(
        `AWS denied ec2:${operation} on ${target}: grant the bot's IAM role that permission ` +
          `(AWS said: ${f.awsMessage}).`,
        details,
      );
    case 'throttled':
      return new ThrottledError(
        `AWS is throttling Client VPN calls in ${region}` +
          `${f.attempts ? ` (still after ${f.attempts} attempts)` : ''}. Try again in a minute.`,
        details,
      );
    case 'credentials':
      return new CredentialsError(
        'No valid AWS credentials (missing, wrong or expired): ' +
          'check the instance or task role, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. ' +
          `AWS said: ${f.name}.`,
        details,
      );
    case 'timeout': {
      const ms = context.timeoutMs;
      const seconds = ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
      return new AwsUnavailableError(
        `AWS did not answer ec2:${operation} for ${target} within ${seconds}. ` +
          'Try again shortly; if it keeps happening, check the network path to EC2.',
        details,
      );
    }
    case 'unreachable':
      return new AwsUnavailableError(
        `Could not reach AWS EC2 in ${region} (${f.code ?? f.name}). Try again shortly.`,
        details,
      );
    case 'network':
      return new AwsUnavailableError(
        `Could not reach AWS EC2 in ${region} (${f.awsMessage}).`,
        details,
      );
    case 'refused':
      return new AwsRequestError(
        `AWS refused ec2:${operation} on ${target}: ${f.awsMessage}`,
        details,
      );
  }
}

const AUTH_TYPES: ReadonlySet<string> = new Set<AuthenticationType>([
  'certificate-authentication',
  'directory-service-authentication',
  'federated-authentication',
]);

function toEndpoint(raw: ClientVpnEndpoint, region: string, taken: Set<string>): Endpoint | null {
  const id = raw.ClientVpnEndpointId;
  if (!id) return null;
  const name = raw.Tags?.find((t) => t.Key === 'Name')?.Value;
  const slug = aliasFromName(name);
  const alias = slug && !taken.has(slug) && !RESERVED_WORDS.has(slug) ? slug : id;
  taken.add(alias);
  const authenticationTypes = (raw.AuthenticationOptions ?? [])
    .map((o) => o.Type)
    .filter((t): t is AuthenticationType => t !== undefined && AUTH_TYPES.has(t));
  return {
    alias,
    id,
    region,
    authenticationTypes,
    sessionTimeoutHours: raw.SessionTimeoutHours ?? null,
    ...(raw.Description ? { description: raw.Description } : {}),
  };
}

function filtersOf(filters: ConnectionFilters): Filter[] | undefined {
  const out: Filter[] = [];
  if (filters.connectionIds?.length)
    out.push({ Name: 'connection-id', Values: [...filters.connectionIds] });
  if (filters.usernames?.length) out.push({ Name: 'username', Values: [...filters.usernames] });
  return out.length > 0 ? out : undefined;
}

/** What every client of the gateway is built with. */
interface ClientSettings {
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly requestHandler: {
    readonly requestTimeout: number;
    readonly connectionTimeout: number;
    readonly throwOnRequestTimeout: boolean;
  };
  readonly clientConfig: Partial<EC2ClientConfig> | undefined;
  readonly stsClientConfig: StsClientConfig | undefined;
  readonly metrics: Pick<AppMetrics, 'recordAwsCall'> | undefined;
}

function clientSettings(options: AwsGatewayOptions): ClientSettings {
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  return {
    timeoutMs,
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      requestTimeout: timeoutMs,
      connectionTimeout: Math.min(timeoutMs, 5000),
      throwOnRequestTimeout: true,
    },
    clientConfig: options.clientConfig,
    stsClientConfig: options.stsClientConfig,
    metrics: options.metrics,
  };
}

/** An AssumeRole failure, named after the role (a denial is the role's trust policy's doing). */
function assumeRoleError(error: unknown, roleArn: string, region: string, timeoutMs: number) {
  if (error instanceof AwsError) return error;
  const shape: SdkErrorShape = typeof error === 'object' && error !== null ? error : {};
  const name = stringOf(shape.name);
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    return new AccessDeniedError(
      `AWS denied sts:AssumeRole on ${roleArn}: the role's trust policy must allow the bot's identity.`,
      { cause: error, requestId: stringOf(shape.$metadata?.requestId), code: name },
    );
  }
  return toAwsError(error, { operation: 'AssumeRole', region, timeoutMs });
}

/**
 * Credentials of a role in another account, from the SDK's provider. The EC2 client holding
 * them memoizes them until five minutes before they expire (the SDK asks on every request) and
 * makes concurrent requests share one AssumeRole call. STS is reached through the EC2 client's
 * own request handler, with the bot's credentials.
 */
function assumedRole(roleArn: string, sessionName: string, region: string, s: ClientSettings) {
  const provider = fromTemporaryCredentials({
    params: { RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 900 },
    ...(s.clientConfig?.credentials ? { masterCredentials: s.clientConfig.credentials } : {}),
    clientConfig: { region, maxAttempts: s.maxAttempts, ...s.stsClientConfig },
  });
  return async (properties?: Parameters<typeof provider>[0]) => {
    try {
      return await provider(properties);
    } catch (error) {
      throw assumeRoleError(error, roleArn, region, s.timeoutMs);
    }
  };
}

function newClient(
  region: string,
  role: { readonly arn: string; readonly sessionName: string } | undefined,
  s: ClientSettings,
): EC2Client {
  const client = new EC2Client({
    region,
    maxAttempts: s.maxAttempts,
    requestHandler: s.requestHandler,
    ...s.clientConfig,
    ...(role ? { credentials: assumedRole(role.arn, role.sessionName, region, s) } : {}),
  });
  const metrics = s.metrics;
  if (metrics) {
    // Outermost step: one count per call (retries included), with the error it finally gave.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        try {
          const output = await next(args);
          metrics.recordAwsCall(operation);
          return output;
        } catch (error) {
          const name = (error as { name?: unknown } | null)?.name;
          metrics.recordAwsCall(operation, typeof name === 'string' ? name : 'error');
          throw error;
        }
      },
      { step: 'initialize', name: 'vpnConnsMetrics' },
    );
  }
  return client;
}

/** How many people's clients are kept for their next clicks; the least recently used is closed. */
const ACTOR_CLIENTS = 32;

/**
 * The EC2 clients: one reading client per region (and role), created on first use and kept;
 * and, for terminates through a role, one client per person (one AssumeRole per person and
 * credential lifetime, not one per terminate), the least recently used beyond a few dozen closed.
 */
function createClientPool(s: ClientSettings) {
  const readers = new Map<string, EC2Client>();
  const actors = new LRUCache<string, EC2Client>({
    max: ACTOR_CLIENTS,
    dispose: (client) => client.destroy(),
  });
  return {
    /** The reading client of a region (and role), with the session name `vpn-conns`. */
    reader(endpoint: Pick<Endpoint, 'region' | 'roleArn'> | string): EC2Client {
      const region = typeof endpoint === 'string' ? endpoint : endpoint.region;
      const roleArn = typeof endpoint === 'string' ? undefined : endpoint.roleArn;
      const key = `${region}|${roleArn ?? ''}`;
      let client = readers.get(key);
      if (!client) {
        const role = roleArn ? { arn: roleArn, sessionName: READ_SESSION_NAME } : undefined;
        client = newClient(region, role, s);
        readers.set(key, client);
      }
      return client;
    },
    /** A client acting for one person through the endpoint's role. */
    actor(region: string, roleArn: string, sessionName: string): EC2Client {
      const key = `${region}|${roleArn}|${sessionName}`;
      let client = actors.get(key);
      if (!client) {
        client = newClient(region, { arn: roleArn, sessionName }, s);
        actors.set(key, client);
      }
      return client;
    },
    destroy(): void {
      for (const client of readers.values()) client.destroy();
      readers.clear();
      actors.clear();
    },
  };
}

type ClientPool = ReturnType<typeof createClientPool>;

/** Maps an SDK error to a named `AwsError`, and logs its request id at debug level. */
function failure(
  error: unknown,
  operation: string,
  where: { readonly endpoint?: Endpoint; readonly region: string },
  s: ClientSettings,
  logger: Logger,
): AwsError {
  const mapped = toAwsError(error, {
    operation,
    endpointId: where.endpoint?.id,
    endpoint: where.endpoint,
    region: where.region,
    timeoutMs: s.timeoutMs,
  });
  logger.debug(`aws ${operation} failed`, {
    endpointId: mapped.endpointId,
    code: mapped.code,
    requestId: mapped.requestId,
  });
  return mapped;
}

/** The connections of one page, normalized; a malformed record is kept, marked and logged. */
function connectionsOf(
  page: DescribeClientVpnConnectionsCommandOutput,
  endpoint: Endpoint,
  logger: Logger,
): Connection[] {
  return (page.Connections ?? []).map((record) => {
    const connection = normalizeConnection(record, endpoint.id);
    if (connection.issues.length > 0) {
      logger.warn('malformed Client VPN connection record kept with unknown fields', {
        endpointId: endpoint.id,
        connectionId: connection.connectionId,
        issues: connection.issues,
        requestId: page.$metadata.requestId,
      });
    }
    return connection;
  });
}

async function* listConnectionPages(
  pool: ClientPool,
  endpoint: Endpoint,
  filters: ConnectionFilters,
  s: ClientSettings,
  logger: Logger,
): AsyncGenerator<ConnectionPage> {
  const Filters = filtersOf(filters);
  // The paginator writes NextToken into its input: always hand it a fresh object.
  const input = {
    ClientVpnEndpointId: endpoint.id,
    MaxResults: PAGE_SIZE,
    ...(Filters ? { Filters } : {}),
  };
  const pages = paginateDescribeClientVpnConnections(
    { client: pool.reader(endpoint), pageSize: PAGE_SIZE },
    input,
  );
  try {
    for await (const page of pages) {
      // The SDK has just parsed the page (1,000 records of XML: tens of ms in one piece). Let
      // requests waiting on the event loop in before normalizing it, the next piece.
      await yieldToEventLoop();
      const connections = connectionsOf(page, endpoint, logger);
      const { requestId } = page.$metadata;
      yield requestId ? Object.assign(connections, { requestId }) : connections;
    }
  } catch (error) {
    throw failure(
      error,
      'DescribeClientVpnConnections',
      { endpoint, region: endpoint.region },
      s,
      logger,
    );
  }
}

async function listEndpointsIn(
  pool: ClientPool,
  region: string,
  s: ClientSettings,
  logger: Logger,
): Promise<Endpoint[]> {
  const endpoints: Endpoint[] = [];
  const taken = new Set<string>();
  // The paginator writes NextToken into its input: always hand it a fresh object.
  const pages = paginateDescribeClientVpnEndpoints(
    { client: pool.reader(region), pageSize: PAGE_SIZE },
    { MaxResults: PAGE_SIZE },
  );
  try {
    for await (const page of pages) {
      for (const raw of page.ClientVpnEndpoints ?? []) {
        const endpoint = toEndpoint(raw, region, taken);
        if (endpoint) endpoints.push(endpoint);
      }
    }
  } catch (error) {
    throw failure(error, 'DescribeClientVpnEndpoints', { region }, s, logger);
  }
  return endpoints;
}

function toTerminateResult(
  out: TerminateClientVpnConnectionsCommandOutput,
  endpoint: Endpoint,
): TerminateResult {
  return {
    endpointId: out.ClientVpnEndpointId ?? endpoint.id,
    username: out.Username ?? null,
    connections: (out.ConnectionStatuses ?? []).map((c) => ({
      connectionId: c.ConnectionId ?? '(unknown)',
      previousStatus: c.PreviousStatus?.Code ?? null,
      currentStatus: c.CurrentStatus?.Code ?? null,
    })),
    requestId: out.$metadata.requestId,
  };
}

async function terminateOn(
  pool: ClientPool,
  endpoint: Endpoint,
  target: TerminateTarget,
  options: TerminateOptions,
  s: ClientSettings,
  logger: Logger,
): Promise<TerminateResult> {
  const command = new TerminateClientVpnConnectionsCommand({
    ClientVpnEndpointId: endpoint.id,
    ...('connectionId' in target
      ? { ConnectionId: target.connectionId }
      : { Username: target.username }),
    ...(options.dryRun ? { DryRun: true } : {}),
  });
  // With a role, the session name carries the person who acted, for CloudTrail.
  const client =
    endpoint.roleArn && options.actor
      ? pool.actor(endpoint.region, endpoint.roleArn, actorSessionName(options.actor))
      : pool.reader(endpoint);
  try {
    return toTerminateResult(await client.send(command), endpoint);
  } catch (error) {
    // A DryRun that would have succeeded is reported by AWS as an error.
    const shape = error as SdkErrorShape | null;
    if (options.dryRun && shape?.name === 'DryRunOperation') {
      return {
        endpointId: endpoint.id,
        username: 'username' in target ? target.username : null,
        connections: [],
        requestId: stringOf(shape.$metadata?.requestId),
      };
    }
    throw failure(
      error,
      'TerminateClientVpnConnections',
      { endpoint, region: endpoint.region },
      s,
      logger,
    );
  }
}

/**
 * Builds the gateway over EC2. One client per region, created on first use
 * and reused; every request times out after `requestTimeoutMs`.
 */
export function createAwsGateway(options: AwsGatewayOptions): VpnGateway & { destroy(): void } {
  const settings = clientSettings(options);
  const pool = createClientPool(settings);
  const { logger } = options;
  return {
    listConnections: (endpoint, filters = {}) =>
      listConnectionPages(pool, endpoint, filters, settings, logger),
    listEndpoints: (region = options.region) => listEndpointsIn(pool, region, settings, logger),
    terminate: (endpoint, target, terminateOptions = {}) =>
      terminateOn(pool, endpoint, target, terminateOptions, settings, logger),
    destroy: () => pool.destroy(),
  };
}
