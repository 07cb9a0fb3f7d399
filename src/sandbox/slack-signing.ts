import { createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/**
 * Computes Slack's request signature (`X-Slack-Signature`) for a raw request body.
 *
 * @returns `v0=` followed by the hex HMAC-SHA256 of `v0:<timestamp>:<rawBody>` keyed by the
 *   signing secret, exactly as Slack sends it and Bolt verifies it.
 */
export function signSlackRequest(
  signingSecret: string,
  timestamp: number,
  rawBody: string,
): string {
  const digest = createHmac('sha256', signingSecret)
    .update(`v0:${timestamp}:${rawBody}`)
    .digest('hex');
  return `v0=${digest}`;
}

/** The fields of a slash-command request; the optional ones get realistic test defaults. */
export interface SlashCommandFields {
  command?: string;
  text: string;
  user_id?: string;
  user_name?: string;
  team_id?: string;
  channel_id?: string;
  channel_name?: string;
  response_url: string;
  trigger_id?: string;
}

/** Overrides for a signed request: a fixed timestamp (e.g. a stale one) or a forged signature. */
export interface SignedRequestOptions {
  timestamp?: number;
  signature?: string;
}

/** What the app answered: HTTP status, body text, and how long it took to answer. */
export interface SignedRequestResult {
  status: number;
  body: string;
  elapsedMs: number;
}

function newTriggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e10)}.${randomBytes(16).toString('hex')}`;
}

async function postSigned(
  appUrl: string,
  signingSecret: string,
  rawBody: string,
  options: SignedRequestOptions,
): Promise<SignedRequestResult> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = options.signature ?? signSlackRequest(signingSecret, timestamp, rawBody);
  const started = performance.now();
  // The body must be a string and the content type exactly this: with a charset, or with a
  // URLSearchParams body (which adds one), Bolt's HTTP receiver answers 400.
  const response = await fetch(appUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature,
    },
    body: rawBody,
  });
  const body = await response.text();
  return { status: response.status, body, elapsedMs: performance.now() - started };
}

/**
 * Sends a signed slash command to a Bolt HTTP receiver, as Slack does when a user types it.
 *
 * @param appUrl - the receiver's endpoint, e.g. `http://127.0.0.1:PORT/slack/events`.
 * @param options - `timestamp` to send a stale or future request, `signature` to forge one.
 */
export function postSlashCommand(
  appUrl: string,
  signingSecret: string,
  fields: SlashCommandFields,
  options: SignedRequestOptions = {},
): Promise<SignedRequestResult> {
  const teamId = fields.team_id ?? 'T0TEST';
  // Slack's own field order, so the body looks like the real thing in logs.
  const rawBody = new URLSearchParams({
    token: 'verification-token-unused',
    team_id: teamId,
    team_domain: 'test-workspace',
    channel_id: fields.channel_id ?? 'C0TEST',
    channel_name: fields.channel_name ?? 'ops',
    user_id: fields.user_id ?? 'U0TEST',
    user_name: fields.user_name ?? 'tester',
    command: fields.command ?? '/vpn-conns',
    text: fields.text,
    api_app_id: 'A0TEST',
    is_enterprise_install: 'false',
    response_url: fields.response_url,
    trigger_id: fields.trigger_id ?? newTriggerId(),
  }).toString();
  return postSigned(appUrl, signingSecret, rawBody, options);
}

/**
 * Sends a signed interactivity request (`payload=<url-encoded JSON>`) to a Bolt HTTP receiver,
 * as Slack does on a button click; build the payload with {@link blockActionsPayload}.
 */
export function postInteraction(
  appUrl: string,
  signingSecret: string,
  payload: Record<string, unknown>,
  options: SignedRequestOptions = {},
): Promise<SignedRequestResult> {
  const rawBody = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return postSigned(appUrl, signingSecret, rawBody, options);
}

/** The inputs of {@link blockActionsPayload}. */
export interface BlockActionsArgs {
  userId: string;
  teamId?: string;
  channelId?: string;
  actionId: string;
  value: string;
  blockId?: string;
  responseUrl: string;
  triggerId?: string;
  /** The message holding the button; omit it for a button on an ephemeral message. */
  message?: Record<string, unknown>;
}

/**
 * Builds a realistic `block_actions` payload for one button click, shaped like Slack's.
 *
 * Without `message` it describes a click on an ephemeral message: Slack then sends no `message`
 * and marks the container `is_ephemeral`, so only the `response_url` can change that message.
 */
export function blockActionsPayload(args: BlockActionsArgs): Record<string, unknown> {
  const teamId = args.teamId ?? 'T0TEST';
  const channelId = args.channelId ?? 'C0TEST';
  const nowSeconds = Date.now() / 1000;
  const messageTs =
    typeof args.message?.ts === 'string' ? args.message.ts : `${Math.floor(nowSeconds)}.000100`;
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: { id: args.userId, username: 'tester', name: 'tester', team_id: teamId },
    api_app_id: 'A0TEST',
    token: 'verification-token-unused',
    container: {
      type: 'message',
      message_ts: messageTs,
      channel_id: channelId,
      is_ephemeral: args.message === undefined,
    },
    trigger_id: args.triggerId ?? newTriggerId(),
    team: { id: teamId, domain: 'test-workspace' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: 'ops' },
    state: { values: {} },
    response_url: args.responseUrl,
    actions: [
      {
        action_id: args.actionId,
        block_id: args.blockId ?? 'block',
        text: { type: 'plain_text', text: 'Button', emoji: true },
        value: args.value,
        type: 'button',
        action_ts: nowSeconds.toFixed(6),
      },
    ],
  };
  if (args.message !== undefined) payload.message = args.message;
  return payload;
}

/**
 * The Events API body Slack posts (as JSON) when a person opens one of the app's tabs
 * (`app_home_opened`); sign and post it as it is.
 */
export function appHomeOpenedBody(args: {
  userId: string;
  botUserId: string;
  channel: string;
  tab?: 'home' | 'messages';
}): string {
  const nowSeconds = Date.now() / 1000;
  return JSON.stringify({
    token: 'verification-token-unused',
    team_id: 'T0TEST',
    api_app_id: 'A0TEST',
    type: 'event_callback',
    event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(nowSeconds),
    event: {
      type: 'app_home_opened',
      user: args.userId,
      channel: args.channel,
      tab: args.tab ?? 'home',
      event_ts: nowSeconds.toFixed(6),
    },
    authorizations: [{ team_id: 'T0TEST', user_id: args.botUserId, is_bot: true }],
  });
}
