/**
 * `vpn_conns_slack_api_calls_total{method,error}`: every Web API request of the clients the
 * process uses (the posters' own from `createWebClient`, and the per-workspace clients Bolt
 * hands listeners) counted once per HTTP request, with Slack's error, against the Slack
 * stand-in over loopback. response_url posts are not Web API calls.
 */
import { LogLevel } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppMetrics, createMetrics, NO_ERROR } from '../../src/http/metrics.js';
import { freePort } from '../../src/sandbox/free-port.js';
import { type SlackStandIn, startSlackStandIn } from '../../src/sandbox/slack-stand-in.js';
import { generateFleet } from '../../src/sandbox/vpn-data.js';
import { ACTION_EXPORT_CSV } from '../../src/slack/blocks/ids.js';
import { countingFetch, createWebClient, requestErrorKind } from '../../src/slack/web-client.js';
import { type Family, parsePrometheusText, sampleValue } from '../http/prometheus-text.js';
import { type BotHarness, startBotHarness } from '../support/bot-harness.js';
import {
  type DigestHarness,
  endedConnection,
  startDigestHarness,
} from '../support/digest-harness.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const START = new Date('2026-11-27T09:00:00Z');
const at = (hhmmss: string) => new Date(`2026-11-27T${hhmmss}Z`);

async function scrape(metrics: AppMetrics): Promise<Map<string, Family>> {
  return parsePrometheusText((await metrics.scrape()).body);
}

/** `vpn_conns_slack_api_calls_total` of one method and error (0 when absent). */
async function calls(metrics: AppMetrics, method: string, error = NO_ERROR): Promise<number> {
  const families = await scrape(metrics);
  return sampleValue(families, 'vpn_conns_slack_api_calls_total', { method, error }) ?? 0;
}

/** Every series of the counter, as `method error` → count. */
async function allCalls(metrics: AppMetrics): Promise<Record<string, number>> {
  const family = (await scrape(metrics)).get('vpn_conns_slack_api_calls_total');
  return Object.fromEntries(
    (family?.samples ?? []).map((s) => [`${s.labels.method} ${s.labels.error}`, s.value]),
  );
}

describe('Slack API calls of the digest poster (digest job, stand-in)', () => {
  let h: DigestHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('counts a posted digest as chat.postMessage "none" and a refused one as "not_in_channel"', async () => {
    h = await startDigestHarness({ start: START });
    const { metrics } = h.instance;
    h.scheduleSessions([endedConnection(1, at('09:20:00')), endedConnection(2, at('10:20:00'))]);
    for (let ms = START.getTime(); ms < at('10:00:00').getTime(); ms += 5 * 60_000) {
      h.setClock(new Date(ms));
      await h.instance.poll();
    }
    h.setClock(at('10:00:00'));
    expect(await h.instance.tick(h.digest, at('10:00:00'))).toMatchObject({ kind: 'posted' });
    expect(await calls(metrics, 'chat.postMessage')).toBe(1);
    expect(await calls(metrics, 'chat.postMessage', 'not_in_channel')).toBe(0);

    for (let ms = at('10:00:00').getTime(); ms < at('11:00:00').getTime(); ms += 5 * 60_000) {
      h.setClock(new Date(ms));
      await h.instance.poll();
    }
    h.slack.faults.failNext('chat.postMessage', 'not_in_channel');
    h.setClock(at('11:00:00'));
    expect(await h.instance.tick(h.digest, at('11:00:00'))).toMatchObject({ kind: 'failed' });
    expect(await calls(metrics, 'chat.postMessage', 'not_in_channel')).toBe(1);
    expect(await calls(metrics, 'chat.postMessage')).toBe(1);
    // The stand-in's log and the counter agree, request for request.
    const posts = h.slack.calls.filter((c) => c.method === 'chat.postMessage').length;
    expect(posts).toBe(2);
    expect(
      sampleValue(await scrape(metrics), 'vpn_conns_digest_posts_total', {
        digest: h.digest.name,
        outcome: 'error',
      }),
    ).toBe(1);
  });

  it('counts a rate-limited attempt as "ratelimited" and its retry by its own outcome', async () => {
    h = await startDigestHarness({ start: START });
    const { metrics } = h.instance;
    h.scheduleSessions([endedConnection(1, at('09:20:00'))]);
    for (let ms = START.getTime(); ms < at('10:00:00').getTime(); ms += 5 * 60_000) {
      h.setClock(new Date(ms));
      await h.instance.poll();
    }
    h.slack.faults.rateLimitNext('chat.postMessage', 0, 1);
    h.setClock(at('10:00:00'));
    expect(await h.instance.tick(h.digest, at('10:00:00'))).toMatchObject({ kind: 'posted' });
    expect(await allCalls(metrics)).toEqual({
      'chat.postMessage ratelimited': 1,
      'chat.postMessage none': 1,
    });
  });
});

describe('Slack API calls of a client from createWebClient', () => {
  let slack: SlackStandIn;
  beforeAll(async () => {
    slack = await startSlackStandIn({ botToken: 'xoxb-counted' });
  });
  afterAll(() => slack.close());

  it("counts each request once, by its own method, with Slack's error when refused", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const client = createWebClient(
      'xoxb-counted',
      { slackApiUrl: slack.url, retryConfig: { retries: 0 } },
      metrics,
    );
    await client.chat.postMessage({ channel: 'C0REPORTS', text: 'hello' });
    slack.faults.failNext('chat.postMessage', 'channel_not_found');
    await expect(client.chat.postMessage({ channel: 'C0GONE', text: 'x' })).rejects.toThrow(
      /channel_not_found/,
    );
    await client.filesUploadV2({ channel_id: 'C0REPORTS', filename: 'a.csv', content: 'a,b\n' });
    expect(await allCalls(metrics)).toEqual({
      'chat.postMessage none': 1,
      'chat.postMessage channel_not_found': 1,
      'files.getUploadURLExternal none': 1,
      'files.completeUploadExternal none': 1,
    });
  });

  it('labels a request that got no answer with the socket error, and counts nothing without metrics', async () => {
    const port = await freePort();
    const metrics = createMetrics({ defaultMetrics: false });
    const client = createWebClient(
      'xoxb-counted',
      {
        slackApiUrl: `http://127.0.0.1:${port}/api/`,
        retryConfig: { retries: 0 },
        logLevel: LogLevel.ERROR,
      },
      metrics,
    );
    await expect(client.auth.test()).rejects.toThrow();
    expect(await allCalls(metrics)).toEqual({ 'auth.test ECONNREFUSED': 1 });

    const uncounted = createWebClient('xoxb-counted', { slackApiUrl: slack.url });
    await uncounted.auth.test();
    expect(await allCalls(metrics)).toEqual({ 'auth.test ECONNREFUSED': 1 });
  });

  it('passes requests outside the Web API through uncounted', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const counted = countingFetch(slack.url, metrics);
    const url = slack.newResponseUrl();
    const res = await counted(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    expect(res.status).toBe(200);
    expect(await allCalls(metrics)).toEqual({});
  });
});

describe('requestErrorKind', () => {
  it('names a timeout, a socket error code, or a generic request error', () => {
    expect(requestErrorKind(new DOMException('t', 'TimeoutError'))).toBe('timeout');
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
    });
    expect(requestErrorKind(refused)).toBe('ECONNRESET');
    expect(requestErrorKind(new TypeError('fetch failed'))).toBe('request_error');
    expect(requestErrorKind('alice')).toBe('request_error');
  });
});

describe("Slack API calls of Bolt's clients (real app, export CSV)", () => {
  let bot: BotHarness;
  let metrics: AppMetrics;
  beforeAll(async () => {
    metrics = createMetrics({ defaultMetrics: false });
    bot = await startBotHarness({
      fleet: generateFleet({ endpoints: 1, connections: 30, now: NOW }),
      metrics,
    });
  });
  afterAll(() => bot.stop());

  it("counts the listener client's calls, and not the response_url posts", async () => {
    const sent = await bot.command('prod');
    await bot.waitForAnswer(sent.responseUrlId);
    const click = await bot.click(ACTION_EXPORT_CSV, JSON.stringify({ q: 'prod', p: 0 }));
    expect(click.status).toBe(200);
    await bot.waitForAnswer(click.responseUrlId);
    const counted = await allCalls(metrics);
    expect(counted).toMatchObject({
      'conversations.open none': 1,
      'files.getUploadURLExternal none': 1,
      'files.completeUploadExternal none': 1,
    });
    // Each request the stand-in saw is counted once; response_url posts are no Web API calls.
    const seen = bot.slack.calls.length;
    expect(Object.values(counted).reduce((a, b) => a + b, 0)).toBe(seen);
    expect(Object.keys(counted).some((k) => k.startsWith('other'))).toBe(false);
    expect(bot.slack.responseUrlPosts.length).toBeGreaterThan(0);
    // No person in a label: the clicker's ID and the fleet's user names stay out.
    const body = (await metrics.scrape()).body;
    expect(body).not.toContain('U0TESTER');
  });
});
