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
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleUpload } from './slack/files.js';
import { handleResponseUrl, newResponseUrl, showResponse } from './slack/response-urls.js';
import {
  attachSocketMode,
  closeSocketMode,
  openSocket,
  sendEnvelope,
} from './slack/socket-mode.js';
import {
  createState,
  type FaultState,
  nextTs,
  openDirectMessage,
  type StandInState,
  show,
} from './slack/state.js';
import type { ConversationMessage, SlackStandIn, SlackStandInOptions } from './slack/types.js';
import { handleApi } from './slack/web-api.js';
import { sendText } from './slack/wire.js';

export type {
  ConversationChange,
  ConversationMessage,
  PostedMessage,
  ResponseUrlContext,
  SlackCall,
  SlackResponseUrlPost,
  SlackStandIn,
  SlackStandInOptions,
  SlackUser,
  UploadedFile,
} from './slack/types.js';

const DEFAULT_WAIT_MS = 5000;

/** Routes a request: Slack's paths (`/api/`, `/response/`, `/upload/`), else `options.routes`. */
async function route(
  state: StandInState,
  options: SlackStandInOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
  const slackPath = /^\/(api|response|upload)\//.test(pathname);
  if (!slackPath && options.routes !== undefined && (await options.routes(req, res, pathname))) {
    return;
  }
  if (state.faults.latencyMs > 0) await sleep(state.faults.latencyMs);
  if (req.method !== 'POST') {
    sendText(res, 405, 'method_not_allowed');
    return;
  }
  const [, area, rest] = /^\/(api|response|upload)\/([^/]+)$/.exec(pathname) ?? [];
  if (area === 'api' && rest !== undefined) return handleApi(state, req, res, rest);
  if (area === 'response' && rest !== undefined) return handleResponseUrl(state, req, res, rest);
  if (area === 'upload' && rest !== undefined) return handleUpload(state, req, res, rest);
  sendText(res, 404, 'not_found');
}

/** Polls `predicate` until truthy; on timeout, the error tells what the stand-in recorded. */
async function waitFor<T>(
  state: StandInState,
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
  const { calls, responseUrlPosts, messages, files } = state;
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

/** The `faults` controls of a stand-in over its fault state. */
function faultControls(faults: FaultState): SlackStandIn['faults'] {
  return {
    failNext(method, error, n = 1) {
      faults.failures.set(method, [
        ...(faults.failures.get(method) ?? []),
        { error, remaining: n },
      ]);
    },
    rateLimitNext(method, retryAfterSeconds, n = 1) {
      const list = faults.rateLimits.get(method) ?? [];
      faults.rateLimits.set(method, [...list, { retryAfter: retryAfterSeconds, remaining: n }]);
    },
    serverErrorNext(method, status = 500, n = 1) {
      const list = faults.serverErrors.get(method) ?? [];
      faults.serverErrors.set(method, [...list, { status, remaining: n }]);
    },
    slowNext(method, ms, when, n = 1) {
      faults.slow.set(method, [...(faults.slow.get(method) ?? []), { ms, when, remaining: n }]);
    },
    planUpgradeRequired(on) {
      faults.planUpgrade = on;
    },
    latency(ms) {
      faults.latencyMs = ms;
    },
    reset() {
      faults.failures.clear();
      faults.rateLimits.clear();
      faults.serverErrors.clear();
      faults.slow.clear();
      faults.planUpgrade = false;
      faults.latencyMs = 0;
    },
  };
}

/** Listens on 127.0.0.1 (`port`, default any free one); resolves with the origin. */
async function listen(server: Server, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The conversation controls of a stand-in: what people and Slack itself add to it. */
function conversationControls(
  state: StandInState,
): Pick<
  SlackStandIn,
  | 'onChange'
  | 'postAsUser'
  | 'showReply'
  | 'postSlackNotice'
  | 'directMessageOf'
  | 'openDirectMessage'
> {
  return {
    onChange(listener) {
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
    },
    postAsUser(channel, userId, text, threadTs) {
      const message: ConversationMessage = { ts: nextTs(state), channel, userId, text };
      if (threadTs !== undefined) message.threadTs = threadTs;
      return show(state, message);
    },
    showReply: (context, body) => showResponse(state, context, body),
    postSlackNotice(channel, userId, text) {
      return show(state, {
        ts: nextTs(state),
        channel,
        userId: 'USLACKBOT',
        text,
        visibleTo: userId,
      });
    },
    directMessageOf: (userId) => state.directMessages.get(userId),
    openDirectMessage: (userId) => openDirectMessage(state, [userId]),
  };
}

/**
 * Starts the Slack stand-in on an ephemeral `127.0.0.1` port.
 *
 * Use one per test file (or per test), reset what you need between tests, and `close()` it
 * after stopping every app that talks to it: a Socket Mode app left running reconnects.
 */
export async function startSlackStandIn(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const state = createState(options);
  const server: Server = createServer((req, res) => {
    route(state, options, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendText(res, 500, `stand-in error: ${String(error)}`);
      else res.destroy();
    });
  });
  const wss = attachSocketMode(state, server);
  state.origin = await listen(server, options.port ?? 0);
  const wait = <T>(predicate: () => T | undefined | false, timeoutMs?: number) =>
    waitFor(state, predicate, timeoutMs);
  return {
    url: `${state.origin}/api/`,
    origin: state.origin,
    calls: state.calls,
    responseUrlPosts: state.responseUrlPosts,
    messages: state.messages,
    files: state.files,
    homeViews: state.homeViews,
    users: state.users,
    userGroups: state.userGroups,
    conversation: state.conversation,
    ...conversationControls(state),
    newResponseUrl: (context) => newResponseUrl(state, context),
    waitFor: wait,
    faults: faultControls(state.faults),
    socket: {
      connected: () => openSocket(state) !== undefined,
      async waitForConnection(timeoutMs = DEFAULT_WAIT_MS) {
        await wait(() => openSocket(state) !== undefined, timeoutMs);
      },
      send: (type, payload, timeoutMs = DEFAULT_WAIT_MS) =>
        sendEnvelope(state, type, payload, timeoutMs),
    },
    async close() {
      await closeSocketMode(state, wss);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
