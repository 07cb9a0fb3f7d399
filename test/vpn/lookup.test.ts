import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/vpn/connection.js';
import type { Endpoint } from '../../src/vpn/endpoint.js';
import { whereToCheck } from '../../src/vpn/endpoint.js';
import { matchAnyUser, usersQuery } from '../../src/vpn/lookup.js';
import { usage } from '../../src/vpn/query.js';

function connection(username: string | null, commonName: string | null): Connection {
  return { username, commonName } as Connection;
}

const ad: Endpoint = {
  alias: 'prod',
  id: 'cvpn-endpoint-0a',
  region: 'eu-west-1',
  authenticationTypes: ['directory-service-authentication'],
};
const cert: Endpoint = {
  alias: 'lab',
  id: 'cvpn-endpoint-0b',
  region: 'eu-west-1',
  authenticationTypes: ['certificate-authentication'],
};

describe('usersQuery (user=NAME)', () => {
  const query = usersQuery(['bob', 'carol'], {
    connectionIds: ['cvpn-connection-01'],
    statuses: ['active'],
  });

  it('lets AWS filter by user name only where the endpoint knows user names', () => {
    expect(query.filtersFor?.(ad)).toEqual({
      connectionIds: ['cvpn-connection-01'],
      usernames: ['bob', 'carol'],
    });
    expect(query.filtersFor?.(cert)).toEqual({ connectionIds: ['cvpn-connection-01'] });
    expect(query.filtersFor?.({ ...cert, authenticationTypes: [] })).toEqual({
      connectionIds: ['cvpn-connection-01'],
    });
    expect(query.statuses).toEqual(['active']);
  });

  it('matches any of the names by user name or certificate common name', () => {
    expect(query.match?.(connection(null, 'bob.laptop.corp'))).toBe(true);
    expect(query.match?.(connection(null, 'carol@corp'))).toBe(true);
    expect(query.match?.(connection(null, 'bobby.laptop'))).toBe(false);
    expect(query.match?.(connection('dave', 'dave'))).toBe(false);
  });
});

describe('matchAnyUser', () => {
  it('says which field matched, preferring the user name', () => {
    expect(matchAnyUser(connection('bob', 'bob'), ['bob'])).toBe('username');
    expect(matchAnyUser(connection(null, 'bob.laptop'), ['bob'])).toBe('commonName');
    expect(matchAnyUser(connection('carol', 'bob'), ['bob', 'carol'])).toBe('username');
    expect(matchAnyUser(connection(null, 'eve'), ['bob'])).toBeNull();
  });
});

describe('whereToCheck', () => {
  it('names where an endpoint came from', () => {
    expect(whereToCheck({ ...ad, origin: { kind: 'VPN_ENDPOINTS' } })).toContain('VPN_ENDPOINTS');
    expect(whereToCheck({ ...ad, origin: { kind: 'file', file: 'vpn.yml' } })).toContain(
      'vpn.yml (VPN_CONNS_CONFIG)',
    );
    expect(whereToCheck({ ...ad, origin: { kind: 'discovered' } })).toContain('discovered');
    expect(whereToCheck({ ...ad, origin: { kind: 'typed' } })).toContain('typed');
    for (const kind of ['discovered', 'typed'] as const) {
      expect(whereToCheck({ ...ad, origin: { kind } })).not.toContain('VPN_ENDPOINTS');
    }
  });
});

describe('usage', () => {
  it('lists status= for user lookups, in Slack and in the terminal', () => {
    expect(usage('slack')).toContain('/vpn-conns user NAME|@someone|me [ENDPOINT…|all] [status=');
    expect(usage('cli')).toContain('vpn-conns user NAME [ENDPOINT…|all] [status=');
  });
});
