/**
 * Posts alerts to Slack: one `chat.postMessage` per alert, carrying its post id in the
 * message's metadata (`vpn_conns_alert`) so an unanswered post can be found again, and a
 * `chat.update` of the same message when the condition clears. Active sessions get the signed
 * Terminate buttons of the lists: a channel message shows them to everyone, and the click is
 * checked again and refused to anyone who is not a VPN admin.
 */
import { SlackDeliveryError } from '../errors.js';
import type { AlertPoster } from '../jobs/alerts.js';
import type { Logger } from '../logger.js';
import { buildAlertClearedMessage, buildAlertMessage } from './blocks/alert.js';
import {
  createDeliveryClient,
  type DeliveryClientOptions,
  type DeliveryContext,
  findPostedById,
  withRateLimitRetries,
} from './delivery.js';
import type { ValueSigner } from './signed-values.js';
import { connectionValue } from './terminate-buttons.js';

/** The metadata event type of an alert message; its payload's `id` is the post's. */
export const ALERT_EVENT_TYPE = 'vpn_conns_alert';

export interface SlackAlertPosterOptions extends Omit<DeliveryClientOptions, 'retries'> {
  readonly logger: Logger;
  /** Signs the Terminate buttons; without it alerts have none. */
  readonly signer?: ValueSigner;
}

/** Builds the poster with its own Web API client (it also runs in worker processes without Bolt). */
export function createSlackAlertPoster(options: SlackAlertPosterOptions): AlertPoster {
  // No retries: a retried post whose first attempt reached Slack would post the alert twice.
  const client = createDeliveryClient({ ...options, retries: 0 });
  const context: DeliveryContext = {
    logger: options.logger,
    job: 'alerts',
    retry: 'the alert is looked for, or posted again, at the next poll',
  };
  const { signer } = options;
  return {
    async post(alert, postId, { now, sessionTimeoutHours }) {
      const message = buildAlertMessage(alert, {
        now,
        sessionTimeoutHours,
        ...(signer
          ? {
              terminateValue: (c) => signer.sign(connectionValue(c)),
            }
          : {}),
      });
      const result = await withRateLimitRetries(context, 'chat.postMessage', () =>
        client.chat.postMessage({
          channel: alert.rule.channel,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          unfurl_media: false,
          metadata: {
            event_type: ALERT_EVENT_TYPE,
            event_payload: { id: postId, rule: alert.rule.name },
          },
        }),
      );
      if (!result.ts) {
        throw new SlackDeliveryError('no_ts', 'Slack accepted the alert but returned no ts');
      }
      return { ts: result.ts };
    },
    findPosted: (channel, postId, since) =>
      findPostedById(client, context, { channel, eventType: ALERT_EVENT_TYPE, id: postId, since }),
    async markCleared(channel, ts, alert, clearedAt) {
      const message = buildAlertClearedMessage(alert, clearedAt);
      await withRateLimitRetries(context, 'chat.update', () =>
        client.chat.update({ channel, ts, text: message.text, blocks: message.blocks }),
      );
    },
  };
}
