/**
 * Posting to a channel on a schedule (digests, alerts), where nobody is there to retry: Slack's
 * refusals become `SlackDeliveryError`s that say what to fix, `rate_limited` answers are waited
 * out a few times, and a post whose outcome is unknown can be found again in the channel's
 * history by the id its message carries in the metadata (scopes `channels:history` /
 * `groups:history`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { webApi } from '@slack/bolt';
import { z } from 'zod';
import { SlackDeliveryError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createWebClient, type SlackCallMetrics } from './web-client.js';

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
  message_not_found: 'the message is gone (deleted in Slack)',
  cant_update_message: 'the message was not posted by this bot',
};

/** How many times a rate-limited call is retried after `Retry-After`. */
const RATE_LIMIT_RETRIES = 3;

/** Default per-request timeout: a Slack that never answers must not hold a job forever. */
export const SLACK_TIMEOUT_MS = 30_000;

/** History pages read when looking for a post (200 messages each) before giving up. */
const HISTORY_PAGES = 20;

/** Clock skew allowed between this host and Slack when reading history from a post's time. */
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

/**
 * A Web API failure as a `SlackDeliveryError`: Slack's error code with a hint, `rate_limited`,
 * or `slack_unreachable` (`retry` says what happens then, e.g. "the digest is retried at the
 * next tick").
 */
export function deliveryError(error: unknown, retry: string): SlackDeliveryError {
  if (error instanceof SlackDeliveryError) return error;
  if (error instanceof webApi.WebAPIPlatformError) {
    const code = error.data.error;
    return new SlackDeliveryError(
      code,
      HINTS[code] ?? 'see https://api.slack.com/methods/chat.postMessage#errors',
      { cause: error },
    );
  }
  if (error instanceof webApi.WebAPIRateLimitedError) {
    return new SlackDeliveryError(
      'rate_limited',
      `Slack kept rate-limiting (retry after ${error.retryAfter} s)`,
      { cause: error },
    );
  }
  return new SlackDeliveryError('slack_unreachable', `Slack could not be reached; ${retry}`, {
    cause: error,
  });
}

/** What a poster's own Web API client needs. */
export interface DeliveryClientOptions {
  readonly token: string;
  readonly apiUrl?: string | undefined;
  /**
   * Web API retries for network errors (default 0): a retried post whose first attempt reached
   * Slack would post twice. A failed post is handled by the job instead.
   */
  readonly retries?: number;
  /** Per-request timeout in ms (default `SLACK_TIMEOUT_MS`). */
  readonly timeoutMs?: number;
  /** Counts the poster's Web API requests by method and error (`/metrics`). */
  readonly metrics?: SlackCallMetrics | undefined;
}

/**
 * The Web API client of a poster (it also runs in worker processes without Bolt): rate limits
 * are rejected to {@link withRateLimitRetries}, so a job never waits silently inside the client.
 */
export function createDeliveryClient(options: DeliveryClientOptions): webApi.WebClient {
  return createWebClient(
    options.token,
    {
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
      rejectRateLimitedCalls: true,
      retryConfig: { retries: options.retries ?? 0 },
      timeout: options.timeoutMs ?? SLACK_TIMEOUT_MS,
      logLevel: webApi.LogLevel.ERROR,
    },
    options.metrics,
  );
}

/** Who calls, for log lines and the unreachable hint: `{ job: 'digest', retry: '…' }`. */
export interface DeliveryContext {
  readonly logger: Logger;
  /** `digest`, `alert`: the prefix of log lines. */
  readonly job: string;
  /** What happens after Slack could not be reached. */
  readonly retry: string;
}

/**
 * Calls Slack, waiting out `rate_limited` answers up to `RATE_LIMIT_RETRIES` times.
 * @throws SlackDeliveryError
 */
export async function withRateLimitRetries<T>(
  context: DeliveryContext,
  method: string,
  call: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof webApi.WebAPIRateLimitedError && attempt < RATE_LIMIT_RETRIES) {
        context.logger.warn(
          `${context.job}: Slack rate-limited ${method}; retrying after ${error.retryAfter} s`,
        );
        await sleep(error.retryAfter * 1000);
        continue;
      }
      throw deliveryError(error, context.retry);
    }
  }
}

/** Slack's `seconds.micros` timestamp of a date, for `oldest`. */
function slackTs(date: Date): string {
  return (Math.max(0, date.getTime()) / 1000).toFixed(6);
}

/**
 * The `ts` of the message in `channel` posted since `since` whose metadata has this event type
 * and `id`, or null when there is none. @throws SlackDeliveryError
 */
export async function findPostedById(
  client: webApi.WebClient,
  context: DeliveryContext,
  post: {
    readonly channel: string;
    readonly eventType: string;
    readonly id: string;
    readonly since: Date;
  },
): Promise<{ ts: string } | null> {
  let cursor: string | undefined;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const raw = await withRateLimitRetries(context, 'conversations.history', () =>
      client.conversations.history({
        channel: post.channel,
        oldest: slackTs(new Date(post.since.getTime() - HISTORY_MARGIN_MS)),
        include_all_metadata: true,
        limit: 200,
        ...(cursor ? { cursor } : {}),
      }),
    );
    const { messages = [], response_metadata } = historyPageSchema.parse(raw);
    const found = messages.find(
      (m) => m.metadata?.event_type === post.eventType && m.metadata.event_payload?.id === post.id,
    );
    if (found?.ts) return { ts: found.ts };
    cursor = response_metadata?.next_cursor;
    if (!cursor) return null;
  }
  context.logger.warn(
    `${context.job}: gave up looking for post ${post.id} in ${post.channel} after ${HISTORY_PAGES} pages of history`,
  );
  return null;
}
