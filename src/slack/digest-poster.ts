/**
 * Posts digests to Slack: `chat.postMessage`, waiting out `rate_limited`
 * answers, and the full list as a CSV in the message's thread when the
 * message had to shorten it. Refusals become `SlackDeliveryError`s that say
 * what to fix; the digest job keeps the sessions pending.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { webApi } from '@slack/bolt';
import type { DigestConfig } from '../config.js';
import { SlackDeliveryError } from '../errors.js';
import type { DigestPoster } from '../jobs/digest.js';
import type { DigestView } from '../jobs/digest-view.js';
import type { Logger } from '../logger.js';
import { buildDigestMessage } from './blocks/digest.js';
import type { SlackMessage } from './blocks/limits.js';

const HINTS: Record<string, string> = {
  not_in_channel: 'the bot is not in that channel: invite it there (/invite @vpn-conns)',
  channel_not_found:
    'no such channel for this bot: check the channel ID (C…, not #name); for a private channel, invite the bot first',
  is_archived: 'the channel is archived: unarchive it or choose another channel',
  invalid_auth: 'Slack rejected the bot token: check SLACK_BOT_TOKEN',
  not_authed: 'no bot token was sent: check SLACK_BOT_TOKEN',
  account_inactive: 'the bot token belongs to a deactivated app or user: reinstall the app',
  token_revoked: 'the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN',
  missing_scope: 'the app lacks a scope: reinstall it from manifest.yml',
  restricted_action: 'a workspace setting forbids posting there: ask a Slack admin',
};

/** How many times a rate-limited post is retried after `Retry-After`. */
const RATE_LIMIT_RETRIES = 3;

function deliveryError(error: unknown): SlackDeliveryError {
  if (error instanceof SlackDeliveryError) return error;
  if (error instanceof webApi.WebAPIPlatformError) {
    const code = error.data.error;
    return new SlackDeliveryError(
      code,
      HINTS[code] ?? 'see https://api.slack.com/methods/chat.postMessage#errors',
      {
        cause: error,
      },
    );
  }
  if (error instanceof webApi.WebAPIRateLimitedError) {
    return new SlackDeliveryError(
      'rate_limited',
      `Slack kept rate-limiting (retry after ${error.retryAfter} s)`,
      {
        cause: error,
      },
    );
  }
  return new SlackDeliveryError(
    'slack_unreachable',
    'Slack could not be reached; the digest is retried at the next tick',
    {
      cause: error,
    },
  );
}

/** `vpn-conns-digest-security-20261127-1300.csv` */
function csvFilename(view: DigestView): string {
  const stamp = view.to.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `vpn-conns-digest-${view.name}-${stamp}.csv`;
}

export interface SlackDigestPosterOptions {
  readonly token: string;
  readonly apiUrl?: string | undefined;
  readonly logger: Logger;
  /**
   * Web API retries for network errors (default 0): a retried post whose first
   * attempt reached Slack would post the digest twice. A failed post stays
   * pending and goes out with the next tick instead.
   */
  readonly retries?: number;
}

/**
 * `chat.postMessage`, waiting out `rate_limited` answers up to `RATE_LIMIT_RETRIES` times.
 * @returns the message's `ts`. @throws SlackDeliveryError
 */
async function postMessage(
  client: webApi.WebClient,
  logger: Logger,
  channel: string,
  { text, blocks }: SlackMessage,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await client.chat.postMessage({
        channel,
        text,
        blocks,
        unfurl_links: false,
        unfurl_media: false,
      });
      if (!result.ts)
        throw new SlackDeliveryError('no_ts', 'Slack accepted the message but returned no ts');
      return result.ts;
    } catch (error) {
      if (error instanceof webApi.WebAPIRateLimitedError && attempt < RATE_LIMIT_RETRIES) {
        logger.warn(
          `digest: Slack rate-limited chat.postMessage; retrying after ${error.retryAfter} s`,
        );
        await sleep(error.retryAfter * 1000);
        continue;
      }
      throw deliveryError(error);
    }
  }
}

/** Uploads the digest's full list as CSV in the message's thread; a failure is logged only. */
async function attachCsv(
  client: webApi.WebClient,
  logger: Logger,
  digest: DigestConfig,
  view: DigestView,
  ts: string,
  csv: string,
): Promise<void> {
  try {
    await client.filesUploadV2({
      channel_id: digest.channel,
      thread_ts: ts,
      filename: csvFilename(view),
      title: `VPN sessions ended ${view.from.toISOString()} – ${view.to.toISOString()}`,
      content: csv,
      initial_comment: `All ${view.sessions.length} sessions of this digest.`,
    });
  } catch (error) {
    // The digest itself is posted; a missing attachment must not post it twice.
    logger.error(`digest ${digest.name}: CSV attachment failed: ${deliveryError(error).message}`);
  }
}

/** Builds the poster with its own Web API client (it also runs in worker processes without Bolt). */
export function createSlackDigestPoster(options: SlackDigestPosterOptions): DigestPoster {
  const client = new webApi.WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    // Rate limits are handled here, so a digest never waits silently inside the client.
    rejectRateLimitedCalls: true,
    retryConfig: { retries: options.retries ?? 0 },
    logLevel: webApi.LogLevel.ERROR,
  });
  const { logger } = options;
  return {
    async post(digest: DigestConfig, view: DigestView) {
      const { message, csv } = buildDigestMessage(view);
      const ts = await postMessage(client, logger, digest.channel, message);
      if (csv !== null) await attachCsv(client, logger, digest, view, ts, csv);
      return { ts };
    },
  };
}
