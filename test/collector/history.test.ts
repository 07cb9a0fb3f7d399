/**
 * The collector keeps the session history (issue 11) whenever it runs, with or without a digest:
 * the real background jobs over the EC2 emulator and a SQLite file, stepped by an injected clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createAwsGateway } from '../../src/aws/gateway.js';
import type { Role } from '../../src/config.js';
import { type Background, createBackground } from '../../src/jobs/background.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/logger.js';
import {
  type Ec2Emulator,
  type EmulatedConnection,
  startEc2Emulator,
} from '../../src/sandbox/ec2-emulator.js';
import { connectionId } from '../../src/sandbox/vpn-data.js';
import { openStore } from '../../src/store/index.js';
import type { HistorySession, StateStore } from '../../src/store/types.js';
import { createEndpointCatalogue } from '../../src/vpn/catalogue.js';
import { createManualClock, DEV, endedConnection, PROD } from '../support/digest-harness.js';

const at = (hhmm: string) => new Date(`2026-11-27T${hhmm}:00Z`);
const clock = createManualClock(at('10:00'));
const dir = mkdtempSync(join(tmpdir(), 'vpn-conns-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let emulator: Ec2Emulator | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await emulator?.close();
  emulator = undefined;
});

/** What AWS lists now: the emulator reset to exactly these connections. */
function awsLists(connections: EmulatedConnection[]): void {
  if (!emulator) throw new Error('no emulator');
  emulator.clear();
  emulator.addEndpoints([
    { id: PROD.id, name: 'prod' },
    { id: DEV.id, name: 'dev' },
  ]);
  emulator.addConnections(connections);
}

/** An active connection numbered `n`, up since `since`, with `bytes` in. */
function activeConnection(n: number, since: Date, bytes = 1000, endpointId = PROD.id) {
  return endedConnection(n, since, {
    status: 'active',
    endedAt: null,
    establishedAt: since,
    ingressBytes: bytes,
    endpointId,
  });
}

const refuse = () => Promise.reject(new Error('no digest is configured'));

/** One process: a store on `file`, the real background for `role` with no digest. */
async function startProcess(file: string, role: Role = 'all') {
  const logger = createLogger('error', () => {}, clock.now);
  const gateway = createAwsGateway({
    region: 'us-east-1',
    logger,
    maxAttempts: 1,
    requestTimeoutMs: 5000,
    clientConfig: {
      endpoint: emulator?.url ?? '',
      credentials: { accessKeyId: 'AKIDHISTORY', secretAccessKey: 'history-secret' },
      retryStrategy: new ConfiguredRetryStrategy(1, () => 0),
    },
  });
  const store = await openStore(`sqlite:${file}`, { now: clock.now });
  const background: Background = createBackground({
    role,
    digests: [],
    pollSeconds: 300,
    historyPollSeconds: 60,
    store,
    gateway,
    catalogue: createEndpointCatalogue({
      gateway,
      configured: [PROD, DEV],
      region: 'us-east-1',
      logger,
    }),
    // No digest is configured: nothing may post.
    poster: { post: refuse, findPosted: refuse, complete: refuse },
    logger,
    now: clock.now,
    holder: `holder-${Math.random()}`,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // A process that "crashed" closed its store already.
    await background.leadership.release().catch(() => undefined);
    await store.close().catch(() => undefined);
    gateway.destroy();
  };
  cleanups.push(close);
  const poll = async (when: Date) => {
    clock.set(when);
    return runJob(background.collectorJob, when, background.leadership);
  };
  return { store, background, poll, close };
}

async function history(store: StateStore, from = at('00:00'), to = at('23:59')) {
  const sessions: HistorySession[] = [];
  for await (const s of store.historySessions({ endpointIds: 'all', from, to })) sessions.push(s);
  return sessions;
}

describe('the collector and the session history', () => {
  it('runs on all and worker with no digest configured, never on web, every HISTORY_POLL_SECONDS', async () => {
    emulator = await startEc2Emulator({ now: clock.now });
    awsLists([]);
    const file = join(dir, 'roles.db');
    for (const role of ['all', 'worker'] as const) {
      const { background, close } = await startProcess(file, role);
      const collector = background.jobs.find((job) => job.name === 'collector');
      expect(collector?.schedule).toEqual({ everyMs: 60_000 });
      await close();
    }
    const web = await startProcess(file, 'web');
    expect(web.background.jobs.map((job) => job.name)).toEqual(['maintenance']);
  });

  it('records every session, active and ended, follows counters, and samples each endpoint per poll', async () => {
    emulator = await startEc2Emulator({ now: clock.now });
    const { store, poll } = await startProcess(join(dir, 'record.db'));
    awsLists([
      activeConnection(1, at('09:30'), 1000),
      endedConnection(2, at('09:50')),
      activeConnection(3, at('09:45'), 10, DEV.id),
    ]);
    expect(await poll(at('10:00'))).toMatchObject({
      kind: 'collected',
      polls: [
        { active: 1, historyAdded: 2, historyClosed: 0 },
        { active: 1, historyAdded: 1, historyClosed: 0 },
      ],
    });
    awsLists([
      activeConnection(1, at('09:30'), 5000),
      endedConnection(2, at('09:50')),
      activeConnection(3, at('09:45'), 10, DEV.id),
    ]);
    await poll(at('10:01'));
    const rows = await history(store);
    expect(
      rows.map((r) => [r.connectionId, r.status, r.startedAt, r.endedAt, r.ingressBytes]),
    ).toEqual([
      [connectionId(2), 'terminated', at('09:20'), at('09:50'), 2000],
      [connectionId(1), 'active', at('09:30'), null, 5000],
      [connectionId(3), 'active', at('09:45'), null, 10],
    ]);
    expect(rows.find((r) => r.connectionId === connectionId(1))).toMatchObject({
      firstSeenAt: at('10:00'),
      lastSeenAt: at('10:01'),
    });
    expect(await store.historyStartsAt()).toEqual(at('10:00'));
    expect(await store.concurrencySamples('all', at('10:00'), at('10:02'))).toEqual(
      [
        { endpointId: PROD.id, at: at('10:00'), active: 1 },
        { endpointId: DEV.id, at: at('10:00'), active: 1 },
        { endpointId: PROD.id, at: at('10:01'), active: 1 },
        { endpointId: DEV.id, at: at('10:01'), active: 1 },
      ].sort((a, b) => a.at.getTime() - b.at.getTime() || a.endpointId.localeCompare(b.endpointId)),
    );
  });

  it('continues sessions after a restart and a 90-minute outage, closing what AWS forgot meanwhile', async () => {
    emulator = await startEc2Emulator({ now: clock.now });
    const file = join(dir, 'restart.db');
    const first = await startProcess(file);
    awsLists([activeConnection(1, at('09:30')), activeConnection(2, at('09:40'))]);
    await first.poll(at('10:00'));
    // The process dies without giving up its lead; the lease lapses (2 × 60 s).
    await first.store.close();

    // 90 minutes later: session 1 ended at 10:20 (AWS forgot it at 11:20), session 2 is still up,
    // session 3 ended at 11:00 and is still listed.
    const second = await startProcess(file);
    awsLists([
      activeConnection(2, at('09:40'), 9000),
      endedConnection(3, at('11:00'), { establishedAt: at('10:30') }),
    ]);
    const result = await second.poll(at('11:30'));
    expect(result).toMatchObject({ polls: [{ historyAdded: 1, historyClosed: 1 }, {}] });
    const rows = await history(second.store);
    expect(rows.map((r) => [r.connectionId, r.status, r.endedAt, r.firstSeenAt])).toEqual([
      // Its true end is unknown: the last poll that saw it stands in.
      [connectionId(1), 'terminated', at('10:00'), at('10:00')],
      [connectionId(2), 'active', null, at('10:00')],
      [connectionId(3), 'terminated', at('11:00'), at('11:30')],
    ]);
    expect(rows.find((r) => r.connectionId === connectionId(2))?.ingressBytes).toBe(9000);
  });
});
