/**
 * Finding one person's sessions on every endpoint. AD and federated
 * endpoints filter by `username` on the AWS side; certificate endpoints only
 * fill the certificate's common name, which is matched here.
 */
import type { Connection } from './connection.js';
import type { Endpoint } from './endpoint.js';
import type { FetchQuery } from './fetch.js';
import type { ConnectionFilters } from './gateway.js';

export type MatchedField = 'username' | 'commonName';

/** True when the endpoint lets AWS filter by user name (AD or SAML auth). */
export function filtersByUsername(endpoint: Endpoint): boolean {
  const types = endpoint.authenticationTypes ?? [];
  return (
    types.includes('directory-service-authentication') || types.includes('federated-authentication')
  );
}

/** True when the endpoint (possibly) authenticates by certificate only. */
function needsCommonNameMatch(endpoint: Endpoint): boolean {
  const types = endpoint.authenticationTypes ?? [];
  return types.length === 0 || !filtersByUsername(endpoint);
}

/**
 * Which field of a connection names `name`: the user name exactly, or the
 * certificate common name — whole (`alice`), or its first label before `.`
 * or `@` (`alice.laptop.corp`, `alice@corp`), ignoring case.
 */
export function matchUser(connection: Connection, name: string): MatchedField | null {
  if (connection.username !== null && connection.username === name) return 'username';
  const cn = connection.commonName?.toLowerCase();
  if (cn === undefined) return null;
  const wanted = name.toLowerCase();
  const head = cn.split(/[.@]/, 1)[0];
  return cn === wanted || head === wanted ? 'commonName' : null;
}

/** Which field of `connection` names one of `names` (the first that does), or `null`. */
export function matchAnyUser(
  connection: Connection,
  names: readonly string[],
): MatchedField | null {
  let found: MatchedField | null = null;
  for (const name of names) {
    const field = matchUser(connection, name);
    if (field === 'username') return field;
    found ??= field;
  }
  return found;
}

/**
 * The fetch plan for connections of some people: AWS-side `username` filter
 * where the endpoint supports it, a client-side match (user name, or the
 * certificate's common name) everywhere else, including endpoints whose
 * authentication type is unknown. `user NAME` and `user=NAME` both use it.
 */
export function usersQuery(
  names: readonly string[],
  base: Pick<FetchQuery, 'statuses' | 'connectionIds'> = {},
): FetchQuery {
  const ids = base.connectionIds?.length ? { connectionIds: base.connectionIds } : {};
  return {
    statuses: base.statuses ?? null,
    filtersFor: (endpoint): ConnectionFilters =>
      needsCommonNameMatch(endpoint) ? ids : { ...ids, usernames: names },
    match: (connection) => matchAnyUser(connection, names) !== null,
  };
}

/** The fetch plan of `user NAME`: {@link usersQuery} for one name. */
export function userLookupQuery(name: string, statuses: FetchQuery['statuses'] = null): FetchQuery {
  return usersQuery([name], { statuses });
}
