/**
 * The terminal table. Output streams page by page, so column widths cannot
 * come from the rows: they come from what each column can hold (an IPv4
 * address is at most 15 characters, a status at most 19, a formatted byte
 * count at most 8, a date always 20) or from what is known before the first
 * page (the endpoint aliases). Only free text (user names) is ever cut, with
 * a visible `…`; an address, id, status or number wider than its column is
 * printed whole and pushes the rest of its row right. Widths are terminal
 * columns: `名前` takes four.
 */
import stringWidth from 'string-width';

export type Align = 'left' | 'right';

export interface Column {
  readonly header: string;
  /** Terminal columns; the header is never cut either. */
  readonly width: number;
  /** Free text may be cut (with `…`) to fit; anything else never is. */
  readonly cut?: boolean;
  readonly align?: Align;
}

const ELLIPSIS = '…';
// Most cells are printable ASCII, one column per character: no need to ask string-width.
const ASCII = /^[\x20-\x7e]*$/;

/** Terminal columns `text` takes. */
function widthOf(text: string): number {
  return ASCII.test(text) ? text.length : stringWidth(text);
}
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

// C0/C1 control characters (escape sequences, newlines) would let a user name rewrite the terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** The cell as it may be shown: control characters replaced by `�`. */
export function printable(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}

/** Cuts `text` to at most `width` terminal columns, ending with `…` when anything was cut. */
export function cutToWidth(text: string, width: number): string {
  if (widthOf(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}${ELLIPSIS}`;
}

function pad(text: string, width: number, align: Align): string {
  const room = Math.max(0, width - widthOf(text));
  return align === 'right' ? `${' '.repeat(room)}${text}` : `${text}${' '.repeat(room)}`;
}

/** The columns' widths with their headers taken into account. */
function widthsOf(columns: readonly Column[]): number[] {
  return columns.map((c) => Math.max(c.width, widthOf(c.header)));
}

/** One table line (with its newline). The last column is not padded. */
export function formatLine(columns: readonly Column[], cells: readonly string[]): string {
  const widths = widthsOf(columns);
  const parts = columns.map((column, i) => {
    const width = widths[i] ?? 0;
    const raw = printable(cells[i] ?? '');
    const text = column.cut ? cutToWidth(raw, width) : raw;
    if (i === columns.length - 1 && column.align !== 'right') return text;
    return pad(text, width, column.align ?? 'left');
  });
  return `${parts.join('  ').trimEnd()}\n`;
}

/** The header line. */
export function formatHeader(columns: readonly Column[]): string {
  return formatLine(
    columns.map((c) => ({ ...c, cut: false })),
    columns.map((c) => c.header),
  );
}

/** The widest of some texts in terminal columns (0 for none). */
export function widest(texts: Iterable<string>): number {
  let max = 0;
  for (const text of texts) max = Math.max(max, widthOf(printable(text)));
  return max;
}
