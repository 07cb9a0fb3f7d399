/**
 * "Export CSV": the whole result of the query behind the message, as a CSV
 * file with the CLI's columns, sent to the clicker in a direct message (the
 * list may be ephemeral, and IPs and user names are not for the channel).
 * The access middleware has acked and checked the click.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { UsageError } from '../../../errors.js';
import type { ConnectionsQuery } from '../../../services/connections.js';
import type { Connection } from '../../../vpn/connection.js';
import { formatCount } from '../../../vpn/format.js';
import type { HistoryQuery } from '../../../vpn/query.js';
import { toCsv } from '../../../vpn/records.js';
import { sortConnections } from '../../../vpn/summary.js';
import { gateOf } from '../../access-middleware.js';
import { audit } from '../../actor.js';
import type { AnswerContext, AnswerDeps } from '../../answer.js';
import { escapeMrkdwn } from '../../blocks/mrkdwn.js';
import { runQuery, titleOf } from '../../connections-answer.js';
import { errorMessage, outcomeOf } from '../../error-reply.js';
import { historyTitle, runHistory } from '../../history-answer.js';
import { clockOf } from '../../request-timing.js';
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

interface CsvExport {
  readonly title: string;
  readonly connections: readonly Connection[];
  readonly fetchedAt: Date;
  readonly endpoints: readonly string[];
  /** Endpoints that could not be read. */
  readonly failed: readonly string[];
}

/** A list or user query's rows, read from AWS again. */
async function listExport(
  query: ConnectionsQuery,
  ctx: AnswerContext,
  deps: AnswerDeps,
): Promise<CsvExport> {
  const answer = await runQuery(query, ctx, deps);
  const { result } = answer;
  return {
    title: titleOf(answer),
    connections: sortConnections(result.connections),
    fetchedAt: result.fetchedAt,
    endpoints: result.endpoints.map((e) => e.alias),
    failed: result.failures.map((f) => f.endpoint.alias),
  };
}

/** A history query's rows, from the store, in start order. */
async function historyExport(
  query: HistoryQuery,
  ctx: AnswerContext,
  deps: AnswerDeps,
): Promise<CsvExport> {
  if (!deps.history) throw new UsageError('Session history is not available on this instance.');
  const answer = await runHistory(query, ctx, deps, deps.history);
  return {
    title: historyTitle(answer),
    connections: answer.connections,
    fetchedAt: answer.fetchedAt,
    endpoints: answer.endpoints.map((e) => e.alias),
    failed: [],
  };
}

/** The handler of the Export CSV button. */
export function createExportCsvAction(deps: AnswerDeps) {
  return async ({ action, body, client, respond, logger, context }: ButtonArgs) => {
    const { actor } = gateOf(context);
    const clock = clockOf(context);
    try {
      const { query } = readButton(action.value);
      const ctx = { userId: body.user.id, page: 0 };
      const { title, connections, fetchedAt, endpoints, failed } =
        query.kind === 'history'
          ? await historyExport(query, ctx, deps)
          : await listExport(query, ctx, deps);
      const dm = await client.conversations.open({ users: body.user.id });
      const channelId = dm.channel?.id;
      if (!channelId) throw new Error('conversations.open returned no channel');
      await client.filesUploadV2({
        channel_id: channelId,
        filename: csvFilename(title, fetchedAt),
        title: `VPN connections: ${title}`,
        content: toCsv(connections),
        initial_comment: `${formatCount(connections.length)} connections (${escapeMrkdwn(title)}), fetched ${fetchedAt.toISOString()}.`,
      });
      await audit(deps.audit, actor, {
        outcome: failed.length > 0 ? 'partial' : 'ok',
        endpoints,
      });
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text:
          `:page_facing_up: Sent you the CSV (${formatCount(connections.length)} connections) in a direct message.` +
          (failed.length > 0 ? ` Not included, because reading failed: ${failed.join(', ')}.` : ''),
      });
      clock.answered();
    } catch (error) {
      await audit(deps.audit, actor, { outcome: outcomeOf(error) });
      try {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          ...errorMessage(error, logger, 'CSV export'),
        });
        clock.answered();
      } catch (respondError) {
        logger.warn('could not report a failed CSV export', respondError);
      }
    }
  };
}
