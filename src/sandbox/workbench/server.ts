/**
 * The workbench: the Slack stand-in grown into a web page that looks and behaves enough like
 * Slack to judge the bot. One port serves both sides:
 * - Slack's side, for the bot: the Web API, response_urls and uploads (the stand-in);
 * - the person's side, for the browser: the page (`static/`), its state, a server-sent event
 *   stream of changes, the composer (signed slash commands to the bot) and button clicks (signed
 *   `block_actions` to the bot), the app's Home tab (a signed `app_home_opened` event; the view
 *   the bot publishes with `views.publish`), and file downloads.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { validateBlocks } from '../block-kit-limits.js';
import { appHomeOpenedBody, blockActionsPayload, signSlackRequest } from '../slack-signing.js';
import {
  type ConversationChange,
  type ConversationMessage,
  type ResponseUrlContext,
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

const HomeBody = z.object({ person: z.string().min(1) });
const HomeActionBody = z.object({
  person: z.string().min(1),
  actionId: z.string().min(1),
  blockId: z.string().optional(),
  value: z.string().optional(),
});
/** How long the page waits for the bot to publish a Home view. */
const HOME_TIMEOUT_MS = 15_000;

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
  contentType = 'application/x-www-form-urlencoded',
): Promise<{ status: number; body: string } | undefined> {
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const response = await fetch(bot.url, {
      method: 'POST',
      headers: {
        'content-type': contentType,
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

/** What the workbench's routes, renderer and event stream share. */
interface WorkbenchState {
  options: WorkbenchOptions;
  /** Where commands and clicks go; undefined until {@link Workbench.setBot}. */
  bot: BotTarget | undefined;
  people: Map<string, WorkbenchPerson>;
  channelNames: Map<string, string>;
  /** Open event streams of pages. */
  clients: Set<ServerResponse>;
  /** Thread parent ts → number of replies, and the replies already counted. */
  replies: Map<string, number>;
  counted: Set<string>;
  standIn: SlackStandIn;
  ctx: RenderContext;
}

/** What a page action answers; `html` is the Home tab as the bot last published it. */
type Outcome = { ok: boolean; error?: string; html?: string };

/** Serves `/` and `/static/<file>` from `static/`; false for a file it does not know. */
async function serveStatic(res: ServerResponse, pathname: string): Promise<boolean> {
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

/** Opens a server-sent event stream of conversation changes for a page. */
function openEventStream(wb: WorkbenchState, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.write(': connected\n\n');
  wb.clients.add(res);
  req.on('close', () => wb.clients.delete(res));
}

/** The media type of a file the bot uploads: its charts are PNGs, its lists CSV. */
function contentTypeOf(filename: string): string {
  if (/\.png$/i.test(filename)) return 'image/png';
  if (/\.csv$/i.test(filename)) return 'text/csv; charset=utf-8';
  return 'application/octet-stream';
}

/** Downloads a file the bot uploaded; false for an unknown id. */
function serveFile(wb: WorkbenchState, res: ServerResponse, pathname: string): boolean {
  const id = decodeURIComponent(pathname.slice('/files/'.length));
  const file = wb.standIn.files.find((f) => f.fileId === id);
  if (file === undefined) return false;
  res.writeHead(200, {
    'content-type': contentTypeOf(file.filename),
    'content-disposition': `attachment; filename="${file.filename.replace(/[^\w.-]/g, '_')}"`,
  });
  res.end(file.bytes);
  return true;
}

/** Reads a JSON body with `schema`, answers 400 when it does not fit, else `act`'s outcome. */
async function answerPost<T>(
  req: IncomingMessage,
  res: ServerResponse,
  schema: z.ZodType<T>,
  act: (input: T) => Promise<Outcome>,
): Promise<void> {
  const body = schema.safeParse(await readJson(req).catch(() => undefined));
  if (!body.success) sendJson(res, 400, { ok: false, error: body.error.message });
  else sendJson(res, 200, await act(body.data));
}

/** The page's routes, beside the stand-in's Slack paths; false for a path it does not serve. */
async function route(
  wb: WorkbenchState,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<boolean> {
  if (req.method === 'GET' && (pathname === '/' || pathname.startsWith('/static/'))) {
    return serveStatic(res, pathname);
  }
  if (pathname === '/favicon.ico') {
    res.writeHead(204);
    res.end();
    return true;
  }
  if (req.method === 'GET' && pathname === '/workbench/state') {
    sendJson(res, 200, pageState(wb));
    return true;
  }
  if (req.method === 'GET' && pathname === '/workbench/events') {
    openEventStream(wb, req, res);
    return true;
  }
  if (req.method === 'GET' && pathname.startsWith('/files/')) return serveFile(wb, res, pathname);
  if (req.method === 'POST' && pathname === '/workbench/send') {
    await answerPost(req, res, SendBody, (input) => send(wb, input));
    return true;
  }
  if (req.method === 'POST' && pathname === '/workbench/action') {
    await answerPost(req, res, ActionBody, (input) => click(wb, input));
    return true;
  }
  if (req.method === 'POST' && pathname === '/workbench/home') {
    await answerPost(req, res, HomeBody, (input) => openHome(wb, input));
    return true;
  }
  if (req.method === 'POST' && pathname === '/workbench/home/action') {
    await answerPost(req, res, HomeActionBody, (input) => homeAction(wb, input));
    return true;
  }
  return false;
}

/** The renderer's view of a conversation message: author, blocks and their problems, files. */
function workbenchMessage(wb: WorkbenchState, m: ConversationMessage): WorkbenchMessage {
  const author = wb.standIn.users.get(m.userId);
  const message: WorkbenchMessage = {
    ts: m.ts,
    channel: m.channel,
    ephemeral: m.visibleTo !== undefined,
    author: {
      id: m.userId,
      name: m.userId === 'USLACKBOT' ? 'Slackbot' : (author?.realName ?? author?.name ?? m.userId),
      isBot: m.userId === wb.options.botUserId || m.userId === 'USLACKBOT',
    },
  };
  if (m.text !== undefined) message.text = m.text;
  if (m.blocks !== undefined) {
    message.blocks = m.blocks;
    const problems = m.limitProblems ?? validateBlocks(m.blocks);
    if (problems.length > 0) message.limitProblems = problems;
  } else if (m.limitProblems !== undefined) message.limitProblems = m.limitProblems;
  if (m.threadTs !== undefined) message.threadTs = m.threadTs;
  const count = wb.replies.get(m.ts);
  if (count !== undefined) message.replyCount = count;
  if (m.files !== undefined) {
    message.files = m.files.map((f) => ({
      ...f,
      url: `/files/${encodeURIComponent(f.id)}`,
    }));
  }
  if (m.edited === true) message.edited = true;
  return message;
}

/** A message as the page gets it: rendered HTML and where it goes. */
function toPage(wb: WorkbenchState, m: ConversationMessage): PageMessage {
  const page: PageMessage = {
    ts: m.ts,
    channel: m.channel,
    html: wb.options.render(workbenchMessage(wb, m), wb.ctx),
  };
  if (m.threadTs !== undefined) page.threadTs = m.threadTs;
  if (m.visibleTo !== undefined) page.visibleTo = m.visibleTo;
  return page;
}

function broadcast(wb: WorkbenchState, event: Record<string, unknown>): void {
  const data = `data: ${JSON.stringify(event)}\n\n`;
  for (const client of wb.clients) client.write(data);
}

/** Tells every page of a change; a new reply also redraws its parent (its reply count). */
function onConversationChange(wb: WorkbenchState, change: ConversationChange): void {
  const m = change.message;
  if (change.kind === 'delete') {
    broadcast(wb, { kind: 'delete', ts: m.ts, channel: m.channel });
    return;
  }
  broadcast(wb, { kind: 'upsert', message: toPage(wb, m) });
  // A new reply changes its parent's reply count.
  if (m.threadTs !== undefined && !wb.counted.has(m.ts)) {
    wb.counted.add(m.ts);
    wb.replies.set(m.threadTs, (wb.replies.get(m.threadTs) ?? 0) + 1);
    const parent = wb.standIn.conversation.get(m.threadTs);
    if (parent !== undefined) broadcast(wb, { kind: 'upsert', message: toPage(wb, parent) });
  }
}

/** What a page loads first: the bot, the people with their DMs, the channels, every message. */
function pageState(wb: WorkbenchState) {
  const { options, standIn } = wb;
  return {
    bot: { id: options.botUserId, name: options.botName },
    people: options.people.map((p) => ({
      id: p.id,
      label: p.label,
      dm: standIn.directMessageOf(p.id),
    })),
    channels: options.channels,
    messages: [...standIn.conversation.values()].map((m) => toPage(wb, m)),
  };
}

/** The form body Slack posts to the bot for a slash command. */
function slashCommandBody(
  wb: WorkbenchState,
  person: WorkbenchPerson,
  channel: string,
  command: string,
  text: string,
  responseUrl: string,
): string {
  return new URLSearchParams({
    token: 'unused',
    team_id: 'T0TEST',
    team_domain: 'vpn-conns-demo',
    channel_id: channel,
    channel_name: wb.channelNames.get(channel) ?? 'directmessage',
    user_id: person.id,
    user_name: person.name,
    command,
    text,
    api_app_id: 'A0TEST',
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: `${Date.now()}.${randomBytes(8).toString('hex')}`,
  }).toString();
}

/** Shows an ack with a body, the command's first answer, like a response_url post. */
function showAck(standIn: SlackStandIn, context: ResponseUrlContext, ackBody: string): void {
  if (ackBody.trim() === '') return;
  try {
    const body = JSON.parse(ackBody) as Record<string, unknown>;
    standIn.showReply(context, body);
  } catch {
    standIn.showReply(context, { text: ackBody });
  }
}

/** Sends `/vpn-conns …` to the bot, signed; Slack's notice when the bot fails or is too slow. */
async function slashCommand(
  wb: WorkbenchState,
  person: WorkbenchPerson,
  channel: string,
  command: string,
  text: string,
): Promise<Outcome> {
  const { standIn } = wb;
  const context = { channel, userId: person.id };
  const fail = (error: string) => {
    standIn.postSlackNotice(channel, person.id, `${command} failed with the error "${error}"`);
    return { ok: false, error };
  };
  if (wb.bot === undefined) return fail('dispatch_failed');
  const responseUrl = standIn.newResponseUrl(context);
  const rawBody = slashCommandBody(wb, person, channel, command, text, responseUrl);
  const answer = await postSigned(wb.bot, rawBody);
  if (answer === undefined) return fail('operation_timeout');
  if (answer.status !== 200) return fail('dispatch_failed');
  showAck(standIn, context, answer.body);
  return { ok: true };
}

/** The composer: a slash command to the bot, or a plain message in the channel. */
async function send(wb: WorkbenchState, input: z.infer<typeof SendBody>): Promise<Outcome> {
  const person = wb.people.get(input.person);
  if (person === undefined) return { ok: false, error: 'unknown person' };
  const text = input.text.trim();
  if (!text.startsWith('/')) {
    wb.standIn.postAsUser(input.channel, person.id, text, input.threadTs);
    return { ok: true };
  }
  const [command = '', ...rest] = text.split(/\s+/);
  if (command !== '/vpn-conns') {
    wb.standIn.postSlackNotice(
      input.channel,
      person.id,
      `${command} is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands.`,
    );
    return { ok: false, error: 'invalid_command' };
  }
  return slashCommand(wb, person, input.channel, command, rest.join(' '));
}

/** A Block Kit button click: a signed `block_actions` payload with a fresh response_url. */
async function click(wb: WorkbenchState, input: z.infer<typeof ActionBody>): Promise<Outcome> {
  const { standIn } = wb;
  const person = wb.people.get(input.person);
  const message = standIn.conversation.get(input.messageTs);
  if (person === undefined || message === undefined) return { ok: false, error: 'not found' };
  if (wb.bot === undefined) return { ok: false, error: 'no bot' };
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
  const answer = await postSigned(wb.bot, `payload=${encodeURIComponent(JSON.stringify(payload))}`);
  if (answer === undefined || answer.status !== 200) {
    standIn.postSlackNotice(
      message.channel,
      person.id,
      'The app did not respond to that click in time (Slack shows a warning icon on the button).',
    );
    return { ok: false, error: answer === undefined ? 'timeout' : `HTTP ${answer.status}` };
  }
  return { ok: true };
}

/** The Home tab the bot last published for a person, drawn like a message of the bot. */
function homeHtml(wb: WorkbenchState, personId: string): string | undefined {
  const view = wb.standIn.homeViews.get(personId);
  if (view === undefined) return undefined;
  const { botUserId, botName } = wb.options;
  return wb.options.render(
    {
      ts: 'home',
      channel: 'home',
      ephemeral: false,
      author: { id: botUserId, name: botName, isBot: true },
      blocks: Array.isArray(view.blocks) ? view.blocks : [],
    },
    wb.ctx,
  );
}

/** Waits until the bot publishes a Home view for the person other than `before`. */
async function homePublished(
  wb: WorkbenchState,
  personId: string,
  before: unknown,
): Promise<Outcome> {
  try {
    await wb.standIn.waitFor(() => wb.standIn.homeViews.get(personId) !== before, HOME_TIMEOUT_MS);
  } catch {
    return { ok: false, error: 'the bot published no Home view in time' };
  }
  const html = homeHtml(wb, personId);
  return html === undefined ? { ok: false, error: 'no Home view' } : { ok: true, html };
}

/** Opens the app's Home tab for a person: the signed `app_home_opened` event, then the view. */
async function openHome(wb: WorkbenchState, input: z.infer<typeof HomeBody>): Promise<Outcome> {
  const person = wb.people.get(input.person);
  if (person === undefined) return { ok: false, error: 'unknown person' };
  if (wb.bot === undefined) return { ok: false, error: 'no bot' };
  const before = wb.standIn.homeViews.get(person.id);
  const body = appHomeOpenedBody({
    userId: person.id,
    botUserId: wb.options.botUserId,
    channel: wb.standIn.openDirectMessage(person.id),
  });
  const answer = await postSigned(wb.bot, body, 'application/json');
  if (answer === undefined || answer.status !== 200) {
    return { ok: false, error: answer === undefined ? 'timeout' : `HTTP ${answer.status}` };
  }
  return homePublished(wb, person.id, before);
}

/** A button of the Home tab: a signed `block_actions` payload from the view, then the new view. */
async function homeAction(
  wb: WorkbenchState,
  input: z.infer<typeof HomeActionBody>,
): Promise<Outcome> {
  const person = wb.people.get(input.person);
  if (person === undefined) return { ok: false, error: 'unknown person' };
  if (wb.bot === undefined) return { ok: false, error: 'no bot' };
  const before = wb.standIn.homeViews.get(person.id);
  const viewId = typeof before?.id === 'string' ? before.id : 'V0HOME';
  const nowSeconds = Date.now() / 1000;
  const payload = {
    type: 'block_actions',
    user: { id: person.id, username: person.name, name: person.name, team_id: 'T0TEST' },
    api_app_id: 'A0TEST',
    token: 'unused',
    container: { type: 'view', view_id: viewId },
    trigger_id: `${Date.now()}.${randomBytes(8).toString('hex')}`,
    team: { id: 'T0TEST', domain: 'vpn-conns-demo' },
    is_enterprise_install: false,
    view: { id: viewId, type: 'home', blocks: before?.blocks ?? [] },
    actions: [
      {
        action_id: input.actionId,
        block_id: input.blockId ?? 'block',
        text: { type: 'plain_text', text: 'Button' },
        value: input.value ?? '',
        type: 'button',
        action_ts: nowSeconds.toFixed(6),
      },
    ],
  };
  const answer = await postSigned(wb.bot, `payload=${encodeURIComponent(JSON.stringify(payload))}`);
  if (answer === undefined || answer.status !== 200) {
    return { ok: false, error: answer === undefined ? 'timeout' : `HTTP ${answer.status}` };
  }
  return homePublished(wb, person.id, before);
}

/** Adds the bot and the people (each with a DM) to the stand-in's workspace. */
function addMembers(standIn: SlackStandIn, options: WorkbenchOptions): void {
  standIn.users.set(options.botUserId, {
    id: options.botUserId,
    name: options.botName,
    isBot: true,
  });
  for (const p of options.people) {
    standIn.users.set(p.id, { id: p.id, name: p.name, realName: p.realName, email: p.email });
    standIn.openDirectMessage(p.id);
  }
}

/**
 * Starts the workbench on 127.0.0.1: the Slack stand-in with the people, channels and DMs of the
 * demo workspace, plus the page's routes.
 */
export async function startWorkbench(options: WorkbenchOptions): Promise<Workbench> {
  // The page's routes need the stand-in they are given to; it is set right after it listens.
  let wb: WorkbenchState | undefined;
  const standIn = await startSlackStandIn({
    botToken: options.botToken,
    botUserId: options.botUserId,
    port: options.port,
    routes: async (req, res, pathname) =>
      wb === undefined ? false : route(wb, req, res, pathname),
  });
  addMembers(standIn, options);
  const channelNames = new Map(options.channels.map((c) => [c.id, c.name]));
  const state: WorkbenchState = {
    options,
    bot: options.bot,
    people: new Map(options.people.map((p) => [p.id, p])),
    channelNames,
    clients: new Set(),
    replies: new Map(),
    counted: new Set(),
    standIn,
    ctx: {
      userName: (id) => standIn.users.get(id)?.name,
      channelName: (id) => channelNames.get(id),
      fileUrl: (id) =>
        standIn.files.some((f) => f.fileId === id) ? `/files/${encodeURIComponent(id)}` : undefined,
    },
  };
  wb = state;
  standIn.onChange((change) => onConversationChange(state, change));
  const keepAlive = setInterval(() => {
    for (const client of state.clients) client.write(': keep-alive\n\n');
  }, 15_000);
  keepAlive.unref();
  return {
    url: `${standIn.origin}/`,
    standIn,
    setBot(target) {
      state.bot = target;
    },
    async close() {
      clearInterval(keepAlive);
      for (const client of state.clients) client.end();
      state.clients.clear();
      await standIn.close();
    },
  };
}
