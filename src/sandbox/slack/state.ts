/**
 * The stand-in's state, one object passed to every handler, and the functions that change the
 * conversation people see (timestamps, messages shown, refused, recorded; direct messages).
 */
import type { WebSocket } from 'ws';
import type {
  ConversationChange,
  ConversationMessage,
  PostedMessage,
  ResponseUrlContext,
  SlackCall,
  SlackResponseUrlPost,
  SlackStandInOptions,
  SlackUser,
  UploadedFile,
} from './types.js';
import { isObject, type Json, newId, str } from './wire.js';

/** A file announced by `files.getUploadURLExternal`, its bytes once uploaded. */
export interface PendingUpload {
  fileId: string;
  filename: string;
  length: number;
  bytes?: Buffer;
}

/** How often a response_url was used, since when, and what it answers. */
export interface ResponseUrlState {
  posts: number;
  createdAtMs: number;
  context?: ResponseUrlContext;
}

/** A Socket Mode envelope sent and waiting for the app's ack. */
export interface PendingAck {
  resolve(payload: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Queued faults per Web API method, each used `remaining` more times. */
export interface FaultState {
  failures: Map<string, { error: string; remaining: number }[]>;
  rateLimits: Map<string, { retryAfter: number; remaining: number }[]>;
  serverErrors: Map<string, { status: number; remaining: number }[]>;
  slow: Map<string, { ms: number; when: 'before' | 'after'; remaining: number }[]>;
  planUpgrade: boolean;
  latencyMs: number;
}

/** Everything a running stand-in knows; the handlers read and change it. */
export interface StandInState {
  botToken: string;
  appToken: string;
  teamId: string;
  botUserId: string;
  clock: () => Date;
  /** `http://127.0.0.1:PORT`, set once the server listens. */
  origin: string;
  conversation: Map<string, ConversationMessage>;
  listeners: Set<(change: ConversationChange) => void>;
  calls: SlackCall[];
  responseUrlPosts: SlackResponseUrlPost[];
  messages: PostedMessage[];
  files: UploadedFile[];
  /** `views.publish`: the Home view each user sees, by user id. */
  homeViews: Map<string, Record<string, unknown>>;
  users: Map<string, SlackUser>;
  userGroups: Map<string, string[]>;
  responseUrls: Map<string, ResponseUrlState>;
  uploads: Map<string, PendingUpload>;
  issuedTs: Set<string>;
  /** `conversations.open`: sorted user ids → the DM (or group DM) channel id. */
  directMessages: Map<string, string>;
  faults: FaultState;
  sockets: Set<WebSocket>;
  pendingAcks: Map<string, PendingAck>;
  lastTsMicros: number;
}

/** The bot id of `auth.test` and of the bot's messages. */
export const BOT_ID = 'B0TEST';

/** A fresh state from the options, with their defaults. */
export function createState(options: SlackStandInOptions): StandInState {
  return {
    botToken: options.botToken ?? 'xoxb-test',
    appToken: options.appToken ?? 'xapp-test',
    teamId: options.teamId ?? 'T0TEST',
    botUserId: options.botUserId ?? 'UBOT',
    clock: options.now ?? (() => new Date()),
    origin: '',
    conversation: new Map(),
    listeners: new Set(),
    calls: [],
    responseUrlPosts: [],
    messages: [],
    files: [],
    homeViews: new Map(),
    users: new Map(),
    userGroups: new Map(),
    responseUrls: new Map(),
    uploads: new Map(),
    issuedTs: new Set(),
    directMessages: new Map(),
    faults: {
      failures: new Map(),
      rateLimits: new Map(),
      serverErrors: new Map(),
      slow: new Map(),
      planUpgrade: false,
      latencyMs: 0,
    },
    sockets: new Set(),
    pendingAcks: new Map(),
    lastTsMicros: 0,
  };
}

/** Unique, increasing message timestamps in Slack's `seconds.micros` format. */
export function nextTs(state: StandInState): string {
  state.lastTsMicros = Math.max(state.lastTsMicros + 1, state.clock().getTime() * 1000);
  const micros = state.lastTsMicros;
  const ts = `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  state.issuedTs.add(ts);
  return ts;
}

/** Takes one use of the first fault queued for `method`, if any. */
export function takeFault<F extends { remaining: number }>(
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

/** Tells every listener of a change of the conversation. */
export function emit(state: StandInState, change: ConversationChange): void {
  for (const listener of state.listeners) listener(change);
}

/** Adds or replaces a message of the conversation and tells the listeners. */
export function show(state: StandInState, message: ConversationMessage): ConversationMessage {
  state.conversation.set(message.ts, message);
  emit(state, { kind: 'upsert', message });
  return message;
}

/** The conversation's view of a message body (text, blocks, thread) as posted by the bot. */
export function shown(
  state: StandInState,
  body: Json,
  channel: string,
  ts: string,
): ConversationMessage {
  const message: ConversationMessage = { ts, channel, userId: state.botUserId };
  if (typeof body.text === 'string') message.text = body.text;
  if (Array.isArray(body.blocks)) message.blocks = body.blocks;
  const threadTs = str(body.thread_ts);
  if (threadTs !== undefined && threadTs !== ts) message.threadTs = threadTs;
  return message;
}

/** Keeps a message Slack refused for its blocks, marked, so a person can see what was tried. */
export function showRefused(
  state: StandInState,
  body: Json,
  channel: string,
  problem: Json,
  visibleTo?: string,
): void {
  if (problem.error !== 'invalid_blocks' || !Array.isArray(problem.errors)) return;
  const message = shown(state, body, channel, nextTs(state));
  message.limitProblems = problem.errors.map(String);
  if (visibleTo !== undefined) message.visibleTo = visibleTo;
  show(state, message);
}

/** The DM (one user) or group DM channel with these users, opened on first use. */
export function openDirectMessage(state: StandInState, ids: string[]): string {
  const key = [...ids].sort().join(',');
  let channel = state.directMessages.get(key);
  if (channel === undefined) {
    channel = newId(ids.length === 1 ? 'D' : 'G');
    state.directMessages.set(key, channel);
  }
  return channel;
}

/** Appends a successful post or update to the message log. */
export function recordMessage(state: StandInState, body: Json, channel: string, ts: string): void {
  const message: PostedMessage = { channel, ts };
  if (typeof body.text === 'string') message.text = body.text;
  if (Array.isArray(body.blocks)) message.blocks = body.blocks;
  const threadTs = str(body.thread_ts);
  if (threadTs !== undefined) message.threadTs = threadTs;
  if (isObject(body.metadata)) message.metadata = body.metadata;
  state.messages.push(message);
}
