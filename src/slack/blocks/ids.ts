/**
 * The command, action ids, block ids and button values shared by the builders, the
 * listeners and the tests. A button carries the canonical query text and a
 * page, so paging is stateless: the click alone says what to show next.
 */
import { z } from 'zod';
import { UsageError } from '../../errors.js';

/** The slash command the bot answers. */
export const COMMAND = '/vpn-conns';
export const ACTION_PAGE_PREV = 'vpn_conns_page_prev';
export const ACTION_PAGE_NEXT = 'vpn_conns_page_next';
export const ACTION_EXPORT_CSV = 'vpn_conns_export_csv';
/** Terminate one connection (admins only; the value is signed). */
export const ACTION_TERMINATE = 'vpn_conns_terminate';
/** Terminate every active session of the person a `user` lookup is about. */
export const ACTION_TERMINATE_USER = 'vpn_conns_terminate_user';
/** The Refresh button of the App Home tab. */
export const ACTION_HOME_REFRESH = 'vpn_conns_home_refresh';
/** The block holding the paging and export buttons. */
export const BLOCK_ACTIONS = 'vpn_conns_actions';
/** The context block the limits guard appends when it had to cut something. */
export const BLOCK_TRUNCATED_NOTE = 'vpn_conns_truncated';
/** Connections per page of a list. */
export const PAGE_SIZE = 20;

/** The longest query text a button may carry. */
export const MAX_QUERY_TEXT = 1900;
/** The highest page number a button may carry. */
export const MAX_PAGE = 10_000;
/** Slack's limit on a button `value`. */
export const MAX_BUTTON_VALUE = 2000;

export const INVALID_BUTTON_MESSAGE =
  'This button is no longer valid: run `/vpn-conns` again for a fresh list.';

/** What a paging or export button carries: the query text and the (0-based) page. */
export interface ButtonValue {
  readonly q: string;
  readonly p: number;
}

const buttonValueSchema = z.object({
  q: z.string().max(MAX_QUERY_TEXT),
  p: z.number().int().min(0).max(MAX_PAGE),
});

/**
 * True when a button can carry `queryText`: short enough, also once JSON
 * escaping has lengthened it, for any page.
 */
export function isEncodableQuery(queryText: string): boolean {
  return (
    queryText.length <= MAX_QUERY_TEXT &&
    JSON.stringify({ q: queryText, p: MAX_PAGE }).length <= MAX_BUTTON_VALUE
  );
}

/**
 * The `value` of a paging or export button: `{"q":"list prod","p":3}`.
 *
 * @throws RangeError when the query is too long for a button (check with
 *   {@link isEncodableQuery} first) or the page is not an integer in 0..10000.
 */
export function encodeButtonValue(value: ButtonValue): string {
  const parsed = buttonValueSchema.safeParse(value);
  if (!parsed.success || !isEncodableQuery(value.q)) {
    throw new RangeError(`Cannot put this query and page in a button value (page ${value.p}).`);
  }
  return JSON.stringify({ q: parsed.data.q, p: parsed.data.p });
}

/**
 * Reads a button value back. Button values come back from Slack in a payload
 * anyone in the channel can produce, so this checks everything.
 *
 * @throws UsageError ("This button is no longer valid…") for anything that is
 *   not a value {@link encodeButtonValue} made.
 */
export function decodeButtonValue(value: unknown): ButtonValue {
  if (typeof value !== 'string' || value.length > MAX_BUTTON_VALUE) {
    throw new UsageError(INVALID_BUTTON_MESSAGE);
  }
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (cause) {
    throw new UsageError(INVALID_BUTTON_MESSAGE, { cause });
  }
  const parsed = buttonValueSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(INVALID_BUTTON_MESSAGE, { cause: parsed.error });
  return parsed.data;
}
