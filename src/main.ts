/**
 * The composition root: read config once, build the AWS gateway, the
 * connection service and the Slack app, then start. Nothing else in the
 * product wires dependencies together.
 */
import { createAwsGateway } from './aws/gateway.js';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';
import { createApp } from './slack/app.js';
import { createEndpointCatalogue } from './vpn/catalogue.js';
import { createConnectionService } from './vpn/service.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`vpn-conns: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (config.slack === null) {
    process.stderr.write(
      'vpn-conns: SLACK_BOT_TOKEN is not set. The bot needs it (and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN); ' +
        'for the terminal command run `vpn-conns help`.\n',
    );
    process.exit(1);
  }

  process.on('unhandledRejection', (reason) => logger.error('unhandled promise rejection', reason));

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
  const app = createApp(config.slack, { service, catalogue, logger, now: () => new Date() });

  if (config.slack.mode === 'http') {
    await app.start(config.slack.port);
    logger.info(
      `vpn-conns listening on port ${config.slack.port} (HTTP mode: POST /slack/events, GET /healthz)`,
    );
  } else {
    await app.start();
    logger.info('vpn-conns connected to Slack (Socket Mode)');
  }

  const stop = async (signal: string) => {
    logger.info(`${signal}: shutting down`);
    await app.stop().catch((error: unknown) => logger.warn('error while stopping', error));
    gateway.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

void main().catch((error: unknown) => {
  process.stderr.write(
    `vpn-conns: could not start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
