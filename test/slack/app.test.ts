/**
 * `/vpn-conns` end to end, in HTTP mode: signed requests to the real Bolt app, the real AWS SDK
 * against the EC2 emulator, answers read back from the Slack stand-in's response_urls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  Ec2Emulator,
  EmulatedConnection,
  EmulatedConnectionStatus,
  EmulatedEndpoint,
} from '../../src/sandbox/ec2-emulator.js';
import { connectionId, endpointId, type Fleet, generateFleet } from '../../src/sandbox/vpn-data.js';
import {
  ACTION_EXPORT_CSV,
  ACTION_PAGE_NEXT,
  ACTION_PAGE_PREV,
  INVALID_BUTTON_MESSAGE,
  PAGE_SIZE,
} from '../../src/slack/blocks/ids.js';
import { GENERIC_ERROR_MESSAGE } from '../../src/slack/blocks/messages.js';
import { escapeMrkdwn } from '../../src/slack/blocks/mrkdwn.js';
import { RECORD_COLUMNS } from '../../src/vpn/records.js';
import {
  type BotHarness,
  HARNESS_USER_ID,
  type SentRequest,
  startBotHarness,
} from '../support/bot-harness.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const DESCRIBE_CONNECTIONS = 'DescribeClientVpnConnections';

type Body = Record<string, unknown>;

/** Every text object (`mrkdwn` and `plain_text`) in a message, with its type. */
function textObjects(value: unknown, out: { type: string; text: string }[] = []) {
  if (Array.isArray(value)) {
    for (const item of value) textObjects(item, out);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Body;
    if (
      (record.type === 'mrkdwn' || record.type === 'plain_text') &&
      typeof record.text === 'string'
    ) {
      out.push({ type: record.type, text: record.text });
    }
    for (const child of Object.values(record)) {
      if (typeof child === 'object') textObjects(child, out);
    }
  }
  return out;
}

/** The top-level text and every block text of a message, one per line. */
function allText(body: Body): string {
  const top = typeof body.text === 'string' ? [body.text] : [];
  return [...top, ...textObjects(body.blocks).map((t) => t.text)].join('\n');
}

/** The texts Slack reads as mrkdwn: the top-level text and every mrkdwn text object. */
function mrkdwnTexts(body: Body): string[] {
  const top = typeof body.text === 'string' ? [body.text] : [];
  return [
    ...top,
    ...textObjects(body.blocks)
      .filter((t) => t.type === 'mrkdwn')
      .map((t) => t.text),
  ];
}

interface Button {
  action_id: string;
  value: string;
}

function buttons(body: Body): Button[] {
  const blocks = Array.isArray(body.blocks) ? (body.blocks as Body[]) : [];
  return blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (Array.isArray(b.elements) ? (b.elements as Body[]) : []))
    .map((e) => ({ action_id: String(e.action_id), value: String(e.value) }));
}

function button(body: Body, actionId: string): Button | undefined {
  return buttons(body).find((b) => b.action_id === actionId);
}

/** The connection ids listed on a page, in order. */
function listedIds(body: Body): string[] {
  return [...allText(body).matchAll(/`(cvpn-connection-[0-9a-f]+)`/g)].map((m) => m[1] ?? '');
}

function connectionCalls(emulator: Ec2Emulator) {
  return emulator.requests.filter((r) => r.action === DESCRIBE_CONNECTIONS);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function statusCount(fleet: Fleet, status: EmulatedConnectionStatus): number {
  return fleet.connections.filter((c) => c.status === status).length;
}

/** No line of a JavaScript stack trace anywhere in the message. */
function expectNoStackTrace(body: Body): void {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
  expect(text).not.toMatch(/node_modules|file:\/\//);
}

function conn(n: number, endpoint: string, overrides: Partial<EmulatedConnection> = {}) {
  return {
    endpointId: endpoint,
    connectionId: connectionId(n),
    username: `user${n}`,
    commonName: `user${n}`,
    clientIp: `10.0.0.${n % 250}`,
    establishedAt: new Date(NOW.getTime() - (n + 1) * 60_000),
    endedAt: null,
    status: 'active',
    ingressBytes: 1000 * n,
    egressBytes: 500 * n,
    ingressPackets: n + 1,
    egressPackets: n + 1,
    ...overrides,
  } satisfies EmulatedConnection;
}

async function answerTo(bot: BotHarness, sent: SentRequest, timeoutMs?: number): Promise<Body> {
  const post = await bot.waitForAnswer(sent.responseUrlId, {
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  return post.body;
}

describe('request verification and health', () => {
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBotHarness({
      fleet: generateFleet({ endpoints: 1, connections: 5, now: NOW }),
    });
  });
  afterAll(() => bot.stop());

  it('answers GET and HEAD /healthz with 200', async () => {
    const get = await fetch(`${bot.origin}/healthz`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('ok');
    const head = await fetch(`${bot.origin}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('refuses a bad signature with 401 and asks EC2 nothing', async () => {
    const sent = await bot.command('', { signature: `v0=${'0'.repeat(64)}` });
    expect(sent.status).toBe(401);
    const click = await bot.click(ACTION_PAGE_NEXT, '{"q":"list","p":1}', {
      signature: 'v0=forged',
    });
    expect(click.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bot.emulator.requests).toEqual([]);
    expect(bot.slack.responseUrlPosts).toEqual([]);
  });

  it('refuses a request signed 6 minutes ago with 401 and asks EC2 nothing', async () => {
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const sent = await bot.command('', { timestamp: sixMinutesAgo });
    expect(sent.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bot.emulator.requests).toEqual([]);
    expect(bot.slack.responseUrlPosts).toEqual([]);
  });
});

describe('acknowledging before AWS answers', () => {
  it('acks in well under 3 s while EC2 takes 5 s, then answers through the response_url', async () => {
    const fleet = generateFleet({ endpoints: 1, connections: 30, now: NOW });
    const bot = await startBotHarness({ fleet, requestTimeoutMs: 8000, maxAttempts: 1 });
    try {
      bot.emulator.faults.latency(5000);
      const sentAt = Date.now();
      const sent = await bot.command('prod');
      expect(sent.status).toBe(200);
      expect(sent.elapsedMs).toBeLessThan(1500);
      const ack = sent.json();
      expect(ack?.response_type).toBe('ephemeral');
      expect(String(ack?.text)).toMatch(/Looking up connections on prod/);
      expect(bot.answers(sent.responseUrlId)).toEqual([]);

      const post = await bot.waitForAnswer(sent.responseUrlId, { timeoutMs: 10_000 });
      expect(post.at.getTime() - sentAt).toBeGreaterThanOrEqual(4900);
      expect(post.body.response_type).toBe('ephemeral');
      expect(String(post.body.text)).toContain('30 connections');
      expect(connectionCalls(bot.emulator)).toHaveLength(1);
    } finally {
      await bot.stop();
    }
  });
});

describe('a large list: totals, paging and CSV export', () => {
  const fleet = generateFleet({ endpoints: 1, connections: 2345, now: NOW });
  let bot: BotHarness;
  let first: Body;

  beforeAll(async () => {
    // A minute's cache, as a burst of clicks would see in production.
    bot = await startBotHarness({ fleet, cacheTtlMs: 60_000 });
    first = await answerTo(bot, await bot.command(''));
  });
  afterAll(() => bot.stop());

  it('shows exact totals per status', () => {
    const active = statusCount(fleet, 'active');
    const terminated = statusCount(fleet, 'terminated');
    const terminating = statusCount(fleet, 'terminating');
    const failed = statusCount(fleet, 'failed-to-terminate');
    expect(active + terminated + terminating + failed).toBe(2345);
    const summary =
      `*2,345 connections* · ${count(active)} active · ${count(terminated)} terminated in the last hour` +
      ` · ${count(terminating)} terminating · ${count(failed)} failed to terminate`;
    expect(allText(first)).toContain(summary);
    expect(String(first.text)).toContain('2,345 connections');
    expect(first.response_type).toBe('ephemeral');
    expect(allText(first)).toContain('page 1 of 118');
    expect(listedIds(first)).toHaveLength(PAGE_SIZE);
    expect(button(first, ACTION_PAGE_PREV)).toBeUndefined();
    // 2,345 connections at 1,000 a page.
    expect(connectionCalls(bot.emulator)).toHaveLength(3);
  });

  it('pages with Next, replacing the message each time, to the last page', async () => {
    const seen = new Set(listedIds(first));
    let message = first;
    for (let page = 2; page <= 4; page++) {
      const next = button(message, ACTION_PAGE_NEXT);
      expect(next, `a Next button on page ${page - 1}`).toBeDefined();
      const click = await bot.click(ACTION_PAGE_NEXT, next?.value ?? '');
      expect(click.status).toBe(200);
      const post = await bot.waitForAnswer(click.responseUrlId);
      expect(post.body.replace_original).toBe(true);
      message = post.body;
      expect(allText(message)).toContain(`page ${page} of 118`);
      const ids = listedIds(message);
      expect(ids).toHaveLength(PAGE_SIZE);
      for (const id of ids) {
        expect(seen.has(id), `${id} shown on two pages`).toBe(false);
        seen.add(id);
      }
    }

    // Jump to the last page with a button value built like the previous message's.
    const next = JSON.parse(button(message, ACTION_PAGE_NEXT)?.value ?? '{}') as {
      q: string;
      p: number;
    };
    const jump = await bot.click(ACTION_PAGE_NEXT, JSON.stringify({ q: next.q, p: 117 }));
    const last = (await bot.waitForAnswer(jump.responseUrlId)).body;
    expect(last.replace_original).toBe(true);
    expect(allText(last)).toContain('page 118 of 118');
    expect(button(last, ACTION_PAGE_NEXT)).toBeUndefined();
    expect(button(last, ACTION_PAGE_PREV)).toBeDefined();
    expect(button(last, ACTION_EXPORT_CSV)).toBeDefined();
    // Sorted by status (terminated last), then newest first: the 5 oldest terminated sessions.
    const expected = fleet.connections
      .filter((c) => c.status === 'terminated')
      .sort(
        (a, b) =>
          b.establishedAt.getTime() - a.establishedAt.getTime() ||
          (a.connectionId < b.connectionId ? -1 : 1),
      )
      .slice(-5)
      .map((c) => c.connectionId);
    expect(listedIds(last)).toEqual(expected);

    // Previous from the last page goes back one.
    const prev = await bot.click(ACTION_PAGE_PREV, button(last, ACTION_PAGE_PREV)?.value ?? '');
    const before = (await bot.waitForAnswer(prev.responseUrlId)).body;
    expect(allText(before)).toContain('page 117 of 118');
    expect(listedIds(before)).toHaveLength(PAGE_SIZE);

    // Every click was served from the cached read.
    expect(connectionCalls(bot.emulator)).toHaveLength(3);
  });

  it('exports every connection as a CSV in a direct message to the clicker', async () => {
    const exportButton = button(first, ACTION_EXPORT_CSV);
    expect(exportButton).toBeDefined();
    const click = await bot.click(ACTION_EXPORT_CSV, exportButton?.value ?? '', {
      userId: 'U0EXPORTER',
    });
    expect(click.status).toBe(200);
    const file = await bot.slack.waitFor(() => bot.slack.files[0]);
    const calls = bot.slack.calls.map((c) => c.method);
    expect(calls).toEqual(
      expect.arrayContaining([
        'conversations.open',
        'files.getUploadURLExternal',
        'files.completeUploadExternal',
      ]),
    );
    const open = bot.slack.calls.find((c) => c.method === 'conversations.open');
    expect(open?.body.users).toBe('U0EXPORTER');
    expect(file.channelId).toBe(bot.slack.directMessageOf('U0EXPORTER'));
    expect(file.channelId).toMatch(/^D/);
    expect(file.filename).toMatch(/^vpn-conns-prod-\d{8}-\d{4}\.csv$/);
    expect(file.initialComment).toContain('2,345 connections');

    const lines = file.content.trimEnd().split('\n');
    expect(lines[0]).toBe(RECORD_COLUMNS.join(','));
    expect(lines).toHaveLength(2346);
    const exported = new Set(lines.slice(1).map((line) => line.split(',')[1]));
    expect(exported).toEqual(new Set(fleet.connections.map((c) => c.connectionId)));

    const note = await bot.waitForAnswer(click.responseUrlId);
    expect(note.body.replace_original).toBe(false);
    expect(note.body.response_type).toBe('ephemeral');
    expect(String(note.body.text)).toContain('2,345 connections');
  });
});

describe('concurrent identical commands', () => {
  it('share one fetch: ceil(N/1000) DescribeClientVpnConnections calls, not 10x', async () => {
    const fleet = generateFleet({ endpoints: 1, connections: 2345, now: NOW });
    // No reuse after a read ends: only reads in flight together may be shared.
    const bot = await startBotHarness({ fleet, cacheTtlMs: 0 });
    try {
      bot.emulator.faults.latency(300);
      const sent = await Promise.all(Array.from({ length: 10 }, () => bot.command('')));
      for (const s of sent) expect(s.status).toBe(200);
      const bodies = await Promise.all(
        sent.map((s) => bot.waitForAnswer(s.responseUrlId, { timeoutMs: 10_000 })),
      );
      for (const { body } of bodies) expect(String(body.text)).toContain('2,345 connections');
      expect(connectionCalls(bot.emulator)).toHaveLength(Math.ceil(2345 / 1000));

      // Once that read is over, the next command asks AWS again.
      await answerTo(bot, await bot.command(''));
      expect(connectionCalls(bot.emulator)).toHaveLength(2 * Math.ceil(2345 / 1000));
    } finally {
      await bot.stop();
    }
  });
});

describe('escaping what AWS and people send', () => {
  // The first AD connections of a generated fleet carry the tricky user names, in order.
  const fleet = generateFleet({ endpoints: 1, connections: 20, now: NOW });
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBotHarness({ fleet });
  });
  afterAll(() => bot.stop());

  it('never lets a user name mention the channel or smuggle a link', async () => {
    const names = fleet.connections.map((c) => c.username);
    expect(names).toContain('<!channel>');
    expect(names).toContain('<https://evil.example|click>');
    const body = await answerTo(bot, await bot.command(''));
    const texts = mrkdwnTexts(body).join('\n');
    expect(texts).toContain('&lt;!channel&gt;');
    expect(texts).toContain('&lt;https://evil.example|click&gt;');
    // The only `<!…>` tokens are our own date tokens; no raw link at all.
    expect(texts.match(/<!(?!date\^)/g)).toBeNull();
    expect(texts).not.toContain('<https://evil');
    expect(JSON.stringify(body)).not.toContain('<!channel>');
  });

  it('escapes a name typed in the command, in the ack and the answer', async () => {
    // Slack escapes <, > and & in command text.
    const sent = await bot.command('user &lt;!channel&gt;');
    expect(sent.status).toBe(200);
    const ack = sent.json() ?? {};
    expect(mrkdwnTexts(ack).join('\n')).toContain('&lt;!channel&gt;');
    expect(JSON.stringify(ack)).not.toContain('<!channel>');
    const body = await answerTo(bot, sent);
    expect(mrkdwnTexts(body).join('\n')).toContain('&lt;!channel&gt;');
    expect(
      mrkdwnTexts(body)
        .join('\n')
        .match(/<!(?!date\^)/g),
    ).toBeNull();
    const call = connectionCalls(bot.emulator).at(-1);
    expect(call?.params['Filter.1.Name']).toBe('username');
    expect(call?.params['Filter.1.Value.1']).toBe('<!channel>');
  });
});

describe('user lookups across an AD and a certificate endpoint', () => {
  const AD = endpointId(10);
  const CERT = endpointId(11);
  const endpoints: EmulatedEndpoint[] = [
    { id: AD, name: 'prod', authenticationType: 'directory-service-authentication' },
    { id: CERT, name: 'lab', authenticationType: 'certificate-authentication' },
  ];
  const connections: EmulatedConnection[] = [
    conn(1, AD, { username: 'alice', commonName: 'alice' }),
    conn(2, AD, {
      username: 'alice',
      commonName: 'alice',
      status: 'terminated',
      endedAt: new Date(NOW.getTime() - 60_000),
    }),
    conn(3, AD, { username: 'bob', commonName: 'bob' }),
    conn(4, CERT, { username: undefined, commonName: 'alice.laptop-7.corp.example' }),
    conn(5, CERT, { username: undefined, commonName: 'bob.desktop.corp.example' }),
    conn(6, CERT, { username: undefined, commonName: 'alicea.laptop.corp.example' }),
  ];
  const aliceIds = [connectionId(1), connectionId(2), connectionId(4)];
  let bot: BotHarness;

  beforeAll(async () => {
    bot = await startBotHarness({
      fleet: { endpoints, connections },
      endpoints: `prod=${AD},lab=${CERT}`,
      userMap: { U0MAPPED: 'bob' },
    });
    bot.slack.users.set('U0ALICE', { id: 'U0ALICE', email: 'alice@corp.example' });
    bot.slack.users.set('U0BOB', { id: 'U0BOB', email: 'bob@corp.example' });
  });
  afterAll(() => bot.stop());
  afterEach(() => {
    bot.emulator.requests.length = 0;
  });

  /** The entry line of each listed connection, by connection id. */
  function entries(body: Body): Map<string, string> {
    const map = new Map<string, string>();
    for (const text of mrkdwnTexts(body)) {
      const id = /`(cvpn-connection-[0-9a-f]+)`/.exec(text)?.[1];
      if (id !== undefined && text.includes('\n')) map.set(id, text);
    }
    return map;
  }

  it('finds alice by user name on AD and by certificate name on the certificate endpoint', async () => {
    const body = await answerTo(bot, await bot.command('user alice'));
    expect(String(body.text)).toContain('alice on every endpoint');
    const listed = entries(body);
    expect([...listed.keys()].sort()).toEqual([...aliceIds].sort());
    expect(listed.get(connectionId(4))).toContain('(matched certificate name)');
    expect(listed.get(connectionId(1))).not.toContain('matched certificate name');
    expect(listed.get(connectionId(2))).not.toContain('matched certificate name');

    const calls = connectionCalls(bot.emulator);
    const ad = calls.find((c) => c.params.ClientVpnEndpointId === AD);
    const cert = calls.find((c) => c.params.ClientVpnEndpointId === CERT);
    expect(ad?.params['Filter.1.Name']).toBe('username');
    expect(ad?.params['Filter.1.Value.1']).toBe('alice');
    expect(cert).toBeDefined();
    expect(Object.keys(cert?.params ?? {}).filter((k) => k.startsWith('Filter.'))).toEqual([]);
  });

  it('resolves a mention through users.info and the email local part', async () => {
    const before = bot.slack.calls.length;
    const body = await answerTo(bot, await bot.command('user <@U0ALICE|al>'));
    expect(String(body.text)).toContain('alice on every endpoint');
    expect([...entries(body).keys()].sort()).toEqual([...aliceIds].sort());
    const info = bot.slack.calls.slice(before).find((c) => c.method === 'users.info');
    expect(info?.body.user).toBe('U0ALICE');
  });

  it('resolves `user me` from the signed user id, or from VPN_USER_MAP', async () => {
    const alice = await answerTo(bot, await bot.command('user me', { userId: 'U0ALICE' }));
    expect(String(alice.text)).toContain('alice on every endpoint');
    expect([...entries(alice).keys()].sort()).toEqual([...aliceIds].sort());

    const before = bot.slack.calls.length;
    const mapped = await answerTo(bot, await bot.command('user me', { userId: 'U0MAPPED' }));
    expect(String(mapped.text)).toContain('bob on every endpoint');
    expect([...entries(mapped).keys()].sort()).toEqual([connectionId(3), connectionId(5)].sort());
    expect(bot.slack.calls.slice(before).map((c) => c.method)).not.toContain('users.info');
  });

  it('tells a person whose Slack profile cannot be matched what to do', async () => {
    const body = await answerTo(bot, await bot.command('user me', { userId: 'U0NOBODY' }));
    expect(body.response_type).toBe('ephemeral');
    expect(allText(body)).toContain("can't find Slack user U0NOBODY");
    expect(connectionCalls(bot.emulator)).toEqual([]);
  });

  it('exports the sessions the message shows, whoever clicks (a public `user me`)', async () => {
    const body = await answerTo(bot, await bot.command('user me public', { userId: 'U0ALICE' }));
    expect(body.response_type).toBe('in_channel');
    const exportButton = button(body, ACTION_EXPORT_CSV);
    expect(exportButton).toBeDefined();
    const filesBefore = bot.slack.files.length;
    await bot.click(ACTION_EXPORT_CSV, exportButton?.value ?? '', { userId: 'U0BOB' });
    const file = await bot.slack.waitFor(() => bot.slack.files[filesBefore]);
    expect(file.channelId).toBe(bot.slack.directMessageOf('U0BOB'));
    const ids = file.content
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[1]);
    expect(ids.sort()).toEqual([...aliceIds].sort());
  });
});

describe('AWS errors reach the person who asked', () => {
  const fleet = generateFleet({ endpoints: 1, connections: 30, now: NOW });
  const PROD = fleet.endpoints[0]?.id ?? '';
  const GONE = endpointId(99);
  let bot: BotHarness;

  beforeAll(async () => {
    bot = await startBotHarness({ fleet, endpoints: `prod=${PROD},gone=${GONE}` });
  });
  afterAll(() => bot.stop());
  afterEach(() => {
    bot.emulator.faults.reset();
    bot.emulator.requests.length = 0;
  });

  async function errorAnswer(text: string): Promise<Body> {
    const sent = await bot.command(text);
    expect(sent.status).toBe(200);
    const body = await answerTo(bot, sent);
    expect(body.response_type).toBe('ephemeral');
    expectNoStackTrace(body);
    return body;
  }

  /** The message the gateway itself gives under a fault (armed again after). */
  async function gatewayMessage(alias: string, arm: () => void): Promise<string> {
    const endpoint = bot.endpoints?.find((e) => e.alias === alias);
    if (endpoint === undefined) throw new Error(`no endpoint ${alias}`);
    arm();
    try {
      for await (const _ of bot.gateway.listConnections(endpoint)) {
        // Only the failure matters.
      }
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      bot.emulator.faults.reset();
      bot.emulator.requests.length = 0;
      arm();
    }
    throw new Error('expected the gateway to fail');
  }

  it('endpoint not found', async () => {
    const expected = await gatewayMessage('gone', () => {});
    const body = await errorAnswer('gone');
    expect(allText(body)).toContain(escapeMrkdwn(expected));
    expect(allText(body)).toContain(`Client VPN endpoint ${GONE} was not found in us-east-1`);
    expect(allText(body)).toContain('InvalidClientVpnEndpointId.NotFound');
  });

  it('IAM denied', async () => {
    const expected = await gatewayMessage('prod', () =>
      bot.emulator.faults.deny(DESCRIBE_CONNECTIONS),
    );
    const body = await errorAnswer('prod');
    expect(allText(body)).toContain(escapeMrkdwn(expected));
    expect(allText(body)).toContain('AWS denied ec2:DescribeClientVpnConnections');
    expect(allText(body)).toContain('UnauthorizedOperation');
  });

  it('throttled after every retry', async () => {
    const expected = await gatewayMessage('prod', () => bot.emulator.faults.throttleNext(10));
    const body = await errorAnswer('prod');
    expect(allText(body)).toContain(escapeMrkdwn(expected));
    expect(allText(body)).toContain('AWS is throttling Client VPN calls in us-east-1');
    expect(allText(body)).toContain('still after 3 attempts');
  });

  it('bad credentials', async () => {
    const expected = await gatewayMessage('prod', () => bot.emulator.faults.authFailure(true));
    const body = await errorAnswer('prod');
    expect(allText(body)).toContain(escapeMrkdwn(expected));
    expect(allText(body)).toContain('The bot has no valid AWS credentials');
    expect(allText(body)).toContain('AuthFailure');
  });

  it('network failure', async () => {
    const expected = await gatewayMessage('prod', () => bot.emulator.faults.dropNext(10));
    const body = await errorAnswer('prod');
    expect(allText(body)).toContain(escapeMrkdwn(expected));
    expect(allText(body)).toContain(':electric_plug:');
    expect(allText(body)).toContain('AWS could not be reached or did not answer in time');
  });

  // Known gateway bug (src/aws/gateway.ts, not fixed here): the SDK names a reset connection
  // `TimeoutError` (code ECONNRESET), and toAwsError checks the name before the network codes,
  // so a dropped connection reads "did not answer … within 5 s". Flip to `it` once fixed.
  it('names a dropped connection as unreachable, not as a timeout', async () => {
    bot.emulator.faults.dropNext(10);
    const body = await errorAnswer('prod');
    expect(allText(body)).toContain('Could not reach AWS EC2 in us-east-1 (ECONNRESET)');
  });

  it('timeout', async () => {
    const slow = await startBotHarness({ fleet, requestTimeoutMs: 1000, maxAttempts: 1 });
    try {
      slow.emulator.faults.latency(2500);
      const sent = await slow.command('prod');
      expect(sent.elapsedMs).toBeLessThan(1500);
      const body = await answerTo(slow, sent);
      expect(body.response_type).toBe('ephemeral');
      expect(allText(body)).toContain(
        `AWS did not answer ec2:DescribeClientVpnConnections for ${PROD} within 1 s`,
      );
      expectNoStackTrace(body);
    } finally {
      await slow.stop();
    }
  });

  it('keeps an error ephemeral even when `public` was asked', async () => {
    bot.emulator.faults.deny(DESCRIBE_CONNECTIONS);
    const body = await errorAnswer('prod public');
    expect(allText(body)).toContain('AWS denied');
  });

  it('with several endpoints, shows the partial result and which endpoint failed and why', async () => {
    const sent = await bot.command('all public');
    const body = await answerTo(bot, sent);
    expect(body.response_type).toBe('in_channel');
    expect(String(body.text)).toContain('30 connections');
    expect(String(body.text)).toContain('1 endpoint could not be read');
    const text = allText(body);
    expect(text).toContain(`:warning: *gone*: Client VPN endpoint ${GONE} was not found`);
    expect(listedIds(body)).toHaveLength(PAGE_SIZE);
    expect(
      connectionCalls(bot.emulator)
        .map((c) => c.params.ClientVpnEndpointId)
        .sort(),
    ).toEqual([PROD, GONE].sort());
  });
});

describe('replies: public or ephemeral, help, endpoints, bad input', () => {
  const fleet = generateFleet({ endpoints: 2, connections: 30, now: NOW });
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBotHarness({ fleet });
  });
  afterAll(() => bot.stop());
  afterEach(() => {
    bot.emulator.faults.reset();
    bot.emulator.requests.length = 0;
  });

  it('is ephemeral by default', async () => {
    const sent = await bot.command('prod');
    expect(sent.json()?.response_type).toBe('ephemeral');
    const body = await answerTo(bot, sent);
    expect(body.response_type).toBe('ephemeral');
    expect(String(body.text)).toContain('prod: 15 connections');
  });

  it('posts in the channel with `public`', async () => {
    const sent = await bot.command('public prod');
    // The "working" note is for the asker only.
    expect(sent.json()?.response_type).toBe('ephemeral');
    const body = await answerTo(bot, sent);
    expect(body.response_type).toBe('in_channel');
    expect(String(body.text)).toContain('prod: 15 connections');
  });

  it('answers `help` at once with the usage, asking AWS nothing', async () => {
    const sent = await bot.command('help');
    const ack = sent.json() ?? {};
    expect(ack.response_type).toBe('ephemeral');
    expect(allText(ack)).toContain('/vpn-conns user NAME|@someone|me');
    expect(allText(ack)).toContain('/vpn-conns endpoints');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bot.answers(sent.responseUrlId)).toEqual([]);
    expect(bot.emulator.requests).toEqual([]);
  });

  it('lists the endpoints with their authentication, the default marked', async () => {
    const body = await answerTo(bot, await bot.command('endpoints'));
    expect(body.response_type).toBe('ephemeral');
    const text = allText(body);
    expect(text).toContain('2 Client VPN endpoints');
    expect(text).toMatch(/\*prod\* \(default\) · `cvpn-endpoint-[0-9a-f]+` · eu-west-1/);
    expect(text).toContain('auth: Active Directory');
    expect(text).toMatch(/\*contractors\* · `cvpn-endpoint-[0-9a-f]+`.* · auth: certificate/);
  });

  it.each([
    ['status=gone', '"gone"'],
    ['prod conn=xyz', '"xyz" is not a connection id'],
    ['prod lsit=1', '"lsit="'],
    ['user', '`user` needs a name'],
    ['endpoints prod', '"prod"'],
  ])('names the bad word of `/vpn-conns %s` with the usage, at once', async (text, named) => {
    const sent = await bot.command(text);
    expect(sent.status).toBe(200);
    const ack = sent.json() ?? {};
    expect(ack.response_type).toBe('ephemeral');
    expect(allText(ack)).toContain(named);
    expect(allText(ack)).toContain('/vpn-conns endpoints');
    expectNoStackTrace(ack);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bot.answers(sent.responseUrlId)).toEqual([]);
    expect(bot.emulator.requests).toEqual([]);
  });

  it('names an unknown endpoint (`/vpn-conns prod lsit`) with the usage, asking AWS nothing', async () => {
    const sent = await bot.command('prod lsit');
    const body = await answerTo(bot, sent);
    expect(body.response_type).toBe('ephemeral');
    expect(allText(body)).toContain('Unknown endpoint "lsit"');
    expect(allText(body)).toContain('Known endpoints: prod, contractors');
    expect(allText(body)).toContain('/vpn-conns endpoints');
    expectNoStackTrace(body);
    expect(bot.emulator.requests).toEqual([]);
  });

  it('says a status filter it does not know with its name (`status=gone`)', async () => {
    const ack = (await bot.command('status=gone')).json() ?? {};
    expect(allText(ack)).toContain('Unknown status "gone"');
    expect(bot.emulator.requests).toEqual([]);
  });
});

describe('buttons', () => {
  const fleet = generateFleet({ endpoints: 1, connections: 45, now: NOW });
  let bot: BotHarness;
  beforeAll(async () => {
    bot = await startBotHarness({ fleet });
  });
  afterAll(() => bot.stop());
  afterEach(() => {
    bot.emulator.faults.reset();
    bot.emulator.requests.length = 0;
  });

  it.each([
    ['not JSON', 'page-2'],
    ['a negative page', '{"q":"list","p":-1}'],
    ['a page beyond the limit', '{"q":"list","p":10001}'],
    ['an unknown word in the query', '{"q":"list prod; drop","p":0}'],
    ['a query that is not a list', '{"q":"endpoints","p":0}'],
    ['extra nesting', '{"q":{"kind":"list"},"p":0}'],
  ])('refuses a tampered value (%s) ephemerally, asking AWS nothing', async (_, value) => {
    for (const actionId of [ACTION_PAGE_NEXT, ACTION_EXPORT_CSV]) {
      const click = await bot.click(actionId, value);
      expect(click.status).toBe(200);
      const post = await bot.waitForAnswer(click.responseUrlId);
      expect(post.body.response_type).toBe('ephemeral');
      expect(post.body.replace_original).toBe(false);
      const text = allText(post.body);
      expect(text).toMatch(/no longer valid|don't understand|Unknown/);
      expectNoStackTrace(post.body);
    }
    expect(bot.emulator.requests).toEqual([]);
    expect(bot.slack.files).toEqual([]);
  });

  it('refuses the exact tampered value with the "no longer valid" message', async () => {
    const click = await bot.click(ACTION_PAGE_NEXT, '{"q":"list","p":"2"}');
    const post = await bot.waitForAnswer(click.responseUrlId);
    expect(String(post.body.text)).toContain(INVALID_BUTTON_MESSAGE);
  });

  it('shows a paging error to the clicker only, leaving the public list in place', async () => {
    const body = await answerTo(bot, await bot.command('public'));
    expect(body.response_type).toBe('in_channel');
    const next = button(body, ACTION_PAGE_NEXT);
    bot.emulator.faults.deny(DESCRIBE_CONNECTIONS);
    const click = await bot.click(ACTION_PAGE_NEXT, next?.value ?? '', {
      message: { ts: '1795780800.000100', text: String(body.text), blocks: body.blocks },
    });
    const post = await bot.waitForAnswer(click.responseUrlId);
    expect(allText(post.body)).toContain('AWS denied');
    expect(post.body.response_type).toBe('ephemeral');
    expect(post.body.replace_original).toBe(false);
  });
});

describe('listener errors never stop the app', () => {
  const fleet = generateFleet({ endpoints: 1, connections: 10, now: NOW });

  it('keeps serving after a response_url refuses the answer', async () => {
    const bot = await startBotHarness({ fleet });
    try {
      const dead = `${bot.slack.origin}/response/RNOSUCHURL`;
      const sent = await bot.command('', { responseUrl: dead });
      expect(sent.status).toBe(200);
      await bot.slack.waitFor(() =>
        bot.logs.some((line) => line.includes('could not deliver the /vpn-conns answer')),
      );
      const click = await bot.click(ACTION_PAGE_NEXT, '{"q":"list","p":0}', { responseUrl: dead });
      expect(click.status).toBe(200);
      await bot.slack.waitFor(() =>
        bot.logs.some((line) => line.includes('could not deliver a page of /vpn-conns')),
      );
      const csv = await bot.click(ACTION_EXPORT_CSV, 'tampered', { responseUrl: dead });
      expect(csv.status).toBe(200);
      await bot.slack.waitFor(() =>
        bot.logs.some((line) => line.includes('could not report a failed CSV export')),
      );

      const body = await answerTo(bot, await bot.command(''));
      expect(String(body.text)).toContain('prod: 10 connections');
      expect((await fetch(`${bot.origin}/healthz`)).status).toBe(200);
    } finally {
      await bot.stop();
    }
  });

  it('answers an unexpected failure with a generic line, and logs the details', async () => {
    const bot = await startBotHarness({
      fleet,
      identity: {
        vpnUsername: () => Promise.reject(new TypeError('identity store exploded')),
      },
    });
    try {
      const body = await answerTo(bot, await bot.command('user me'));
      expect(body.response_type).toBe('ephemeral');
      expect(allText(body)).toContain(GENERIC_ERROR_MESSAGE);
      expect(JSON.stringify(body)).not.toContain('exploded');
      expectNoStackTrace(body);
      expect(bot.logs.some((line) => line.includes('identity store exploded'))).toBe(true);

      const next = await answerTo(bot, await bot.command(''));
      expect(String(next.text)).toContain('prod: 10 connections');
    } finally {
      await bot.stop();
    }
  });

  it('records who asked: the signed user id reaches the identity resolver', async () => {
    const asked: string[] = [];
    const bot = await startBotHarness({
      fleet,
      identity: {
        vpnUsername: (userId) => {
          asked.push(userId);
          return Promise.resolve('nobody');
        },
      },
    });
    try {
      await answerTo(bot, await bot.command('user me'));
      expect(asked).toEqual([HARNESS_USER_ID]);
    } finally {
      await bot.stop();
    }
  });
});
