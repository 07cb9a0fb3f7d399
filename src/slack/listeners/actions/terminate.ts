/**
 * The Terminate buttons: one session, or every active session of one person.
 * Admins only — checked on the click itself, whatever the message showed —
 * and only for values the bot signed. The work (plan, DryRun, terminate) is
 * the terminate service's; this renders its report for the admin and
 * refreshes the list the button was on. The access middleware has acked and
 * checked the click.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { UsageError } from '../../../errors.js';
import type { Logger } from '../../../logger.js';
import type {
  TerminateReport,
  TerminateRequest,
  TerminateService,
} from '../../../services/terminate.js';
import { parseCommand } from '../../../vpn/query.js';
import { ADMIN_ONLY_MESSAGE } from '../../access.js';
import { gateOf } from '../../access-middleware.js';
import { type Actor, type AuditResult, audit } from '../../actor.js';
import { type AnswerDeps, answerQuery } from '../../answer.js';
import type { SlackMessage } from '../../blocks/limits.js';
import { buildUsageErrorMessage } from '../../blocks/messages.js';
import { buildTerminateResultMessage } from '../../blocks/terminate.js';
import { errorMessage, failureText, outcomeOf } from '../../error-reply.js';
import { clockOf } from '../../request-timing.js';
import type { TerminateValue } from '../../signed-values.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

export interface TerminateDeps extends AnswerDeps {
  readonly terminator: TerminateService;
}

/** What a verified button value asks for. */
function requestOf(value: TerminateValue): TerminateRequest {
  return value.k === 'conn'
    ? { kind: 'connection', endpointId: value.e, connectionId: value.c, who: value.n }
    : { kind: 'user', name: value.n, endpointIds: value.e ?? null };
}

/** The audit fields of a report. */
function auditOf(report: TerminateReport): AuditResult {
  const common = {
    endpoints: report.endpoints.map((e) => e.alias),
    requestIds: report.requestIds,
  };
  if (report.status !== 'not-started') return { ...common, outcome: report.status };
  const outcome = report.refusedByAws ? 'refused by AWS (dry run)' : outcomeOf(report.error);
  return { ...common, outcome };
}

/** The admin's reply: the error when nothing was attempted, else previous → current status. */
function replyOf(report: TerminateReport, logger: Pick<Logger, 'warn' | 'error'>): SlackMessage {
  if (report.status === 'not-started') return errorMessage(report.error, logger, 'terminate');
  return buildTerminateResultMessage({
    who: report.who,
    done: report.done.map((d) => ({
      alias: d.endpoint.alias,
      connectionId: d.connectionId,
      previous: d.previous,
      current: d.current,
    })),
    failed: report.failed.map((f) => ({ alias: f.endpoint.alias, message: failureText(f.error) })),
    refusedByDryRun: false,
  });
}

/**
 * The verified value of an admin's click, or `undefined` after refusing it (not an admin, or
 * a value the bot did not sign) with a reply and an audit line.
 */
async function verifiedValue(
  value: unknown,
  actor: Actor,
  reply: (message: SlackMessage | { readonly text: string }) => Promise<void>,
  deps: TerminateDeps,
): Promise<TerminateValue | undefined> {
  if (!deps.signer || !deps.access || !(await deps.access.isAdmin(actor.userId))) {
    await audit(deps.audit, actor, { outcome: 'denied' });
    await reply({ text: ADMIN_ONLY_MESSAGE });
    return undefined;
  }
  try {
    return deps.signer.verify(value);
  } catch (error) {
    await audit(deps.audit, { ...actor, detail: 'invalid button value' }, { outcome: 'denied' });
    if (error instanceof UsageError) await reply(buildUsageErrorMessage(error));
    return undefined;
  }
}

/** The handler of both Terminate buttons. */
export function createTerminateAction(deps: TerminateDeps) {
  return async ({ action, respond, logger, context }: ButtonArgs) => {
    const { actor } = gateOf(context);
    const clock = clockOf(context);
    /** The admin's reply is the answer (the list refreshed after it is not). */
    const reply = async (message: SlackMessage | { readonly text: string }) => {
      try {
        await respond({ response_type: 'ephemeral', replace_original: false, ...message });
        clock.answered();
      } catch (error) {
        logger.warn('could not deliver a terminate reply', error);
      }
    };
    const value = await verifiedValue(action.value, actor, reply, deps);
    if (value === undefined) return;

    const detail = value.k === 'conn' ? `${value.c} (${value.n})` : `all sessions of ${value.n}`;
    const report = await deps.terminator.terminate(requestOf(value), { actor: actor.userId });
    await audit(deps.audit, { ...actor, detail }, auditOf(report));
    await reply(replyOf(report, logger));
    if (report.status === 'not-started' || value.q === undefined) return;

    // Refresh the list the button was on, so it shows `terminating` / `terminated`.
    try {
      const { query } = parseCommand(value.q, 'slack', { slackEscaped: false });
      const answer = await answerQuery(query, { userId: actor.userId, page: value.p ?? 0 }, deps);
      if (!answer.isError) await respond({ replace_original: true, ...answer.message });
    } catch (error) {
      logger.warn('could not refresh the list after terminating', error);
    }
  };
}
