import { describe, expect, it } from 'vitest';
import {
  type AlertInput,
  alertKey,
  diffAlerts,
  type EndpointSnapshot,
  evaluateAlerts,
  parseAlertKey,
} from '../../src/alerts/evaluate.js';
import type { AlertCondition, AlertRule } from '../../src/alerts/rules.js';
import { type Connection, normalizeConnection } from '../../src/vpn/connection.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const HOUR = 3_600_000;
const PROD = 'cvpn-endpoint-0aaaaaaaaaaaaaaa1';
const CERTS = 'cvpn-endpoint-0bbbbbbbbbbbbbbb2';

const awsTime = (date: Date) => date.toISOString().slice(0, 19).replace('T', ' ');
let serial = 0;

/** An active connection started `hoursAgo` before NOW (override anything with `raw`). */
function conn(
  endpointId: string,
  who: { user?: string; cn?: string },
  hoursAgo = 1,
  raw: Record<string, unknown> = {},
): Connection {
  serial += 1;
  return normalizeConnection({
    ClientVpnEndpointId: endpointId,
    ConnectionId: `cvpn-connection-${serial.toString(16).padStart(17, '0')}`,
    Username: who.user,
    CommonName: who.cn ?? who.user,
    Status: { Code: 'active' },
    ConnectionEstablishedTime: awsTime(new Date(NOW.getTime() - hoursAgo * HOUR)),
    ConnectionEndTime: '-',
    ClientIp: '10.0.0.1',
    ...raw,
  });
}

function prod(connections: Connection[] | null, extra: Partial<EndpointSnapshot> = {}) {
  return {
    id: PROD,
    alias: 'prod',
    authenticationTypes: ['directory-service-authentication'],
    maxConnections: 2000,
    connections,
    lastActiveAt: null,
    ...extra,
  } satisfies EndpointSnapshot;
}

function certs(connections: Connection[] | null, extra: Partial<EndpointSnapshot> = {}) {
  return {
    id: CERTS,
    alias: 'certs',
    authenticationTypes: ['certificate-authentication'],
    maxConnections: 2000,
    connections,
    lastActiveAt: null,
    ...extra,
  } satisfies EndpointSnapshot;
}

const rule = (name: string, condition: AlertCondition, endpoints: AlertRule['endpoints'] = 'all') =>
  ({ name, channel: 'C0123456789', endpoints, condition }) satisfies AlertRule;

function input(rules: AlertRule[], endpoints: EndpointSnapshot[], extra: Partial<AlertInput> = {}) {
  return { rules, endpoints, now: NOW, isKnownPerson: () => true, ...extra } satisfies AlertInput;
}

const keys = (i: AlertInput) => evaluateAlerts(i).firing.map((a) => a.key);

describe('evaluateAlerts: maxSessionsPerUser', () => {
  const shared = rule('shared', { kind: 'maxSessionsPerUser', sessions: 3 });

  it('fires for a person over the limit across endpoints, with only their sessions', () => {
    const alice = [
      conn(PROD, { user: 'alice' }),
      conn(PROD, { user: 'alice', cn: 'alice-laptop' }),
      conn(PROD, { user: 'alice', cn: 'alice-phone' }),
    ];
    const aliceCert = conn(CERTS, { cn: 'alice' });
    const bob = [1, 2, 3].map(() => conn(PROD, { user: 'bob' }));
    const ended = conn(PROD, { user: 'bob' }, 2, { Status: { Code: 'terminated' } });
    const [alert, ...rest] = evaluateAlerts(
      input([shared], [prod([...alice, ...bob, ended]), certs([aliceCert])]),
    ).firing;
    expect(rest).toEqual([]);
    expect(alert?.key).toBe('shared/person/alice');
    expect(alert?.subject).toEqual({ kind: 'person', id: 'alice', name: 'alice' });
    expect(alert?.measure).toEqual({ value: 4 });
    expect(alert?.endpointAliases).toEqual(['prod', 'certs']);
    expect(alert?.sessions.map((s) => s.connection)).toEqual([...alice, aliceCert]);
  });

  it('counts people by user name on directory endpoints and by common name on certificate ones', () => {
    // On the AD endpoint the common names differ (devices) but the user is one person;
    // on the certificate endpoint there is no user name, the common name is the person.
    const many = ['a', 'b', 'c', 'd'];
    const firing = keys(
      input(
        [shared],
        [
          prod(many.map((cn) => conn(PROD, { user: 'carol', cn: `carol-${cn}` }))),
          certs(many.map(() => conn(CERTS, { cn: 'laptop-007.corp.example' }))),
        ],
      ),
    );
    expect(firing).toEqual(['shared/person/carol', 'shared/person/laptop-007.corp.example']);
  });

  it('only watches the endpoints the rule names', () => {
    const four = [1, 2, 3, 4].map(() => conn(CERTS, { cn: 'dave' }));
    const onlyProd = rule('shared', { kind: 'maxSessionsPerUser', sessions: 3 }, ['prod']);
    expect(keys(input([onlyProd], [prod([]), certs(four)]))).toEqual([]);
    expect(keys(input([shared], [prod([]), certs(four)]))).toEqual(['shared/person/dave']);
  });
});

describe('evaluateAlerts: session conditions', () => {
  it('maxSessionHours fires for each session older than the limit, keyed by endpoint and connection', () => {
    const old = conn(PROD, { user: 'erin' }, 21);
    const young = conn(PROD, { user: 'erin' }, 19.9);
    const unknownStart = conn(PROD, { user: 'erin' }, 0, { ConnectionEstablishedTime: 'garbage' });
    const { firing } = evaluateAlerts(
      input(
        [rule('long', { kind: 'maxSessionHours', hours: 20 })],
        [prod([old, young, unknownStart])],
      ),
    );
    expect(firing.map((a) => a.key)).toEqual([`long/session/${PROD}/${old.connectionId}`]);
    expect(firing[0]?.subject).toEqual({
      kind: 'session',
      id: `${PROD}/${old.connectionId}`,
      name: 'erin',
    });
    expect(firing[0]?.measure?.value).toBeCloseTo(21);
    expect(firing[0]?.sessions.map((s) => s.connection)).toEqual([old]);
  });

  it('postureNonCompliant fires for a non-compliant device, not for endpoints without posture checks', () => {
    const bad = conn(PROD, { user: 'frank' }, 1, { PostureComplianceStatuses: ['non-compliant'] });
    const good = conn(PROD, { user: 'grace' }, 1, { PostureComplianceStatuses: ['compliant'] });
    const none = conn(PROD, { user: 'heidi' }, 1, { PostureComplianceStatuses: [] });
    const r = rule('posture', { kind: 'postureNonCompliant' });
    expect(keys(input([r], [prod([bad, good, none])]))).toEqual([
      `posture/session/${PROD}/${bad.connectionId}`,
    ]);
  });

  it('failedToTerminate fires for sessions AWS could not end', () => {
    const stuck = conn(PROD, { user: 'ivan' }, 3, {
      Status: { Code: 'failed-to-terminate', Message: 'stuck' },
    });
    const r = rule('stuck', { kind: 'failedToTerminate' });
    expect(keys(input([r], [prod([stuck, conn(PROD, { user: 'judy' })])]))).toEqual([
      `stuck/session/${PROD}/${stuck.connectionId}`,
    ]);
  });
});

describe('evaluateAlerts: endpoint conditions', () => {
  it('endpointUsagePercent fires at or above P % of maxConnections, counting active sessions', () => {
    const r = rule('busy', { kind: 'endpointUsagePercent', percent: 90 });
    const nine = Array.from({ length: 9 }, () => conn(PROD, { user: 'x' }));
    const ended = conn(PROD, { user: 'x' }, 1, { Status: { Code: 'terminated' } });
    const { firing } = evaluateAlerts(input([r], [prod([...nine, ended], { maxConnections: 10 })]));
    expect(firing.map((a) => a.key)).toEqual([`busy/endpoint/${PROD}`]);
    expect(firing[0]?.subject).toEqual({ kind: 'endpoint', id: PROD, name: 'prod' });
    expect(firing[0]?.measure).toEqual({ value: 9, of: 10 });
    expect(firing[0]?.sessions).toEqual([]);
    expect(keys(input([r], [prod(nine.slice(1), { maxConnections: 10 })]))).toEqual([]);
  });

  it('idleHours fires when an endpoint has had no active session for H hours', () => {
    const r = rule('idle', { kind: 'idleHours', hours: 4 });
    const since = (h: number) => new Date(NOW.getTime() - h * HOUR);
    expect(keys(input([r], [prod([], { lastActiveAt: since(4) })]))).toEqual([
      `idle/endpoint/${PROD}`,
    ]);
    expect(keys(input([r], [prod([], { lastActiveAt: since(3.9) })]))).toEqual([]);
    // Unknown start of idleness: quiet rather than a guess.
    expect(keys(input([r], [prod([], { lastActiveAt: null })]))).toEqual([]);
    // An active session now: not idle, whatever the last time says.
    const active = [conn(PROD, { user: 'kim' })];
    expect(keys(input([r], [prod(active, { lastActiveAt: since(10) })]))).toEqual([]);
  });
});

describe('evaluateAlerts: newUser', () => {
  it('asks whether the person was seen before their earliest active session started', () => {
    const asked: [string, string][] = [];
    const r = rule('new', { kind: 'newUser' });
    const firing = keys(
      input(
        [r],
        [
          prod([
            conn(PROD, { user: 'lee' }, 2),
            conn(PROD, { user: 'lee' }, 5),
            conn(PROD, { user: 'mo' }),
          ]),
        ],
        {
          isKnownPerson: (person, before) => {
            asked.push([person, before.toISOString()]);
            return person === 'mo';
          },
        },
      ),
    );
    expect(firing).toEqual(['new/person/lee']);
    expect(asked).toEqual([
      ['lee', new Date(NOW.getTime() - 5 * HOUR).toISOString()],
      ['mo', new Date(NOW.getTime() - HOUR).toISOString()],
    ]);
  });
});

describe('diffAlerts', () => {
  const r = rule('long', { kind: 'maxSessionHours', hours: 20 });
  const old = conn(PROD, { user: 'pat' }, 21);
  const key = alertKey('long', 'session', `${PROD}/${old.connectionId}`);

  it('posts once, stays quiet while it holds, clears, and posts again when it comes back', () => {
    const firingNow = evaluateAlerts(input([r], [prod([old])]));
    const first = diffAlerts(new Set(), firingNow);
    expect(first.fire.map((a) => a.key)).toEqual([key]);
    expect(first.clear).toEqual([]);
    expect(diffAlerts(new Set([key]), firingNow)).toEqual({ fire: [], clear: [] });
    const quiet = evaluateAlerts(input([r], [prod([])]));
    expect(diffAlerts(new Set([key]), quiet)).toEqual({ fire: [], clear: [key] });
    expect(diffAlerts(new Set(), firingNow).fire.map((a) => a.key)).toEqual([key]);
  });

  it('neither fires nor clears the alerts of an endpoint that could not be read', () => {
    const unread = evaluateAlerts(input([r], [prod(null), certs([])]));
    expect(unread.firing).toEqual([]);
    expect(diffAlerts(new Set([key]), unread)).toEqual({ fire: [], clear: [] });
    const certKey = alertKey('long', 'session', `${CERTS}/cvpn-connection-1`);
    expect(diffAlerts(new Set([certKey]), unread).clear).toEqual([certKey]);
  });

  it('holds person alerts while any endpoint their rule watches is unread', () => {
    const shared = rule('shared', { kind: 'maxSessionsPerUser', sessions: 1 });
    const onlyCerts = rule('certs-only', { kind: 'maxSessionsPerUser', sessions: 1 }, ['certs']);
    const evaluation = evaluateAlerts(input([shared, onlyCerts], [prod(null), certs([])]));
    const before = new Set(['shared/person/pat', 'certs-only/person/pat']);
    expect(diffAlerts(before, evaluation).clear).toEqual(['certs-only/person/pat']);
  });

  it('clears the alerts of a rule that was removed from the file', () => {
    expect(
      diffAlerts(new Set(['gone/person/pat']), evaluateAlerts(input([r], [prod([])]))),
    ).toEqual({
      fire: [],
      clear: ['gone/person/pat'],
    });
  });
});

describe('alert keys', () => {
  it('read back whatever the subject contains', () => {
    const weird = 'a/b <c> & "d"';
    expect(parseAlertKey(alertKey('rule-1', 'person', weird))).toEqual({
      rule: 'rule-1',
      kind: 'person',
      id: weird,
    });
    expect(parseAlertKey('no-kind')).toBeNull();
  });
});
