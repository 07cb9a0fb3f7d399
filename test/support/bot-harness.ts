/**
 * The whole bot over loopback, for end-to-end tests and benchmarks: the EC2 emulator, the Slack
 * stand-in, the real AWS gateway (SDK pointed at the emulator), the real endpoint catalogue and
 * connection service, and the real Bolt app from `createApp`, started on an ephemeral port in
 * HTTP mode (or connected through the stand-in in Socket Mode).
 *
 * ```ts
 * const bot = await startBotHarness({ fleet: generateFleet({ connections: 100, now: NOW }) });
 * const sent = await bot.command('prod');
 * const answer = await bot.waitForAnswer(sent.responseUrlId);
 * await bot.stop();
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { App } from '@slack/bolt';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { type AuditTrail, createAuditTrail } from '../../src/audit.js';
import { createAwsGateway } from '../../src/aws/gateway.js';
import { type AccessConfig, loadConfig, type SlackConfig } from '../../src/config.js';
import type { AppMetrics } from '../../src/http/metrics.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { DEFAULT_PRICING, type Pricing } from '../../src/reports/usage.js';
import { type Ec2Emulator, startEc2Emulator } from '../../src/sandbox/ec2-emulator.js';
import {
  blockActionsPayload,
  postInteraction,
  postSlashCommand,
  type SignedRequestOptions,
} from '../../src/sandbox/slack-signing.js';
import {
  type SlackResponseUrlPost,
  type SlackStandIn,
  startSlackStandIn,
} from '../../src/sandbox/slack-stand-in.js';
import { DEFAULT_FLEET_NOW, type Fleet } from '../../src/sandbox/vpn-data.js';
import { type ConnectionService, createConnectionService } from '../../src/services/connections.js';
import { createTerminateService } from '../../src/services/terminate.js';
import type { AnswerDeps } from '../../src/slack/answer.js';
import { createApp } from '../../src/slack/app.js';
import type { IdentityResolver } from '../../src/slack/identity.js';
import { openSqliteStore } from '../../src/store/index.js';
import type { StateStore } from '../../src/store/types.js';
import { createEndpointCatalogue, type EndpointCatalogue } from '../../src/vpn/catalogue.js';
import { aliasFromName, type Endpoint } from '../../src/vpn/endpoint.js';
import type { VpnGateway } from '../../src/vpn/gateway.js';

export const HARNESS_SIGNING_SECRET = 'harness-signing-secret';
export const HARNESS_BOT_TOKEN = 'xoxb-harness-token';
export const HARNESS_APP_TOKEN = 'xapp-harness-token';
/** The Slack user commands and clicks come from unless told otherwise. */
export const HARNESS_USER_ID = 'U0TESTER';
export const HARNESS_TEAM_ID = 'T0TEST';
export const HARNESS_CHANNEL_ID = 'C0TEST';

/**
 * A clock shared by the emulator and the bot: it starts at `start` and runs with real time
 * (`running`, the default) or stands still, and tests can move it with `advance` / `set`.
 */
export interface TestClock {
  now(): Date;
  advance(ms: number): void;
  set(date: Date): void;
}

export function createTestClock(
  start: Date = DEFAULT_FLEET_NOW,
  options: { running?: boolean } = {},
): TestClock {
  const running = options.running ?? true;
  let base = start.getTime();
  let origin = performance.now();
  return {
    now: () => new Date(base + (running ? Math.floor(performance.now() - origin) : 0)),
    advance(ms) {
      base += ms;
    },
    set(date) {
      base = date.getTime();
      origin = performance.now();
    },
  };
}

export interface BotHarnessOptions {
  /** Endpoints and connections put in the emulator before the bot starts. */
  readonly fleet?: Fleet;
  /**
   * How the bot knows its endpoints: a `VPN_ENDPOINTS` value (`prod=cvpn-endpoint-…,dev=…`,
   * parsed by the real `loadConfig`), a list of endpoints, or `'discover'`
   * (DescribeClientVpnEndpoints). Default: the fleet's endpoints, aliased by their Name.
   */
  readonly endpoints?: string | readonly Endpoint[] | 'discover';
  /** `AWS_REGION`; default `us-east-1`. */
  readonly region?: string;
  /** How long the service reuses one endpoint's read; default 0 (only concurrent reads share). */
  readonly cacheTtlMs?: number;
  /** How long the catalogue reuses endpoint descriptions; default its own (10 min). */
  readonly catalogueTtlMs?: number;
  /** `VPN_USER_MAP`: Slack user ID → VPN user name. */
  readonly userMap?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /** Clock of the emulator, the service and the app; default a running clock at the fleet's now. */
  readonly clock?: TestClock;
  /** Per-attempt AWS request timeout; default 5 s. */
  readonly requestTimeoutMs?: number;
  /** SDK attempts per call (retried without delay); default 3. */
  readonly maxAttempts?: number;
  /** Endpoints read at once; default 4. */
  readonly concurrency?: number;
  /** `http` (default: signed requests to /slack/events) or `socket` (stand-in WebSocket). */
  readonly mode?: 'http' | 'socket';
  /** Replaces the identity resolver `createApp` would build over users.info. */
  readonly identity?: IdentityResolver;
  /** Answers `digest` / `digest now`. */
  readonly digest?: AnswerDeps['digest'];
  /** Answers `alerts`. */
  readonly alerts?: AnswerDeps['alerts'];
  /** Log level of the captured log (`logs`); default `debug`. */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Also print log lines to stderr (debugging a test). */
  readonly echoLogs?: boolean;
  /** `VPN_CONNS_ALLOWED` / `VPN_CONNS_ADMINS`; default none (everyone may use, nobody is admin). */
  readonly access?: AccessConfig;
  /** Give the app a terminate service over the harness's own gateway: enables the Terminate buttons. */
  readonly terminate?: boolean;
  /** Answer `history` and `report` from a SQLite store in a temporary directory (`store`). */
  readonly history?: { readonly timeZone?: string; readonly pricing?: Pricing };
  /** Record an audit trail over a SQLite store in a temporary directory (`store`, `audit`). */
  readonly audit?: boolean;
  /** How long the app reuses user-group member lists; default the app's own (5 min). */
  readonly groupCacheMs?: number;
  /** Give the app these metrics (`observability`, always ready): what it records lands here. */
  readonly metrics?: AppMetrics;
}

/** What sending a command or a click gave: the HTTP answer (or Socket Mode ack) and its response_url. */
export interface SentRequest {
  /** HTTP status (200 for an ack over Socket Mode). */
  readonly status: number;
  /** The raw answer body (the ack payload as JSON over Socket Mode). */
  readonly body: string;
  readonly elapsedMs: number;
  readonly responseUrl: string;
  /** The id the stand-in files this response_url's posts under (`responseUrlPosts[].id`). */
  readonly responseUrlId: string;
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON. */
  json(): Record<string, unknown> | undefined;
}

export interface CommandOptions extends SignedRequestOptions {
  readonly userId?: string;
  readonly channelId?: string;
  readonly teamId?: string;
  /** Default: a fresh one from the stand-in. */
  readonly responseUrl?: string;
  readonly command?: string;
}

export interface ClickOptions extends SignedRequestOptions {
  readonly userId?: string;
  readonly channelId?: string;
  /** Default: a fresh one from the stand-in. */
  readonly responseUrl?: string;
  readonly blockId?: string;
  /** The message holding the button; omit for an ephemeral message. */
  readonly message?: Record<string, unknown>;
}

export interface BotHarness {
  /** `http://127.0.0.1:PORT/slack/events` (HTTP mode; `''` in Socket Mode). */
  readonly url: string;
  /** `http://127.0.0.1:PORT` (HTTP mode; `''` in Socket Mode). */
  readonly origin: string;
  readonly signingSecret: string;
  readonly emulator: Ec2Emulator;
  readonly slack: SlackStandIn;
  readonly app: App;
  readonly gateway: VpnGateway & { destroy(): void };
  readonly catalogue: EndpointCatalogue;
  readonly service: ConnectionService;
  readonly clock: TestClock;
  readonly logger: Logger;
  /** Every log line, as JSON text. */
  readonly logs: string[];
  /** The SQLite store behind the audit trail and the history (`audit`, `history`), else `null`. */
  readonly store: StateStore | null;
  /** The audit trail the app records to (`audit: true`), else `null`. */
  readonly audit: AuditTrail | null;
  /** The structured log lines of one event (`logger.event('audit', …)`), parsed, in order. */
  logEvents(event: string): Record<string, unknown>[];
  /** The endpoints from config (`null` when discovering). */
  readonly endpoints: readonly Endpoint[] | null;
  /** Sends `/vpn-conns <text>` (signed in HTTP mode, as an envelope in Socket Mode). */
  command(text: string, options?: CommandOptions): Promise<SentRequest>;
  /** Clicks a button: a signed `block_actions` payload (an envelope in Socket Mode). */
  click(actionId: string, value: string, options?: ClickOptions): Promise<SentRequest>;
  /** The posts made so far to one response_url. */
  answers(responseUrlId: string): SlackResponseUrlPost[];
  /** Waits until the response_url has `count` posts (default 1) and returns the last of them. */
  waitForAnswer(
    responseUrlId: string,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<SlackResponseUrlPost>;
  /** Stops the app, then closes the stand-in, the emulator and the SDK clients. */
  stop(): Promise<void>;
}

function toMap(
  value: Readonly<Record<string, string>> | ReadonlyMap<string, string> | undefined,
): ReadonlyMap<string, string> {
  if (value === undefined) return new Map();
  if (value instanceof Map) return value;
  return new Map(Object.entries(value as Readonly<Record<string, string>>));
}

function configuredEndpoints(
  options: BotHarnessOptions,
  region: string,
): readonly Endpoint[] | null {
  const { endpoints } = options;
  if (endpoints === 'discover') return null;
  if (typeof endpoints === 'string') {
    return loadConfig({ AWS_REGION: region, VPN_ENDPOINTS: endpoints }).aws.endpoints;
  }
  if (endpoints !== undefined) return endpoints;
  const taken = new Set<string>();
  return (options.fleet?.endpoints ?? []).map((e, i) => {
    const wanted = aliasFromName(e.name) ?? `vpn-${i}`;
    const alias = taken.has(wanted) ? `${wanted}-${i}` : wanted;
    taken.add(alias);
    return { alias, id: e.id, region: e.region ?? region };
  });
}

function idOf(responseUrl: string): string {
  return responseUrl.slice(responseUrl.lastIndexOf('/') + 1);
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the emulator, the stand-in and the bot; call `stop()` when done. */
export async function startBotHarness(options: BotHarnessOptions = {}): Promise<BotHarness> {
  const region = options.region ?? 'us-east-1';
  const clock = options.clock ?? createTestClock(DEFAULT_FLEET_NOW);
  const mode = options.mode ?? 'http';
  // Before anything starts: a bad VPN_ENDPOINTS value throws here.
  const endpoints = configuredEndpoints(options, region);
  const logs: string[] = [];
  const logger = createLogger(options.logLevel ?? 'debug', (line) => {
    logs.push(line);
    if (options.echoLogs) process.stderr.write(`${line}\n`);
  });

  const emulator = await startEc2Emulator({ now: clock.now });
  if (options.fleet) {
    try {
      emulator.addEndpoints(options.fleet.endpoints);
      emulator.addConnections(options.fleet.connections);
    } catch (error) {
      await emulator.close();
      throw error;
    }
  }
  const slack = await startSlackStandIn({
    botToken: HARNESS_BOT_TOKEN,
    appToken: HARNESS_APP_TOKEN,
  });

  const maxAttempts = options.maxAttempts ?? 3;
  const gateway = createAwsGateway({
    region,
    logger,
    maxAttempts,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    clientConfig: {
      endpoint: emulator.url,
      credentials: { accessKeyId: 'AKIDHARNESS', secretAccessKey: 'harness-secret' },
      // Retries without back-off: throttling and network tests take milliseconds.
      retryStrategy: new ConfiguredRetryStrategy(maxAttempts, () => 0),
    },
    // The emulator also answers STS AssumeRole, for endpoints with a `roleArn`.
    stsClientConfig: {
      endpoint: emulator.url,
      retryStrategy: new ConfiguredRetryStrategy(maxAttempts, () => 0),
    },
  });
  const catalogue = createEndpointCatalogue({
    gateway,
    configured: endpoints,
    region,
    logger,
    ...(options.catalogueTtlMs !== undefined ? { ttlMs: options.catalogueTtlMs } : {}),
    now: () => clock.now().getTime(),
  });
  const service = createConnectionService({
    gateway,
    catalogue,
    region,
    logger,
    cacheTtlMs: options.cacheTtlMs ?? 0,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    now: clock.now,
  });

  const common = {
    botToken: HARNESS_BOT_TOKEN,
    apiUrl: slack.url,
    userMap: toMap(options.userMap),
  };
  const slackConfig: SlackConfig =
    mode === 'socket'
      ? { ...common, mode: 'socket', appToken: HARNESS_APP_TOKEN, port: 0 }
      : { ...common, mode: 'http', signingSecret: HARNESS_SIGNING_SECRET, port: 0 };
  let app: App;
  let origin = '';
  let store: StateStore | null = null;
  let storeDir: string | null = null;
  let audit: AuditTrail | null = null;
  const closeStore = async () => {
    await store?.close();
    if (storeDir !== null) rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    if (options.audit || options.history) {
      storeDir = mkdtempSync(join(tmpdir(), 'vpn-conns-harness-'));
      store = await openSqliteStore(join(storeDir, 'state.db'), { now: clock.now });
      if (options.audit) audit = createAuditTrail({ store, logger, now: clock.now });
    }
    app = createApp(slackConfig, {
      service,
      catalogue,
      logger,
      now: clock.now,
      webApiRetries: 0,
      botIds: { botId: 'B0TEST', botUserId: 'UBOT' },
      ...(options.identity ? { identity: options.identity } : {}),
      ...(options.digest ? { digest: options.digest } : {}),
      ...(options.alerts ? { alerts: options.alerts } : {}),
      ...(options.access ? { access: options.access } : {}),
      ...(options.terminate
        ? {
            terminator: createTerminateService({
              gateway,
              catalogue,
              connections: service,
              logger,
            }),
          }
        : {}),
      ...(audit ? { audit } : {}),
      ...(store && options.history
        ? {
            history: {
              store,
              region: options.region ?? 'us-east-1',
              timeZone: options.history.timeZone ?? 'UTC',
              pricing: options.history.pricing ?? DEFAULT_PRICING,
            },
          }
        : {}),
      ...(options.groupCacheMs !== undefined ? { groupCacheMs: options.groupCacheMs } : {}),
      ...(options.metrics
        ? {
            observability: {
              metrics: options.metrics,
              readinessState: () => ({
                storeOpen: true,
                lastPollSuccessAt: clock.now(),
                pollIntervalSeconds: 60,
              }),
            },
          }
        : {}),
    });
    if (mode === 'http') {
      const server = await app.start(0);
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    } else {
      await app.start();
      await slack.socket.waitForConnection();
    }
  } catch (error) {
    await slack.close();
    await emulator.close();
    gateway.destroy();
    await closeStore();
    throw error;
  }
  const url = origin === '' ? '' : `${origin}/slack/events`;

  /** HTTP mode: `post()` (signed); Socket Mode: the same payload in an envelope. */
  const send = async (
    kind: 'slash_commands' | 'interactive',
    payload: Record<string, unknown>,
    responseUrl: string,
    post: () => ReturnType<typeof postSlashCommand>,
  ): Promise<SentRequest> => {
    let status: number;
    let body: string;
    let elapsedMs: number;
    if (mode === 'http') {
      ({ status, body, elapsedMs } = await post());
    } else {
      const started = performance.now();
      const ack = await slack.socket.send(kind, payload);
      elapsedMs = performance.now() - started;
      status = 200;
      body = JSON.stringify(ack ?? {});
    }
    return {
      status,
      body,
      elapsedMs,
      responseUrl,
      responseUrlId: idOf(responseUrl),
      json: () => parseJson(body),
    };
  };

  let stopped = false;
  return {
    url,
    origin,
    signingSecret: HARNESS_SIGNING_SECRET,
    emulator,
    slack,
    app,
    gateway,
    catalogue,
    service,
    clock,
    logger,
    logs,
    store,
    audit,
    logEvents(event) {
      return logs
        .map(parseJson)
        .filter((line): line is Record<string, unknown> => line?.event === event);
    },
    endpoints,
    command(text, opts = {}) {
      const responseUrl = opts.responseUrl ?? slack.newResponseUrl();
      const fields = {
        command: opts.command ?? '/vpn-conns',
        text,
        user_id: opts.userId ?? HARNESS_USER_ID,
        team_id: opts.teamId ?? HARNESS_TEAM_ID,
        channel_id: opts.channelId ?? HARNESS_CHANNEL_ID,
        response_url: responseUrl,
      };
      const signed: SignedRequestOptions = {
        ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
        ...(opts.signature !== undefined ? { signature: opts.signature } : {}),
      };
      const payload = {
        ...fields,
        token: 'verification-token-unused',
        team_domain: 'test-workspace',
        channel_name: 'ops',
        user_name: 'tester',
        api_app_id: 'A0TEST',
        is_enterprise_install: 'false',
        trigger_id: `${Date.now()}.1.harness`,
      };
      return send('slash_commands', payload, responseUrl, () =>
        postSlashCommand(url, HARNESS_SIGNING_SECRET, fields, signed),
      );
    },
    click(actionId, value, opts = {}) {
      const responseUrl = opts.responseUrl ?? slack.newResponseUrl();
      const payload = blockActionsPayload({
        userId: opts.userId ?? HARNESS_USER_ID,
        teamId: HARNESS_TEAM_ID,
        channelId: opts.channelId ?? HARNESS_CHANNEL_ID,
        actionId,
        value,
        responseUrl,
        ...(opts.blockId !== undefined ? { blockId: opts.blockId } : {}),
        ...(opts.message !== undefined ? { message: opts.message } : {}),
      });
      const signed: SignedRequestOptions = {
        ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
        ...(opts.signature !== undefined ? { signature: opts.signature } : {}),
      };
      return send('interactive', payload, responseUrl, () =>
        postInteraction(url, HARNESS_SIGNING_SECRET, payload, signed),
      );
    },
    answers(responseUrlId) {
      return slack.responseUrlPosts.filter((p) => p.id === responseUrlId);
    },
    async waitForAnswer(responseUrlId, waitOptions = {}) {
      const count = waitOptions.count ?? 1;
      const posts = await slack.waitFor(() => {
        const found = slack.responseUrlPosts.filter((p) => p.id === responseUrlId);
        return found.length >= count ? found : undefined;
      }, waitOptions.timeoutMs);
      return posts[count - 1] as SlackResponseUrlPost;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // The app first: a Socket Mode client left running would reconnect to a closing stand-in.
      await app.stop();
      if (mode === 'socket') {
        // Closing the stand-in while the socket is open makes ws wait for the peer.
        await slack.waitFor(() => !slack.socket.connected(), 2000).catch(() => undefined);
      }
      await slack.close();
      await emulator.close();
      gateway.destroy();
      await closeStore();
    },
  };
}
