/**
 * The supported Node versions: the ones `engines` names are the ones CI runs the suite on
 * (besides the machine's own), and on them no process warning is emitted — the AWS SDK warns
 * only on Node versions it is dropping (on Node 20 its `NodeVersionSupportWarning`). The
 * terminal command logs process warnings at debug level, so `LOG_LEVEL=debug` shows any. CI runs
 * this file on every Node it tests.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ec2Emulator, startEc2Emulator } from '../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId } from '../src/sandbox/vpn-data.js';

const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as {
  engines: { node: string };
};
const ciMajors = /^NODE_MAJORS=\(([\d ]+)\)$/m.exec(readFileSync('.ci/run', 'utf8'))?.[1];
const supported = (ciMajors ?? '').split(' ').map(Number);
const major = Number(process.versions.node.split('.')[0]);

describe('the supported Node versions', () => {
  it('are the majors CI tests, each as MAJOR.x in engines (what Heroku resolves)', () => {
    expect(supported.length).toBeGreaterThan(0);
    expect(packageJson.engines.node).toBe(supported.map((m) => `${m}.x`).join(' || '));
  });
});

describe.skipIf(!supported.includes(major))(`the terminal command on Node ${major}`, () => {
  let emulator: Ec2Emulator;

  beforeAll(async () => {
    emulator = await startEc2Emulator();
    emulator.addEndpoints([{ id: endpointId(0), name: 'prod' }]);
    emulator.addConnections([
      {
        endpointId: endpointId(0),
        connectionId: connectionId(1),
        username: 'alice',
        commonName: 'alice',
        clientIp: '10.0.0.1',
        establishedAt: new Date(Date.now() - 3_600_000),
        endedAt: null,
        status: 'active',
        ingressBytes: 1,
        egressBytes: 2,
        ingressPackets: 1,
        egressPackets: 1,
      },
    ]);
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('reads AWS with no process warning, deprecation or otherwise, even at debug level', async () => {
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>(
      (resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'src/cli.ts', 'list', 'all', '--json'],
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
              VPN_ENDPOINTS: `prod=${endpointId(0)}`,
              LOG_LEVEL: 'debug',
            },
            timeout: 60_000,
          },
          (error, out, err) => (error ? reject(error) : resolve({ stdout: out, stderr: err })),
        );
      },
    );
    expect(stdout).toContain('"username":"alice"');
    expect(stderr).not.toMatch(/warning/i);
  });
});
