/**
 * Block Kit blocks as HTML, one function per block type. A block the
 * workbench does not know is shown as a visible placeholder naming its type,
 * never dropped: the point of the workbench is to see what the bot sent.
 */

import {
  elementHtml,
  imageHtml,
  isObject,
  type Json,
  placeholder,
  plainOf,
  stringOf,
  textHtml,
} from './elements.js';
import { attr, escapeHtml, safeUrl } from './escape.js';
import { renderPlainText } from './mrkdwn.js';
import { renderRichText } from './rich-text.js';
import type { RenderContext } from './types.js';

function blockDiv(type: string, blockId: string, inner: string): string {
  return `<div class="slack-block slack-${type}"${attr('data-block-id', blockId)}>${inner}</div>`;
}

function header(block: Json, blockId: string, ctx: RenderContext): string {
  return `<h3 class="slack-block slack-header"${attr('data-block-id', blockId)}>${textHtml(block.text, ctx) ?? ''}</h3>`;
}

/** Text, then fields in two columns, with the accessory (button, image, menu) on the right. */
function section(block: Json, blockId: string, ctx: RenderContext): string {
  const parts: string[] = [];
  const text = textHtml(block.text, ctx);
  if (text !== undefined) parts.push(`<div class="slack-text">${text}</div>`);
  if (Array.isArray(block.fields) && block.fields.length > 0) {
    const fields = block.fields.map(
      (field) => `<div class="slack-field">${textHtml(field, ctx) ?? placeholder('field')}</div>`,
    );
    parts.push(`<div class="slack-fields">${fields.join('')}</div>`);
  }
  const accessory =
    block.accessory === undefined
      ? ''
      : `<div class="slack-accessory">${elementHtml(block.accessory, blockId, ctx)}</div>`;
  return blockDiv(
    'section',
    blockId,
    `<div class="slack-section-body">${parts.join('')}</div>${accessory}`,
  );
}

/** Small grey line of texts and images. */
function context(block: Json, blockId: string, ctx: RenderContext): string {
  const elements = Array.isArray(block.elements) ? block.elements : [];
  const items = elements.map((element) => {
    if (isObject(element) && element.type === 'image') {
      return imageHtml(element, 'slack-context-image', ctx);
    }
    const text = textHtml(element, ctx);
    return text === undefined
      ? placeholder('context element')
      : `<span class="slack-context-text">${text}</span>`;
  });
  return blockDiv('context', blockId, items.join(''));
}

function actions(block: Json, blockId: string, ctx: RenderContext): string {
  const elements = Array.isArray(block.elements) ? block.elements : [];
  const items = elements.map((element) => elementHtml(element, blockId, ctx));
  return blockDiv('actions', blockId, items.join(''));
}

function image(block: Json, blockId: string, ctx: RenderContext): string {
  const title = isObject(block.title)
    ? `<figcaption>${textHtml(block.title, ctx) ?? ''}</figcaption>`
    : '';
  return `<figure class="slack-block slack-image"${attr('data-block-id', blockId)}>${title}${imageHtml(block, 'slack-image-picture', ctx)}</figure>`;
}

/** A table block: rows of `raw_text` or `rich_text` cells. */
function table(block: Json, blockId: string, ctx: RenderContext): string {
  const rows = (Array.isArray(block.rows) ? block.rows : []).map((row) => {
    const cells = (Array.isArray(row) ? row : []).map((cell) => {
      if (!isObject(cell)) return '<td></td>';
      const html =
        cell.type === 'rich_text'
          ? renderRichText(cell, ctx)
          : escapeHtml(stringOf(cell.text) ?? '');
      return `<td>${html}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table class="slack-block slack-table"${attr('data-block-id', blockId)}><tbody>${rows.join('')}</tbody></table>`;
}

function video(block: Json, blockId: string, ctx: RenderContext): string {
  const title = plainOf(block.title) || stringOf(block.alt_text) || 'Video';
  const url = safeUrl(stringOf(block.title_url) ?? stringOf(block.video_url) ?? '', [
    'http:',
    'https:',
  ]);
  const label = renderPlainText(title, true);
  const body =
    url === undefined
      ? `${placeholder('video')} ${label}`
      : `<a class="slack-link"${attr('href', url)} target="_blank" rel="noopener noreferrer">${label}</a>`;
  const description = textHtml(block.description, ctx);
  return blockDiv(
    'video',
    blockId,
    description === undefined ? body : `${body}<div>${description}</div>`,
  );
}

type BlockRenderer = (block: Json, blockId: string, ctx: RenderContext) => string;

const RENDERERS: Readonly<Record<string, BlockRenderer>> = {
  header,
  section,
  context,
  divider: (_block, blockId) =>
    `<hr class="slack-block slack-divider"${attr('data-block-id', blockId)}>`,
  actions,
  image,
  rich_text: (block, blockId, ctx) => blockDiv('rich_text', blockId, renderRichText(block, ctx)),
  markdown: (block, blockId) =>
    blockDiv('markdown', blockId, renderPlainText(stringOf(block.text) ?? '', true)),
  table,
  video,
};

/**
 * One block as HTML. Slack gives every block an id; a block sent without one
 * gets `b<index>` here, so every button carries a `data-block-id`.
 */
export function renderBlock(block: unknown, index: number, ctx: RenderContext): string {
  if (!isObject(block)) {
    return `<div class="slack-block slack-unknown" role="note">${placeholder('not a block')}</div>`;
  }
  const type = stringOf(block.type) ?? '';
  const blockId = stringOf(block.block_id) ?? `b${index}`;
  const render = Object.hasOwn(RENDERERS, type) ? RENDERERS[type] : undefined;
  if (render !== undefined) return render(block, blockId, ctx);
  const name = type === '' ? 'block without a type' : `unsupported block type "${type}"`;
  return `<div class="slack-block slack-unknown" role="note"${attr('data-block-id', blockId)}>${escapeHtml(`[${name}]`)}</div>`;
}

/** Every block of a message, in order. */
export function renderBlocks(blocks: readonly unknown[], ctx: RenderContext): string {
  return blocks.map((block, index) => renderBlock(block, index, ctx)).join('');
}
