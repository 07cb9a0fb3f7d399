/**
 * The real Slack app for benchmarks, wired like src/main.ts (gateway → catalogue → service →
 * createApp in HTTP mode) but pointed at loopback stand-ins: the EC2 emulator through
 * `clientConfig.endpoint` with dummy credentials, and the Slack stand-in through `apiUrl`, with
 * `botIds` (no `auth.test`) and no Web API retries.
 *
 * `startAppProcess` runs it in a child process of its own (bench/lib/slack-app-main.ts), so the
 * ack latencies measured are the app's, not those of the load generator sharing its event loop.
 */
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAwsGateway } from '../../src/aws/gateway.js';
import type { SlackConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createConnectionService } from '../../src/services/connections.js';
import { createApp } from '../../src/slack/app.js';
import { createEndpointCatalogue } from '../../src/vpn/catalogue.js';
import { ROOT } from './report.js';

export const SIGNING_SECRET = 'bench-signing-secret-0123456789';
export const ENDPOINT_ALIAS = 'bench';
const REGION = 'us-east-1';

export interface BenchAppOptions {
  readonly ec2Url: string;
  readonly endpointId: string;
  /** The stand-in's Web API base URL (`…/api/`). */
  readonly slackApiUrl: string;
  /** The service's read cache; absent = the product default (10 s); 0 = share concurrent reads only. */
  readonly cacheTtlMs?: number;
}

/** What the app process reports about itself. */
export interface AppStats {
  /** `process.resourceUsage().maxRSS`: peak RSS of the app process so far, KB. */
  readonly maxRssKb: number;
  readonly warnings: number;
  readonly errors: number;
  /** The first few warning and error lines, to explain a failure. */
  readonly firstProblems: readonly string[];
  /** Event-loop delay of the app's process since the previous `stats()` (then reset), ms. */
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

export interface RunningApp {
  /** `http://127.0.0.1:PORT/slack/events` */
  readonly eventsUrl: string;
  stats(): AppStats;
  /** Drops the connection service's cached reads and results: the next command fetches again. */
  invalidate(): void;
  stop(): Promise<void>;
}

/** Builds and starts the app in this process, listening on 127.0.0.1 only. */
export async function startBenchApp(options: BenchAppOptions): Promise<RunningApp> {
  let warnings = 0;
  let errors = 0;
  const firstProblems: string[] = [];
  const logger = createLogger('warn', (line) => {
    if (line.includes('"level":"error"')) errors++;
    else warnings++;
    if (firstProblems.length < 5) firstProblems.push(line);
  });
  const gateway = createAwsGateway({
    region: REGION,
    logger,
    clientConfig: {
      endpoint: options.ec2Url,
      credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' },
    },
  });
  const endpoints = [{ alias: ENDPOINT_ALIAS, id: options.endpointId, region: REGION }];
  const catalogue = createEndpointCatalogue({
    gateway,
    configured: endpoints,
    region: REGION,
    logger,
  });
  const service = createConnectionService({
    gateway,
    catalogue,
    region: REGION,
    logger,
    ...(options.cacheTtlMs !== undefined ? { cacheTtlMs: options.cacheTtlMs } : {}),
  });
  const config: SlackConfig = {
    mode: 'http',
    botToken: 'xoxb-test',
    signingSecret: SIGNING_SECRET,
    port: 0,
    apiUrl: options.slackApiUrl,
    userMap: new Map(),
  };
  const app = createApp(config, {
    service,
    catalogue,
    logger,
    now: () => new Date(),
    botIds: { botId: 'B0TEST', botUserId: 'UBOT' },
    webApiRetries: 0,
  });
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  const { port } = server.address() as AddressInfo;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  return {
    eventsUrl: `http://127.0.0.1:${port}/slack/events`,
    stats: () => {
      const stats: AppStats = {
        maxRssKb: process.resourceUsage().maxRSS,
        warnings,
        errors,
        firstProblems: [...firstProblems],
        eventLoopDelayMs: {
          p50: delay.percentile(50) / 1e6,
          p99: delay.percentile(99) / 1e6,
          max: delay.max / 1e6,
        },
      };
      delay.reset();
      return stats;
    },
    invalidate: () => service.invalidate(),
    async stop() {
      delay.disable();
      await app.stop();
      gateway.destroy();
    },
  };
}

/** Messages between the benchmark and the app process. */
export type AppRequest = { type: 'stats' } | { type: 'invalidate' } | { type: 'stop' };
export type AppReply =
  | { type: 'ready'; eventsUrl: string }
  | { type: 'stats'; stats: AppStats }
  | { type: 'invalidated' }
  | { type: 'failed'; message: string };

export interface AppProcess {
  readonly eventsUrl: string;
  readonly pid: number;
  stats(): Promise<AppStats>;
  /** Empties the app's read cache (see `RunningApp.invalidate`). */
  invalidate(): Promise<void>;
  stop(): Promise<void>;
}

const APP_START_TIMEOUT_MS = 60_000;

/**
 * Starts the app in a child process (`node --import tsx bench/lib/slack-app-main.ts`). Set
 * `BENCH_CPU_PROF_DIR` to get a CPU profile of each app process (slows it down).
 */
export async function startAppProcess(options: BenchAppOptions): Promise<AppProcess> {
  const child = spawn(
    process.execPath,
    [
      // BENCH_CPU_PROF_DIR=/tmp/prof writes a V8 CPU profile of each app process there.
      ...(process.env.BENCH_CPU_PROF_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
        : []),
      '--import',
      'tsx',
      'bench/lib/slack-app-main.ts',
      JSON.stringify(options),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        AWS_REGION: REGION,
        // The SDK's notice about Node 22 (see the API reference), printed once per process.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = (type: AppReply['type'], timeoutMs: number) =>
    new Promise<AppReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`the app process sent no ${type} message within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: AppReply) => {
        if (message.type !== type && message.type !== 'failed') return;
        cleanup();
        if (message.type === 'failed')
          reject(new Error(`the app process failed: ${message.message}`));
        else resolve(message);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`the app process exited (code ${code}) while waiting for ${type}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });

  let ready: AppReply;
  try {
    ready = await next('ready', APP_START_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  if (ready.type !== 'ready') throw new Error('unreachable');
  return {
    eventsUrl: ready.eventsUrl,
    pid: child.pid as number,
    async stats() {
      const reply = next('stats', 10_000);
      child.send({ type: 'stats' } satisfies AppRequest);
      const message = await reply;
      if (message.type !== 'stats') throw new Error('unreachable');
      return message.stats;
    },
    async invalidate() {
      const reply = next('invalidated', 10_000);
      child.send({ type: 'invalidate' } satisfies AppRequest);
      await reply;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'stop' } satisfies AppRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
