/**
 * Terminate one session, or every active session of one person, from Slack.
 * Admins only — checked on the click itself, whatever the message showed —
 * and only for values the bot signed. A DryRun first, so an IAM denial is
 * reported before anything is attempted; then the terminate, the result
 * (previous → current status) for the admin, and a refreshed list.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { AwsError, UsageError } from '../../../errors.js';
import type { Endpoint } from '../../../vpn/endpoint.js';
import type { TerminateTarget, VpnGateway } from '../../../vpn/gateway.js';
import { filtersByUsername } from '../../../vpn/lookup.js';
import { parseCommand } from '../../../vpn/query.js';
import { ACCESS_DENIED_MESSAGE, ADMIN_ONLY_MESSAGE } from '../../access.js';
import { type AnswerDeps, answerQuery, errorMessage, outcomeOf } from '../../answer.js';
import { ACTION_TERMINATE } from '../../blocks/ids.js';
import { buildUsageErrorMessage } from '../../blocks/messages.js';
import { buildTerminateResultMessage, type TerminateOutcome } from '../../blocks/terminate.js';
import type { TerminateValue } from '../../signed-values.js';
import { type Actor, audit, clickActor, mayUse } from '../guard.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** The username form of TerminateClientVpnConnections refuses more than this many connections. */
export const USERNAME_FORM_LIMIT = 5;

export interface TerminateDeps extends AnswerDeps {
  readonly gateway: VpnGateway;
}

interface Plan {
  readonly endpoint: Endpoint;
  readonly targets: readonly TerminateTarget[];
}

/** What to terminate where: by user name when the endpoint allows it and there are at most 5, else one by one. */
async function planFor(
  value: TerminateValue,
  deps: TerminateDeps,
): Promise<{ who: string; plans: Plan[] }> {
  const endpoints = await deps.catalogue.described();
  if (value.k === 'conn') {
    const endpoint = endpoints.find((e) => e.id === value.e);
    if (!endpoint) throw new UsageError(`Endpoint ${value.e} is no longer configured.`);
    return { who: value.n, plans: [{ endpoint, targets: [{ connectionId: value.c }] }] };
  }
  // Fresh data: a cached list could miss a session that started a moment ago.
  deps.service.invalidate();
  const result = await deps.service.lookupUser({
    name: value.n,
    // Only where the lookup looked: the confirm dialog said "on every endpoint shown".
    endpoints: value.e ? { kind: 'named', names: value.e } : { kind: 'all' },
    statuses: ['active'],
  });
  const failure = result.failures[0];
  if (failure) throw failure.error;
  const plans: Plan[] = [];
  for (const endpoint of result.endpoints) {
    const active = result.connections.filter((c) => c.endpointId === endpoint.id);
    if (active.length === 0) continue;
    const byName =
      filtersByUsername(endpoint) &&
      active.length <= USERNAME_FORM_LIMIT &&
      active.every((c) => c.username === value.n);
    plans.push({
      endpoint,
      targets: byName
        ? [{ username: value.n }]
        : active.map((c) => ({ connectionId: c.connectionId })),
    });
  }
  return { who: value.n, plans };
}

/** The handler of both Terminate buttons. */
export function createTerminateAction(deps: TerminateDeps) {
  return async ({ ack, action, body, respond, logger }: ButtonArgs) => {
    await ack();
    // The detail is set once the value is verified: a forged value is not worth recording whole.
    const actor = clickActor(
      body,
      action.action_id === ACTION_TERMINATE ? 'terminate' : 'terminate-user',
      '',
    );
    const reply = async (message: Parameters<typeof respond>[0] & object) => {
      try {
        await respond({ response_type: 'ephemeral', replace_original: false, ...message });
      } catch (error) {
        logger.warn('could not deliver a terminate reply', error);
      }
    };

    if (!(await mayUse(deps, actor))) {
      await reply({ text: ACCESS_DENIED_MESSAGE });
      return;
    }
    if (!deps.signer || !deps.access || !(await deps.access.isAdmin(actor.userId))) {
      await audit(deps, actor, { outcome: 'denied' });
      await reply({ text: ADMIN_ONLY_MESSAGE });
      return;
    }
    let value: TerminateValue;
    try {
      value = deps.signer.verify(action.value);
    } catch (error) {
      await audit(deps, { ...actor, detail: 'invalid button value' }, { outcome: 'denied' });
      if (error instanceof UsageError) await reply(buildUsageErrorMessage(error));
      return;
    }
    const detailed: Actor = {
      ...actor,
      detail: value.k === 'conn' ? `${value.c} (${value.n})` : `all sessions of ${value.n}`,
    };

    const outcome: {
      done: TerminateOutcome['done'][number][];
      failed: TerminateOutcome['failed'][number][];
    } = {
      done: [],
      failed: [],
    };
    const requestIds: string[] = [];
    let plans: Plan[] = [];
    try {
      ({ plans } = await planFor(value, deps));
      // DryRun first, everywhere: if AWS would refuse anywhere, nothing is attempted.
      for (const { endpoint, targets } of plans) {
        const first = targets[0];
        if (first)
          await deps.gateway.terminate(endpoint, first, { dryRun: true, actor: actor.userId });
      }
    } catch (error) {
      if (error instanceof AwsError && error.requestId) requestIds.push(error.requestId);
      const refused = error instanceof AwsError && error.kind === 'access-denied';
      await audit(deps, detailed, {
        outcome: refused ? 'refused by AWS (dry run)' : outcomeOf(error),
        endpoints: plans.map((p) => p.endpoint.alias),
        requestIds,
      });
      await reply(errorMessage(error, logger, 'terminate'));
      return;
    }

    // Serialised: AWS allows 5 terminate calls per second.
    for (const { endpoint, targets } of plans) {
      for (const target of targets) {
        try {
          const result = await deps.gateway.terminate(endpoint, target, { actor: actor.userId });
          if (result.requestId) requestIds.push(result.requestId);
          for (const c of result.connections) {
            outcome.done.push({
              alias: endpoint.alias,
              connectionId: c.connectionId,
              previous: c.previousStatus,
              current: c.currentStatus,
            });
          }
        } catch (error) {
          if (error instanceof AwsError && error.requestId) requestIds.push(error.requestId);
          outcome.failed.push({
            alias: endpoint.alias,
            message: error instanceof AwsError ? error.message : 'unexpected error (logged)',
          });
          if (!(error instanceof AwsError)) logger.error('terminate failed', error);
        }
      }
      deps.service.invalidate(endpoint.id);
    }
    await audit(deps, detailed, {
      outcome: outcome.failed.length === 0 ? 'ok' : outcome.done.length > 0 ? 'partial' : 'failed',
      endpoints: plans.map((p) => p.endpoint.alias),
      requestIds,
    });
    await reply(buildTerminateResultMessage({ who: value.n, ...outcome, refusedByDryRun: false }));

    // Refresh the list the button was on, so it shows `terminating` / `terminated`.
    if (value.q !== undefined) {
      try {
        const { query } = parseCommand(value.q, 'slack', { slackEscaped: false });
        const answer = await answerQuery(query, { userId: actor.userId, page: value.p ?? 0 }, deps);
        if (!answer.isError) await respond({ replace_original: true, ...answer.message });
      } catch (error) {
        logger.warn('could not refresh the list after terminating', error);
      }
    }
  };
}
