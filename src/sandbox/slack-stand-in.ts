/**
 * A loopback stand-in for Slack, for tests that drive the real Bolt app and the real
 * `@slack/web-api` client offline: the Web API (`POST /api/<method>`), response_urls, file upload
 * URLs and a Socket Mode WebSocket, all on one `127.0.0.1` port.
 *
 * Point the app at it with `clientOptions: { slackApiUrl: standIn.url, retryConfig: { retries: 0 } }`
 * and put `standIn.newResponseUrl()` in the payloads you send. It answers like Slack does: HTTP 200
 * with `{ ok: false, error }` for errors, 429 + `Retry-After` for rate limits, and it refuses
 * blocks beyond Slack's limits (checked by its own validator, not the app's guard).
 *
 * Deliberate choices where Slack's behaviour is not documented:
 * - a response_url accepts 5 posts within 30 minutes; the 6th gets HTTP 404 with text body
 *   `used_url`, a post after 30 minutes 404 `expired_url`. A URL not made by
 *   {@link SlackStandIn.newResponseUrl} gets 404 `no_service`. Refused posts do not count.
 * - a response_url post with invalid blocks gets HTTP 400 `invalid_blocks` (Slack's observed answer
 *   to webhooks), one with neither `text`, `blocks` nor `delete_original` gets 400 `no_text`.
 * - `chat.update` of a ts this stand-in never issued answers `message_not_found`.
 * - `conversations.history` lists the top-level messages posted through this stand-in to a
 *   channel (never thread replies), newest first, with `oldest`/`latest` exclusive, `limit`
 *   (default 100) and an opaque cursor; `metadata` only with `include_all_metadata`. A channel
 *   nothing was posted to answers an empty list (the stand-in keeps no membership).
 *
 * Besides the call log it keeps the workspace as people see it, the {@link SlackStandIn.conversation}:
 * messages per channel, ephemeral ones with the one person who sees them, threads, files, edits
 * and `replace_original`. The workbench (`src/sandbox/workbench/`) shows it in a browser; a message
 * Slack refuses for breaking a Block Kit limit is kept there too, marked with the problems, so a
 * person can see what the bot tried to send (the bot still gets Slack's error).
 */
import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { validateBlocks } from './block-kit-limits.js';

/** A workspace member, as `users.info` and `users.lookupByEmail` will describe them. */
export interface SlackUser {
  id: string;
  name?: string;
  realName?: string;
  email?: string;
  isBot?: boolean;
  deleted?: boolean;
  isRestricted?: boolean;
  tz?: string;
}

/** One Web API call, whatever its outcome, with its body decoded from JSON or a form. */
export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
  token: string | undefined;
  at: Date;
}

/** One accepted POST to a response_url. */
export interface SlackResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
  at: Date;
}

/** A file whose upload was completed with `files.completeUploadExternal`. */
export interface UploadedFile {
  fileId: string;
  filename: string;
  content: string;
  channelId?: string;
  title?: string;
  initialComment?: string;
  threadTs?: string;
}

/** A successful `chat.postMessage`, `chat.postEphemeral` or `chat.update` (one entry each). */
export interface PostedMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  threadTs?: string;
  /** `chat.postMessage`'s `metadata` (`event_type`, `event_payload`), when sent. */
  metadata?: Record<string, unknown>;
}

/**
 * A message as the people of the workspace see it: the latest version of each `ts` (an update or
 * `replace_original` changes it in place), ephemeral ones with who sees them.
 */
export interface ConversationMessage {
  ts: string;
  channel: string;
  /** Who wrote it: the bot's user id for the bot. */
  userId: string;
  text?: string;
  blocks?: unknown[];
  /** Set for an ephemeral message: the only person who sees it. */
  visibleTo?: string;
  threadTs?: string;
  files?: { id: string; name: string; title?: string }[];
  edited?: boolean;
  /** Block Kit limits this message breaks: Slack refused it, the bot got `invalid_blocks`. */
  limitProblems?: string[];
}

/** What a response_url belongs to, so that its posts land where Slack would put them. */
export interface ResponseUrlContext {
  channel: string;
  /** Who typed the command or clicked: an ephemeral answer is theirs. */
  userId: string;
  /** The message holding the clicked button (`replace_original`, `delete_original`). */
  messageTs?: string;
}

/** A change of the conversation: a message added or changed (`upsert`), or deleted. */
export interface ConversationChange {
  kind: 'upsert' | 'delete';
  message: ConversationMessage;
}

/** Identity of the fake workspace and the tokens it accepts. */
export interface SlackStandInOptions {
  /** The only bot token accepted by Web API methods; default `xoxb-test`. */
  botToken?: string;
  /** The only token accepted by `apps.connections.open`; default `xapp-test`. */
  appToken?: string;
  /** Default `T0TEST`. */
  teamId?: string;
  /** The bot's user id reported by `auth.test`; default `UBOT`. */
  botUserId?: string;
  /** The clock of message timestamps (`ts`, as Slack's) and of response_url expiry; default the system clock. */
  now?: () => Date;
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /**
   * Serves requests outside Slack's paths (`/api/`, `/response/`, `/upload/`, `/socket`), for the
   * workbench page; answers true when it handled the request. Without it they get 404.
   */
  routes?: (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<boolean>;
}

/** A running stand-in; see {@link startSlackStandIn}. */
export interface SlackStandIn {
  /** Base URL for the WebClient's `slackApiUrl`: `http://127.0.0.1:PORT/api/`. */
  url: string;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  calls: SlackCall[];
  responseUrlPosts: SlackResponseUrlPost[];
  messages: PostedMessage[];
  files: UploadedFile[];
  /** `users.info` and `users.lookupByEmail` read from here: add users before use. */
  users: Map<string, SlackUser>;
  /** `usergroups.users.list` reads from here: group id → user ids. */
  userGroups: Map<string, string[]>;
  /** The workspace as people see it, by ts, in order of posting. */
  conversation: Map<string, ConversationMessage>;
  /** Calls `listener` on every change of {@link conversation}; returns the unsubscribe function. */
  onChange(listener: (change: ConversationChange) => void): () => void;
  /** Adds a message written by a person (the workbench's composer). */
  postAsUser(channel: string, userId: string, text: string, threadTs?: string): ConversationMessage;
  /**
   * Puts a message body where Slack puts an answer to that context: the ack body of a slash
   * command, or what a response_url post carries (ephemeral unless `in_channel`, or replacing or
   * deleting the clicked message).
   */
  showReply(context: ResponseUrlContext, body: Record<string, unknown>): void;
  /** Adds an ephemeral message from Slack itself (e.g. "/foo is not a valid command"). */
  postSlackNotice(channel: string, userId: string, text: string): ConversationMessage;
  /** The DM channel `conversations.open` gives for a user (opened on first call); undefined before. */
  directMessageOf(userId: string): string | undefined;
  /** Opens (or finds) the DM channel between the bot and a user, as `conversations.open` does. */
  openDirectMessage(userId: string): string;
  /**
   * A fresh `${origin}/response/<id>` URL to put in a slash-command or interaction payload. With a
   * context its posts also land in {@link conversation}: ephemeral to that person unless
   * `response_type: in_channel`, or replacing / deleting the clicked message.
   */
  newResponseUrl(context?: ResponseUrlContext): string;
  /** Polls `predicate` until it returns something truthy (default timeout 5 s) and resolves with it. */
  waitFor<T>(predicate: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  faults: {
    /** The next `n` (default 1) calls of `method` answer HTTP 200 `{ ok: false, error }`. */
    failNext(method: string, error: string, n?: number): void;
    /** The next `n` (default 1) calls of `method` answer HTTP 429 with `Retry-After`. */
    rateLimitNext(method: string, retryAfterSeconds: number, n?: number): void;
    /** While on, `usergroups.users.list` answers `plan_upgrade_required` (a free workspace). */
    planUpgradeRequired(on: boolean): void;
    /** The next `n` (default 1) calls of `method` answer HTTP `status` (default 500), doing nothing. */
    serverErrorNext(method: string, status?: number, n?: number): void;
    /**
     * The next `n` (default 1) calls of `method` take `ms` to answer: `before` waits first and
     * does nothing if the client has gone meanwhile; `after` does the call (a message is posted)
     * and then waits, so a client that times out never learns that it succeeded.
     */
    slowNext(method: string, ms: number, when: 'before' | 'after', n?: number): void;
    /** Delays every answer (Web API, response_url, upload) by `ms`. */
    latency(ms: number): void;
    /** Clears every fault above. */
    reset(): void;
  };
  socket: {
    connected(): boolean;
    waitForConnection(timeoutMs?: number): Promise<void>;
    /**
     * Sends an envelope (type `slash_commands` | `interactive` | `events_api`) with the given
     * payload; resolves with the app's ack payload (`{}` when acked without payload).
     */
    send(type: string, payload: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
  };
  /** Closes WebSockets first (waiting for them), then the HTTP server. Stop the app before. */
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

/** Form fields Slack's clients send as JSON-encoded strings inside a url-encoded body. */
const JSON_FORM_FIELDS = new Set(['blocks', 'attachments', 'files', 'metadata']);
const MAX_TEXT_LENGTH = 40_000;
const MAX_POSTS_PER_RESPONSE_URL = 5;
const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;
const DEFAULT_WAIT_MS = 5000;
const SOCKET_CLOSE_GRACE_MS = 1000;
const BOT_ID = 'B0TEST';
const APP_ID = 'A0TEST';

interface PendingUpload {
  fileId: string;
  filename: string;
  length: number;
  content?: string;
}

interface ResponseUrlState {
  posts: number;
  createdAtMs: number;
  context?: ResponseUrlContext;
}

interface PendingAck {
  resolve(payload: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** What a Web API handler answers; `status` defaults to 200. */
interface ApiAnswer {
  status?: number;
  headers?: Record<string, string>;
  body: Json;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function contentType(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Decodes a JSON or url-encoded body; JSON-encoded form fields (`blocks`, …) are parsed too. */
function decodeBody(raw: Buffer, headers: IncomingHttpHeaders): Json {
  const text = raw.toString('utf8');
  if (text.length === 0) return {};
  if (contentType(headers) === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(text);
      return isObject(parsed) ? parsed : { _invalid_json: text };
    } catch {
      return { _invalid_json: text };
    }
  }
  const body: Json = {};
  for (const [key, value] of new URLSearchParams(text)) {
    body[key] = JSON_FORM_FIELDS.has(key) ? parseJsonOrKeep(value) : value;
  }
  return body;
}

function parseJsonOrKeep(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function newId(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex').toUpperCase()}`;
}

/** Checks a message body as Slack does; returns the `{ ok: false }` answer or undefined. */
function messageProblem(body: Json): Json | undefined {
  const hasText = typeof body.text === 'string' && body.text.length > 0;
  const hasBlocks = body.blocks !== undefined && body.blocks !== '';
  const hasAttachments = body.attachments !== undefined && body.attachments !== '';
  if (!hasText && !hasBlocks && !hasAttachments) return { ok: false, error: 'no_text' };
  if (typeof body.text === 'string' && body.text.length > MAX_TEXT_LENGTH) {
    return { ok: false, error: 'msg_too_long' };
  }
  if (hasBlocks) {
    const errors = validateBlocks(body.blocks);
    if (errors.length > 0) return { ok: false, error: 'invalid_blocks', errors };
  }
  return undefined;
}

/** Reads the uploaded bytes from a raw or multipart/form-data body (what filesUploadV2 sends). */
async function readUploadContent(raw: Buffer, headers: IncomingHttpHeaders): Promise<string> {
  if (contentType(headers) !== 'multipart/form-data') return raw.toString('utf8');
  const form = await new Response(raw, {
    headers: { 'content-type': headers['content-type'] ?? '' },
  }).formData();
  let fallback: string | undefined;
  for (const [, value] of form) {
    if (typeof value !== 'string') return value.text();
    fallback ??= value;
  }
  return fallback ?? '';
}

function userObject(user: SlackUser, teamId: string): Json {
  const name = user.name ?? user.id.toLowerCase();
  const realName = user.realName ?? name;
  const profile: Json = { real_name: realName, display_name: name };
  if (user.email !== undefined) profile.email = user.email;
  return {
    id: user.id,
    team_id: teamId,
    name,
    real_name: realName,
    deleted: user.deleted ?? false,
    is_bot: user.isBot ?? false,
    is_restricted: user.isRestricted ?? false,
    is_ultra_restricted: false,
    tz: user.tz ?? 'Etc/UTC',
    profile,
  };
}

/**
 * Starts the Slack stand-in on an ephemeral `127.0.0.1` port.
 *
 * Use one per test file (or per test), reset what you need between tests, and `close()` it
 * after stopping every app that talks to it: a Socket Mode app left running reconnects.
 */
export async function startSlackStandIn(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const botToken = options.botToken ?? 'xoxb-test';
  const appToken = options.appToken ?? 'xapp-test';
  const teamId = options.teamId ?? 'T0TEST';
  const botUserId = options.botUserId ?? 'UBOT';
  const clock = options.now ?? (() => new Date());
  const conversation = new Map<string, ConversationMessage>();
  const listeners = new Set<(change: ConversationChange) => void>();

  const calls: SlackCall[] = [];
  const responseUrlPosts: SlackResponseUrlPost[] = [];
  const messages: PostedMessage[] = [];
  const files: UploadedFile[] = [];
  const users = new Map<string, SlackUser>();
  const userGroups = new Map<string, string[]>();
  const responseUrls = new Map<string, ResponseUrlState>();
  const uploads = new Map<string, PendingUpload>();
  const issuedTs = new Set<string>();
  /** `conversations.open`: sorted user ids → the DM (or group DM) channel id. */
  const directMessages = new Map<string, string>();

  const failures = new Map<string, { error: string; remaining: number }[]>();
  const rateLimits = new Map<string, { retryAfter: number; remaining: number }[]>();
  const serverErrors = new Map<string, { status: number; remaining: number }[]>();
  const slow = new Map<string, { ms: number; when: 'before' | 'after'; remaining: number }[]>();
  let planUpgrade = false;
  let latencyMs = 0;

  const sockets = new Set<WebSocket>();
  const pendingAcks = new Map<string, PendingAck>();
  let lastTsMicros = 0;
  let origin = '';

  /** Unique, increasing message timestamps in Slack's `seconds.micros` format. */
  function nextTs(): string {
    lastTsMicros = Math.max(lastTsMicros + 1, clock().getTime() * 1000);
    const ts = `${Math.floor(lastTsMicros / 1e6)}.${String(lastTsMicros % 1e6).padStart(6, '0')}`;
    issuedTs.add(ts);
    return ts;
  }

  function takeFault<F extends { remaining: number }>(
    queue: Map<string, F[]>,
    method: string,
  ): F | undefined {
    const list = queue.get(method);
    const fault = list?.[0];
    if (list === undefined || fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) list.shift();
    return fault;
  }

  function emit(change: ConversationChange): void {
    for (const listener of listeners) listener(change);
  }

  /** Adds or replaces a message of the conversation and tells the listeners. */
  function show(message: ConversationMessage): ConversationMessage {
    conversation.set(message.ts, message);
    emit({ kind: 'upsert', message });
    return message;
  }

  /** The conversation's view of a message body (text, blocks, thread) as posted by the bot. */
  function shown(body: Json, channel: string, ts: string): ConversationMessage {
    const message: ConversationMessage = { ts, channel, userId: botUserId };
    if (typeof body.text === 'string') message.text = body.text;
    if (Array.isArray(body.blocks)) message.blocks = body.blocks;
    const threadTs = str(body.thread_ts);
    if (threadTs !== undefined && threadTs !== ts) message.threadTs = threadTs;
    return message;
  }

  /** Keeps a message Slack refused for its blocks, marked, so a person can see what was tried. */
  function showRefused(body: Json, channel: string, problem: Json, visibleTo?: string): void {
    if (problem.error !== 'invalid_blocks' || !Array.isArray(problem.errors)) return;
    const message = shown(body, channel, nextTs());
    message.limitProblems = problem.errors.map(String);
    if (visibleTo !== undefined) message.visibleTo = visibleTo;
    show(message);
  }

  function openDirectMessage(ids: string[]): string {
    const key = [...ids].sort().join(',');
    let channel = directMessages.get(key);
    if (channel === undefined) {
      channel = newId(ids.length === 1 ? 'D' : 'G');
      directMessages.set(key, channel);
    }
    return channel;
  }

  function recordMessage(body: Json, channel: string, ts: string): void {
    const message: PostedMessage = { channel, ts };
    if (typeof body.text === 'string') message.text = body.text;
    if (Array.isArray(body.blocks)) message.blocks = body.blocks;
    const threadTs = str(body.thread_ts);
    if (threadTs !== undefined) message.threadTs = threadTs;
    if (isObject(body.metadata)) message.metadata = body.metadata;
    messages.push(message);
  }

  /** `conversations.history` over the top-level messages of a channel (see the module comment). */
  function history(body: Json): ApiAnswer {
    const channel = str(body.channel);
    if (channel === undefined || channel === '') {
      return { body: { ok: false, error: 'channel_not_found' } };
    }
    const oldest = Number(str(body.oldest) ?? '0');
    const latest = Number(str(body.latest) ?? 'Infinity');
    const limit = Math.min(999, Math.max(1, Number(str(body.limit) ?? '100') || 100));
    const withMetadata = body.include_all_metadata === true || body.include_all_metadata === 'true';
    const offset = Number(/^c(\d+)$/.exec(str(body.cursor) ?? '')?.[1] ?? '0');
    // chat.update records the same ts again: the latest version of each message counts.
    const byTs = new Map<string, PostedMessage>();
    for (const m of messages) {
      if (m.channel === channel && m.threadTs === undefined && issuedTs.has(m.ts))
        byTs.set(m.ts, m);
    }
    const listed = [...byTs.values()]
      .filter((m) => Number(m.ts) > oldest && Number(m.ts) < latest)
      .sort((a, b) => Number(b.ts) - Number(a.ts));
    const page = listed.slice(offset, offset + limit).map((m) => {
      const item: Json = { type: 'message', user: botUserId, bot_id: BOT_ID, ts: m.ts };
      if (m.text !== undefined) item.text = m.text;
      if (m.blocks !== undefined) item.blocks = m.blocks;
      if (withMetadata && m.metadata !== undefined) item.metadata = m.metadata;
      return item;
    });
    const more = offset + limit < listed.length;
    return {
      body: {
        ok: true,
        messages: page,
        has_more: more,
        response_metadata: { next_cursor: more ? `c${offset + limit}` : '' },
      },
    };
  }

  /** Token rules: app token only for apps.connections.open, bot token for everything else. */
  function authProblem(
    method: string,
    token: string | undefined,
    fromHeader: boolean,
  ): Json | undefined {
    if (token === undefined || token === '') return { ok: false, error: 'not_authed' };
    if (method === 'apps.connections.open') {
      // Slack refuses the app token as a POST parameter here: it must come in the header.
      if (token === appToken && fromHeader) return undefined;
      if (token.startsWith('xoxb-') || token.startsWith('xoxp-')) {
        return { ok: false, error: 'not_allowed_token_type' };
      }
      return { ok: false, error: 'invalid_auth' };
    }
    if (token === botToken) return undefined;
    if (token === appToken) return { ok: false, error: 'not_allowed_token_type' };
    return { ok: false, error: 'invalid_auth' };
  }

  const methods: Record<string, (body: Json) => ApiAnswer | Promise<ApiAnswer>> = {
    'auth.test': () => ({
      body: {
        ok: true,
        url: 'https://test-workspace.slack.com/',
        team: 'Test Workspace',
        user: 'vpn-conns',
        team_id: teamId,
        user_id: botUserId,
        bot_id: BOT_ID,
        is_enterprise_install: false,
      },
    }),
    'chat.postMessage': (body) => {
      const channel = str(body.channel);
      if (channel === undefined || channel === '') {
        return { body: { ok: false, error: 'channel_not_found' } };
      }
      const problem = messageProblem(body);
      if (problem !== undefined) {
        showRefused(body, channel, problem);
        return { body: problem };
      }
      const ts = nextTs();
      recordMessage(body, channel, ts);
      show(shown(body, channel, ts));
      const message: Json = { type: 'message', user: botUserId, bot_id: BOT_ID, ts };
      if (typeof body.text === 'string') message.text = body.text;
      if (Array.isArray(body.blocks)) message.blocks = body.blocks;
      if (body.thread_ts !== undefined) message.thread_ts = body.thread_ts;
      return { body: { ok: true, channel, ts, message } };
    },
    'chat.postEphemeral': (body) => {
      const channel = str(body.channel);
      if (channel === undefined || channel === '') {
        return { body: { ok: false, error: 'channel_not_found' } };
      }
      const user = str(body.user);
      if (user === undefined) return { body: { ok: false, error: 'user_not_in_channel' } };
      const problem = messageProblem(body);
      if (problem !== undefined) {
        showRefused(body, channel, problem, user);
        return { body: problem };
      }
      const ts = nextTs();
      recordMessage(body, channel, ts);
      show({ ...shown(body, channel, ts), visibleTo: user });
      return { body: { ok: true, message_ts: ts } };
    },
    'chat.update': (body) => {
      const channel = str(body.channel);
      const ts = str(body.ts);
      if (channel === undefined || channel === '') {
        return { body: { ok: false, error: 'channel_not_found' } };
      }
      if (ts === undefined || !issuedTs.has(ts)) {
        return { body: { ok: false, error: 'message_not_found' } };
      }
      const problem = messageProblem(body);
      if (problem !== undefined) return { body: problem };
      recordMessage(body, channel, ts);
      const before = conversation.get(ts);
      if (before !== undefined) {
        const after: ConversationMessage = { ...before, edited: true };
        if (typeof body.text === 'string') after.text = body.text;
        if (Array.isArray(body.blocks)) after.blocks = body.blocks;
        show(after);
      }
      const answer: Json = { ok: true, channel, ts };
      if (typeof body.text === 'string') answer.text = body.text;
      return { body: answer };
    },
    'users.info': (body) => {
      const user = users.get(str(body.user) ?? '');
      if (user === undefined) return { body: { ok: false, error: 'user_not_found' } };
      return { body: { ok: true, user: userObject(user, teamId) } };
    },
    'users.lookupByEmail': (body) => {
      const email = str(body.email)?.toLowerCase();
      const user = [...users.values()].find((u) => u.email?.toLowerCase() === email);
      if (email === undefined || user === undefined) {
        return { body: { ok: false, error: 'users_not_found' } };
      }
      return { body: { ok: true, user: userObject(user, teamId) } };
    },
    'usergroups.users.list': (body) => {
      if (planUpgrade) return { body: { ok: false, error: 'plan_upgrade_required' } };
      const members = userGroups.get(str(body.usergroup) ?? '');
      if (members === undefined) return { body: { ok: false, error: 'no_such_subteam' } };
      return { body: { ok: true, users: [...members] } };
    },
    'conversations.history': history,
    'conversations.open': (body) => {
      // One DM per user: the same `D…` id every time, as Slack answers for an existing DM.
      const ids = (str(body.users) ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== '');
      if (ids.length === 0) return { body: { ok: false, error: 'users_list_not_supplied' } };
      if (ids.some((id) => !users.has(id) && !/^[UW][A-Z0-9]{2,}$/.test(id))) {
        return { body: { ok: false, error: 'user_not_found' } };
      }
      return { body: { ok: true, channel: { id: openDirectMessage(ids) } } };
    },
    'files.getUploadURLExternal': (body) => {
      const filename = str(body.filename);
      const length = Number(str(body.length));
      if (filename === undefined || filename === '') {
        return { body: { ok: false, error: 'invalid_arguments' } };
      }
      if (!Number.isInteger(length) || length < 0) {
        return { body: { ok: false, error: 'invalid_arguments' } };
      }
      const fileId = newId('F');
      uploads.set(fileId, { fileId, filename, length });
      return { body: { ok: true, upload_url: `${origin}/upload/${fileId}`, file_id: fileId } };
    },
    'files.completeUploadExternal': (body) => {
      const list = body.files;
      if (!Array.isArray(list) || list.length === 0) {
        return { body: { ok: false, error: 'invalid_arguments' } };
      }
      const pending: { upload: PendingUpload & { content: string }; title?: string }[] = [];
      for (const entry of list) {
        const upload = isObject(entry) ? uploads.get(str(entry.id) ?? '') : undefined;
        if (upload === undefined || upload.content === undefined || !isObject(entry)) {
          return { body: { ok: false, error: 'file_not_found' } };
        }
        const title = str(entry.title);
        pending.push({
          upload: { ...upload, content: upload.content },
          ...(title === undefined ? {} : { title }),
        });
      }
      const channelId = str(body.channel_id) ?? str(body.channels);
      const initialComment = str(body.initial_comment);
      const threadTs = str(body.thread_ts);
      const answered: Json[] = [];
      const shownFiles: NonNullable<ConversationMessage['files']> = [];
      for (const { upload, title } of pending) {
        const file: UploadedFile = {
          fileId: upload.fileId,
          filename: upload.filename,
          content: upload.content,
        };
        if (channelId !== undefined) file.channelId = channelId;
        if (title !== undefined) file.title = title;
        if (initialComment !== undefined) file.initialComment = initialComment;
        if (threadTs !== undefined) file.threadTs = threadTs;
        files.push(file);
        uploads.delete(upload.fileId);
        answered.push({
          id: upload.fileId,
          name: upload.filename,
          title: title ?? upload.filename,
        });
        shownFiles.push({
          id: upload.fileId,
          name: upload.filename,
          title: title ?? upload.filename,
        });
      }
      if (channelId !== undefined) {
        const message: ConversationMessage = {
          ts: nextTs(),
          channel: channelId,
          userId: botUserId,
          files: shownFiles,
        };
        if (initialComment !== undefined) message.text = initialComment;
        if (threadTs !== undefined) message.threadTs = threadTs;
        show(message);
      }
      return { body: { ok: true, files: answered } };
    },
    'apps.connections.open': () => ({
      body: { ok: true, url: `${origin.replace(/^http/, 'ws')}/socket?ticket=${newId('t')}` },
    }),
  };

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
  ): Promise<void> {
    const body = decodeBody(await readBody(req), req.headers);
    const headerToken = bearerToken(req.headers);
    const token = headerToken ?? str(body.token);
    calls.push({ method, body, token, at: new Date() });

    const limited = takeFault(rateLimits, method);
    if (limited !== undefined) {
      sendJson(
        res,
        429,
        { ok: false, error: 'ratelimited' },
        { 'retry-after': String(limited.retryAfter) },
      );
      return;
    }
    const failure = takeFault(failures, method);
    if (failure !== undefined) {
      sendJson(res, 200, { ok: false, error: failure.error });
      return;
    }
    const serverError = takeFault(serverErrors, method);
    if (serverError !== undefined) {
      sendText(res, serverError.status, 'stand-in server error');
      return;
    }
    const delay = takeFault(slow, method);
    if (delay?.when === 'before') {
      await sleep(delay.ms);
      if (req.socket.destroyed) return;
    }
    const handler = methods[method];
    if (handler === undefined) {
      sendJson(res, 200, { ok: false, error: 'unknown_method' });
      return;
    }
    const authError = authProblem(method, token, headerToken !== undefined);
    if (authError !== undefined) {
      sendJson(res, 200, authError);
      return;
    }
    const answer = await handler(body);
    if (delay?.when === 'after') {
      await sleep(delay.ms);
      if (req.socket.destroyed) return;
    }
    sendJson(res, answer.status ?? 200, answer.body, answer.headers);
  }

  /** Where Slack puts a response_url post: the clicked message, the channel, or one person. */
  function showResponse(context: ResponseUrlContext, body: Json): void {
    const yes = (value: unknown) => value === true || value === 'true';
    const original =
      context.messageTs === undefined ? undefined : conversation.get(context.messageTs);
    if (yes(body.delete_original)) {
      if (original !== undefined) {
        conversation.delete(original.ts);
        emit({ kind: 'delete', message: original });
      }
      return;
    }
    if (yes(body.replace_original) && original !== undefined) {
      const next: ConversationMessage = { ...original };
      delete next.text;
      delete next.blocks;
      delete next.limitProblems;
      if (typeof body.text === 'string') next.text = body.text;
      if (Array.isArray(body.blocks)) next.blocks = body.blocks;
      if (body.response_type === 'in_channel') delete next.visibleTo;
      show(next);
      return;
    }
    const message = shown(body, context.channel, nextTs());
    if (body.response_type !== 'in_channel') message.visibleTo = context.userId;
    show(message);
  }

  async function handleResponseUrl(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
  ): Promise<void> {
    const raw = await readBody(req);
    const state = responseUrls.get(id);
    if (state === undefined) {
      sendText(res, 404, 'no_service');
      return;
    }
    let body = decodeBody(raw, req.headers);
    // A form post carries the message as `payload=<JSON>`, like an incoming webhook.
    if (typeof body.payload === 'string') {
      const inner = parseJsonOrKeep(body.payload);
      if (isObject(inner)) body = inner;
    }
    if (body._invalid_json !== undefined) {
      sendText(res, 400, 'invalid_payload');
      return;
    }
    if (state.posts >= MAX_POSTS_PER_RESPONSE_URL) {
      sendText(res, 404, 'used_url');
      return;
    }
    if (clock().getTime() - state.createdAtMs > RESPONSE_URL_LIFETIME_MS) {
      sendText(res, 404, 'expired_url');
      return;
    }
    if (body.delete_original !== true && body.delete_original !== 'true') {
      const problem = messageProblem(body);
      if (problem !== undefined) {
        const context = state.context;
        if (context !== undefined) {
          const toEveryone = body.response_type === 'in_channel';
          showRefused(body, context.channel, problem, toEveryone ? undefined : context.userId);
        }
        sendText(res, 400, String(problem.error));
        return;
      }
    }
    state.posts += 1;
    responseUrlPosts.push({ id, body, at: new Date() });
    if (state.context !== undefined) showResponse(state.context, body);
    sendJson(res, 200, { ok: true });
  }

  async function handleUpload(
    req: IncomingMessage,
    res: ServerResponse,
    fileId: string,
  ): Promise<void> {
    const raw = await readBody(req);
    const upload = uploads.get(fileId);
    if (upload === undefined) {
      sendText(res, 404, 'not_found');
      return;
    }
    upload.content = await readUploadContent(raw, req.headers);
    sendText(res, 200, `OK - ${raw.length}`);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    const slackPath = /^\/(api|response|upload)\//.test(pathname);
    if (!slackPath && options.routes !== undefined && (await options.routes(req, res, pathname))) {
      return;
    }
    if (latencyMs > 0) await sleep(latencyMs);
    if (req.method !== 'POST') {
      sendText(res, 405, 'method_not_allowed');
      return;
    }
    const [, area, rest] = /^\/(api|response|upload)\/([^/]+)$/.exec(pathname) ?? [];
    if (area === 'api' && rest !== undefined) return handleApi(req, res, rest);
    if (area === 'response' && rest !== undefined) return handleResponseUrl(req, res, rest);
    if (area === 'upload' && rest !== undefined) return handleUpload(req, res, rest);
    sendText(res, 404, 'not_found');
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendText(res, 500, `stand-in error: ${String(error)}`);
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (pathname !== '/socket') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      wss.emit('connection', ws, req);
    });
  });
  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data: RawData) => {
      const message = parseJsonOrKeep(data.toString());
      if (!isObject(message) || typeof message.envelope_id !== 'string') return;
      const pending = pendingAcks.get(message.envelope_id);
      if (pending === undefined) return;
      pendingAcks.delete(message.envelope_id);
      clearTimeout(pending.timer);
      pending.resolve(message.payload ?? {});
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'applink-stand-in', approximate_connection_time: 18060 },
        connection_info: { app_id: APP_ID },
      }),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  async function waitFor<T>(
    predicate: () => T | undefined | false,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = predicate();
        if (value) return value;
        lastError = undefined;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() >= deadline) break;
      await sleep(10);
    }
    const recent = calls
      .slice(-5)
      .map((c) => c.method)
      .join(', ');
    const cause =
      lastError === undefined ? '' : ` Last error from the predicate: ${String(lastError)}.`;
    throw new Error(
      `waitFor timed out after ${timeoutMs} ms: ${predicate.toString().slice(0, 200)}.${cause} ` +
        `Recorded: ${calls.length} Web API calls (last: ${recent || 'none'}), ` +
        `${responseUrlPosts.length} response_url posts, ${messages.length} messages, ` +
        `${files.length} files.`,
    );
  }

  function openSocket(): WebSocket | undefined {
    return [...sockets].reverse().find((ws) => ws.readyState === ws.OPEN);
  }

  async function closeSocket(ws: WebSocket): Promise<void> {
    if (ws.readyState === ws.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    if (ws.readyState === ws.OPEN) ws.close(1001, 'stand-in closing');
    // ws waits up to 30 s for the peer to end the TCP connection; do not wait that long.
    const timer = setTimeout(() => ws.terminate(), SOCKET_CLOSE_GRACE_MS);
    await closed;
    clearTimeout(timer);
  }

  return {
    url: `${origin}/api/`,
    origin,
    calls,
    responseUrlPosts,
    messages,
    files,
    users,
    userGroups,
    conversation,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    postAsUser(channel, userId, text, threadTs) {
      const message: ConversationMessage = { ts: nextTs(), channel, userId, text };
      if (threadTs !== undefined) message.threadTs = threadTs;
      return show(message);
    },
    showReply: showResponse,
    postSlackNotice(channel, userId, text) {
      return show({ ts: nextTs(), channel, userId: 'USLACKBOT', text, visibleTo: userId });
    },
    directMessageOf: (userId) => directMessages.get(userId),
    openDirectMessage: (userId) => openDirectMessage([userId]),
    newResponseUrl(context) {
      const id = newId('R');
      const state: ResponseUrlState = { posts: 0, createdAtMs: clock().getTime() };
      if (context !== undefined) state.context = context;
      responseUrls.set(id, state);
      return `${origin}/response/${id}`;
    },
    waitFor,
    faults: {
      failNext(method, error, n = 1) {
        failures.set(method, [...(failures.get(method) ?? []), { error, remaining: n }]);
      },
      rateLimitNext(method, retryAfterSeconds, n = 1) {
        const list = rateLimits.get(method) ?? [];
        rateLimits.set(method, [...list, { retryAfter: retryAfterSeconds, remaining: n }]);
      },
      serverErrorNext(method, status = 500, n = 1) {
        serverErrors.set(method, [...(serverErrors.get(method) ?? []), { status, remaining: n }]);
      },
      slowNext(method, ms, when, n = 1) {
        slow.set(method, [...(slow.get(method) ?? []), { ms, when, remaining: n }]);
      },
      planUpgradeRequired(on) {
        planUpgrade = on;
      },
      latency(ms) {
        latencyMs = ms;
      },
      reset() {
        failures.clear();
        rateLimits.clear();
        serverErrors.clear();
        slow.clear();
        planUpgrade = false;
        latencyMs = 0;
      },
    },
    socket: {
      connected: () => openSocket() !== undefined,
      async waitForConnection(timeoutMs = DEFAULT_WAIT_MS) {
        await waitFor(() => openSocket() !== undefined, timeoutMs);
      },
      send(type, payload, timeoutMs = DEFAULT_WAIT_MS) {
        const ws = openSocket();
        if (ws === undefined) {
          return Promise.reject(
            new Error(`socket.send(${type}): no Socket Mode connection is open`),
          );
        }
        const envelopeId = randomBytes(16).toString('hex');
        const envelope: Json = {
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: true,
        };
        if (type === 'events_api') {
          envelope.retry_attempt = 0;
          envelope.retry_reason = '';
        }
        return new Promise<unknown>((resolve, reject) => {
          const timer = setTimeout(() => {
            pendingAcks.delete(envelopeId);
            reject(
              new Error(
                `socket.send(${type}): no ack for envelope ${envelopeId} in ${timeoutMs} ms`,
              ),
            );
          }, timeoutMs);
          pendingAcks.set(envelopeId, { resolve, reject, timer });
          ws.send(JSON.stringify(envelope), (error) => {
            if (error === undefined || error === null) return;
            clearTimeout(timer);
            pendingAcks.delete(envelopeId);
            reject(error);
          });
        });
      },
    },
    async close() {
      for (const [id, pending] of pendingAcks) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`socket.send: stand-in closed before envelope ${id} was acked`));
      }
      pendingAcks.clear();
      await Promise.all([...sockets].map(closeSocket));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
