/**
 * `/vpn-conns`: ack at once (never after an AWS call), then answer through
 * the command's response_url. Replies are ephemeral unless `public` was said;
 * errors are always ephemeral.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { UsageError } from '../../../errors.js';
import { parseCommand } from '../../../vpn/query.js';
import { type AnswerDeps, answerQuery } from '../../answer.js';
import {
  buildHelpMessage,
  buildUsageErrorMessage,
  buildWorkingMessage,
} from '../../blocks/messages.js';
import { describeTarget } from '../describe-target.js';
import { ACCESS_DENIED_MESSAGE, type Actor, audit, mayUse } from '../guard.js';

export const COMMAND = '/vpn-conns';

/** The handler of the slash command, over its dependencies. */
export function createVpnConnsCommand(deps: AnswerDeps) {
  return async ({
    command,
    ack,
    respond,
    logger,
  }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const actor: Actor = {
      teamId: command.team_id || null,
      userId: command.user_id,
      channelId: command.channel_id || null,
      action: 'command',
      detail: command.text,
    };
    // Access first: a refused person learns nothing, and AWS is not called.
    if (!(await mayUse(deps, actor))) {
      await ack({ response_type: 'ephemeral', text: ACCESS_DENIED_MESSAGE });
      return;
    }
    let parsed: ReturnType<typeof parseCommand>;
    try {
      parsed = parseCommand(command.text, 'slack');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      await ack({ response_type: 'ephemeral', ...buildUsageErrorMessage(error) });
      await audit(deps, actor, { outcome: 'usage-error' });
      return;
    }
    const { query } = parsed;
    if (query.kind === 'help') {
      await ack({ response_type: 'ephemeral', ...buildHelpMessage() });
      await audit(deps, actor, { outcome: 'ok' });
      return;
    }
    await ack({ response_type: 'ephemeral', ...buildWorkingMessage(describeTarget(query)) });

    const answer = await answerQuery(query, { userId: command.user_id, page: 0 }, deps);
    await audit(deps, actor, answer);
    const inChannel = parsed.public && !answer.isError;
    try {
      await respond({ ...answer.message, response_type: inChannel ? 'in_channel' : 'ephemeral' });
    } catch (error) {
      // An expired or overused response_url: nothing more can reach the user.
      logger.warn('could not deliver the /vpn-conns answer', error);
    }
  };
}
