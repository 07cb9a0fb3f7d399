/**
 * The digest soak: many simulated hours of the real collector and digest job over a real store
 * (a SQLite file, or Postgres), the real AWS SDK against the EC2 emulator and the real Slack
 * WebClient against the Slack stand-in, all on one manual clock — with sessions ending at random
 * times and on the hour, restarts, hard crashes at every step of a tick (between Slack's `ok`
 * and the commit too), Slack `rate_limited`, 5xx, refusals and timeouts, EC2 throttling, 5xx,
 * dropped connections and timeouts, and collector outages longer than 60 minutes.
 *
 * It then reads what reached the channel — each digest message's listed sessions, plus the CSV
 * in its thread when the message shortened the list, and the gaps it reported — and counts each
 * session that ended: reported once, reported twice (or more), missed, and missed inside a
 * reported gap. Used by `test/soak/soak.test.ts` (a short run in `npm test`) and
 * `test/soak/run.ts` (`npm run soak`).
 */
import type { DigestConfig } from '../../src/config.js';
import { runJob } from '../../src/jobs/scheduler.js';
import type { EmulatedConnection } from '../../src/sandbox/ec2-emulator.js';
import { type CrashPoints, createCrashPoints } from '../support/crash-points.js';
import {
  DEV,
  type DigestHarness,
  digestConfig,
  endedConnection,
  listedConnectionIds,
  PROD,
  type StoreChoice,
  seededRandom,
  startDigestHarness,
} from '../support/digest-harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The collector's poll interval in the harness (5 minutes). */
const STEP = 5 * MINUTE;
/** Short timeouts so that a timeout costs little real time. */
const AWS_TIMEOUT_MS = 150;
const SLACK_TIMEOUT_MS = 150;
/** A slow answer: well past both timeouts. */
const SLOW_MS = 400;

export interface SoakOptions {
  readonly hours: number;
  readonly seed: number;
  /** Default a SQLite file in a temp dir. */
  readonly store?: StoreChoice;
  readonly start?: Date;
  /** Called with a progress line now and then (the CLI prints it). */
  readonly progress?: (line: string) => void;
  /** Print every instance's log lines to stderr (debugging a failed seed). */
  readonly echoLogs?: boolean;
}

export interface SoakFigures {
  readonly seed: number;
  readonly hours: number;
  readonly store: string;
  readonly sessionsEnded: number;
  readonly reportedOnce: number;
  readonly reportedTwice: number;
  readonly missed: number;
  readonly missedInsideReportedGap: number;
  readonly digestsPosted: number;
  readonly gapsReported: number;
  readonly ticks: Record<string, number>;
  readonly crashes: Record<string, number>;
  readonly faults: Record<string, number>;
  readonly restarts: number;
  readonly outages: number;
  readonly realSeconds: number;
  /** Up to 10 examples of doubles and misses outside gaps, for a failing run. */
  readonly examples: readonly string[];
}

/** A gap as a digest message states it: minute precision, in UTC (the soak's digest zone). */
interface StatedGap {
  readonly alias: string;
  readonly from: number;
  readonly to: number;
}

const GAP_PATTERN =
  /Possible gap on ([^*]+)\*: sessions that ended between (\d{4}-\d\d-\d\d \d\d:\d\d) and (\d{4}-\d\d-\d\d \d\d:\d\d)/g;

function minuteOf(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}:00Z`);
}

/** Counts by key, for the figures. */
function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/**
 * Sessions ending in hour `h` after `start`: a random number at random milliseconds, and at the
 * hour's end B: one at B − 1 s, one exactly at B (the tick's edge: it belongs to the next
 * digest), one at B + 1 ms, and now and then one exactly on a poll.
 */
function sessionsOfHour(
  random: () => number,
  start: number,
  h: number,
  next: () => number,
): EmulatedConnection[] {
  const hourStart = start + h * HOUR;
  const ends: number[] = [];
  const count = 2 + Math.floor(random() * 9);
  for (let i = 0; i < count; i++) ends.push(hourStart + Math.floor(random() * HOUR));
  const edge = hourStart + HOUR;
  ends.push(edge - 1000, edge, edge + 1);
  if (random() < 0.3) ends.push(hourStart + STEP * Math.floor(random() * 12));
  return ends.map((ms) => {
    const n = next();
    return endedConnection(n, new Date(ms), {
      endpointId: random() < 0.5 ? PROD.id : DEV.id,
      username: `user${Math.floor(random() * 40)}`,
      establishedAt: new Date(ms - (1 + Math.floor(random() * 7200)) * 1000),
    });
  });
}

/** What the soak keeps while it runs. */
interface SoakState {
  readonly h: DigestHarness;
  readonly crash: CrashPoints;
  readonly random: () => number;
  readonly digest: DigestConfig;
  readonly ticks: Record<string, number>;
  readonly crashes: Record<string, number>;
  readonly faults: Record<string, number>;
  /** Longest run of crash points a tick / a poll passed, for choosing where to crash. */
  longestTick: number;
  longestPoll: number;
  restarts: number;
  holders: number;
}

/**
 * Restarts the instance. A new process has a new name, so after a crash on SQLite it waits for
 * the dead one's lease; now and then it keeps the name and leads at once (as on Postgres, where
 * a crash releases the lock), so that it runs the interrupted tick again.
 */
async function restart(state: SoakState, crashed: boolean): Promise<void> {
  state.restarts += 1;
  const sameName = crashed && state.random() < 0.3;
  if (!sameName) state.holders += 1;
  await state.h.restart({ crash: crashed, holder: `soak-${state.holders}` });
}

/** Runs one poll or tick, maybe crashing at a random point of it; restarts after a crash. */
async function runStep(state: SoakState, tickAt: Date | null): Promise<void> {
  const { h, crash, random } = state;
  const longest = tickAt ? state.longestTick : state.longestPoll;
  const crashChance = tickAt ? 0.15 : 0.02;
  if (random() < crashChance) {
    // A third of tick crashes aim at the window between Slack's ok and the commit.
    crash.arm(
      tickAt && random() < 0.33
        ? { step: 'slack.ok' }
        : { nth: 1 + Math.floor(random() * Math.max(longest, 4)) },
    );
  }
  crash.resetTrace();
  const crashed = crash.crashed();
  const run = tickAt ? h.instance.tick(state.digest, tickAt) : h.instance.poll();
  const outcome = await Promise.race([run, crashed.then((step) => ({ crashedAt: step }))]);
  crash.disarm();
  if ('crashedAt' in outcome) {
    bump(state.crashes, `${tickAt ? 'tick' : 'poll'} at ${outcome.crashedAt}`);
    await restart(state, true);
    // Now and then the restarted process runs the same tick again (a late clock, another instance).
    if (tickAt && random() < 0.3) {
      const again = await h.instance.tick(state.digest, tickAt);
      bump(state.ticks, `rerun ${again.kind}`);
    }
    return;
  }
  if (tickAt) {
    state.longestTick = Math.max(state.longestTick, crash.trace.length);
    bump(state.ticks, outcome.kind);
  } else {
    state.longestPoll = Math.max(state.longestPoll, crash.trace.length);
  }
}

/** Faults for the next tick: Slack and EC2 misbehave now and then (each chance per tick). */
function injectFaults(state: SoakState, ec2Up: boolean): void {
  const { h, random, faults } = state;
  const roll = (chance: number, name: string, inject: () => void) => {
    if (random() >= chance) return;
    bump(faults, name);
    inject();
  };
  const method = () => (random() < 0.75 ? 'chat.postMessage' : 'conversations.history');
  roll(0.05, 'slack rate_limited', () =>
    h.slack.faults.rateLimitNext(method(), 0, 1 + Math.floor(random() * 4)),
  );
  roll(0.04, 'slack 5xx', () =>
    h.slack.faults.serverErrorNext(method(), [500, 502, 503][Math.floor(random() * 3)]),
  );
  roll(0.02, 'slack refusal', () =>
    h.slack.faults.failNext(
      'chat.postMessage',
      random() < 0.5 ? 'not_in_channel' : 'internal_error',
    ),
  );
  roll(0.03, 'slack timeout after posting', () =>
    h.slack.faults.slowNext('chat.postMessage', SLOW_MS, 'after'),
  );
  roll(0.02, 'slack timeout before posting', () =>
    h.slack.faults.slowNext(method(), SLOW_MS, 'before'),
  );
  if (!ec2Up) return;
  roll(0.05, 'ec2 throttling', () => h.emulator.faults.throttleNext(1 + Math.floor(random() * 3)));
  roll(0.04, 'ec2 5xx', () =>
    h.emulator.faults.failNext(1 + Math.floor(random() * 3), random() < 0.5 ? 500 : 503),
  );
  roll(0.02, 'ec2 dropped connection', () => h.emulator.faults.dropNext(1));
  roll(0.01, 'ec2 timeout', () => h.emulator.faults.latency(SLOW_MS));
}

function clearFaults(state: SoakState): void {
  state.h.slack.faults.reset();
  state.h.emulator.faults.reset();
}

/** The sessions each top-level digest message reports (its blocks, and the CSV in its thread). */
function reportedBy(h: DigestHarness): { ids: Set<string>; gaps: StatedGap[] }[] {
  return h.digestMessages().map((message) => {
    const ids = new Set(listedConnectionIds(message));
    for (const file of h.slack.files) {
      if (file.threadTs !== message.ts) continue;
      for (const match of file.content.matchAll(/cvpn-connection-[0-9a-z]+/g)) ids.add(match[0]);
    }
    const text = JSON.stringify(message.blocks ?? []);
    const gaps = [...text.matchAll(GAP_PATTERN)].map((m) => ({
      alias: String(m[1]),
      from: minuteOf(String(m[2])),
      to: minuteOf(String(m[3])),
    }));
    return { ids, gaps };
  });
}

/** Counts each session that ended before the last tick against what reached the channel. */
function count(
  h: DigestHarness,
  sessions: readonly EmulatedConnection[],
  lastTick: number,
): Pick<
  SoakFigures,
  | 'sessionsEnded'
  | 'reportedOnce'
  | 'reportedTwice'
  | 'missed'
  | 'missedInsideReportedGap'
  | 'digestsPosted'
  | 'gapsReported'
  | 'examples'
> {
  const digests = reportedBy(h);
  const times = new Map<string, number>();
  for (const { ids } of digests) for (const id of ids) times.set(id, (times.get(id) ?? 0) + 1);
  const gaps = digests.flatMap((d) => d.gaps);
  const aliasOf = new Map(h.endpoints.map((e) => [e.id, e.alias]));
  const figures = { ended: 0, once: 0, twice: 0, missed: 0, inGap: 0 };
  const examples: string[] = [];
  for (const session of sessions) {
    const endedAt = session.endedAt?.getTime() ?? 0;
    if (endedAt >= lastTick) continue;
    figures.ended += 1;
    const seen = times.get(session.connectionId) ?? 0;
    if (seen === 1) figures.once += 1;
    else if (seen > 1) figures.twice += 1;
    // A gap is stated to the minute: a session ending within its last minute is inside it.
    const alias = aliasOf.get(session.endpointId);
    const inGap = gaps.some(
      (g) => g.alias === alias && endedAt >= g.from && endedAt < g.to + MINUTE,
    );
    if (seen === 0) {
      figures.missed += 1;
      if (inGap) figures.inGap += 1;
    }
    if ((seen > 1 || (seen === 0 && !inGap)) && examples.length < 10) {
      examples.push(
        `${session.connectionId} ended ${new Date(endedAt).toISOString()}: ${seen} digests`,
      );
    }
  }
  return {
    sessionsEnded: figures.ended,
    reportedOnce: figures.once,
    reportedTwice: figures.twice,
    missed: figures.missed,
    missedInsideReportedGap: figures.inGap,
    digestsPosted: digests.length,
    gapsReported: gaps.length,
    examples,
  };
}

/**
 * Runs the soak and returns its figures. Over 60 lines: the simulated hours are one loop whose
 * steps (outages, polls, ticks, restarts, maintenance) read best in order.
 */
export async function runSoak(options: SoakOptions): Promise<SoakFigures> {
  const began = performance.now();
  const start = options.start ?? new Date('2026-11-02T00:00:00Z');
  const random = seededRandom(options.seed);
  const crash = createCrashPoints();
  const digest = digestConfig({ name: 'soak' });
  const h = await startDigestHarness({
    start,
    digests: [digest],
    ...(options.store ? { store: options.store } : {}),
    wrapStore: (store) => crash.wrapStore(store),
    wrapPoster: (poster) => crash.wrapPoster(poster),
    awsTimeoutMs: AWS_TIMEOUT_MS,
    echoLogs: options.echoLogs ?? false,
    slackTimeoutMs: SLACK_TIMEOUT_MS,
  });
  const state: SoakState = {
    h,
    crash,
    random,
    digest,
    ticks: {},
    crashes: {},
    faults: {},
    longestTick: 0,
    longestPoll: 0,
    restarts: 0,
    holders: 0,
  };
  const sessions: EmulatedConnection[] = [];
  let number = 0;
  let outages = 0;
  /** While set, the process is down (a collector outage) until this time. */
  let downUntil: number | null = null;
  /** While set, EC2 answers 503 to everything until this time. */
  let ec2DownUntil: number | null = null;
  const t0 = start.getTime();
  // The hours of the run, then three quiet hours in which everything pending goes out.
  const quietFrom = t0 + options.hours * HOUR;
  const end = quietFrom + 3 * HOUR;
  try {
    for (let t = t0; t <= end; t += STEP) {
      const quiet = t >= quietFrom;
      if ((t - t0) % HOUR === 0 && t < quietFrom) {
        const hourSessions = sessionsOfHour(random, t0, (t - t0) / HOUR, () => ++number);
        sessions.push(...hourSessions);
        h.scheduleSessions(hourSessions);
      }
      if (downUntil !== null) {
        if (t < downUntil) continue;
        downUntil = null;
        await restart(state, true);
      }
      if ((t - t0) % (24 * HOUR) === 0) {
        const maintenance = h.instance.jobs.find((job) => job.name === 'maintenance');
        h.setClock(new Date(t));
        if (maintenance) await runJob(maintenance, new Date(t), h.instance.leadership);
      }
      if (ec2DownUntil !== null && t >= ec2DownUntil) {
        ec2DownUntil = null;
        clearFaults(state);
      }
      if (!quiet && downUntil === null && random() < 0.006) {
        // The process is down for 65 minutes to 3 hours: no poll, no tick.
        outages += 1;
        downUntil = t + (13 + Math.floor(random() * 24)) * STEP;
        await h.instance.crash();
        continue;
      }
      if (!quiet && ec2DownUntil === null && random() < 0.003) {
        // EC2 fails every call for 65 minutes to 2 hours while the process runs.
        outages += 1;
        ec2DownUntil = t + (13 + Math.floor(random() * 12)) * STEP;
        h.emulator.faults.failNext(1_000_000, 503, 'Unavailable');
      }
      if (!quiet && random() < 0.01) await restart(state, false);
      const isTick = t > t0 && (t - t0) % HOUR === 0;
      // A timer fires a little late, and now and then exactly on the second.
      const latency = random() < 0.2 ? 0 : Math.floor(random() * 5000);
      h.setClock(new Date(t + (isTick ? latency : 0)));
      if (isTick) {
        if (!quiet) injectFaults(state, ec2DownUntil === null);
        await runStep(state, new Date(t));
        if (ec2DownUntil === null) clearFaults(state);
        const hour = (t - t0) / HOUR;
        if (hour % 100 === 0) options.progress?.(`soak: ${hour} h simulated`);
      } else {
        await runStep(state, null);
      }
    }
    return {
      seed: options.seed,
      hours: options.hours,
      store: options.store?.kind ?? 'sqlite',
      ...count(h, sessions, end),
      ticks: state.ticks,
      crashes: state.crashes,
      faults: state.faults,
      restarts: state.restarts,
      outages,
      realSeconds: Math.round((performance.now() - began) / 100) / 10,
    };
  } finally {
    await h.close();
  }
}

/** The figures as the lines `npm run soak` and the test print. */
export function formatFigures(f: SoakFigures): string {
  const pairs = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  return [
    `soak: seed ${f.seed} (SOAK_SEED=${f.seed} to repeat), ${f.hours} simulated hours on ${f.store}, ${f.realSeconds} s`,
    `  sessions ended ${f.sessionsEnded}; reported once ${f.reportedOnce}; reported twice ${f.reportedTwice}; ` +
      `missed ${f.missed}; missed inside a reported gap ${f.missedInsideReportedGap}`,
    `  digests posted ${f.digestsPosted}; gaps reported ${f.gapsReported}; restarts ${f.restarts}; outages over 60 min ${f.outages}`,
    `  ticks: ${pairs(f.ticks)}`,
    `  crashes: ${pairs(f.crashes)}`,
    `  faults: ${pairs(f.faults)}`,
    ...f.examples.map((e) => `  ! ${e}`),
  ].join('\n');
}
