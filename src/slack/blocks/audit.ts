/** `/vpn-conns audit [N]`: the latest audit entries, newest first (admins only). */
import type { AuditEntry } from '../../store/types.js';
import { formatCount } from '../../vpn/format.js';
import { guardMessage, type KnownBlock, type SlackMessage } from './limits.js';
import { dateToken, escapeMrkdwn, truncate } from './mrkdwn.js';

const OUTCOME_EMOJI: Record<string, string> = { ok: ':white_check_mark:', denied: ':no_entry:' };

/** One line per entry: when, who, where, what, outcome. */
export function buildAuditMessage(entries: readonly AuditEntry[], asked: number): SlackMessage {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'vpn-conns audit trail' } },
  ];
  if (entries.length === 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: 'No audit entries yet.' } });
  }
  // Five entries per section keeps the block count low for audit 100.
  for (let i = 0; i < entries.length; i += 5) {
    const lines = entries.slice(i, i + 5).map((e) => {
      const emoji = OUTCOME_EMOJI[e.outcome] ?? ':x:';
      // Stored IDs came from signed payloads; anything else is shown as text, never as a mention.
      const where = e.channelId
        ? ` in ${/^[CGD][A-Z0-9]+$/.test(e.channelId) ? `<#${e.channelId}>` : escapeMrkdwn(e.channelId)}`
        : '';
      const who = /^[UW][A-Z0-9]+$/.test(e.userId) ? `<@${e.userId}>` : escapeMrkdwn(e.userId);
      const endpoints = e.endpoints.length > 0 ? ` · ${escapeMrkdwn(e.endpoints.join(', '))}` : '';
      return (
        `${emoji} ${dateToken(e.at)} ${who}${where} · *${escapeMrkdwn(e.action)}* ` +
        `\`${escapeMrkdwn(truncate(e.detail.replace(/`/g, "'"), 200))}\`${endpoints} · ${escapeMrkdwn(truncate(e.outcome, 200))}`
      );
    });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Latest ${formatCount(entries.length)} of at most ${formatCount(asked)} asked.`,
      },
    ],
  });
  const { text, blocks: guarded } = guardMessage({
    text: `${entries.length} audit entries`,
    blocks,
  });
  return { text, blocks: guarded };
}
