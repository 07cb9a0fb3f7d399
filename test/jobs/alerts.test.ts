/**
 * Alert rules end to end: the EC2 emulator on a manual clock, the real collector job (the alert
 * check runs after each round, through the scheduler's leader gate), a real SQLite store, and the
 * real Slack alert poster against the Slack stand-in. Each rule of the list fires once
 * for its subject, stays quiet while its condition holds, fires again after it clears and comes
 * back, and is not posted again after a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertRule } from '../../src/alerts/rules.js';
import type { EmulatedConnection } from '../../src/sandbox/ec2-emulator.js';
import type { PostedMessage } from '../../src/sandbox/slack-stand-in.js';
import { connectionId } from '../../src/sandbox/vpn-data.js';
import { ALERT_EVENT_TYPE } from '../../src/slack/alert-poster.js';
import { createValueSigner } from '../../src/slack/signed-values.js';
import { parsePrometheusText } from '../http/prometheus-text.js';
import { TEST_RULES } from '../support/alert-rules.js';
import {
  blocksText,
  DEV,
  DIGEST_BOT_TOKEN,
  type DigestHarness,
  type DigestHarnessOptions,
  PROD,
  startDigestHarness,
} from '../support/digest-harness.js';

const T0 = new Date('2026-12-01T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const RULES = TEST_RULES;

let harness: DigestHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(
  rules: readonly AlertRule[],
  options: Partial<DigestHarnessOptions> = {},
): Promise<DigestHarness> {
  harness = await startDigestHarness({
    start: T0,
    alerts: { rules, maxConnections: { prod: 5 } },
    ...options,
  });
  return harness;
}

let next = 1;
/** An active session numbered afresh, connected `minutesAgo` before the harness clock. */
function active(
  h: DigestHarness,
  user: string,
  overrides: Partial<EmulatedConnection> = {},
  minutesAgo = 10,
): EmulatedConnection {
  const n = next++;
  return {
    endpointId: PROD.id,
    connectionId: connectionId(n),
    username: user,
    commonName: `${user}-device`,
    clientIp: `10.1.0.${(n % 250) + 1}`,
    establishedAt: new Date(h.clock.now().getTime() - minutesAgo * MINUTE),
    status: 'active',
    ingressBytes: 100,
    egressBytes: 100,
    ingressPackets: 1,
    egressPackets: 1,
    ...overrides,
  };
}

/** The alert messages posted (not edits), in order. */
function posts(h: DigestHarness): PostedMessage[] {
  return h.slack.messages.filter((m) => m.metadata?.event_type === ALERT_EVENT_TYPE);
}

/** Rule names of the alerts posted so far, in order. */
function postedRules(h: DigestHarness): string[] {
  return posts(h).map((m) =>
    String((m.metadata?.event_payload as { rule?: unknown } | undefined)?.rule),
  );
}

/** A poll as the scheduler runs it (the alert check follows the collector's round). */
async function poll(h: DigestHarness, advanceMs = 5 * MINUTE): Promise<void> {
  h.advance(advanceMs);
  const outcome = await h.instance.poll();
  expect(outcome.kind).toBe('collected');
}

/** The message as people see it now (after edits). */
function shown(h: DigestHarness, message: PostedMessage): string {
  const now = h.slack.conversation.get(message.ts);
  return JSON.stringify(now?.blocks ?? []);
}

describe('alert rules, checked after every collector poll', () => {
  it('maxSessionsPerUser: one alert per person over the limit, naming only their sessions', async () => {
    const h = await start([RULES[0] as AlertRule]);
    const alice = [0, 1, 2, 3].map((i) =>
      active(h, 'alice', { endpointId: i % 2 === 0 ? PROD.id : DEV.id }),
    );
    const bob = [active(h, 'bob'), active(h, 'bob')];
    h.emulator.addConnections([...alice, ...bob]);
    await poll(h);
    expect(postedRules(h)).toEqual(['shared-credentials']);
    const text = blocksText(posts(h)[0] as PostedMessage);
    expect(text).toContain('*alice* has 4 active sessions on prod, dev (more than 3)');
    for (const c of alice) expect(text).toContain(c.connectionId);
    for (const c of bob) expect(text).not.toContain(c.connectionId);
    expect(text).not.toContain('bob');

    // Holds: quiet. A fifth session changes nothing either.
    await poll(h);
    h.emulator.addConnections([active(h, 'alice')]);
    await poll(h);
    expect(posts(h)).toHaveLength(1);

    // Clears: the message says so, nothing new is posted.
    for (const c of [...alice.slice(0, 3)]) h.emulator.disconnect(c.connectionId);
    await poll(h);
    expect(posts(h)).toHaveLength(1);
    expect(shown(h, posts(h)[0] as PostedMessage)).toContain('no longer holds for *alice*');

    // Comes back: a new alert.
    h.emulator.addConnections([active(h, 'alice'), active(h, 'alice'), active(h, 'alice')]);
    await poll(h);
    expect(postedRules(h)).toEqual(['shared-credentials', 'shared-credentials']);
  });

  it('maxSessionHours: a session older than the limit on a watched endpoint, once', async () => {
    const h = await start([RULES[1] as AlertRule]);
    const old = active(h, 'carol', {}, 19 * 60 + 50);
    const elsewhere = active(h, 'dave', { endpointId: DEV.id }, 21 * 60);
    h.emulator.addConnections([old, elsewhere]);
    await poll(h); // 19 h 55 min: not yet
    expect(posts(h)).toHaveLength(0);
    await poll(h, 10 * MINUTE); // 20 h 05 min
    expect(postedRules(h)).toEqual(['long-sessions']);
    const text = blocksText(posts(h)[0] as PostedMessage);
    expect(text).toContain(
      'A session of *carol* on prod has been active for 20h 05m (more than 20h).',
    );
    expect(text).toContain(old.connectionId);
    // The endpoint's SessionTimeoutHours (24, as AWS's default) ends it in 3 h 55 min.
    expect(text).toContain('ends in 3h 55m');
    expect(text).not.toContain('dave');
    await poll(h);
    await poll(h);
    expect(posts(h)).toHaveLength(1);
    h.emulator.disconnect(old.connectionId);
    await poll(h);
    expect(shown(h, posts(h)[0] as PostedMessage)).toContain(
      `no longer holds for *carol*, session \`${old.connectionId}\` (a session active for more than 20 hours)`,
    );
    expect(posts(h)).toHaveLength(1);
  });

  it('postureNonCompliant and failedToTerminate: one alert per session', async () => {
    const h = await start([RULES[2] as AlertRule, RULES[3] as AlertRule]);
    const ok = active(h, 'erin', { postureCompliance: ['compliant'] });
    const bad = active(h, 'frank', { postureCompliance: ['non-compliant'] });
    const stuck: EmulatedConnection = {
      ...active(h, 'gina'),
      status: 'failed-to-terminate',
      endedAt: h.clock.now(),
      statusMessage: 'Failed to terminate the connection',
    };
    h.emulator.addConnections([ok, bad, stuck]);
    await poll(h);
    expect(postedRules(h).sort()).toEqual(['posture', 'stuck']);
    const byRule = (rule: string) =>
      blocksText(posts(h).find((m) => JSON.stringify(m.metadata).includes(rule)) as PostedMessage);
    expect(byRule('posture')).toContain('A device of *frank* on prod is not posture compliant');
    expect(byRule('posture')).not.toContain('erin');
    expect(byRule('stuck')).toContain('AWS failed to terminate a session of *gina* on prod');
    await poll(h);
    expect(posts(h)).toHaveLength(2);
  });

  it('endpointUsagePercent: at or above the share of maxConnections, again after it clears', async () => {
    const h = await start([RULES[4] as AlertRule]);
    const sessions = ['a', 'b', 'c', 'd'].map((u) => active(h, u));
    h.emulator.addConnections(sessions.slice(0, 3));
    await poll(h); // 3 of 5 = 60 %
    expect(posts(h)).toHaveLength(0);
    h.emulator.addConnections(sessions.slice(3));
    await poll(h); // 4 of 5 = 80 %
    expect(postedRules(h)).toEqual(['busy']);
    expect(blocksText(posts(h)[0] as PostedMessage)).toContain(
      '*prod* has 4 active connections: 80 % of its limit of 5 (alert at 80 %)',
    );
    await poll(h);
    h.emulator.disconnect(sessions[0]?.connectionId ?? '');
    await poll(h);
    expect(posts(h)).toHaveLength(1);
    h.emulator.addConnections([active(h, 'e')]);
    await poll(h);
    expect(postedRules(h)).toEqual(['busy', 'busy']);
  });

  it('idleHours: an endpoint without an active session for that long, counted from its last one', async () => {
    const h = await start([RULES[5] as AlertRule]);
    const last = active(h, 'hana', { endpointId: DEV.id });
    h.emulator.addConnections([last]);
    await poll(h);
    h.emulator.disconnect(last.connectionId);
    await poll(h, MINUTE); // the last poll that saw it active was a minute ago
    await poll(h, 3 * HOUR + 58 * MINUTE);
    expect(posts(h)).toHaveLength(0);
    await poll(h, 2 * MINUTE);
    expect(postedRules(h)).toEqual(['idle']);
    expect(blocksText(posts(h)[0] as PostedMessage)).toContain(
      '*dev* has had no active session for 4h',
    );
    await poll(h, HOUR);
    expect(posts(h)).toHaveLength(1);
    h.emulator.addConnections([active(h, 'ivan', { endpointId: DEV.id })]);
    await poll(h);
    expect(shown(h, posts(h)[0] as PostedMessage)).toContain('Cleared');
  });

  it('newUser: the people connected when watching began are known; a newcomer alerts once', async () => {
    const h = await start([RULES[6] as AlertRule]);
    h.emulator.addConnections([active(h, 'jack'), active(h, 'kim', { endpointId: DEV.id })]);
    await poll(h);
    expect(posts(h)).toHaveLength(0);
    const lena = active(h, 'lena', {}, 1);
    h.emulator.addConnections([lena]);
    await poll(h);
    expect(postedRules(h)).toEqual(['newcomers']);
    expect(blocksText(posts(h)[0] as PostedMessage)).toContain(
      '*lena* connected to prod for the first time',
    );
    await poll(h);
    h.emulator.addConnections([active(h, 'lena', { endpointId: DEV.id }, 1)]);
    await poll(h);
    expect(posts(h)).toHaveLength(1);
    // Once her first session is over she is known: a later session is not news.
    h.emulator.disconnect(lena.connectionId);
    await poll(h);
    h.emulator.addConnections([active(h, 'lena', {}, 1)]);
    await poll(h);
    expect(posts(h)).toHaveLength(1);
  });

  it('every rule of the set fires exactly once in one scenario, and none again after a restart', async () => {
    const h = await start(RULES);
    h.emulator.addConnections([active(h, 'seed', { endpointId: DEV.id })]);
    await poll(h);
    h.emulator.disconnect(h.emulator.connections(DEV.id)[0]?.connectionId ?? '');
    h.emulator.addConnections([
      ...[1, 2, 3, 4].map(() => active(h, 'mia', {}, 1)),
      active(h, 'noah', { postureCompliance: ['quarantined'] }, 21 * 60),
      { ...active(h, 'olga'), status: 'failed-to-terminate', endedAt: h.clock.now() },
    ]);
    await poll(h, 4 * HOUR + MINUTE);
    expect(postedRules(h).sort()).toEqual([
      'busy',
      'idle',
      'long-sessions',
      'newcomers',
      'newcomers',
      'posture',
      'shared-credentials',
      'stuck',
    ]);
    // mia and noah are newcomers (one alert each); olga's only session is not active.
    const before = posts(h).length;
    await h.restart();
    await poll(h);
    await h.restart({ crash: true });
    await poll(h);
    expect(posts(h)).toHaveLength(before);
    expect((await h.instance.alerts.firing()).map((f) => f.ruleName).sort()).toEqual(
      postedRules(h).sort(),
    );
  });
});

describe('alert rules changing', () => {
  it('clears the alerts of a rule removed from the file at the next poll, even with no rule left', async () => {
    const h = await start([RULES[0] as AlertRule]);
    h.emulator.addConnections([1, 2, 3, 4].map(() => active(h, 'wes')));
    await poll(h);
    expect(posts(h)).toHaveLength(1);
    await h.restart({ alertRules: [] });
    await poll(h);
    expect(shown(h, posts(h)[0] as PostedMessage)).toContain('(the rule was removed)');
    expect(await h.instance.alerts.firing()).toEqual([]);
    await poll(h);
    expect(posts(h)).toHaveLength(1);
  });
});

describe('alert metrics', () => {
  it('counts posts and edits by rule and outcome, and the alerts firing per rule, never a person', async () => {
    const h = await start([RULES[0] as AlertRule, RULES[2] as AlertRule]);
    const scrape = async () => {
      const body = (await h.instance.metrics.scrape()).body;
      parsePrometheusText(body);
      return body;
    };
    const alice = [1, 2, 3, 4].map(() => active(h, 'alice'));
    h.emulator.addConnections(alice);
    h.slack.faults.failNext('chat.postMessage', 'channel_not_found');
    await poll(h);
    await poll(h);
    for (const c of alice.slice(0, 2)) h.emulator.disconnect(c.connectionId);
    await poll(h);
    const body = await scrape();
    for (const line of [
      'vpn_conns_alert_posts_total{rule="shared-credentials",kind="fire",outcome="error"} 1',
      'vpn_conns_alert_posts_total{rule="shared-credentials",kind="fire",outcome="ok"} 1',
      'vpn_conns_alert_posts_total{rule="shared-credentials",kind="clear",outcome="ok"} 1',
      'vpn_conns_alerts_firing{rule="shared-credentials"} 0',
      'vpn_conns_alerts_firing{rule="posture"} 0',
      'vpn_conns_slack_api_calls_total{method="chat.postMessage",error="channel_not_found"} 1',
      'vpn_conns_slack_api_calls_total{method="chat.postMessage",error="none"} 1',
      'vpn_conns_slack_api_calls_total{method="chat.update",error="none"} 1',
    ]) {
      expect(body).toContain(line);
    }
    h.emulator.addConnections([1, 2].map(() => active(h, 'alice')));
    await poll(h);
    expect(await scrape()).toContain('vpn_conns_alerts_firing{rule="shared-credentials"} 1');
    expect(await scrape()).not.toContain('alice');
  });
});

describe('alert delivery', () => {
  it('names, once, an endpoint a rule watches that the collector does not read', async () => {
    const h = await start([{ ...(RULES[1] as AlertRule), endpoints: ['staging'] }]);
    await poll(h);
    await poll(h);
    const lines = h.instance.logs.filter((l) => l.includes('watches endpoint staging'));
    expect(lines).toEqual([
      'alerts: rule long-sessions watches endpoint staging, which is not one of the endpoints read (prod, dev); it matches nothing there',
    ]);
  });

  it('a post Slack refuses is tried again at the next poll, and then posted once', async () => {
    const h = await start([RULES[0] as AlertRule]);
    h.emulator.addConnections([1, 2, 3, 4].map(() => active(h, 'pat')));
    h.slack.faults.failNext('chat.postMessage', 'not_in_channel');
    await poll(h);
    expect(posts(h)).toHaveLength(0);
    expect(h.instance.logs.join('\n')).toContain(
      'could not post to C0ALERTS1; tried again at the next poll. not_in_channel: the bot is not in that channel',
    );
    await poll(h);
    await poll(h);
    expect(postedRules(h)).toEqual(['shared-credentials']);
  });

  it('a post Slack took but never answered is found by its id, not posted twice', async () => {
    const h = await start([RULES[0] as AlertRule], { slackTimeoutMs: 300 });
    h.emulator.addConnections([1, 2, 3, 4].map(() => active(h, 'quinn')));
    h.slack.faults.slowNext('chat.postMessage', 1500, 'after');
    await poll(h);
    expect(posts(h)).toHaveLength(1);
    expect((await h.instance.alerts.firing())[0]).toMatchObject({ ruleName: 'shared-credentials' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await poll(h);
    await poll(h);
    expect(posts(h)).toHaveLength(1);
    // The ts was recovered: clearing edits the message.
    for (const c of h.emulator.connections(PROD.id)) h.emulator.disconnect(c.connectionId);
    await poll(h);
    expect(shown(h, posts(h)[0] as PostedMessage)).toContain('Cleared');
  });

  it('offers signed Terminate buttons on active sessions, which the app verifies', async () => {
    const h = await start([RULES[0] as AlertRule]);
    h.emulator.addConnections([1, 2, 3, 4].map(() => active(h, 'ruth')));
    await poll(h);
    const blocks = JSON.stringify(posts(h)[0]?.blocks);
    const values = [...blocks.matchAll(/"value":"([^"]+)"/g)].map((m) => m[1] as string);
    expect(values).toHaveLength(4);
    const signer = createValueSigner(DIGEST_BOT_TOKEN);
    expect(values.map((v) => signer.verify(v))).toEqual(
      h.emulator.connections(PROD.id).map((c) => ({
        k: 'conn',
        e: PROD.id,
        c: c.connectionId,
        n: 'ruth',
      })),
    );
  });
});
