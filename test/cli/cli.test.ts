import { execFile } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RECORD_COLUMNS } from '../../src/vpn/records.js';
import {
  type Ec2Emulator,
  type EmulatedConnection,
  startEc2Emulator,
} from '../support/ec2-emulator.js';
import { connectionId, endpointId, generateFleet } from '../support/vpn-data.js';

const NOW = new Date('2026-11-27T12:00:00Z');
let emulator: Ec2Emulator;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI entry point as a child process, as a user would. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: '/nonexistent',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'AKIDTEST',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_ENDPOINT_URL_EC2: emulator.url,
          AWS_MAX_ATTEMPTS: '1',
          ...env,
        },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const prodId = endpointId(0);
const certId = endpointId(1);
const ENDPOINTS = `prod=${prodId},certs=${certId}`;

const alice: EmulatedConnection = {
  endpointId: prodId,
  connectionId: connectionId(1),
  username: 'alice',
  commonName: 'alice',
  clientIp: '10.0.0.7',
  clientIpv6: '2001:db8::7',
  establishedAt: new Date('2026-11-27T09:15:00Z'),
  endedAt: new Date('2026-11-27T11:45:30Z'),
  status: 'terminated',
  ingressBytes: 5_000_000_000,
  egressBytes: 1234,
  ingressPackets: 42,
  egressPackets: 43,
  postureCompliance: ['compliant', 'unknown'],
};

beforeAll(async () => {
  emulator = await startEc2Emulator({ now: () => NOW });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.clear();
  emulator.addEndpoints([
    { id: prodId, name: 'prod', authenticationType: 'directory-service-authentication' },
    { id: certId, name: 'certs', authenticationType: 'certificate-authentication' },
  ]);
});

describe('vpn-conns list --json', () => {
  it('prints one JSON object per connection with exactly the documented keys and values', async () => {
    emulator.addConnections([alice]);
    const run = await cli(['list', '--json'], { VPN_ENDPOINTS: ENDPOINTS });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(Object.keys(record)).toEqual([...RECORD_COLUMNS]);
    expect(record).toEqual({
      endpointId: prodId,
      connectionId: connectionId(1),
      username: 'alice',
      commonName: 'alice',
      status: 'terminated',
      clientIp: '10.0.0.7',
      clientIpv6: '2001:db8::7',
      establishedAt: '2026-11-27T09:15:00.000Z',
      endedAt: '2026-11-27T11:45:30.000Z',
      ingressBytes: 5_000_000_000,
      egressBytes: 1234,
      ingressPackets: 42,
      egressPackets: 43,
      postureCompliance: 'compliant;unknown',
    });
  });

  it('prints null for absent values of an active certificate user', async () => {
    emulator.addConnections([
      {
        ...alice,
        endpointId: certId,
        username: undefined,
        commonName: 'laptop-1.corp',
        clientIpv6: undefined,
        endedAt: null,
        status: 'active',
        postureCompliance: undefined,
      },
    ]);
    const run = await cli(['list', 'certs', '--json'], {
      VPN_ENDPOINTS: ENDPOINTS,
      TZ: 'America/Los_Angeles',
    });
    const record = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(record).toMatchObject({
      username: null,
      clientIpv6: null,
      endedAt: null,
      postureCompliance: null,
      status: 'active',
    });
    expect(record.establishedAt).toBe('2026-11-27T09:15:00.000Z');
  });

  it('lists 2,345 connections exactly once each in ceil(N/1000) requests', async () => {
    const fleet = generateFleet({ endpoints: [{ id: prodId }], connections: 2345, now: NOW });
    emulator.addConnections(fleet.connections);
    const run = await cli(['list', 'prod', '--json'], { VPN_ENDPOINTS: ENDPOINTS });
    expect(run.code).toBe(0);
    const ids = run.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { connectionId: string }).connectionId);
    expect(ids).toHaveLength(2345);
    expect(new Set(ids).size).toBe(2345);
    expect(
      emulator.requests.filter((r) => r.action === 'DescribeClientVpnConnections'),
    ).toHaveLength(3);
    expect(emulator.requests.every((r) => r.action === 'DescribeClientVpnConnections')).toBe(true);
  });

  it('filters by status on the client and by user on the server', async () => {
    emulator.addConnections([
      alice,
      { ...alice, connectionId: connectionId(2), status: 'active', endedAt: null },
    ]);
    const run = await cli(['list', 'user=alice', 'status=active', '--json'], {
      VPN_ENDPOINTS: ENDPOINTS,
    });
    expect(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { connectionId: string }).connectionId),
    ).toEqual([connectionId(2)]);
    expect(emulator.requests[0]?.params['Filter.1.Name']).toBe('username');
  });
});

describe('vpn-conns output formats', () => {
  it('prints CSV with the same columns and a header', async () => {
    emulator.addConnections([alice]);
    const run = await cli(['list', '--csv'], { VPN_ENDPOINTS: ENDPOINTS });
    const [header, row] = run.stdout.trim().split('\n');
    expect(header).toBe(RECORD_COLUMNS.join(','));
    expect(row).toContain(`${prodId},${connectionId(1)},alice,alice,terminated`);
  });

  it('prints an aligned table by default', async () => {
    emulator.addConnections([alice]);
    const run = await cli(['list'], { VPN_ENDPOINTS: ENDPOINTS });
    expect(run.code).toBe(0);
    const [header, row] = run.stdout.split('\n');
    expect(header).toMatch(
      /^ENDPOINT\s+USER\s+STATUS\s+CLIENT IP\s+CONNECTED\s+DURATION\s+IN\s+OUT\s+CONNECTION$/,
    );
    expect(row).toContain('2026-11-27 09:15 UTC');
    expect(row).toContain('2h 30m');
    expect(row).toContain('5.0 GB');
    expect(header?.indexOf('USER')).toBe(row?.indexOf('alice'));
  });
});

describe('vpn-conns user', () => {
  it('finds a person on AD endpoints by user name and on certificate endpoints by common name', async () => {
    emulator.addConnections([
      alice,
      {
        ...alice,
        connectionId: connectionId(2),
        endpointId: certId,
        username: undefined,
        commonName: 'alice.laptop.corp',
      },
      {
        ...alice,
        connectionId: connectionId(3),
        endpointId: certId,
        username: undefined,
        commonName: 'bob.laptop.corp',
      },
    ]);
    const run = await cli(['user', 'alice', '--json']);
    expect(run.code).toBe(0);
    const ids = run.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { connectionId: string }).connectionId);
    expect(ids.sort()).toEqual([connectionId(1), connectionId(2)].sort());
  });
});

describe('vpn-conns endpoints and help', () => {
  it('lists discovered endpoints with their aliases', async () => {
    const run = await cli(['endpoints']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^prod\\s+${prodId}\\s+us-east-1\\s+directory-service-authentication$`, 'm'),
    );
    expect(run.stdout).toMatch(new RegExp(`^certs\\s+${certId}`, 'm'));
  });

  it('prints usage and exits 0 for help', async () => {
    const run = await cli(['help'], { AWS_REGION: '' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('vpn-conns list');
  });
});

describe('vpn-conns exit codes', () => {
  it('exits 2 with the bad word and usage on stderr for bad input, without calling AWS', async () => {
    const run = await cli(['list', 'status=gone']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"gone"');
    expect(run.stderr).toContain('vpn-conns list');
    expect(run.stdout).toBe('');
    expect(emulator.requests).toHaveLength(0);
  });

  it('exits 2 for an unknown option and for bad configuration', async () => {
    expect((await cli(['list', '--yaml'])).code).toBe(2);
    const run = await cli(['list'], { VPN_ENDPOINTS: 'prod=nope' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('VPN_ENDPOINTS: "nope" (for prod) is not a cvpn-endpoint-… id');
  });

  it('exits 1 with the named error on stderr when AWS refuses', async () => {
    const run = await cli(['list', endpointId(42)], { VPN_ENDPOINTS: ENDPOINTS });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Client VPN endpoint ${endpointId(42)} was not found`);
    expect(run.stderr).toMatch(/request id [0-9a-f-]{36}/);
  });

  it('prints the healthy endpoints and exits 1 when one of several fails', async () => {
    emulator.addConnections([alice]);
    const run = await cli(['list', 'prod', endpointId(42), '--json'], { VPN_ENDPOINTS: ENDPOINTS });
    expect(run.code).toBe(1);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(endpointId(42));
  });
});
