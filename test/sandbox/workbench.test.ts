/**
 * The Slack side of the workbench, as the bot depends on it: what the page's composer and button
 * clicks send reach a real Bolt app in HTTP mode (so the v0 signature and timestamp pass Bolt's
 * own check), response_urls behave as Slack's, answers land where Slack shows them, and Web API
 * methods the stand-in does not know answer `unknown_method`.
 */
import type { AddressInfo } from 'node:net';
import { App, LogLevel, type SlashCommand } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkbenchMessage } from '../../src/sandbox/workbench/render/index.js';
import { startWorkbench, type Workbench } from '../../src/sandbox/workbench/server.js';

const SECRET = 'workbench-test-secret';
const TOKEN = 'xoxb-workbench-test';
const PEOPLE = [
  { id: 'U0BOB', name: 'bob', realName: 'Bob', email: 'bob@corp.example', label: 'Bob' },
  { id: 'U0ADA', name: 'ada', realName: 'Ada', email: 'ada@corp.example', label: 'Ada' },
];
const GENERAL = 'C0GENERAL';

/** A stand-in renderer: the message as JSON, so tests can read what the page was given. */
const renderJson = (message: WorkbenchMessage) => `<article>${JSON.stringify(message)}</article>`;

let workbench: Workbench;
let app: App;
let commands: SlashCommand[];
let clicks: Record<string, unknown>[];
let botEvents: string;

async function page(path: string, body: unknown): Promise<unknown> {
  const response = await fetch(new URL(path, workbench.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.json();
}

beforeEach(async () => {
  commands = [];
  clicks = [];
  workbench = await startWorkbench({
    port: 0,
    botToken: TOKEN,
    botUserId: 'U0BOT',
    botName: 'vpn-conns',
    people: PEOPLE,
    channels: [{ id: GENERAL, name: 'general' }],
    render: renderJson,
  });
  app = new App({
    token: TOKEN,
    signingSecret: SECRET,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: workbench.standIn.url, retryConfig: { retries: 0 } },
  });
  app.command('/vpn-conns', async ({ command, ack }) => {
    commands.push(command);
    await ack(command.text === 'ack-text' ? { text: 'answered in the ack' } : undefined);
  });
  app.action('next', async ({ ack, body }) => {
    clicks.push(body as unknown as Record<string, unknown>);
    await ack();
  });
  const server = (await app.start(0)) as unknown as { address(): AddressInfo };
  botEvents = `http://127.0.0.1:${server.address().port}/slack/events`;
  workbench.setBot({ url: botEvents, signingSecret: SECRET });
});

afterEach(async () => {
  await app.stop();
  await workbench.close();
});

describe('the workbench composer', () => {
  it('sends a slash command that passes Bolt signature check, with who, where and a response_url', async () => {
    expect(
      await page('/workbench/send', {
        person: 'U0BOB',
        channel: GENERAL,
        text: '/vpn-conns user bob',
      }),
    ).toEqual({ ok: true });
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({
      command: '/vpn-conns',
      text: 'user bob',
      user_id: 'U0BOB',
      channel_id: GENERAL,
      channel_name: 'general',
    });
    expect(commands[0]?.response_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/response\//);
  });

  it('refuses a wrong signing secret as Slack shows it: the command failed', async () => {
    workbench.setBot({ url: botEvents, signingSecret: 'not-the-secret' });
    const answer = await page('/workbench/send', {
      person: 'U0BOB',
      channel: GENERAL,
      text: '/vpn-conns',
    });
    expect(answer).toEqual({ ok: false, error: 'dispatch_failed' });
    expect(commands).toHaveLength(0);
    const notice = [...workbench.standIn.conversation.values()].at(-1);
    expect(notice).toMatchObject({
      visibleTo: 'U0BOB',
      text: '/vpn-conns failed with the error "dispatch_failed"',
    });
  });

  it('shows an ack with a body as an ephemeral answer to the person who typed', async () => {
    await page('/workbench/send', {
      person: 'U0ADA',
      channel: GENERAL,
      text: '/vpn-conns ack-text',
    });
    expect([...workbench.standIn.conversation.values()]).toEqual([
      expect.objectContaining({
        channel: GENERAL,
        visibleTo: 'U0ADA',
        text: 'answered in the ack',
      }),
    ]);
  });

  it('answers an unknown command as Slack does, and posts plain text as the person', async () => {
    await page('/workbench/send', { person: 'U0BOB', channel: GENERAL, text: '/nope' });
    await page('/workbench/send', { person: 'U0BOB', channel: GENERAL, text: 'hello' });
    const [notice, said] = workbench.standIn.conversation.values();
    expect(notice?.text).toMatch(/^\/nope is not a valid command/);
    expect(notice?.visibleTo).toBe('U0BOB');
    expect(said).toMatchObject({ userId: 'U0BOB', text: 'hello' });
    expect(said?.visibleTo).toBeUndefined();
    expect(commands).toHaveLength(0);
  });
});

describe("a command's response_url", () => {
  it('takes 5 posts, ephemeral unless in_channel, then answers 404 used_url', async () => {
    await page('/workbench/send', { person: 'U0BOB', channel: GENERAL, text: '/vpn-conns' });
    const url = commands[0]?.response_url ?? '';
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          text: `post ${i}`,
          ...(i === 1 ? { response_type: 'in_channel' } : {}),
        }),
      });
      statuses.push(response.status);
      if (i === 5) expect(await response.text()).toBe('used_url');
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
    const shown = [...workbench.standIn.conversation.values()];
    expect(shown.map((m) => m.text)).toEqual(['post 0', 'post 1', 'post 2', 'post 3', 'post 4']);
    expect(shown.map((m) => m.visibleTo)).toEqual(['U0BOB', undefined, 'U0BOB', 'U0BOB', 'U0BOB']);
  });
});

describe('an answer Slack refuses', () => {
  it('reaches the bot as invalid_blocks and shows the person what was tried, with the limit', async () => {
    await page('/workbench/send', { person: 'U0BOB', channel: GENERAL, text: '/vpn-conns' });
    const blocks = Array.from({ length: 51 }, (_, i) => ({
      type: 'section',
      text: { type: 'mrkdwn', text: `line ${i}` },
    }));
    const response = await fetch(commands[0]?.response_url ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'too long', blocks }),
    });
    expect([response.status, await response.text()]).toEqual([400, 'invalid_blocks']);
    expect([...workbench.standIn.conversation.values()]).toEqual([
      expect.objectContaining({
        visibleTo: 'U0BOB',
        limitProblems: ['blocks: 51 blocks (max 50)'],
      }),
    ]);
  });
});

describe('a button click', () => {
  it('sends a signed block_actions payload; replace_original replaces the clicked message', async () => {
    const posted = workbench.standIn.conversation;
    const response = await fetch(`${workbench.standIn.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        channel: GENERAL,
        text: 'page 1',
        blocks: [
          {
            type: 'actions',
            block_id: 'paging',
            elements: [
              {
                type: 'button',
                action_id: 'next',
                text: { type: 'plain_text', text: 'Next' },
                value: '2',
              },
            ],
          },
        ],
      }),
    });
    const { ts } = (await response.json()) as { ts: string };
    expect(
      await page('/workbench/action', {
        person: 'U0ADA',
        channel: GENERAL,
        messageTs: ts,
        actionId: 'next',
        blockId: 'paging',
        value: '2',
      }),
    ).toEqual({ ok: true });
    expect(clicks).toHaveLength(1);
    const click = clicks[0] as {
      user: { id: string };
      actions: { action_id: string; value: string }[];
      message: { ts: string };
      response_url: string;
    };
    expect(click.user.id).toBe('U0ADA');
    expect(click.actions[0]).toMatchObject({ action_id: 'next', value: '2' });
    expect(click.message.ts).toBe(ts);

    await fetch(click.response_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replace_original: true, text: 'page 2' }),
    });
    expect([...posted.values()]).toEqual([expect.objectContaining({ ts, text: 'page 2' })]);
  });
});

describe('the Web API of the workbench', () => {
  it('answers users.info with the email (for `user me`) and unknown methods with unknown_method', async () => {
    const call = async (method: string, body: Record<string, string>) => {
      const response = await fetch(`${workbench.standIn.url}${method}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Bearer ${TOKEN}`,
        },
        body: new URLSearchParams(body).toString(),
      });
      return response.json();
    };
    expect(await call('users.info', { user: 'U0BOB' })).toMatchObject({
      ok: true,
      user: { id: 'U0BOB', profile: { email: 'bob@corp.example' } },
    });
    expect(await call('chat.scheduleMessage', { channel: GENERAL, text: 'x' })).toEqual({
      ok: false,
      error: 'unknown_method',
    });
  });
});
