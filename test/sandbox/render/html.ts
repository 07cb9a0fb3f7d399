/**
 * Reading the renderer's HTML in tests without a browser: the text a person
 * sees, and every tag with its attributes. Written independently of the
 * renderer, so a bug in one does not hide the same bug in the other.
 */
import type { RenderContext } from '../../../src/sandbox/workbench/render/index.js';

export const CTX: RenderContext = {
  userName: (id) => ({ U0ALICE01: 'alice', U0ADMIN01: 'ada.admin' })[id],
  channelName: (id) => ({ C0GENERAL: 'general', C0DIGEST1: 'vpn-digest' })[id],
};

const ENTITIES: Readonly<Record<string, string>> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** Decodes the entities an HTML escaper writes, in one pass. */
export function decode(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
}

/** The text content: tags removed, `<br>` as a newline, entities decoded. */
export function visibleText(html: string): string {
  return decode(html.replace(/<br>/g, '\n').replace(/<[^>]*>/g, ''));
}

/** The text with zero-width spaces removed (the bot puts them before `*_~\``) and spaces squeezed. */
export function readable(text: string): string {
  return text.replaceAll('\u200B', '').replace(/\s+/g, ' ');
}

export interface Tag {
  readonly name: string;
  readonly closing: boolean;
  readonly attrs: Readonly<Record<string, string>>;
  readonly source: string;
}

/**
 * Every tag of the HTML. Throws when something that starts with `<` is not
 * a well-formed tag with double-quoted, escaped attribute values: in escaped
 * output, every `<` must be markup the renderer wrote on purpose.
 */
export function tagsOf(html: string): Tag[] {
  const tags: Tag[] = [];
  for (const match of html.matchAll(/<[^>]*>?/g)) {
    const source = match[0];
    const parsed = /^<(\/?)([a-z][a-z0-9]*)((?:\s[a-z][a-z-]*(?:="[^"<>]*")?)*)\s*>$/.exec(source);
    if (!parsed) throw new Error(`not a well-formed tag: ${source}`);
    const attrs: Record<string, string> = {};
    for (const a of (parsed[3] ?? '').matchAll(/\s([a-z][a-z-]*)(?:="([^"]*)")?/g)) {
      attrs[a[1] as string] = decode(a[2] ?? '');
    }
    tags.push({ name: parsed[2] as string, closing: parsed[1] === '/', attrs, source });
  }
  return tags;
}

const ALLOWED_TAGS = new Set([
  'a',
  'article',
  'b',
  'blockquote',
  'br',
  'button',
  'code',
  'details',
  'div',
  'figcaption',
  'figure',
  'h3',
  'hr',
  'i',
  'img',
  'li',
  'ol',
  'option',
  'pre',
  's',
  'select',
  'span',
  'summary',
  'table',
  'tbody',
  'td',
  'time',
  'tr',
  'ul',
]);

/**
 * Throws unless the HTML is safe to insert into the page: only the tags the
 * renderer writes, no event handler or style attribute, and links and images
 * only to http(s) or mailto.
 */
export function assertSafeHtml(html: string): void {
  for (const tag of tagsOf(html)) {
    if (!ALLOWED_TAGS.has(tag.name)) throw new Error(`unexpected tag: ${tag.source}`);
    for (const [name, value] of Object.entries(tag.attrs)) {
      if (name.startsWith('on') || name === 'style' || name === 'srcdoc') {
        throw new Error(`unexpected attribute: ${tag.source}`);
      }
      if ((name === 'href' || name === 'src') && !/^(https?:|mailto:|\/[^/]|#$)/i.test(value)) {
        throw new Error(`unsafe URL: ${tag.source}`);
      }
    }
  }
}

/** The buttons of the HTML (`<button>` elements): their attributes and their text. */
export function buttonsIn(html: string): { attrs: Record<string, string>; text: string }[] {
  return [...html.matchAll(/(<button\b[^>]*>)([\s\S]*?)<\/button>/g)].map((m) => ({
    attrs: { ...(tagsOf(m[1] as string)[0]?.attrs ?? {}) },
    text: visibleText(m[2] as string),
  }));
}
