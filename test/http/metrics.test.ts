import { describe, expect, it } from 'vitest';
import {
  createMetrics,
  MAX_LABEL_VALUES,
  NO_ERROR,
  OTHER,
  statusCounts,
} from '../../src/http/metrics.js';
import { generateFleet, TRICKY_USERNAMES } from '../../src/sandbox/vpn-data.js';
import { normalizeConnection } from '../../src/vpn/connection.js';
import { type Family, parsePrometheusText, sampleValue } from './prometheus-text.js';

const AT = new Date('2026-11-27T12:00:00Z');

async function scrape(metrics = createMetrics()) {
  const { body, contentType } = await metrics.scrape();
  return { families: parsePrometheusText(body), body, contentType };
}

function labelValues(families: Map<string, Family>): Set<string> {
  const values = new Set<string>();
  for (const family of families.values()) {
    for (const s of family.samples) {
      for (const [k, v] of Object.entries(s.labels)) if (k !== 'le') values.add(v);
    }
  }
  return values;
}

describe('parsePrometheusText (the strict check the scrape must pass)', () => {
  it('refuses what Prometheus would refuse', () => {
    const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';
    expect(parsePrometheusText(ok).get('a_total')?.samples).toHaveLength(1);
    expect(() => parsePrometheusText(ok.slice(0, -1))).toThrow(/newline/);
    expect(() => parsePrometheusText('a_total 1\n')).toThrow(/no # TYPE/);
    expect(() => parsePrometheusText(`${ok}a_total{x="1"} 3\n`)).toThrow(/twice/);
    expect(() => parsePrometheusText('# TYPE a gauge\na{x="\\q"} 1\n')).toThrow(/escape/);
    expect(() => parsePrometheusText('# TYPE a gauge\na{x=1} 1\n')).toThrow(/quoted/);
    expect(() => parsePrometheusText('# TYPE a gauge\na 1.2.3\n')).toThrow(/bad value/);
    expect(() =>
      parsePrometheusText(
        '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      ),
    ).toThrow(/cumulative/);
  });
});

describe('createMetrics', () => {
  it('serves a scrape in the Prometheus text format with the named metrics', async () => {
    const { families, contentType } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const types = Object.fromEntries([...families.values()].map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      vpn_conns_connections: 'gauge',
      vpn_conns_last_poll_success_timestamp_seconds: 'gauge',
      vpn_conns_polls_total: 'counter',
      vpn_conns_collector_poll_duration_seconds: 'histogram',
      vpn_conns_commands_total: 'counter',
      vpn_conns_clicks_total: 'counter',
      vpn_conns_ack_latency_seconds: 'histogram',
      vpn_conns_answer_seconds: 'histogram',
      vpn_conns_aws_calls_total: 'counter',
      vpn_conns_slack_api_calls_total: 'counter',
      vpn_conns_digest_posts_total: 'counter',
      vpn_conns_alert_posts_total: 'counter',
      vpn_conns_digest_pending_sessions: 'gauge',
      vpn_conns_alerts_firing: 'gauge',
      process_cpu_seconds_total: 'counter',
    });
    for (const family of families.values()) expect(family.help).not.toBe('');
  });

  it('gives each app its own registry: counters are not shared and nothing is registered twice', async () => {
    const one = createMetrics({ defaultMetrics: false });
    const two = createMetrics({ defaultMetrics: false });
    one.recordCommand('help', 'ok');
    const f1 = (await scrape(one)).families;
    const f2 = (await scrape(two)).families;
    expect(sampleValue(f1, 'vpn_conns_commands_total', { command: 'help', outcome: 'ok' })).toBe(1);
    expect(sampleValue(f2, 'vpn_conns_commands_total', { command: 'help', outcome: 'ok' })).toBe(
      undefined,
    );
    expect(f2.has('process_cpu_seconds_total')).toBe(false);
  });

  it('sets connections by status (zeros included) and the last successful poll per endpoint', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordPoll('prod', { active: 2101, terminated: 244 }, AT);
    metrics.recordPoll('prod', { active: 2100, terminated: 245, 'failed-to-terminate': 1 }, AT);
    const later = new Date(AT.getTime() + 300_000);
    metrics.recordPoll('prod', { active: 7 }, later);
    metrics.recordPollFailure('dev');
    metrics.recordPollDuration(1.5);
    const { families } = await scrape(metrics);
    const conns = (status: string) =>
      sampleValue(families, 'vpn_conns_connections', { endpoint: 'prod', status });
    expect([conns('active'), conns('terminated'), conns('failed-to-terminate')]).toEqual([7, 0, 0]);
    expect(conns('terminating')).toBe(0);
    expect(conns('unknown')).toBe(0);
    expect(
      sampleValue(families, 'vpn_conns_last_poll_success_timestamp_seconds', { endpoint: 'prod' }),
    ).toBe(later.getTime() / 1000);
    expect(
      sampleValue(families, 'vpn_conns_last_poll_success_timestamp_seconds', { endpoint: 'dev' }),
    ).toBeUndefined();
    expect(
      sampleValue(families, 'vpn_conns_polls_total', { endpoint: 'prod', outcome: 'ok' }),
    ).toBe(3);
    expect(
      sampleValue(families, 'vpn_conns_polls_total', { endpoint: 'dev', outcome: 'error' }),
    ).toBe(1);
    expect(sampleValue(families, 'vpn_conns_collector_poll_duration_seconds_count')).toBe(1);
  });

  it('moves the counters as commands, clicks, calls and posts happen', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordCommand('user alice', 'ok', { ackSeconds: 0.02, answerSeconds: 0.8 });
    metrics.recordCommand('USER @bob', 'ok', { ackSeconds: 0.03 });
    metrics.recordCommand('prod status=active', 'aws_error');
    metrics.recordCommand('', 'ok');
    metrics.recordClick('vpn_conns_terminate', 'refused', { ackSeconds: 0.01, answerSeconds: 2 });
    metrics.recordAwsCall('DescribeClientVpnConnections');
    metrics.recordAwsCall('DescribeClientVpnConnections', 'ThrottlingException');
    metrics.recordSlackCall('chat.postMessage', 'not_in_channel');
    metrics.recordDigestPost('security', 'ok');
    metrics.recordAlertPost('shared-credentials', 'fire', 'ok');
    metrics.recordAlertPost('shared-credentials', 'clear', 'error');
    metrics.setPendingDigestSessions('security', 12);
    metrics.setFiringAlerts('shared-credentials', 3);
    const { families } = await scrape(metrics);
    const v = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(families, name, labels);
    expect(v('vpn_conns_commands_total', { command: 'user', outcome: 'ok' })).toBe(2);
    expect(v('vpn_conns_commands_total', { command: 'list', outcome: 'aws_error' })).toBe(1);
    expect(v('vpn_conns_commands_total', { command: 'list', outcome: 'ok' })).toBe(1);
    expect(v('vpn_conns_clicks_total', { action: 'vpn_conns_terminate', outcome: 'refused' })).toBe(
      1,
    );
    expect(v('vpn_conns_ack_latency_seconds_count', { kind: 'command' })).toBe(2);
    expect(v('vpn_conns_ack_latency_seconds_bucket', { kind: 'command', le: '0.01' })).toBe(0);
    expect(v('vpn_conns_ack_latency_seconds_bucket', { kind: 'command', le: '0.05' })).toBe(2);
    expect(v('vpn_conns_answer_seconds_count', { kind: 'command' })).toBe(1);
    expect(v('vpn_conns_answer_seconds_sum', { kind: 'click' })).toBe(2);
    const aws = (error: string) =>
      v('vpn_conns_aws_calls_total', { operation: 'DescribeClientVpnConnections', error });
    expect([aws(NO_ERROR), aws('ThrottlingException')]).toEqual([1, 1]);
    expect(
      v('vpn_conns_slack_api_calls_total', { method: 'chat.postMessage', error: 'not_in_channel' }),
    ).toBe(1);
    expect(v('vpn_conns_digest_posts_total', { digest: 'security', outcome: 'ok' })).toBe(1);
    expect(
      v('vpn_conns_alert_posts_total', {
        rule: 'shared-credentials',
        kind: 'clear',
        outcome: 'error',
      }),
    ).toBe(1);
    expect(v('vpn_conns_digest_pending_sessions', { digest: 'security' })).toBe(12);
    expect(v('vpn_conns_alerts_firing', { rule: 'shared-credentials' })).toBe(3);
  });

  it('observes ack and answer times apart with recordTimings, counting no command or click', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordTimings('command', { ackSeconds: 0.02 });
    metrics.recordTimings('command', { answerSeconds: 1.5 });
    metrics.recordTimings('click', { ackSeconds: 0.01, answerSeconds: 0.3 });
    metrics.recordTimings('click', { ackSeconds: -1, answerSeconds: Number.NaN });
    const { families } = await scrape(metrics);
    const v = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(families, name, labels);
    expect(v('vpn_conns_ack_latency_seconds_count', { kind: 'command' })).toBe(1);
    expect(v('vpn_conns_ack_latency_seconds_sum', { kind: 'command' })).toBe(0.02);
    expect(v('vpn_conns_answer_seconds_count', { kind: 'command' })).toBe(1);
    expect(v('vpn_conns_answer_seconds_bucket', { kind: 'command', le: '1' })).toBe(0);
    expect(v('vpn_conns_answer_seconds_bucket', { kind: 'command', le: '2' })).toBe(1);
    expect(v('vpn_conns_ack_latency_seconds_count', { kind: 'click' })).toBe(1);
    expect(v('vpn_conns_answer_seconds_count', { kind: 'click' })).toBe(1);
    expect(families.get('vpn_conns_commands_total')?.samples).toEqual([]);
    expect(families.get('vpn_conns_clicks_total')?.samples).toEqual([]);
  });

  it('never makes a label of a user name in a day of ordinary use', async () => {
    const fleet = generateFleet({ endpoints: 3, connections: 600 });
    const names = new Set<string>();
    for (const c of fleet.connections) {
      if (c.username) names.add(c.username);
      if (c.commonName) names.add(c.commonName);
    }
    const metrics = createMetrics();
    for (const name of names) {
      // People type names into commands (`user NAME`, `prod user=NAME`); the label is the command word.
      metrics.recordCommand(`user ${name}`, 'ok', { ackSeconds: 0.01, answerSeconds: 0.4 });
      metrics.recordCommand(`prod user=${name}`, 'ok');
      metrics.recordCommand(name, 'usage_error');
      metrics.recordClick('vpn_conns_terminate_user', 'refused');
      metrics.recordSlackCall('users.info', 'user_not_found');
    }
    for (const e of fleet.endpoints) {
      metrics.recordPoll(e.name ?? e.id, { active: 10, terminated: 2 }, AT);
      metrics.recordAwsCall('DescribeClientVpnConnections');
    }
    const { families, body } = await scrape(metrics);
    const values = labelValues(families);
    expect([...names].filter((n) => values.has(n))).toEqual([]);
    expect(body).not.toContain('<script>');
    expect(
      sampleValue(families, 'vpn_conns_commands_total', { command: 'user', outcome: 'ok' }),
    ).toBe(names.size);
  });

  it('turns a name passed where a command word, action, method or error belongs into "other"', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    for (const name of TRICKY_USERNAMES) {
      metrics.recordClick(name, 'ok');
      metrics.recordAwsCall(name, `${name} denied`);
      metrics.recordSlackCall(name, name);
      metrics.recordPoll(name, {}, AT);
    }
    const values = labelValues((await scrape(metrics)).families);
    for (const tricky of TRICKY_USERNAMES) expect(values.has(tricky)).toBe(false);
    expect(values.has(OTHER)).toBe(true);
  });

  it('keeps AD user names out of command, action, operation and error labels', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    for (const name of ['alice.martin', 'bob', 'Mary Ann', 'José']) {
      metrics.recordCommand(`user ${name}`, 'ok');
      metrics.recordClick(name, 'ok');
      metrics.recordAwsCall(name, `${name} denied`);
      metrics.recordSlackCall(name, `${name} gone`);
    }
    const { families } = await scrape(metrics);
    expect([...labelValues(families)].sort()).toEqual(['ok', 'other', 'user'].sort());
  });

  it('caps distinct values of a label, counting the rest as "other"', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    for (let i = 0; i < MAX_LABEL_VALUES + 36; i++) metrics.recordAwsCall('Describe', `Code${i}`);
    const { families } = await scrape(metrics);
    const samples = families.get('vpn_conns_aws_calls_total')?.samples ?? [];
    expect(samples).toHaveLength(MAX_LABEL_VALUES + 1);
    expect(
      sampleValue(families, 'vpn_conns_aws_calls_total', { operation: 'Describe', error: OTHER }),
    ).toBe(36);
  });
});

describe('statusCounts', () => {
  it('counts one poll of an endpoint by status, an unknown status as unknown', () => {
    const of = (code: string) =>
      normalizeConnection({ ConnectionId: 'cvpn-connection-1', Status: { Code: code } });
    expect(statusCounts([of('active'), of('active'), of('terminated'), of('weird')])).toEqual({
      active: 2,
      'failed-to-terminate': 0,
      terminating: 0,
      terminated: 1,
      unknown: 1,
    });
  });
});
