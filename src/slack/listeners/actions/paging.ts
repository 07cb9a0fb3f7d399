/**
 * Previous / Next: stateless paging. The button value carries the query text
 * and the page; the click re-runs the query (briefly cached) and replaces the
 * message through the action's response_url.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { UsageError } from '../../../errors.js';
import { parseCommand } from '../../../vpn/query.js';
import { type AnswerDeps, answerQuery } from '../../answer.js';
import { decodeButtonValue } from '../../blocks/ids.js';
import { buildUsageErrorMessage } from '../../blocks/messages.js';
import { ACCESS_DENIED_MESSAGE, audit, clickActor, mayUse } from '../guard.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** Parses a button's value into a query and page. @throws UsageError when tampered with. */
export function readButton(value: unknown) {
  const { q, p } = decodeButtonValue(value);
  const { query } = parseCommand(q, 'slack', { slackEscaped: false });
  if (query.kind !== 'list' && query.kind !== 'user') {
    throw new UsageError('This button is no longer valid: run /vpn-conns again.');
  }
  return { query, page: p };
}

/** The handler of the paging buttons. */
export function createPagingAction(deps: AnswerDeps) {
  return async ({ ack, action, body, respond, logger }: ButtonArgs) => {
    await ack();
    const actor = clickActor(body, 'page', action.value);
    try {
      if (!(await mayUse(deps, actor))) {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          text: ACCESS_DENIED_MESSAGE,
        });
        return;
      }
      let answer: Awaited<ReturnType<typeof answerQuery>>;
      try {
        const { query, page } = readButton(action.value);
        answer = await answerQuery(query, { userId: body.user.id, page }, deps);
        await audit(deps, actor, answer);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        await audit(deps, actor, { outcome: 'denied' });
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          ...buildUsageErrorMessage(error),
        });
        return;
      }
      // An error goes to the clicker alone and leaves the list (maybe public) in place.
      await respond(
        answer.isError
          ? { response_type: 'ephemeral', replace_original: false, ...answer.message }
          : { replace_original: true, ...answer.message },
      );
    } catch (error) {
      logger.warn('could not deliver a page of /vpn-conns', error);
    }
  };
}
