import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  type ClientVpnConnection,
  DescribeClientVpnConnectionsCommand,
  type DescribeClientVpnConnectionsCommandInput,
  DescribeClientVpnEndpointsCommand,
  EC2Client,
  EC2ServiceException,
  paginateDescribeClientVpnConnections,
  TerminateClientVpnConnectionsCommand,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type Ec2Emulator,
  type EmulatedConnection,
  formatAwsTime,
  startEc2Emulator,
} from '../../src/sandbox/ec2-emulator.js';
import {
  connectionId,
  DEFAULT_FLEET_NOW,
  endpointId,
  generateFleet,
  TRICKY_USERNAMES,
} from '../../src/sandbox/vpn-data.js';

const T0 = DEFAULT_FLEET_NOW;
const MINUTE = 60_000;

let emulator: Ec2Emulator;
let clock: Date;
let client: EC2Client;

function createClient(): EC2Client {
  return new EC2Client({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

function advance(ms: number): void {
  clock = new Date(clock.getTime() + ms);
}

beforeEach(async () => {
  clock = T0;
  emulator = await startEc2Emulator({ now: () => clock });
  client = createClient();
});

afterEach(async () => {
  client.destroy();
  await emulator.close();
});

/** Awaits a call that must fail with an EC2 API error and returns that error. */
async function apiError(call: Promise<unknown>): Promise<EC2ServiceException> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof EC2ServiceException) return error;
  throw new Error(`expected an EC2 API error, got ${String(error)}`);
}

/** A hand-made connection with sensible defaults. */
function conn(
  endpoint: string,
  n: number,
  fields: Partial<EmulatedConnection> = {},
): EmulatedConnection {
  return {
    endpointId: endpoint,
    connectionId: connectionId(n),
    username: `user${n}`,
    commonName: `user${n}`,
    clientIp: `10.0.0.${n % 250}`,
    establishedAt: new Date(T0.getTime() - 30 * MINUTE),
    endedAt: null,
    status: 'active',
    ingressBytes: 1000 + n,
    egressBytes: 2000 + n,
    ingressPackets: 10,
    egressPackets: 20,
    ...fields,
  };
}

function describeConnections(
  input: DescribeClientVpnConnectionsCommandInput,
): Promise<ClientVpnConnection[]> {
  return client
    .send(new DescribeClientVpnConnectionsCommand(input))
    .then((out) => out.Connections ?? []);
}

async function listAll(endpoint: string, pageSize = 1000): Promise<ClientVpnConnection[]> {
  const all: ClientVpnConnection[] = [];
  // The paginator mutates its input, so every run gets a fresh object.
  for await (const page of paginateDescribeClientVpnConnections(
    { client, pageSize },
    { ClientVpnEndpointId: endpoint },
  )) {
    all.push(...(page.Connections ?? []));
  }
  return all;
}

const EP = endpointId(0);
const EP2 = endpointId(1);

describe('generateFleet', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const a = generateFleet({ connections: 500, seed: 7 });
    const b = generateFleet({ connections: 500, seed: 7 });
    const c = generateFleet({ connections: 500, seed: 8 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
    expect(endpointId(3)).toBe(endpointId(3));
    expect(connectionId(3)).not.toBe(connectionId(4));
  });

  it('makes well-formed unique ids', () => {
    const fleet = generateFleet({ connections: 5000, endpoints: 4 });
    const ids = new Set(fleet.connections.map((c) => c.connectionId));
    expect(ids.size).toBe(5000);
    for (const id of ids) expect(id).toMatch(/^cvpn-connection-[0-9a-f]{17}$/);
    for (const e of fleet.endpoints) expect(e.id).toMatch(/^cvpn-endpoint-[0-9a-f]{17}$/);
    expect(new Set(fleet.endpoints.map((e) => e.id)).size).toBe(4);
  });

  it('covers every status, certificate users, IPv6, posture, big counters and tricky names', () => {
    const small = generateFleet({ connections: 20 });
    expect(new Set(small.connections.map((c) => c.status))).toEqual(
      new Set(['active', 'terminating', 'failed-to-terminate', 'terminated']),
    );
    expect(small.connections.some((c) => c.clientIpv6 && !c.clientIp)).toBe(true);
    expect(small.connections.some((c) => c.clientIpv6 && c.clientIp)).toBe(true);

    const fleet = generateFleet({ connections: 3000 });
    const certEndpoint = fleet.endpoints[1];
    expect(certEndpoint?.authenticationType).toBe('certificate-authentication');
    const cert = fleet.connections.filter((c) => c.endpointId === certEndpoint?.id);
    expect(cert).toHaveLength(1000);
    for (const c of cert) {
      expect(c.username).toBeUndefined();
      expect(c.commonName).toMatch(/^laptop-\d{3,}\.corp\.example$/);
    }
    const usernames = new Set(fleet.connections.map((c) => c.username));
    for (const name of TRICKY_USERNAMES) expect(usernames).toContain(name);
    const perUser = new Map<string, number>();
    for (const c of fleet.connections) {
      if (c.username) perUser.set(c.username, (perUser.get(c.username) ?? 0) + 1);
    }
    expect(Math.max(...perUser.values())).toBeGreaterThan(5);
    const ipv6Share = fleet.connections.filter((c) => c.clientIpv6).length / 3000;
    expect(ipv6Share).toBeGreaterThan(0.05);
    expect(ipv6Share).toBeLessThan(0.15);
    for (const c of fleet.connections) {
      if (c.clientIpv6) expect(c.clientIpv6).toMatch(/^2001:db8:/);
    }
    const posture = new Set(fleet.connections.map((c) => c.postureCompliance?.[0]));
    expect(posture).toEqual(new Set([undefined, 'compliant', 'non-compliant', 'unknown']));
    expect(fleet.connections.some((c) => c.ingressBytes > 2 ** 32)).toBe(true);
    const terminated = fleet.connections.filter((c) => c.status === 'terminated').length;
    expect(terminated / 3000).toBeGreaterThan(0.07);
    expect(terminated / 3000).toBeLessThan(0.13);
  });

  it('keeps times realistic relative to now', () => {
    const { connections } = generateFleet({ connections: 3000 });
    for (const c of connections) {
      const age = T0.getTime() - c.establishedAt.getTime();
      expect(age).toBeGreaterThan(0);
      expect(age).toBeLessThanOrEqual(12 * 60 * MINUTE);
      expect(c.establishedAt.getTime() % 1000).toBe(0);
      for (const n of [c.ingressBytes, c.egressBytes, c.ingressPackets, c.egressPackets]) {
        expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
      }
      if (c.status === 'active' || c.status === 'failed-to-terminate') {
        expect(c.endedAt).toBeNull();
      } else {
        const ended = c.endedAt?.getTime() ?? Number.NaN;
        expect(ended).toBeGreaterThan(c.establishedAt.getTime());
        expect(T0.getTime() - ended).toBeLessThan(59 * MINUTE + 1);
      }
    }
  });

  // Its speed is measured by `npm run bench -- cli`, which generates fleets of up to 100,000.
  it('generates 100,000 connections with distinct ids', () => {
    const fleet = generateFleet({ connections: 100_000, endpoints: 5 });
    expect(fleet.connections).toHaveLength(100_000);
    expect(new Set(fleet.connections.map((c) => c.connectionId)).size).toBe(100_000);
  });
});

describe('DescribeClientVpnConnections', () => {
  it('paginates 2,345 connections in 3 requests of MaxResults 1000', async () => {
    const fleet = generateFleet({ connections: 2345, endpoints: 1 });
    emulator.addEndpoints(fleet.endpoints);
    emulator.addConnections(fleet.connections);

    const all = await listAll(EP);
    expect(all).toHaveLength(2345);
    expect(new Set(all.map((c) => c.ConnectionId)).size).toBe(2345);
    expect(all.map((c) => c.ConnectionId)).toEqual(fleet.connections.map((c) => c.connectionId));
    expect(emulator.requests.map((r) => [r.action, r.params.MaxResults, r.status])).toEqual([
      ['DescribeClientVpnConnections', '1000', 200],
      ['DescribeClientVpnConnections', '1000', 200],
      ['DescribeClientVpnConnections', '1000', 200],
    ]);
    expect(emulator.requests[0]?.params.NextToken).toBeUndefined();
    expect(emulator.requests[1]?.params.NextToken).toEqual(expect.any(String));

    expect(await listAll(EP)).toHaveLength(2345);
    expect(emulator.requests).toHaveLength(6);
  });

  it('defaults to pages of 1000 and omits nextToken on the last page', async () => {
    emulator.addEndpoints([{ id: EP }]);
    emulator.addConnections(
      generateFleet({ connections: 1200, endpoints: [{ id: EP }] }).connections,
    );
    const first = await client.send(
      new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: EP }),
    );
    expect(first.Connections).toHaveLength(1000);
    expect(first.NextToken).toEqual(expect.any(String));
    const second = await client.send(
      new DescribeClientVpnConnectionsCommand({
        ClientVpnEndpointId: EP,
        NextToken: first.NextToken,
      }),
    );
    expect(second.Connections).toHaveLength(200);
    expect(second.NextToken).toBeUndefined();
  });

  it('serves every wire field of a record', async () => {
    emulator.addEndpoints([{ id: EP }]);
    const source = conn(EP, 1, {
      username: 'alice',
      commonName: 'alice',
      clientIp: '10.1.2.3',
      clientIpv6: '2001:db8::1',
      ingressBytes: 2 ** 33 + 5,
      postureCompliance: ['compliant', 'unknown'],
    });
    const ended = conn(EP, 2, {
      status: 'terminated',
      statusMessage: 'Terminated by admin',
      endedAt: new Date(T0.getTime() - 5 * MINUTE),
      clientIp: undefined,
    });
    emulator.addConnections([source, ended]);
    const [a, b] = await describeConnections({ ClientVpnEndpointId: EP });
    expect(a).toEqual({
      ClientVpnEndpointId: EP,
      Timestamp: '2026-11-27 12:00:00',
      ConnectionId: connectionId(1),
      Username: 'alice',
      ConnectionEstablishedTime: '2026-11-27 11:30:00',
      IngressBytes: '8589934597',
      EgressBytes: '2001',
      IngressPackets: '10',
      EgressPackets: '20',
      ClientIp: '10.1.2.3',
      ClientIpv6Address: '2001:db8::1',
      CommonName: 'alice',
      Status: { Code: 'active' },
      ConnectionEndTime: '-',
      PostureComplianceStatuses: ['compliant', 'unknown'],
    });
    expect(b?.Status).toEqual({ Code: 'terminated', Message: 'Terminated by admin' });
    expect(b?.ConnectionEndTime).toBe('2026-11-27 11:55:00');
    expect(b?.ClientIp).toBeUndefined();
    expect(b?.PostureComplianceStatuses).toBeUndefined();

    advance(90_000);
    const [again] = await describeConnections({ ClientVpnEndpointId: EP });
    expect(again?.Timestamp).toBe('2026-11-27 12:01:30');
  });

  it('sends raw overrides as they are, for malformed-record tests', async () => {
    emulator.addEndpoints([{ id: EP }]);
    emulator.addConnections([
      conn(EP, 1, {
        raw: {
          connectionEstablishedTime: 'garbage',
          ingressBytes: '-1',
          clientIp: undefined,
          'status.code': 'exploded',
          authorizationPolicyLastEvaluatedTime: '2026-11-27 11:00:00',
        },
      }),
    ]);
    const [record] = await describeConnections({ ClientVpnEndpointId: EP });
    expect(record?.ConnectionEstablishedTime).toBe('garbage');
    expect(record?.IngressBytes).toBe('-1');
    expect(record?.ClientIp).toBeUndefined();
    expect(record?.Status?.Code).toBe('exploded');
    expect(record?.AuthorizationPolicyLastEvaluatedTime).toBe('2026-11-27 11:00:00');
  });

  it('rejects MaxResults outside 5..1000', async () => {
    emulator.addEndpoints([{ id: EP }]);
    for (const MaxResults of [4, 1001]) {
      const error = await apiError(describeConnections({ ClientVpnEndpointId: EP, MaxResults }));
      expect(error.name).toBe('InvalidParameterValue');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message).toContain(String(MaxResults));
    }
    await expect(describeConnections({ ClientVpnEndpointId: EP, MaxResults: 5 })).resolves.toEqual(
      [],
    );
  });

  it('requires ClientVpnEndpointId', async () => {
    // The SDK does not validate required members: the server must.
    const input = {
      ClientVpnEndpointId: undefined,
    } as unknown as DescribeClientVpnConnectionsCommandInput;
    const error = await apiError(describeConnections(input));
    expect(error.name).toBe('MissingParameter');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('rejects an unknown filter name and names it', async () => {
    emulator.addEndpoints([{ id: EP }]);
    const error = await apiError(
      describeConnections({
        ClientVpnEndpointId: EP,
        Filters: [{ Name: 'status', Values: ['active'] }],
      }),
    );
    expect(error.name).toBe('InvalidParameterValue');
    expect(error.message).toContain("'status'");
    const caseError = await apiError(
      describeConnections({
        ClientVpnEndpointId: EP,
        Filters: [{ Name: 'Username', Values: ['a'] }],
      }),
    );
    expect(caseError.name).toBe('InvalidParameterValue');
  });

  it('rejects a NextToken from another query and a garbage one', async () => {
    const fleet = generateFleet({ connections: 40, endpoints: 2 });
    emulator.addEndpoints(fleet.endpoints);
    emulator.addConnections(fleet.connections);
    const first = await client.send(
      new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: EP, MaxResults: 5 }),
    );
    const token = first.NextToken;
    expect(token).toEqual(expect.any(String));

    const foreign = [
      { ClientVpnEndpointId: EP2, MaxResults: 5, NextToken: token },
      { ClientVpnEndpointId: EP, MaxResults: 6, NextToken: token },
      {
        ClientVpnEndpointId: EP,
        MaxResults: 5,
        NextToken: token,
        Filters: [{ Name: 'username', Values: ['alice.martin'] }],
      },
      { ClientVpnEndpointId: EP, MaxResults: 5, NextToken: 'garbage' },
      { ClientVpnEndpointId: EP, MaxResults: 5, NextToken: `${token}x` },
    ];
    for (const input of foreign) {
      const error = await apiError(describeConnections(input));
      expect(error.name).toBe('InvalidParameterValue');
      expect(error.message).toMatch(/NextToken/);
    }
    const second = await describeConnections({
      ClientVpnEndpointId: EP,
      MaxResults: 5,
      NextToken: token,
    });
    expect(second).toHaveLength(5);
    expect(second[0]?.ConnectionId).not.toBe(first.Connections?.[0]?.ConnectionId);
  });

  it('keeps a token valid when connections come and go between pages', async () => {
    emulator.addEndpoints([{ id: EP }]);
    emulator.addConnections(Array.from({ length: 10 }, (_, n) => conn(EP, n)));
    const first = await client.send(
      new DescribeClientVpnConnectionsCommand({ ClientVpnEndpointId: EP, MaxResults: 5 }),
    );
    await client.send(
      new TerminateClientVpnConnectionsCommand({
        ClientVpnEndpointId: EP,
        ConnectionId: connectionId(0),
      }),
    );
    advance(61 * MINUTE);
    emulator.addConnections([conn(EP, 10)]);
    const rest = await describeConnections({
      ClientVpnEndpointId: EP,
      MaxResults: 5,
      NextToken: first.NextToken,
    });
    expect(rest.map((c) => c.ConnectionId)).toEqual([5, 6, 7, 8, 9].map((n) => connectionId(n)));
  });

  it('answers an unknown endpoint with InvalidClientVpnEndpointId.NotFound and a request id', async () => {
    const error = await apiError(describeConnections({ ClientVpnEndpointId: EP }));
    expect(error.name).toBe('InvalidClientVpnEndpointId.NotFound');
    expect(error.$fault).toBe('client');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.$metadata.requestId).toBe(emulator.requests[0]?.requestId);
    expect(emulator.requests[0]).toMatchObject({
      status: 400,
      code: 'InvalidClientVpnEndpointId.NotFound',
    });
  });

  it('answers DryRun with 412 DryRunOperation, or 403 when denied', async () => {
    emulator.addEndpoints([{ id: EP }]);
    const error = await apiError(describeConnections({ ClientVpnEndpointId: EP, DryRun: true }));
    expect(error.name).toBe('DryRunOperation');
    expect(error.$metadata.httpStatusCode).toBe(412);
    expect(error.message).toBe('Request would have succeeded, but DryRun flag is set.');

    emulator.faults.deny('DescribeClientVpnConnections');
    const denied = await apiError(describeConnections({ ClientVpnEndpointId: EP, DryRun: true }));
    expect(denied.name).toBe('UnauthorizedOperation');
    expect(denied.$metadata.httpStatusCode).toBe(403);
  });

  it('ORs values within a filter and ANDs filters', async () => {
    emulator.addEndpoints([{ id: EP }]);
    emulator.addConnections([
      conn(EP, 1, { username: 'alice' }),
      conn(EP, 2, { username: 'bob' }),
      conn(EP, 3, { username: 'carol' }),
      conn(EP, 4, { username: 'alice' }),
      conn(EP, 5, { username: undefined, commonName: 'laptop-001.corp.example' }),
    ]);
    const either = await describeConnections({
      ClientVpnEndpointId: EP,
      Filters: [{ Name: 'username', Values: ['alice', 'bob'] }],
    });
    expect(either.map((c) => c.ConnectionId)).toEqual([1, 2, 4].map((n) => connectionId(n)));

    const both = await describeConnections({
      ClientVpnEndpointId: EP,
      Filters: [
        { Name: 'username', Values: ['alice'] },
        { Name: 'connection-id', Values: [connectionId(4), connectionId(2)] },
      ],
    });
    expect(both.map((c) => c.ConnectionId)).toEqual([connectionId(4)]);

    const caseSensitive = await describeConnections({
      ClientVpnEndpointId: EP,
      Filters: [{ Name: 'username', Values: ['Alice'] }],
    });
    expect(caseSensitive).toEqual([]);
  });

  it('round-trips tricky usernames exactly, through filters and XML', async () => {
    const fleet = generateFleet({ connections: 300, endpoints: 1 });
    emulator.addEndpoints(fleet.endpoints);
    emulator.addConnections(fleet.connections);
    const all = await listAll(EP);
    expect(all.map((c) => c.Username)).toEqual(fleet.connections.map((c) => c.username));

    for (const name of TRICKY_USERNAMES) {
      const found = await describeConnections({
        ClientVpnEndpointId: EP,
        Filters: [{ Name: 'username', Values: [name] }],
      });
      const expected = fleet.connections.filter((c) => c.username === name);
      expect(found.length, name).toBe(expected.length);
      expect(found.length, name).toBeGreaterThan(0);
      for (const c of found) expect(c.Username).toBe(name);
    }
  });

  it('decodes + as a space (AWS CLI) and %2B as a plus, and escapes XML', async () => {
    emulator.addEndpoints([{ id: EP }]);
    emulator.addConnections([
      conn(EP, 1, { username: 'Mary Ann' }),
      conn(EP, 2, { username: 'plus+sign' }),
      conn(EP, 3, { username: `<!channel> & "x" 'y'` }),
    ]);
    const post = (body: string) =>
      fetch(emulator.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `Action=DescribeClientVpnConnections&Version=2016-11-15&ClientVpnEndpointId=${EP}&${body}`,
      }).then((r) => r.text());
    const spaced = await post('Filter.1.Name=username&Filter.1.Value.1=Mary+Ann');
    expect(spaced).toContain('<username>Mary Ann</username>');
    expect(spaced).not.toContain('plus+sign');
    const plus = await post('Filter.1.Name=username&Filter.1.Value.1=plus%2Bsign');
    expect(plus).toContain('<username>plus+sign</username>');
    const all = await post('');
    expect(all).toContain(
      '<username>&lt;!channel&gt; &amp; &quot;x&quot; &apos;y&apos;</username>',
    );
  });

  it('also accepts a GET query string', async () => {
    emulator.addEndpoints([{ id: EP }]);
    emulator.addConnections([conn(EP, 1)]);
    const response = await fetch(
      `${emulator.url}/?Action=DescribeClientVpnConnections&Version=2016-11-15&ClientVpnEndpointId=${EP}`,
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`<connectionId>${connectionId(1)}</connectionId>`);
  });

  it('hides terminated connections 60 minutes after they ended', async () => {
    emulator.addEndpoints([{ id: EP }]);
    emulator.addConnections([
      conn(EP, 1),
      conn(EP, 2, { status: 'terminated', endedAt: new Date(T0.getTime() - 59 * MINUTE) }),
      conn(EP, 3, { status: 'terminated', endedAt: new Date(T0.getTime() - 61 * MINUTE) }),
    ]);
    const ids = async () =>
      (await describeConnections({ ClientVpnEndpointId: EP })).map((c) => c.ConnectionId);
    expect(await ids()).toEqual([connectionId(1), connectionId(2)]);
    advance(MINUTE);
    expect(await ids()).toEqual([connectionId(1)]);
    expect(emulator.connections(EP).map((c) => c.connectionId)).toEqual([connectionId(1)]);
  });
});

describe('TerminateClientVpnConnections', () => {
  beforeEach(() => {
    emulator.addEndpoints([{ id: EP }]);
  });

  const terminate = (input: { ConnectionId?: string; Username?: string; DryRun?: boolean }) =>
    client.send(new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: EP, ...input }));

  it('terminates by id: active → terminating → terminated → gone after 60 minutes', async () => {
    emulator.addConnections([conn(EP, 1), conn(EP, 2)]);
    advance(5_000);
    const out = await terminate({ ConnectionId: connectionId(1) });
    expect(out.ClientVpnEndpointId).toBe(EP);
    expect(out.Username).toBeUndefined();
    expect(out.ConnectionStatuses).toEqual([
      {
        ConnectionId: connectionId(1),
        PreviousStatus: { Code: 'active' },
        CurrentStatus: { Code: 'terminating' },
      },
    ]);
    const status = async () => {
      const [c] = await describeConnections({
        ClientVpnEndpointId: EP,
        Filters: [{ Name: 'connection-id', Values: [connectionId(1)] }],
      });
      return [c?.Status?.Code, c?.ConnectionEndTime];
    };
    expect(await status()).toEqual(['terminating', '2026-11-27 12:00:05']);
    advance(999);
    expect(await status()).toEqual(['terminating', '2026-11-27 12:00:05']);
    advance(1);
    expect(await status()).toEqual(['terminated', '2026-11-27 12:00:05']);
    advance(60 * MINUTE - 1000);
    expect(await status()).toEqual([undefined, undefined]);
    expect(emulator.connections().map((c) => [c.connectionId, c.status])).toEqual([
      [connectionId(2), 'active'],
    ]);
  });

  it('answers an id that is already terminated with its status, unchanged', async () => {
    emulator.addConnections([
      conn(EP, 1, { status: 'terminated', endedAt: new Date(T0.getTime() - MINUTE) }),
    ]);
    const out = await terminate({ ConnectionId: connectionId(1) });
    expect(out.ConnectionStatuses?.[0]).toMatchObject({
      PreviousStatus: { Code: 'terminated' },
      CurrentStatus: { Code: 'terminated' },
    });
  });

  it('terminates the active connections of a user by username', async () => {
    emulator.addConnections([
      conn(EP, 1, { username: 'zoë' }),
      conn(EP, 2, { username: 'bob' }),
      conn(EP, 3, { username: 'zoë' }),
      conn(EP, 4, { username: 'zoë', status: 'terminated', endedAt: T0 }),
    ]);
    const out = await terminate({ Username: 'zoë' });
    expect(out.Username).toBe('zoë');
    expect(out.ConnectionStatuses?.map((s) => [s.ConnectionId, s.CurrentStatus?.Code])).toEqual([
      [connectionId(1), 'terminating'],
      [connectionId(3), 'terminating'],
    ]);
    expect(emulator.connections(EP).map((c) => c.status)).toEqual([
      'terminating',
      'active',
      'terminating',
      'terminated',
    ]);
  });

  it('refuses a username with more than 5 active connections', async () => {
    emulator.addConnections(Array.from({ length: 6 }, (_, n) => conn(EP, n, { username: 'eve' })));
    const error = await apiError(terminate({ Username: 'eve' }));
    expect(error.name).toBe('ClientVpnTerminateConnectionsLimitExceeded');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(emulator.connections(EP).every((c) => c.status === 'active')).toBe(true);

    await terminate({ ConnectionId: connectionId(0) });
    const out = await terminate({ Username: 'eve' });
    expect(out.ConnectionStatuses).toHaveLength(5);
  });

  it('rejects unknown ids and users, and bad parameter combinations', async () => {
    emulator.addConnections([conn(EP, 1, { username: 'alice' })]);
    expect((await apiError(terminate({ ConnectionId: connectionId(99) }))).name).toBe(
      'InvalidClientVpnConnection.IdNotFound',
    );
    expect((await apiError(terminate({ Username: 'mallory' }))).name).toBe(
      'InvalidClientVpnConnection.UserNotFound',
    );
    expect(
      (await apiError(terminate({ Username: 'alice', ConnectionId: connectionId(1) }))).name,
    ).toBe('InvalidParameterCombination');
    expect((await apiError(terminate({}))).name).toBe('MissingParameter');
    const unknown = await apiError(
      client.send(
        new TerminateClientVpnConnectionsCommand({ ClientVpnEndpointId: EP2, Username: 'alice' }),
      ),
    );
    expect(unknown.name).toBe('InvalidClientVpnEndpointId.NotFound');
  });

  it('answers DryRun with 412 and changes nothing; 403 when denied', async () => {
    emulator.addConnections([conn(EP, 1)]);
    const error = await apiError(terminate({ ConnectionId: connectionId(1), DryRun: true }));
    expect(error.name).toBe('DryRunOperation');
    expect(error.$metadata.httpStatusCode).toBe(412);
    expect(emulator.connections(EP)[0]?.status).toBe('active');

    emulator.faults.deny('TerminateClientVpnConnections');
    const denied = await apiError(terminate({ ConnectionId: connectionId(1), DryRun: true }));
    expect(denied.name).toBe('UnauthorizedOperation');
    await expect(describeConnections({ ClientVpnEndpointId: EP })).resolves.toHaveLength(1);
  });
});

describe('DescribeClientVpnEndpoints', () => {
  it('returns the Name tag, auth type and the model elements', async () => {
    const { endpoints } = generateFleet({ connections: 0, endpoints: 3 });
    emulator.addEndpoints(endpoints);
    const out = await client.send(new DescribeClientVpnEndpointsCommand({}));
    expect(out.ClientVpnEndpoints?.map((e) => e.ClientVpnEndpointId)).toEqual(
      endpoints.map((e) => e.id),
    );
    const cert = out.ClientVpnEndpoints?.[1];
    expect(cert).toMatchObject({
      ClientVpnEndpointId: EP2,
      Description: 'Generated endpoint 1',
      Status: { Code: 'available' },
      CreationTime: '2026-11-27 12:00:00',
      DnsName: `*.${EP2}.prod.clientvpn.us-east-1.amazonaws.com`,
      SplitTunnel: true,
      VpnPort: 443,
      TransportProtocol: 'udp',
      AuthenticationOptions: [{ Type: 'certificate-authentication' }],
      Tags: [{ Key: 'Name', Value: 'contractors' }],
      SessionTimeoutHours: 24,
      ConnectionLogOptions: { Enabled: false },
    });
    expect(cert?.VpcId).toMatch(/^vpc-[0-9a-f]{17}$/);
    expect(cert?.ClientCidrBlock).toMatch(/^10\.\d+\.0\.0\/16$/);
    expect(out.ClientVpnEndpoints?.[0]?.AuthenticationOptions?.[0]?.Type).toBe(
      'directory-service-authentication',
    );
    expect(out.NextToken).toBeUndefined();
  });

  it('serves each endpoint’s session timeout, 24 hours unless given', async () => {
    emulator.addEndpoints([{ id: EP2, sessionTimeoutHours: 12 }, { id: endpointId(9) }]);
    const out = await client.send(new DescribeClientVpnEndpointsCommand({}));
    expect(
      out.ClientVpnEndpoints?.map((e) => [e.ClientVpnEndpointId, e.SessionTimeoutHours]),
    ).toEqual([
      [EP2, 12],
      [endpointId(9), 24],
    ]);
  });

  it('selects by id and by filter, paginates, and rejects unknown ids', async () => {
    const { endpoints } = generateFleet({ connections: 0, endpoints: 7 });
    emulator.addEndpoints(endpoints);
    emulator.addEndpoints([{ id: endpointId(7), name: 'tcp one', transportProtocol: 'tcp' }]);
    const byId = await client.send(
      new DescribeClientVpnEndpointsCommand({ ClientVpnEndpointIds: [EP2] }),
    );
    expect(byId.ClientVpnEndpoints?.map((e) => e.ClientVpnEndpointId)).toEqual([EP2]);

    const tcp = await client.send(
      new DescribeClientVpnEndpointsCommand({
        Filters: [{ Name: 'transport-protocol', Values: ['tcp'] }],
      }),
    );
    expect(tcp.ClientVpnEndpoints?.map((e) => e.ClientVpnEndpointId)).toEqual([endpointId(7)]);

    const first = await client.send(new DescribeClientVpnEndpointsCommand({ MaxResults: 5 }));
    expect(first.ClientVpnEndpoints).toHaveLength(5);
    const second = await client.send(
      new DescribeClientVpnEndpointsCommand({ MaxResults: 5, NextToken: first.NextToken }),
    );
    expect(second.ClientVpnEndpoints).toHaveLength(3);
    expect(second.NextToken).toBeUndefined();

    const error = await apiError(
      client.send(
        new DescribeClientVpnEndpointsCommand({ ClientVpnEndpointIds: ['cvpn-endpoint-nope'] }),
      ),
    );
    expect(error.name).toBe('InvalidClientVpnEndpointId.NotFound');
    const filter = await apiError(
      client.send(
        new DescribeClientVpnEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: ['x'] }] }),
      ),
    );
    expect(filter.name).toBe('InvalidParameterValue');
    const dry = await apiError(
      client.send(new DescribeClientVpnEndpointsCommand({ DryRun: true })),
    );
    expect(dry.name).toBe('DryRunOperation');
  });
});

describe('protocol', () => {
  it('answers errors in the EC2 envelope with the request id in header and body', async () => {
    const response = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=RunInstances&Version=2016-11-15',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/xml;charset=UTF-8');
    const requestId = response.headers.get('x-amzn-requestid');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const body = await response.text();
    expect(body).toContain(
      '<Response><Errors><Error><Code>InvalidAction</Code><Message>The action RunInstances is not valid for this web service.</Message></Error></Errors>',
    );
    expect(body).toContain(`<RequestID>${requestId}</RequestID></Response>`);
  });

  it('puts the same request id in the success body and header', async () => {
    emulator.addEndpoints([{ id: EP }]);
    const response = await fetch(
      `${emulator.url}/?Action=DescribeClientVpnConnections&Version=2016-11-15&ClientVpnEndpointId=${EP}`,
    );
    const body = await response.text();
    expect(body).toContain(
      `<DescribeClientVpnConnectionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${response.headers.get('x-amzn-requestid')}</requestId><connections/></DescribeClientVpnConnectionsResponse>`,
    );
  });

  it('requires Action and Version', async () => {
    const post = (body: string) =>
      fetch(emulator.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      }).then(async (r) => [r.status, await r.text()] as const);
    const [noAction, noActionBody] = await post('Version=2016-11-15');
    expect(noAction).toBe(400);
    expect(noActionBody).toContain('<Code>MissingAction</Code>');
    const [noVersion, noVersionBody] = await post('Action=DescribeClientVpnEndpoints');
    expect(noVersion).toBe(400);
    expect(noVersionBody).toContain('<Code>MissingParameter</Code>');
  });

  it('serves 100,000 connections as 100 pages of 1000, the same again once cached', async () => {
    const fleet = generateFleet({ connections: 100_000, endpoints: 1 });
    emulator.addEndpoints(fleet.endpoints);
    emulator.addConnections(fleet.connections);
    const listRaw = async () => {
      let token: string | undefined;
      let items = 0;
      let pages = 0;
      do {
        const query = new URLSearchParams({
          Action: 'DescribeClientVpnConnections',
          Version: '2016-11-15',
          ClientVpnEndpointId: EP,
          MaxResults: '1000',
          ...(token ? { NextToken: token } : {}),
        });
        const body = await fetch(emulator.url, { method: 'POST', body: query }).then((r) =>
          r.text(),
        );
        items += body.split('<connectionId>').length - 1;
        token = /<nextToken>([^<]+)<\/nextToken>/.exec(body)?.[1];
        pages++;
      } while (token);
      return [items, pages];
    };
    expect(await listRaw()).toEqual([100_000, 100]);
    // The second listing is served from cached items; its speed is measured by the benchmarks
    // (`npm run bench -- cli` lists 100,000 connections), not here.
    expect(await listRaw()).toEqual([100_000, 100]);
  });
});

describe('faults', () => {
  beforeEach(() => {
    emulator.addEndpoints([{ id: EP }]);
  });

  const describeOnce = () => describeConnections({ ClientVpnEndpointId: EP });

  it('throttleNext answers 503 RequestLimitExceeded n times', async () => {
    emulator.faults.throttleNext(2);
    for (let i = 0; i < 2; i++) {
      const error = await apiError(describeOnce());
      expect(error.name).toBe('RequestLimitExceeded');
      expect(error.$metadata.httpStatusCode).toBe(503);
    }
    await expect(describeOnce()).resolves.toEqual([]);
    expect(emulator.requests.map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('tokenBucket throttles Describe* past the burst and Terminate at a quarter of it', async () => {
    emulator.addConnections([conn(EP, 1), conn(EP, 2)]);
    emulator.faults.tokenBucket({ burst: 8, perSecond: 0.001 });
    for (let i = 0; i < 8; i++) await describeOnce();
    const error = await apiError(describeOnce());
    expect(error.name).toBe('RequestLimitExceeded');
    expect(error.$metadata.httpStatusCode).toBe(503);

    const terminate = (n: number) =>
      client.send(
        new TerminateClientVpnConnectionsCommand({
          ClientVpnEndpointId: EP,
          ConnectionId: connectionId(n),
        }),
      );
    await terminate(1);
    await terminate(2);
    expect((await apiError(terminate(1))).name).toBe('RequestLimitExceeded');

    emulator.faults.tokenBucket({ burst: 1, perSecond: 20 });
    await describeOnce();
    expect((await apiError(describeOnce())).name).toBe('RequestLimitExceeded');
    await new Promise((resolve) => setTimeout(resolve, 60));
    await expect(describeOnce()).resolves.toBeDefined();
  });

  it('failNext answers 500 InternalError, or the status and code given', async () => {
    emulator.faults.failNext(1);
    const error = await apiError(describeOnce());
    expect(error.name).toBe('InternalError');
    expect(error.$fault).toBe('server');
    expect(error.$metadata.httpStatusCode).toBe(500);
    emulator.faults.failNext(1, 503, 'Unavailable');
    const unavailable = await apiError(describeOnce());
    expect([unavailable.name, unavailable.$metadata.httpStatusCode]).toEqual(['Unavailable', 503]);
    await expect(describeOnce()).resolves.toEqual([]);
  });

  it('dropNext makes the SDK see a network error, logged with status 0', async () => {
    emulator.faults.dropNext(1);
    const error = await describeOnce().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(EC2ServiceException);
    expect(emulator.requests[0]?.status).toBe(0);
    await expect(describeOnce()).resolves.toEqual([]);
  });

  it('latency delays each answer, by a number or per action', async () => {
    emulator.faults.latency(150);
    let started = performance.now();
    await describeOnce();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    emulator.faults.latency((action) => (action === 'DescribeClientVpnEndpoints' ? 120 : 0));
    started = performance.now();
    await describeOnce();
    expect(performance.now() - started).toBeLessThan(100);
    started = performance.now();
    await client.send(new DescribeClientVpnEndpointsCommand({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('deny answers 403 UnauthorizedOperation for one action or all', async () => {
    emulator.faults.deny('DescribeClientVpnEndpoints');
    const error = await apiError(client.send(new DescribeClientVpnEndpointsCommand({})));
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['UnauthorizedOperation', 403]);
    await expect(describeOnce()).resolves.toEqual([]);
    emulator.faults.deny('*');
    expect((await apiError(describeOnce())).name).toBe('UnauthorizedOperation');
  });

  it('authFailure answers 401 AuthFailure and wins over later faults', async () => {
    emulator.faults.authFailure(true);
    emulator.faults.throttleNext(1);
    emulator.faults.deny('*');
    const error = await apiError(describeOnce());
    expect([error.name, error.$metadata.httpStatusCode]).toEqual(['AuthFailure', 401]);
    emulator.faults.authFailure(false);
    expect((await apiError(describeOnce())).name).toBe('RequestLimitExceeded');
    expect((await apiError(describeOnce())).name).toBe('UnauthorizedOperation');
    emulator.faults.reset();
    await expect(describeOnce()).resolves.toEqual([]);
  });

  it('clear removes endpoints, connections, faults and the log', async () => {
    emulator.addConnections([conn(EP, 1)]);
    emulator.faults.deny('*');
    await apiError(describeOnce());
    emulator.clear();
    expect(emulator.requests).toEqual([]);
    expect(emulator.connections()).toEqual([]);
    expect((await apiError(describeOnce())).name).toBe('InvalidClientVpnEndpointId.NotFound');
    emulator.addEndpoints([{ id: EP }]);
    emulator.addConnections([conn(EP, 1)]);
    await expect(describeOnce()).resolves.toHaveLength(1);
  });

  it('close ends open sockets and pending latency promptly', async () => {
    emulator.faults.latency(10_000);
    const pending = describeOnce().catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await emulator.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await pending).toBeInstanceOf(Error);
  });
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const AWS_CLI = '/usr/bin/aws';

function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      AWS_CLI,
      ['--endpoint-url', emulator.url, '--region', 'us-east-1', '--output', 'json', ...args],
      {
        timeout: 20_000,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: tmpdir(),
          LC_ALL: 'C.UTF-8',
          PYTHONIOENCODING: 'utf-8',
          AWS_ACCESS_KEY_ID: 'AKIDTEST',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_PAGER: '',
        },
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

const CliOutput = z.object({
  Connections: z.array(z.record(z.string(), z.unknown())),
});

describe('AWS CLI (Debian awscli)', () => {
  it.skipIf(!existsSync(AWS_CLI))(
    'auto-paginates with --page-size to exactly every connection, values intact',
    async () => {
      const fleet = generateFleet({ connections: 450, endpoints: 1 });
      emulator.addEndpoints(fleet.endpoints);
      emulator.addConnections(fleet.connections);
      const result = await runCli([
        'ec2',
        'describe-client-vpn-connections',
        '--client-vpn-endpoint-id',
        EP,
        '--page-size',
        '200',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const out = CliOutput.parse(JSON.parse(result.stdout));
      expect(out.Connections.map((c) => c.ConnectionId)).toEqual(
        fleet.connections.map((c) => c.connectionId),
      );
      expect(emulator.requests.map((r) => r.params.MaxResults)).toEqual(['200', '200', '200']);

      const byId = new Map(out.Connections.map((c) => [c.ConnectionId, c]));
      for (const name of TRICKY_USERNAMES) {
        const source = fleet.connections.find((c) => c.username === name);
        expect(byId.get(source?.connectionId)?.Username).toBe(name);
      }
      const plain = fleet.connections.find((c) => c.clientIp && !c.clientIpv6);
      const plainOut = byId.get(plain?.connectionId);
      expect(plainOut?.ClientIp).toBe(plain?.clientIp);
      expect(plainOut).not.toHaveProperty('ClientIpv6Address');
      const ipv6Only = fleet.connections.find((c) => c.clientIpv6 && !c.clientIp);
      expect(byId.get(ipv6Only?.connectionId)).not.toHaveProperty('ClientIp');
      const active = fleet.connections.find((c) => c.status === 'active');
      const activeOut = byId.get(active?.connectionId);
      expect(activeOut?.ConnectionEndTime).toBe('-');
      expect(activeOut?.ConnectionEstablishedTime).toBe(
        active ? formatAwsTime(active.establishedAt) : 'missing',
      );
      expect(activeOut?.IngressBytes).toBe(String(active?.ingressBytes));
    },
  );

  it.skipIf(!existsSync(AWS_CLI))(
    'sends filter values with spaces and plus signs intact',
    async () => {
      emulator.addEndpoints([{ id: EP }]);
      emulator.addConnections([
        conn(EP, 1, { username: 'Mary Ann' }),
        conn(EP, 2, { username: 'plus+sign' }),
        conn(EP, 3, { username: 'Mary' }),
      ]);
      const result = await runCli([
        'ec2',
        'describe-client-vpn-connections',
        '--client-vpn-endpoint-id',
        EP,
        '--filters',
        JSON.stringify([{ Name: 'username', Values: ['Mary Ann', 'plus+sign'] }]),
      ]);
      expect(result.code, result.stderr).toBe(0);
      const out = CliOutput.parse(JSON.parse(result.stdout));
      expect(out.Connections.map((c) => c.Username)).toEqual(['Mary Ann', 'plus+sign']);
    },
  );

  it.skipIf(!existsSync(AWS_CLI))('exits 254 on an unknown endpoint', async () => {
    const result = await runCli([
      'ec2',
      'describe-client-vpn-connections',
      '--client-vpn-endpoint-id',
      EP,
    ]);
    expect(result.code).toBe(254);
    expect(result.stderr).toContain('InvalidClientVpnEndpointId.NotFound');
  });
});
