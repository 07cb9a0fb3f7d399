/**
 * What a person sees when the bot cannot start: `src/main.ts` as a child process, as `npm start`
 * runs it, with missing and bad settings, an unreachable Postgres and an unreachable Slack. Every
 * line it writes is a JSON log line; each problem names the setting to fix.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/sandbox/free-port.js';
import { type SlackStandIn, startSlackStandIn } from '../src/sandbox/slack-stand-in.js';

interface Start {
  code: number;
  lines: Record<string, unknown>[];
  stderr: string;
}

let dir: string;
let slack: SlackStandIn;
/** A loopback port nothing listens on. */
let closedPort: number;

beforeAll(async () => {
  closedPort = await freePort();
  dir = await mkdtemp(join(tmpdir(), 'vpn-conns-startup-'));
  slack = await startSlackStandIn({ botToken: 'xoxb-startup-test' });
});
afterAll(async () => {
  await slack.close();
  await rm(dir, { recursive: true, force: true });
});

/** Starts the bot with exactly `env` (plus PATH) and waits for it to exit. */
function start(env: Record<string, string>, nodeArgs: string[] = []): Promise<Start> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', 'src/main.ts'],
      { env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        expect(stdout).toBe('');
        const lines = stderr
          .trimEnd()
          .split('\n')
          .map((line) => {
            try {
              return JSON.parse(line) as Record<string, unknown>;
            } catch {
              throw new Error(`not a JSON log line: ${line}`);
            }
          });
        resolve({ code, lines, stderr });
      },
    );
  });
}

const AWS = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};

const messages = (s: Start) => s.lines.map((l) => String(l.msg));

describe('starting the bot with bad settings', () => {
  it('with nothing set, names every missing setting in one run', async () => {
    const s = await start({});
    expect(s.code).toBe(1);
    expect(s.lines.map((l) => l.setting)).toEqual(['AWS_REGION', 'SLACK_BOT_TOKEN', undefined]);
    expect(messages(s)[1]).toContain('SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN');
    expect(messages(s)[2]).toBe('vpn-conns cannot start: 2 problems, listed above');
    for (const line of s.lines) expect(line.level).toBe('error');
  });

  it('reports a bad DATABASE_URL, a bad cron and other bad values together, in one format', async () => {
    const s = await start({
      ...AWS,
      AWS_REGION: 'Europe',
      DATABASE_URL: 'mysql://root:hunter2@db:3306/vpn',
      DIGEST_CRON: '61 * * * *',
      LOG_LEVEL: 'loud',
      SLACK_BOT_TOKEN: 'xoxb-startup-test',
    });
    expect(s.code).toBe(1);
    expect(s.lines.map((l) => l.setting)).toEqual([
      'AWS_REGION',
      'LOG_LEVEL',
      'DATABASE_URL',
      'DIGEST_CRON',
      'SLACK_SIGNING_SECRET',
      undefined,
    ]);
    expect(messages(s)[2]).toContain('unsupported scheme mysql:');
    expect(messages(s)[3]).toContain('is not a cron expression');
    expect(s.stderr).not.toContain('hunter2');
  });
});

describe('starting the bot when a service is unreachable', () => {
  const bot = {
    ...AWS,
    SLACK_BOT_TOKEN: 'xoxb-startup-test',
    SLACK_SIGNING_SECRET: 'startup-signing-secret',
    PORT: '0',
  };

  it('names DATABASE_URL, the host and port, with the password masked, when Postgres refuses', async () => {
    const s = await start({ ...bot, DATABASE_URL: 'postgres://vpn:s3cret-pw@127.0.0.1:1/vpn' });
    expect(s.code).toBe(1);
    const [problem] = s.lines.filter((l) => l.setting === 'DATABASE_URL');
    expect(problem?.msg).toBe(
      'DATABASE_URL: nothing accepts connections at 127.0.0.1:1: check the host and port, and that Postgres runs and listens there (DATABASE_URL=postgres://vpn:****@127.0.0.1:1/vpn, ECONNREFUSED)',
    );
    expect(s.stderr).not.toContain('s3cret-pw');
  });

  it('names the Slack call and SLACK_API_URL once when Slack cannot be reached', async () => {
    const started = Date.now();
    const s = await start({
      ...bot,
      DATABASE_URL: `sqlite:${join(dir, 'state.db')}`,
      SLACK_API_URL: `http://127.0.0.1:${closedPort}/api/`,
    });
    expect(s.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    const failures = s.lines.filter((l) => l.level === 'error');
    expect(failures.map((l) => l.msg)).toEqual([
      `Slack Web API auth.test at http://127.0.0.1:${closedPort}/api/auth.test could not be reached (ECONNREFUSED): check SLACK_API_URL=http://127.0.0.1:${closedPort}/api/`,
      'vpn-conns cannot start',
    ]);
    expect(failures[0]?.setting).toBe('SLACK_API_URL');
    expect(s.stderr).not.toContain('fetch failed');
  });

  it('names SLACK_BOT_TOKEN when Slack refuses it', async () => {
    const s = await start({
      ...bot,
      SLACK_BOT_TOKEN: 'xoxb-not-the-right-one',
      DATABASE_URL: `sqlite:${join(dir, 'state.db')}`,
      SLACK_API_URL: slack.url,
    });
    expect(s.code).toBe(1);
    expect(s.lines.find((l) => l.level === 'error')).toMatchObject({
      setting: 'SLACK_BOT_TOKEN',
      msg: expect.stringContaining('Slack refused it (auth.test: invalid_auth)'),
    });
    expect(s.stderr).not.toContain('xoxb-not-the-right-one');
  });

  it('writes process warnings as JSON log lines', async () => {
    // Emits a process warning on every fetch, as the AWS SDK does once on Node < 22.
    const warner = `data:text/javascript,${encodeURIComponent(`
      const original = globalThis.fetch;
      globalThis.fetch = (...args) => {
        process.emitWarning('NodeVersionSupportWarning: please upgrade');
        return original(...args);
      };
    `)}`;
    const s = await start(
      {
        ...bot,
        DATABASE_URL: 'sqlite::memory:',
        SLACK_API_URL: `http://127.0.0.1:${closedPort}/api/`,
      },
      ['--import', warner],
    );
    expect(s.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'process warning: NodeVersionSupportWarning: please upgrade',
      }),
    );
  });
});
