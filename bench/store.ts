/**
 * The state store on SQLite and Postgres, through `openStore` as the bot opens it:
 *
 * a) recording 10,000 ended sessions in one call (a collector poll of a large fleet), then the
 *    same 10,000 again (the next poll sees them again: all known, none changed);
 * b) one poll of 100 sessions, 50 times (the usual size);
 * c) a digest of 5,000: reading the pending sessions, marking them reported, counting the rest;
 * d) pruning the 10,000.
 *
 * Each run uses a fresh database (a SQLite file, a Postgres schema); medians over RUNS runs.
 * Postgres is `TEST_DATABASE_URL`, else a throwaway cluster from the installed server binaries,
 * else skipped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openStore } from '../src/store/index.js';
import type { EndedSession, StateStore } from '../src/store/types.js';
import { postgresUrl } from './lib/postgres.js';
import {
  type BenchOutcome,
  ms,
  printTable,
  printTargets,
  type TargetResult,
  writeResults,
} from './lib/report.js';
import { median } from './lib/stats.js';

const NAME = 'store';
const RUNS = 5;
const SESSIONS = 10_000;
const DIGEST = 5_000;
const POLL = 100;
const POLLS = 50;
const T0 = Date.parse('2026-01-05T10:00:00.000Z');
const MINUTE = 60_000;

const STEPS = [
  'record 10,000 new',
  'record 10,000 known',
  'record 100 (median of 50 polls)',
  'pending 5,000',
  'mark 5,000 reported',
  'count pending',
  'prune 10,000',
] as const;
type Step = (typeof STEPS)[number];

/** `count` sessions of one endpoint, ending one every 360 ms from T0 (10,000 span one hour). */
function endedSessions(endpointId: string, count: number, prefix: string): EndedSession[] {
  return Array.from({ length: count }, (_, i) => {
    const endedAt = new Date(T0 + i * 360);
    return {
      endpointId,
      connectionId: `cvpn-connection-${prefix}${String(i).padStart(6, '0')}`,
      username: `user${i % 500}`,
      commonName: `user${i % 500}.vpn.example.com`,
      clientIp: `10.0.${Math.floor(i / 250)}.${i % 250}`,
      clientIpv6: null,
      status: i % 97 === 0 ? 'failed-to-terminate' : 'terminated',
      establishedAt: new Date(endedAt.getTime() - 45 * MINUTE),
      endedAt,
      ingressBytes: 1_000_000 + i,
      egressBytes: 5_000_000_000 + i,
    };
  });
}

/** Wall-clock and this process's CPU milliseconds of a step. */
interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, Sample]> {
  const [wall, cpu] = [performance.now(), cpuMs()];
  const result = await work();
  return [result, { wall: performance.now() - wall, cpu: cpuMs() - cpu }];
}

/** One run on a fresh store: every step's times. */
async function runOnce(store: StateStore): Promise<Record<Step, Sample>> {
  const endpoint = 'cvpn-endpoint-0123456789abcdef0';
  const sessions = endedSessions(endpoint, SESSIONS, 'a');
  const [added, recordNew] = await timed(() => store.recordSessions(sessions));
  if (added !== SESSIONS) throw new Error(`recorded ${added} of ${SESSIONS}`);
  const [, recordKnown] = await timed(() => store.recordSessions(sessions));
  const pollTimes: Sample[] = [];
  for (let poll = 0; poll < POLLS; poll += 1) {
    const batch = endedSessions(`cvpn-endpoint-poll${poll}`, POLL, `p${poll}-`);
    pollTimes.push((await timed(() => store.recordSessions(batch)))[1]);
  }
  const tick = new Date(T0 + DIGEST * 360);
  const horizon = new Date(T0 - 24 * 60 * MINUTE);
  const [pending, pendingMs] = await timed(() =>
    store.pendingSessions('bench-digest', [endpoint], tick, horizon),
  );
  if (pending.length !== DIGEST) throw new Error(`${pending.length} pending, not ${DIGEST}`);
  const keys = pending.map((s) => ({ endpointId: s.endpointId, connectionId: s.connectionId }));
  const post = {
    digestId: 'bench-digest',
    tickAt: tick,
    postedAt: tick,
    channel: 'C0123456789',
    ts: '1767607200.000100',
    sessionCount: DIGEST,
  };
  const [marked, markMs] = await timed(() => store.markReported(post, keys, []));
  if (marked !== DIGEST) throw new Error(`marked ${marked} of ${DIGEST}`);
  const [left, countMs] = await timed(() =>
    store.countPending('bench-digest', [endpoint], horizon),
  );
  if (left !== SESSIONS - DIGEST) throw new Error(`${left} left pending`);
  const [, pruneMs] = await timed(() => store.prune(new Date(T0 + 2 * 60 * MINUTE), new Date(0)));
  return {
    'record 10,000 new': recordNew,
    'record 10,000 known': recordKnown,
    'record 100 (median of 50 polls)': {
      wall: median(pollTimes.map((t) => t.wall)),
      cpu: median(pollTimes.map((t) => t.cpu)),
    },
    'pending 5,000': pendingMs,
    'mark 5,000 reported': markMs,
    'count pending': countMs,
    'prune 10,000': pruneMs,
  };
}

interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** A store on a fresh database, and how to throw that database away. */
  open(): Promise<{ store: StateStore; drop: () => Promise<void> }>;
}

function sqliteBackend(dir: string): Backend {
  let n = 0;
  return {
    name: 'sqlite',
    async open() {
      n += 1;
      const file = join(dir, `bench-${n}.db`);
      return { store: await openStore(`sqlite:${file}`), drop: async () => {} };
    },
  };
}

function postgresBackend(url: string): Backend {
  return {
    name: 'postgres',
    async open() {
      const schema = `bench_${randomBytes(6).toString('hex')}`;
      const store = await openStore(url, { schema });
      const drop = async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
        await client.end();
      };
      return { store, drop };
    },
  };
}

async function measure(backend: Backend): Promise<Record<Step, Sample[]>> {
  const samples = Object.fromEntries(STEPS.map((s) => [s, [] as Sample[]])) as Record<
    Step,
    Sample[]
  >;
  for (let run = 0; run < RUNS; run += 1) {
    const { store, drop } = await backend.open();
    try {
      const times = await runOnce(store);
      for (const step of STEPS) samples[step].push(times[step]);
    } finally {
      await store.close();
      await drop();
    }
  }
  return samples;
}

/** `npm run bench -- store`. */
export async function runStoreBench(): Promise<BenchOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'vpn-conns-bench-store-'));
  const postgres = await postgresUrl();
  const backends = [sqliteBackend(dir), ...(postgres ? [postgresBackend(postgres.url)] : [])];
  const results: Record<string, Record<Step, Sample[]>> = {};
  try {
    for (const backend of backends) results[backend.name] = await measure(backend);
  } finally {
    postgres?.cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const names = backends.map((b) => b.name);
  const medianOf = (n: string, step: Step, pick: keyof Sample): number =>
    median((results[n]?.[step] ?? []).map((sample) => sample[pick]));
  printTable(
    `State store: medians of ${RUNS} runs on fresh databases${postgres ? '' : ' (Postgres skipped: no server)'}; ` +
      "wall clock, and this process's CPU (all of SQLite's work; Postgres: the client's share)",
    ['step', ...names.flatMap((n) => [`${n} wall`, `${n} cpu`])],
    STEPS.map((step) => [
      step,
      ...names.flatMap((n) => [ms(medianOf(n, step, 'wall')), ms(medianOf(n, step, 'cpu'))]),
    ]),
  );
  // Loose ceilings, several times what a loaded 2-CPU machine does: they catch a regression to
  // one statement per session (seconds), not noise.
  const targets: TargetResult[] = names.flatMap((n) => {
    const record = medianOf(n, 'record 10,000 new', 'wall');
    const mark = medianOf(n, 'mark 5,000 reported', 'wall');
    return [
      {
        name: `${n}: record 10,000 ended sessions`,
        passed: record <= 1_000,
        detail: `${ms(record)} ≤ 1,000 ms`,
      },
      {
        name: `${n}: mark a digest of 5,000 reported`,
        passed: mark <= 500,
        detail: `${ms(mark)} ≤ 500 ms`,
      },
    ];
  });
  printTargets(targets);
  const resultsFile = await writeResults(NAME, { runs: RUNS, samples: results });
  return { name: NAME, targets, resultsFile };
}
