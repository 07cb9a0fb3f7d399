/**
 * Runs the benchmarks in sequence: all of them, or those named on the command line
 * (`npm run bench -- cli`, `npm run bench -- slack`, `npm run bench -- demo`). A missed target prints FAIL and the run
 * goes on; the exit code is 1 only when a benchmark could not run at all.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { runAlerts } from './alerts.js';
import { runCliVsAwsCli } from './cli-vs-awscli.js';
import { runDemoBench } from './demo.js';
import { runHistoryBench } from './history.js';
import type { BenchOutcome } from './lib/report.js';
import { runReport } from './report.js';
import { runSlackAck } from './slack-ack.js';
import { runStoreBench } from './store.js';

const BENCHMARKS: Readonly<Record<string, () => Promise<BenchOutcome>>> = {
  alerts: runAlerts,
  cli: runCliVsAwsCli,
  report: runReport,
  slack: runSlackAck,
  demo: runDemoBench,
  history: runHistoryBench,
  store: runStoreBench,
};

async function main(): Promise<number> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark ${unknown.join(', ')}; choose from: ${Object.keys(BENCHMARKS).join(', ')}`,
    );
    return 2;
  }
  const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);
  const started = performance.now();
  // The figures are only as quiet as the machine: show what else is running.
  const load = () =>
    loadavg()
      .map((n) => n.toFixed(2))
      .join(' ');
  console.log(`benchmarks: ${selected.join(', ')} (${cpus().length} CPUs, load average ${load()})`);
  const outcomes: BenchOutcome[] = [];
  const broken: string[] = [];
  for (const name of selected) {
    const bench = BENCHMARKS[name];
    if (!bench) continue;
    try {
      outcomes.push(await bench());
    } catch (error) {
      broken.push(name);
      console.error(`\n${name}: could not run: ${error instanceof Error ? error.stack : error}`);
    }
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`\n== Summary (${seconds} s, load average now ${load()})`);
  for (const outcome of outcomes) {
    for (const t of outcome.targets) {
      console.log(`${t.passed ? 'PASS' : 'FAIL'}  [${outcome.name}] ${t.name}: ${t.detail}`);
    }
    console.log(`      results: ${outcome.resultsFile}`);
  }
  for (const name of broken) console.log(`ERROR [${name}] did not complete`);
  return broken.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
