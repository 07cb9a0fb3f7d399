/**
 * Terminating sessions through the terminate service alone — no Slack anywhere: the real AWS
 * gateway against the EC2 emulator, the real endpoint catalogue and connection service. What
 * an alert or the terminal would call.
 */
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAwsGateway } from '../../src/aws/gateway.js';
import { AccessDeniedError, UsageError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import {
  type Ec2Emulator,
  type EmulatedConnection,
  type RequestLogEntry,
  startEc2Emulator,
} from '../../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { type ConnectionService, createConnectionService } from '../../src/services/connections.js';
import {
  createTerminateService,
  type TerminateReport,
  type TerminateService,
  USERNAME_FORM_LIMIT,
} from '../../src/services/terminate.js';
import { createEndpointCatalogue } from '../../src/vpn/catalogue.js';
import type { Endpoint } from '../../src/vpn/endpoint.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const REGION = 'us-east-1';
const PROD: Endpoint = { alias: 'prod', id: endpointId(0), region: REGION };
const LAB: Endpoint = { alias: 'lab', id: endpointId(1), region: REGION };
const TERMINATE = 'TerminateClientVpnConnections';

let serial = 0;

/** `count` active sessions of `username` on `endpoint`. */
function sessions(endpoint: Endpoint, username: string, count: number): EmulatedConnection[] {
  return Array.from({ length: count }, () => {
    const n = serial++;
    return {
      endpointId: endpoint.id,
      connectionId: connectionId(n),
      username,
      commonName: username,
      clientIp: `10.2.0.${n + 2}`,
      establishedAt: new Date(NOW.getTime() - (n + 5) * 60_000),
      endedAt: null,
      status: 'active',
      ingressBytes: 1000,
      egressBytes: 500,
      ingressPackets: 10,
      egressPackets: 10,
    };
  });
}

let emulator: Ec2Emulator;
let gateway: ReturnType<typeof createAwsGateway>;
let connections: ConnectionService;
let terminator: TerminateService;

beforeAll(async () => {
  emulator = await startEc2Emulator({ now: () => NOW });
  const logger = createLogger('error', () => {});
  gateway = createAwsGateway({
    region: REGION,
    logger,
    clientConfig: {
      endpoint: emulator.url,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
      retryStrategy: new ConfiguredRetryStrategy(3, () => 0),
    },
  });
  const catalogue = createEndpointCatalogue({
    gateway,
    configured: [PROD, LAB],
    region: REGION,
    logger,
  });
  // A minute's cache: the service must still see sessions that started after a cached read.
  connections = createConnectionService({
    gateway,
    catalogue,
    region: REGION,
    logger,
    cacheTtlMs: 60_000,
    now: () => NOW,
  });
  terminator = createTerminateService({ gateway, catalogue, connections, logger });
});
afterAll(async () => {
  gateway.destroy();
  await emulator.close();
});
afterEach(() => emulator.clear());

function setUp(...fleet: EmulatedConnection[][]): void {
  emulator.addEndpoints([
    { id: PROD.id, name: 'prod', authenticationType: 'directory-service-authentication' },
    { id: LAB.id, name: 'lab', authenticationType: 'directory-service-authentication' },
  ]);
  emulator.addConnections(fleet.flat());
}

function terminateCalls(from = 0): RequestLogEntry[] {
  return emulator.requests.slice(from).filter((r) => r.action === TERMINATE);
}

function statusOf(ids: readonly string[]): string[] {
  const all = new Map(emulator.connections().map((c) => [c.connectionId, c.status]));
  return ids.map((id) => all.get(id) ?? 'missing');
}

function completed(report: TerminateReport) {
  if (report.status === 'not-started') throw new Error(`not started: ${String(report.error)}`);
  return report;
}

describe('the terminate service, without Slack', () => {
  it('terminates one connection after a DryRun and reports active → terminating', async () => {
    const [alice] = sessions(PROD, 'alice', 1);
    if (!alice) throw new Error('no session');
    setUp([alice]);
    const report = completed(
      await terminator.terminate(
        { kind: 'connection', endpointId: PROD.id, connectionId: alice.connectionId, who: 'alice' },
        { actor: 'alerts' },
      ),
    );
    expect(report.status).toBe('ok');
    expect(report.who).toBe('alice');
    expect(report.endpoints.map((e) => e.alias)).toEqual(['prod']);
    expect(report.done).toEqual([
      {
        endpoint: expect.objectContaining({ id: PROD.id }),
        connectionId: alice.connectionId,
        previous: 'active',
        current: 'terminating',
      },
    ]);
    expect(report.failed).toEqual([]);
    const calls = terminateCalls();
    expect(calls.map((r) => [r.params.DryRun, r.params.ConnectionId, r.status])).toEqual([
      ['true', alice.connectionId, 412],
      [undefined, alice.connectionId, 200],
    ]);
    expect(report.requestIds).toEqual([calls[1]?.requestId]);
    expect(statusOf([alice.connectionId])).toEqual(['terminating']);
  });

  it('reports a DryRun denial as refused by AWS and terminates nothing anywhere', async () => {
    const bob = [...sessions(PROD, 'bob', 2), ...sessions(LAB, 'bob', 1)];
    setUp(bob);
    emulator.faults.deny(TERMINATE);
    const report = await terminator.terminate({ kind: 'user', name: 'bob', endpointIds: null });
    expect(report.status).toBe('not-started');
    if (report.status !== 'not-started') return;
    expect(report.refusedByAws).toBe(true);
    expect(report.error).toBeInstanceOf(AccessDeniedError);
    expect((report.error as Error).message).toContain('ec2:TerminateClientVpnConnections');
    expect(report.endpoints.map((e) => e.alias)).toEqual(['prod', 'lab']);
    const calls = terminateCalls();
    // The first DryRun is denied: not one real call, and no further endpoint is tried.
    expect(calls.map((r) => [r.params.DryRun, r.status])).toEqual([['true', 403]]);
    expect(report.requestIds).toEqual([calls[0]?.requestId]);
    expect(statusOf(bob.map((c) => c.connectionId))).toEqual(['active', 'active', 'active']);
  });

  it(`terminates more than ${USERNAME_FORM_LIMIT} sessions one by one, and ${USERNAME_FORM_LIMIT} or fewer with one user-name call`, async () => {
    const heidi = sessions(PROD, 'heidi', USERNAME_FORM_LIMIT + 2);
    const erin = sessions(LAB, 'erin', USERNAME_FORM_LIMIT);
    // Five sessions when the list was last read (and cached), seven by the time of the click:
    // the service must look again, or it would pick the user-name form and miss the limit.
    setUp(heidi.slice(0, USERNAME_FORM_LIMIT), erin);
    const cached = await connections.lookupUser({
      name: 'heidi',
      endpoints: { kind: 'all' },
      statuses: null,
    });
    expect(cached.connections).toHaveLength(USERNAME_FORM_LIMIT);
    emulator.addConnections(heidi.slice(USERNAME_FORM_LIMIT));

    const many = completed(
      await terminator.terminate({ kind: 'user', name: 'heidi', endpointIds: [PROD.id] }),
    );
    expect(many.status).toBe('ok');
    const manyCalls = terminateCalls();
    const [dryRun, ...real] = manyCalls;
    expect(dryRun?.params.DryRun).toBe('true');
    expect(real).toHaveLength(heidi.length);
    expect(manyCalls.filter((r) => r.params.Username !== undefined)).toEqual([]);
    expect(real.map((r) => r.params.ConnectionId).sort()).toEqual(
      heidi.map((c) => c.connectionId).sort(),
    );
    expect(many.done.map((d) => d.current)).toEqual(Array(heidi.length).fill('terminating'));
    expect(many.requestIds).toEqual(real.map((r) => r.requestId));

    const from = emulator.requests.length;
    const few = completed(
      await terminator.terminate({ kind: 'user', name: 'erin', endpointIds: null }),
    );
    expect(few.status).toBe('ok');
    expect(terminateCalls(from).map((r) => [r.params.DryRun, r.params.Username])).toEqual([
      ['true', 'erin'],
      [undefined, 'erin'],
    ]);
    expect(few.done).toHaveLength(USERNAME_FORM_LIMIT);
    expect(statusOf([...heidi, ...erin].map((c) => c.connectionId))).toEqual(
      Array(heidi.length + erin.length).fill('terminating'),
    );
  });

  it('drops cached reads of the endpoints it touched, so the next list shows the change', async () => {
    const grace = sessions(PROD, 'grace', 1);
    setUp(grace);
    const id = grace[0]?.connectionId ?? '';
    const before = await connections.list({ endpoints: { kind: 'all' }, statuses: null });
    expect(before.connections.find((c) => c.connectionId === id)?.status).toBe('active');
    await terminator.terminate({
      kind: 'connection',
      endpointId: PROD.id,
      connectionId: id,
      who: 'grace',
    });
    const after = await connections.list({ endpoints: { kind: 'all' }, statuses: null });
    expect(after.connections.find((c) => c.connectionId === id)?.status).toBe('terminating');
  });

  it('refuses an endpoint that is no longer configured before asking AWS anything', async () => {
    setUp();
    const report = await terminator.terminate({
      kind: 'connection',
      endpointId: endpointId(42),
      connectionId: connectionId(1),
      who: 'nobody',
    });
    expect(report.status).toBe('not-started');
    if (report.status !== 'not-started') return;
    expect(report.error).toBeInstanceOf(UsageError);
    expect(report.refusedByAws).toBe(false);
    expect(terminateCalls()).toEqual([]);
  });

  it('names what failed when the call fails after a DryRun that passed (a connection AWS no longer knows)', async () => {
    setUp();
    const gone = connectionId(9999);
    const report = completed(
      await terminator.terminate({
        kind: 'connection',
        endpointId: PROD.id,
        connectionId: gone,
        who: 'ivan',
      }),
    );
    expect(report.status).toBe('failed');
    expect(report.done).toEqual([]);
    expect(report.failed.map((f) => [f.endpoint.alias, (f.error as Error).message])).toEqual([
      ['prod', expect.stringContaining(`The connection ID '${gone}' does not exist`)],
    ]);
    const calls = terminateCalls();
    expect(calls.map((r) => [r.params.DryRun, r.status])).toEqual([
      ['true', 412],
      [undefined, 400],
    ]);
    expect(report.requestIds).toEqual([calls[1]?.requestId]);
  });
});
