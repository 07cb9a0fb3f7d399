/**
 * `/vpn-conns`: ack at once (never after an AWS call), then answer through
 * the command's response_url. Replies are ephemeral unless `public` was said;
 * errors are always ephemeral. The access middleware has already checked the
 * person (and acked, when that took long).
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { UsageError } from '../../../errors.js';
import { parseCommand } from '../../../vpn/query.js';
import { gateOf } from '../../access-middleware.js';
import { audit } from '../../actor.js';
import { type AnswerDeps, answerQuery } from '../../answer.js';
import { uploadAnswerFiles } from '../../answer-uploads.js';
import { COMMAND } from '../../blocks/ids.js';
import type { SlackMessage } from '../../blocks/limits.js';
import {
  buildHelpMessage,
  buildUsageErrorMessage,
  buildWorkingMessage,
} from '../../blocks/messages.js';
import { clockOf } from '../../request-timing.js';

export { COMMAND };

const UPLOAD_FAILED: SlackMessage = {
  text: 'The chart and the CSV could not be uploaded; the report above is complete.',
  blocks: [],
};

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/**
 * The command's reply function: the first reply goes in the ack; later ones through the
 * response_url. Every reply is (part of) the answer except the "working…" one (`working`),
 * which only acks.
 */
function replier(parts: {
  gate: ReturnType<typeof gateOf>;
  clock: ReturnType<typeof clockOf>;
  ack: CommandArgs['ack'];
  respond: CommandArgs['respond'];
  logger: CommandArgs['logger'];
}) {
  const { gate, clock, ack, respond, logger } = parts;
  return async (message: SlackMessage, { inChannel = false, working = false } = {}) => {
    const payload = {
      ...message,
      ...(message.blocks.length === 0 ? { blocks: undefined } : {}),
      response_type: inChannel ? ('in_channel' as const) : ('ephemeral' as const),
    };
    if (!gate.acked) {
      gate.acked = true;
      await ack(payload);
      clock.acked();
      if (!working) clock.answered();
      return;
    }
    try {
      await respond(payload);
      clock.answered();
    } catch (error) {
      // An expired or overused response_url: nothing more can reach the user.
      logger.warn('could not deliver the /vpn-conns answer', error);
    }
  };
}

/** The handler of the slash command, over its dependencies. */
export function createVpnConnsCommand(deps: AnswerDeps) {
  return async ({ command, ack, respond, logger, context, client }: CommandArgs) => {
    const gate = gateOf(context);
    const { actor } = gate;
    const reply = replier({ gate, clock: clockOf(context), ack, respond, logger });

    let parsed: ReturnType<typeof parseCommand>;
    try {
      parsed = parseCommand(command.text, 'slack');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      await reply(buildUsageErrorMessage(error));
      await audit(deps.audit, actor, { outcome: 'usage-error' });
      return;
    }
    const { query } = parsed;
    if (query.kind === 'help') {
      await reply(buildHelpMessage());
      await audit(deps.audit, actor, { outcome: 'ok' });
      return;
    }
    if (!gate.acked) await reply(buildWorkingMessage(query), { working: true });

    // The ack is out; what follows is answer work, which takes turns behind other acks.
    await deps.turns.next();
    const answer = await answerQuery(query, { userId: command.user_id, page: 0 }, deps);
    await audit(deps.audit, actor, answer);
    const inChannel = parsed.public && !answer.isError;
    await deps.turns.run(() => reply(answer.message, { inChannel }));
    if (answer.uploads && answer.uploads.length > 0) {
      const where = await uploadAnswerFiles(answer.uploads, {
        client,
        userId: command.user_id,
        channelId: inChannel ? command.channel_id : null,
        logger: deps.logger,
      });
      if (where === null) await reply(UPLOAD_FAILED);
    }
  };
}
