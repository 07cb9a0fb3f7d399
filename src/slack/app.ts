/**
 * The Bolt app: the only place that builds `@slack/bolt` objects. HTTP mode
 * (signing secret; `POST /slack/events`, `GET /healthz`) or Socket Mode (app
 * token), chosen by config. Listeners are registered from `listeners/`.
 */
import { App, LogLevel } from '@slack/bolt';
import type { AccessConfig, SlackConfig } from '../config.js';
import { type ObservabilityDeps, observabilityRoutes } from '../http/routes.js';
import type { DigestStatus } from '../jobs/digest.js';
import type { Logger } from '../logger.js';
import type { TerminateService } from '../services/terminate.js';
import { createAccessChecker } from './access.js';
import { createAccessMiddleware } from './access-middleware.js';
import type { AnswerDeps } from './answer.js';
import { createHomeChart } from './home-chart.js';
import { createIdentityResolver, type IdentityResolver } from './identity.js';
import { registerListeners } from './listeners/index.js';
import { createMessageMemo } from './message-memo.js';
import { meteredAuditTrail } from './metered-audit.js';
import { createRequestTimingMiddleware } from './request-timing.js';
import { createValueSigner } from './signed-values.js';
import { createTurns } from './turns.js';
import { meteredClientOptions } from './web-client.js';

export interface AppDeps
  extends Omit<AnswerDeps, 'identity' | 'access' | 'signer' | 'messages' | 'turns'> {
  readonly logger: Logger;
  /** Built from the app's own Web API client when absent. */
  readonly identity?: IdentityResolver;
  /** Who may use the bot and who may terminate; default: everyone, nobody. */
  readonly access?: AccessConfig;
  /** Terminates sessions for admins; without it there are no Terminate buttons. */
  readonly terminator?: TerminateService;
  /** How long user-group member lists are reused (default 5 minutes). */
  readonly groupCacheMs?: number;
  /** The App Home's "last digest": each configured digest's status; absent = no digests here. */
  readonly homeDigests?: () => Promise<readonly DigestStatus[]>;
  /** Upload the App Home's 24-hour chart (default true; needs `history`). */
  readonly homeChart?: boolean;
  /**
   * Metrics and readiness: `/metrics` and `/readyz` beside `/healthz` in HTTP mode; in either
   * mode commands and clicks counted by outcome (through the audit trail), their ack and answer
   * times (`request-timing.ts`), and every Web API request of the app's clients (`web-client.ts`).
   */
  readonly observability?: ObservabilityDeps;
  /** Tests: skip Bolt's `auth.test` at construction by giving the bot's IDs. */
  readonly botIds?: { readonly botId: string; readonly botUserId: string };
  /** Tests: how many times the Web API client retries (default: Bolt's policy). */
  readonly webApiRetries?: number;
}

const LEVELS: Record<string, LogLevel> = {
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
};

/** Bolt's logger over ours: Bolt wants its LogLevel enum back from getLevel(); everything else is ours. */
function boltLoggerOf(logger: Logger) {
  const level = () => LEVELS[logger.getLevel()] ?? LogLevel.INFO;
  return {
    debug: logger.debug,
    info: logger.info,
    warn: logger.warn,
    error: logger.error,
    setLevel: (next: LogLevel) => logger.setLevel(next),
    getLevel: level,
    setName: logger.setName,
  };
}

/** The bare Bolt app: HTTP mode with `/healthz`, or Socket Mode. */
function newBoltApp(config: SlackConfig, deps: AppDeps): App {
  // Bolt copies these into every client it builds (app.client, the listeners' `client`).
  const clientOptions = meteredClientOptions(
    {
      ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
      ...(deps.webApiRetries !== undefined ? { retryConfig: { retries: deps.webApiRetries } } : {}),
    },
    deps.observability?.metrics,
  );
  const logger = boltLoggerOf(deps.logger);
  if (config.mode === 'none') {
    throw new Error(
      'createApp needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)',
    );
  }
  const common = {
    token: config.botToken,
    logger,
    logLevel: logger.getLevel(),
    clientOptions,
    ...(deps.botIds ?? {}),
  };
  if (config.mode === 'socket') {
    return new App({ ...common, socketMode: true, appToken: config.appToken });
  }
  return new App({
    ...common,
    signingSecret: config.signingSecret,
    port: config.port,
    customRoutes: [
      ...(deps.observability ? observabilityRoutes(deps.observability) : []),
      {
        path: '/healthz',
        method: ['GET', 'HEAD'],
        handler: (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('ok');
        },
      },
    ],
  });
}

/** Builds the Bolt app for the configured mode: the access middleware, then every listener. */
export function createApp(config: SlackConfig, deps: AppDeps): App {
  const app = newBoltApp(config, deps);
  const { access, terminator, homeDigests, homeChart, observability, ...withTrail } = deps;
  const trail =
    withTrail.audit && observability
      ? meteredAuditTrail(withTrail.audit, observability.metrics)
      : withTrail.audit;
  const rest = { ...withTrail, ...(trail ? { audit: trail } : {}) };
  const checker = access
    ? createAccessChecker({
        access,
        client: app.client,
        logger: deps.logger,
        ...(deps.groupCacheMs !== undefined ? { ttlMs: deps.groupCacheMs } : {}),
      })
    : undefined;
  // First, so that each command's and click's clock starts as early as our code can start it.
  if (observability) app.use(createRequestTimingMiddleware({ metrics: observability.metrics }));
  app.use(
    createAccessMiddleware({
      ...(checker ? { access: checker } : {}),
      ...(trail ? { audit: trail } : {}),
      logger: deps.logger,
      terminate: terminator !== undefined,
    }),
  );
  registerListeners(
    app,
    {
      ...rest,
      messages: createMessageMemo(),
      turns: createTurns(),
      identity:
        deps.identity ?? createIdentityResolver({ client: app.client, userMap: config.userMap }),
      ...(checker ? { access: checker } : {}),
      ...(terminator
        ? {
            terminator,
            // Terminate buttons are signed with a key derived from the bot token: only this bot can make them.
            signer: createValueSigner(config.botToken),
          }
        : {}),
    },
    {
      ...(homeDigests ? { digests: homeDigests } : {}),
      ...(homeChart !== false && deps.history
        ? { chart: createHomeChart({ client: app.client, now: deps.now }) }
        : {}),
    },
  );

  // The last net: a listener error is logged, never fatal.
  app.error(async (error) => {
    deps.logger.error('unhandled error in a Slack listener', error);
  });
  return app;
}
