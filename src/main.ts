/**
 * The composition root: read config once, build the AWS gateway, the state
 * store, the connection service, the background jobs (collector, digests,
 * maintenance) and the Slack app, then start what this process's role asks for:
 * `all` (default) = Slack listeners + collector and digests, `web` = listeners
 * only, `worker` = collector and digests only. Every role runs maintenance.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createAuditTrail } from './audit.js';
import { createAwsGateway } from './aws/gateway.js';
import { type Config, loadConfig } from './config.js';
import { ConfigError, describeError } from './errors.js';
import { createBackground } from './jobs/background.js';
import { createLogger } from './logger.js';
import { createConnectionService } from './services/connections.js';
import { createTerminateService } from './services/terminate.js';
import { createApp } from './slack/app.js';
import { createDigestAnswer } from './slack/digest-command.js';
import { createSlackDigestPoster } from './slack/digest-poster.js';
import { openStore } from './store/index.js';
import { createEndpointCatalogue } from './vpn/catalogue.js';

function fail(message: string): never {
  process.stderr.write(`vpn-conns: ${message}\n`);
  process.exit(1);
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  const slack = config.slack;
  if (slack === null) {
    fail(
      'SLACK_BOT_TOKEN is not set. The bot needs it (and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN); ' +
        'for the terminal command run `vpn-conns help`.',
    );
  }
  if (config.role === 'worker' && config.digests.length === 0) {
    fail(
      'VPN_CONNS_ROLE=worker runs only the digests, and none is configured (set DIGEST_CHANNEL).',
    );
  }
  process.on('unhandledRejection', (reason) =>
    logger.error('unhandled promise rejection', describeError(reason)),
  );

  const now = () => new Date();
  const gateway = createAwsGateway({
    region: config.aws.region,
    requestTimeoutMs: config.aws.requestTimeoutMs,
    maxAttempts: config.aws.maxAttempts,
    logger,
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
  const store = await openStore(config.databaseUrl, { logger });
  logger.info(`state store: ${store.kind}`);

  // Maintenance on every role; the collector and the digests on `all` and `worker`.
  const background = createBackground({
    role: config.role,
    digests: config.digests,
    pollSeconds: config.pollSeconds,
    store,
    gateway,
    catalogue,
    poster: createSlackDigestPoster({ token: slack.botToken, apiUrl: slack.apiUrl, logger }),
    logger,
    now,
    holder: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    concurrency: config.aws.concurrency,
  });
  const { scheduler } = background;

  let app: ReturnType<typeof createApp> | undefined;
  if (config.role !== 'worker' && slack.mode !== 'none') {
    app = createApp(slack, {
      service,
      catalogue,
      terminator: createTerminateService({ gateway, catalogue, connections: service, logger }),
      access: config.access,
      audit: createAuditTrail({ store, logger, now }),
      logger,
      now,
      ...(background.digests !== null
        ? {
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
        `vpn-conns listening on port ${slack.port} (HTTP mode: POST /slack/events, GET /healthz)`,
      );
    } else {
      await app.start();
      logger.info('vpn-conns connected to Slack (Socket Mode)');
    }
  }
  scheduler.start();
  if (config.role !== 'web' && config.digests.length === 0) {
    logger.info('no digest configured (DIGEST_CHANNEL unset)');
  }

  const stop = async (signal: string) => {
    logger.info(`${signal}: shutting down`);
    await app
      ?.stop()
      .catch((error: unknown) => logger.warn('error while stopping Slack', describeError(error)));
    await scheduler.stop();
    await store.close().catch(() => {});
    gateway.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

void main().catch((error: unknown) => fail(`could not start: ${describeError(error)}`));
