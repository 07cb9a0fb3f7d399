/**
 * Terminating VPN sessions from Slack, end to end over signed HTTP: Terminate buttons for admins
 * only, signed values, the DryRun pre-check, one connection or every session of a person (by
 * user name or one by one), CloudTrail attribution through the role session name, the refreshed
 * list, and the audit trail of every click — read back from the store, the log and
 * `/vpn-conns audit`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessConfig } from '../../src/config.js';
import type {
  EmulatedConnection,
  EmulatedConnectionStatus,
  RequestLogEntry,
} from '../../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { ACCESS_DENIED_MESSAGE, ADMIN_ONLY_MESSAGE } from '../../src/slack/access.js';
import {
  ACTION_TERMINATE,
  ACTION_TERMINATE_USER,
  INVALID_BUTTON_MESSAGE,
} from '../../src/slack/blocks/ids.js';
import type { Endpoint } from '../../src/vpn/endpoint.js';
import { auditMark, onlyAuditSince } from '../support/audit-check.js';
import {
  type BotHarness,
  HARNESS_CHANNEL_ID,
  HARNESS_TEAM_ID,
  type SentRequest,
  startBotHarness,
} from '../support/bot-harness.js';
import {
  allText,
  blockText,
  buttonForConnection,
  buttonsOf,
  buttonsWith,
  entryOf,
  type MessageBody,
  onlyButton,
} from '../support/slack-message.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const REGION = 'us-east-1';
const PROD = endpointId(0);
const LAB = endpointId(1);
const PARTNER = endpointId(2);
const ROLE_NAME = 'vpn-conns-partner';
const ROLE_ARN = `arn:aws:iam::210987654321:role/${ROLE_NAME}`;
const TERMINATE = 'TerminateClientVpnConnections';

const ADMIN = 'U0ADMIN';
const VIEWER = 'U0VIEWER';
const STRANGER = 'U0STRANGER';

const ACCESS: AccessConfig = {
  allowed: { users: [VIEWER], groups: [], channels: [] },
  admins: { users: [ADMIN], groups: [], channels: [] },
};

const ENDPOINTS: readonly Endpoint[] = [
  { alias: 'prod', id: PROD, region: REGION },
  { alias: 'lab', id: LAB, region: REGION },
  { alias: 'partner', id: PARTNER, region: REGION, roleArn: ROLE_ARN },
];

let serial = 0;

/** `count` sessions of one person on one endpoint; certificate sessions have no user name. */
function sessions(
  endpoint: string,
  who: { username?: string; commonName: string },
  count = 1,
  status: EmulatedConnectionStatus = 'active',
): EmulatedConnection[] {
  return Array.from({ length: count }, () => {
    const n = serial++;
    return {
      endpointId: endpoint,
      connectionId: connectionId(n),
      username: who.username,
      commonName: who.commonName,
      clientIp: `10.1.0.${n + 2}`,
      establishedAt: new Date(NOW.getTime() - (n + 5) * 60_000),
      endedAt: status === 'terminated' ? new Date(NOW.getTime() - 60_000) : null,
      status,
      ingressBytes: 10_000 * (n + 1),
      egressBytes: 2_000 * (n + 1),
      ingressPackets: n + 10,
      egressPackets: n + 10,
    };
  });
}

const ad = (name: string) => ({ username: name, commonName: name });

const ALICE = sessions(PROD, ad('alice'));
const FRANK = sessions(PROD, ad('frank'));
const GRACE = sessions(PROD, ad('grace'), 1, 'terminated');
const HEIDI = sessions(PROD, ad('heidi'), 7);
const BOB = sessions(PROD, ad('bob'), 3);
const ERIN_PROD = sessions(PROD, ad('erin'), 2);
const ERIN_LAB = sessions(LAB, { commonName: 'erin' });
const CAROL = [
  ...sessions(LAB, { commonName: 'carol.laptop.corp.example' }),
  ...sessions(LAB, { commonName: 'carol@corp.example' }),
];
const DAVE = sessions(PARTNER, ad('dave'));

const FLEET = {
  endpoints: [
    { id: PROD, name: 'prod', authenticationType: 'directory-service-authentication' as const },
    { id: LAB, name: 'lab', authenticationType: 'certificate-authentication' as const },
    {
      id: PARTNER,
      name: 'partner',
      authenticationType: 'directory-service-authentication' as const,
    },
  ],
  connections: [
    ...ALICE,
    ...FRANK,
    ...GRACE,
    ...HEIDI,
    ...BOB,
    ...ERIN_PROD,
    ...ERIN_LAB,
    ...CAROL,
    ...DAVE,
  ],
};

function idsOf(connections: readonly EmulatedConnection[]): string[] {
  return connections.map((c) => c.connectionId);
}

function first(connections: readonly EmulatedConnection[]): string {
  const [c] = connections;
  if (!c) throw new Error('no connection');
  return c.connectionId;
}

function isDryRun(request: RequestLogEntry): boolean {
  return request.params.DryRun === 'true';
}

async function answerTo(bot: BotHarness, sent: SentRequest, count = 1): Promise<MessageBody> {
  return (await bot.waitForAnswer(sent.responseUrlId, { count })).body;
}

/** A click refused before any work: one ephemeral reply, and not a single AWS request. */
async function expectRefusedClick(
  bot: BotHarness,
  sent: SentRequest,
  awsCallsBefore: number,
): Promise<MessageBody> {
  expect(sent.status).toBe(200);
  const reply = await answerTo(bot, sent);
  expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(bot.answers(sent.responseUrlId)).toHaveLength(1);
  expect(bot.emulator.requests.slice(awsCallsBefore)).toEqual([]);
  return reply;
}

/** Current statuses in the emulator, by connection id. */
function statusesOf(bot: BotHarness, ids: readonly string[]): string[] {
  const all = new Map(bot.emulator.connections().map((c) => [c.connectionId, c.status]));
  return ids.map((id) => all.get(id) ?? 'missing');
}

/** One flip of one character: still a well-formed value, no longer the signed one. */
function flipCharAt(value: string, index: number): string {
  const c = value[index];
  return `${value.slice(0, index)}${c === 'A' ? 'B' : 'A'}${value.slice(index + 1)}`;
}

describe('Terminate from Slack', () => {
  let bot: BotHarness;
  /** An admin's list of prod, with a Terminate button on each active connection. */
  let adminList: MessageBody;
  /** An admin's `user heidi` answer, with "Terminate all sessions of heidi". */
  let adminHeidi: MessageBody;

  beforeAll(async () => {
    bot = await startBotHarness({
      fleet: FLEET,
      endpoints: ENDPOINTS,
      region: REGION,
      access: ACCESS,
      terminate: true,
      audit: true,
    });
    adminList = await answerTo(bot, await bot.command('prod', { userId: ADMIN }));
    adminHeidi = await answerTo(bot, await bot.command('user heidi', { userId: ADMIN }));
  });
  afterEach(() => bot.emulator.faults.reset());
  afterAll(() => bot.stop());

  /** The requests made since `from` to TerminateClientVpnConnections. */
  const terminateCalls = (from: number) =>
    bot.emulator.requests.slice(from).filter((r) => r.action === TERMINATE);

  describe('who sees and may use the buttons', () => {
    it('shows a non-admin no Terminate button, on a list or a user lookup', async () => {
      const list = await answerTo(bot, await bot.command('prod', { userId: VIEWER }));
      expect(blockText(list)).toContain(`\`${first(ALICE)}\``);
      expect(buttonsWith(list, ACTION_TERMINATE)).toEqual([]);
      const heidi = await answerTo(bot, await bot.command('user heidi', { userId: VIEWER }));
      expect(blockText(heidi)).toContain('7 active');
      expect(buttonsOf(heidi).filter((b) => b.actionId.startsWith('vpn_conns_terminate'))).toEqual(
        [],
      );
      expect(allText(heidi)).not.toContain('Terminate');
    });

    it('gives an admin a danger-styled Terminate button, with a confirm dialog, on each active connection only', () => {
      const buttons = buttonsWith(adminList, ACTION_TERMINATE);
      const active = FLEET.connections.filter(
        (c) => c.endpointId === PROD && c.status === 'active',
      );
      expect(buttons).toHaveLength(active.length);
      expect(() => buttonForConnection(adminList, ACTION_TERMINATE, first(GRACE))).toThrow();

      const alice = buttonForConnection(adminList, ACTION_TERMINATE, first(ALICE));
      expect(alice.style).toBe('danger');
      expect(alice.text).toBe('Terminate');
      expect(alice.confirm).toMatchObject({
        title: { type: 'plain_text', text: 'Terminate this session?' },
        confirm: { type: 'plain_text', text: 'Terminate' },
        deny: { type: 'plain_text', text: 'Cancel' },
        style: 'danger',
      });
      const confirmText = allText({ blocks: [alice.confirm] });
      expect(confirmText).toContain('*alice*');
      expect(confirmText).toContain('*prod*');
      expect(confirmText).toContain(first(ALICE));
    });

    it("refuses a non-admin's forged Terminate payloads — copied or made up — without a single AWS request", async () => {
      const copied = buttonForConnection(adminList, ACTION_TERMINATE, first(ALICE)).value;
      const copiedAll = onlyButton(adminHeidi, ACTION_TERMINATE_USER).value;
      const forged: [string, string, string][] = [
        [ACTION_TERMINATE, copied, 'terminate'],
        [ACTION_TERMINATE, 'eyJrIjoiY29ubiJ9.made-up-signature', 'terminate'],
        [ACTION_TERMINATE_USER, copiedAll, 'terminate-user'],
      ];
      for (const [actionId, value, action] of forged) {
        const calls = bot.emulator.requests.length;
        const mark = await auditMark(bot);
        const sent = await bot.click(actionId, value, { userId: VIEWER });
        const reply = await expectRefusedClick(bot, sent, calls);
        expect(reply.text).toBe(ADMIN_ONLY_MESSAGE);
        expect(await onlyAuditSince(bot, mark)).toMatchObject({
          teamId: HARNESS_TEAM_ID,
          userId: VIEWER,
          channelId: HARNESS_CHANNEL_ID,
          action,
          outcome: 'denied',
          requestIds: [],
        });
      }
      expect(statusesOf(bot, [first(ALICE), ...idsOf(HEIDI)])).toEqual(Array(8).fill('active'));
    });

    it('refuses a Terminate click from someone not allowed to use the bot at all', async () => {
      const value = buttonForConnection(adminList, ACTION_TERMINATE, first(ALICE)).value;
      const calls = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(ACTION_TERMINATE, value, { userId: STRANGER });
      expect((await expectRefusedClick(bot, sent, calls)).text).toBe(ACCESS_DENIED_MESSAGE);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        userId: STRANGER,
        action: 'terminate',
        outcome: 'denied',
      });
    });

    it("refuses an admin's click on a value with one character changed, without an AWS request", async () => {
      const value = buttonForConnection(adminList, ACTION_TERMINATE, first(ALICE)).value;
      const dot = value.indexOf('.');
      // One character of the signed data, then one of the signature.
      for (const tampered of [flipCharAt(value, 10), flipCharAt(value, dot + 5)]) {
        expect(tampered).not.toBe(value);
        const calls = bot.emulator.requests.length;
        const mark = await auditMark(bot);
        const sent = await bot.click(ACTION_TERMINATE, tampered, { userId: ADMIN });
        const reply = await expectRefusedClick(bot, sent, calls);
        expect(allText(reply)).toContain(INVALID_BUTTON_MESSAGE);
        expect(await onlyAuditSince(bot, mark)).toMatchObject({
          userId: ADMIN,
          action: 'terminate',
          detail: 'invalid button value',
          outcome: 'denied',
        });
      }
      expect(statusesOf(bot, [first(ALICE)])).toEqual(['active']);
    });
  });

  describe('terminating one connection', () => {
    it('runs a DryRun, then the terminate, reports active → terminating and refreshes the list', async () => {
      const alice = first(ALICE);
      const button = buttonForConnection(adminList, ACTION_TERMINATE, alice);
      const from = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(ACTION_TERMINATE, button.value, { userId: ADMIN });

      const result = await answerTo(bot, sent, 1);
      expect(result).toMatchObject({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'Terminated 1 session of alice.',
      });
      expect(blockText(result)).toContain('Terminated 1 session of *alice*');
      expect(blockText(result)).toContain(`\`${alice}\` on prod: active → *terminating*`);

      const refreshed = await answerTo(bot, sent, 2);
      expect(refreshed.replace_original).toBe(true);
      expect(entryOf(refreshed, alice)).toContain(':hourglass_flowing_sand:');
      expect(blockText(refreshed)).toContain('1 terminating');
      expect(() => buttonForConnection(refreshed, ACTION_TERMINATE, alice)).toThrow();
      expect(buttonsWith(refreshed, ACTION_TERMINATE).length).toBe(
        buttonsWith(adminList, ACTION_TERMINATE).length - 1,
      );

      const calls = terminateCalls(from);
      expect(calls.map((r) => [isDryRun(r), r.params.ConnectionId, r.status])).toEqual([
        [true, alice, 412],
        [false, alice, 200],
      ]);
      expect(statusesOf(bot, [alice])).toEqual(['terminating']);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        teamId: HARNESS_TEAM_ID,
        userId: ADMIN,
        channelId: HARNESS_CHANNEL_ID,
        action: 'terminate',
        detail: `${alice} (alice)`,
        endpoints: ['prod'],
        outcome: 'ok',
        requestIds: [calls[1]?.requestId],
      });

      // A second later AWS reports it terminated.
      bot.clock.advance(1500);
      const later = await answerTo(bot, await bot.command('prod', { userId: ADMIN }));
      expect(entryOf(later, alice)).toContain(':white_circle:');
      expect(statusesOf(bot, [alice])).toEqual(['terminated']);
    });

    it('says nothing was terminated when AWS refuses the terminate itself (a stale button)', async () => {
      const alice = first(ALICE);
      // An hour after it ended, AWS no longer knows the connection.
      bot.clock.advance(61 * 60_000);
      const from = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(
        ACTION_TERMINATE,
        buttonForConnection(adminList, ACTION_TERMINATE, alice).value,
        { userId: ADMIN },
      );
      const reply = await answerTo(bot, sent);
      expect(reply.text).toBe('Nothing was terminated for alice.');
      expect(blockText(reply)).toContain(':warning: Nothing was terminated for *alice*.');
      expect(blockText(reply)).toContain(`The connection ID '${alice}' does not exist`);
      expect(blockText(reply)).not.toContain('had no active session');

      const calls = terminateCalls(from);
      expect(calls.map((r) => [isDryRun(r), r.status, r.code])).toEqual([
        [true, 412, 'DryRunOperation'],
        [false, 400, 'InvalidClientVpnConnection.IdNotFound'],
      ]);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        action: 'terminate',
        detail: `${alice} (alice)`,
        outcome: 'failed',
        requestIds: [calls[1]?.requestId],
      });
    });

    it('keeps the Terminate buttons on a list whose query is too long to carry for the refresh', async () => {
      const padding = Array.from(
        { length: 56 },
        (_, i) => `user=nobody-${String(i).padStart(12, '0')}`,
      );
      const text = ['prod', 'user=frank', ...padding].join(' ');
      expect(text.length).toBeGreaterThan(1300);
      expect(text.length).toBeLessThan(1500);
      const list = await answerTo(bot, await bot.command(text, { userId: ADMIN }));
      expect(blockText(list)).toContain(`\`${first(FRANK)}\``);
      expect(buttonForConnection(list, ACTION_TERMINATE, first(FRANK)).style).toBe('danger');
    });

    it('names ec2:TerminateClientVpnConnections when the DryRun is denied, and terminates nothing', async () => {
      const frank = first(FRANK);
      bot.emulator.faults.deny(TERMINATE);
      const from = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(
        ACTION_TERMINATE,
        buttonForConnection(adminList, ACTION_TERMINATE, frank).value,
        { userId: ADMIN },
      );
      const reply = await answerTo(bot, sent);
      expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(allText(reply)).toContain('AWS denied ec2:TerminateClientVpnConnections');
      expect(allText(reply)).toContain(PROD);

      const calls = terminateCalls(from);
      expect(calls.map((r) => [isDryRun(r), r.status])).toEqual([[true, 403]]);
      expect(statusesOf(bot, [frank])).toEqual(['active']);
      // The list is left alone: the reply is the only post.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(bot.answers(sent.responseUrlId)).toHaveLength(1);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        userId: ADMIN,
        action: 'terminate',
        detail: `${frank} (frank)`,
        endpoints: ['prod'],
        outcome: 'refused by AWS (dry run)',
        requestIds: [calls[0]?.requestId],
      });
    });

    it('acts as the admin on an endpoint with a role: CloudTrail sees vpn-conns-<Slack user ID>', async () => {
      const dave = first(DAVE);
      const list = await answerTo(bot, await bot.command('partner', { userId: ADMIN }));
      const from = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(
        ACTION_TERMINATE,
        buttonForConnection(list, ACTION_TERMINATE, dave).value,
        { userId: ADMIN },
      );
      expect(blockText(await answerTo(bot, sent))).toContain('active → *terminating*');

      const calls = terminateCalls(from);
      expect(calls.map((r) => [isDryRun(r), r.params.ConnectionId, r.principal])).toEqual([
        [true, dave, `assumed-role/${ROLE_NAME}/vpn-conns-${ADMIN}`],
        [false, dave, `assumed-role/${ROLE_NAME}/vpn-conns-${ADMIN}`],
      ]);
      const assumed = bot.emulator.requests
        .slice(from)
        .filter((r) => r.action === 'AssumeRole')
        .map((r) => [r.params.RoleArn, r.params.RoleSessionName]);
      expect(assumed.length).toBeGreaterThan(0);
      expect(new Set(assumed.map((a) => a.join(' ')))).toEqual(
        new Set([`${ROLE_ARN} vpn-conns-${ADMIN}`]),
      );
      // Reads keep the bot's own session name.
      const reads = bot.emulator.requests.filter(
        (r) =>
          r.action === 'DescribeClientVpnConnections' && r.params.ClientVpnEndpointId === PARTNER,
      );
      expect(reads.length).toBeGreaterThan(0);
      expect(new Set(reads.map((r) => r.principal))).toEqual(
        new Set([`assumed-role/${ROLE_NAME}/vpn-conns`]),
      );
      expect(statusesOf(bot, [dave])).toEqual(['terminating']);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        action: 'terminate',
        endpoints: ['partner'],
        outcome: 'ok',
      });
    });
  });

  describe('terminating every session of a person', () => {
    it('offers "Terminate all sessions of NAME" to an admin, with a confirm dialog', () => {
      const all = onlyButton(adminHeidi, ACTION_TERMINATE_USER);
      expect(all.text).toBe('Terminate all sessions of heidi');
      expect(all.style).toBe('danger');
      expect(all.confirm).toMatchObject({
        style: 'danger',
        title: { text: 'Terminate all sessions?' },
      });
      expect(allText({ blocks: [all.confirm] })).toContain('*heidi* from 7 active sessions');
    });

    it('terminates 7 sessions on an AD endpoint one by one (the user-name form stops at 5)', async () => {
      const from = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(
        ACTION_TERMINATE_USER,
        onlyButton(adminHeidi, ACTION_TERMINATE_USER).value,
        { userId: ADMIN },
      );
      const result = await answerTo(bot, sent, 1);
      expect(blockText(result)).toContain('Terminated 7 sessions of *heidi*');
      const refreshed = await answerTo(bot, sent, 2);
      expect(refreshed.replace_original).toBe(true);
      expect(blockText(refreshed)).toContain('0 active');
      expect(blockText(refreshed)).toContain('7 terminating');

      const calls = terminateCalls(from);
      const [dryRun, ...rest] = calls;
      expect(dryRun && isDryRun(dryRun)).toBe(true);
      expect(rest.every((r) => !isDryRun(r) && r.status === 200)).toBe(true);
      expect(calls.filter((r) => r.params.Username !== undefined)).toEqual([]);
      expect(rest.map((r) => r.params.ConnectionId).sort()).toEqual(idsOf(HEIDI).sort());
      expect(statusesOf(bot, idsOf(HEIDI))).toEqual(Array(7).fill('terminating'));
      const entry = await onlyAuditSince(bot, mark);
      expect(entry).toMatchObject({
        userId: ADMIN,
        action: 'terminate-user',
        detail: 'all sessions of heidi',
        endpoints: ['prod'],
        outcome: 'ok',
      });
      expect(entry.requestIds).toEqual(rest.map((r) => r.requestId));
    });

    it('terminates 3 sessions on an AD endpoint with one user-name call', async () => {
      const answer = await answerTo(bot, await bot.command('user bob', { userId: ADMIN }));
      const from = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(
        ACTION_TERMINATE_USER,
        onlyButton(answer, ACTION_TERMINATE_USER).value,
        { userId: ADMIN },
      );
      expect(blockText(await answerTo(bot, sent))).toContain('Terminated 3 sessions of *bob*');
      const calls = terminateCalls(from);
      expect(calls.map((r) => [isDryRun(r), r.params.Username, r.params.ConnectionId])).toEqual([
        [true, 'bob', undefined],
        [false, 'bob', undefined],
      ]);
      expect(statusesOf(bot, idsOf(BOB))).toEqual(Array(3).fill('terminating'));
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        detail: 'all sessions of bob',
        endpoints: ['prod'],
        outcome: 'ok',
        requestIds: [calls[1]?.requestId],
      });
    });

    it('terminates certificate sessions (matched by common name) by connection id', async () => {
      const answer = await answerTo(bot, await bot.command('user carol', { userId: ADMIN }));
      const from = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(
        ACTION_TERMINATE_USER,
        onlyButton(answer, ACTION_TERMINATE_USER).value,
        { userId: ADMIN },
      );
      expect(blockText(await answerTo(bot, sent))).toContain('Terminated 2 sessions of *carol*');
      const calls = terminateCalls(from);
      expect(calls.filter((r) => r.params.Username !== undefined)).toEqual([]);
      expect(calls.filter((r) => !isDryRun(r)).map((r) => r.params.ConnectionId)).toEqual(
        idsOf(CAROL),
      );
      expect(statusesOf(bot, idsOf(CAROL))).toEqual(['terminating', 'terminating']);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        endpoints: ['lab'],
        outcome: 'ok',
      });
    });

    it('terminates only on the endpoints the lookup showed', async () => {
      const answer = await answerTo(bot, await bot.command('user erin prod', { userId: ADMIN }));
      expect(blockText(answer)).toContain('2 active');
      const from = bot.emulator.requests.length;
      const mark = await auditMark(bot);
      const sent = await bot.click(
        ACTION_TERMINATE_USER,
        onlyButton(answer, ACTION_TERMINATE_USER).value,
        { userId: ADMIN },
      );
      expect(blockText(await answerTo(bot, sent))).toContain('Terminated 2 sessions of *erin*');
      expect(terminateCalls(from).every((r) => r.params.ClientVpnEndpointId === PROD)).toBe(true);
      expect(statusesOf(bot, idsOf(ERIN_PROD))).toEqual(['terminating', 'terminating']);
      expect(statusesOf(bot, idsOf(ERIN_LAB))).toEqual(['active']);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({ endpoints: ['prod'] });
    });
  });

  describe('/vpn-conns audit', () => {
    it('is refused to a non-admin, and the refusal is itself audited', async () => {
      const mark = await auditMark(bot);
      const reply = await answerTo(bot, await bot.command('audit 5', { userId: VIEWER }));
      expect(reply.response_type).toBe('ephemeral');
      expect(reply.text).toBe(ADMIN_ONLY_MESSAGE);
      expect(await onlyAuditSince(bot, mark)).toMatchObject({
        userId: VIEWER,
        action: 'command',
        detail: 'audit 5',
        outcome: 'denied',
      });
    });

    it('lists the latest entries for an admin, newest first, with mentions and escaped detail', async () => {
      const mark = await auditMark(bot);
      await answerTo(bot, await bot.command('user <!channel>&co', { userId: VIEWER }));
      expect(await onlyAuditSince(bot, mark)).toMatchObject({ detail: 'user <!channel>&co' });
      await answerTo(bot, await bot.command('audit 5', { userId: VIEWER }));

      const before = await auditMark(bot);
      const shown = await answerTo(bot, await bot.command('audit 5', { userId: ADMIN }));
      const text = blockText(shown);
      expect(text).toContain('vpn-conns audit trail');
      expect(text).toContain('Latest 5 of at most 5 asked.');
      const lines = text.split('\n').filter((l) => l.includes('<!date^'));
      expect(lines).toHaveLength(5);
      // Newest first: the refused audit, then the lookup with a hostile name.
      expect(lines[0]).toContain(`<@${VIEWER}> in <#${HARNESS_CHANNEL_ID}>`);
      expect(lines[0]).toContain('*command* `audit 5`');
      expect(lines[0]).toContain(':no_entry:');
      expect(lines[0]).toContain('denied');
      expect(lines[1]).toContain('`user &lt;!channel&gt;&amp;co`');
      expect(JSON.stringify(shown)).not.toContain('<!channel>');
      // Asking for the trail is audited too, after the answer.
      expect(await onlyAuditSince(bot, before)).toMatchObject({
        userId: ADMIN,
        detail: 'audit 5',
        outcome: 'ok',
      });
    });
  });
});
