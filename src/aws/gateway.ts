/**
 * The AWS adapter: the only module that imports `@aws-sdk/*`. It reads and
 * terminates Client VPN connections through EC2 and turns the SDK's
 * all-optional, all-string shapes and its errors into domain types once.
 */
import {
  type ClientVpnEndpoint,
  DescribeClientVpnEndpointsCommand,
  EC2Client,
  type EC2ClientConfig,
  type Filter,
  paginateDescribeClientVpnConnections,
  TerminateClientVpnConnectionsCommand,
} from '@aws-sdk/client-ec2';
import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  STSClient,
  type STSClientConfig,
} from '@aws-sdk/client-sts';
import {
  AccessDeniedError,
  AwsError,
  AwsRequestError,
  AwsUnavailableError,
  CredentialsError,
  EndpointNotFoundError,
  ThrottledError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import { normalizeConnection } from '../vpn/connection.js';
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
  readonly stsClientConfig?: Partial<STSClientConfig>;
}

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

/**
 * Maps anything the SDK throws to one of the named `AwsError`s, with a
 * message a Slack user can act on and the AWS request id kept for the log.
 */
export function toAwsError(
  error: unknown,
  context: {
    operation: string;
    endpointId?: string | undefined;
    /** The endpoint asked for: a not-found error says where it came from. */
    endpoint?: Endpoint | undefined;
    region: string;
    timeoutMs: number;
  },
): AwsError {
  if (error instanceof AwsError) return error;
  const shape: SdkErrorShape = typeof error === 'object' && error !== null ? error : {};
  const name = stringOf(shape.name) ?? 'Error';
  const code = stringOf(shape.code);
  const awsMessage = stringOf(shape.message) ?? name;
  const requestId = stringOf(shape.$metadata?.requestId);
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number'
      ? shape.$metadata.httpStatusCode
      : undefined;
  const attempts =
    typeof shape.$metadata?.attempts === 'number' ? shape.$metadata.attempts : undefined;
  const details = { cause: error, requestId, endpointId: context.endpointId, code: name };
  const target = context.endpointId ?? context.region;

  if (NOT_FOUND.has(name)) {
    return new EndpointNotFoundError(
      `Client VPN endpoint ${context.endpointId ?? '(unknown)'} was not found in ${context.region}. ` +
        (context.endpoint ? whereToCheck(context.endpoint) : 'Check its id and region.'),
      details,
    );
  }
  if (DENIED.has(name) || status === 403) {
    return new AccessDeniedError(
      `AWS denied ec2:${context.operation} on ${target}: grant the bot's IAM role that permission ` +
        `(AWS said: ${awsMessage}).`,
      details,
    );
  }
  if (THROTTLED.has(name)) {
    return new ThrottledError(
      `AWS is throttling Client VPN calls in ${context.region}` +
        `${attempts ? ` (still after ${attempts} attempts)` : ''}. Try again in a minute.`,
      details,
    );
  }
  if (CREDENTIALS.has(name) || status === 401) {
    return new CredentialsError(
      'No valid AWS credentials (missing, wrong or expired): ' +
        'check the instance or task role, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. ' +
        `AWS said: ${name}.`,
      details,
    );
  }
  // The SDK also names a reset socket `TimeoutError` (code ECONNRESET): only a real timeout is one.
  const timedOut =
    code === 'ETIMEDOUT' ||
    ((name === 'TimeoutError' || name === 'AbortError') &&
      (code === undefined || !NETWORK_CODES.has(code)));
  if (timedOut) {
    const seconds =
      context.timeoutMs >= 1000
        ? `${Math.round(context.timeoutMs / 1000)} s`
        : `${context.timeoutMs} ms`;
    return new AwsUnavailableError(
      `AWS did not answer ec2:${context.operation} for ${target} within ${seconds}. ` +
        'Try again shortly; if it keeps happening, check the network path to EC2.',
      details,
    );
  }
  if (
    (code !== undefined && NETWORK_CODES.has(code)) ||
    name === 'InternalError' ||
    name === 'Unavailable' ||
    name === 'ServiceUnavailable' ||
    shape.$fault === 'server' ||
    (status !== undefined && status >= 500)
  ) {
    return new AwsUnavailableError(
      `Could not reach AWS EC2 in ${context.region} (${code ?? name}). Try again shortly.`,
      details,
    );
  }
  if (name === 'TypeError' && /fetch|socket|network/i.test(awsMessage)) {
    return new AwsUnavailableError(
      `Could not reach AWS EC2 in ${context.region} (${awsMessage}).`,
      details,
    );
  }
  return new AwsRequestError(
    `AWS refused ec2:${context.operation} on ${target}: ${awsMessage}`,
    details,
  );
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

/**
 * Builds the gateway over EC2. One client per region, created on first use
 * and reused; every request times out after `requestTimeoutMs`.
 */
export function createAwsGateway(options: AwsGatewayOptions): VpnGateway & { destroy(): void } {
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const clients = new Map<string, EC2Client>();
  const stsClients = new Map<string, STSClient>();
  const { logger } = options;
  const requestHandler = {
    requestTimeout: timeoutMs,
    connectionTimeout: Math.min(timeoutMs, 5000),
    throwOnRequestTimeout: true,
  };

  const stsFor = (region: string): STSClient => {
    let sts = stsClients.get(region);
    if (!sts) {
      sts = new STSClient({
        region,
        maxAttempts: options.maxAttempts ?? 3,
        requestHandler,
        ...(options.clientConfig?.credentials
          ? { credentials: options.clientConfig.credentials }
          : {}),
        ...options.stsClientConfig,
      });
      stsClients.set(region, sts);
    }
    return sts;
  };

  /**
   * Credentials of a role in another account. Kept until five minutes before
   * they expire (the SDK asks for credentials on every request), and
   * concurrent requests share one AssumeRole call.
   */
  const assumeRole = (roleArn: string, sessionName: string, region: string) => {
    type Credentials = {
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      expiration?: Date;
    };
    let cached: Credentials | undefined;
    let pending: Promise<Credentials> | undefined;
    const fetchCredentials = async (): Promise<Credentials> => {
      let out: AssumeRoleCommandOutput;
      try {
        out = await stsFor(region).send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: sessionName,
            DurationSeconds: 900,
          }),
        );
      } catch (error) {
        const name = (error as SdkErrorShape | null)?.name;
        const requestId = stringOf((error as SdkErrorShape | null)?.$metadata?.requestId);
        if (name === 'AccessDenied' || name === 'AccessDeniedException') {
          throw new AccessDeniedError(
            `AWS denied sts:AssumeRole on ${roleArn}: the role's trust policy must allow the bot's identity.`,
            { cause: error, requestId, code: name },
          );
        }
        throw toAwsError(error, { operation: 'AssumeRole', region, timeoutMs });
      }
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) {
        throw new CredentialsError(`AWS STS returned no credentials for ${roleArn}.`);
      }
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      };
    };
    return async (): Promise<Credentials> => {
      const fresh = cached?.expiration && cached.expiration.getTime() - Date.now() > 5 * 60_000;
      if (cached && fresh) return cached;
      pending ??= fetchCredentials().finally(() => {
        pending = undefined;
      });
      cached = await pending;
      return cached;
    };
  };

  const newClient = (region: string, roleArn: string | undefined, sessionName: string) =>
    new EC2Client({
      region,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler,
      ...options.clientConfig,
      ...(roleArn ? { credentials: assumeRole(roleArn, sessionName, region) } : {}),
    });

  /**
   * A client acting for one person through a role, kept for their next
   * clicks (one AssumeRole, not one per terminate); the least recently used
   * beyond a few dozen are closed.
   */
  const actorClients = new Map<string, EC2Client>();
  const actorClientFor = (region: string, roleArn: string, sessionName: string): EC2Client => {
    const key = `${region}|${roleArn}|${sessionName}`;
    let client = actorClients.get(key);
    if (client) {
      actorClients.delete(key);
    } else {
      client = newClient(region, roleArn, sessionName);
      if (actorClients.size >= 32) {
        const [oldestKey, oldest] = actorClients.entries().next().value ?? [];
        if (oldestKey !== undefined) actorClients.delete(oldestKey);
        oldest?.destroy();
      }
    }
    actorClients.set(key, client);
    return client;
  };

  /** The reading client of a region (and role): created once, reused. */
  const clientFor = (endpoint: Pick<Endpoint, 'region' | 'roleArn'> | string): EC2Client => {
    const region = typeof endpoint === 'string' ? endpoint : endpoint.region;
    const roleArn = typeof endpoint === 'string' ? undefined : endpoint.roleArn;
    const key = `${region}|${roleArn ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = newClient(region, roleArn, READ_SESSION_NAME);
      clients.set(key, client);
    }
    return client;
  };

  const fail = (
    error: unknown,
    operation: string,
    endpoint: Endpoint | undefined,
    region: string,
  ) => {
    const mapped = toAwsError(error, {
      operation,
      endpointId: endpoint?.id,
      endpoint,
      region,
      timeoutMs,
    });
    logger.debug(`aws ${operation} failed`, {
      endpointId: mapped.endpointId,
      code: mapped.code,
      requestId: mapped.requestId,
    });
    return mapped;
  };

  async function* listConnections(
    endpoint: Endpoint,
    filters: ConnectionFilters = {},
  ): AsyncGenerator<ConnectionPage> {
    const Filters = filtersOf(filters);
    // The paginator writes NextToken into its input: always hand it a fresh object.
    const input = {
      ClientVpnEndpointId: endpoint.id,
      MaxResults: PAGE_SIZE,
      ...(Filters ? { Filters } : {}),
    };
    const pages = paginateDescribeClientVpnConnections(
      { client: clientFor(endpoint), pageSize: PAGE_SIZE },
      input,
    );
    try {
      for await (const page of pages) {
        const connections = (page.Connections ?? []).map((raw) => {
          const connection = normalizeConnection(raw, endpoint.id);
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
        const requestId = page.$metadata.requestId;
        yield requestId ? Object.assign(connections, { requestId }) : connections;
      }
    } catch (error) {
      throw fail(error, 'DescribeClientVpnConnections', endpoint, endpoint.region);
    }
  }

  async function listEndpoints(region = options.region): Promise<Endpoint[]> {
    const client = clientFor(region);
    const endpoints: Endpoint[] = [];
    const taken = new Set<string>();
    let NextToken: string | undefined;
    try {
      do {
        const page = await client.send(
          new DescribeClientVpnEndpointsCommand({
            MaxResults: 1000,
            ...(NextToken ? { NextToken } : {}),
          }),
        );
        for (const raw of page.ClientVpnEndpoints ?? []) {
          const endpoint = toEndpoint(raw, region, taken);
          if (endpoint) endpoints.push(endpoint);
        }
        NextToken = page.NextToken || undefined;
      } while (NextToken);
    } catch (error) {
      throw fail(error, 'DescribeClientVpnEndpoints', undefined, region);
    }
    return endpoints;
  }

  async function terminate(
    endpoint: Endpoint,
    target: TerminateTarget,
    terminateOptions: TerminateOptions = {},
  ): Promise<TerminateResult> {
    const command = new TerminateClientVpnConnectionsCommand({
      ClientVpnEndpointId: endpoint.id,
      ...('connectionId' in target
        ? { ConnectionId: target.connectionId }
        : { Username: target.username }),
      ...(terminateOptions.dryRun ? { DryRun: true } : {}),
    });
    // With a role, the session name carries the person who acted, for CloudTrail.
    const client =
      endpoint.roleArn && terminateOptions.actor
        ? actorClientFor(
            endpoint.region,
            endpoint.roleArn,
            actorSessionName(terminateOptions.actor),
          )
        : clientFor(endpoint);
    try {
      const out = await client.send(command);
      return {
        endpointId: out.ClientVpnEndpointId ?? endpoint.id,
        username: out.Username ?? null,
        connections: (out.ConnectionStatuses ?? []).map((s) => ({
          connectionId: s.ConnectionId ?? '(unknown)',
          previousStatus: s.PreviousStatus?.Code ?? null,
          currentStatus: s.CurrentStatus?.Code ?? null,
        })),
        requestId: out.$metadata.requestId,
      };
    } catch (error) {
      // A DryRun that would have succeeded is reported by AWS as an error.
      if (terminateOptions.dryRun && (error as SdkErrorShape | null)?.name === 'DryRunOperation') {
        return {
          endpointId: endpoint.id,
          username: 'username' in target ? target.username : null,
          connections: [],
          requestId: stringOf((error as SdkErrorShape).$metadata?.requestId),
        };
      }
      throw fail(error, 'TerminateClientVpnConnections', endpoint, endpoint.region);
    }
  }

  return {
    listConnections,
    listEndpoints,
    terminate,
    destroy: () => {
      for (const client of [...clients.values(), ...actorClients.values()]) client.destroy();
      actorClients.clear();
      for (const sts of stsClients.values()) sts.destroy();
      clients.clear();
      stsClients.clear();
    },
  };
}
