/**
 * What every listener does before anything else: check that the person may
 * use the bot here (again on every click — anyone who sees a public message
 * can click its buttons), and write what happened to the audit trail.
 */
import { ACCESS_DENIED_MESSAGE } from '../access.js';
import type { AnswerDeps } from '../answer.js';

/** Who did what, where: the audit fields known before the work starts. */
export interface Actor {
  readonly teamId: string | null;
  readonly userId: string;
  readonly channelId: string | null;
  readonly action: string;
  readonly detail: string;
}

export { ACCESS_DENIED_MESSAGE };

/** The fields of a button click every action listener audits. */
interface ClickBody {
  readonly team?: { readonly id: string } | null;
  readonly user: { readonly id: string };
  readonly channel?: { readonly id: string };
}

/** The actor of a button click: who (signed IDs only), where, and the raw value, cut to size. */
export function clickActor(body: ClickBody, action: string, value: unknown): Actor {
  return {
    teamId: body.team?.id ?? null,
    userId: body.user.id,
    channelId: body.channel?.id ?? null,
    action,
    detail: typeof value === 'string' ? value.slice(0, 500) : '',
  };
}

/** Records one audit entry; never throws. */
export async function audit(
  deps: Pick<AnswerDeps, 'audit'>,
  actor: Actor,
  result: {
    readonly outcome: string;
    readonly endpoints?: readonly string[] | undefined;
    readonly requestIds?: readonly string[] | undefined;
  },
): Promise<void> {
  await deps.audit?.record({
    ...actor,
    endpoints: [...(result.endpoints ?? [])],
    requestIds: [...(result.requestIds ?? [])],
    outcome: result.outcome,
  });
}

/** True when the person may use the bot here; otherwise records the refusal. */
export async function mayUse(
  deps: Pick<AnswerDeps, 'access' | 'audit' | 'logger'>,
  actor: Actor,
): Promise<boolean> {
  let allowed = true;
  try {
    allowed = deps.access ? await deps.access.canUse(actor.userId, actor.channelId) : true;
  } catch (error) {
    deps.logger.error('access check failed; refusing', error);
    allowed = false;
  }
  if (!allowed) await audit(deps, actor, { outcome: 'denied' });
  return allowed;
}
