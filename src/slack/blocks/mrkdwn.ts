/**
 * Safe text for Slack mrkdwn. Everything that comes from AWS or from a person
 * goes through `escapeMrkdwn` (or `literal`) before it lands in a message:
 * otherwise a VPN user name `<!channel>` pings a whole channel and
 * `<https://x|y>` becomes a disguised link.
 */
import { formatUtc, MISSING } from '../../vpn/format.js';

const ZERO_WIDTH_SPACE = '\u200B';
const ELLIPSIS = '…';

/**
 * Escapes the three characters Slack gives a meaning in mrkdwn and plain text
 * (`&`, `<`, `>`), and nothing else, so the text shows exactly as written.
 */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Escapes text and also neutralises Slack's formatting markers (`*`, `_`, `~`
 * and the backtick) with a zero-width space before each, so a user name
 * `*admin*` shows as typed instead of in bold. Use it for names and other
 * values shown inside prose; use {@link escapeMrkdwn} for our own sentences
 * that quote a message.
 */
export function literal(text: string): string {
  return escapeMrkdwn(text).replace(/[*_~`]/g, (marker) => `${ZERO_WIDTH_SPACE}${marker}`);
}

/**
 * Inline code for a raw value (an IP address, an id): no formatting and no
 * emoji inside, so `2001:db8:a:b::1` does not grow an :a: emoji. Escaped,
 * newlines and backticks replaced, so it stays one closed span. `–` when empty.
 */
export function inlineCode(text: string | null, max = 100): string {
  const flat = text?.replace(/\s+/g, ' ').trim() ?? '';
  if (flat === '') return MISSING;
  return `\`${escapeMrkdwn(truncate(flat, max)).replaceAll('`', "'")}\``;
}

// An HTML-style entity (`&amp;`, `&lt;`, `&#39;`) that must never be cut in half.
const ENTITY = /^&(?:[a-z]+|#\d+|#x[0-9a-f]+);/i;
// The start of a Slack token (`<!date^…>`, `<@U123>`, `<#C123>`, `<https://…|…>`).
const TOKEN_START = /^<(?:[!@#]|https?:|mailto:)/;

/** Where to cut `text` at or before `end` so no entity, Slack token or surrogate pair is split. */
function safeCut(text: string, end: number): number {
  let cut = end;
  const amp = text.lastIndexOf('&', cut - 1);
  if (amp !== -1) {
    const entity = ENTITY.exec(text.slice(amp));
    if (entity && amp + entity[0].length > cut) cut = amp;
  }
  const open = text.lastIndexOf('<', cut - 1);
  if (open !== -1 && text.indexOf('>', open) >= cut && TOKEN_START.test(text.slice(open))) {
    cut = open;
  }
  const last = text.charCodeAt(cut - 1);
  if (cut > 0 && last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return cut;
}

/**
 * Shortens `text` to at most `max` characters (UTF-16 code units, as Slack
 * counts them), ending with `…` when anything was cut. It never cuts inside
 * an entity such as `&amp;`, a Slack token such as `<!date^…|…>`, or a
 * surrogate pair, so the result is always valid to send.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 1) return '';
  const cut = safeCut(text, max - ELLIPSIS.length);
  return `${text.slice(0, cut).trimEnd()}${ELLIPSIS}`;
}

/**
 * A date Slack shows in the reader's own time zone
 * (`<!date^1795812000^{date_short_pretty} {time}|2026-11-27 20:40 UTC>`), with
 * a UTC fallback for clients that cannot render it. `–` for a missing or
 * invalid date.
 *
 * @param fallback - text shown where the token cannot be rendered; escaped here.
 */
export function dateToken(date: Date | null, fallback?: string): string {
  if (date === null || Number.isNaN(date.getTime())) return MISSING;
  const unix = Math.floor(date.getTime() / 1000);
  return `<!date^${unix}^{date_short_pretty} {time}|${escapeMrkdwn(fallback ?? formatUtc(date))}>`;
}
