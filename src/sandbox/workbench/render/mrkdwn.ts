/**
 * Slack mrkdwn to HTML, as a Slack client shows it: `*bold*`, `_italic_`,
 * `~strike~`, inline code, ``` blocks, `>` quotes, links, mentions and
 * `<!date^…>` tokens. The text is attacker-controlled (VPN user names), so the
 * only markup in the output is the markup written here: every character of the
 * message goes through `escapeHtml`, every URL through `safeUrl`.
 */

import { emojiHtml, replaceEmoji } from './emoji.js';
import { attr, decodeSlackEntities, escapeHtml, safeUrl } from './escape.js';
import type { RenderContext } from './types.js';

const ZERO_WIDTH_SPACE = '\u200B';
const EMPHASIS: Readonly<Record<string, string>> = { '*': 'b', _: 'i', '~': 's' };

/**
 * One unit of a line: a character of text (`raw` when it was typed as is, not
 * decoded from `&lt;`-style entities: only raw characters can be markers) or a
 * piece of finished HTML (a link, a mention, a code span, an emoji).
 */
type Atom =
  | { readonly kind: 'char'; readonly char: string; readonly raw: boolean }
  | { readonly kind: 'html'; readonly html: string };

/** `<a>` attributes every link of a message gets. */
const LINK_ATTRS = ' target="_blank" rel="noopener noreferrer"';

function link(url: string, labelHtml: string, className: string): string {
  return `<a class="${className}"${attr('href', url)}${LINK_ATTRS}>${labelHtml}</a>`;
}

/** Splits `a|b` at the first `|`; the label is `undefined` when there is none or it is empty. */
function splitLabel(content: string): { readonly head: string; readonly label?: string } {
  const bar = content.indexOf('|');
  if (bar === -1) return { head: content };
  const label = decodeSlackEntities(content.slice(bar + 1));
  return label === '' ? { head: content.slice(0, bar) } : { head: content.slice(0, bar), label };
}

/**
 * A `<time class="slack-date">` the browser localizes (see static/blocks.js),
 * showing `fallback` until then or when it cannot; wrapped in a link when
 * `url` is a safe one. `undefined` when `unix` is not a whole number of seconds.
 */
export function dateHtml(
  unix: number,
  format: string,
  fallback: string,
  url?: string,
): string | undefined {
  const date = new Date(unix * 1000);
  if (!Number.isSafeInteger(unix) || Number.isNaN(date.getTime())) return undefined;
  const time =
    `<time class="slack-date"${attr('datetime', date.toISOString())}${attr('data-ts', String(unix))}` +
    `${attr('data-format', format)}>${escapeHtml(fallback)}</time>`;
  const safe = url === undefined ? undefined : safeUrl(url);
  return safe === undefined ? time : link(safe, time, 'slack-link');
}

/** `<!date^UNIX^FORMAT|fallback>` or `<!date^UNIX^FORMAT^LINK|fallback>`; `undefined` when malformed. */
function dateToken(head: string, label: string | undefined, plain: boolean): string | undefined {
  const [, unixText = '', format = '', ...rest] = head.split('^');
  if (!/^-?\d{1,15}$/.test(unixText)) return undefined;
  if (plain) return escapeHtml(label ?? '');
  const url = rest.length > 0 ? decodeSlackEntities(rest.join('^')) : undefined;
  return dateHtml(Number(unixText), decodeSlackEntities(format), label ?? '', url);
}

/** `<!here>`, `<!channel>`, `<!subteam^S…|@team>`, `<!date^…>`; `undefined` when unknown. */
function specialToken(head: string, label: string | undefined, plain: boolean): string | undefined {
  const mention = (text: string, data: string) =>
    plain
      ? escapeHtml(text)
      : `<span class="slack-mention slack-broadcast"${data}>${escapeHtml(text)}</span>`;
  if (head === 'here' || head === 'channel' || head === 'everyone') {
    return mention(`@${head}`, '');
  }
  if (head.startsWith('subteam^')) {
    const id = head.slice('subteam^'.length);
    const name = label?.replace(/^@/, '') || id;
    return mention(`@${name}`, attr('data-subteam-id', id));
  }
  if (head.startsWith('date^')) return dateToken(head, label, plain);
  return undefined;
}

/**
 * The HTML for the inside of one `<…>` token. `plain` (inside code) gives
 * only its display text. Anything not understood, including a link with a
 * scheme other than http, https or mailto, is shown as the literal text.
 */
function renderToken(content: string, ctx: RenderContext, plain: boolean): string {
  const literal = escapeHtml(`<${decodeSlackEntities(content)}>`);
  const { head, label } = splitLabel(content);
  const sigil = head[0];
  if (sigil === '@' || sigil === '#') {
    const id = head.slice(1);
    const known = sigil === '@' ? ctx.userName(id) : ctx.channelName(id);
    const text = `${sigil}${known ?? label ?? id}`;
    if (plain) return escapeHtml(text);
    const kind = sigil === '@' ? 'slack-mention' : 'slack-channel';
    const data = attr(sigil === '@' ? 'data-user-id' : 'data-channel-id', id);
    return `<span class="${kind}"${data}>${escapeHtml(text)}</span>`;
  }
  if (sigil === '!') return specialToken(head.slice(1), label, plain) ?? literal;
  const url = safeUrl(decodeSlackEntities(head));
  if (url === undefined) return literal;
  const text = escapeHtml(label ?? url);
  return plain ? text : link(url, text, 'slack-link');
}

/**
 * A search for `char` in `text` from ever-increasing positions that reads
 * the text once in all: where the last search found nothing, or something at
 * or after `from`, that is still the answer. Keeps long hostile texts
 * (`<<<<…`) linear.
 */
function forwardFinder(text: string, char: string): (from: number) => number {
  let found = -2;
  return (from) => {
    if (found === -1 || found >= from) return found;
    found = text.indexOf(char, from);
    return found;
  };
}

/** Text inside code: entities decoded once, tokens as their display text, nothing else. */
function codeText(text: string, ctx: RenderContext): string {
  const nextOpen = forwardFinder(text, '<');
  const nextClose = forwardFinder(text, '>');
  let html = '';
  let from = 0;
  for (let open = nextOpen(0); open !== -1; open = nextOpen(open + 1)) {
    const close = nextClose(open + 1);
    if (close === -1) break;
    const reopened = nextOpen(open + 1);
    if (close === open + 1 || (reopened !== -1 && reopened < close)) continue;
    html += escapeHtml(decodeSlackEntities(text.slice(from, open)));
    html += renderToken(text.slice(open + 1, close), ctx, true);
    from = close + 1;
  }
  return html + escapeHtml(decodeSlackEntities(text.slice(from)));
}

const ENTITY = /^&(lt|gt|amp);/;

/**
 * Cuts one line into atoms: tokens, inline code and known emoji become HTML;
 * everything else stays characters for {@link emphasize}. A marker (or a
 * backtick) right after a zero-width space is text: that is how the bot
 * writes a user name `*admin*` so that it is not shown in bold.
 */
function lex(line: string, ctx: RenderContext): Atom[] {
  const atoms: Atom[] = [];
  const nextOpen = forwardFinder(line, '<');
  const nextClose = forwardFinder(line, '>');
  const nextTick = forwardFinder(line, '`');
  let i = 0;
  while (i < line.length) {
    const char = line[i] as string;
    const escaped = line[i - 1] === ZERO_WIDTH_SPACE;
    if (char === '<') {
      const close = nextClose(i + 1);
      const reopened = nextOpen(i + 1);
      if (close > i + 1 && (reopened === -1 || reopened > close)) {
        atoms.push({ kind: 'html', html: renderToken(line.slice(i + 1, close), ctx, false) });
        i = close + 1;
        continue;
      }
    } else if (char === '`' && !escaped) {
      const close = nextTick(i + 1);
      if (close > i + 1 && line[close - 1] !== ZERO_WIDTH_SPACE) {
        const code = codeText(line.slice(i + 1, close), ctx);
        atoms.push({ kind: 'html', html: `<code class="slack-code">${code}</code>` });
        i = close + 1;
        continue;
      }
    } else if (char === '&') {
      const entity = ENTITY.exec(line.slice(i, i + 5));
      if (entity) {
        atoms.push({ kind: 'char', char: decodeSlackEntities(entity[0]), raw: false });
        i += entity[0].length;
        continue;
      }
    } else if (char === ':') {
      const code = /^:([a-z0-9_+-]+):/.exec(line.slice(i, i + 64));
      const html = code?.[1] === undefined ? undefined : emojiHtml(code[1]);
      if (code && html !== undefined) {
        atoms.push({ kind: 'html', html });
        i += code[0].length;
        continue;
      }
    }
    atoms.push({ kind: 'char', char, raw: !escaped });
    i += 1;
  }
  return atoms;
}

const isWordChar = (char: string) => /[\p{L}\p{N}]/u.test(char);
const isSpace = (char: string) => /\s/.test(char);

/** A raw `*`, `_` or `~` that starts a span: not inside a word, and followed by non-space. */
function canOpen(atoms: readonly Atom[], i: number): boolean {
  const atom = atoms[i];
  if (atom?.kind !== 'char' || !atom.raw || !(atom.char in EMPHASIS)) return false;
  const prev = atoms[i - 1];
  if (prev?.kind === 'char' && (isWordChar(prev.char) || prev.char === atom.char)) return false;
  const next = atoms[i + 1];
  return next !== undefined && !(next.kind === 'char' && isSpace(next.char));
}

/** The same marker closing a span: after non-space, and not followed by a letter or digit. */
function canClose(atoms: readonly Atom[], j: number, marker: string): boolean {
  const atom = atoms[j];
  if (atom?.kind !== 'char' || !atom.raw || atom.char !== marker) return false;
  const prev = atoms[j - 1];
  if (prev?.kind === 'char' && (isSpace(prev.char) || prev.char === ZERO_WIDTH_SPACE)) {
    return false;
  }
  const next = atoms[j + 1];
  return next === undefined || next.kind !== 'char' || !isWordChar(next.char);
}

/** Where each marker can close a span, in order: found once per line, searched by bisection. */
type Closers = Readonly<Record<string, readonly number[]>>;

function findClosers(atoms: readonly Atom[]): Closers {
  const closers: Record<string, number[]> = { '*': [], _: [], '~': [] };
  for (const [j, atom] of atoms.entries()) {
    if (atom.kind === 'char' && canClose(atoms, j, atom.char)) closers[atom.char]?.push(j);
  }
  return closers;
}

/** The first of the sorted `positions` that is at least `from`, or -1. */
function firstFrom(positions: readonly number[], from: number): number {
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((positions[middle] as number) < from) low = middle + 1;
    else high = middle;
  }
  return positions[low] ?? -1;
}

/** HTML for `atoms[start..end)`: bold, italic and strike spans, the rest escaped. */
function emphasize(atoms: readonly Atom[], closers: Closers, start: number, end: number): string {
  let html = '';
  // Plain characters are escaped a run at a time, not one by one.
  let text = '';
  const flush = () => {
    html += escapeHtml(text);
    text = '';
  };
  let i = start;
  while (i < end) {
    const atom = atoms[i] as Atom;
    if (atom.kind === 'html') {
      flush();
      html += atom.html;
      i += 1;
      continue;
    }
    if (canOpen(atoms, i)) {
      const close = firstFrom(closers[atom.char] ?? [], i + 2);
      if (close !== -1 && close < end) {
        const tag = EMPHASIS[atom.char] as string;
        flush();
        html += `<${tag}>${emphasize(atoms, closers, i + 1, close)}</${tag}>`;
        i = close + 1;
        continue;
      }
    }
    text += atom.char;
    i += 1;
  }
  flush();
  return html;
}

/** One line of mrkdwn (no newline) as inline HTML. */
function renderLine(line: string, ctx: RenderContext): string {
  const atoms = lex(line, ctx);
  return emphasize(atoms, findClosers(atoms), 0, atoms.length);
}

/**
 * Lines outside code blocks: runs of lines starting with `>` become one
 * quote, `>>>` quotes the rest; the others are joined with `<br>`.
 */
function renderFlow(text: string, ctx: RenderContext): string {
  const out: string[] = [];
  let lines: string[] = [];
  let quoted: string[] = [];
  const flush = () => {
    if (lines.length > 0) out.push(lines.join('<br>'));
    if (quoted.length > 0)
      out.push(`<blockquote class="slack-quote">${quoted.join('<br>')}</blockquote>`);
    lines = [];
    quoted = [];
  };
  const all = text.split('\n');
  for (const [n, line] of all.entries()) {
    if (line.startsWith('>>>')) {
      if (lines.length > 0) flush();
      const rest = [line.slice(3).replace(/^ /, ''), ...all.slice(n + 1)];
      quoted.push(...rest.map((l) => renderLine(l, ctx)));
      break;
    }
    if (line.startsWith('>')) {
      if (lines.length > 0) flush();
      quoted.push(renderLine(line.slice(1).replace(/^ /, ''), ctx));
    } else {
      if (quoted.length > 0) flush();
      lines.push(renderLine(line, ctx));
    }
  }
  flush();
  return out.join('');
}

/**
 * A mrkdwn text object's text as HTML (a fragment of inline content, quotes
 * and `<pre>` blocks, for a `<div>`). Pure and safe for any input: the
 * message's characters only ever appear escaped, links only with http, https
 * or mailto.
 */
export function renderMrkdwn(text: string, ctx: RenderContext): string {
  const out: string[] = [];
  const pre = /```([\s\S]*?)```/g;
  let last = 0;
  for (let match = pre.exec(text); match !== null; match = pre.exec(text)) {
    const before = text.slice(last, match.index).replace(/\n$/, '');
    if (before !== '') out.push(renderFlow(before, ctx));
    const body = (match[1] ?? '').replace(/^\n/, '').replace(/\n$/, '');
    out.push(`<pre class="slack-pre">${codeText(body, ctx)}</pre>`);
    last = match.index + match[0].length;
    if (text[last] === '\n') last += 1;
  }
  const rest = text.slice(last);
  if (rest !== '' || out.length === 0) out.push(renderFlow(rest, ctx));
  return out.join('');
}

/**
 * A plain_text object's text as HTML: shown as typed (HTML-escaped, newlines
 * kept), with known `:shortcodes:` as emoji unless `emoji` is false.
 */
export function renderPlainText(text: string, emoji: boolean): string {
  const escaped = escapeHtml(text).replaceAll('\n', '<br>');
  return emoji ? replaceEmoji(escaped) : escaped;
}
