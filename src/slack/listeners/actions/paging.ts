/**
 * Previous / Next: stateless paging. The button value carries the query text
 * and the page; the click re-runs the query (briefly cached) and replaces the
 * message through the action's response_url. The access middleware has acked
 * and checked the click.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { UsageError } from '../../../errors.js';
import type { ConnectionsQuery } from '../../../services/connections.js';
import { type HistoryQuery, parseCommand } from '../../../vpn/query.js';
import { gateOf } from '../../access-middleware.js';
import { audit } from '../../actor.js';
import { type Answer, type AnswerDeps, answerQuery } from '../../answer.js';
import { decodeButtonValue } from '../../blocks/ids.js';
import { buildUsageErrorMessage } from '../../blocks/messages.js';
import { clockOf } from '../../request-timing.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** Parses a button's value into a query and page. @throws UsageError when tampered with. */
export function readButton(value: unknown): {
  query: ConnectionsQuery | HistoryQuery;
  page: number;
} {
  const { q, p } = decodeButtonValue(value);
  const { query } = parseCommand(q, 'slack', { slackEscaped: false });
  if (query.kind !== 'list' && query.kind !== 'user' && query.kind !== 'history') {
    throw new UsageError('This button is no longer valid: run /vpn-conns again.');
  }
  return { query, page: p };
}

/** The handler of the paging buttons. */
export function createPagingAction(deps: AnswerDeps) {
  return async ({ action, body, respond, logger, context }: ButtonArgs) => {
    const { actor } = gateOf(context);
    const clock = clockOf(context);
    try {
      let answer: Answer;
      try {
        const { query, page } = readButton(action.value);
        answer = await answerQuery(query, { userId: body.user.id, page }, deps);
        await audit(deps.audit, actor, answer);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        await audit(deps.audit, actor, { outcome: 'denied' });
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          ...buildUsageErrorMessage(error),
        });
        clock.answered();
        return;
      }
      // An error goes to the clicker alone and leaves the list (maybe public) in place.
      await deps.turns.run(() =>
        respond(
          answer.isError
            ? { response_type: 'ephemeral', replace_original: false, ...answer.message }
            : { replace_original: true, ...answer.message },
        ),
      );
      clock.answered();
    } catch (error) {
      logger.warn('could not deliver a page of /vpn-conns', error);
    }
  };
}
