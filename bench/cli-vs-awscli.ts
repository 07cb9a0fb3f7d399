/**
 * `vpn-conns list <endpoint> --json` (the built CLI, dist/bin/vpn-conns.js) against
 * `aws ec2 describe-client-vpn-connections` over the same emulated fleets of 1k, 10k and 100k
 * connections: wall time (median of 5) and peak RSS (GNU time `%M`; max and median of the 5).
 * The emulator runs in its own process; both commands write to /dev/null while measured.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEc2Emulator } from '../src/sandbox/ec2-emulator.js';
import { generateFleet } from '../src/sandbox/vpn-data.js';
import { startEmulatorProcess } from './lib/emulator-process.js';
import { assertSucceeded, describeCommand, runTimed, type TimedRun } from './lib/process.js';
import {
  type BenchOutcome,
  count,
  mbFromKb,
  ms,
  printTable,
  printTargets,
  ROOT,
  ratio,
  type TargetResult,
  writeResults,
} from './lib/report.js';
import { max, median } from './lib/stats.js';

const NAME = 'cli-vs-awscli';
const SIZES = [1_000, 10_000, 100_000] as const;
const RUNS = 5;
const NOW = '2026-11-27T12:00:00Z';
const REGION = 'us-east-1';
const AWS_CLI = '/usr/bin/aws';
/** What `npm run build` installs as the `vpn-conns` bin (package.json). */
const VPN_CONNS_BIN = 'dist/bin/vpn-conns.js';
const RUN_TIMEOUT_MS = 180_000;
const PAGE = 1000;

/** Dummy credentials and no shared config: nothing on this machine leaks into the runs. */
const AWS_DUMMIES = {
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-secret',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_PAGER: '',
};

const baseEnv = () => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/root',
});

interface Command {
  readonly command: string;
  readonly args: readonly string[];
  /** The variables the benchmark sets, for printing (the run also gets PATH and HOME). */
  readonly shownEnv: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string>>;
}

function vpnConnsCommand(url: string, endpointId: string): Command {
  const env = {
    ...AWS_DUMMIES,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_EC2: url,
    VPN_ENDPOINTS: `bench=${endpointId}`,
  };
  // The installed command as a user runs it (`npx vpn-conns`): the bundle, through its shebang.
  return {
    command: VPN_CONNS_BIN,
    args: ['list', 'bench', '--json'],
    shownEnv: env,
    env: { ...baseEnv(), ...env },
  };
}

function awsCliCommand(url: string, endpointId: string): Command {
  return {
    command: AWS_CLI,
    args: [
      'ec2',
      'describe-client-vpn-connections',
      '--endpoint-url',
      url,
      '--region',
      REGION,
      '--client-vpn-endpoint-id',
      endpointId,
      '--output',
      'json',
    ],
    shownEnv: AWS_DUMMIES,
    env: { ...baseEnv(), ...AWS_DUMMIES },
  };
}

function run(cmd: Command, stdoutFile: string | null): Promise<TimedRun> {
  return runTimed({ ...cmd, cwd: ROOT, stdoutFile, timeoutMs: RUN_TIMEOUT_MS });
}

/** Connections in vpn-conns JSON-lines output: one object per line, each with a connectionId. */
async function countJsonLines(file: string): Promise<number> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  const first = JSON.parse(lines[0] ?? '{}') as { connectionId?: unknown };
  if (lines.length > 0 && typeof first.connectionId !== 'string') {
    throw new Error(`vpn-conns output does not look like connections: ${lines[0]}`);
  }
  return lines.length;
}

async function countAwsConnections(file: string): Promise<number> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { Connections?: unknown };
  if (!Array.isArray(parsed.Connections)) throw new Error('AWS CLI output has no Connections');
  return parsed.Connections.length;
}

interface Samples {
  readonly runs: TimedRun[];
  readonly medianWallMs: number;
  readonly medianRssKb: number;
  readonly maxRssKb: number;
}

function summarize(runs: TimedRun[]): Samples {
  return {
    runs,
    medianWallMs: median(runs.map((r) => r.wallMs)),
    medianRssKb: median(runs.map((r) => r.peakRssKb)),
    maxRssKb: max(runs.map((r) => r.peakRssKb)),
  };
}

/** One diagnostic run (not a target): the same bundle with V8's default heap limits. */
interface CappedHeapRun {
  readonly nodeFlag: string;
  readonly run: TimedRun | null;
  readonly error?: string;
}

interface SizeResult {
  readonly connections: number;
  readonly vpnConns: Samples & { readonly describeCalls: number };
  readonly awsCli: Samples & { readonly describeCalls: number };
  readonly cappedHeap?: CappedHeapRun;
}

/**
 * DescribeClientVpnConnections calls of one listing by each tool, counted from the request log
 * of an emulator in this process (the emulator process has no log to ask); not timed.
 */
async function countDescribeCalls(connections: number): Promise<{ vpn: number; aws: number }> {
  const emulator = await startEc2Emulator({ now: () => new Date(NOW) });
  try {
    const fleet = generateFleet({ connections, endpoints: 1, seed: 1, now: new Date(NOW) });
    emulator.addEndpoints(fleet.endpoints);
    emulator.addConnections(fleet.connections);
    const endpointId = fleet.endpoints[0]?.id ?? '';
    const calls = () =>
      emulator.requests.filter((r) => r.action === 'DescribeClientVpnConnections').length;
    const vpnRun = await run(vpnConnsCommand(emulator.url, endpointId), null);
    assertSucceeded(vpnRun, `vpn-conns (request count, ${connections})`);
    const vpn = calls();
    const awsRun = await run(awsCliCommand(emulator.url, endpointId), null);
    assertSucceeded(awsRun, `AWS CLI (request count, ${connections})`);
    return { vpn, aws: calls() - vpn };
  } finally {
    await emulator.close();
  }
}

const DEFAULT_HEAP = '(default heap: `node dist/bin/vpn-conns.js`, shebang flags not applied)';

/**
 * What the heap cap in the bin's shebang buys: one run of the same bundle through plain
 * `node`, which ignores the shebang. The difference is GC headroom, not retained data.
 */
async function runWithCappedHeap(vpn: Command): Promise<CappedHeapRun> {
  const uncapped: Command = {
    ...vpn,
    command: process.execPath,
    args: [VPN_CONNS_BIN, ...vpn.args],
  };
  const r = await run(uncapped, null);
  if (r.exitCode !== 0 || r.timedOut) {
    return { nodeFlag: DEFAULT_HEAP, run: null, error: r.stderrTail.slice(-300) };
  }
  return { nodeFlag: DEFAULT_HEAP, run: r };
}

async function measureSize(
  connections: number,
  scratch: string,
  diagnoseHeap: boolean,
): Promise<SizeResult> {
  const emulator = await startEmulatorProcess({ connections, endpoints: 1, now: NOW });
  try {
    const endpointId = emulator.endpoints[0];
    if (endpointId === undefined) throw new Error('the emulator reported no endpoint');
    const vpn = vpnConnsCommand(emulator.url, endpointId);
    const aws = awsCliCommand(emulator.url, endpointId);

    // Warm-up (the emulator renders and caches its XML on first use) and output check.
    const vpnOut = join(scratch, `vpn-${connections}.jsonl`);
    const awsOut = join(scratch, `aws-${connections}.json`);
    const vpnWarm = await run(vpn, vpnOut);
    assertSucceeded(vpnWarm, `vpn-conns warm-up (${connections})`);
    const awsWarm = await run(aws, awsOut);
    assertSucceeded(awsWarm, `AWS CLI warm-up (${connections})`);
    const vpnCount = await countJsonLines(vpnOut);
    const awsCount = await countAwsConnections(awsOut);
    await rm(vpnOut);
    await rm(awsOut);
    if (vpnCount !== connections || awsCount !== connections) {
      throw new Error(
        `output check failed for ${connections}: vpn-conns printed ${vpnCount} connections, ` +
          `the AWS CLI ${awsCount}`,
      );
    }
    console.log(
      `  ${count(connections)}: output checked (vpn-conns ${count(vpnCount)} JSON lines, ` +
        `AWS CLI ${count(awsCount)} Connections); measuring ${RUNS} runs each, interleaved`,
    );

    const vpnRuns: TimedRun[] = [];
    const awsRuns: TimedRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      const v = await run(vpn, null);
      assertSucceeded(v, `vpn-conns run ${i + 1} (${connections})`);
      vpnRuns.push(v);
      const a = await run(aws, null);
      assertSucceeded(a, `AWS CLI run ${i + 1} (${connections})`);
      awsRuns.push(a);
    }
    const cappedHeap = diagnoseHeap ? await runWithCappedHeap(vpn) : undefined;
    await emulator.stop();
    const calls = await countDescribeCalls(connections);
    return {
      connections,
      vpnConns: { ...summarize(vpnRuns), describeCalls: calls.vpn },
      awsCli: { ...summarize(awsRuns), describeCalls: calls.aws },
      ...(cappedHeap ? { cappedHeap } : {}),
    };
  } finally {
    await emulator.stop();
  }
}

interface StartupResult {
  readonly label: string;
  readonly command: string;
  readonly samples: Samples;
}

const esm = (code: string) => ['--input-type=module', '-e', code];

/**
 * Process start-up floors: bare node, the heavy imports of the CLI one by one, and
 * `vpn-conns help` (which loads everything but the SDK).
 */
async function measureStartup(): Promise<StartupResult[]> {
  const cases: { label: string; args: string[]; command?: string }[] = [
    { label: 'node -e 0 (bare node)', args: ['-e', '0'] },
    { label: "import('zod')", args: esm("await import('zod')") },
    { label: "import('date-fns') (whole index)", args: esm("await import('date-fns')") },
    {
      label: "import('@aws-sdk/client-ec2')",
      args: esm("await import('@aws-sdk/client-ec2')"),
    },
    {
      label: "createRequire(…)('@aws-sdk/client-ec2')",
      args: esm(
        "import { createRequire } from 'node:module'; createRequire(import.meta.url)('@aws-sdk/client-ec2')",
      ),
    },
    { label: 'vpn-conns help', command: VPN_CONNS_BIN, args: ['help'] },
  ];
  const out: StartupResult[] = [];
  for (const c of cases) {
    const cmd: Command = {
      command: c.command ?? process.execPath,
      args: c.args,
      shownEnv: {},
      env: baseEnv(),
    };
    const warm = await run(cmd, null);
    assertSucceeded(warm, c.label);
    const runs: TimedRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await run(cmd, null);
      assertSucceeded(r, c.label);
      runs.push(r);
    }
    out.push({
      label: c.label,
      command: describeCommand(c.command ?? 'node', c.args),
      samples: summarize(runs),
    });
  }
  return out;
}

/** Runs the benchmark, prints its tables and targets, writes bench/results/cli-vs-awscli.json. */
export async function runCliVsAwsCli(): Promise<BenchOutcome> {
  // Other work on the machine shows up in every figure: keep the load beside them.
  const loadAtStart = loadavg();
  console.log(
    `\n== ${NAME}: vpn-conns CLI vs AWS CLI (${SIZES.map(count).join(' / ')} connections)`,
  );
  const awsVersion = (await promisify(execFile)(AWS_CLI, ['--version'])).stdout.trim();
  const scratch = await mkdtemp(join(tmpdir(), 'vpn-conns-bench-out-'));
  const sizes: SizeResult[] = [];
  try {
    for (const n of SIZES) sizes.push(await measureSize(n, scratch, n === 100_000));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const startup = await measureStartup();

  printTable(
    'Wall time, median of 5 (ms)',
    ['connections', 'vpn-conns', 'AWS CLI', 'vpn/aws', 'describe calls (vpn / aws)'],
    sizes.map((s) => [
      count(s.connections),
      ms(s.vpnConns.medianWallMs),
      ms(s.awsCli.medianWallMs),
      ratio(s.vpnConns.medianWallMs / s.awsCli.medianWallMs),
      `${s.vpnConns.describeCalls} / ${s.awsCli.describeCalls}`,
    ]),
  );
  printTable(
    'Peak RSS (GNU time %M) over the 5 runs',
    ['connections', 'vpn-conns max', 'vpn median', 'AWS CLI max', 'AWS median', 'vpn/aws (max)'],
    sizes.map((s) => [
      count(s.connections),
      mbFromKb(s.vpnConns.maxRssKb),
      mbFromKb(s.vpnConns.medianRssKb),
      mbFromKb(s.awsCli.maxRssKb),
      mbFromKb(s.awsCli.medianRssKb),
      ratio(s.vpnConns.maxRssKb / s.awsCli.maxRssKb),
    ]),
  );
  for (const s of sizes) {
    const c = s.cappedHeap;
    if (c === undefined) continue;
    console.log(
      c.run
        ? `   diagnostic: vpn-conns at ${count(s.connections)} ${c.nodeFlag}: ` +
            `${ms(c.run.wallMs)}, peak RSS ${mbFromKb(c.run.peakRssKb)} (one run)`
        : `   diagnostic: vpn-conns at ${count(s.connections)} ${c.nodeFlag} failed: ${c.error}`,
    );
  }
  printTable(
    'Start-up floor, 5 runs',
    ['command', 'wall median', 'RSS median', 'RSS max'],
    startup.map((s) => [
      s.label,
      ms(s.samples.medianWallMs),
      mbFromKb(s.samples.medianRssKb),
      mbFromKb(s.samples.maxRssKb),
    ]),
  );

  const bySize = (n: number) => sizes.find((s) => s.connections === n) as SizeResult;
  const s1k = bySize(1_000);
  const s10k = bySize(10_000);
  const s100k = bySize(100_000);
  const wall10k = s10k.vpnConns.medianWallMs / s10k.awsCli.medianWallMs;
  const rss100k = s100k.vpnConns.maxRssKb / s100k.awsCli.maxRssKb;
  const growthKb = s100k.vpnConns.maxRssKb - s1k.vpnConns.maxRssKb;
  const growthMedianKb = s100k.vpnConns.medianRssKb - s1k.vpnConns.medianRssKb;
  const targets: TargetResult[] = [
    {
      name: '10k wall ≤ 0.5 × AWS CLI',
      passed: wall10k <= 0.5,
      detail: `${ms(s10k.vpnConns.medianWallMs)} vs ${ms(s10k.awsCli.medianWallMs)} = ${ratio(wall10k)}`,
    },
    {
      name: '100k peak RSS ≤ 0.6 × AWS CLI',
      passed: rss100k <= 0.6,
      detail: `${mbFromKb(s100k.vpnConns.maxRssKb)} vs ${mbFromKb(s100k.awsCli.maxRssKb)} = ${ratio(rss100k)}`,
    },
    {
      name: 'vpn-conns peak RSS growth 1k→100k < 25 MB',
      passed: growthKb < 25 * 1024,
      detail:
        `${mbFromKb(s1k.vpnConns.maxRssKb)} → ${mbFromKb(s100k.vpnConns.maxRssKb)} = ` +
        `+${mbFromKb(growthKb)} (medians: +${mbFromKb(growthMedianKb)})`,
    },
    ...sizes.map((s) => {
      const expected = Math.ceil(s.connections / PAGE);
      return {
        name: `describe calls per listing at ${count(s.connections)} = ${expected}`,
        passed: s.vpnConns.describeCalls === expected,
        detail: `vpn-conns made ${s.vpnConns.describeCalls} (AWS CLI ${s.awsCli.describeCalls})`,
      };
    }),
  ];
  printTargets(targets);

  const sample = vpnConnsCommand('http://127.0.0.1:PORT', 'cvpn-endpoint-…');
  const awsSample = awsCliCommand('http://127.0.0.1:PORT', 'cvpn-endpoint-…');
  const resultsFile = await writeResults(NAME, {
    benchmark: NAME,
    finishedAt: new Date().toISOString(),
    environment: {
      node: process.version,
      awsCli: awsVersion,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
    },
    method: {
      runsPerSize: RUNS,
      warmUp: 'one listing per tool per size before measuring; its output is checked',
      wallMs: 'measured around the spawn of GNU time (includes its exec, ~1 ms)',
      peakRssKb: "GNU time -f '%e %M' (%M = peak RSS of the command, KB)",
      emulator: `node --import tsx src/sandbox/ec2-emulator-server.ts --connections N --endpoints 1 --now ${NOW} (own process)`,
      describeCalls: 'one extra untimed listing per tool against an in-process emulator',
    },
    commands: {
      vpnConns: describeCommand(VPN_CONNS_BIN, sample.args, sample.shownEnv),
      awsCli: describeCommand(AWS_CLI, awsSample.args, awsSample.shownEnv),
    },
    sizes,
    startup,
    targets,
  });
  console.log(`\nresults: ${resultsFile}`);
  return { name: NAME, targets, resultsFile };
}
