/**
 * Who may use the bot, checked once for every command and every click before any listener
 * runs (again on every click: anyone who sees a public message can click its buttons). A
 * refusal is an ephemeral message and an audit line, and nothing else runs: no AWS call.
 * Events that are not the bot's command or buttons pass through untouched.
 */
import type {
  AllMiddlewareArgs,
  AnyMiddlewareArgs,
  Context,
  Middleware,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
} from '@slack/bolt';
import type { AuditTrail } from '../audit.js';
import type { Logger } from '../logger.js';
import { unescapeSlack } from '../vpn/query.js';
import { ACCESS_DENIED_MESSAGE, type AccessChecker } from './access.js';
import { type Actor, audit, clickActor } from './actor.js';
import {
  ACTION_EXPORT_CSV,
  ACTION_PAGE_NEXT,
  ACTION_PAGE_PREV,
  ACTION_TERMINATE,
  ACTION_TERMINATE_USER,
  COMMAND,
} from './blocks/ids.js';
import type { SlackMessage } from './blocks/limits.js';
import { clockOf } from './request-timing.js';

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

/**
 * The audit name of each button the bot handles, and whether its value is recorded as is
 * (a Terminate value is recorded once verified: a forged one is not worth keeping whole).
 */
const CLICKS: ReadonlyMap<string, { readonly action: string; readonly keepValue: boolean }> =
  new Map([
    [ACTION_PAGE_PREV, { action: 'page', keepValue: true }],
    [ACTION_PAGE_NEXT, { action: 'page', keepValue: true }],
    [ACTION_EXPORT_CSV, { action: 'export-csv', keepValue: true }],
    [ACTION_TERMINATE, { action: 'terminate', keepValue: false }],
    [ACTION_TERMINATE_USER, { action: 'terminate-user', keepValue: false }],
  ]);

/** What the middleware hands the listener that runs after it. */
export interface Gate {
  /** Who is asking, where, and what: the audit fields. */
  readonly actor: Actor;
  /** True once the request was acknowledged (clicks always; a command when the check was slow). */
  acked: boolean;
}

const GATE = 'vpnConnsGate';

/** The gate the access middleware set for this request. @throws when it did not run. */
export function gateOf(context: Context): Gate {
  const gate = context[GATE] as Gate | undefined;
  if (!gate) throw new Error('the access middleware did not run for this request');
  return gate;
}

export interface AccessMiddlewareDeps {
  /** Absent = everyone may use the bot. */
  readonly access?: AccessChecker;
  /** Whether the Terminate buttons have listeners; if not, their clicks pass untouched. */
  readonly terminate: boolean;
  readonly audit?: AuditTrail;
  readonly logger: Logger;
}

/** True when the person may use the bot here; otherwise records the refusal. Fails closed. */
async function mayUse(deps: AccessMiddlewareDeps, actor: Actor): Promise<boolean> {
  let allowed = true;
  try {
    allowed = deps.access ? await deps.access.canUse(actor.userId, actor.channelId) : true;
  } catch (error) {
    deps.logger.error('access check failed; refusing', error);
    allowed = false;
  }
  if (!allowed) await audit(deps.audit, actor, { outcome: 'denied' });
  return allowed;
}

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
type ActionArgs = SlackActionMiddlewareArgs & AllMiddlewareArgs;

/** The slash command: acked within the budget whatever the check costs, refused in the ack. */
async function gateCommand(args: CommandArgs, deps: AccessMiddlewareDeps): Promise<void> {
  const { command, ack, respond, context, logger } = args;
  const gate: Gate = {
    actor: {
      teamId: command.team_id || null,
      userId: command.user_id,
      channelId: command.channel_id || null,
      action: 'command',
      // What the person typed, not Slack's escaped form (the audit listing escapes it for display).
      detail: unescapeSlack(command.text),
    },
    acked: false,
  };
  const decision = mayUse(deps, gate.actor);
  // A plain timer, cleared: aborting a timers/promises sleep builds an AbortError with its
  // stack on every command, a cost every ack in a burst waits behind.
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ACCESS_ACK_BUDGET_MS, undefined);
  });
  const early = await Promise.race([decision, budget]);
  clearTimeout(timer);
  const clock = clockOf(context);
  if (early === undefined) {
    gate.acked = true;
    await ack({ text: CHECKING_ACCESS.text, response_type: 'ephemeral' });
    clock.acked();
  }
  if (await decision) {
    context[GATE] = gate;
    await args.next();
    return;
  }
  const refusal = { text: ACCESS_DENIED_MESSAGE, response_type: 'ephemeral' as const };
  if (!gate.acked) {
    await ack(refusal);
    clock.acked();
    clock.answered();
    return;
  }
  // An expired or overused response_url: nothing more can reach the user.
  await respond(refusal).then(
    () => clock.answered(),
    (error: unknown) => logger.warn('could not deliver a refusal', error),
  );
}

/** A click on one of the bot's buttons: acked at once, then checked. */
async function gateClick(
  args: ActionArgs,
  click: { readonly action: string; readonly keepValue: boolean },
  deps: AccessMiddlewareDeps,
): Promise<void> {
  const { action, body, ack, respond, context, logger } = args;
  const clock = clockOf(context);
  await ack();
  clock.acked();
  const value = click.keepValue && 'value' in action ? action.value : '';
  const actor = clickActor(body, click.action, value);
  if (await mayUse(deps, actor)) {
    context[GATE] = { actor, acked: true } satisfies Gate;
    await args.next();
    return;
  }
  await respond({
    response_type: 'ephemeral',
    replace_original: false,
    text: ACCESS_DENIED_MESSAGE,
  }).then(
    () => clock.answered(),
    (error: unknown) => logger.warn('could not deliver a refusal', error),
  );
}

/**
 * The access check as global Bolt middleware (`app.use`): the command and the bot's buttons
 * go through it; anything else passes untouched.
 */
export function createAccessMiddleware(deps: AccessMiddlewareDeps): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    if ('command' in args && args.command.command === COMMAND) {
      return gateCommand(args as CommandArgs, deps);
    }
    if ('action' in args && args.body.type === 'block_actions') {
      const actionId = 'action_id' in args.action ? args.action.action_id : undefined;
      const click = actionId === undefined ? undefined : CLICKS.get(actionId);
      const handled =
        click !== undefined && (deps.terminate || !click.action.startsWith('terminate'));
      if (click && handled) return gateClick(args as ActionArgs, click, deps);
    }
    await args.next();
  };
}
