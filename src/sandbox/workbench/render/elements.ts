/**
 * Text objects and interactive elements (buttons, images, overflow menus,
 * selects) as HTML. Block Kit JSON arrives as `unknown`: every field is
 * checked where it is read, and anything malformed is shown, never thrown.
 */
import { attr, escapeHtml, safeUrl } from './escape.js';
import { renderMrkdwn, renderPlainText } from './mrkdwn.js';
import type { RenderContext } from './types.js';

export type Json = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value when it is a string, else `undefined`. */
export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The HTML of a text object (`plain_text` or `mrkdwn`); `undefined` when it is not one. */
export function textHtml(value: unknown, ctx: RenderContext): string | undefined {
  if (!isObject(value) || typeof value.text !== 'string') return undefined;
  if (value.type === 'mrkdwn') return renderMrkdwn(value.text, ctx);
  if (value.type === 'plain_text') return renderPlainText(value.text, value.emoji !== false);
  return undefined;
}

/** The raw string of a text object, for labels and attributes; `''` when it is not one. */
export function plainOf(value: unknown): string {
  return isObject(value) && typeof value.text === 'string' ? value.text : '';
}

/** A visible stand-in for something the workbench does not draw, naming what it is. */
export function placeholder(kind: string, detail = ''): string {
  const more = detail === '' ? '' : `: ${escapeHtml(detail)}`;
  return `<span class="slack-unsupported">[${escapeHtml(kind)}${more}]</span>`;
}

/** Strips tags and decodes the entities {@link escapeHtml} writes: the text a person reads. */
export function htmlToText(html: string): string {
  return html
    .replace(/<br>/g, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|quot|#39|amp);/g, (entity) => ENTITY_TEXT[entity] ?? entity);
}

const ENTITY_TEXT: Readonly<Record<string, string>> = {
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&amp;': '&',
};

/**
 * A confirm object as the JSON blocks.js reads from `data-confirm`: the plain
 * title and button labels, the dialog text both as text and as rendered HTML
 * (it is mrkdwn in the bot's dialogs), and the style.
 */
function confirmJson(confirm: unknown, ctx: RenderContext): string | undefined {
  if (!isObject(confirm)) return undefined;
  const html = textHtml(confirm.text, ctx) ?? '';
  return JSON.stringify({
    title: plainOf(confirm.title),
    text: htmlToText(html),
    html,
    confirm: plainOf(confirm.confirm) || 'Yes',
    deny: plainOf(confirm.deny) || 'Cancel',
    style: stringOf(confirm.style) ?? 'default',
  });
}

/** The `data-*` attributes blocks.js dispatches a click from. */
function actionAttrs(element: Json, blockId: string, type: string, value?: string): string {
  return (
    attr('data-action-id', stringOf(element.action_id) ?? '') +
    attr('data-block-id', blockId) +
    attr('data-element-type', type) +
    attr('data-value', value)
  );
}

/**
 * A button: `<button type="button">` named exactly by its text, or a link
 * when it has a safe `url` (Slack opens the URL and still sends the action).
 */
export function buttonHtml(element: Json, blockId: string, ctx: RenderContext): string {
  const style = stringOf(element.style);
  const classes = `slack-button${style === 'primary' || style === 'danger' ? ` slack-button-${style}` : ''}`;
  const label = textHtml(element.text, ctx) ?? '';
  const data =
    actionAttrs(element, blockId, 'button', stringOf(element.value)) +
    attr('data-confirm', confirmJson(element.confirm, ctx));
  const url = stringOf(element.url);
  const href = url === undefined ? undefined : safeUrl(url, ['http:', 'https:']);
  if (href !== undefined) {
    return `<a class="${classes}"${attr('href', href)} target="_blank" rel="noopener noreferrer"${data}>${label}</a>`;
  }
  return `<button type="button" class="${classes}"${data}>${label}</button>`;
}

/** An image element or block's picture; a placeholder with the alt text when the URL is unusable. */
export function imageHtml(element: Json, className: string, ctx?: RenderContext): string {
  const alt = stringOf(element.alt_text) ?? '';
  const url = stringOf(element.image_url);
  // A bot file is served by the workbench itself, at a path of its own (never a page's URL).
  const fileId = isObject(element.slack_file) ? stringOf(element.slack_file.id) : undefined;
  const filePath = fileId === undefined ? undefined : ctx?.fileUrl?.(fileId);
  const src =
    url !== undefined
      ? safeUrl(url, ['http:', 'https:'])
      : filePath?.startsWith('/files/')
        ? filePath
        : undefined;
  if (src === undefined) {
    const source = isObject(element.slack_file) ? 'Slack file' : 'image';
    return placeholder(source, alt);
  }
  return `<img class="${className}"${attr('src', src)}${attr('alt', alt)} loading="lazy" referrerpolicy="no-referrer">`;
}

function optionsOf(element: Json): Json[] {
  const groups = Array.isArray(element.option_groups) ? element.option_groups : [];
  const grouped = groups
    .filter(isObject)
    .flatMap((g) => (Array.isArray(g.options) ? g.options : []));
  const options = Array.isArray(element.options) ? element.options : grouped;
  return options.filter(isObject);
}

/** An overflow menu: a `⋯` disclosure whose options are buttons dispatching the overflow's action. */
function overflowHtml(element: Json, blockId: string, ctx: RenderContext): string {
  const items = optionsOf(element).map(
    (option) =>
      `<li><button type="button" class="slack-overflow-option"${actionAttrs(element, blockId, 'overflow', stringOf(option.value))}${attr('data-confirm', confirmJson(element.confirm, ctx))}>${textHtml(option.text, ctx) ?? ''}</button></li>`,
  );
  return `<details class="slack-overflow"><summary aria-label="More actions">⋯</summary><ul>${items.join('')}</ul></details>`;
}

/** A static select: a real `<select>` named by its placeholder; changing it dispatches the action. */
function selectHtml(element: Json, blockId: string, ctx: RenderContext): string {
  const type = stringOf(element.type) ?? 'static_select';
  const prompt = plainOf(element.placeholder) || 'Select an item';
  const initial = isObject(element.initial_option)
    ? stringOf(element.initial_option.value)
    : undefined;
  const options = optionsOf(element).map((option) => {
    const value = stringOf(option.value) ?? '';
    const selected = value === initial ? ' selected' : '';
    return `<option${attr('value', value)}${selected}>${escapeHtml(plainOf(option.text))}</option>`;
  });
  const none = initial === undefined ? ' selected' : '';
  return (
    `<select class="slack-select"${attr('aria-label', prompt)}${actionAttrs(element, blockId, type)}` +
    `${attr('data-confirm', confirmJson(element.confirm, ctx))}>` +
    `<option value="" disabled${none}>${escapeHtml(prompt)}</option>${options.join('')}</select>`
  );
}

/**
 * Any interactive element of an actions block or a section accessory. Those
 * the workbench cannot operate (date pickers, user selects, inputs…) show a
 * placeholder naming their type and placeholder text.
 */
export function elementHtml(element: unknown, blockId: string, ctx: RenderContext): string {
  if (!isObject(element)) return placeholder('invalid element');
  const type = stringOf(element.type) ?? 'element without a type';
  switch (type) {
    case 'button':
      return buttonHtml(element, blockId, ctx);
    case 'image':
      return imageHtml(element, 'slack-accessory-image', ctx);
    case 'overflow':
      return overflowHtml(element, blockId, ctx);
    case 'static_select':
      return selectHtml(element, blockId, ctx);
    default:
      return placeholder(type, plainOf(element.placeholder));
  }
}
