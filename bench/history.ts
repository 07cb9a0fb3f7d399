/**
 * The session history (issue 11), through `openStore` as the bot opens it:
 *
 * a) one collector poll of 10,000 open sessions, new, then the same 10,000 again (counters grown);
 * b) 90 days of history for 2,000 people (about half a million sessions, 2 endpoints, about 2,000
 *    concurrent), written in polls of 10,000; the store's size per day of history (SQLite);
 * c) `report 30d` over it (store read + summary), `history user NAME since=90d`, and the chart.
 *
 * SQLite always; (a) also on Postgres (`TEST_DATABASE_URL`, else a throwaway cluster, else skipped).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DEFAULT_PRICING } from '../src/reports/usage.js';
import { runHistoryQuery, runReportQuery } from '../src/services/history.js';
import { openStore } from '../src/store/index.js';
import type { ObservedSession, StateStore } from '../src/store/types.js';
import type { EndpointCatalogue } from '../src/vpn/catalogue.js';
import type { Endpoint } from '../src/vpn/endpoint.js';
import { postgresUrl } from './lib/postgres.js';
import { type BenchOutcome, ms, printTable, printTargets, writeResults } from './lib/report.js';

const NAME = 'history';
const POLL = 10_000;
const PEOPLE = 2_000;
const DAYS = 90;
const SESSIONS_PER_PERSON = 250;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = new Date('2026-12-01T12:00:00Z');
const START = NOW.getTime() - DAYS * DAY;
const ENDPOINTS: Endpoint[] = [
  { alias: 'prod', id: 'cvpn-endpoint-0000000000000000a', region: 'us-east-1' },
  { alias: 'dev', id: 'cvpn-endpoint-0000000000000000b', region: 'us-east-1' },
];
const catalogue: EndpointCatalogue = {
  list: () => Promise.resolve(ENDPOINTS),
  described: () => Promise.resolve(ENDPOINTS),
};

function session(
  endpointId: string,
  id: string,
  user: string,
  start: number,
  end: number | null,
  bytes: number,
): ObservedSession {
  return {
    endpointId,
    connectionId: id,
    username: user,
    commonName: `${user}.vpn.example.com`,
    clientIp: '10.1.2.3',
    clientIpv6: null,
    status: end === null ? 'active' : 'terminated',
    postureCompliance: [],
    startedAt: new Date(start),
    endedAt: end === null ? null : new Date(end),
    ingressBytes: bytes,
    egressBytes: bytes >> 1,
    ingressPackets: bytes >> 10,
    egressPackets: bytes >> 11,
  };
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

/** (a): one poll of 10,000 open sessions, new then known. */
async function pollOf10k(store: StateStore): Promise<{ fresh: number; known: number }> {
  const endpoint = ENDPOINTS[0]?.id ?? '';
  const open = (bytes: number) =>
    Array.from({ length: POLL }, (_, i) =>
      session(endpoint, `cvpn-connection-p${i}`, `user${i % PEOPLE}`, START, null, bytes),
    );
  const at = new Date(START + HOUR);
  const [first, fresh] = await timed(() =>
    store.recordHistory({ endpointId: endpoint, at, sessions: open(1_000), active: POLL }),
  );
  if (first.added !== POLL) throw new Error(`added ${first.added}`);
  const next = new Date(at.getTime() + 60_000);
  const [, known] = await timed(() =>
    store.recordHistory({ endpointId: endpoint, at: next, sessions: open(2_000), active: POLL }),
  );
  return { fresh, known };
}

/** (b): 90 days of ended sessions, `SESSIONS_PER_PERSON` each, back to back with gaps. */
async function seedNinetyDays(store: StateStore): Promise<number> {
  const slot = (DAYS * DAY) / SESSIONS_PER_PERSON;
  let batch: ObservedSession[] = [];
  let total = 0;
  let polls = 0;
  const flush = async () => {
    const endpoint = ENDPOINTS[polls % 2]?.id ?? '';
    polls += 1;
    await store.recordHistory({
      endpointId: endpoint,
      at: new Date(START + polls * 60_000),
      sessions: batch,
      active: 0,
    });
    total += batch.length;
    batch = [];
  };
  for (let k = 0; k < SESSIONS_PER_PERSON; k += 1) {
    for (let p = 0; p < PEOPLE; p += 1) {
      const start = START + k * slot + ((p * 7_919) % Math.floor(slot / 3));
      const end = start + Math.floor(slot * 0.9);
      const endpoint = ENDPOINTS[polls % 2]?.id ?? '';
      batch.push(session(endpoint, `cvpn-connection-${k}-${p}`, `user${p}`, start, end, 5e6));
      if (batch.length === POLL) await flush();
    }
  }
  if (batch.length > 0) await flush();
  return total;
}

/** `npm run bench -- history`. Over 60 lines: one measurement after another, then the targets. */
export async function runHistoryBench(): Promise<BenchOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'vpn-conns-bench-history-'));
  const rows: string[][] = [];
  const figures: Record<string, number> = {};
  const postgres = await postgresUrl();
  try {
    const pollStore = await openStore(`sqlite:${join(dir, 'poll.db')}`, { now: () => NOW });
    const sqlitePoll = await pollOf10k(pollStore).finally(() => pollStore.close());
    rows.push(['sqlite: poll of 10,000 new', ms(sqlitePoll.fresh)]);
    rows.push(['sqlite: poll of 10,000 known (counters grown)', ms(sqlitePoll.known)]);
    figures.sqlitePoll = Math.max(sqlitePoll.fresh, sqlitePoll.known);
    if (postgres) {
      const schema = `bench_${randomBytes(6).toString('hex')}`;
      const store = await openStore(postgres.url, { schema, now: () => NOW });
      const pgPoll = await pollOf10k(store).finally(() => store.close());
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      await client.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
      await client.end();
      rows.push(['postgres: poll of 10,000 new', ms(pgPoll.fresh)]);
      rows.push(['postgres: poll of 10,000 known (counters grown)', ms(pgPoll.known)]);
      figures.postgresPoll = Math.max(pgPoll.fresh, pgPoll.known);
    }

    const file = join(dir, 'ninety.db');
    const store = await openStore(`sqlite:${file}`, { now: () => NOW });
    try {
      const [total, seedMs] = await timed(() => seedNinetyDays(store));
      rows.push([`sqlite: write ${total.toLocaleString('en-US')} sessions (90 days)`, ms(seedMs)]);
      const bytes = ['', '-wal'].reduce((sum, s) => {
        try {
          return sum + statSync(`${file}${s}`).size;
        } catch {
          return sum;
        }
      }, 0);
      figures.mbPerDay = bytes / DAYS / 1e6;
      rows.push(['sqlite: store size per day of history', `${figures.mbPerDay.toFixed(2)} MB`]);
      const deps = {
        store,
        catalogue,
        region: 'us-east-1',
        timeZone: 'UTC',
        now: () => NOW,
        pricing: DEFAULT_PRICING,
      };
      const [answer, reportMs] = await timed(() =>
        runReportQuery({ kind: 'report', period: '30d', endpoints: { kind: 'all' } }, deps),
      );
      figures.report = reportMs;
      rows.push([
        `sqlite: report 30d (${answer.report.totals.sessions.toLocaleString('en-US')} sessions)`,
        ms(reportMs),
      ]);
      const query = {
        kind: 'history' as const,
        who: { kind: 'name' as const, name: 'user42' },
        endpoints: { kind: 'all' as const },
        since: '90d',
        at: null,
      };
      const [found, historyMs] = await timed(() => runHistoryQuery(query, '', deps));
      figures.history = historyMs;
      rows.push([
        `sqlite: history user NAME since=90d (${found.connections.length} sessions)`,
        ms(historyMs),
      ]);
      const { renderUsageChart } = await import('../src/reports/chart.js');
      const [, chartMs] = await timed(() => renderUsageChart(answer.report));
      figures.chart = chartMs;
      rows.push(['chart: render the 30d report as PNG', ms(chartMs)]);
    } finally {
      await store.close();
    }
  } finally {
    postgres?.cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable('Session history (one run; wall clock)', ['step', 'time'], rows);
  const targets = [
    {
      name: 'sqlite: one poll of 10,000 sessions',
      passed: (figures.sqlitePoll ?? Infinity) < 500,
      detail: `${ms(figures.sqlitePoll ?? Number.NaN)} < 500 ms`,
    },
    ...(figures.postgresPoll === undefined
      ? []
      : [
          {
            name: 'postgres: one poll of 10,000 sessions',
            passed: figures.postgresPoll < 500,
            detail: `${ms(figures.postgresPoll)} < 500 ms`,
          },
        ]),
    {
      name: 'sqlite: report 30d over 90 days of 2,000 concurrent',
      passed: (figures.report ?? Infinity) < 1_000,
      detail: `${ms(figures.report ?? Number.NaN)} < 1,000 ms`,
    },
    {
      name: 'sqlite: history user NAME since=90d',
      passed: (figures.history ?? Infinity) < 200,
      detail: `${ms(figures.history ?? Number.NaN)} < 200 ms`,
    },
  ];
  printTargets(targets);
  const resultsFile = await writeResults(NAME, { figures, rows });
  return { name: NAME, targets, resultsFile };
}
