/**
 * `/vpn-conns` in Socket Mode: `createApp` with an app token connects through
 * `apps.connections.open` and a WebSocket to the Slack stand-in; a command arrives as an
 * envelope, is acked over the socket and answered through its response_url.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFleet } from '../../src/sandbox/vpn-data.js';
import { ACTION_PAGE_NEXT } from '../../src/slack/blocks/ids.js';
import { type BotHarness, HARNESS_APP_TOKEN, startBotHarness } from '../support/bot-harness.js';

const NOW = new Date('2026-11-27T12:00:00Z');

describe('Socket Mode', () => {
  const fleet = generateFleet({ endpoints: 1, connections: 25, now: NOW });
  let bot: BotHarness;

  beforeAll(async () => {
    bot = await startBotHarness({ fleet, mode: 'socket' });
  });
  afterAll(async () => {
    // The harness stops the app and waits for its socket to close before closing the stand-in.
    await bot.stop();
    expect(bot.slack.socket.connected()).toBe(false);
  });

  it('connects with the app token through apps.connections.open and a WebSocket', () => {
    expect(bot.url).toBe('');
    expect(bot.slack.socket.connected()).toBe(true);
    const open = bot.slack.calls.filter((c) => c.method === 'apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]?.token).toBe(HARNESS_APP_TOKEN);
  });

  it('acks a slash command over the socket and answers through its response_url', async () => {
    const sent = await bot.command('prod');
    expect(sent.status).toBe(200);
    const ack = sent.json();
    expect(ack?.response_type).toBe('ephemeral');
    expect(String(ack?.text)).toContain('Looking up connections on prod');

    const post = await bot.waitForAnswer(sent.responseUrlId);
    expect(post.body.response_type).toBe('ephemeral');
    expect(String(post.body.text)).toContain('prod: 25 connections');
    // The connections, and the endpoint (once, cached) for its session time limit.
    expect(bot.emulator.requests.map((r) => r.action).sort()).toEqual([
      'DescribeClientVpnConnections',
      'DescribeClientVpnEndpoints',
    ]);
  });

  it('pages through an interactive envelope, replacing the message', async () => {
    const sent = await bot.click(ACTION_PAGE_NEXT, '{"q":"list","p":1}');
    expect(sent.status).toBe(200);
    const post = await bot.waitForAnswer(sent.responseUrlId);
    expect(post.body.replace_original).toBe(true);
    expect(JSON.stringify(post.body)).toContain('page 2 of 2');
  });
});
