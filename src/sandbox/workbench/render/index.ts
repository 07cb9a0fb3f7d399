/**
 * The workbench's message renderer: one Slack message (Block Kit JSON and
 * what Slack shows around it) as an HTML `<article>`, computed on the server.
 * Pure and deterministic; the browser side (localized dates, buttons and
 * their confirm dialogs) is static/blocks.js, the look static/blocks.css.
 */
import { renderBlocks } from './blocks.js';
import { attr, escapeHtml, safeFileUrl } from './escape.js';
import { renderMrkdwn } from './mrkdwn.js';
import type { RenderContext, WorkbenchMessage } from './types.js';

export { htmlToText } from './elements.js';
export { renderMrkdwn, renderPlainText } from './mrkdwn.js';
export type { RenderContext, WorkbenchMessage } from './types.js';

/** Who a message is from when the workbench did not say: the bot. */
const DEFAULT_AUTHOR = { id: '', name: 'vpn-conns', isBot: true } as const;

/** The author line: avatar initial, name, `APP` tag for bots, the time (localized by blocks.js) and `(edited)`. */
function metaHtml(message: WorkbenchMessage): string {
  const author = message.author ?? DEFAULT_AUTHOR;
  const seconds = Number.parseInt(message.ts, 10);
  let time = '';
  if (Number.isSafeInteger(seconds)) {
    const date = new Date(seconds * 1000);
    const fallback = `${date.toISOString().slice(11, 16)} UTC`;
    time =
      `<time class="slack-date slack-message-time"${attr('datetime', date.toISOString())}` +
      `${attr('data-ts', String(seconds))} data-format="{time}">${fallback}</time>`;
  }
  const app = author.isBot ? '<span class="slack-app-tag">APP</span>' : '';
  const edited = message.edited === true ? '<span class="slack-edited">(edited)</span>' : '';
  return `<div class="slack-meta"><span class="slack-author"${attr('data-user-id', author.id || undefined)}>${escapeHtml(author.name)}</span>${app}${time}${edited}</div>`;
}

function avatarHtml(message: WorkbenchMessage): string {
  const author = message.author ?? DEFAULT_AUTHOR;
  const initial = [...author.name.trim()][0]?.toUpperCase() ?? '?';
  const kind = author.isBot ? ' slack-avatar-bot' : '';
  return `<div class="slack-avatar${kind}" aria-hidden="true">${escapeHtml(initial)}</div>`;
}

/** The red badge naming each Block Kit limit the message breaks. */
function limitBadge(problems: readonly string[]): string {
  const items = problems.map((p) => `<li>Block Kit limit: ${escapeHtml(p)}</li>`);
  return `<div class="slack-limit-badge" role="alert"><ul>${items.join('')}</ul></div>`;
}

const IMAGE_FILE = /\.(png|jpe?g|gif)$/i;

/** Uploaded files as download links named by the file name (title below when it differs). */
function filesHtml(files: NonNullable<WorkbenchMessage['files']>): string {
  const items = files.map((file) => {
    const href = safeFileUrl(file.url);
    const name = escapeHtml(file.name);
    const link =
      href === undefined
        ? `<span class="slack-file-name">${name}</span>`
        : `<a class="slack-file-name"${attr('href', href)}${attr('download', file.name)}${attr('data-file-id', file.id)}>${name}</a>`;
    const title =
      file.title !== undefined && file.title !== file.name
        ? `<div class="slack-file-title">${escapeHtml(file.title)}</div>`
        : '';
    // Slack shows an uploaded image (a report's chart) inline above its name.
    const preview =
      href !== undefined && IMAGE_FILE.test(file.name)
        ? `<img class="slack-file-preview"${attr('src', href)}${attr('alt', file.title ?? file.name)}>`
        : '';
    if (preview !== '') {
      return `<li class="slack-file slack-file-image">${preview}<div>${link}${title}</div></li>`;
    }
    return `<li class="slack-file"><span class="slack-file-icon" aria-hidden="true">📄</span><div>${link}${title}</div></li>`;
  });
  return `<ul class="slack-files">${items.join('')}</ul>`;
}

function threadHtml(message: WorkbenchMessage): string {
  const count = message.replyCount ?? 0;
  if (count <= 0) return '';
  const label = `${count} ${count === 1 ? 'reply' : 'replies'}`;
  return `<div class="slack-thread-summary"><a class="slack-thread-link" href="#"${attr('data-thread-ts', message.threadTs ?? message.ts)}>${label}</a></div>`;
}

/**
 * One message as an HTML `<article data-ts data-channel>`: author line,
 * "Only visible to you" when ephemeral, a red badge when it breaks a Block Kit
 * limit, its blocks (or its `text` when it has none), files and the thread's
 * reply count. Every string from the message is escaped; links are http(s)
 * or mailto only. Pure: the same message and context give the same HTML.
 */
export function renderMessage(message: WorkbenchMessage, ctx: RenderContext): string {
  const blocks = Array.isArray(message.blocks) ? message.blocks : [];
  const body =
    blocks.length > 0
      ? renderBlocks(blocks, ctx)
      : `<div class="slack-block slack-section"><div class="slack-text">${renderMrkdwn(message.text ?? '', ctx)}</div></div>`;
  const parts = [
    avatarHtml(message),
    '<div class="slack-message-content">',
    metaHtml(message),
    message.ephemeral
      ? '<div class="slack-ephemeral-note"><span aria-hidden="true">👁</span> Only visible to you</div>'
      : '',
    message.limitProblems && message.limitProblems.length > 0
      ? limitBadge(message.limitProblems)
      : '',
    `<div class="slack-blocks">${body}</div>`,
    message.files && message.files.length > 0 ? filesHtml(message.files) : '',
    threadHtml(message),
    '</div>',
  ];
  const classes = `slack-message${message.ephemeral ? ' slack-ephemeral' : ''}`;
  return (
    `<article class="${classes}"${attr('data-ts', message.ts)}${attr('data-channel', message.channel)}` +
    `${attr('data-thread-ts', message.threadTs)}>${parts.join('')}</article>`
  );
}
