import type { AddressInfo } from 'node:net';
import { App, LogLevel, type types, webApi } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateBlocks } from '../../src/sandbox/block-kit-limits.js';
import {
  blockActionsPayload,
  postInteraction,
  postSlashCommand,
  signSlackRequest,
} from '../../src/sandbox/slack-signing.js';
import { type SlackStandIn, startSlackStandIn } from '../../src/sandbox/slack-stand-in.js';

const SIGNING_SECRET = 'test-signing-secret';

function section(text: string, blockId?: string): types.SectionBlock {
  return {
    type: 'section',
    ...(blockId === undefined ? {} : { block_id: blockId }),
    text: { type: 'mrkdwn', text },
  };
}

function button(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'button',
    action_id: 'next',
    text: { type: 'plain_text', text: 'Next' },
    value: 'page-2',
    ...overrides,
  };
}

function webClient(standIn: SlackStandIn, token = 'xoxb-test', rejectRateLimitedCalls = false) {
  return new webApi.WebClient(token, {
    slackApiUrl: standIn.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls,
    logLevel: webApi.LogLevel.ERROR,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('signSlackRequest', () => {
  it("matches Slack's documented known-answer vector", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
      '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
      '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });
});

describe('validateBlocks', () => {
  it('accepts a message within every limit', () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'VPN connections' } },
      section('x'.repeat(3000), 'summary'),
      {
        type: 'section',
        fields: Array.from({ length: 10 }, () => ({ type: 'mrkdwn', text: 'f' })),
      },
      {
        type: 'context',
        elements: Array.from({ length: 10 }, () => ({ type: 'mrkdwn', text: 'c' })),
      },
      {
        type: 'actions',
        elements: Array.from({ length: 25 }, (_, i) => button({ action_id: `b${i}` })),
      },
      { type: 'divider' },
    ];
    expect(validateBlocks(blocks)).toEqual([]);
  });

  it('names each limit that is exceeded', () => {
    const cases: [unknown, RegExp][] = [
      [Array.from({ length: 51 }, () => ({ type: 'divider' })), /51 blocks \(max 50\)/],
      [[section('x'.repeat(3001))], /blocks\[0\]\.text\.text: 3001 characters \(max 3000\)/],
      [[section('')], /must not be empty/],
      [
        [
          {
            type: 'section',
            fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })),
          },
        ],
        /fields: 11 items \(max 10\)/,
      ],
      [[{ type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] }], /max 2000/],
      [[{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }], /max 150/],
      [[{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }], /must be plain_text/],
      [
        [
          {
            type: 'context',
            elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })),
          },
        ],
        /11 items \(max 10\)/,
      ],
      [
        [{ type: 'actions', elements: Array.from({ length: 26 }, () => button()) }],
        /26 items \(max 25\)/,
      ],
      [
        [
          {
            type: 'actions',
            elements: [button({ text: { type: 'plain_text', text: 'b'.repeat(76) } })],
          },
        ],
        /max 75/,
      ],
      [
        [{ type: 'actions', elements: [button({ value: 'v'.repeat(2001) })] }],
        /value: 2001 characters/,
      ],
      [
        [{ type: 'actions', elements: [button({ url: `https://x/${'u'.repeat(3000)}` })] }],
        /url: 3010/,
      ],
      [[{ type: 'actions', elements: [button({ action_id: 'a'.repeat(256) })] }], /action_id: 256/],
      [[section('a', 'b'.repeat(256))], /block_id: 256 characters/],
      [
        [section('a', 'same'), section('b', 'same')],
        /blocks\[1\]\.block_id: duplicate block_id "same"/,
      ],
      [[{ type: 'section', text: { type: 'markdown', text: 'x' } }], /plain_text or mrkdwn/],
      [[{ type: 'section' }], /text or fields/],
      [[{ type: 'carousel' }], /unknown block type "carousel"/],
      ['[]', /must be an array/],
    ];
    for (const [blocks, expected] of cases) {
      expect(validateBlocks(blocks).join('\n'), JSON.stringify(blocks).slice(0, 80)).toMatch(
        expected,
      );
    }
  });

  it('checks confirmation dialogs', () => {
    const confirm = {
      title: { type: 'plain_text', text: 't'.repeat(101) },
      text: { type: 'mrkdwn', text: 'x'.repeat(301) },
      confirm: { type: 'plain_text', text: 'c'.repeat(31) },
      deny: { type: 'plain_text', text: 'd'.repeat(31) },
    };
    const errors = validateBlocks([{ type: 'actions', elements: [button({ confirm })] }]);
    expect(errors).toEqual([
      expect.stringMatching(/confirm\.title\.text: 101 characters \(max 100\)/),
      expect.stringMatching(/confirm\.text\.text: 301 characters \(max 300\)/),
      expect.stringMatching(/confirm\.confirm\.text: 31 characters \(max 30\)/),
      expect.stringMatching(/confirm\.deny\.text: 31 characters \(max 30\)/),
    ]);
  });

  it('reports more than 12,000 characters of text in all blocks as msg_blocks_too_long', () => {
    const withinEach = Array.from({ length: 5 }, () => section('x'.repeat(2500)));
    expect(validateBlocks(withinEach)).toEqual([
      expect.stringMatching(/msg_blocks_too_long: 12500 characters/),
    ]);
    expect(validateBlocks(withinEach.slice(0, 4))).toEqual([]);
  });
});

describe('Slack stand-in, through the real WebClient', () => {
  let standIn: SlackStandIn;
  beforeAll(async () => {
    standIn = await startSlackStandIn();
  });
  afterEach(() => standIn.faults.reset());
  afterAll(() => standIn.close());

  it('answers auth.test with the bot identity and records the call', async () => {
    const result = await webClient(standIn).auth.test();
    expect(result).toMatchObject({
      ok: true,
      team_id: 'T0TEST',
      user_id: 'UBOT',
      bot_id: 'B0TEST',
    });
    expect(standIn.calls.at(-1)).toMatchObject({ method: 'auth.test', token: 'xoxb-test' });
  });

  it('refuses a wrong token, a missing token and an unknown method', async () => {
    const wrong = await rejectionOf(webClient(standIn, 'xoxb-wrong').auth.test());
    expect(wrong).toMatchObject({ data: { error: 'invalid_auth' } });
    const missing = await rejectionOf(webClient(standIn, '').auth.test());
    expect(missing).toMatchObject({ data: { error: 'not_authed' } });
    const unknown = await rejectionOf(webClient(standIn).apiCall('chat.teleport', {}));
    expect(unknown).toMatchObject({ data: { error: 'unknown_method' } });
  });

  it('records chat.postMessage with its blocks decoded, and chat.update of it', async () => {
    const client = webClient(standIn);
    const blocks = [section('*3* connections')];
    const posted = await client.chat.postMessage({ channel: 'C1', text: '3 connections', blocks });
    expect(posted.ok).toBe(true);
    expect(standIn.messages.at(-1)).toEqual({
      channel: 'C1',
      ts: posted.ts,
      text: '3 connections',
      blocks,
    });
    expect(standIn.calls.at(-1)?.body.blocks).toEqual(blocks);

    await client.chat.update({ channel: 'C1', ts: String(posted.ts), text: 'updated' });
    expect(standIn.messages.at(-1)).toEqual({ channel: 'C1', ts: posted.ts, text: 'updated' });
    const missing = await rejectionOf(client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' }));
    expect(missing).toMatchObject({ data: { error: 'message_not_found' } });

    const ephemeral = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'psst' });
    expect(standIn.messages.at(-1)).toEqual({
      channel: 'C1',
      ts: ephemeral.message_ts,
      text: 'psst',
    });
  });

  it('refuses blocks beyond the limits with invalid_blocks, and a message without text', async () => {
    const client = webClient(standIn);
    const before = standIn.messages.length;
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    const manyError = await rejectionOf(
      client.chat.postMessage({ channel: 'C1', text: 'x', blocks: tooMany }),
    );
    expect(manyError).toBeInstanceOf(webApi.WebAPIPlatformError);
    expect(manyError).toMatchObject({
      data: { error: 'invalid_blocks', errors: [expect.stringMatching(/51 blocks/)] },
    });
    const longError = await rejectionOf(
      client.chat.postMessage({ channel: 'C1', text: 'x', blocks: [section('x'.repeat(3001))] }),
    );
    expect(longError).toMatchObject({ data: { error: 'invalid_blocks' } });
    const noText = await rejectionOf(client.chat.postMessage({ channel: 'C1', text: '' }));
    expect(noText).toMatchObject({ data: { error: 'no_text' } });
    expect(standIn.messages.length).toBe(before);
  });

  it('fails the next calls of a method on request, as a WebAPIPlatformError', async () => {
    const client = webClient(standIn);
    standIn.faults.failNext('chat.postMessage', 'not_in_channel', 2);
    for (let i = 0; i < 2; i += 1) {
      const error = await rejectionOf(client.chat.postMessage({ channel: 'C1', text: 'hi' }));
      expect(error).toBeInstanceOf(webApi.WebAPIPlatformError);
      expect(error).toMatchObject({
        code: webApi.ErrorCode.PlatformError,
        data: { error: 'not_in_channel' },
      });
    }
    await expect(client.chat.postMessage({ channel: 'C1', text: 'hi' })).resolves.toMatchObject({
      ok: true,
    });
  });

  it('rate-limits with HTTP 429 and Retry-After, surfacing WebAPIRateLimitedError', async () => {
    standIn.faults.rateLimitNext('chat.postMessage', 7);
    const error = await rejectionOf(
      webClient(standIn, 'xoxb-test', true).chat.postMessage({ channel: 'C1', text: 'hi' }),
    );
    expect(error).toBeInstanceOf(webApi.WebAPIRateLimitedError);
    expect(error).toMatchObject({ code: webApi.ErrorCode.RateLimitedError, retryAfter: 7 });
  });

  it('round-trips filesUploadV2 content into files', async () => {
    const csv = 'user,ip\nalice,10.0.0.1\n';
    const result = await webClient(standIn).filesUploadV2({
      channel_id: 'C1',
      filename: 'connections.csv',
      title: 'VPN connections',
      content: csv,
      initial_comment: 'Here you go',
    });
    expect(result.ok).toBe(true);
    expect(standIn.files.at(-1)).toEqual({
      fileId: expect.stringMatching(/^F/),
      filename: 'connections.csv',
      bytes: Buffer.from(csv),
      content: csv,
      channelId: 'C1',
      title: 'VPN connections',
      initialComment: 'Here you go',
    });
    expect(standIn.calls.slice(-2).map((c) => c.method)).toEqual([
      'files.getUploadURLExternal',
      'files.completeUploadExternal',
    ]);
  });

  it('keeps an uploaded binary file byte for byte (a report chart is a PNG)', async () => {
    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80,
    ]);
    const result = await webClient(standIn).filesUploadV2({
      channel_id: 'C1',
      filename: 'chart.png',
      file: png,
    });
    expect(result.ok).toBe(true);
    expect(standIn.files.at(-1)?.bytes.equals(png)).toBe(true);
  });

  it('describes users from the users map, including their email', async () => {
    standIn.users.set('U1', {
      id: 'U1',
      name: 'alice',
      realName: 'Alice A',
      email: 'alice@example.com',
    });
    const client = webClient(standIn);
    const info = await client.users.info({ user: 'U1' });
    expect(info.user).toMatchObject({
      id: 'U1',
      name: 'alice',
      real_name: 'Alice A',
      deleted: false,
      is_bot: false,
      is_restricted: false,
      profile: { email: 'alice@example.com', real_name: 'Alice A' },
    });
    const byEmail = await client.users.lookupByEmail({ email: 'ALICE@example.com' });
    expect(byEmail.user?.id).toBe('U1');
    const unknown = await rejectionOf(client.users.info({ user: 'U404' }));
    expect(unknown).toMatchObject({ data: { error: 'user_not_found' } });
  });

  it('lists user group members, or answers plan_upgrade_required on request', async () => {
    standIn.userGroups.set('S1', ['U1', 'U2']);
    const client = webClient(standIn);
    await expect(client.usergroups.users.list({ usergroup: 'S1' })).resolves.toMatchObject({
      users: ['U1', 'U2'],
    });
    const unknown = await rejectionOf(client.usergroups.users.list({ usergroup: 'S404' }));
    expect(unknown).toMatchObject({ data: { error: 'no_such_subteam' } });
    standIn.faults.planUpgradeRequired(true);
    const free = await rejectionOf(client.usergroups.users.list({ usergroup: 'S1' }));
    expect(free).toMatchObject({ data: { error: 'plan_upgrade_required' } });
  });

  it('hands out Socket Mode URLs only for the app token', async () => {
    const opened = await webClient(standIn, 'xapp-test').apps.connections.open();
    expect(opened.url).toBe(
      `${standIn.origin.replace('http', 'ws')}/socket?${new URL(String(opened.url)).searchParams}`,
    );
    const withBotToken = await rejectionOf(webClient(standIn).apps.connections.open());
    expect(withBotToken).toMatchObject({ data: { error: 'not_allowed_token_type' } });
  });

  it('adds latency on request', async () => {
    standIn.faults.latency(150);
    const started = Date.now();
    await webClient(standIn).auth.test();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('lists a channel newest first in conversations.history, metadata only when asked, with cursor pages', async () => {
    const client = webClient(standIn);
    const channel = `C0HIST${Date.now()}`;
    const posted: string[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await client.chat.postMessage({
        channel,
        text: `digest ${i}`,
        metadata: { event_type: 'vpn_conns_digest', event_payload: { id: `intent-${i}` } },
      });
      posted.push(String(result.ts));
    }
    await client.chat.postMessage({ channel, text: 'a reply', thread_ts: String(posted[0]) });
    await client.chat.postMessage({ channel: `${channel}X`, text: 'elsewhere' });

    const plain = await client.conversations.history({ channel });
    expect(plain.messages?.map((m) => m.ts)).toEqual([...posted].reverse());
    expect(plain.messages?.some((m) => m.metadata !== undefined)).toBe(false);

    const first = await client.conversations.history({
      channel,
      include_all_metadata: true,
      limit: 2,
      oldest: String(posted[0]),
    });
    // `oldest` is exclusive: the first message is not listed.
    expect(first.messages?.map((m) => m.metadata)).toEqual([
      { event_type: 'vpn_conns_digest', event_payload: { id: 'intent-2' } },
      { event_type: 'vpn_conns_digest', event_payload: { id: 'intent-1' } },
    ]);
    expect(first.has_more).toBe(false);
    const paged = await client.conversations.history({ channel, limit: 2 });
    expect(paged.has_more).toBe(true);
    const rest = await client.conversations.history({
      channel,
      limit: 2,
      cursor: String(paged.response_metadata?.next_cursor),
    });
    expect(rest.messages?.map((m) => m.ts)).toEqual([posted[0]]);
    expect(rest.response_metadata?.next_cursor).toBe('');
  });

  it('answers HTTP 5xx on request, without doing the call', async () => {
    standIn.faults.serverErrorNext('chat.postMessage', 503);
    const before = standIn.messages.length;
    const error = await rejectionOf(
      webClient(standIn).chat.postMessage({ channel: 'C1', text: 'x' }),
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBe(webApi.ErrorCode.HTTPError);
    expect(standIn.messages.length).toBe(before);
    await webClient(standIn).chat.postMessage({ channel: 'C1', text: 'x' });
    expect(standIn.messages.length).toBe(before + 1);
  });

  it('answers slowly on request: after posting (the client times out on a posted message) or before', async () => {
    const client = new webApi.WebClient('xoxb-test', {
      slackApiUrl: standIn.url,
      retryConfig: { retries: 0 },
      timeout: 100,
      logLevel: webApi.LogLevel.ERROR,
    });
    const before = standIn.messages.length;
    standIn.faults.slowNext('chat.postMessage', 300, 'after');
    await expect(client.chat.postMessage({ channel: 'C1', text: 'late' })).rejects.toThrow();
    expect(standIn.messages.length).toBe(before + 1);
    standIn.faults.slowNext('chat.postMessage', 300, 'before');
    await expect(client.chat.postMessage({ channel: 'C1', text: 'never' })).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(standIn.messages.length).toBe(before + 1);
  });

  it('takes 5 posts per response_url, then answers 404 used_url', async () => {
    const url = standIn.newResponseUrl();
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const invalid = await post({ text: 'x', blocks: [section('x'.repeat(3001))] });
    expect([invalid.status, await invalid.text()]).toEqual([400, 'invalid_blocks']);
    const empty = await post({ response_type: 'ephemeral' });
    expect([empty.status, await empty.text()]).toEqual([400, 'no_text']);
    for (let i = 1; i <= 5; i += 1) expect((await post({ text: `post ${i}` })).status).toBe(200);
    const sixth = await post({ text: 'post 6' });
    expect([sixth.status, await sixth.text()]).toEqual([404, 'used_url']);
    const id = new URL(url).pathname.split('/').at(-1);
    expect(standIn.responseUrlPosts.filter((p) => p.id === id).map((p) => p.body.text)).toEqual([
      'post 1',
      'post 2',
      'post 3',
      'post 4',
      'post 5',
    ]);
    const unknown = await fetch(`${standIn.origin}/response/nope`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
  });

  it('expires a response_url 30 minutes after it was made: 404 expired_url', async () => {
    let now = new Date('2026-12-01T12:00:00Z');
    const clocked = await startSlackStandIn({ now: () => now });
    try {
      const url = clocked.newResponseUrl();
      const post = () =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'late' }),
        });
      now = new Date('2026-12-01T12:30:00Z');
      expect((await post()).status).toBe(200);
      now = new Date('2026-12-01T12:30:01Z');
      const late = await post();
      expect([late.status, await late.text()]).toEqual([404, 'expired_url']);
    } finally {
      await clocked.close();
    }
  });

  it('keeps a message Slack refuses for its blocks in the conversation, with the problems', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => section(`line ${i}`));
    const before = standIn.messages.length;
    const refused = await rejectionOf(
      webClient(standIn).chat.postMessage({ channel: 'C1', text: 'too many', blocks }),
    );
    expect(refused).toMatchObject({ data: { error: 'invalid_blocks' } });
    expect(standIn.messages).toHaveLength(before);
    expect([...standIn.conversation.values()].at(-1)).toEqual(
      expect.objectContaining({ channel: 'C1', limitProblems: validateBlocks(blocks) }),
    );
  });

  it('waitFor resolves with the first truthy value and times out with a clear message', async () => {
    let n = 0;
    await expect(standIn.waitFor(() => (++n >= 3 ? n : undefined))).resolves.toBe(3);
    await expect(standIn.waitFor(() => false, 50)).rejects.toThrow(/waitFor timed out after 50 ms/);
  });
});

describe('Slack stand-in with a real Bolt app in HTTP mode', () => {
  let standIn: SlackStandIn;
  let app: App;
  let eventsUrl: string;

  beforeAll(async () => {
    standIn = await startSlackStandIn();
    app = new App({
      signingSecret: SIGNING_SECRET,
      token: 'xoxb-test',
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: standIn.url, retryConfig: { retries: 0 } },
    });
    app.command('/vpn-conns', async ({ ack, respond, command }) => {
      await ack();
      await respond({ text: `You asked for: ${command.text}` });
    });
    app.action('page_next', async ({ ack, respond, action }) => {
      await ack();
      const value = action.type === 'button' ? action.value : undefined;
      await respond({ replace_original: true, text: `Showing ${value}` });
    });
    const server = await app.start(0);
    const { port } = server.address() as AddressInfo;
    eventsUrl = `http://127.0.0.1:${port}/slack/events`;
  });
  afterAll(async () => {
    await app.stop();
    await standIn.close();
  });

  it('acks a signed slash command and lands respond() in responseUrlPosts', async () => {
    const responseUrl = standIn.newResponseUrl();
    const reply = await postSlashCommand(eventsUrl, SIGNING_SECRET, {
      text: 'status:active',
      response_url: responseUrl,
    });
    expect(reply.status).toBe(200);
    expect(reply.elapsedMs).toBeLessThan(3000);
    const post = await standIn.waitFor(() =>
      standIn.responseUrlPosts.find((p) => responseUrl.endsWith(p.id)),
    );
    expect(post.body).toEqual({ text: 'You asked for: status:active' });
    expect(standIn.calls.map((c) => c.method)).toContain('auth.test');
  });

  it('answers 401 to a bad signature and to a timestamp 6 minutes old', async () => {
    const fields = { text: 'x', response_url: standIn.newResponseUrl() };
    const forged = await postSlashCommand(eventsUrl, SIGNING_SECRET, fields, {
      signature: `v0=${'0'.repeat(64)}`,
    });
    expect(forged.status).toBe(401);
    const stale = await postSlashCommand(eventsUrl, SIGNING_SECRET, fields, {
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(stale.status).toBe(401);
    const wrongSecret = await postSlashCommand(eventsUrl, 'another-secret', fields);
    expect(wrongSecret.status).toBe(401);
  });

  it('delivers a signed block_actions click and its respond()', async () => {
    const responseUrl = standIn.newResponseUrl();
    const reply = await postInteraction(
      eventsUrl,
      SIGNING_SECRET,
      blockActionsPayload({ userId: 'U1', actionId: 'page_next', value: 'page 2', responseUrl }),
    );
    expect(reply.status).toBe(200);
    const post = await standIn.waitFor(() =>
      standIn.responseUrlPosts.find((p) => responseUrl.endsWith(p.id)),
    );
    expect(post.body).toEqual({ replace_original: true, text: 'Showing page 2' });
  });
});

describe('Slack stand-in with a real Bolt app in Socket Mode', () => {
  it('connects, gets a slash command acked with its payload, and shuts down cleanly', async () => {
    const standIn = await startSlackStandIn();
    const app = new App({
      socketMode: true,
      appToken: 'xapp-test',
      token: 'xoxb-test',
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: standIn.url, retryConfig: { retries: 0 } },
    });
    app.command('/vpn-conns', async ({ ack, respond }) => {
      await ack({ text: 'Looking…' });
      await respond({ text: 'Done' });
    });
    try {
      await app.start();
      await standIn.socket.waitForConnection();
      expect(standIn.socket.connected()).toBe(true);
      expect(standIn.calls.find((c) => c.method === 'apps.connections.open')?.token).toBe(
        'xapp-test',
      );

      const responseUrl = standIn.newResponseUrl();
      const ack = await standIn.socket.send('slash_commands', {
        command: '/vpn-conns',
        text: '',
        user_id: 'U1',
        team_id: 'T0TEST',
        channel_id: 'C1',
        response_url: responseUrl,
        trigger_id: '1.2.3',
      });
      expect(ack).toEqual({ text: 'Looking…' });
      const post = await standIn.waitFor(() =>
        standIn.responseUrlPosts.find((p) => responseUrl.endsWith(p.id)),
      );
      expect(post.body).toEqual({ text: 'Done' });
    } finally {
      const started = Date.now();
      await app.stop();
      await standIn.waitFor(() => !standIn.socket.connected(), 3000);
      await standIn.close();
      expect(Date.now() - started).toBeLessThan(3000);
    }
  });

  it('rejects socket.send when no app is connected', async () => {
    const standIn = await startSlackStandIn();
    await expect(standIn.socket.send('slash_commands', {})).rejects.toThrow(
      /no Socket Mode connection/,
    );
    await standIn.close();
  });
});
