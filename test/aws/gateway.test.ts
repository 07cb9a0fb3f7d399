import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAwsGateway } from '../../src/aws/gateway.js';
import {
  AccessDeniedError,
  AwsRequestError,
  AwsUnavailableError,
  CredentialsError,
  EndpointNotFoundError,
  ThrottledError,
} from '../../src/errors.js';
import { type AppMetrics, createMetrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/logger.js';
import {
  type Ec2Emulator,
  type EmulatedConnection,
  startEc2Emulator,
} from '../../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId, generateFleet } from '../../src/sandbox/vpn-data.js';
import { createConnectionService } from '../../src/services/connections.js';
import { createEndpointCatalogue } from '../../src/vpn/catalogue.js';
import type { Connection } from '../../src/vpn/connection.js';
import type { Endpoint } from '../../src/vpn/endpoint.js';

const NOW = new Date('2026-11-27T12:00:00Z');
let emulator: Ec2Emulator;
const logLines: string[] = [];

function gateway(
  options: {
    maxAttempts?: number;
    timeoutMs?: number;
    credentials?: boolean;
    metrics?: AppMetrics;
  } = {},
) {
  return createAwsGateway({
    region: 'us-east-1',
    ...(options.metrics ? { metrics: options.metrics } : {}),
    logger: createLogger('debug', (line) => logLines.push(line)),
    maxAttempts: options.maxAttempts ?? 3,
    requestTimeoutMs: options.timeoutMs ?? 5000,
    stsClientConfig: { endpoint: emulator.url },
    clientConfig: {
      endpoint: emulator.url,
      ...(options.credentials === false
        ? {}
        : { credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } }),
      // Retries without back-off, so throttling tests take milliseconds.
      retryStrategy: new ConfiguredRetryStrategy(options.maxAttempts ?? 3, () => 0),
    },
  });
}

const prod: Endpoint = { alias: 'prod', id: endpointId(0), region: 'us-east-1' };
const dev: Endpoint = { alias: 'dev', id: endpointId(1), region: 'us-east-1' };
const missing: Endpoint = { alias: 'gone', id: endpointId(99), region: 'us-east-1' };

async function listAll(g: ReturnType<typeof gateway>, endpoint: Endpoint, filters = {}) {
  const all: Connection[] = [];
  for await (const page of g.listConnections(endpoint, filters)) all.push(...page);
  return all;
}

function conn(n: number, overrides: Partial<EmulatedConnection> = {}): EmulatedConnection {
  return {
    endpointId: prod.id,
    connectionId: connectionId(n),
    username: `user${n}`,
    commonName: `user${n}`,
    clientIp: `10.0.0.${n % 250}`,
    establishedAt: new Date('2026-11-27T10:00:00Z'),
    endedAt: null,
    status: 'active',
    ingressBytes: n,
    egressBytes: 2 * n,
    ingressPackets: 1,
    egressPackets: 2,
    ...overrides,
  };
}

beforeAll(async () => {
  emulator = await startEc2Emulator({ now: () => NOW });
});
afterAll(async () => {
  await emulator.close();
});
afterEach(() => {
  emulator.clear();
  logLines.length = 0;
});

describe('listConnections', () => {
  it('returns 2,345 connections exactly once each, in 3 requests of MaxResults=1000', async () => {
    const fleet = generateFleet({ endpoints: 1, connections: 2345, now: NOW });
    emulator.addEndpoints(fleet.endpoints);
    emulator.addConnections(fleet.connections);
    const g = gateway();
    const all = await listAll(g, {
      alias: 'a',
      id: fleet.endpoints[0]?.id ?? '',
      region: 'us-east-1',
    });
    expect(all).toHaveLength(2345);
    expect(new Set(all.map((c) => c.connectionId)).size).toBe(2345);
    const calls = emulator.requests.filter((r) => r.action === 'DescribeClientVpnConnections');
    expect(calls).toHaveLength(3);
    expect(calls.map((r) => r.params.MaxResults)).toEqual(['1000', '1000', '1000']);
    expect(calls[0]?.params.NextToken).toBeUndefined();
    g.destroy();
  });

  it('starts from the first page on every call (the paginator mutates its input)', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections(Array.from({ length: 1500 }, (_, i) => conn(i)));
    const g = gateway();
    expect(await listAll(g, prod)).toHaveLength(1500);
    expect(await listAll(g, prod)).toHaveLength(1500);
    const tokens = emulator.requests.map((r) => r.params.NextToken === undefined);
    expect(tokens).toEqual([true, false, true, false]);
    g.destroy();
  });

  it('normalizes wire values: UTC times, numbers, null for absent, - as no end time', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([
      conn(1, {
        ingressBytes: 5_000_000_000,
        clientIpv6: '2001:db8::1',
        postureCompliance: ['compliant'],
      }),
      conn(2, {
        status: 'terminated',
        endedAt: new Date('2026-11-27T11:30:00Z'),
        username: undefined,
        commonName: 'laptop.corp',
      }),
    ]);
    const g = gateway();
    const [active, ended] = await listAll(g, prod);
    expect(active).toMatchObject({
      endpointId: prod.id,
      username: 'user1',
      status: 'active',
      endedAt: null,
      ingressBytes: 5_000_000_000,
      clientIpv6: '2001:db8::1',
      postureCompliance: ['compliant'],
      issues: [],
    });
    expect(active?.establishedAt?.toISOString()).toBe('2026-11-27T10:00:00.000Z');
    expect(ended).toMatchObject({
      username: null,
      commonName: 'laptop.corp',
      status: 'terminated',
    });
    expect(ended?.endedAt?.toISOString()).toBe('2026-11-27T11:30:00.000Z');
    g.destroy();
  });

  it('keeps a malformed record, marks it, and logs it', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([
      conn(1, { raw: { connectionEstablishedTime: 'soon', ingressBytes: 'lots' } }),
    ]);
    const g = gateway();
    const [c] = await listAll(g, prod);
    expect(c?.establishedAt).toBeNull();
    expect(c?.ingressBytes).toBeNull();
    expect(c?.issues).toEqual(['ConnectionEstablishedTime="soon"', 'IngressBytes="lots"']);
    expect(logLines.some((l) => l.includes('malformed') && l.includes(connectionId(1)))).toBe(true);
    g.destroy();
  });

  it('sends connection-id and username filters to AWS', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([conn(1), conn(2), conn(3, { username: 'Mary Ann' })]);
    const g = gateway();
    const byUser = await listAll(g, prod, { usernames: ['user1', 'Mary Ann'] });
    expect(byUser.map((c) => c.username)).toEqual(['user1', 'Mary Ann']);
    const byId = await listAll(g, prod, { connectionIds: [connectionId(2)] });
    expect(byId.map((c) => c.connectionId)).toEqual([connectionId(2)]);
    expect(emulator.requests[0]?.params).toMatchObject({
      'Filter.1.Name': 'username',
      'Filter.1.Value.1': 'user1',
      'Filter.1.Value.2': 'Mary Ann',
    });
    expect(emulator.requests[1]?.params).toMatchObject({ 'Filter.1.Name': 'connection-id' });
    g.destroy();
  });

  it('rides out throttling: throttled twice, then success', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([conn(1)]);
    emulator.faults.throttleNext(2);
    const g = gateway({ maxAttempts: 3 });
    expect(await listAll(g, prod)).toHaveLength(1);
    expect(emulator.requests.map((r) => r.code ?? r.status)).toEqual([
      'RequestLimitExceeded',
      'RequestLimitExceeded',
      200,
    ]);
    g.destroy();
  });

  it('reports throttling that outlasts the retries as ThrottledError with the request id', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.faults.throttleNext(10);
    const g = gateway({ maxAttempts: 3 });
    const error = await listAll(g, prod).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).message).toMatch(/throttling.*after 3 attempts.*Try again/);
    expect((error as ThrottledError).requestId).toBe(emulator.requests.at(-1)?.requestId);
    g.destroy();
  });

  it('names an unknown endpoint and says where to fix it', async () => {
    const g = gateway();
    const error = await listAll(g, missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EndpointNotFoundError);
    expect((error as EndpointNotFoundError).message).toContain(missing.id);
    expect((error as EndpointNotFoundError).message).toContain('VPN_ENDPOINTS');
    expect((error as EndpointNotFoundError).requestId).toBe(emulator.requests[0]?.requestId);
    expect((error as EndpointNotFoundError).endpointId).toBe(missing.id);
    g.destroy();
  });

  it('reports an IAM denial with the permission to grant', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.faults.deny('DescribeClientVpnConnections');
    const g = gateway();
    const error = await listAll(g, prod).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).toContain('ec2:DescribeClientVpnConnections');
    expect(emulator.requests).toHaveLength(1);
    g.destroy();
  });

  it('reports rejected credentials', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.faults.authFailure(true);
    const g = gateway();
    const error = await listAll(g, prod).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as Error).message).toMatch(/credentials/);
    g.destroy();
  });

  it('gives up on a stuck answer after the request timeout', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.faults.latency(3000);
    const g = gateway({ maxAttempts: 1, timeoutMs: 200 });
    const started = Date.now();
    const error = await listAll(g, prod).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(error).toBeInstanceOf(AwsUnavailableError);
    expect((error as Error).message).toMatch(/did not answer .* within/);
    g.destroy();
  });

  it('reports a dropped connection and server errors as AWS being unavailable', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.faults.dropNext(5);
    const g = gateway({ maxAttempts: 2 });
    expect(await listAll(g, prod).catch((e: unknown) => e)).toBeInstanceOf(AwsUnavailableError);
    emulator.faults.reset();
    emulator.faults.failNext(5, 500, 'InternalError');
    expect(await listAll(g, prod).catch((e: unknown) => e)).toBeInstanceOf(AwsUnavailableError);
    g.destroy();
  });
});

describe('the connection service over several endpoints', () => {
  it('keeps the results of healthy endpoints beside a failed one', async () => {
    emulator.addEndpoints([{ id: prod.id }, { id: dev.id }]);
    emulator.addConnections([
      conn(1),
      conn(2, { endpointId: dev.id }),
      conn(3, { status: 'terminated', endedAt: NOW }),
    ]);
    const g = gateway();
    const logger = createLogger('error', () => {});
    const service = createConnectionService({
      gateway: g,
      catalogue: createEndpointCatalogue({
        gateway: g,
        configured: [prod, missing, dev],
        region: 'us-east-1',
        logger,
      }),
      region: 'us-east-1',
      logger,
      concurrency: 2,
    });
    const result = await service.list({ endpoints: { kind: 'all' }, statuses: ['active'] });
    expect(result.connections.map((c) => c.connectionId).sort()).toEqual(
      [connectionId(1), connectionId(2)].sort(),
    );
    // Described: the ones AWS knows carry their session timeout (the list shows "ends in …").
    expect(result.endpoints).toEqual([
      {
        ...prod,
        authenticationTypes: ['directory-service-authentication'],
        sessionTimeoutHours: 24,
      },
      missing,
      {
        ...dev,
        authenticationTypes: ['directory-service-authentication'],
        sessionTimeoutHours: 24,
      },
    ]);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]?.endpoint).toBe(missing);
    expect(result.failures[0]?.error).toBeInstanceOf(EndpointNotFoundError);
    g.destroy();
  });
});

describe('listEndpoints', () => {
  it('aliases endpoints by their Name tag and learns their authentication', async () => {
    emulator.addEndpoints([
      { id: prod.id, name: 'Prod VPN', authenticationType: 'directory-service-authentication' },
      { id: dev.id, name: 'all', authenticationType: 'certificate-authentication' },
      { id: endpointId(2) },
    ]);
    const g = gateway();
    const endpoints = await g.listEndpoints();
    expect(endpoints.map((e) => [e.alias, e.authenticationTypes])).toEqual([
      ['prod-vpn', ['directory-service-authentication']],
      // `all` is a command word: the id stands in.
      [dev.id, ['certificate-authentication']],
      [endpointId(2), ['directory-service-authentication']],
    ]);
    g.destroy();
  });

  it('reads each endpoint’s SessionTimeoutHours (24 when the endpoint keeps the AWS default)', async () => {
    emulator.addEndpoints([{ id: prod.id, sessionTimeoutHours: 8 }, { id: dev.id }]);
    const g = gateway();
    const endpoints = await g.listEndpoints();
    expect(endpoints.map((e) => [e.id, e.sessionTimeoutHours])).toEqual([
      [prod.id, 8],
      [dev.id, 24],
    ]);
    g.destroy();
  });
});

describe('metrics', () => {
  it('counts every EC2 call by operation, with the error code AWS gave', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([conn(1)]);
    const metrics = createMetrics({ defaultMetrics: false });
    const g = gateway({ metrics });
    await listAll(g, prod);
    await g.listEndpoints();
    await listAll(g, missing).catch(() => undefined);
    const { body } = await metrics.scrape();
    expect(body).toContain(
      'vpn_conns_aws_calls_total{operation="DescribeClientVpnConnections",error="none"} 1',
    );
    expect(body).toContain(
      'vpn_conns_aws_calls_total{operation="DescribeClientVpnEndpoints",error="none"} 1',
    );
    expect(body).toMatch(
      /vpn_conns_aws_calls_total\{operation="DescribeClientVpnConnections",error="InvalidClientVpnEndpointId\.NotFound"\} 1/,
    );
    g.destroy();
  });
});

describe('listEndpoints over several pages', () => {
  it('returns 1,005 endpoints once each in 2 requests of MaxResults=1000, from the first page on every call', async () => {
    emulator.addEndpoints(Array.from({ length: 1005 }, (_, i) => ({ id: endpointId(i) })));
    const g = gateway();
    for (let round = 1; round <= 2; round++) {
      const endpoints = await g.listEndpoints();
      expect(new Set(endpoints.map((e) => e.id)).size).toBe(1005);
      const calls = emulator.requests.filter((r) => r.action === 'DescribeClientVpnEndpoints');
      expect(calls).toHaveLength(2 * round);
      expect(calls.map((r) => r.params.MaxResults)).toEqual(Array(2 * round).fill('1000'));
      // Each call starts without a NextToken: the paginator's input is fresh every time.
      expect(calls.filter((r) => r.params.NextToken === undefined)).toHaveLength(round);
    }
    g.destroy();
  });
});

describe('terminate', () => {
  it('terminates one connection and reports previous and current status', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([conn(1)]);
    const g = gateway();
    const result = await g.terminate(prod, { connectionId: connectionId(1) });
    expect(result.connections).toEqual([
      { connectionId: connectionId(1), previousStatus: 'active', currentStatus: 'terminating' },
    ]);
    expect(result.requestId).toBeTruthy();
    g.destroy();
  });

  it('answers a DryRun that would succeed without terminating anything', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([conn(1)]);
    const g = gateway();
    const result = await g.terminate(prod, { username: 'user1' }, { dryRun: true });
    expect(result.connections).toEqual([]);
    expect(emulator.connections(prod.id)[0]?.status).toBe('active');
    g.destroy();
  });

  it('reports a DryRun denial as AccessDeniedError', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([conn(1)]);
    emulator.faults.deny('TerminateClientVpnConnections');
    const g = gateway();
    const error = await g
      .terminate(prod, { connectionId: connectionId(1) }, { dryRun: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).toContain('ec2:TerminateClientVpnConnections');
    g.destroy();
  });

  it('passes on the username limit of 5 as a refusal with the AWS code', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections(Array.from({ length: 6 }, (_, i) => conn(i, { username: 'eve' })));
    const g = gateway();
    const error = await g.terminate(prod, { username: 'eve' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect((error as AwsRequestError).code).toBe('ClientVpnTerminateConnectionsLimitExceeded');
    g.destroy();
  });
});

describe('endpoints in other accounts (roleArn)', () => {
  const roleArn = 'arn:aws:iam::210987654321:role/vpn-conns-reader';
  const remote: Endpoint = { ...prod, roleArn };

  it('reads through an assumed role, assuming it once for many calls', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([conn(1)]);
    const g = gateway();
    expect(await listAll(g, remote)).toHaveLength(1);
    expect(await listAll(g, remote)).toHaveLength(1);
    const assumes = emulator.requests.filter((r) => r.action === 'AssumeRole');
    expect(assumes).toHaveLength(1);
    expect(assumes[0]?.params).toMatchObject({ RoleArn: roleArn, RoleSessionName: 'vpn-conns' });
    const reads = emulator.requests.filter((r) => r.action === 'DescribeClientVpnConnections');
    expect(reads.map((r) => r.principal)).toEqual([
      'assumed-role/vpn-conns-reader/vpn-conns',
      'assumed-role/vpn-conns-reader/vpn-conns',
    ]);
    g.destroy();
  });

  it('terminates with a role session named after the Slack user, for CloudTrail', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([conn(1)]);
    const g = gateway();
    await g.terminate(remote, { connectionId: connectionId(1) }, { actor: 'U012ABCDEF' });
    const call = emulator.requests.find((r) => r.action === 'TerminateClientVpnConnections');
    expect(call?.principal).toBe('assumed-role/vpn-conns-reader/vpn-conns-U012ABCDEF');
    g.destroy();
  });

  it('assumes the role once per person, not once per terminate', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.addConnections([conn(1), conn(2), conn(3)]);
    const g = gateway();
    await g.terminate(
      remote,
      { connectionId: connectionId(1) },
      { actor: 'U0ALICE', dryRun: true },
    );
    await g.terminate(remote, { connectionId: connectionId(1) }, { actor: 'U0ALICE' });
    await g.terminate(remote, { connectionId: connectionId(2) }, { actor: 'U0ALICE' });
    await g.terminate(remote, { connectionId: connectionId(3) }, { actor: 'U0BOB' });
    const sessions = emulator.requests
      .filter((r) => r.action === 'AssumeRole')
      .map((r) => r.params.RoleSessionName);
    expect(sessions).toEqual(['vpn-conns-U0ALICE', 'vpn-conns-U0BOB']);
    g.destroy();
  });

  it("uses the bot's own credentials for endpoints without a role", async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    const g = gateway();
    await listAll(g, prod);
    expect(emulator.requests.map((r) => [r.action, r.principal])).toEqual([
      ['DescribeClientVpnConnections', 'base'],
    ]);
    g.destroy();
  });

  it('says which role could not be assumed', async () => {
    emulator.addEndpoints([{ id: prod.id }]);
    emulator.faults.deny('AssumeRole');
    const g = gateway();
    const error = await listAll(g, remote).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).toContain(`sts:AssumeRole on ${roleArn}`);
    expect(emulator.requests.some((r) => r.action === 'DescribeClientVpnConnections')).toBe(false);
    g.destroy();
  });
});
