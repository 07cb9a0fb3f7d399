import { describe, expect, it } from 'vitest';
import {
  type AlertInput,
  type EndpointSnapshot,
  evaluateAlerts,
  type FiringAlert,
} from '../../../src/alerts/evaluate.js';
import type { AlertCondition, AlertRule } from '../../../src/alerts/rules.js';
import { validateBlocks } from '../../../src/sandbox/block-kit-limits.js';
import { TRICKY_USERNAMES } from '../../../src/sandbox/vpn-data.js';
import {
  BLOCK_ALERT_SESSION,
  buildAlertClearedMessage,
  buildAlertMessage,
  buildAlertsListMessage,
  MAX_ALERT_SESSIONS,
} from '../../../src/slack/blocks/alert.js';
import { ACTION_TERMINATE } from '../../../src/slack/blocks/ids.js';
import type { SlackMessage } from '../../../src/slack/blocks/limits.js';
import { type Connection, normalizeConnection } from '../../../src/vpn/connection.js';
import { limitProblems } from './limit-problems.js';

process.env.TZ = 'America/Los_Angeles';

const NOW = new Date('2026-11-27T12:00:00Z');
const HOUR = 3_600_000;
const PROD = 'cvpn-endpoint-0aaaaaaaaaaaaaaa1';
const awsTime = (date: Date) => date.toISOString().slice(0, 19).replace('T', ' ');
let serial = 0;

function conn(user: string, hoursAgo = 1, raw: Record<string, unknown> = {}): Connection {
  serial += 1;
  return normalizeConnection({
    ClientVpnEndpointId: PROD,
    ConnectionId: `cvpn-connection-${serial.toString(16).padStart(17, '0')}`,
    Username: user,
    CommonName: user,
    Status: { Code: 'active' },
    ConnectionEstablishedTime: awsTime(new Date(NOW.getTime() - hoursAgo * HOUR)),
    ConnectionEndTime: '-',
    ClientIp: `10.0.0.${serial % 250}`,
    ...raw,
  });
}

const rule = (name: string, condition: AlertCondition): AlertRule => ({
  name,
  channel: 'C0123456789',
  endpoints: 'all',
  condition,
});

function endpoint(connections: Connection[], extra: Partial<EndpointSnapshot> = {}) {
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

/** The alerts of one rule over one endpoint, as the evaluator makes them. */
function alertsOf(r: AlertRule, ep: EndpointSnapshot, extra: Partial<AlertInput> = {}) {
  return evaluateAlerts({
    rules: [r],
    endpoints: [ep],
    now: NOW,
    isKnownPerson: () => false,
    ...extra,
  }).firing;
}

function only(alerts: readonly FiringAlert[]): FiringAlert {
  expect(alerts).toHaveLength(1);
  return alerts[0] as FiringAlert;
}

/** All the text of a message, blocks and all. */
const allText = (m: SlackMessage) => `${m.text}\n${JSON.stringify(m.blocks)}`;

function expectSendable(m: SlackMessage) {
  expect(validateBlocks(m.blocks)).toEqual([]);
  expect(limitProblems(m)).toEqual([]);
}

const buttons = (m: SlackMessage) =>
  m.blocks.flatMap((b) =>
    b.type === 'section' && b.accessory?.type === 'button' ? [b.accessory] : [],
  );

const overOne = () => rule('over-one', { kind: 'maxSessionsPerUser', sessions: 1 });

describe('buildAlertMessage', () => {
  const shared = rule('shared-credentials', { kind: 'maxSessionsPerUser', sessions: 3 });
  const alice = [conn('alice', 1), conn('alice', 2), conn('alice', 3), conn('alice', 4)];
  const others = [conn('bob'), conn('bob'), conn('carol')];
  const alert = only(alertsOf(shared, endpoint([...alice, ...others])));

  it('names the rule, the person and only their sessions', () => {
    const m = buildAlertMessage(alert, { now: NOW });
    expect(m.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Alert: shared-credentials', emoji: false },
    });
    expect(allText(m)).toContain('*alice* has 4 active sessions on prod (more than 3).');
    expect(allText(m)).toContain(
      'Rule *shared-credentials*: a person with more than 3 active sessions',
    );
    const sessions = m.blocks.filter((b) => b.block_id?.startsWith(BLOCK_ALERT_SESSION));
    expect(sessions).toHaveLength(4);
    for (const c of alice) expect(allText(m)).toContain(c.connectionId);
    for (const c of others) expect(allText(m)).not.toContain(c.connectionId);
    expect(allText(m)).not.toMatch(/bob|carol/);
    expect(buttons(m)).toEqual([]);
    expectSendable(m);
  });

  it('offers the signed Terminate button, with its confirm dialog, on each active session', () => {
    const m = buildAlertMessage(alert, {
      now: NOW,
      terminateValue: (c) => `signed:${c.connectionId}`,
    });
    const found = buttons(m);
    expect(found.map((b) => [b.action_id, b.value, b.style])).toEqual(
      alice.map((c) => [ACTION_TERMINATE, `signed:${c.connectionId}`, 'danger']),
    );
    expect(found[0]?.confirm?.text.text).toBe(
      `Disconnect *alice* from *prod*?\nConnection \`${alice[0]?.connectionId}\``,
    );
    expect(allText(m)).toContain('Terminate works for VPN admins only.');
    expectSendable(m);
  });

  it('gives no Terminate button to a session that is not active, and none when no value is given', () => {
    const stuck = conn('dave', 3, {
      Status: { Code: 'failed-to-terminate', Message: 'stuck <x>' },
    });
    const a = only(alertsOf(rule('stuck', { kind: 'failedToTerminate' }), endpoint([stuck])));
    const m = buildAlertMessage(a, { now: NOW, terminateValue: () => 'signed' });
    expect(buttons(m)).toEqual([]);
    expect(allText(m)).toContain('AWS failed to terminate a session of *dave* on prod.');
    expect(allText(m)).toContain('stuck &lt;x&gt;');
    const alive = only(alertsOf(shared, endpoint(alice)));
    expect(buttons(buildAlertMessage(alive, { now: NOW, terminateValue: () => null }))).toEqual([]);
  });

  it('says how long is left before the endpoint limit, and marks the last hour', () => {
    const long = rule('long', { kind: 'maxSessionHours', hours: 20 });
    const a = only(alertsOf(long, endpoint([conn('erin', 23.5)])));
    const m = buildAlertMessage(a, { now: NOW, sessionTimeoutHours: () => 24 });
    expect(allText(m)).toContain('has been active for 23h 30m (more than 20h)');
    expect(allText(m)).toContain(':hourglass: *ends in 30m*');
    const calm = buildAlertMessage(only(alertsOf(long, endpoint([conn('erin', 21)]))), {
      now: NOW,
      sessionTimeoutHours: () => 24,
    });
    expect(allText(calm)).toContain('ends in 3h');
    expect(allText(calm)).not.toContain(':hourglass:');
  });

  it('words every condition', () => {
    const headline = (r: AlertRule, ep: EndpointSnapshot) =>
      (
        buildAlertMessage(only(alertsOf(r, ep)), { now: NOW }).blocks[1] as {
          text: { text: string };
        }
      ).text.text;
    expect(
      headline(
        rule('posture', { kind: 'postureNonCompliant' }),
        endpoint([conn('frank', 1, { PostureComplianceStatuses: ['non-compliant'] })]),
      ),
    ).toBe(':rotating_light: A device of *frank* on prod is not posture compliant.');
    const posture = (statuses: string[]) =>
      allText(
        buildAlertMessage(
          only(
            alertsOf(
              overOne(),
              endpoint([conn('x'), conn('x', 2, { PostureComplianceStatuses: statuses })]),
            ),
          ),
          { now: NOW },
        ),
      );
    expect(posture(['non-compliant'])).toContain(':warning: posture non-compliant');
    expect(posture(['compliant'])).not.toContain('posture');
    expect(
      headline(
        rule('busy', { kind: 'endpointUsagePercent', percent: 90 }),
        endpoint([conn('a'), conn('b'), conn('c')], { maxConnections: 3 }),
      ),
    ).toBe(
      ':rotating_light: *prod* has 3 active connections: 100 % of its limit of 3 (alert at 90 %).',
    );
    expect(
      headline(
        rule('idle', { kind: 'idleHours', hours: 4 }),
        endpoint([], { lastActiveAt: new Date(NOW.getTime() - 5.5 * HOUR) }),
      ),
    ).toBe(
      ':rotating_light: *prod* has had no active session for 5h 30m (alert after 4h); its subnet associations still bill by the hour.',
    );
    expect(headline(rule('new', { kind: 'newUser' }), endpoint([conn('grace')]))).toBe(
      ':rotating_light: *grace* connected to prod for the first time.',
    );
  });

  it('escapes every name and lists at most the first sessions of a very busy person', () => {
    for (const name of TRICKY_USERNAMES) {
      const many = Array.from({ length: 45 }, (_, i) => conn(name, i + 1));
      const a = only(alertsOf(shared, endpoint(many)));
      const m = buildAlertMessage(a, { now: NOW, terminateValue: (c) => `v${c.connectionId}` });
      expectSendable(m);
      const text = allText(m);
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<script>');
      expect(text).not.toContain('<https://evil');
      expect(buttons(m)).toHaveLength(MAX_ALERT_SESSIONS);
      expect(text).toContain('…and 25 more sessions.');
    }
  });
});

describe('buildAlertClearedMessage', () => {
  it('names the rule and the subject, says when it fired and cleared, and offers no button', () => {
    const m = buildAlertClearedMessage(
      {
        ruleName: 'shared-credentials',
        condition: { kind: 'maxSessionsPerUser', sessions: 3 },
        subject: { kind: 'person', name: '<!channel> *x*' },
        firedAt: new Date(NOW.getTime() - 2 * HOUR),
      },
      NOW,
    );
    const text = allText(m);
    expect(text).toContain(
      'Rule *shared-credentials* no longer holds for *&lt;!channel&gt; \u200b*x\u200b*',
    );
    expect(text).toContain('lasted 2h 00m');
    expect(text).not.toContain('<!channel>');
    expect(
      m.blocks.some((b) => b.type === 'actions' || (b.type === 'section' && b.accessory)),
    ).toBe(false);
    expectSendable(m);
  });

  it('still reads when the rule has been removed from the file', () => {
    const m = buildAlertClearedMessage(
      {
        ruleName: 'old',
        condition: null,
        subject: { kind: 'endpoint', name: 'prod' },
        firedAt: NOW,
      },
      NOW,
    );
    expect(allText(m)).toContain('(the rule was removed)');
  });
});

describe('buildAlertsListMessage', () => {
  const rules = [
    rule('shared-credentials', { kind: 'maxSessionsPerUser', sessions: 3 }),
    { ...rule('long-sessions', { kind: 'maxSessionHours', hours: 20 }), endpoints: ['prod'] },
  ];

  it('lists each rule with its channel, condition and endpoints, and what fires now', () => {
    const m = buildAlertsListMessage({
      rules,
      firing: [
        { ruleName: 'shared-credentials', subject: { kind: 'person', name: 'alice' }, since: NOW },
        { ruleName: 'gone', subject: { kind: 'person', name: 'bob' }, since: NOW },
      ],
      now: NOW,
    });
    const text = allText(m);
    expect(m.text).toBe('Alert rules: 2 rules, 2 alerts firing now');
    expect(text).toContain(
      '*shared-credentials* → <#C0123456789> · a person with more than 3 active sessions · every endpoint',
    );
    expect(text).toContain(':rotating_light: Firing for *alice* since <!date^');
    expect(text).toContain(
      '*long-sessions* → <#C0123456789> · a session active for more than 20 hours · prod\\nQuiet now.',
    );
    expect(text).toContain('1 alert of removed rules will clear at the next poll.');
    expectSendable(m);
  });

  it('names a person with several session alerts once, with the count and the first time', () => {
    const later = new Date(NOW.getTime() + 60_000);
    const m = buildAlertsListMessage({
      rules,
      firing: [
        { ruleName: 'long-sessions', subject: { kind: 'session', name: 'carol' }, since: later },
        { ruleName: 'long-sessions', subject: { kind: 'session', name: 'carol' }, since: NOW },
        { ruleName: 'long-sessions', subject: { kind: 'session', name: 'dan' }, since: NOW },
      ],
      now: later,
    });
    const text = allText(m);
    expect(text).toContain(`Firing for *carol* (2 sessions) since <!date^${NOW.getTime() / 1000}^`);
    expect(text.match(/\*carol\*/g)).toHaveLength(1);
    expect(text).toContain('3 alerts firing now');
  });

  it('says how to add rules when there are none', () => {
    const m = buildAlertsListMessage({ rules: [], firing: [], now: NOW });
    expect(allText(m)).toContain('No alert rules: add an `alerts:` list');
    expectSendable(m);
  });

  it('stays within Slack limits with many rules and many firing subjects', () => {
    const many = Array.from({ length: 60 }, (_, i) => rule(`rule-${i}`, { kind: 'newUser' }));
    const firing = many.flatMap((r) =>
      TRICKY_USERNAMES.map((name) => ({
        ruleName: r.name,
        subject: { kind: 'person' as const, name },
        since: NOW,
      })),
    );
    const m = buildAlertsListMessage({ rules: many, firing, now: NOW });
    expectSendable(m);
    expect(allText(m)).not.toContain('<!channel>');
    expect(allText(m)).toContain('and 8 more');
  });
});
