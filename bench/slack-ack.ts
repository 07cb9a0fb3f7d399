/**
 * The `/vpn-conns` slash command end to end over loopback: signed commands → the real Bolt app
 * (its own process, bench/lib/slack-app.ts) → EC2 emulator answering each page after 200 ms →
 * answer POSTed to a response_url of the Slack stand-in.
 *
 * a) ack latency of 1,000 commands at concurrency 50 against 1,000 `help` commands (answered in
 *    the ack alone) sent in alternating rounds, the ratio of their p99s, EC2 calls, answers;
 * b) command → complete answer for 10,000 connections against the 10 × 200 ms floor;
 * c) DescribeClientVpnConnections calls per command, alone and 20 identical at once.
 *
 * The app runs alone in a child process. The EC2 emulator, the Slack stand-in and the load
 * generator share this process, so the emulator's request log can be read directly.
 */
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Ec2Emulator, startEc2Emulator } from '../src/sandbox/ec2-emulator.js';
import { postSlashCommand, type SignedRequestResult } from '../src/sandbox/slack-signing.js';
import {
  type SlackResponseUrlPost,
  type SlackStandIn,
  startSlackStandIn,
} from '../src/sandbox/slack-stand-in.js';
import { generateFleet } from '../src/sandbox/vpn-data.js';
import {
  type BenchOutcome,
  count,
  mbFromKb,
  ms,
  printTable,
  printTargets,
  ratio,
  type TargetResult,
  writeResults,
} from './lib/report.js';
import {
  type AppProcess,
  type AppStats,
  SIGNING_SECRET,
  startAppProcess,
} from './lib/slack-app.js';
import { max, median, percentile } from './lib/stats.js';

const NAME = 'slack-ack';
const DESCRIBE = 'DescribeClientVpnConnections';
const EC2_LATENCY_MS = 200;
const PAGE = 1000;
const ANSWER_TIMEOUT_MS = 120_000;

const BURST_COMMANDS = 1_000;
const BURST_CONCURRENCY = 50;
/** The burst is sent in rounds, alternating with as many ack-only rounds. */
const BURST_ROUNDS = 4;
/** a) target: list ack p99 at most this × the ack-only p99 of the same run. */
const ACK_RATIO_LIMIT = 1.5;
const BURST_CONNECTIONS = 1_000;
const WARMUP_COMMANDS = 100;
const FULL_REPLY_CONNECTIONS = 10_000;
const FULL_REPLY_RUNS = 5;
const SHARING_SIZES = [2_345, 10_000] as const;
const SHARING_BURST = 20;

/** An emulator in this process, filled with one endpoint of `connections`, on the real clock. */
async function startFleet(connections: number, latencyMs: number) {
  const emulator = await startEc2Emulator();
  const fleet = generateFleet({ connections, endpoints: 1, seed: 1, now: new Date() });
  emulator.addEndpoints(fleet.endpoints);
  emulator.addConnections(fleet.connections);
  emulator.faults.latency(latencyMs);
  const endpointId = fleet.endpoints[0]?.id;
  if (endpointId === undefined) throw new Error('the fleet has no endpoint');
  return { emulator, endpointId };
}

function describeCalls(emulator: Ec2Emulator, from = 0): number {
  return emulator.requests.slice(from).filter((r) => r.action === DESCRIBE).length;
}

interface Sent {
  readonly responseId: string;
  /** `Date.now()` just before the POST: the stand-in stamps posts with the same clock. */
  readonly sentAt: number;
  readonly ack: SignedRequestResult;
}

/** Sends one signed `/vpn-conns` with a fresh response_url. */
async function sendCommand(app: AppProcess, standIn: SlackStandIn, text: string): Promise<Sent> {
  const responseUrl = standIn.newResponseUrl();
  const responseId = responseUrl.slice(responseUrl.lastIndexOf('/') + 1);
  const sentAt = Date.now();
  const ack = await postSlashCommand(app.eventsUrl, SIGNING_SECRET, {
    text,
    response_url: responseUrl,
  });
  return { responseId, sentAt, ack };
}

/** Runs `task(0..n-1)` with at most `concurrency` in flight; results in index order. */
async function inPool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>) {
  const results: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return results;
}

/**
 * Waits until every response_url has its answer; returns the first post of each, in order.
 * With `partial`, a timeout is not an error: missing answers are `undefined`.
 */
async function answersOf(
  standIn: SlackStandIn,
  sent: readonly Sent[],
  options: { timeoutMs?: number; partial?: boolean } = {},
): Promise<(SlackResponseUrlPost | undefined)[]> {
  const wanted = new Set(sent.map((s) => s.responseId));
  const byId = new Map<string, SlackResponseUrlPost>();
  let seen = 0;
  const collect = () => {
    for (; seen < standIn.responseUrlPosts.length; seen++) {
      const post = standIn.responseUrlPosts[seen] as SlackResponseUrlPost;
      if (wanted.has(post.id) && !byId.has(post.id)) byId.set(post.id, post);
    }
    return byId.size === wanted.size;
  };
  try {
    await standIn.waitFor(collect, options.timeoutMs ?? ANSWER_TIMEOUT_MS);
  } catch (error) {
    if (!options.partial) throw error;
  }
  return sent.map((s) => byId.get(s.responseId));
}

/** True when the answer is the connections list with the expected total. */
function showsTotal(post: SlackResponseUrlPost | undefined, total: number): boolean {
  const text = post?.body.text;
  return typeof text === 'string' && text.includes(`${count(total)} connections`);
}

function assertAcked(sent: readonly Sent[], what: string): void {
  const bad = sent.filter((s) => s.ack.status !== 200);
  if (bad.length > 0) {
    throw new Error(
      `${what}: ${bad.length} commands not acked with 200 (first: ${bad[0]?.ack.status} ${bad[0]?.ack.body})`,
    );
  }
}

// ---------------------------------------------------------------- a) ack under a burst

interface AckStats {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

function ackStats(sent: readonly Sent[]): AckStats {
  const acks = sent.map((s) => s.ack.elapsedMs);
  return {
    p50: percentile(acks, 50),
    p90: percentile(acks, 90),
    p99: percentile(acks, 99),
    max: max(acks),
  };
}

/** `commands` signed commands with `text`, at most `concurrency` in flight. */
async function burstOf(app: AppProcess, standIn: SlackStandIn, commands: number, text: string) {
  const started = Date.now();
  const sent = await inPool(commands, BURST_CONCURRENCY, () => sendCommand(app, standIn, text));
  return { sent, started, burstMs: Date.now() - started };
}

/** What one kind of command (the list, or the ack-only reference) showed over its rounds. */
interface KindResult {
  readonly ackMs: AckStats;
  /** Time spent sending this kind's commands, all rounds together. */
  readonly burstMs: number;
  readonly commandsPerSecond: number;
  /** The app's event-loop delay over this kind's rounds: the worst round's p99, the max. */
  readonly appEventLoopDelayMs: { readonly p99: number; readonly max: number };
  /** The load generator's event-loop delay sending this kind (it hosts the stand-in): worst round. */
  readonly benchEventLoopDelayMs: { readonly p99: number; readonly max: number };
  /** Load average (1 min) before each of this kind's rounds. */
  readonly load1: readonly number[];
}

interface BurstResult {
  readonly commands: number;
  readonly concurrency: number;
  readonly connections: number;
  readonly rounds: number;
  readonly acksOver3s: number;
  readonly non200: number;
  /** Per list round: command sent first → last answer posted; the worst round. */
  readonly lastAnswerMs: number;
  readonly lastAnswerMsByRound: readonly number[];
  readonly answersDelivered: number;
  readonly answersCorrect: number;
  readonly describeCalls: number;
  readonly warmupDescribeCalls: number;
  readonly list: KindResult;
  /** Reference: `/vpn-conns help`, answered in the ack (no EC2, no answer to post). */
  readonly help: KindResult;
  /** list ack p99 ÷ help ack p99. */
  readonly ackRatio: number;
  readonly app: AppStats;
}

type Kind = 'list' | 'help';

/** Sends `list` or `help` rounds; `list` rounds start with an empty cache and end when answered. */
function kindRecorder(kind: Kind) {
  const sent: Sent[] = [];
  const appDelay = { p99: 0, max: 0 };
  const benchDelay = { p99: 0, max: 0 };
  const load1: number[] = [];
  let burstMs = 0;
  return {
    sent,
    async round(app: AppProcess, standIn: SlackStandIn, commands: number) {
      load1.push(loadavg()[0] ?? Number.NaN);
      await app.stats(); // resets the app's event-loop histogram
      // A histogram per round: a re-enabled one counts the pause in between as one long delay.
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const burst = await burstOf(app, standIn, commands, kind === 'help' ? 'help' : '');
      delay.disable();
      benchDelay.p99 = Math.max(benchDelay.p99, delay.percentile(99) / 1e6);
      benchDelay.max = Math.max(benchDelay.max, delay.max / 1e6);
      const stats = await app.stats();
      appDelay.p99 = Math.max(appDelay.p99, stats.eventLoopDelayMs.p99);
      appDelay.max = Math.max(appDelay.max, stats.eventLoopDelayMs.max);
      burstMs += burst.burstMs;
      sent.push(...burst.sent);
      return burst;
    },
    result(): KindResult {
      return {
        ackMs: ackStats(sent),
        burstMs,
        commandsPerSecond: (sent.length * 1000) / burstMs,
        appEventLoopDelayMs: { ...appDelay },
        benchEventLoopDelayMs: { ...benchDelay },
        load1,
      };
    },
  };
}

/**
 * The list command against the ack-only reference, in alternating rounds (help, list, list,
 * help, …) so that the load of a shared machine weighs on both alike. Each list round starts
 * with an empty cache (one EC2 page to fetch and decode, one message to build) and is answered
 * in full before the next round, so that no answer work spills into a help round.
 */
export async function measureBurst(): Promise<BurstResult> {
  const { emulator, endpointId } = await startFleet(BURST_CONNECTIONS, EC2_LATENCY_MS);
  const standIn = await startSlackStandIn();
  let app: AppProcess | undefined;
  try {
    app = await startAppProcess({ ec2Url: emulator.url, endpointId, slackApiUrl: standIn.url });
    // Warm-up with another query (a username filter: its own cache entry), so the measured
    // rounds meet a JIT-warm app.
    const warm = await burstOf(app, standIn, WARMUP_COMMANDS, 'user=bench-warmup');
    assertAcked(warm.sent, 'warm-up');
    await answersOf(standIn, warm.sent);
    const warmupDescribeCalls = describeCalls(emulator);

    const logIndex = emulator.requests.length;
    const perRound = BURST_COMMANDS / BURST_ROUNDS;
    const list = kindRecorder('list');
    const help = kindRecorder('help');
    const lastAnswerMsByRound: number[] = [];
    const posts: (SlackResponseUrlPost | undefined)[] = [];
    for (let r = 0; r < BURST_ROUNDS; r++) {
      const order: readonly Kind[] = r % 2 === 0 ? ['help', 'list'] : ['list', 'help'];
      for (const kind of order) {
        if (kind === 'help') {
          assertAcked((await help.round(app, standIn, perRound)).sent, 'help');
          continue;
        }
        await app.invalidate();
        const round = await list.round(app, standIn, perRound);
        // Only acked commands can be answered; a missing answer is counted, not fatal.
        const acked = round.sent.filter((s) => s.ack.status === 200);
        const answered = await answersOf(standIn, acked, { partial: true });
        const at = answered.flatMap((p) => (p ? [p.at.getTime()] : []));
        lastAnswerMsByRound.push(at.length > 0 ? Math.max(...at) - round.started : Number.NaN);
        posts.push(...answered);
      }
    }
    const listResult = list.result();
    const helpResult = help.result();
    return {
      commands: BURST_COMMANDS,
      concurrency: BURST_CONCURRENCY,
      connections: BURST_CONNECTIONS,
      rounds: BURST_ROUNDS,
      acksOver3s: list.sent.filter((s) => s.ack.elapsedMs > 3000).length,
      non200: list.sent.filter((s) => s.ack.status !== 200).length,
      lastAnswerMs: max(lastAnswerMsByRound),
      lastAnswerMsByRound,
      answersDelivered: posts.filter((p) => p !== undefined).length,
      answersCorrect: posts.filter((p) => showsTotal(p, BURST_CONNECTIONS)).length,
      describeCalls: describeCalls(emulator, logIndex),
      warmupDescribeCalls,
      list: listResult,
      help: helpResult,
      ackRatio: listResult.ackMs.p99 / helpResult.ackMs.p99,
      app: await app.stats(),
    };
  } finally {
    await app?.stop();
    await standIn.close();
    await emulator.close();
  }
}

// ---------------------------------------------------------------- b) time to complete reply

interface ReplyRun {
  readonly totalMs: number;
  readonly ackMs: number;
  readonly describeCalls: number;
  /** Command sent → first DescribeClientVpnConnections arrives at EC2. */
  readonly toFirstCallMs: number;
  /** Mean time between page requests beyond the emulator's 200 ms: transfer, parse, next call. */
  readonly perPageOverheadMs: number;
  /** Last page requested → answer posted, minus the 200 ms the emulator waits. */
  readonly afterLastPageMs: number;
  readonly correct: boolean;
}

interface FullReplyResult {
  readonly connections: number;
  readonly floorMs: number;
  readonly runs: readonly ReplyRun[];
  readonly medianTotalMs: number;
  readonly app: AppStats;
}

export async function measureFullReply(): Promise<FullReplyResult> {
  const { emulator, endpointId } = await startFleet(FULL_REPLY_CONNECTIONS, EC2_LATENCY_MS);
  const standIn = await startSlackStandIn();
  let app: AppProcess | undefined;
  try {
    // Cache TTL 0: every command fetches all pages again (concurrent reads would still share).
    app = await startAppProcess({
      ec2Url: emulator.url,
      endpointId,
      slackApiUrl: standIn.url,
      cacheTtlMs: 0,
    });
    const warm = await sendCommand(app, standIn, '');
    await answersOf(standIn, [warm]);
    await app.stats();

    const runs: ReplyRun[] = [];
    for (let i = 0; i < FULL_REPLY_RUNS; i++) {
      const logIndex = emulator.requests.length;
      const sent = await sendCommand(app, standIn, '');
      assertAcked([sent], 'full reply');
      const [post] = await answersOf(standIn, [sent]);
      const calls = emulator.requests.slice(logIndex).filter((r) => r.action === DESCRIBE);
      const first = calls[0]?.at.getTime() ?? Number.NaN;
      const last = calls.at(-1)?.at.getTime() ?? Number.NaN;
      const answeredAt = post?.at.getTime() ?? Number.NaN;
      runs.push({
        totalMs: answeredAt - sent.sentAt,
        ackMs: sent.ack.elapsedMs,
        describeCalls: calls.length,
        toFirstCallMs: first - sent.sentAt,
        perPageOverheadMs:
          calls.length > 1 ? (last - first) / (calls.length - 1) - EC2_LATENCY_MS : Number.NaN,
        afterLastPageMs: answeredAt - last - EC2_LATENCY_MS,
        correct: showsTotal(post, FULL_REPLY_CONNECTIONS),
      });
    }
    return {
      connections: FULL_REPLY_CONNECTIONS,
      floorMs: Math.ceil(FULL_REPLY_CONNECTIONS / PAGE) * EC2_LATENCY_MS,
      runs,
      medianTotalMs: median(runs.map((r) => r.totalMs)),
      app: await app.stats(),
    };
  } finally {
    await app?.stop();
    await standIn.close();
    await emulator.close();
  }
}

// ---------------------------------------------------------------- c) calls per command

interface SharingResult {
  readonly connections: number;
  readonly expectedCalls: number;
  readonly singleCalls: number;
  readonly singleMaxResults: readonly string[];
  readonly burstCommands: number;
  readonly burstCalls: number;
  readonly answersCorrect: number;
}

async function measureSharing(connections: number): Promise<SharingResult> {
  const { emulator, endpointId } = await startFleet(connections, EC2_LATENCY_MS);
  const standIn = await startSlackStandIn();
  const options = { ec2Url: emulator.url, endpointId, slackApiUrl: standIn.url };
  try {
    // A fresh app (empty cache) for each case: one command, then 20 identical at once.
    const single = await startAppProcess(options);
    let singleCalls: number;
    let singleMaxResults: string[];
    let singleCorrect: boolean;
    try {
      const sent = await sendCommand(single, standIn, '');
      assertAcked([sent], 'single command');
      const [post] = await answersOf(standIn, [sent]);
      const calls = emulator.requests.filter((r) => r.action === DESCRIBE);
      singleCalls = calls.length;
      singleMaxResults = [...new Set(calls.map((r) => r.params.MaxResults ?? '(none)'))];
      singleCorrect = showsTotal(post, connections);
    } finally {
      await single.stop();
    }

    const logIndex = emulator.requests.length;
    const burstApp = await startAppProcess(options);
    try {
      const sent = await Promise.all(
        Array.from({ length: SHARING_BURST }, () => sendCommand(burstApp, standIn, '')),
      );
      assertAcked(sent, 'identical commands');
      const posts = await answersOf(standIn, sent);
      return {
        connections,
        expectedCalls: Math.ceil(connections / PAGE),
        singleCalls,
        singleMaxResults,
        burstCommands: SHARING_BURST,
        burstCalls: describeCalls(emulator, logIndex),
        answersCorrect:
          posts.filter((p) => showsTotal(p, connections)).length + (singleCorrect ? 1 : 0),
      };
    } finally {
      await burstApp.stop();
    }
  } finally {
    await standIn.close();
    await emulator.close();
  }
}

// ---------------------------------------------------------------- report

const loads = (k: KindResult) => k.load1.map((l) => l.toFixed(1)).join(' / ');

/** Table a), then the two p99 figures and their ratio on lines of their own. */
function printBurst(burst: BurstResult): void {
  const row = (command: string, k: KindResult, rest: readonly string[]) => [
    command,
    ms(k.ackMs.p50),
    ms(k.ackMs.p90),
    ms(k.ackMs.p99),
    ms(k.ackMs.max),
    ms(k.burstMs),
    count(Math.round(k.commandsPerSecond)),
    ms(k.appEventLoopDelayMs.p99),
    ...rest,
  ];
  printTable(
    `a) Ack latency, ${count(burst.commands)} signed commands of each kind at concurrency ${burst.concurrency} in ${burst.rounds} alternating rounds (${count(burst.connections)} connections, 1 endpoint; cache emptied before each list round)`,
    [
      'command',
      'p50',
      'p90',
      'p99',
      'max',
      'sending',
      'cmd/s',
      'app loop delay p99',
      '> 3 s',
      'last answer',
      'describe calls',
      'answers ok',
    ],
    [
      row('/vpn-conns', burst.list, [
        count(burst.acksOver3s),
        ms(burst.lastAnswerMs),
        count(burst.describeCalls),
        `${count(burst.answersCorrect)} / ${count(burst.answersDelivered)}`,
      ]),
      row('/vpn-conns help (reference: ack only)', burst.help, ['–', '–', '0', '–']),
    ],
  );
  console.log(
    `   load average (1 min) before each round: list ${loads(burst.list)}; help ${loads(burst.help)}. ` +
      `App loop delay: worst round's p99 (max list ${ms(burst.list.appEventLoopDelayMs.max)}, help ${ms(burst.help.appEventLoopDelayMs.max)}). ` +
      `Last answer per list round: ${burst.lastAnswerMsByRound.map(ms).join(', ')}.`,
  );
  console.log(
    `   load generator (this process, also the Slack stand-in) event-loop delay p99: list ${ms(burst.list.benchEventLoopDelayMs.p99)}, help ${ms(burst.help.benchEventLoopDelayMs.p99)}; ` +
      `app peak RSS ${mbFromKb(burst.app.maxRssKb)}; warnings ${burst.app.warnings}, errors ${burst.app.errors}.`,
  );
  console.log(`\n   ack p99 /vpn-conns         ${ms(burst.list.ackMs.p99)}`);
  console.log(`   ack p99 help (ack only)    ${ms(burst.help.ackMs.p99)}`);
  console.log(
    `   ratio                      ${ratio(burst.ackRatio)}  (target ≤ ${ratio(ACK_RATIO_LIMIT)}): ${burst.ackRatio <= ACK_RATIO_LIMIT ? 'PASS' : 'FAIL'}`,
  );
}

/** The targets of a). */
function burstTargets(burst: BurstResult): TargetResult[] {
  return [
    {
      name: `a) ack p99 ≤ ${ACK_RATIO_LIMIT} × ack-only p99 (same run)`,
      passed: burst.ackRatio <= ACK_RATIO_LIMIT,
      detail: `${ms(burst.list.ackMs.p99)} vs help ${ms(burst.help.ackMs.p99)} = ${ratio(burst.ackRatio)}`,
    },
    {
      name: 'a) ack p99 < 50 ms',
      passed: burst.list.ackMs.p99 < 50,
      detail: `p99 ${ms(burst.list.ackMs.p99)} (p50 ${ms(burst.list.ackMs.p50)}, max ${ms(burst.list.ackMs.max)})`,
    },
    {
      name: 'a) no ack past 3 s',
      passed: burst.acksOver3s === 0 && burst.non200 === 0,
      detail: `${burst.acksOver3s} over 3 s, ${burst.non200} not 200; max ${ms(burst.list.ackMs.max)}`,
    },
    {
      name: `a) ${count(burst.commands)} final answers delivered`,
      passed: burst.answersDelivered === burst.commands && burst.answersCorrect === burst.commands,
      detail: `${count(burst.answersDelivered)} delivered, ${count(burst.answersCorrect)} showing ${count(burst.connections)} connections; EC2 got ${count(burst.describeCalls)} describe calls`,
    },
  ];
}

/** Runs the benchmark, prints its tables and targets, writes bench/results/slack-ack.json. */
export async function runSlackAck(): Promise<BenchOutcome> {
  // Other work on the machine shows up in every figure: keep the load beside them.
  const loadAtStart = loadavg();
  console.log(
    `\n== ${NAME}: /vpn-conns over HTTP (app in its own process, EC2 latency ${EC2_LATENCY_MS} ms/page)`,
  );
  console.log(`  a) ${count(BURST_COMMANDS)} commands at concurrency ${BURST_CONCURRENCY}…`);
  const burst = await measureBurst();
  console.log(
    `  b) complete reply for ${count(FULL_REPLY_CONNECTIONS)} connections, ${FULL_REPLY_RUNS} runs…`,
  );
  const full = await measureFullReply();
  console.log('  c) describe calls per command…');
  const sharing: SharingResult[] = [];
  for (const n of SHARING_SIZES) sharing.push(await measureSharing(n));

  printBurst(burst);

  printTable(
    `b) Command → complete answer at the response_url, ${count(full.connections)} connections (floor ${ms(full.floorMs)})`,
    [
      'run',
      'total',
      'vs floor',
      'ack',
      'describe calls',
      'to 1st call',
      'per-page extra',
      'after last page',
    ],
    full.runs.map((r, i) => [
      String(i + 1),
      ms(r.totalMs),
      `${(r.totalMs / full.floorMs).toFixed(3)}×`,
      ms(r.ackMs),
      count(r.describeCalls),
      ms(r.toFirstCallMs),
      ms(r.perPageOverheadMs),
      ms(r.afterLastPageMs),
    ]),
  );
  console.log(
    `   median ${ms(full.medianTotalMs)} = ${(full.medianTotalMs / full.floorMs).toFixed(3)}× floor; ` +
      'per-page extra = gap between page requests beyond the 200 ms EC2 wait (transfer + SDK parse + next request); ' +
      'after last page = last page transfer + parse + build message + POST.',
  );

  printTable(
    'c) DescribeClientVpnConnections calls per command (fresh app, default 10 s cache)',
    [
      'connections',
      'expected',
      '1 command',
      `${SHARING_BURST} identical at once`,
      'MaxResults sent',
      'answers ok',
    ],
    sharing.map((s) => [
      count(s.connections),
      count(s.expectedCalls),
      count(s.singleCalls),
      count(s.burstCalls),
      s.singleMaxResults.join(','),
      `${s.answersCorrect} / ${s.burstCommands + 1}`,
    ]),
  );

  const fullRatio = full.medianTotalMs / full.floorMs;
  const targets: TargetResult[] = [
    ...burstTargets(burst),
    {
      name: 'b) complete answer ≤ 1.10 × floor',
      passed: fullRatio <= 1.1 && full.runs.every((r) => r.correct),
      detail: `median ${ms(full.medianTotalMs)} vs floor ${ms(full.floorMs)} = ${fullRatio.toFixed(3)}× (limit ${ms(full.floorMs * 1.1)})`,
    },
    ...sharing.flatMap((s) => [
      {
        name: `c) one command at ${count(s.connections)} → ${s.expectedCalls} calls`,
        passed: s.singleCalls === s.expectedCalls,
        detail: `${s.singleCalls} calls (MaxResults ${s.singleMaxResults.join(',')})`,
      },
      {
        name: `c) ${s.burstCommands} identical commands at ${count(s.connections)} → ${s.expectedCalls} calls in total`,
        passed: s.burstCalls === s.expectedCalls && s.answersCorrect === s.burstCommands + 1,
        detail: `${s.burstCalls} calls; ${s.answersCorrect} / ${s.burstCommands + 1} answers correct`,
      },
    ]),
  ];
  printTargets(targets);

  const resultsFile = await writeResults(NAME, {
    benchmark: NAME,
    finishedAt: new Date().toISOString(),
    environment: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
    },
    method: {
      app: 'createApp (HTTP mode, signing secret, botIds, webApiRetries 0) in its own node process (bench/lib/slack-app-main.ts via tsx), on 127.0.0.1',
      emulator: `startEc2Emulator in the benchmark process (real clock), latency ${EC2_LATENCY_MS} ms per call; its request log gives the call counts`,
      standIn: 'startSlackStandIn in the benchmark process; answers are its responseUrlPosts',
      ackMs:
        'postSlashCommand elapsedMs: HTTP round trip of the signed command, measured by the sender',
      warmUp: `a) ${WARMUP_COMMANDS} commands with another query before measuring; b) one command`,
      rounds: `a) ${BURST_ROUNDS} rounds of each kind, alternating help/list then list/help; the read cache emptied before each list round, its answers awaited before the next round`,
    },
    burst,
    fullReply: full,
    sharing,
    targets,
  });
  console.log(`\nresults: ${resultsFile}`);
  return { name: NAME, targets, resultsFile };
}
