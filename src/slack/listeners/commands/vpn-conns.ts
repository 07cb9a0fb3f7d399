/**
 * `/vpn-conns`: ack at once (never after an AWS call), then answer through
 * the command's response_url. Replies are ephemeral unless `public` was said;
 * errors are always ephemeral.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { UsageError } from '../../../errors.js';
import { parseCommand, unescapeSlack } from '../../../vpn/query.js';
import { type AnswerDeps, answerQuery } from '../../answer.js';
import type { SlackMessage } from '../../blocks/limits.js';
import {
  buildHelpMessage,
  buildUsageErrorMessage,
  buildWorkingMessage,
} from '../../blocks/messages.js';
import { ACCESS_DENIED_MESSAGE, type Actor, audit, mayUse } from '../guard.js';

export const COMMAND = '/vpn-conns';

/**
 * How long the access check may take before the command is acknowledged
 * anyway. Checks against listed IDs are instant; a user-group lookup waits on
 * Slack, and Slack gives up on a command not acknowledged within 3 s.
 */
export const ACCESS_ACK_BUDGET_MS = 1000;

const CHECKING_ACCESS: SlackMessage = {
  text: ':hourglass_flowing_sand: Checking your access…',
  blocks: [],
};

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
      // What the person typed, not Slack's escaped form (the audit listing escapes it for display).
      detail: unescapeSlack(command.text),
    };
    let acked = false;
    /** The first reply goes in the ack; later ones through the response_url. */
    const reply = async (message: SlackMessage, inChannel = false) => {
      const payload = {
        ...message,
        ...(message.blocks.length === 0 ? { blocks: undefined } : {}),
        response_type: inChannel ? ('in_channel' as const) : ('ephemeral' as const),
      };
      if (!acked) {
        acked = true;
        await ack(payload);
        return;
      }
      try {
        await respond(payload);
      } catch (error) {
        // An expired or overused response_url: nothing more can reach the user.
        logger.warn('could not deliver the /vpn-conns answer', error);
      }
    };

    // Access first: a refused person learns nothing, and AWS is not called.
    const decision = mayUse(deps, actor);
    const timer = new AbortController();
    const early = await Promise.race([
      decision,
      sleep(ACCESS_ACK_BUDGET_MS, undefined, { signal: timer.signal }).catch(() => undefined),
    ]);
    timer.abort();
    if (early === undefined) await reply(CHECKING_ACCESS);
    if (!(await decision)) {
      await reply({ text: ACCESS_DENIED_MESSAGE, blocks: [] });
      return;
    }

    let parsed: ReturnType<typeof parseCommand>;
    try {
      parsed = parseCommand(command.text, 'slack');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      await reply(buildUsageErrorMessage(error));
      await audit(deps, actor, { outcome: 'usage-error' });
      return;
    }
    const { query } = parsed;
    if (query.kind === 'help') {
      await reply(buildHelpMessage());
      await audit(deps, actor, { outcome: 'ok' });
      return;
    }
    if (!acked) await reply(buildWorkingMessage(query));

    const answer = await answerQuery(query, { userId: command.user_id, page: 0 }, deps);
    await audit(deps, actor, answer);
    await reply(answer.message, parsed.public && !answer.isError);
  };
}
