/**
 * The workbench: the Slack stand-in grown into a web page that looks and behaves enough like
 * Slack to judge the bot. One port serves both sides:
 * - Slack's side, for the bot: the Web API, response_urls and uploads (the stand-in);
 * - the person's side, for the browser: the page (`static/`), its state, a server-sent event
 *   stream of changes, the composer (signed slash commands to the bot) and button clicks (signed
 *   `block_actions` to the bot), and file downloads.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { validateBlocks } from '../block-kit-limits.js';
import { blockActionsPayload, signSlackRequest } from '../slack-signing.js';
import {
  type ConversationChange,
  type ConversationMessage,
  type SlackStandIn,
  startSlackStandIn,
} from '../slack-stand-in.js';
import type { RenderContext, WorkbenchMessage } from './render/index.js';

/** Draws one message as an HTML `<article>` (`renderMessage` of ./render/index.ts). */
export type RenderMessage = (message: WorkbenchMessage, ctx: RenderContext) => string;

/** A person of the workspace the page can act as (the "Person" switcher). */
export interface WorkbenchPerson {
  id: string;
  /** Slack user name; the email's local part is the VPN user name (`user me`). */
  name: string;
  realName: string;
  email: string;
  /** What the switcher says, e.g. `Ada (admin)`. */
  label: string;
}

/** Where the bot listens (HTTP mode) and the secret its requests are signed with. */
export interface BotTarget {
  url: string;
  signingSecret: string;
}

/** Options of {@link startWorkbench}. */
export interface WorkbenchOptions {
  /** Port on 127.0.0.1; 0 = any free port. */
  port: number;
  botToken: string;
  botUserId: string;
  botName: string;
  people: readonly WorkbenchPerson[];
  channels: readonly { id: string; name: string }[];
  render: RenderMessage;
  /** Where commands and clicks go; can be set later with {@link Workbench.setBot}. */
  bot?: BotTarget;
}

/** A running workbench; see {@link startWorkbench}. */
export interface Workbench {
  /** The page: `http://127.0.0.1:PORT/`. */
  url: string;
  /** The Slack side: the bot's `SLACK_API_URL`, calls, messages, faults. */
  standIn: SlackStandIn;
  setBot(target: BotTarget): void;
  close(): Promise<void>;
}

/** One message as the page gets it: rendered, with what the page needs to place and filter it. */
interface PageMessage {
  ts: string;
  channel: string;
  threadTs?: string;
  visibleTo?: string;
  html: string;
}

const STATIC_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'blocks.js': 'text/javascript; charset=utf-8',
  'blocks.css': 'text/css; charset=utf-8',
};
const STATIC_DIR = new URL('./static/', import.meta.url);
/** Slack gives an app 3 s to acknowledge a command or a click. */
const ACK_TIMEOUT_MS = 3000;
const MAX_BODY_BYTES = 64 * 1024;

const SendBody = z.object({
  person: z.string().min(1),
  channel: z.string().min(1),
  text: z.string().min(1).max(4000),
  threadTs: z.string().optional(),
});
const ActionBody = z.object({
  person: z.string().min(1),
  channel: z.string().min(1),
  messageTs: z.string().min(1),
  actionId: z.string().min(1),
  blockId: z.string().optional(),
  value: z.string().optional(),
});

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** Posts a signed request to the bot as Slack does; `undefined` when it did not answer in time. */
async function postSigned(
  bot: BotTarget,
  rawBody: string,
): Promise<{ status: number; body: string } | undefined> {
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const response = await fetch(bot.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signSlackRequest(bot.signingSecret, timestamp, rawBody),
      },
      body: rawBody,
      signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

/**
 * Starts the workbench on 127.0.0.1: the Slack stand-in with the people, channels and DMs of the
 * demo workspace, plus the page's routes. One long function on purpose, like the stand-in's: the
 * routes, the renderer's context and the event stream share its state through closures.
 */
export async function startWorkbench(options: WorkbenchOptions): Promise<Workbench> {
  let bot = options.bot;
  const people = new Map(options.people.map((p) => [p.id, p]));
  const channelNames = new Map(options.channels.map((c) => [c.id, c.name]));
  const clients = new Set<ServerResponse>();
  /** Thread parent ts → number of replies, and the replies already counted. */
  const replies = new Map<string, number>();
  const counted = new Set<string>();

  const routes = async (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    if (req.method === 'GET' && (pathname === '/' || pathname.startsWith('/static/'))) {
      const name = pathname === '/' ? 'index.html' : pathname.slice('/static/'.length);
      const type = STATIC_FILES[name];
      if (type === undefined) return false;
      try {
        const content = await readFile(new URL(name, STATIC_DIR));
        res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
        res.end(content);
      } catch {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`${name} is missing from ${STATIC_DIR.pathname}`);
      }
      return true;
    }
    if (pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return true;
    }
    if (req.method === 'GET' && pathname === '/workbench/state') {
      sendJson(res, 200, state());
      return true;
    }
    if (req.method === 'GET' && pathname === '/workbench/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write(': connected\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return true;
    }
    if (req.method === 'GET' && pathname.startsWith('/files/')) {
      const id = decodeURIComponent(pathname.slice('/files/'.length));
      const file = standIn.files.find((f) => f.fileId === id);
      if (file === undefined) return false;
      res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${file.filename.replace(/[^\w.-]/g, '_')}"`,
      });
      res.end(file.content);
      return true;
    }
    if (req.method === 'POST' && pathname === '/workbench/send') {
      const body = SendBody.safeParse(await readJson(req).catch(() => undefined));
      if (!body.success) sendJson(res, 400, { ok: false, error: body.error.message });
      else sendJson(res, 200, await send(body.data));
      return true;
    }
    if (req.method === 'POST' && pathname === '/workbench/action') {
      const body = ActionBody.safeParse(await readJson(req).catch(() => undefined));
      if (!body.success) sendJson(res, 400, { ok: false, error: body.error.message });
      else sendJson(res, 200, await click(body.data));
      return true;
    }
    return false;
  };

  const standIn = await startSlackStandIn({
    botToken: options.botToken,
    botUserId: options.botUserId,
    port: options.port,
    routes,
  });
  standIn.users.set(options.botUserId, {
    id: options.botUserId,
    name: options.botName,
    isBot: true,
  });
  for (const p of options.people) {
    standIn.users.set(p.id, { id: p.id, name: p.name, realName: p.realName, email: p.email });
    standIn.openDirectMessage(p.id);
  }

  const ctx: RenderContext = {
    userName: (id) => standIn.users.get(id)?.name,
    channelName: (id) => channelNames.get(id),
  };

  const toPage = (m: ConversationMessage): PageMessage => {
    const author = standIn.users.get(m.userId);
    const message: WorkbenchMessage = {
      ts: m.ts,
      channel: m.channel,
      ephemeral: m.visibleTo !== undefined,
      author: {
        id: m.userId,
        name:
          m.userId === 'USLACKBOT' ? 'Slackbot' : (author?.realName ?? author?.name ?? m.userId),
        isBot: m.userId === options.botUserId || m.userId === 'USLACKBOT',
      },
    };
    if (m.text !== undefined) message.text = m.text;
    if (m.blocks !== undefined) {
      message.blocks = m.blocks;
      const problems = m.limitProblems ?? validateBlocks(m.blocks);
      if (problems.length > 0) message.limitProblems = problems;
    } else if (m.limitProblems !== undefined) message.limitProblems = m.limitProblems;
    if (m.threadTs !== undefined) message.threadTs = m.threadTs;
    const count = replies.get(m.ts);
    if (count !== undefined) message.replyCount = count;
    if (m.files !== undefined) {
      message.files = m.files.map((f) => ({
        ...f,
        url: `/files/${encodeURIComponent(f.id)}`,
      }));
    }
    if (m.edited === true) message.edited = true;
    const page: PageMessage = {
      ts: m.ts,
      channel: m.channel,
      html: options.render(message, ctx),
    };
    if (m.threadTs !== undefined) page.threadTs = m.threadTs;
    if (m.visibleTo !== undefined) page.visibleTo = m.visibleTo;
    return page;
  };

  const broadcast = (event: Record<string, unknown>) => {
    const data = `data: ${JSON.stringify(event)}\n\n`;
    for (const client of clients) client.write(data);
  };

  standIn.onChange((change: ConversationChange) => {
    const m = change.message;
    if (change.kind === 'delete') {
      broadcast({ kind: 'delete', ts: m.ts, channel: m.channel });
      return;
    }
    broadcast({ kind: 'upsert', message: toPage(m) });
    // A new reply changes its parent's reply count.
    if (m.threadTs !== undefined && !counted.has(m.ts)) {
      counted.add(m.ts);
      replies.set(m.threadTs, (replies.get(m.threadTs) ?? 0) + 1);
      const parent = standIn.conversation.get(m.threadTs);
      if (parent !== undefined) broadcast({ kind: 'upsert', message: toPage(parent) });
    }
  });

  const state = () => ({
    bot: { id: options.botUserId, name: options.botName },
    people: options.people.map((p) => ({
      id: p.id,
      label: p.label,
      dm: standIn.directMessageOf(p.id),
    })),
    channels: options.channels,
    messages: [...standIn.conversation.values()].map(toPage),
  });

  /** The composer: a slash command to the bot, or a plain message in the channel. */
  const send = async (input: z.infer<typeof SendBody>) => {
    const person = people.get(input.person);
    if (person === undefined) return { ok: false, error: 'unknown person' };
    const text = input.text.trim();
    if (!text.startsWith('/')) {
      standIn.postAsUser(input.channel, person.id, text, input.threadTs);
      return { ok: true };
    }
    const [command = '', ...rest] = text.split(/\s+/);
    if (command !== '/vpn-conns') {
      standIn.postSlackNotice(
        input.channel,
        person.id,
        `${command} is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands.`,
      );
      return { ok: false, error: 'invalid_command' };
    }
    const context = { channel: input.channel, userId: person.id };
    const fail = (error: string) => {
      standIn.postSlackNotice(
        input.channel,
        person.id,
        `${command} failed with the error "${error}"`,
      );
      return { ok: false, error };
    };
    if (bot === undefined) return fail('dispatch_failed');
    const channelName = channelNames.get(input.channel);
    const rawBody = new URLSearchParams({
      token: 'unused',
      team_id: 'T0TEST',
      team_domain: 'vpn-conns-demo',
      channel_id: input.channel,
      channel_name: channelName ?? 'directmessage',
      user_id: person.id,
      user_name: person.name,
      command,
      text: rest.join(' '),
      api_app_id: 'A0TEST',
      is_enterprise_install: 'false',
      response_url: standIn.newResponseUrl(context),
      trigger_id: `${Date.now()}.${randomBytes(8).toString('hex')}`,
    }).toString();
    const answer = await postSigned(bot, rawBody);
    if (answer === undefined) return fail('operation_timeout');
    if (answer.status !== 200) return fail('dispatch_failed');
    if (answer.body.trim() !== '') {
      // An ack with a body is the command's first answer, shown like a response_url post.
      try {
        const body = JSON.parse(answer.body) as Record<string, unknown>;
        standIn.showReply(context, body);
      } catch {
        standIn.showReply(context, { text: answer.body });
      }
    }
    return { ok: true };
  };

  /** A Block Kit button click: a signed `block_actions` payload with a fresh response_url. */
  const click = async (input: z.infer<typeof ActionBody>) => {
    const person = people.get(input.person);
    const message = standIn.conversation.get(input.messageTs);
    if (person === undefined || message === undefined) return { ok: false, error: 'not found' };
    if (bot === undefined) return { ok: false, error: 'no bot' };
    const responseUrl = standIn.newResponseUrl({
      channel: message.channel,
      userId: person.id,
      messageTs: message.ts,
    });
    const payload = blockActionsPayload({
      userId: person.id,
      channelId: message.channel,
      actionId: input.actionId,
      value: input.value ?? '',
      blockId: input.blockId ?? 'block',
      responseUrl,
      ...(message.visibleTo === undefined
        ? {
            message: {
              type: 'message',
              ts: message.ts,
              user: message.userId,
              text: message.text ?? '',
              blocks: message.blocks ?? [],
            },
          }
        : {}),
    });
    const answer = await postSigned(bot, `payload=${encodeURIComponent(JSON.stringify(payload))}`);
    if (answer === undefined || answer.status !== 200) {
      standIn.postSlackNotice(
        message.channel,
        person.id,
        'The app did not respond to that click in time (Slack shows a warning icon on the button).',
      );
      return { ok: false, error: answer === undefined ? 'timeout' : `HTTP ${answer.status}` };
    }
    return { ok: true };
  };

  const keepAlive = setInterval(() => {
    for (const client of clients) client.write(': keep-alive\n\n');
  }, 15_000);
  keepAlive.unref();

  return {
    url: `${standIn.origin}/`,
    standIn,
    setBot(target) {
      bot = target;
    },
    async close() {
      clearInterval(keepAlive);
      for (const client of clients) client.end();
      clients.clear();
      await standIn.close();
    },
  };
}
