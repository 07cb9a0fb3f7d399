/**
 * `/vpn-conns digest` (configuration, next and last run, pending count) and
 * `/vpn-conns digest now` (a preview for the requester only; nothing is marked
 * reported).
 */
import type { DigestConfig } from '../config.js';
import type { DigestJobs } from '../jobs/digest.js';
import { formatCount } from '../vpn/format.js';
import { buildDigestMessage } from './blocks/digest.js';
import { guardMessage, type SlackMessage } from './blocks/limits.js';
import { dateToken, escapeMrkdwn } from './blocks/mrkdwn.js';

export interface DigestCommandDeps {
  readonly service: Pick<DigestJobs, 'status' | 'preview'>;
  readonly digests: readonly DigestConfig[];
  /** Next scheduled run of a digest. */
  readonly nextRun: (name: string) => Date | null;
}

/** Guards a message and drops the guard's `truncated` flag (Slack must not receive it). */
function withoutFlag(message: SlackMessage): SlackMessage {
  const { text, blocks } = guardMessage(message);
  return { text, blocks };
}

function describeEndpoints(digest: DigestConfig): string {
  return digest.endpoints === 'all'
    ? 'every endpoint'
    : digest.endpoints.map(escapeMrkdwn).join(', ');
}

/** The answer to `digest` / `digest now`, for `AnswerDeps.digest`. */
export function createDigestAnswer(deps: DigestCommandDeps) {
  return async (action: 'show' | 'now'): Promise<SlackMessage> => {
    if (action === 'now') {
      const [first, ...others] = deps.digests;
      if (!first) throw new Error('no digest configured');
      const { message, csv } = buildDigestMessage(await deps.service.preview(first));
      const notes: string[] = [];
      if (csv !== null) notes.push('The posted digest would attach the full list as CSV.');
      if (others.length > 0) {
        notes.push(
          `Preview of \`${escapeMrkdwn(first.name)}\`; also configured: ${others.map((d) => escapeMrkdwn(d.name)).join(', ')}.`,
        );
      }
      if (notes.length === 0) return message;
      return withoutFlag({
        text: message.text,
        blocks: [
          ...message.blocks,
          { type: 'context', elements: [{ type: 'mrkdwn', text: notes.join(' ') }] },
        ],
      });
    }
    const statuses = await deps.service.status();
    const blocks: SlackMessage['blocks'] = [
      { type: 'header', text: { type: 'plain_text', text: 'VPN session digests' } },
    ];
    for (const { digest, lastPost, pending } of statuses) {
      const next = deps.nextRun(digest.name);
      const last = lastPost
        ? `${dateToken(lastPost.postedAt)} (${formatCount(lastPost.sessions)} sessions)`
        : 'never';
      blocks.push({
        type: 'section',
        text: {
          type: 'mrkdwn',
          text:
            `*${escapeMrkdwn(digest.name)}* → <#${digest.channel}> · \`${escapeMrkdwn(digest.cron)}\` (${escapeMrkdwn(digest.timezone)}) · ${describeEndpoints(digest)}` +
            `${digest.empty === 'post' ? ' · posts empty digests' : ''}\n` +
            `Next: ${next ? dateToken(next) : 'not scheduled in this process'} · Last: ${last} · Pending: ${formatCount(pending)}`,
        },
      });
    }
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'Try `/vpn-conns digest now` for a preview that only you can see.',
        },
      ],
    });
    return withoutFlag({ text: `${statuses.length} digests configured.`, blocks });
  };
}
