/**
 * The stand-in's Web API: `POST /api/<method>`, one handler per method in {@link METHODS}, behind
 * the queued faults and Slack's token rules ({@link handleApi}).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { validateBlocks } from '../block-kit-limits.js';
import { completeUploadExternal, getUploadUrlExternal } from './files.js';
import {
  BOT_ID,
  nextTs,
  openDirectMessage,
  recordMessage,
  type StandInState,
  show,
  shown,
  showRefused,
  takeFault,
} from './state.js';
import type { ConversationMessage, PostedMessage, SlackUser } from './types.js';
import {
  bearerToken,
  decodeBody,
  isObject,
  type Json,
  messageProblem,
  newId,
  parseJsonOrKeep,
  readBody,
  sendJson,
  sendText,
  str,
} from './wire.js';

/** What a Web API handler answers; `status` defaults to 200. */
export interface ApiAnswer {
  status?: number;
  headers?: Record<string, string>;
  body: Json;
}

/** One Web API method: reads the decoded body, changes the state, answers. */
export type ApiMethod = (state: StandInState, body: Json) => ApiAnswer | Promise<ApiAnswer>;

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

const CHANNEL_NOT_FOUND: ApiAnswer = { body: { ok: false, error: 'channel_not_found' } };

function authTest(state: StandInState): ApiAnswer {
  return {
    body: {
      ok: true,
      url: 'https://test-workspace.slack.com/',
      team: 'Test Workspace',
      user: 'vpn-conns',
      team_id: state.teamId,
      user_id: state.botUserId,
      bot_id: BOT_ID,
      is_enterprise_install: false,
    },
  };
}

function postMessage(state: StandInState, body: Json): ApiAnswer {
  const channel = str(body.channel);
  if (channel === undefined || channel === '') return { body: { ...CHANNEL_NOT_FOUND.body } };
  const problem = messageProblem(body);
  if (problem !== undefined) {
    showRefused(state, body, channel, problem);
    return { body: problem };
  }
  const ts = nextTs(state);
  recordMessage(state, body, channel, ts);
  show(state, shown(state, body, channel, ts));
  const message: Json = { type: 'message', user: state.botUserId, bot_id: BOT_ID, ts };
  if (typeof body.text === 'string') message.text = body.text;
  if (Array.isArray(body.blocks)) message.blocks = body.blocks;
  if (body.thread_ts !== undefined) message.thread_ts = body.thread_ts;
  return { body: { ok: true, channel, ts, message } };
}

function postEphemeral(state: StandInState, body: Json): ApiAnswer {
  const channel = str(body.channel);
  if (channel === undefined || channel === '') return { body: { ...CHANNEL_NOT_FOUND.body } };
  const user = str(body.user);
  if (user === undefined) return { body: { ok: false, error: 'user_not_in_channel' } };
  const problem = messageProblem(body);
  if (problem !== undefined) {
    showRefused(state, body, channel, problem, user);
    return { body: problem };
  }
  const ts = nextTs(state);
  recordMessage(state, body, channel, ts);
  show(state, { ...shown(state, body, channel, ts), visibleTo: user });
  return { body: { ok: true, message_ts: ts } };
}

function update(state: StandInState, body: Json): ApiAnswer {
  const channel = str(body.channel);
  const ts = str(body.ts);
  if (channel === undefined || channel === '') return { body: { ...CHANNEL_NOT_FOUND.body } };
  if (ts === undefined || !state.issuedTs.has(ts)) {
    return { body: { ok: false, error: 'message_not_found' } };
  }
  const problem = messageProblem(body);
  if (problem !== undefined) return { body: problem };
  recordMessage(state, body, channel, ts);
  const before = state.conversation.get(ts);
  if (before !== undefined) {
    const after: ConversationMessage = { ...before, edited: true };
    if (typeof body.text === 'string') after.text = body.text;
    if (Array.isArray(body.blocks)) after.blocks = body.blocks;
    show(state, after);
  }
  const answer: Json = { ok: true, channel, ts };
  if (typeof body.text === 'string') answer.text = body.text;
  return { body: answer };
}

function usersInfo(state: StandInState, body: Json): ApiAnswer {
  const user = state.users.get(str(body.user) ?? '');
  if (user === undefined) return { body: { ok: false, error: 'user_not_found' } };
  return { body: { ok: true, user: userObject(user, state.teamId) } };
}

function usersLookupByEmail(state: StandInState, body: Json): ApiAnswer {
  const email = str(body.email)?.toLowerCase();
  const user = [...state.users.values()].find((u) => u.email?.toLowerCase() === email);
  if (email === undefined || user === undefined) {
    return { body: { ok: false, error: 'users_not_found' } };
  }
  return { body: { ok: true, user: userObject(user, state.teamId) } };
}

function usergroupsUsersList(state: StandInState, body: Json): ApiAnswer {
  if (state.faults.planUpgrade) return { body: { ok: false, error: 'plan_upgrade_required' } };
  const members = state.userGroups.get(str(body.usergroup) ?? '');
  if (members === undefined) return { body: { ok: false, error: 'no_such_subteam' } };
  return { body: { ok: true, users: [...members] } };
}

/** The latest version of each top-level message posted to a channel, newest first. */
function channelHistory(state: StandInState, channel: string): PostedMessage[] {
  // chat.update records the same ts again: the latest version of each message counts.
  const byTs = new Map<string, PostedMessage>();
  for (const m of state.messages) {
    if (m.channel === channel && m.threadTs === undefined && state.issuedTs.has(m.ts))
      byTs.set(m.ts, m);
  }
  return [...byTs.values()].sort((a, b) => Number(b.ts) - Number(a.ts));
}

/** `conversations.history` over the top-level messages of a channel (see the module comment). */
function history(state: StandInState, body: Json): ApiAnswer {
  const channel = str(body.channel);
  if (channel === undefined || channel === '') return { body: { ...CHANNEL_NOT_FOUND.body } };
  const oldest = Number(str(body.oldest) ?? '0');
  const latest = Number(str(body.latest) ?? 'Infinity');
  const limit = Math.min(999, Math.max(1, Number(str(body.limit) ?? '100') || 100));
  const withMetadata = body.include_all_metadata === true || body.include_all_metadata === 'true';
  const offset = Number(/^c(\d+)$/.exec(str(body.cursor) ?? '')?.[1] ?? '0');
  const listed = channelHistory(state, channel).filter(
    (m) => Number(m.ts) > oldest && Number(m.ts) < latest,
  );
  const page = listed.slice(offset, offset + limit).map((m) => {
    const item: Json = { type: 'message', user: state.botUserId, bot_id: BOT_ID, ts: m.ts };
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

function conversationsOpen(state: StandInState, body: Json): ApiAnswer {
  // One DM per user: the same `D…` id every time, as Slack answers for an existing DM.
  const ids = (str(body.users) ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) return { body: { ok: false, error: 'users_list_not_supplied' } };
  if (ids.some((id) => !state.users.has(id) && !/^[UW][A-Z0-9]{2,}$/.test(id))) {
    return { body: { ok: false, error: 'user_not_found' } };
  }
  return { body: { ok: true, channel: { id: openDirectMessage(state, ids) } } };
}

/**
 * `views.publish` as Slack answers it: a `home` view for a user id, its blocks within a view's
 * limits (100 blocks), else `invalid_arguments` with the problems; the view replaces the user's Home.
 */
function viewsPublish(state: StandInState, body: Json): ApiAnswer {
  const userId = str(body.user_id);
  const view = typeof body.view === 'string' ? parseJsonOrKeep(body.view) : body.view;
  if (userId === undefined || userId === '')
    return { body: { ok: false, error: 'user_not_found' } };
  if (!isObject(view) || view.type !== 'home') {
    return { body: { ok: false, error: 'invalid_arguments', errors: ['view.type must be home'] } };
  }
  const errors = validateBlocks(view.blocks, 'view');
  if (errors.length > 0) return { body: { ok: false, error: 'invalid_arguments', errors } };
  const published = { ...view, id: newId('V') };
  state.homeViews.set(userId, published);
  return { body: { ok: true, view: published } };
}

function connectionsOpen(state: StandInState): ApiAnswer {
  return {
    body: { ok: true, url: `${state.origin.replace(/^http/, 'ws')}/socket?ticket=${newId('t')}` },
  };
}

/** Every Web API method the stand-in knows, by name; others answer `unknown_method`. */
export const METHODS: Record<string, ApiMethod> = {
  'auth.test': authTest,
  'chat.postMessage': postMessage,
  'chat.postEphemeral': postEphemeral,
  'chat.update': update,
  'users.info': usersInfo,
  'users.lookupByEmail': usersLookupByEmail,
  'usergroups.users.list': usergroupsUsersList,
  'conversations.history': history,
  'conversations.open': conversationsOpen,
  'files.getUploadURLExternal': getUploadUrlExternal,
  'files.completeUploadExternal': completeUploadExternal,
  'views.publish': viewsPublish,
  'apps.connections.open': connectionsOpen,
};

/** Token rules: app token only for apps.connections.open, bot token for everything else. */
function authProblem(
  state: StandInState,
  method: string,
  token: string | undefined,
  fromHeader: boolean,
): Json | undefined {
  if (token === undefined || token === '') return { ok: false, error: 'not_authed' };
  if (method === 'apps.connections.open') {
    // Slack refuses the app token as a POST parameter here: it must come in the header.
    if (token === state.appToken && fromHeader) return undefined;
    if (token.startsWith('xoxb-') || token.startsWith('xoxp-')) {
      return { ok: false, error: 'not_allowed_token_type' };
    }
    return { ok: false, error: 'invalid_auth' };
  }
  if (token === state.botToken) return undefined;
  if (token === state.appToken) return { ok: false, error: 'not_allowed_token_type' };
  return { ok: false, error: 'invalid_auth' };
}

/** Answers a queued rate limit, failure or server error for `method`; true when it did. */
function answerFault(state: StandInState, res: ServerResponse, method: string): boolean {
  const limited = takeFault(state.faults.rateLimits, method);
  if (limited !== undefined) {
    sendJson(
      res,
      429,
      { ok: false, error: 'ratelimited' },
      { 'retry-after': String(limited.retryAfter) },
    );
    return true;
  }
  const failure = takeFault(state.faults.failures, method);
  if (failure !== undefined) {
    sendJson(res, 200, { ok: false, error: failure.error });
    return true;
  }
  const serverError = takeFault(state.faults.serverErrors, method);
  if (serverError !== undefined) {
    sendText(res, serverError.status, 'stand-in server error');
    return true;
  }
  return false;
}

/** Handles `POST /api/<method>`: logs the call, applies faults and token rules, runs the method. */
export async function handleApi(
  state: StandInState,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
): Promise<void> {
  const body = decodeBody(await readBody(req), req.headers);
  const headerToken = bearerToken(req.headers);
  const token = headerToken ?? str(body.token);
  state.calls.push({ method, body, token, at: new Date() });
  if (answerFault(state, res, method)) return;
  const delay = takeFault(state.faults.slow, method);
  if (delay?.when === 'before') {
    await sleep(delay.ms);
    if (req.socket.destroyed) return;
  }
  const handler = METHODS[method];
  if (handler === undefined) {
    sendJson(res, 200, { ok: false, error: 'unknown_method' });
    return;
  }
  const authError = authProblem(state, method, token, headerToken !== undefined);
  if (authError !== undefined) {
    sendJson(res, 200, authError);
    return;
  }
  const answer = await handler(state, body);
  if (delay?.when === 'after') {
    await sleep(delay.ms);
    if (req.socket.destroyed) return;
  }
  sendJson(res, answer.status ?? 200, answer.body, answer.headers);
}
