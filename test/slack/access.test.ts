/**
 * Who may use `/vpn-conns`, end to end over signed HTTP: `VPN_CONNS_ALLOWED` / `VPN_CONNS_ADMINS`
 * on Slack IDs (users, user groups, channels), checked on the command and again on every click,
 * with user groups read from the Slack stand-in and cached; every refusal in the audit trail.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessConfig } from '../../src/config.js';
import type { EmulatedConnection } from '../../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId, type Fleet } from '../../src/sandbox/vpn-data.js';
import { ACCESS_DENIED_MESSAGE } from '../../src/slack/access.js';
import { ACTION_EXPORT_CSV, ACTION_PAGE_NEXT, PAGE_SIZE } from '../../src/slack/blocks/ids.js';
import { auditMark, onlyAuditSince } from '../support/audit-check.js';
import {
  type BotHarness,
  HARNESS_CHANNEL_ID,
  HARNESS_TEAM_ID,
  type SentRequest,
  startBotHarness,
} from '../support/bot-harness.js';
import { allText, type MessageBody, onlyButton } from '../support/slack-message.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const PROD = endpointId(0);

const ALLOWED_USER = 'U0ALLOWED';
const GROUP = 'S0OPS';
const GROUP_MEMBER = 'U0GROUPIE';
const OPEN_CHANNEL = 'C0OPEN';
const ADMIN = 'U0ADMIN';
const ADMIN_GROUP = 'S0ADMINS';
const GROUP_ADMIN = 'U0GROUPADMIN';
const STRANGER = 'U0STRANGER';

const ACCESS: AccessConfig = {
  allowed: { users: [ALLOWED_USER], groups: [GROUP], channels: [OPEN_CHANNEL] },
  admins: { users: [ADMIN], groups: [ADMIN_GROUP], channels: [] },
};

const CONNECTIONS = PAGE_SIZE + 5;

function fleet(): Fleet {
  const connections = Array.from(
    { length: CONNECTIONS },
    (_, n): EmulatedConnection => ({
      endpointId: PROD,
      connectionId: connectionId(n),
      username: `user${n}`,
      commonName: `user${n}`,
      clientIp: `10.0.0.${n + 2}`,
      establishedAt: new Date(NOW.getTime() - (n + 1) * 60_000),
      endedAt: null,
      status: 'active',
      ingressBytes: 1000 * n,
      egressBytes: 500 * n,
      ingressPackets: n + 1,
      egressPackets: n + 1,
    }),
  );
  return {
    endpoints: [{ id: PROD, name: 'prod', authenticationType: 'directory-service-authentication' }],
    connections,
  };
}

function groupCalls(bot: BotHarness): number {
  return bot.slack.calls.filter((c) => c.method === 'usergroups.users.list').length;
}

async function answerTo(bot: BotHarness, sent: SentRequest): Promise<MessageBody> {
  return (await bot.waitForAnswer(sent.responseUrlId)).body;
}

/** The list a person allowed to use the bot gets for `prod`. */
function expectList(body: MessageBody): void {
  expect(body.response_type).toBe('ephemeral');
  expect(allText(body)).toContain(`${CONNECTIONS} connections · ${CONNECTIONS} active`);
}

/**
 * A slash command refused by the access check: acked at once with the ephemeral refusal, and
 * nothing more — no answer on the response_url and no AWS call.
 */
async function expectRefusedCommand(bot: BotHarness, sent: SentRequest, awsCallsBefore: number) {
  expect(sent.status).toBe(200);
  expect(sent.json()).toEqual({ response_type: 'ephemeral', text: ACCESS_DENIED_MESSAGE });
  // The refusal is the ack itself: give a stray answer the time to show up anyway.
  await sleep(150);
  expect(bot.answers(sent.responseUrlId)).toEqual([]);
  expect(bot.emulator.requests.length).toBe(awsCallsBefore);
}

/** A click refused by the access check: an ephemeral refusal that leaves the message alone. */
async function expectRefusedClick(bot: BotHarness, sent: SentRequest, awsCallsBefore: number) {
  expect(sent.status).toBe(200);
  const refusal = await answerTo(bot, sent);
  expect(refusal).toMatchObject({
    response_type: 'ephemeral',
    replace_original: false,
    text: ACCESS_DENIED_MESSAGE,
  });
  await sleep(100);
  expect(bot.answers(sent.responseUrlId)).toHaveLength(1);
  expect(bot.emulator.requests.length).toBe(awsCallsBefore);
}

describe('access control on the command and on every click', () => {
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBotHarness({ fleet: fleet(), access: ACCESS, audit: true });
    bot.slack.userGroups.set(GROUP, [GROUP_MEMBER]);
    bot.slack.userGroups.set(ADMIN_GROUP, [GROUP_ADMIN]);
  });
  afterAll(() => bot.stop());

  it("refuses a stranger's /vpn-conns with an ephemeral message, calls no AWS API and audits the refusal", async () => {
    const calls = bot.emulator.requests.length;
    const mark = await auditMark(bot);
    const sent = await bot.command('prod', { userId: STRANGER });
    await expectRefusedCommand(bot, sent, calls);
    expect(await onlyAuditSince(bot, mark)).toMatchObject({
      teamId: HARNESS_TEAM_ID,
      userId: STRANGER,
      channelId: HARNESS_CHANNEL_ID,
      action: 'command',
      detail: 'prod',
      endpoints: [],
      outcome: 'denied',
      requestIds: [],
    });
  });

  it('refuses a stranger whatever the command, help and audit included', async () => {
    for (const text of ['help', 'endpoints', 'audit 5', 'user me']) {
      const calls = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      await expectRefusedCommand(bot, await bot.command(text, { userId: STRANGER }), calls);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({ detail: text, outcome: 'denied' });
    }
  });

  it('answers a listed user, a member of an allowed group, anyone in an allowed channel, and admins', async () => {
    const askers = [
      { userId: ALLOWED_USER, channelId: HARNESS_CHANNEL_ID },
      { userId: GROUP_MEMBER, channelId: HARNESS_CHANNEL_ID },
      { userId: STRANGER, channelId: OPEN_CHANNEL },
      { userId: ADMIN, channelId: HARNESS_CHANNEL_ID },
      { userId: GROUP_ADMIN, channelId: HARNESS_CHANNEL_ID },
    ];
    for (const asker of askers) {
      const mark = await auditMark(bot);
      const sent = await bot.command('prod', asker);
      expect(sent.json()?.text).not.toBe(ACCESS_DENIED_MESSAGE);
      expectList(await answerTo(bot, sent));
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        ...asker,
        action: 'command',
        detail: 'prod',
        endpoints: ['prod'],
        outcome: 'ok',
      });
    }
  });

  it("refuses a stranger's Next and Export CSV clicks on an allowed user's list, with no AWS call", async () => {
    const list = await answerTo(bot, await bot.command('prod', { userId: ALLOWED_USER }));
    const next = onlyButton(list, ACTION_PAGE_NEXT);
    const exportCsv = onlyButton(list, ACTION_EXPORT_CSV);

    for (const [button, action] of [
      [next, 'page'],
      [exportCsv, 'export-csv'],
    ] as const) {
      const calls = bot.emulator.requests.length;
      const slackCalls = bot.slack.calls.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(button.actionId, button.value, { userId: STRANGER });
      await expectRefusedClick(bot, sent, calls);
      // No DM opened, no file uploaded: only the group lookup of the access check reached Slack.
      expect(
        bot.slack.calls.slice(slackCalls).filter((c) => c.method !== 'usergroups.users.list'),
      ).toEqual([]);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        userId: STRANGER,
        channelId: HARNESS_CHANNEL_ID,
        action,
        detail: button.value,
        outcome: 'denied',
      });
    }
    expect(bot.slack.files).toEqual([]);
  });

  it('lets allowed people click: the next page for a group member, the CSV for a user in an allowed channel', async () => {
    const list = await answerTo(bot, await bot.command('prod', { userId: ALLOWED_USER }));
    const mark = await auditMark(bot);
    const paged = await bot.click(ACTION_PAGE_NEXT, onlyButton(list, ACTION_PAGE_NEXT).value, {
      userId: GROUP_MEMBER,
    });
    const page2 = await answerTo(bot, paged);
    expect(page2.replace_original).toBe(true);
    expect(allText(page2)).toContain('page 2 of 2');
    expect(await onlyAuditSince(bot, mark)).toMatchObject({
      userId: GROUP_MEMBER,
      action: 'page',
      outcome: 'ok',
    });

    const exported = await bot.click(ACTION_EXPORT_CSV, onlyButton(list, ACTION_EXPORT_CSV).value, {
      userId: STRANGER,
      channelId: OPEN_CHANNEL,
    });
    expect(String((await answerTo(bot, exported)).text)).toContain('Sent you the CSV');
    expect(bot.slack.files).toHaveLength(1);
  });

  it('keeps the audit trail from non-admins, and shows it to an admin listed by ID or by group', async () => {
    const refused = await bot.command('audit 3', { userId: ALLOWED_USER });
    expect(String((await answerTo(bot, refused)).text)).toContain('Only vpn-conns admins');

    for (const admin of [ADMIN, GROUP_ADMIN]) {
      const shown = await answerTo(bot, await bot.command('audit 3', { userId: admin }));
      expect(allText(shown)).toContain('vpn-conns audit trail');
      expect(allText(shown)).toContain('Latest 3 of at most 3 asked.');
    }
  });
});

describe('user-group membership cache', () => {
  const TTL_MS = 1500;
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBotHarness({
      fleet: fleet(),
      access: ACCESS,
      audit: true,
      groupCacheMs: TTL_MS,
    });
    bot.slack.userGroups.set(GROUP, [GROUP_MEMBER]);
  });
  afterAll(() => bot.stop());

  it('asks Slack for a group once within the TTL, and again after it', async () => {
    const started = Date.now();
    for (let i = 0; i < 4; i++) {
      expectList(await answerTo(bot, await bot.command('prod', { userId: GROUP_MEMBER })));
    }
    // Four commands well within the TTL: one usergroups.users.list call.
    expect(Date.now() - started).toBeLessThan(TTL_MS);
    expect(groupCalls(bot)).toBe(1);

    await sleep(TTL_MS + 100);
    expectList(await answerTo(bot, await bot.command('prod', { userId: GROUP_MEMBER })));
    expect(groupCalls(bot)).toBe(2);
  });

  it('refuses a click from someone removed from the group, once the cache has expired', async () => {
    const list = await answerTo(bot, await bot.command('prod', { userId: GROUP_MEMBER }));
    bot.slack.userGroups.set(GROUP, []);
    await sleep(TTL_MS + 100);
    const calls = bot.emulator.requests.length;
    const mark = await auditMark(bot);
    const sent = await bot.click(ACTION_PAGE_NEXT, onlyButton(list, ACTION_PAGE_NEXT).value, {
      userId: GROUP_MEMBER,
    });
    await expectRefusedClick(bot, sent, calls);
    expect(await onlyAuditSince(bot, mark)).toMatchObject({
      userId: GROUP_MEMBER,
      action: 'page',
      outcome: 'denied',
    });
  });
});

describe('a workspace without user groups (plan_upgrade_required)', () => {
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBotHarness({ fleet: fleet(), access: ACCESS, audit: true });
    bot.slack.userGroups.set(GROUP, [GROUP_MEMBER]);
    bot.slack.userGroups.set(ADMIN_GROUP, [GROUP_ADMIN]);
    bot.slack.faults.planUpgradeRequired(true);
  });
  afterAll(() => bot.stop());

  it('ignores group rules, still honours listed IDs and channels, and warns once', async () => {
    for (let i = 0; i < 3; i++) {
      const calls = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      await expectRefusedCommand(bot, await bot.command('prod', { userId: GROUP_MEMBER }), calls);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        userId: GROUP_MEMBER,
        outcome: 'denied',
      });
    }
    expectList(await answerTo(bot, await bot.command('prod', { userId: ALLOWED_USER })));
    expectList(await answerTo(bot, await bot.command('prod', { userId: ADMIN })));
    expectList(
      await answerTo(bot, await bot.command('prod', { userId: STRANGER, channelId: OPEN_CHANNEL })),
    );

    // Admin groups are ignored too: someone who is an admin only through a group is refused.
    const calls = bot.emulator.requests.length;
    await expectRefusedCommand(bot, await bot.command('prod', { userId: GROUP_ADMIN }), calls);

    const warnings = bot.logs.filter(
      (line) => line.includes('"level":"warn"') && line.includes('plan_upgrade_required'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('only user and channel IDs count');
    // The fallback is remembered: Slack is not asked again on every command.
    expect(groupCalls(bot)).toBe(1);
  });
});

describe('a slow user-group lookup', () => {
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBotHarness({ fleet: fleet(), access: ACCESS, audit: true });
    bot.slack.userGroups.set(GROUP, [GROUP_MEMBER]);
  });
  afterAll(() => bot.stop());

  it('never delays the ack: Slack sees "checking" within the budget, the answer follows', async () => {
    // Every Slack call, usergroups.users.list included, now takes 2 s.
    bot.slack.faults.latency(2000);
    try {
      const sent = await bot.command('prod', { userId: GROUP_MEMBER });
      expect(sent.status).toBe(200);
      expect(sent.elapsedMs).toBeLessThan(2000);
      expect(sent.json()).toMatchObject({
        response_type: 'ephemeral',
        text: expect.stringContaining('Checking your access'),
      });
      expectList(await answerTo(bot, sent));
    } finally {
      bot.slack.faults.latency(0);
    }
  });
});
