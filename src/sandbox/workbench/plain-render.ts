/**
 * A stop-gap renderer with the same contract as `./render/index.ts` (Block Kit to HTML), used
 * until that module is part of the tree: text and plain button markup only.
 */
import type { RenderContext, WorkbenchMessage } from './types.js';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'text' in value) {
    return textOf((value as { text: unknown }).text);
  }
  return '';
}

/** Renders a message as escaped text per block, with Block Kit buttons as `<button>`s. */
export function renderMessage(message: WorkbenchMessage, _ctx: RenderContext): string {
  const parts: string[] = [];
  if (message.text !== undefined && message.blocks === undefined) {
    parts.push(`<p>${escapeHtml(message.text)}</p>`);
  }
  for (const block of message.blocks ?? []) {
    const b = block as Record<string, unknown>;
    if (typeof b.text === 'object') parts.push(`<p>${escapeHtml(textOf(b.text))}</p>`);
    for (const field of Array.isArray(b.fields) ? b.fields : []) {
      parts.push(`<p>${escapeHtml(textOf(field))}</p>`);
    }
    const elements = Array.isArray(b.elements) ? b.elements : [];
    for (const element of elements) {
      const e = element as Record<string, unknown>;
      if (e.type === 'button') {
        parts.push(
          `<button type="button" data-action-id="${escapeHtml(String(e.action_id ?? ''))}" data-block-id="${escapeHtml(String(b.block_id ?? ''))}" data-value="${escapeHtml(String(e.value ?? ''))}">${escapeHtml(textOf(e.text))}</button>`,
        );
      } else parts.push(`<p>${escapeHtml(textOf(e))}</p>`);
    }
  }
  for (const file of message.files ?? []) {
    parts.push(`<a href="${escapeHtml(file.url)}" download>${escapeHtml(file.name)}</a>`);
  }
  for (const problem of message.limitProblems ?? []) {
    parts.push(`<p class="limit-badge">${escapeHtml(problem)}</p>`);
  }
  if (message.ephemeral) parts.push('<p>Only visible to you</p>');
  return `<article data-ts="${escapeHtml(message.ts)}">${parts.join('')}</article>`;
}
