/**
 * Maintenance keeps the store to its promised retention on every role: through the job with the
 * real store and an injected clock, and through the composition root (`src/main.ts` as a child
 * process) on a `web`-role instance with no digest, over a pre-seeded SQLite file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AUDIT_RETENTION_MS,
  createMaintenanceJob,
  SESSION_RETENTION_MS,
} from '../../src/jobs/maintenance.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/logger.js';
import { startEc2Emulator } from '../../src/sandbox/ec2-emulator.js';
import { freePort } from '../../src/sandbox/free-port.js';
import { startSlackStandIn } from '../../src/sandbox/slack-stand-in.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { openStore } from '../../src/store/index.js';
import type { AuditEntry, EndedSession, StateStore } from '../../src/store/types.js';

const DAY_MS = 24 * 60 * 60_000;
const ENDPOINT = endpointId(0);

function auditEntry(at: Date, detail: string): AuditEntry {
  return {
    at,
    teamId: 'T0TEAM',
    userId: 'U0ALICE',
    channelId: 'C0CHAN',
    action: 'command',
    detail,
    endpoints: [ENDPOINT],
    outcome: 'ok',
    requestIds: [],
  };
}

function endedSession(n: number, endedAt: Date): EndedSession {
  return {
    endpointId: ENDPOINT,
    connectionId: connectionId(n),
    username: `user${n}`,
    commonName: `user${n}`,
    clientIp: '10.0.0.1',
    clientIpv6: null,
    status: 'terminated',
    establishedAt: new Date(endedAt.getTime() - 60_000),
    endedAt,
    ingressBytes: 1,
    egressBytes: 2,
  };
}

/** Audit rows 91 and 89 days old, sessions 8 and 6 days old, as of `now`. */
async function seed(store: StateStore, now: Date): Promise<void> {
  const ago = (ms: number) => new Date(now.getTime() - ms);
  await store.appendAudit(auditEntry(ago(AUDIT_RETENTION_MS + DAY_MS), 'older than 90 days'));
  await store.appendAudit(auditEntry(ago(AUDIT_RETENTION_MS - DAY_MS), 'within 90 days'));
  await store.recordSessions([
    endedSession(1, ago(SESSION_RETENTION_MS + DAY_MS)),
    endedSession(2, ago(SESSION_RETENTION_MS - DAY_MS)),
  ]);
}

/** What is left: audit details and session ids. */
async function remaining(store: StateStore): Promise<{ audit: string[]; sessions: string[] }> {
  const audit = (await store.recentAudit(100)).map((e) => e.detail);
  const sessions = (
    await store.pendingSessions('any-digest', [ENDPOINT], new Date(8.64e15), new Date(0))
  ).map((s) => s.connectionId);
  return { audit, sessions };
}

let dir: string | undefined;
let bot: ChildProcess | undefined;
afterEach(async () => {
  if (bot && bot.exitCode === null) bot.kill('SIGKILL');
  bot = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the maintenance job', () => {
  it('prunes audit rows after 90 days and digest state after 7, as of its clock, and leads nothing', async () => {
    const now = new Date('2026-11-27T09:00:00Z');
    const store = await openStore('sqlite::memory:', { now: () => now });
    try {
      await seed(store, now);
      const job = createMaintenanceJob({ store, logger: createLogger('error', () => {}) });
      expect(job.leaderOnly).toBe(false);

      // No leadership at all: maintenance must run on instances that never lead.
      expect(await runJob(job, now, undefined)).toEqual({ kind: 'pruned', removed: 2 });
      expect(await remaining(store)).toEqual({
        audit: ['within 90 days'],
        sessions: [connectionId(2)],
      });
      // Two days later the rest is past retention too.
      expect(await runJob(job, new Date(now.getTime() + 2 * DAY_MS), undefined)).toEqual({
        kind: 'pruned',
        removed: 2,
      });
      expect(await remaining(store)).toEqual({ audit: [], sessions: [] });
    } finally {
      await store.close();
    }
  });
});

describe('the maintenance job and the session history', () => {
  it('prunes history older than HISTORY_DAYS (default 90) and keeps the rest', async () => {
    const now = new Date('2026-11-27T09:00:00Z');
    const store = await openStore('sqlite::memory:', { now: () => now });
    const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
    const ended = (id: string, days: number) => ({
      endpointId: ENDPOINT,
      connectionId: id,
      username: 'alice',
      commonName: null,
      clientIp: null,
      clientIpv6: null,
      status: 'terminated' as const,
      postureCompliance: [],
      startedAt: ago(days + 1),
      endedAt: ago(days),
      ingressBytes: 1,
      egressBytes: 1,
      ingressPackets: 1,
      egressPackets: 1,
    });
    try {
      for (const days of [91, 89, 29]) {
        await store.recordHistory({
          endpointId: ENDPOINT,
          at: ago(days),
          sessions: [ended(`c-${days}`, days)],
          active: 0,
        });
      }
      const quiet = createLogger('error', () => {});
      const kept = async () => {
        const ids: string[] = [];
        for await (const s of store.historySessions({
          endpointIds: 'all',
          from: ago(365),
          to: now,
        })) {
          ids.push(s.connectionId);
        }
        return ids;
      };
      // One session and one sample are past 90 days.
      const job = createMaintenanceJob({ store, logger: quiet });
      expect(await runJob(job, now, undefined)).toEqual({ kind: 'pruned', removed: 2 });
      expect(await kept()).toEqual(['c-89', 'c-29']);
      expect(await store.historyStartsAt()).toEqual(ago(89));
      const shorter = createMaintenanceJob({ store, logger: quiet, historyDays: 30 });
      expect(await runJob(shorter, now, undefined)).toEqual({ kind: 'pruned', removed: 2 });
      expect(await kept()).toEqual(['c-29']);
    } finally {
      await store.close();
    }
  });
});

describe('npm start with VPN_CONNS_ROLE=web and no digest', () => {
  it('prunes audit rows older than 90 days from the store it opens', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vpn-conns-maintenance-'));
    const databaseUrl = `sqlite:${join(dir, 'state.db')}`;
    const seeded = await openStore(databaseUrl);
    await seed(seeded, new Date());
    await seeded.close();

    const emulator = await startEc2Emulator();
    const slack = await startSlackStandIn({ botToken: 'xoxb-maintenance' });
    const output: string[] = [];
    try {
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
          VPN_ENDPOINTS: `prod=${ENDPOINT}`,
          SLACK_BOT_TOKEN: 'xoxb-maintenance',
          SLACK_SIGNING_SECRET: 'maintenance-signing-secret',
          SLACK_API_URL: slack.url,
          PORT: String(await freePort()),
          DATABASE_URL: databaseUrl,
          VPN_CONNS_ROLE: 'web',
          LOG_LEVEL: 'debug',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const child = bot;
      bot.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      bot.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      // The scheduler logs each finished run; maintenance runs once at start-up.
      await slack.waitFor(() => output.join('').includes('job maintenance at'), 20_000);
      const log = output.join('');
      expect(log).toContain('maintenance: pruned 2 old rows');
      // A web instance runs no collector and no digest, and never takes the lead.
      expect(log).not.toContain('job collector');
      expect(log).not.toContain('now collects and posts');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await slack.close();
      await emulator.close();
    }

    const store = await openStore(databaseUrl);
    try {
      expect(await remaining(store)).toEqual({
        audit: ['within 90 days'],
        sessions: [connectionId(2)],
      });
    } finally {
      await store.close();
    }
  }, 30_000);
});
