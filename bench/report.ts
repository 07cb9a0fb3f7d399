/**
 * The usage report's pure core at the issue's scale: 90 days of history for about 2,000
 * concurrent sessions (about half a million sessions on 3 endpoints, 5,000 people, 1–16 h each,
 * plus one concurrency sample per endpoint every 5 minutes).
 *
 * a) summarizeUsage for `30d` given all 90 days of sessions (the store will pass only the
 *    overlapping ones: this is the worst case), and for a 90-day period (every session inside);
 * b) the chart (Vega-Lite → SVG → PNG) of the 30-day report;
 * c) the Block Kit message and the everyone-CSV / JSON lines of the 30-day report.
 *
 * Medians of 5 runs after one warm-up. Targets: a) under 1 s each (issue 11: `report 30d`
 * answered in under 1 s including the store, so the core must leave most of that to the query);
 * b) under 1 s.
 */
import { performance } from 'node:perf_hooks';
import { renderUsageChart } from '../src/reports/chart.js';
import { parseReportPeriod } from '../src/reports/period.js';
import { reportCsv, reportJsonLines } from '../src/reports/rows.js';
import {
  type ConcurrencySample,
  type SessionRecord,
  summarizeUsage,
  type UsageReport,
} from '../src/reports/usage.js';
import { buildReportMessage } from '../src/slack/blocks/report.js';
import {
  type BenchOutcome,
  count,
  ms,
  printTable,
  printTargets,
  type TargetResult,
  writeResults,
} from './lib/report.js';
import { median } from './lib/stats.js';

const DAYS = 90;
const SESSIONS = 500_000;
const PEOPLE = 5_000;
const ENDPOINTS = ['prod', 'staging', 'lab'];
const HOUR = 3_600_000;
const NOW = new Date('2026-12-01T09:00:00Z');
const ZONE = 'Europe/Berlin';

/** A small deterministic generator (LCG), so every run summarizes the same history. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function history(): { sessions: SessionRecord[]; samples: ConcurrencySample[] } {
  const rnd = random(42);
  const from = NOW.getTime() - DAYS * 24 * HOUR;
  // Rows come from the store in start order, each allocated as it is read: build them the same
  // way (sorting objects after the fact scatters them in memory and doubles the summary's time).
  const starts = Float64Array.from({ length: SESSIONS }, () =>
    Math.floor(from + rnd() * DAYS * 24 * HOUR),
  ).sort();
  const authentication = ['federated-authentication'] as const;
  const sessions: SessionRecord[] = [];
  for (let i = 0; i < SESSIONS; i += 1) {
    const start = starts[i] as number;
    const end = start + Math.floor((1 + rnd() * 15) * HOUR);
    const person = Math.floor(rnd() * PEOPLE);
    sessions.push({
      endpoint: ENDPOINTS[Math.floor(rnd() * ENDPOINTS.length)] as string,
      connectionId: `cvpn-connection-${i.toString(16).padStart(17, '0')}`,
      username: `user${person}`,
      commonName: `user${person}.vpn.example.com`,
      authentication,
      start: new Date(start),
      end: end > NOW.getTime() ? null : new Date(end),
      ingressBytes: Math.floor(rnd() * 5e8),
      egressBytes: Math.floor(rnd() * 5e7),
    });
  }
  const samples: ConcurrencySample[] = [];
  for (let t = from; t < NOW.getTime(); t += 5 * 60_000) {
    for (const endpoint of ENDPOINTS) samples.push({ endpoint, at: new Date(t), active: 600 });
  }
  return { sessions, samples };
}

/** Wall-clock and CPU (user + system, this process) milliseconds of each run after a warm-up. */
async function timed<T>(
  runs: number,
  fn: () => T | Promise<T>,
): Promise<{ ms: number[]; cpu: number[]; last: T }> {
  let last = await fn();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const used = process.cpuUsage();
    const started = performance.now();
    last = await fn();
    times.push(performance.now() - started);
    const { user, system } = process.cpuUsage(used);
    cpu.push((user + system) / 1000);
  }
  return { ms: times, cpu, last };
}

/** Runs the benchmark and reports its figures. */
export async function runReport(): Promise<BenchOutcome> {
  console.log(
    `\n== report: ${count(SESSIONS)} sessions over ${DAYS} days, ${ENDPOINTS.length} endpoints, ${count(PEOPLE)} people`,
  );
  const built = performance.now();
  const { sessions, samples } = history();
  console.log(`generated in ${ms(performance.now() - built)}; ${count(samples.length)} samples`);

  const month = parseReportPeriod('30d', NOW, ZONE);
  const quarter = { start: new Date(NOW.getTime() - DAYS * 24 * HOUR), end: NOW, timeZone: ZONE };
  const heapBefore = process.memoryUsage().heapUsed;
  const r30 = await timed(5, () => summarizeUsage({ sessions, samples, period: month, now: NOW }));
  const heapAfter = process.memoryUsage().heapUsed;
  const r90 = await timed(5, () =>
    summarizeUsage({ sessions, samples, period: quarter, now: NOW }),
  );
  const report: UsageReport = r30.last;
  const chart = await timed(5, () =>
    renderUsageChart(report, { title: 'VPN usage · last 30 days' }),
  );
  const message = await timed(5, () =>
    buildReportMessage({ report, period: '30d', historyStartsAt: quarter.start }),
  );
  const csv = await timed(5, () => `${reportCsv(report)}${reportJsonLines(report)}`);

  const rows: string[][] = [
    [
      'summarizeUsage 30d (all 90 days given)',
      ms(median(r30.ms)),
      ms(median(r30.cpu)),
      ms(Math.max(...r30.ms)),
      `${count(r30.last.totals.sessions)} sessions in period`,
    ],
    [
      'summarizeUsage 90d',
      ms(median(r90.ms)),
      ms(median(r90.cpu)),
      ms(Math.max(...r90.ms)),
      `${count(r90.last.totals.sessions)} sessions in period`,
    ],
    [
      'renderUsageChart 30d (1200 × 800 PNG)',
      ms(median(chart.ms)),
      ms(median(chart.cpu)),
      ms(Math.max(...chart.ms)),
      `${count(chart.last.png.length)} bytes`,
    ],
    [
      'buildReportMessage',
      ms(median(message.ms)),
      ms(median(message.cpu)),
      ms(Math.max(...message.ms)),
      `${message.last.blocks.length} blocks`,
    ],
    [
      'CSV + JSON lines (everyone)',
      ms(median(csv.ms)),
      ms(median(csv.cpu)),
      ms(Math.max(...csv.ms)),
      `${count(report.people.length)} people`,
    ],
  ];
  printTable(
    'Timings (median and max of 5 runs after a warm-up)',
    ['step', 'median', 'CPU median', 'max', 'size'],
    rows,
  );
  console.log(
    `peaks 30d: ${report.endpoints.map((e) => `${e.endpoint} ${e.peak.count}`).join(', ')}; ` +
      `connection-hours ${Math.round(report.totals.connectionHours)}; ` +
      `heap after the 30d runs ${((heapAfter - heapBefore) / 1e6).toFixed(1)} MB above before`,
  );

  const targets: TargetResult[] = [
    {
      name: 'report 30d summarized (500k sessions given)',
      passed: median(r30.ms) < 1000,
      detail: `${ms(median(r30.ms))} < 1,000 ms`,
    },
    {
      name: 'report 90d summarized',
      passed: median(r90.ms) < 1000,
      detail: `${ms(median(r90.ms))} < 1,000 ms`,
    },
    {
      name: 'chart rendered',
      passed: median(chart.ms) < 1000,
      detail: `${ms(median(chart.ms))} < 1,000 ms`,
    },
  ];
  printTargets(targets);
  const resultsFile = await writeResults('report', {
    sessions: SESSIONS,
    days: DAYS,
    people: PEOPLE,
    summarize30dMs: r30.ms,
    summarize30dCpuMs: r30.cpu,
    summarize90dMs: r90.ms,
    summarize90dCpuMs: r90.cpu,
    chartMs: chart.ms,
    chartCpuMs: chart.cpu,
    messageMs: message.ms,
    csvMs: csv.ms,
    chartBytes: chart.last.png.length,
  });
  return { name: 'report', targets, resultsFile };
}
