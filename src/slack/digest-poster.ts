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
import type { webApi } from '@slack/bolt';
import type { DigestConfig } from '../config.js';
import { SlackDeliveryError } from '../errors.js';
import type { DigestPoster } from '../jobs/digest.js';
import type { DigestView } from '../jobs/digest-view.js';
import type { Logger } from '../logger.js';
import { buildDigestMessage } from './blocks/digest.js';
import type { SlackMessage } from './blocks/limits.js';
import {
  createDeliveryClient,
  type DeliveryClientOptions,
  type DeliveryContext,
  deliveryError,
  findPostedById,
  withRateLimitRetries,
} from './delivery.js';

/** The metadata event type of a digest message; its payload's `id` is the intent's. */
export const DIGEST_EVENT_TYPE = 'vpn_conns_digest';

/** What a digest post that did not reach Slack becomes. */
const RETRY = 'the digest is retried at the next tick';

/** `vpn-conns-digest-security-20261127-1300.csv` */
function csvFilename(view: DigestView): string {
  const stamp = view.to.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `vpn-conns-digest-${view.name}-${stamp}.csv`;
}

export interface SlackDigestPosterOptions extends DeliveryClientOptions {
  readonly logger: Logger;
}

/**
 * `chat.postMessage` with the intent's id in the metadata, waiting out `rate_limited` answers.
 * @returns the message's `ts`. @throws SlackDeliveryError
 */
async function postMessage(
  client: webApi.WebClient,
  context: DeliveryContext,
  channel: string,
  { text, blocks }: SlackMessage,
  metadata: { digest: string; intentId: string | undefined; tickAt: Date },
): Promise<string> {
  const result = await withRateLimitRetries(context, 'chat.postMessage', () =>
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
    logger.error(
      `digest ${digest.name}: CSV attachment failed: ${deliveryError(error, RETRY).message}`,
    );
  }
}

/** Builds the poster with its own Web API client (it also runs in worker processes without Bolt). */
export function createSlackDigestPoster(options: SlackDigestPosterOptions): DigestPoster {
  const client = createDeliveryClient(options);
  const { logger } = options;
  const context: DeliveryContext = { logger, job: 'digest', retry: RETRY };
  return {
    async post(digest, view, intentId) {
      const { message, csv } = buildDigestMessage(view);
      const ts = await postMessage(client, context, digest.channel, message, {
        digest: digest.name,
        intentId,
        tickAt: view.to,
      });
      if (csv !== null) await attachCsv(client, logger, digest, view, ts, csv);
      return { ts };
    },
    findPosted: (digest, intentId, since) =>
      findPostedById(client, context, {
        channel: digest.channel,
        eventType: DIGEST_EVENT_TYPE,
        id: intentId,
        since,
      }),
    async complete(digest, view, ts) {
      const { csv } = buildDigestMessage(view);
      if (csv !== null) await attachCsv(client, logger, digest, view, ts, csv);
    },
  };
}
