/**
 * The collector and the digest jobs over loopback, for the collector and job tests: one shared
 * mutable clock, the EC2 emulator on that clock, the real AWS gateway (SDK pointed at the
 * emulator, retries without back-off), the real endpoint catalogue, a real state store (a SQLite
 * file in a temp dir, or a Postgres schema of its own), the real Slack digest poster pointed at
 * the Slack stand-in, and the real leadership, collector and digest jobs on that clock — built by
 * the same `createBackground` the composition root uses. Tests step the jobs by hand through the
 * scheduler's own gate (`runJob`: leadership first) instead of waiting for timers.
 *
 * A test can start more "instances" (another process's jobs and store on the same database) and
 * "restart" one (stop it, open the store again, build new jobs).
 *
 * ```ts
 * const h = await startDigestHarness({ start: new Date('2026-11-27T09:00:00Z') });
 * h.scheduleSessions([endedConnection(1, new Date('2026-11-27T09:12:00Z'))]);
 * h.setClock(new Date('2026-11-27T10:00:00Z')); // adds the session to the emulator
 * await h.instance.tick(h.digest, h.clock.now());
 * await h.close();
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import pg from 'pg';
import type { AlertRule } from '../../src/alerts/rules.js';
import { createAwsGateway } from '../../src/aws/gateway.js';
import type { Collector, CollectResult } from '../../src/collector/collector.js';
import type { DigestConfig } from '../../src/config.js';
import { type AppMetrics, createMetrics } from '../../src/http/metrics.js';
import { type AlertPoster, type AlertWatch, createAlertWatch } from '../../src/jobs/alerts.js';
import { createBackground } from '../../src/jobs/background.js';
import {
  type DigestJobs,
  type DigestPoster,
  digestJobName,
  type TickOutcome,
} from '../../src/jobs/digest.js';
import type { Leadership } from '../../src/jobs/leadership.js';
import { type RunOutcome, runJob, type ScheduledJob } from '../../src/jobs/scheduler.js';
import { createLogger, type Logger } from '../../src/logger.js';
import {
  type Ec2Emulator,
  type EmulatedConnection,
  startEc2Emulator,
} from '../../src/sandbox/ec2-emulator.js';
import {
  type PostedMessage,
  type SlackStandIn,
  startSlackStandIn,
} from '../../src/sandbox/slack-stand-in.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { createSlackAlertPoster } from '../../src/slack/alert-poster.js';
import { createSlackDigestPoster } from '../../src/slack/digest-poster.js';
import { createValueSigner } from '../../src/slack/signed-values.js';
import { openStore, type StateStore } from '../../src/store/index.js';
import { createEndpointCatalogue } from '../../src/vpn/catalogue.js';
import type { Endpoint } from '../../src/vpn/endpoint.js';

export const DIGEST_BOT_TOKEN = 'xoxb-digest-harness';
export const DIGEST_CHANNEL = 'C0DIGEST';
/** The collector's poll interval in the harness: a SQLite lease lasts two (the clock's time). */
export const HARNESS_POLL_SECONDS = 300;

/** What a digest tick gives through the scheduler's gate. */
export type TickResult = RunOutcome<TickOutcome>;

/** A clock that stands still until a test moves it. */
export interface ManualClock {
  now(): Date;
  set(date: Date): void;
  advance(ms: number): void;
}

export function createManualClock(start: Date): ManualClock {
  let ms = start.getTime();
  return {
    now: () => new Date(ms),
    set(date) {
      ms = date.getTime();
    },
    advance(delta) {
      ms += delta;
    },
  };
}

/** The two endpoints the harness configures: `prod` and `dev`. */
export const PROD: Endpoint = { alias: 'prod', id: endpointId(0), region: 'us-east-1' };
export const DEV: Endpoint = { alias: 'dev', id: endpointId(1), region: 'us-east-1' };

/** A digest configuration with test defaults (hourly, UTC, every endpoint, skip when empty). */
export function digestConfig(overrides: Partial<DigestConfig> = {}): DigestConfig {
  return {
    name: 'security',
    channel: DIGEST_CHANNEL,
    cron: '0 * * * *',
    timezone: 'UTC',
    endpoints: 'all',
    empty: 'skip',
    ...overrides,
  };
}

/**
 * A `terminated` connection numbered `n` (its id is `connectionId(n)`), ended at `endedAt`,
 * connected `minutes` (default 30) before that.
 */
export function endedConnection(
  n: number,
  endedAt: Date,
  overrides: Partial<EmulatedConnection> = {},
): EmulatedConnection {
  const minutes = 30;
  return {
    endpointId: PROD.id,
    connectionId: connectionId(n),
    username: `user${n}`,
    commonName: `user${n}`,
    clientIp: `10.0.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`,
    establishedAt: new Date(endedAt.getTime() - minutes * 60_000),
    endedAt,
    status: 'terminated',
    ingressBytes: 1000 * n,
    egressBytes: 500 * n,
    ingressPackets: n,
    egressPackets: n,
    ...overrides,
  };
}

export type StoreChoice = { kind: 'sqlite' } | { kind: 'postgres'; databaseUrl: string };

export interface DigestHarnessOptions {
  /** Where the clock starts. */
  readonly start: Date;
  /** The digests the service runs; default `[digestConfig()]`. */
  readonly digests?: readonly DigestConfig[];
  /** Default a SQLite file in a temp dir. */
  readonly store?: StoreChoice;
  /** Endpoints configured (and added to the emulator); default `[PROD, DEV]`. */
  readonly endpoints?: readonly Endpoint[];
  /** Print log lines to stderr while debugging a test. */
  readonly echoLogs?: boolean;
  /**
   * Seams for crash and fault tests: each instance's store and poster pass through these (a
   * decorator may pause or stop a call; the real store and poster do the work).
   */
  readonly wrapStore?: (store: StateStore, holder: string) => StateStore;
  readonly wrapPoster?: (poster: DigestPoster, holder: string) => DigestPoster;
  /** The AWS SDK's per-request timeout (default 5000 ms) and attempts (default 2). */
  readonly awsTimeoutMs?: number;
  readonly awsMaxAttempts?: number;
  /** The digest poster's Slack request timeout (default the poster's own). */
  readonly slackTimeoutMs?: number;
  /**
   * Alert rules every instance checks after each collector round, posting through the real
   * Slack alert poster (Terminate buttons signed as the app signs them, with the bot token).
   */
  readonly alerts?: {
    readonly rules: readonly AlertRule[];
    readonly maxConnections?: Readonly<Record<string, number>>;
  };
  /** Seam for fault tests: each instance's alert poster passes through this. */
  readonly wrapAlertPoster?: (poster: AlertPoster, holder: string) => AlertPoster;
}

/** One running process's worth of collector and digest jobs. */
export interface DigestInstance {
  readonly holder: string;
  readonly store: StateStore;
  readonly leadership: Leadership;
  readonly collector: Collector;
  /** This instance's metrics: its collector polls, digest posts and Slack Web API requests. */
  readonly metrics: AppMetrics;
  /** The digest jobs: status and preview for `/vpn-conns digest`. */
  readonly digests: DigestJobs;
  /** The alert rules this instance checks after each round (`alerts` option; else none). */
  readonly alerts: AlertWatch;
  /** The scheduled jobs this instance runs (collector, one per digest, maintenance). */
  readonly jobs: readonly ScheduledJob[];
  /** One collector round, as the scheduler runs it (leader only). */
  poll(): Promise<RunOutcome<CollectResult>>;
  /** One tick of a digest's job at `tickAt`, as the scheduler runs it (leader only). */
  tick(digest: DigestConfig, tickAt: Date): Promise<TickResult>;
  /** This instance's log lines (`msg` of each JSON line). */
  readonly logs: string[];
  /** A clean shutdown: gives up leadership, closes the store. */
  stop(): Promise<void>;
  /** A crash: closes the store without giving up leadership first. */
  crash(): Promise<void>;
}

export interface DigestHarness {
  readonly clock: ManualClock;
  readonly emulator: Ec2Emulator;
  readonly slack: SlackStandIn;
  readonly endpoints: readonly Endpoint[];
  readonly digests: readonly DigestConfig[];
  /** The first digest. */
  readonly digest: DigestConfig;
  /** The instance started with the harness (or the last `restart()`ed one). */
  instance: DigestInstance;
  /** Another instance on the same database. */
  startInstance(holder?: string): Promise<DigestInstance>;
  /**
   * Stops an instance (clean by default), opens its database again, builds a new service
   * (with other alert rules when given: the file changed).
   */
  restart(options?: {
    from?: DigestInstance;
    crash?: boolean;
    holder?: string;
    alertRules?: readonly AlertRule[];
  }): Promise<void>;
  /**
   * Connections to add to the emulator once the clock reaches their end time (at once for those
   * already ended), as AWS lists a session only after it ends.
   */
  scheduleSessions(connections: readonly EmulatedConnection[]): void;
  /** Moves the clock and releases the scheduled connections that have ended by then. */
  setClock(date: Date): void;
  advance(ms: number): void;
  /** The digest messages posted to the digest's channel (top level, not thread replies). */
  digestMessages(): PostedMessage[];
  close(): Promise<void>;
}

/** Every `text` string found in a block tree, in order. */
function textsOf(value: unknown, into: string[]): string[] {
  if (Array.isArray(value)) {
    for (const item of value) textsOf(item, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'text' && typeof inner === 'string') into.push(inner);
      else textsOf(inner, into);
    }
  }
  return into;
}

/** The text of every block of a posted message, joined by newlines (not the top-level `text`). */
export function blocksText(message: PostedMessage): string {
  return textsOf(message.blocks ?? [], []).join('\n');
}

const CONNECTION_ID_PATTERN = /cvpn-connection-[0-9a-z]+/g;

/** The connection ids a posted digest lists in its blocks. */
export function listedConnectionIds(message: PostedMessage): string[] {
  return [...blocksText(message).matchAll(CONNECTION_ID_PATTERN)].map((m) => m[0]);
}

/** What every instance of one harness shares: the servers, the clock, the database. */
interface HarnessWorld {
  readonly clock: ManualClock;
  readonly emulator: Ec2Emulator;
  readonly slack: SlackStandIn;
  readonly endpoints: readonly Endpoint[];
  readonly digests: readonly DigestConfig[];
  readonly echoLogs: boolean;
  readonly options: DigestHarnessOptions;
  openDatabase(): Promise<StateStore>;
  readonly gateways: { destroy(): void }[];
  readonly instances: Set<DigestInstance>;
  instanceCount: number;
}

/** A debug logger that keeps each line's `msg` in `lines` (and echoes it when asked). */
function capturingLogger(world: HarnessWorld, lines: string[]): Logger {
  return createLogger(
    'debug',
    (line) => {
      const parsed: unknown = JSON.parse(line);
      const msg =
        typeof parsed === 'object' && parsed !== null && 'msg' in parsed
          ? String(parsed.msg)
          : line;
      lines.push(msg);
      if (world.echoLogs) process.stderr.write(`${line}\n`);
    },
    world.clock.now,
  );
}

/** The real gateway against the emulator, retrying without back-off. */
function emulatorGateway(world: HarnessWorld, logger: Logger) {
  const gateway = createAwsGateway({
    region: 'us-east-1',
    logger,
    maxAttempts: world.options.awsMaxAttempts ?? 2,
    requestTimeoutMs: world.options.awsTimeoutMs ?? 5000,
    clientConfig: {
      endpoint: world.emulator.url,
      credentials: { accessKeyId: 'AKIDDIGEST', secretAccessKey: 'digest-secret' },
      retryStrategy: new ConfiguredRetryStrategy(world.options.awsMaxAttempts ?? 2, () => 0),
    },
  });
  world.gateways.push(gateway);
  return gateway;
}

/** One process's worth: its own gateway, store connection, leadership, collector and jobs. */
async function startInstance(
  world: HarnessWorld,
  holder?: string,
  alertRules: readonly AlertRule[] = world.options.alerts?.rules ?? [],
): Promise<DigestInstance> {
  world.instanceCount += 1;
  const name = holder ?? `instance-${world.instanceCount}`;
  const logs: string[] = [];
  const log = capturingLogger(world, logs);
  const gateway = emulatorGateway(world, log);
  const catalogue = createEndpointCatalogue({
    gateway,
    configured: world.endpoints,
    region: 'us-east-1',
    logger: log,
  });
  const realStore = await world.openDatabase();
  const store = world.options.wrapStore?.(realStore, name) ?? realStore;
  const metrics = createMetrics({ defaultMetrics: false });
  const poster = createSlackDigestPoster({
    token: DIGEST_BOT_TOKEN,
    apiUrl: world.slack.url,
    logger: log,
    retries: 0,
    metrics,
    ...(world.options.slackTimeoutMs ? { timeoutMs: world.options.slackTimeoutMs } : {}),
  });
  const alertPoster = createSlackAlertPoster({
    token: DIGEST_BOT_TOKEN,
    apiUrl: world.slack.url,
    logger: log,
    signer: createValueSigner(DIGEST_BOT_TOKEN),
    metrics,
    ...(world.options.slackTimeoutMs ? { timeoutMs: world.options.slackTimeoutMs } : {}),
  });
  const alerts = createAlertWatch({
    rules: alertRules,
    ...(world.options.alerts?.maxConnections
      ? { maxConnections: world.options.alerts.maxConnections }
      : {}),
    store,
    poster: world.options.wrapAlertPoster?.(alertPoster, name) ?? alertPoster,
    described: () => catalogue.described(),
    logger: log,
    now: world.clock.now,
    metrics,
  });
  const background = createBackground({
    alerts,
    metrics,
    role: 'all',
    digests: world.digests,
    pollSeconds: HARNESS_POLL_SECONDS,
    store,
    gateway,
    catalogue,
    poster: world.options.wrapPoster?.(poster, name) ?? poster,
    logger: log,
    now: world.clock.now,
    holder: name,
  });
  const { leadership, collector, digests } = background;
  if (digests === null) throw new Error('startDigestHarness: no digest jobs');
  const digestJob = (digest: DigestConfig) => {
    const found = digests.jobs.find((j) => j.name === digestJobName(digest));
    if (!found) throw new Error(`no job for digest ${digest.name}`);
    return found;
  };
  let stopped = false;
  const halt = async (giveUpLead: boolean) => {
    if (stopped) return;
    stopped = true;
    world.instances.delete(instance);
    if (giveUpLead) await leadership.release().catch(() => undefined);
    await realStore.close();
  };
  const instance: DigestInstance = {
    holder: name,
    store,
    leadership,
    collector,
    metrics,
    digests,
    alerts,
    jobs: background.jobs,
    logs,
    poll: () => runJob(background.collectorJob, world.clock.now(), leadership),
    tick: (digest, tickAt) => runJob(digestJob(digest), tickAt, leadership),
    stop: () => halt(true),
    crash: () => halt(false),
  };
  world.instances.add(instance);
  return instance;
}

async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Starts the emulator, the stand-in, a store and the first instance. Over 60 lines: the harness's
 * methods share the clock, the pending connections and the instances, and read best side by side.
 */
export async function startDigestHarness(options: DigestHarnessOptions): Promise<DigestHarness> {
  const clock = createManualClock(options.start);
  const endpoints = options.endpoints ?? [PROD, DEV];
  const digests = options.digests ?? [digestConfig()];
  const first = digests[0];
  if (first === undefined) throw new Error('startDigestHarness: at least one digest');
  const storeChoice = options.store ?? { kind: 'sqlite' };

  const emulator = await startEc2Emulator({ now: clock.now });
  emulator.addEndpoints(endpoints.map((e) => ({ id: e.id, name: e.alias })));
  const slack = await startSlackStandIn({ botToken: DIGEST_BOT_TOKEN, now: clock.now });

  const tempDir = mkdtempSync(join(tmpdir(), 'vpn-conns-digest-'));
  const schema = `digest_${randomBytes(6).toString('hex')}`;
  const world: HarnessWorld = {
    clock,
    emulator,
    slack,
    endpoints,
    digests,
    echoLogs: options.echoLogs ?? false,
    options,
    openDatabase: () =>
      storeChoice.kind === 'sqlite'
        ? openStore(`sqlite:${join(tempDir, 'state.db')}`, { now: clock.now })
        : openStore(storeChoice.databaseUrl, { now: clock.now, schema, poolSize: 2 }),
    gateways: [],
    instances: new Set(),
    instanceCount: 0,
  };

  const scheduled: EmulatedConnection[] = [];
  const release = () => {
    const at = clock.now().getTime();
    const due = scheduled.filter((c) => (c.endedAt?.getTime() ?? 0) <= at);
    if (due.length === 0) return;
    emulator.addConnections(due);
    const remaining = scheduled.filter((c) => !due.includes(c));
    scheduled.length = 0;
    scheduled.push(...remaining);
  };

  const harness: DigestHarness = {
    clock,
    emulator,
    slack,
    endpoints,
    digests,
    digest: first,
    instance: await startInstance(world),
    startInstance: (holder) => startInstance(world, holder),
    async restart(restartOptions = {}) {
      const from = restartOptions.from ?? harness.instance;
      if (restartOptions.crash) await from.crash();
      else await from.stop();
      harness.instance = await startInstance(
        world,
        restartOptions.holder ?? from.holder,
        restartOptions.alertRules,
      );
    },
    scheduleSessions(connections) {
      scheduled.push(...connections);
      release();
    },
    setClock(date) {
      clock.set(date);
      release();
    },
    advance(ms) {
      clock.advance(ms);
      release();
    },
    digestMessages() {
      return slack.messages.filter((m) => m.channel === first.channel && m.threadTs === undefined);
    },
    async close() {
      for (const instance of [...world.instances]) await instance.stop();
      for (const gateway of world.gateways) gateway.destroy();
      await slack.close();
      await emulator.close();
      rmSync(tempDir, { recursive: true, force: true });
      if (storeChoice.kind === 'postgres') await dropSchema(storeChoice.databaseUrl, schema);
    },
  };
  return harness;
}

/** mulberry32: a tiny seedable PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR_MS = 60 * 60_000;

export interface SessionPlanOptions {
  /** A full hour: the first interval starts here; ticks fall at every following full hour. */
  readonly start: Date;
  readonly hours: number;
  readonly seed: number;
  /** Random sessions per hour, inclusive bounds; default [8, 16]. */
  readonly perHour?: readonly [number, number];
  /** The first connection number; default 1. */
  readonly firstNumber?: number;
}

/**
 * Sessions ending over `hours` hours after `start`: a seeded random number per hour at random
 * seconds, plus, at each hour boundary B between ticks, one ending at B − 1 s (a second before
 * the tick), one at B exactly (belongs to the next digest) and one at B + 1 s (after the tick's
 * instant, before a late tick's own poll). Alternates between PROD and DEV; users repeat.
 */
export function planSessions(options: SessionPlanOptions): EmulatedConnection[] {
  const random = seededRandom(options.seed);
  const [min, max] = options.perHour ?? [8, 16];
  const startMs = options.start.getTime();
  const ends: number[] = [];
  for (let h = 0; h < options.hours; h++) {
    const hourStart = startMs + h * HOUR_MS;
    const count = min + Math.floor(random() * (max - min + 1));
    for (let i = 0; i < count; i++) ends.push(hourStart + Math.floor(random() * 3600) * 1000);
    const boundary = hourStart + HOUR_MS;
    ends.push(boundary - 1000);
    if (h < options.hours - 1) ends.push(boundary, boundary + 1000);
  }
  let n = options.firstNumber ?? 1;
  return ends.map((ms, i) => {
    const number = n++;
    return endedConnection(number, new Date(ms), {
      endpointId: i % 2 === 0 ? PROD.id : DEV.id,
      username: `user${Math.floor(random() * 12)}`,
      establishedAt: new Date(ms - (1 + Math.floor(random() * 7200)) * 1000),
    });
  });
}

/** The tick (a full hour after `start`) whose digest must list a session ending at `endedAt`. */
export function expectedTick(endedAt: Date, start: Date): Date {
  const sinceStart = endedAt.getTime() - start.getTime();
  return new Date(start.getTime() + (Math.floor(sinceStart / HOUR_MS) + 1) * HOUR_MS);
}

/**
 * For each connection id, the indexes of the digest messages that list it. A digest's blocks list
 * each session once, so an index shows up once per digest.
 */
export function digestIndexById(messages: readonly PostedMessage[]): Map<string, number[]> {
  const byId = new Map<string, number[]>();
  messages.forEach((message, index) => {
    for (const id of listedConnectionIds(message)) byId.set(id, [...(byId.get(id) ?? []), index]);
  });
  return byId;
}
