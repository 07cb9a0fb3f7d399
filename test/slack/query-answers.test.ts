/**
 * `/vpn-conns` through the real Bolt app and the real SDK against the EC2 emulator: `user=NAME`
 * on certificate endpoints, where an unknown endpoint came from, and the AWS request ids the
 * audit trail records for a command.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedConnection, EmulatedEndpoint } from '../../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId } from '../../src/sandbox/vpn-data.js';
import { auditMark, onlyAuditSince } from '../support/audit-check.js';
import { type BotHarness, type SentRequest, startBotHarness } from '../support/bot-harness.js';
import { allText, entryOf, type MessageBody } from '../support/slack-message.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const AD = endpointId(20);
const CERT = endpointId(21);

function conn(n: number, endpoint: string, overrides: Partial<EmulatedConnection> = {}) {
  return {
    endpointId: endpoint,
    connectionId: connectionId(n),
    username: `user${n}`,
    commonName: `user${n}`,
    clientIp: `10.0.0.${n}`,
    establishedAt: new Date(NOW.getTime() - 3_600_000),
    endedAt: null,
    status: 'active',
    ingressBytes: 1000,
    egressBytes: 500,
    ingressPackets: 1,
    egressPackets: 1,
    ...overrides,
  } satisfies EmulatedConnection;
}

const endpoints: EmulatedEndpoint[] = [
  { id: AD, name: 'prod', authenticationType: 'directory-service-authentication' },
  {
    id: CERT,
    name: 'lab',
    authenticationType: 'certificate-authentication',
    sessionTimeoutHours: 8,
  },
];
const connections: EmulatedConnection[] = [
  conn(1, AD, { username: 'bob', commonName: 'bob' }),
  conn(2, CERT, { username: undefined, commonName: 'bob.desktop.corp.example' }),
  conn(3, CERT, { username: undefined, commonName: 'carol.laptop' }),
  // 7½ hours into lab's 8-hour session limit.
  conn(4, CERT, {
    username: undefined,
    commonName: 'dave.laptop',
    establishedAt: new Date(NOW.getTime() - 7.5 * 3_600_000),
  }),
];

let bot: BotHarness;

beforeAll(async () => {
  bot = await startBotHarness({
    fleet: { endpoints, connections },
    endpoints: `prod=${AD},lab=${CERT}`,
    audit: true,
  });
});
afterAll(() => bot.stop());
afterEach(() => {
  bot.emulator.requests.length = 0;
});

async function answerTo(sent: SentRequest): Promise<MessageBody> {
  return (await bot.waitForAnswer(sent.responseUrlId)).body;
}

describe('user=NAME', () => {
  it('matches certificate users by common name, like `user NAME`, and says so', async () => {
    const body = await answerTo(await bot.command('all user=bob'));
    expect(entryOf(body, connectionId(2))).toContain('(matched certificate name)');
    expect(entryOf(body, connectionId(1))).not.toContain('matched certificate name');
    expect(() => entryOf(body, connectionId(3))).toThrow();
    // AWS still filters by user name where it can: on the AD endpoint.
    const ad = bot.emulator.requests.find(
      (r) => r.action === 'DescribeClientVpnConnections' && r.params.ClientVpnEndpointId === AD,
    );
    expect(ad?.params['Filter.1.Value.1']).toBe('bob');
  });
});

describe('session time limits', () => {
  it('shows how long until each endpoint’s limit ends a session, and marks the last hour', async () => {
    const body = await answerTo(await bot.command('all'));
    // prod keeps the AWS default of 24 hours; the sessions started an hour ago.
    expect(entryOf(body, connectionId(1))).toMatch(/ · ends in 2[23]h \d\dm · /);
    expect(entryOf(body, connectionId(1))).not.toContain(':hourglass:');
    expect(entryOf(body, connectionId(3))).toMatch(/ · ends in [67]h \d\dm · /);
    expect(entryOf(body, connectionId(4))).toMatch(/ · ends in (30|29|28)m · /);
    expect(entryOf(body, connectionId(4))).toContain(':hourglass:');
  });
});

describe('an endpoint AWS does not know', () => {
  it('says the id was typed, not that it is in VPN_ENDPOINTS', async () => {
    const gone = endpointId(99);
    const text = allText(await answerTo(await bot.command(gone)));
    expect(text).toContain(`Client VPN endpoint ${gone} was not found`);
    expect(text).toContain('typed in the command');
    expect(text).not.toContain('VPN_ENDPOINTS');
  });
});

describe('the audit trail', () => {
  it("records the AWS request id of every call a command's answer came from", async () => {
    const mark = await auditMark(bot);
    await answerTo(await bot.command('all'));
    const entry = await onlyAuditSince(bot, mark);
    const ids = bot.emulator.requests
      .filter((r) => r.action === 'DescribeClientVpnConnections')
      .map((r) => r.requestId);
    expect(ids).toHaveLength(2);
    expect([...entry.requestIds].sort()).toEqual([...ids].sort());
  });

  it('records the request id of a failed call beside those that worked', async () => {
    const mark = await auditMark(bot);
    await answerTo(await bot.command(`prod ${endpointId(98)}`));
    const entry = await onlyAuditSince(bot, mark);
    expect(entry.outcome).toBe('partial');
    const ids = bot.emulator.requests
      .filter((r) => r.action === 'DescribeClientVpnConnections')
      .map((r) => r.requestId);
    expect(ids).toHaveLength(2);
    expect([...entry.requestIds].sort()).toEqual([...ids].sort());
  });
});
