/** The result of a terminate: each connection's previous → current status, and what failed. */
import { guardMessage, type KnownBlock, type SlackMessage } from './limits.js';
import { escapeMrkdwn, inlineCode, literal, truncate } from './mrkdwn.js';

export interface TerminateOutcome {
  readonly who: string;
  readonly done: readonly {
    readonly alias: string;
    readonly connectionId: string;
    readonly previous: string | null;
    readonly current: string | null;
  }[];
  readonly failed: readonly { readonly alias: string; readonly message: string }[];
  /** Nothing was attempted: the DryRun pre-check said AWS would refuse. */
  readonly refusedByDryRun: boolean;
}

/** A short ephemeral report for the admin who clicked. */
export function buildTerminateResultMessage(outcome: TerminateOutcome): SlackMessage {
  const who = literal(truncate(outcome.who, 64));
  const lines = outcome.done.map(
    (d) =>
      `• ${inlineCode(d.connectionId)} on ${escapeMrkdwn(d.alias)}: ${escapeMrkdwn(d.previous ?? '?')} → *${escapeMrkdwn(d.current ?? '?')}*`,
  );
  const problems = outcome.failed.map(
    (f) => `:warning: *${escapeMrkdwn(f.alias)}*: ${escapeMrkdwn(truncate(f.message, 400))}`,
  );
  const count = `${outcome.done.length} ${outcome.done.length === 1 ? 'session' : 'sessions'}`;
  const nothing = outcome.done.length === 0;
  const headline = outcome.refusedByDryRun
    ? `:no_entry: Nothing was terminated for *${who}*: AWS would refuse (checked with a dry run).`
    : nothing && outcome.failed.length > 0
      ? `:warning: Nothing was terminated for *${who}*.`
      : nothing
        ? `:information_source: *${who}* had no active session to terminate.`
        : `:scissors: Terminated ${count} of *${who}*.`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: headline } }];
  if (lines.length > 0)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 3000) },
    });
  if (problems.length > 0) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(problems.join('\n'), 3000) },
    });
  }
  const text = outcome.refusedByDryRun
    ? `Nothing was terminated for ${outcome.who}: AWS would refuse.`
    : nothing && outcome.failed.length > 0
      ? `Nothing was terminated for ${outcome.who}.`
      : nothing
        ? `${outcome.who} had no active session to terminate.`
        : `Terminated ${count} of ${outcome.who}.`;
  const guarded = guardMessage({ text: escapeMrkdwn(text), blocks });
  return { text: guarded.text, blocks: guarded.blocks };
}
