/**
 * Who did what, where: the audit fields of a command or a click, known before the work
 * starts (signed Slack IDs only), and the one way to record how it ended.
 */
import type { AuditTrail } from '../audit.js';

export interface Actor {
  readonly teamId: string | null;
  readonly userId: string;
  readonly channelId: string | null;
  readonly action: string;
  readonly detail: string;
}

/** The fields of a button click every action audits. */
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

/** How it ended, for the audit trail. */
export interface AuditResult {
  readonly outcome: string;
  readonly endpoints?: readonly string[] | undefined;
  readonly requestIds?: readonly string[] | undefined;
}

/** Records one audit entry (nothing when there is no trail); never throws. */
export async function audit(
  trail: AuditTrail | undefined,
  actor: Actor,
  result: AuditResult,
): Promise<void> {
  await trail?.record({
    ...actor,
    endpoints: [...(result.endpoints ?? [])],
    requestIds: [...(result.requestIds ?? [])],
    outcome: result.outcome,
  });
}
