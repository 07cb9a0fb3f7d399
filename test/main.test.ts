/**
 * The bot as `npm start` runs it: `src/main.ts` in a child process, configured only through
 * environment variables, against the EC2 emulator and the Slack stand-in. Proves the composition
 * root wires config, gateway, store, Slack app and digest scheduler together.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ec2Emulator, startEc2Emulator } from '../src/sandbox/ec2-emulator.js';
import { freePort } from '../src/sandbox/free-port.js';
import { postSlashCommand } from '../src/sandbox/slack-signing.js';
import { type SlackStandIn, startSlackStandIn } from '../src/sandbox/slack-stand-in.js';
import { connectionId, endpointId } from '../src/sandbox/vpn-data.js';

const SECRET = 'main-test-signing-secret';
const TOKEN = 'xoxb-main-test';
const CHANNEL = 'C0DIGEST01';

let emulator: Ec2Emulator;
let slack: SlackStandIn;
let dir: string;
let bot: ChildProcess;
let port: number;
let metricsPort: number;
let exited: Promise<number | null>;
const output: string[] = [];

beforeAll(async () => {
  const now = Date.now();
  emulator = await startEc2Emulator();
  slack = await startSlackStandIn({ botToken: TOKEN });
  dir = await mkdtemp(join(tmpdir(), 'vpn-conns-main-'));
  port = await freePort();
  metricsPort = await freePort();
  emulator.addEndpoints([{ id: endpointId(0), name: 'prod' }]);
  emulator.addConnections([
    {
      endpointId: endpointId(0),
      connectionId: connectionId(1),
      username: 'alice',
      commonName: 'alice',
      clientIp: '10.0.0.1',
      establishedAt: new Date(now - 3600_000),
      endedAt: null,
      status: 'active',
      ingressBytes: 1,
      egressBytes: 2,
      ingressPackets: 1,
      egressPackets: 1,
    },
    {
      endpointId: endpointId(0),
      connectionId: connectionId(2),
      username: 'bob',
      commonName: 'bob',
      clientIp: '10.0.0.2',
      establishedAt: new Date(now - 7200_000),
      endedAt: new Date(now - 60_000),
      status: 'terminated',
      ingressBytes: 3,
      egressBytes: 4,
      ingressPackets: 1,
      egressPackets: 1,
    },
  ]);
  // The first poll is still reading when the bot starts listening: /readyz must say 503.
  emulator.faults.latency((action) => (action === 'DescribeClientVpnConnections' ? 4000 : 0));
  bot = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_ENDPOINT_URL_EC2: emulator.url,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      VPN_ENDPOINTS: `prod=${endpointId(0)}`,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.url,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      DATABASE_URL: `sqlite:${join(dir, 'state.db')}`,
      // Every second, so one runs during the test; the real default is hourly.
      DIGEST_CHANNEL: CHANNEL,
      DIGEST_CRON: '* * * * * *',
      DIGEST_POLL_SECONDS: '10',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bot.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  bot.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  exited = new Promise((resolve) => bot.once('exit', (code) => resolve(code)));
  await slack.waitFor(() => output.join('').includes('listening on port'), 20_000);
}, 30_000);

afterAll(async () => {
  if (bot.exitCode === null) bot.kill('SIGKILL');
  await slack.close();
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe('npm start (src/main.ts)', () => {
  it('answers health checks', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });

  it('is not ready before the first poll succeeded, on PORT and on METRICS_PORT', async () => {
    for (const p of [port, metricsPort]) {
      const res = await fetch(`http://127.0.0.1:${p}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('no poll has succeeded yet');
    }
    emulator.faults.latency(0);
  });

  it('answers a signed /vpn-conns through the real config, gateway and app', async () => {
    const responseUrl = slack.newResponseUrl();
    const sent = await postSlashCommand(`http://127.0.0.1:${port}/slack/events`, SECRET, {
      text: 'prod',
      response_url: responseUrl,
    });
    expect(sent.status).toBe(200);
    const id = responseUrl.split('/').pop();
    const answer = await slack.waitFor(
      () => slack.responseUrlPosts.find((p) => p.id === id),
      10_000,
    );
    expect(JSON.stringify(answer.body)).toContain(
      '2 connections · 1 active · 1 terminated in the last hour',
    );
  });

  it('after a command and a poll, is ready and exports the endpoint’s connections and the poll time', async () => {
    let ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    for (let tries = 0; ready.status !== 200 && tries < 150; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    }
    expect(await ready.text()).toBe('ready\n');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status).toBe(200);
    for (const p of [port, metricsPort]) {
      const res = await fetch(`http://127.0.0.1:${p}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const body = await res.text();
      // The emulator lists 1 active and 1 terminated session on prod.
      expect(body).toMatch(/^vpn_conns_connections\{endpoint="prod",status="active"\} 1$/m);
      expect(body).toMatch(/^vpn_conns_connections\{endpoint="prod",status="terminated"\} 1$/m);
      const polled = body.match(
        /^vpn_conns_last_poll_success_timestamp_seconds\{endpoint="prod"\} (\d+(?:\.\d+)?)$/m,
      );
      expect(Number(polled?.[1])).toBeGreaterThan(Date.now() / 1000 - 60);
      // The command of the test before, counted by its first word and outcome.
      expect(body).toMatch(/^vpn_conns_commands_total\{command="list",outcome="ok"\} [1-9]/m);
      expect(body).toMatch(
        /^vpn_conns_aws_calls_total\{operation="DescribeClientVpnConnections",error="none"\} [1-9]/m,
      );
      expect(body).not.toContain('alice');
    }
  });

  it('runs the digest scheduler: the ended session reaches the channel once', async () => {
    const digest = await slack.waitFor(
      () =>
        slack.messages.find(
          (m) => m.channel === CHANNEL && JSON.stringify(m.blocks).includes('bob'),
        ),
      15_000,
    );
    expect(digest.text).toContain(': 1 session, 1 user');
    // Later ticks find nothing new: no second digest with bob.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(slack.messages.filter((m) => JSON.stringify(m.blocks).includes('bob'))).toHaveLength(1);
  });

  it('stops cleanly on SIGTERM', async () => {
    bot.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.join('')).toContain('SIGTERM: shutting down');
    expect(output.join('')).not.toContain(TOKEN);
  });
});
