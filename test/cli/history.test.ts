/**
 * `vpn-conns history …` and `vpn-conns report …` as a person runs them: the real CLI entry point
 * as a child process, over a SQLite file (DATABASE_URL) holding recorded sessions, endpoints
 * configured (no AWS call for history; the emulator describes them for a report).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_COLUMNS } from '../../src/reports/rows.js';
import { type Ec2Emulator, startEc2Emulator } from '../../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { openStore } from '../../src/store/index.js';
import type { ObservedSession } from '../../src/store/types.js';
import { RECORD_COLUMNS } from '../../src/vpn/records.js';

const HOUR = 3_600_000;
// Whole minutes, so the sessions sit at known places in the child's own clock's windows.
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const ago = (hours: number) => new Date(NOW - hours * HOUR);
const PROD = endpointId(0);
const CERTS = endpointId(1);
const dir = mkdtempSync(join(tmpdir(), 'vpn-conns-cli-history-'));
const DATABASE_URL = `sqlite:${join(dir, 'state.db')}`;
let emulator: Ec2Emulator;

function session(n: number, endpoint: string, start: Date, end: Date | null, user: string | null) {
  return {
    endpointId: endpoint,
    connectionId: connectionId(n),
    username: user,
    commonName: user === null ? `cert${n}.example` : user,
    clientIp: '10.0.0.7',
    clientIpv6: null,
    status: end === null ? 'active' : 'terminated',
    postureCompliance: ['compliant'],
    startedAt: start,
    endedAt: end,
    ingressBytes: 1_000 * n,
    egressBytes: 10 * n,
    ingressPackets: n,
    egressPackets: n,
  } satisfies ObservedSession;
}

beforeAll(async () => {
  emulator = await startEc2Emulator();
  emulator.addEndpoints([
    { id: PROD, name: 'prod', authenticationType: 'directory-service-authentication' },
    { id: CERTS, name: 'certs', authenticationType: 'certificate-authentication' },
  ]);
  const store = await openStore(DATABASE_URL);
  try {
    await store.recordHistory({
      endpointId: PROD,
      at: ago(3),
      sessions: [
        session(1, PROD, ago(5), ago(4), 'alice'),
        session(2, PROD, ago(3.5), ago(1.5), 'alice'),
        session(3, PROD, ago(40), ago(30), 'bob'),
      ],
      active: 0,
    });
    await store.recordHistory({
      endpointId: CERTS,
      at: ago(3),
      sessions: [session(4, CERTS, ago(2), ago(1), null)],
      active: 1,
    });
  } finally {
    await store.close();
  }
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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
          VPN_ENDPOINTS: `prod=${PROD},certs=${CERTS}`,
          DATABASE_URL,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('vpn-conns history', () => {
  it('prints the recorded sessions of the last 24 hours with the 14 keys of list --json', async () => {
    const run = await cli(['history', '--json']);
    expect(run.code).toBe(0);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => r.connectionId)).toEqual([
      connectionId(1),
      connectionId(2),
      connectionId(4),
    ]);
    for (const record of records) expect(Object.keys(record)).toEqual([...RECORD_COLUMNS]);
    expect(RECORD_COLUMNS).toHaveLength(14);
    expect(records[0]).toMatchObject({ username: 'alice', status: 'terminated' });
    expect(run.stderr).toContain(
      `History starts ${ago(3).toISOString().slice(0, 16).replace('T', ' ')}`,
    );
  });

  it('finds one person since a duration, and answers at a moment, as CSV', async () => {
    const bob = await cli(['history', 'user', 'bob', 'since=2d', '--csv']);
    expect(bob.code).toBe(0);
    expect(bob.stdout.trim().split('\n')).toHaveLength(2);
    expect(bob.stdout).toContain(connectionId(3));
    const at = await cli(['history', `at=${ago(35).toISOString()}`, '--json']);
    expect(
      at.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).connectionId),
    ).toEqual([connectionId(3)]);
  });

  it('names a bad date and exits 2', async () => {
    const run = await cli(['history', 'since=someday']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('`someday`');
  });
});

describe('vpn-conns report', () => {
  it('prints one JSON object per person with exactly the documented keys, most hours first', async () => {
    const run = await cli(['report', '24h', '--json']);
    expect(run.code).toBe(0);
    const rows = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const row of rows) expect(Object.keys(row)).toEqual([...REPORT_COLUMNS]);
    // alice: 1 h + 2 h on prod; the certificate user by common name: 1 h; bob is outside 24 h.
    expect(rows).toEqual([
      {
        person: 'alice',
        sessions: 2,
        connectionHours: 3,
        ingressBytes: 3000,
        egressBytes: 30,
        estimatedCost: 0.15,
      },
      {
        person: 'cert4.example',
        sessions: 1,
        connectionHours: 1,
        ingressBytes: 4000,
        egressBytes: 40,
        estimatedCost: 0.05,
      },
    ]);
  });

  it('prints totals, peaks and a table of people', async () => {
    const run = await cli(['report', '7d', 'prod']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Sessions: 3 · people: 2 · connection-hours: 13.00');
    expect(run.stdout).toMatch(/PERSON\s+SESSIONS\s+HOURS/);
    expect(run.stdout).toMatch(/bob\s+1\s+10\.00/);
  });
});
