import { execFile } from 'node:child_process';
import stringWidth from 'string-width';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Ec2Emulator,
  type EmulatedConnection,
  startEc2Emulator,
} from '../../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId, generateFleet } from '../../src/sandbox/vpn-data.js';
import { RECORD_COLUMNS } from '../../src/vpn/records.js';

const NOW = new Date('2026-11-27T12:00:00Z');
let emulator: Ec2Emulator;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI entry point as a child process, as a user would. */
function cli(
  args: string[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', 'src/cli.ts', ...args],
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
    const read = emulator.requests.find((r) => r.action === 'DescribeClientVpnConnections');
    expect(read?.params['Filter.1.Name']).toBe('username');
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
      /^ENDPOINT\s+USER\s+STATUS\s+CLIENT IP\s+CONNECTED\s+DURATION\s+IN\s+OUT\s+CONNECTION\s+CLIENT IPV6$/,
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

/** The column where `header`'s text starts, in terminal columns. */
function columnOf(header: string, name: string): number {
  return header.indexOf(name);
}

/** Where `text` starts in `line`, in terminal columns (wide characters count two). */
function displayColumn(line: string, text: string): number {
  const at = line.indexOf(text);
  return at < 0 ? -1 : stringWidth(line.slice(0, at));
}

describe('vpn-conns table', () => {
  const longAlias = 'contractors-eu-west';
  const rows: EmulatedConnection[] = [
    { ...alice, connectionId: connectionId(1), status: 'active', endedAt: null },
    {
      ...alice,
      endpointId: certId,
      connectionId: connectionId(2),
      username: undefined,
      commonName: 'laptop-073.corp.example.com.very-long-name',
      clientIp: '10.1.198.226',
      clientIpv6: '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff',
      status: 'failed-to-terminate',
      ingressBytes: 15_900_000,
    },
    {
      ...alice,
      endpointId: certId,
      connectionId: connectionId(3),
      username: undefined,
      commonName: '名前さん',
      clientIp: '192.168.100.200',
      clientIpv6: undefined,
      status: 'terminated',
      ingressBytes: 999_949,
    },
  ];

  it('fixes widths from what each column holds: later rows and other endpoints are never cut', async () => {
    emulator.addConnections(rows);
    const run = await cli(['list', 'all'], {
      VPN_ENDPOINTS: `prod=${prodId},${longAlias}=${certId}`,
    });
    expect(run.code).toBe(0);
    const [header = '', ...lines] = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const [text, column] of [
      ['10.1.198.226', 'CLIENT IP'],
      ['192.168.100.200', 'CLIENT IP'],
      ['failed-to-terminate', 'STATUS'],
      ['15.9 MB', 'CONNECTED'],
      [longAlias, 'ENDPOINT'],
      [connectionId(3), 'CONNECTION'],
      ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff', 'CLIENT IPV6'],
    ] as const) {
      const line = lines.find((l) => l.includes(text));
      expect(line, `${text} is printed whole`).toBeDefined();
      if (column !== 'CONNECTED') {
        expect(displayColumn(line ?? '', text), `${text} under ${column}`).toBe(
          columnOf(header, column),
        );
      }
    }
    // Every row has its columns in the same place, the wide-character name included.
    const starts = lines.map((l) => displayColumn(l, 'UTC'));
    expect(new Set(starts).size).toBe(1);
  });

  it('cuts only a long name, visibly, and counts wide characters as two columns', async () => {
    emulator.addConnections(rows);
    const run = await cli(['list', 'certs'], { VPN_ENDPOINTS: ENDPOINTS });
    const [header = '', ...lines] = run.stdout.trimEnd().split('\n');
    const cut = lines.find((l) => l.includes('laptop-073')) ?? '';
    expect(cut).toMatch(/ laptop-073\.corp\.example… /);
    expect(cut).not.toContain('very-long-name');
    const wide = lines.find((l) => l.includes('名前さん')) ?? '';
    expect(displayColumn(wide, 'terminated')).toBe(columnOf(header, 'STATUS'));
  });
});

describe('vpn-conns list user=NAME on a certificate endpoint', () => {
  it('matches the certificate common name like `user NAME`, and says which field matched', async () => {
    emulator.addConnections([
      {
        ...alice,
        endpointId: certId,
        connectionId: connectionId(5),
        username: undefined,
        commonName: 'bob.laptop.corp',
      },
      {
        ...alice,
        endpointId: certId,
        connectionId: connectionId(6),
        username: undefined,
        commonName: 'carol',
      },
    ]);
    const json = await cli(['list', 'certs', 'user=bob', '--json'], { VPN_ENDPOINTS: ENDPOINTS });
    expect(json.code).toBe(0);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).connectionId),
    ).toEqual([connectionId(5)]);
    const table = await cli(['list', 'certs', 'user=bob'], { VPN_ENDPOINTS: ENDPOINTS });
    expect(table.stdout).toContain('bob.laptop.corp');
    expect(table.stderr).toBe(
      'Matched 1 by certificate common name (certificate endpoints send no user name).\n',
    );
  });
});

describe('vpn-conns failed reads', () => {
  it('prints no result line for an endpoint it could not read, and says the id was typed', async () => {
    const gone = 'cvpn-endpoint-00000000000000000';
    const run = await cli(['list', gone]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toContain('No connections.');
    expect(run.stderr).not.toContain('VPN_ENDPOINTS');
    expect(run.stderr).toContain(`Client VPN endpoint ${gone} was not found in us-east-1`);
    expect(run.stderr).toContain('typed in the command');
  });

  it('names VPN_ENDPOINTS only when the endpoint came from it', async () => {
    const run = await cli(['list', 'gone'], { VPN_ENDPOINTS: `gone=${endpointId(42)}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Check its id and region in VPN_ENDPOINTS');
    expect(run.stderr).not.toContain('No connections.');
  });

  it('speaks of missing credentials without calling itself a bot', async () => {
    emulator.faults.authFailure(true);
    try {
      const run = await cli(['list'], { VPN_ENDPOINTS: ENDPOINTS });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('No valid AWS credentials');
      expect(run.stderr).not.toMatch(/\bbot\b/);
    } finally {
      emulator.faults.authFailure(false);
    }
  });
});

describe('vpn-conns wording', () => {
  it('prints a Usage: line with the grammar on exit 2', async () => {
    const run = await cli(['list', 'status=gone']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\n\nUsage:\n {2}vpn-conns list /);
  });

  it('refuses --json and --csv together', async () => {
    const run = await cli(['list', '--json', '--csv']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--json and --csv cannot be used together');
    expect(emulator.requests).toHaveLength(0);
  });

  it('lists status= for user in help', async () => {
    const run = await cli(['help']);
    expect(run.stdout).toMatch(/^ {2}vpn-conns user NAME \[ENDPOINT…\|all\] \[status=/m);
  });

  it('prints endpoints as a table with a header row', async () => {
    const run = await cli(['endpoints']);
    const [header, ...lines] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ALIAS\s+ENDPOINT ID\s+REGION\s+AUTHENTICATION$/);
    expect(lines).toHaveLength(2);
    expect(lines[0]?.indexOf(prodId)).toBe(header?.indexOf('ENDPOINT ID'));
  });
});

describe('vpn-conns and process warnings', () => {
  it('prints no warning that is not about the request (the AWS SDK Node-version notice)', async () => {
    emulator.addConnections([alice]);
    // Emits a process warning on every HTTP request, as the SDK does once on Node < 22 whatever
    // Node runs this test.
    const warner = `data:text/javascript,${encodeURIComponent(`
      import http from 'node:http';
      import { syncBuiltinESMExports } from 'node:module';
      const request = http.request;
      http.request = function (...args) {
        process.emitWarning('NodeVersionSupportWarning: please upgrade');
        return request.apply(this, args);
      };
      syncBuiltinESMExports();
    `)}`;
    const run = await cli(['list', '--json'], { VPN_ENDPOINTS: ENDPOINTS }, ['--import', warner]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const debug = await cli(['list', '--json'], { VPN_ENDPOINTS: ENDPOINTS, LOG_LEVEL: 'debug' }, [
      '--import',
      warner,
    ]);
    const lines = debug.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: 'debug' });
  });
});
