/**
 * `rich_text` blocks (what people type in Slack's composer, and table cells)
 * as HTML: sections, bullet and numbered lists, preformatted text and quotes,
 * with styled text, links, mentions, emoji and dates.
 */

import { isObject, type Json, placeholder, stringOf } from './elements.js';
import { emojiHtml } from './emoji.js';
import { attr, escapeHtml, safeUrl } from './escape.js';
import { dateHtml } from './mrkdwn.js';
import type { RenderContext } from './types.js';

/** Wraps text in the tags its `style` asks for (bold, italic, strike, code). */
function styled(html: string, style: unknown): string {
  if (!isObject(style)) return html;
  let out = html;
  if (style.code === true) out = `<code class="slack-code">${out}</code>`;
  if (style.strike === true) out = `<s>${out}</s>`;
  if (style.italic === true) out = `<i>${out}</i>`;
  if (style.bold === true) out = `<b>${out}</b>`;
  return out;
}

/** An emoji element: its `unicode` code points when given, else a known shortcode, else `:name:`. */
function emoji(element: Json): string {
  const name = stringOf(element.name) ?? '';
  const unicode = stringOf(element.unicode);
  if (unicode !== undefined && /^[0-9a-f]{1,6}(-[0-9a-f]{1,6})*$/i.test(unicode)) {
    const points = unicode.split('-').map((hex) => Number.parseInt(hex, 16));
    if (points.every((p) => p <= 0x10ffff)) {
      return `<span class="slack-emoji"${attr('title', `:${name}:`)}>${String.fromCodePoint(...points)}</span>`;
    }
  }
  return emojiHtml(name) ?? escapeHtml(`:${name}:`);
}

function mention(className: string, text: string): string {
  return `<span class="${className}">${escapeHtml(text)}</span>`;
}

/** One inline element of a rich text section. */
function inline(element: unknown, ctx: RenderContext): string {
  if (!isObject(element)) return '';
  switch (element.type) {
    case 'text':
      return styled(
        escapeHtml(stringOf(element.text) ?? '').replaceAll('\n', '<br>'),
        element.style,
      );
    case 'link': {
      const url = safeUrl(stringOf(element.url) ?? '');
      const label = escapeHtml(stringOf(element.text) ?? stringOf(element.url) ?? '');
      const html =
        url === undefined
          ? label
          : `<a class="slack-link"${attr('href', url)} target="_blank" rel="noopener noreferrer">${label}</a>`;
      return styled(html, element.style);
    }
    case 'user': {
      const id = stringOf(element.user_id) ?? '';
      return mention('slack-mention', `@${ctx.userName(id) ?? id}`);
    }
    case 'channel': {
      const id = stringOf(element.channel_id) ?? '';
      return mention('slack-channel', `#${ctx.channelName(id) ?? id}`);
    }
    case 'usergroup':
      return mention('slack-mention', `@${stringOf(element.usergroup_id) ?? ''}`);
    case 'broadcast':
      return mention('slack-mention slack-broadcast', `@${stringOf(element.range) ?? 'here'}`);
    case 'emoji':
      return emoji(element);
    case 'date': {
      const timestamp = typeof element.timestamp === 'number' ? element.timestamp : Number.NaN;
      const fallback = stringOf(element.fallback) ?? '';
      const format = stringOf(element.format) ?? '{date_short_pretty} {time}';
      return dateHtml(timestamp, format, fallback, stringOf(element.url)) ?? escapeHtml(fallback);
    }
    case 'color':
      return escapeHtml(stringOf(element.value) ?? '');
    default:
      return placeholder(stringOf(element.type) ?? 'element');
  }
}

function inlines(container: Json, ctx: RenderContext): string {
  const elements = Array.isArray(container.elements) ? container.elements : [];
  return elements.map((element) => inline(element, ctx)).join('');
}

/** One element of a rich_text block: a section, list, preformatted run or quote. */
function richElement(element: unknown, ctx: RenderContext): string {
  if (!isObject(element)) return '';
  switch (element.type) {
    case 'rich_text_section':
      return `<div class="slack-rich-section">${inlines(element, ctx)}</div>`;
    case 'rich_text_preformatted':
      return `<pre class="slack-pre">${inlines(element, ctx)}</pre>`;
    case 'rich_text_quote':
      return `<blockquote class="slack-quote">${inlines(element, ctx)}</blockquote>`;
    case 'rich_text_list': {
      const tag = element.style === 'ordered' ? 'ol' : 'ul';
      const items = (Array.isArray(element.elements) ? element.elements : [])
        .filter(isObject)
        .map((item) => `<li>${inlines(item, ctx)}</li>`);
      return `<${tag} class="slack-list">${items.join('')}</${tag}>`;
    }
    default:
      return placeholder(stringOf(element.type) ?? 'rich text element');
  }
}

/** The elements of a `rich_text` block (or a rich_text table cell) as HTML. */
export function renderRichText(block: Json, ctx: RenderContext): string {
  const elements = Array.isArray(block.elements) ? block.elements : [];
  return elements.map((element) => richElement(element, ctx)).join('');
}
