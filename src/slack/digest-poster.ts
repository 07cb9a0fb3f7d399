/**
 * Posts digests to Slack: `chat.postMessage`, waiting out `rate_limited`
 * answers, and the full list as a CSV in the message's thread when the
 * message had to shorten it. Refusals become `SlackDeliveryError`s that say
 * what to fix; the digest job keeps the sessions pending.
 *
 * Each post carries its intent's id in the message's metadata
 * (`vpn_conns_digest`), so that after a crash between Slack's `ok` and the
 * database commit the job can find the post in the channel's history
 * (`conversations.history`, scopes `channels:history`/`groups:history`)
 * instead of posting it again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { webApi } from '@slack/bolt';
import { z } from 'zod';
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

/** How many times a rate-limited call is retried after `Retry-After`. */
const RATE_LIMIT_RETRIES = 3;

/** The metadata event type of a digest message; its payload's `id` is the intent's. */
export const DIGEST_EVENT_TYPE = 'vpn_conns_digest';

/** Default per-request timeout: a Slack that never answers must not hold the digest job forever. */
export const SLACK_TIMEOUT_MS = 30_000;

/** History pages read when looking for a post (200 messages each) before giving up. */
const HISTORY_PAGES = 20;

/** Clock skew allowed between this host and Slack when reading history from an intent's time. */
const HISTORY_MARGIN_MS = 10 * 60_000;

const historyPageSchema = z.object({
  messages: z
    .array(
      z.object({
        ts: z.string().optional(),
        metadata: z
          .object({
            event_type: z.string().optional(),
            event_payload: z.record(z.string(), z.unknown()).optional(),
          })
          .optional(),
      }),
    )
    .optional(),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});

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
  /** Per-request timeout in ms (default `SLACK_TIMEOUT_MS`). */
  readonly timeoutMs?: number;
}

/** Calls Slack, waiting out `rate_limited` answers up to `RATE_LIMIT_RETRIES` times. @throws SlackDeliveryError */
async function withRateLimitRetries<T>(
  logger: Logger,
  method: string,
  call: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof webApi.WebAPIRateLimitedError && attempt < RATE_LIMIT_RETRIES) {
        logger.warn(`digest: Slack rate-limited ${method}; retrying after ${error.retryAfter} s`);
        await sleep(error.retryAfter * 1000);
        continue;
      }
      throw deliveryError(error);
    }
  }
}

/**
 * `chat.postMessage` with the intent's id in the metadata, waiting out `rate_limited` answers.
 * @returns the message's `ts`. @throws SlackDeliveryError
 */
async function postMessage(
  client: webApi.WebClient,
  logger: Logger,
  channel: string,
  { text, blocks }: SlackMessage,
  metadata: { digest: string; intentId: string | undefined; tickAt: Date },
): Promise<string> {
  const result = await withRateLimitRetries(logger, 'chat.postMessage', () =>
    client.chat.postMessage({
      channel,
      text,
      blocks,
      unfurl_links: false,
      unfurl_media: false,
      ...(metadata.intentId === undefined
        ? {}
        : {
            metadata: {
              event_type: DIGEST_EVENT_TYPE,
              event_payload: {
                id: metadata.intentId,
                digest: metadata.digest,
                tick: metadata.tickAt.toISOString(),
              },
            },
          }),
    }),
  );
  if (!result.ts)
    throw new SlackDeliveryError('no_ts', 'Slack accepted the message but returned no ts');
  return result.ts;
}

/** Slack's `seconds.micros` timestamp of a date, for `oldest`. */
function slackTs(date: Date): string {
  return (Math.max(0, date.getTime()) / 1000).toFixed(6);
}

/**
 * The `ts` of the message in `channel` posted since `since` with this intent's id in its
 * metadata, or null when there is none. @throws SlackDeliveryError
 */
async function findPosted(
  client: webApi.WebClient,
  logger: Logger,
  channel: string,
  intentId: string,
  since: Date,
): Promise<{ ts: string } | null> {
  let cursor: string | undefined;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const raw = await withRateLimitRetries(logger, 'conversations.history', () =>
      client.conversations.history({
        channel,
        oldest: slackTs(new Date(since.getTime() - HISTORY_MARGIN_MS)),
        include_all_metadata: true,
        limit: 200,
        ...(cursor ? { cursor } : {}),
      }),
    );
    const { messages = [], response_metadata } = historyPageSchema.parse(raw);
    const found = messages.find(
      (m) =>
        m.metadata?.event_type === DIGEST_EVENT_TYPE && m.metadata.event_payload?.id === intentId,
    );
    if (found?.ts) return { ts: found.ts };
    cursor = response_metadata?.next_cursor;
    if (!cursor) return null;
  }
  logger.warn(
    `digest: gave up looking for post ${intentId} in ${channel} after ${HISTORY_PAGES} pages of history`,
  );
  return null;
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
    timeout: options.timeoutMs ?? SLACK_TIMEOUT_MS,
    logLevel: webApi.LogLevel.ERROR,
  });
  const { logger } = options;
  return {
    async post(digest, view, intentId) {
      const { message, csv } = buildDigestMessage(view);
      const ts = await postMessage(client, logger, digest.channel, message, {
        digest: digest.name,
        intentId,
        tickAt: view.to,
      });
      if (csv !== null) await attachCsv(client, logger, digest, view, ts, csv);
      return { ts };
    },
    findPosted: (digest, intentId, since) =>
      findPosted(client, logger, digest.channel, intentId, since),
    async complete(digest, view, ts) {
      const { csv } = buildDigestMessage(view);
      if (csv !== null) await attachCsv(client, logger, digest, view, ts, csv);
    },
  };
}
