/**
 * "Export CSV": the whole result of the query behind the message, as a CSV
 * file with the CLI's columns, sent to the clicker in a direct message (the
 * list may be ephemeral, and IPs and user names are not for the channel).
 * The access middleware has acked and checked the click.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { formatCount } from '../../../vpn/format.js';
import { toCsv } from '../../../vpn/records.js';
import { sortConnections } from '../../../vpn/summary.js';
import { gateOf } from '../../access-middleware.js';
import { audit } from '../../actor.js';
import type { AnswerDeps } from '../../answer.js';
import { escapeMrkdwn } from '../../blocks/mrkdwn.js';
import { runQuery, titleOf } from '../../connections-answer.js';
import { errorMessage, outcomeOf } from '../../error-reply.js';
import { readButton } from './paging.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** `vpn-conns-prod-20261127-2040.csv` */
export function csvFilename(title: string, at: Date): string {
  const slug =
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'result';
  const stamp = at.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `vpn-conns-${slug}-${stamp}.csv`;
}

/** The handler of the Export CSV button. */
export function createExportCsvAction(deps: AnswerDeps) {
  return async ({ action, body, client, respond, logger, context }: ButtonArgs) => {
    const { actor } = gateOf(context);
    try {
      const { query } = readButton(action.value);
      const answer = await runQuery(query, { userId: body.user.id, page: 0 }, deps);
      const { result } = answer;
      const title = titleOf(answer);
      const connections = sortConnections(result.connections);
      const dm = await client.conversations.open({ users: body.user.id });
      const channelId = dm.channel?.id;
      if (!channelId) throw new Error('conversations.open returned no channel');
      await client.filesUploadV2({
        channel_id: channelId,
        filename: csvFilename(title, result.fetchedAt),
        title: `VPN connections: ${title}`,
        content: toCsv(connections),
        initial_comment: `${formatCount(connections.length)} connections (${escapeMrkdwn(title)}), fetched ${result.fetchedAt.toISOString()}.`,
      });
      const failed = result.failures.map((f) => f.endpoint.alias);
      await audit(deps.audit, actor, {
        outcome: failed.length > 0 ? 'partial' : 'ok',
        endpoints: result.endpoints.map((e) => e.alias),
      });
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text:
          `:page_facing_up: Sent you the CSV (${formatCount(connections.length)} connections) in a direct message.` +
          (failed.length > 0 ? ` Not included, because reading failed: ${failed.join(', ')}.` : ''),
      });
    } catch (error) {
      await audit(deps.audit, actor, { outcome: outcomeOf(error) });
      try {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          ...errorMessage(error, logger, 'CSV export'),
        });
      } catch (respondError) {
        logger.warn('could not report a failed CSV export', respondError);
      }
    }
  };
}
