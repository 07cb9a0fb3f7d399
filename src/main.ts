/**
 * The composition root: read config once, build the AWS gateway, the state
 * store, the connection service, the background jobs (collector, digests,
 * maintenance) and the Slack app, then start what this process's role asks for:
 * `all` (default) = Slack listeners + collector (session history) and digests,
 * `web` = listeners only, `worker` = collector and digests only. Every role
 * runs maintenance.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createAuditTrail } from './audit.js';
import { createAwsGateway } from './aws/gateway.js';
import { type Config, loadConfig } from './config.js';
import { ConfigError, describeError } from './errors.js';
import type { ReadinessState } from './http/health.js';
import { type AppMetrics, createMetrics } from './http/metrics.js';
import { type MetricsServer, type ObservabilityDeps, startMetricsServer } from './http/routes.js';
import { createAlertWatch } from './jobs/alerts.js';
import { collectorIntervalSeconds, createBackground } from './jobs/background.js';
import { createLogger, routeProcessWarnings } from './logger.js';
import { createConnectionService } from './services/connections.js';
import { createTerminateService } from './services/terminate.js';
import { createSlackAlertPoster } from './slack/alert-poster.js';
import { createAlertsAnswer } from './slack/alerts-command.js';
import { createApp } from './slack/app.js';
import { createDigestAnswer } from './slack/digest-command.js';
import { createSlackDigestPoster } from './slack/digest-poster.js';
import { createSlackReportPoster } from './slack/report-poster.js';
import { createValueSigner } from './slack/signed-values.js';
import { checkSlackReachable, describeStoreFailure, StartupError } from './startup-checks.js';
import { openStore } from './store/index.js';
import { createEndpointCatalogue } from './vpn/catalogue.js';

/** The process's one logger: JSON lines on stderr from the first line on (level set from config). */
const logger = createLogger('info');
// Process warnings (the AWS SDK's Node-version notice) become JSON lines too.
routeProcessWarnings(logger, 'warn');

/** Logs why the bot cannot start, one JSON line per problem, and exits 1. */
function fail(problems: readonly { setting?: string; message: string }[]): never {
  for (const { setting, message } of problems) {
    logger.error(message, setting === undefined ? {} : { setting });
  }
  logger.error(
    problems.length > 1
      ? `vpn-conns cannot start: ${problems.length} problems, listed above`
      : 'vpn-conns cannot start',
  );
  process.exit(1);
}

/** `AWS_REGION: is required …` → `AWS_REGION`; file problems name the file. */
function settingOf(problem: string): string | undefined {
  return /^([A-Z][A-Z0-9_]+):/.exec(problem)?.[1];
}

function problemOf(message: string): { setting?: string; message: string } {
  const setting = settingOf(message);
  return setting === undefined ? { message } : { setting, message };
}

function readConfig(): Config {
  try {
    return loadConfig(process.env, undefined, 'bot');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    fail(error.problems.map(problemOf));
  }
}

/** Opens the state store, or says which setting to fix and what to check. */
async function openStateStore(config: Config) {
  try {
    return await openStore(config.databaseUrl, { logger });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw describeStoreFailure(error, config.databaseUrl);
  }
}

type SlackSettings = NonNullable<Config['slack']>;
type Store = Awaited<ReturnType<typeof openStore>>;

/** The AWS side: one gateway (clients per region), the endpoint catalogue and the read service. */
function buildAws(config: Config, metrics: AppMetrics) {
  const gateway = createAwsGateway({
    region: config.aws.region,
    requestTimeoutMs: config.aws.requestTimeoutMs,
    maxAttempts: config.aws.maxAttempts,
    logger,
    metrics,
  });
  const catalogue = createEndpointCatalogue({
    gateway,
    configured: config.aws.endpoints,
    region: config.aws.region,
    logger,
  });
  const service = createConnectionService({
    gateway,
    catalogue,
    region: config.aws.region,
    logger,
    concurrency: config.aws.concurrency,
  });
  return { gateway, catalogue, service };
}

type Aws = ReturnType<typeof buildAws>;

/** Maintenance on every role; the collector (history, digests), digests and reports on `all` and `worker`. */
function buildBackground(
  config: Config,
  slack: SlackSettings,
  store: Store,
  aws: Aws,
  now: () => Date,
  metrics: AppMetrics,
) {
  const slackClient = { token: slack.botToken, apiUrl: slack.apiUrl, logger, metrics };
  const alerts = createAlertWatch({
    rules: config.alerts.rules,
    maxConnections: config.alerts.maxConnections,
    store,
    // Signed as the app signs its lists' buttons, so a click on an alert is verified the same way.
    poster: createSlackAlertPoster({ ...slackClient, signer: createValueSigner(slack.botToken) }),
    described: () => aws.catalogue.described(),
    logger,
    now,
    metrics,
  });
  return createBackground({
    role: config.role,
    digests: config.digests,
    pollSeconds: config.pollSeconds,
    historyPollSeconds: config.history.pollSeconds,
    historyDays: config.history.days,
    ...(config.reports.length > 0
      ? {
          reports: {
            configs: config.reports,
            poster: createSlackReportPoster(slackClient),
            pricing: config.pricing,
            region: config.aws.region,
          },
        }
      : {}),
    store,
    gateway: aws.gateway,
    catalogue: aws.catalogue,
    poster: createSlackDigestPoster(slackClient),
    logger,
    now,
    holder: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    concurrency: config.aws.concurrency,
    alerts,
    metrics,
  });
}

type Background = ReturnType<typeof buildBackground>;

/** The Slack app over the services, started in HTTP or Socket Mode; none on a `worker`. */
async function startSlack(
  config: Config,
  slack: SlackSettings,
  deps: {
    store: Store;
    aws: Aws;
    background: Background;
    now: () => Date;
    observability: ObservabilityDeps;
  },
) {
  if (config.role === 'worker' || slack.mode === 'none') return undefined;
  const { store, aws, background, now, observability } = deps;
  const { gateway, catalogue, service } = aws;
  const app = createApp(slack, {
    service,
    catalogue,
    terminator: createTerminateService({ gateway, catalogue, connections: service, logger }),
    access: config.access,
    audit: createAuditTrail({ store, logger, now }),
    history: {
      store,
      region: config.aws.region,
      timeZone: config.history.timeZone,
      pricing: config.pricing,
    },
    logger,
    now,
    observability,
    ...(background.alerts !== null
      ? { alerts: createAlertsAnswer({ watch: background.alerts, now }) }
      : {}),
    ...(background.digests !== null
      ? {
          homeDigests: background.digests.status,
          digest: createDigestAnswer({
            service: background.digests,
            digests: config.digests,
            nextRun: background.nextDigestRun,
          }),
        }
      : {}),
  });
  if (slack.mode === 'http') {
    await app.start(slack.port);
    logger.info(
      `vpn-conns listening on port ${slack.port} (HTTP mode: POST /slack/events, GET /healthz, /readyz, /metrics)`,
    );
  } else {
    await app.start();
    logger.info('vpn-conns connected to Slack (Socket Mode)');
  }
  return app;
}

/**
 * `/metrics` and `/readyz`: ready once the store is open and the collector's first poll
 * succeeded. A `web` process runs no collector, so only its store counts there.
 */
function observabilityOf(
  config: Config,
  background: Background,
  metrics: AppMetrics,
  storeOpen: () => boolean,
  now: () => Date,
): ObservabilityDeps {
  const pollIntervalSeconds = collectorIntervalSeconds({
    digests: config.digests,
    pollSeconds: config.pollSeconds,
    historyPollSeconds: config.history.pollSeconds,
  });
  const readinessState = (): ReadinessState => ({
    storeOpen: storeOpen(),
    lastPollSuccessAt: config.role === 'web' ? now() : background.collector.lastSuccessAt(),
    pollIntervalSeconds,
  });
  return {
    metrics,
    readinessState,
    now,
    onError: (error) => logger.warn('a /metrics scrape failed', describeError(error)),
  };
}

/** SIGTERM and SIGINT stop Slack, then the jobs (waiting for a running one), then the store. */
function stopOnSignals(parts: {
  app: Awaited<ReturnType<typeof startSlack>>;
  metricsServer: MetricsServer | null;
  background: Background;
  store: Store;
  aws: Aws;
  onStoreClosed: () => void;
}) {
  const stop = async (signal: string) => {
    logger.info(`${signal}: shutting down`);
    await parts.app
      ?.stop()
      .catch((error: unknown) => logger.warn('error while stopping Slack', describeError(error)));
    await parts.metricsServer?.close().catch(() => {});
    await parts.background.scheduler.stop();
    parts.onStoreClosed();
    await parts.store.close().catch(() => {});
    parts.aws.gateway.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

async function main(): Promise<void> {
  const config = readConfig();
  logger.setLevel(config.logLevel);
  const slack = config.slack;
  // `loadConfig(…, 'bot')` has refused a start without a bot token.
  if (slack === null) throw new Error('no Slack configuration');
  process.on('unhandledRejection', (reason) =>
    logger.error('unhandled promise rejection', describeError(reason)),
  );

  const now = () => new Date();
  const metrics = createMetrics();
  const aws = buildAws(config, metrics);
  const store = await openStateStore(config);
  logger.info(`state store: ${store.kind}`);
  await checkSlackReachable({ botToken: slack.botToken, apiUrl: slack.apiUrl });

  let storeOpen = true;
  const background = buildBackground(config, slack, store, aws, now, metrics);
  const observability = observabilityOf(config, background, metrics, () => storeOpen, now);
  const app = await startSlack(config, slack, { store, aws, background, now, observability });
  const metricsServer =
    config.metricsPort === null
      ? null
      : await startMetricsServer({ ...observability, port: config.metricsPort });
  if (metricsServer) logger.info(`metrics on port ${metricsServer.port}: GET /metrics, /readyz`);
  background.scheduler.start();
  if (config.role !== 'web' && config.alerts.rules.length > 0) {
    logger.info(
      `alert rules checked after every collector poll: ${config.alerts.rules.map((r) => r.name).join(', ')}`,
    );
  }
  if (config.role !== 'web' && config.digests.length === 0) {
    logger.info('no digest configured (DIGEST_CHANNEL unset): collecting the session history only');
  }
  stopOnSignals({
    app,
    metricsServer,
    background,
    store,
    aws,
    onStoreClosed: () => {
      storeOpen = false;
    },
  });
}

void main().catch((error: unknown) => {
  if (error instanceof StartupError) fail([{ setting: error.setting, message: error.message }]);
  if (error instanceof ConfigError) fail(error.problems.map(problemOf));
  fail([{ message: `could not start: ${describeError(error)}` }]);
});
