/**
 * The Terminate buttons of an alert, end to end: the real alert poster posts to the Slack
 * stand-in with buttons signed by the bot token, and clicks on that channel message reach the
 * real Bolt app over signed HTTP. An admin's click terminates the session (DryRun first); anyone
 * else is refused, and AWS is not asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlerts, type FiringAlert } from '../../src/alerts/evaluate.js';
import type { AccessConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { EmulatedConnection } from '../../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { ADMIN_ONLY_MESSAGE } from '../../src/slack/access.js';
import { createSlackAlertPoster } from '../../src/slack/alert-poster.js';
import { ACTION_TERMINATE } from '../../src/slack/blocks/ids.js';
import { createValueSigner } from '../../src/slack/signed-values.js';
import type { Connection } from '../../src/vpn/connection.js';
import { type BotHarness, HARNESS_BOT_TOKEN, startBotHarness } from '../support/bot-harness.js';
import { blockText, buttonForConnection, type MessageBody } from '../support/slack-message.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const PROD = endpointId(0);
const ADMIN = 'U0ADMIN';
const VIEWER = 'U0VIEWER';
const ALERTS = 'C0ALERTS1';
const ACCESS: AccessConfig = {
  allowed: { users: [VIEWER], groups: [], channels: [] },
  admins: { users: [ADMIN], groups: [], channels: [] },
};

const SHARED: EmulatedConnection[] = [0, 1, 2, 3].map((n) => ({
  endpointId: PROD,
  connectionId: connectionId(n),
  username: 'sam',
  commonName: 'sam',
  clientIp: `10.1.0.${n + 2}`,
  establishedAt: new Date(NOW.getTime() - (n + 5) * 60_000),
  status: 'active',
  ingressBytes: 1,
  egressBytes: 1,
  ingressPackets: 1,
  egressPackets: 1,
}));

describe('Terminate on an alert', () => {
  let bot: BotHarness;
  let alert: MessageBody;

  beforeAll(async () => {
    bot = await startBotHarness({
      fleet: { endpoints: [{ id: PROD, name: 'prod' }], connections: SHARED },
      access: ACCESS,
      terminate: true,
      audit: true,
    });
    const endpoint = bot.endpoints?.[0];
    if (!endpoint) throw new Error('no endpoint');
    const connections: Connection[] = [];
    for await (const page of bot.gateway.listConnections(endpoint)) connections.push(...page);
    const { firing } = evaluateAlerts({
      rules: [
        {
          name: 'shared-credentials',
          channel: ALERTS,
          endpoints: 'all',
          condition: { kind: 'maxSessionsPerUser', sessions: 3 },
        },
      ],
      endpoints: [
        {
          id: endpoint.id,
          alias: endpoint.alias,
          authenticationTypes: [],
          maxConnections: 2000,
          connections,
          lastActiveAt: null,
        },
      ],
      now: bot.clock.now(),
      isKnownPerson: () => true,
    });
    const poster = createSlackAlertPoster({
      token: HARNESS_BOT_TOKEN,
      apiUrl: bot.slack.url,
      logger: createLogger('error', () => {}),
      signer: createValueSigner(HARNESS_BOT_TOKEN),
    });
    const { ts } = await poster.post(firing[0] as FiringAlert, 'post-1', {
      now: bot.clock.now(),
      sessionTimeoutHours: () => 24,
    });
    const posted = bot.slack.messages.find((m) => m.ts === ts);
    alert = { blocks: posted?.blocks } as MessageBody;
  });
  afterAll(() => bot.stop());

  it('is refused to a user who is not an admin, without asking AWS', async () => {
    const button = buttonForConnection(alert, ACTION_TERMINATE, SHARED[0]?.connectionId ?? '');
    const before = bot.emulator.requests.length;
    const sent = await bot.click(ACTION_TERMINATE, button.value, {
      userId: VIEWER,
      channelId: ALERTS,
      message: { ts: '1', blocks: alert.blocks },
    });
    const reply = (await bot.waitForAnswer(sent.responseUrlId)).body;
    expect(reply).toMatchObject({ response_type: 'ephemeral', text: ADMIN_ONLY_MESSAGE });
    expect(bot.emulator.requests.slice(before)).toEqual([]);
    expect(bot.emulator.connections(PROD)[0]?.status).toBe('active');
  });

  it("terminates the session on an admin's click, after a DryRun", async () => {
    const target = SHARED[1]?.connectionId ?? '';
    const button = buttonForConnection(alert, ACTION_TERMINATE, target);
    const before = bot.emulator.requests.length;
    const sent = await bot.click(ACTION_TERMINATE, button.value, {
      userId: ADMIN,
      channelId: ALERTS,
      message: { ts: '1', blocks: alert.blocks },
    });
    const reply = (await bot.waitForAnswer(sent.responseUrlId)).body;
    expect(blockText(reply)).toContain(`\`${target}\` on prod: active → *terminating*`);
    const calls = bot.emulator.requests
      .slice(before)
      .filter((r) => r.action === 'TerminateClientVpnConnections');
    expect(calls.map((r) => [r.params.DryRun === 'true', r.params.ConnectionId])).toEqual([
      [true, target],
      [false, target],
    ]);
  });
});
