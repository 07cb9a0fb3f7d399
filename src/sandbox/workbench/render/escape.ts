/**
 * HTML escaping and URL checks for the workbench renderer. Every string that
 * reaches the page, text or attribute, goes through {@link escapeHtml}; every
 * `href`/`src` through one of the URL checks.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes `& < > " '`, so the result is safe as element text and inside a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

const SLACK_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&' };

/**
 * Decodes the three entities Slack uses in message text (`&lt;`, `&gt;`,
 * `&amp;`), exactly once: `&amp;lt;` becomes the five characters `&lt;`.
 */
export function decodeSlackEntities(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_, name: string) => SLACK_ENTITIES[name] ?? '');
}

/** `name="value"` with the value escaped; empty when the value is `undefined`. */
export function attr(name: string, value: string | undefined): string {
  return value === undefined ? '' : ` ${name}="${escapeHtml(value)}"`;
}

/**
 * The URL when it is absolute and its scheme is one of `schemes`, else
 * `undefined`: a `javascript:` or `data:` link never reaches an `href`.
 */
export function safeUrl(
  url: string,
  schemes: readonly string[] = ['http:', 'https:', 'mailto:'],
): string | undefined {
  const trimmed = url.trim();
  // Control characters and spaces inside a URL are how scheme checks get fooled.
  const fooling = (char: string) => char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) === 0x7f;
  if (trimmed === '' || [...trimmed].some(fooling)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return undefined;
  }
  return schemes.includes(parsed.protocol) ? trimmed : undefined;
}

/**
 * A link the workbench itself serves (a file download): an absolute http(s)
 * URL, or a path on this origin (`/files/F1/report.csv`, never `//host`).
 */
export function safeFileUrl(url: string): string | undefined {
  if (/^\/(?!\/)[^\s\\]*$/.test(url)) return url;
  return safeUrl(url, ['http:', 'https:']);
}
