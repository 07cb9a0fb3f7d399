/**
 * response_urls: made by `newResponseUrl`, used by `POST /response/<id>` (5 posts within 30
 * minutes), and where their posts land in the conversation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  emit,
  nextTs,
  type ResponseUrlState,
  type StandInState,
  show,
  shown,
  showRefused,
} from './state.js';
import type { ConversationMessage, ResponseUrlContext } from './types.js';
import {
  decodeBody,
  isObject,
  type Json,
  messageProblem,
  newId,
  parseJsonOrKeep,
  readBody,
  sendJson,
  sendText,
} from './wire.js';

const MAX_POSTS_PER_RESPONSE_URL = 5;
const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;

/** A fresh `${origin}/response/<id>` URL, answering to `context` when given. */
export function newResponseUrl(state: StandInState, context?: ResponseUrlContext): string {
  const id = newId('R');
  const entry: ResponseUrlState = { posts: 0, createdAtMs: state.clock().getTime() };
  if (context !== undefined) entry.context = context;
  state.responseUrls.set(id, entry);
  return `${state.origin}/response/${id}`;
}

/** Where Slack puts a response_url post: the clicked message, the channel, or one person. */
export function showResponse(state: StandInState, context: ResponseUrlContext, body: Json): void {
  const yes = (value: unknown) => value === true || value === 'true';
  const original =
    context.messageTs === undefined ? undefined : state.conversation.get(context.messageTs);
  if (yes(body.delete_original)) {
    if (original !== undefined) {
      state.conversation.delete(original.ts);
      emit(state, { kind: 'delete', message: original });
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
    show(state, next);
    return;
  }
  const message = shown(state, body, context.channel, nextTs(state));
  if (body.response_type !== 'in_channel') message.visibleTo = context.userId;
  show(state, message);
}

/** The body of a response_url post; a form post carries it as `payload=<JSON>`. */
function responseBody(raw: Buffer, req: IncomingMessage): Json {
  const body = decodeBody(raw, req.headers);
  // A form post carries the message as `payload=<JSON>`, like an incoming webhook.
  if (typeof body.payload === 'string') {
    const inner = parseJsonOrKeep(body.payload);
    if (isObject(inner)) return inner;
  }
  return body;
}

/** Why Slack refuses a post to this response_url (404 / 400 text), or undefined to accept it. */
function refusal(state: StandInState, entry: ResponseUrlState, body: Json): string | undefined {
  if (body._invalid_json !== undefined) return 'invalid_payload';
  if (entry.posts >= MAX_POSTS_PER_RESPONSE_URL) return 'used_url';
  if (state.clock().getTime() - entry.createdAtMs > RESPONSE_URL_LIFETIME_MS) return 'expired_url';
  if (body.delete_original === true || body.delete_original === 'true') return undefined;
  const problem = messageProblem(body);
  if (problem === undefined) return undefined;
  const context = entry.context;
  if (context !== undefined) {
    const toEveryone = body.response_type === 'in_channel';
    showRefused(state, body, context.channel, problem, toEveryone ? undefined : context.userId);
  }
  return String(problem.error);
}

const REFUSAL_STATUS: Record<string, number> = { used_url: 404, expired_url: 404 };

/** Handles `POST /response/<id>`. */
export async function handleResponseUrl(
  state: StandInState,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
): Promise<void> {
  const raw = await readBody(req);
  const entry = state.responseUrls.get(id);
  if (entry === undefined) {
    sendText(res, 404, 'no_service');
    return;
  }
  const body = responseBody(raw, req);
  const refused = refusal(state, entry, body);
  if (refused !== undefined) {
    sendText(res, REFUSAL_STATUS[refused] ?? 400, refused);
    return;
  }
  entry.posts += 1;
  state.responseUrlPosts.push({ id, body, at: new Date() });
  if (entry.context !== undefined) showResponse(state, entry.context, body);
  sendJson(res, 200, { ok: true });
}
