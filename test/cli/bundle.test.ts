import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ec2Emulator, startEc2Emulator } from '../../src/sandbox/ec2-emulator.js';
import { generateFleet } from '../../src/sandbox/vpn-data.js';

const run = promisify(execFile);
const NOW = new Date('2026-11-27T12:00:00Z');
let emulator: Ec2Emulator;
let dir: string;
let bin: string;

beforeAll(async () => {
  emulator = await startEc2Emulator({ now: () => NOW });
  dir = await mkdtemp(join(tmpdir(), 'vpn-conns-bundle-'));
  // The same build `npm run build` makes for the `vpn-conns` bin, into a temporary folder.
  await run(process.execPath, ['scripts/build-cli.mjs', dir], { timeout: 60_000 });
  bin = join(dir, 'vpn-conns.js');
}, 90_000);

afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the bundled vpn-conns command', () => {
  it('starts through its shebang with a capped heap', async () => {
    const [shebang] = (await readFile(bin, 'utf8')).split('\n', 1);
    expect(shebang).toBe('#!/usr/bin/env -S node --max-old-space-size=96 --max-semi-space-size=4');
    const { stdout } = await run(bin, ['help']);
    expect(stdout).toContain('vpn-conns list');
  });

  it('lists every connection through the real SDK, loaded lazily from its own chunk', async () => {
    const fleet = generateFleet({ endpoints: 1, connections: 1500, now: NOW });
    emulator.addEndpoints(fleet.endpoints);
    emulator.addConnections(fleet.connections);
    const { stdout } = await run(bin, ['list', '--json'], {
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_ENDPOINT_URL_EC2: emulator.url,
        VPN_ENDPOINTS: `bench=${fleet.endpoints[0]?.id ?? ''}`,
      },
    });
    const ids = stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { connectionId: string }).connectionId);
    expect(new Set(ids).size).toBe(1500);
    expect(
      emulator.requests.filter((r) => r.action === 'DescribeClientVpnConnections'),
    ).toHaveLength(2);
  });
});
