/**
 * The Terminate buttons an admin sees on a list: each value signed by the bot, carrying the
 * list to refresh afterwards (dropped when it would not fit in a button).
 */
import { type Connection, displayName } from '../vpn/connection.js';
import type { AccessChecker } from './access.js';
import type { TerminateButtons } from './blocks/connections.js';
import type { TerminateValue, ValueSigner } from './signed-values.js';

/** The value of a Terminate button for one session (before signing). */
export function connectionValue(c: Connection): TerminateValue {
  return { k: 'conn', e: c.endpointId, c: c.connectionId, n: displayName(c).slice(0, 128) };
}

/** Whose sessions a `user` lookup showed, and where (`null` = every endpoint). */
export interface LookedUp {
  readonly name: string;
  readonly endpointIds: readonly string[] | null;
}

/**
 * The buttons for `userId` when they are an admin, else `undefined`. "Terminate all" carries
 * the endpoints the lookup showed, so it acts on nothing more.
 */
export async function terminateButtons(
  list: { readonly queryText: string; readonly page: number; readonly user?: LookedUp },
  userId: string,
  deps: { readonly signer?: ValueSigner; readonly access?: AccessChecker },
): Promise<TerminateButtons | undefined> {
  const { signer, access } = deps;
  if (!signer || !access || !(await access.isAdmin(userId))) return undefined;
  const refresh = list.queryText.length <= 1500 ? { q: list.queryText, p: list.page } : {};
  const sign = (value: TerminateValue) =>
    signer.sign({ ...value, ...refresh }) ?? signer.sign(value);
  const { user } = list;
  const all =
    user === undefined
      ? null
      : sign({
          k: 'user',
          n: user.name,
          ...(user.endpointIds ? { e: [...user.endpointIds] } : {}),
        });
  return {
    valueFor: (c) => sign(connectionValue(c)),
    ...(all && user ? { all: { name: user.name, value: all } } : {}),
  };
}
