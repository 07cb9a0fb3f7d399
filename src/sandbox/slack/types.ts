/** The Slack stand-in's public types: what tests and the workbench read and call. */
import type { IncomingMessage, ServerResponse } from 'node:http';

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
  /** The bytes as uploaded (a chart is a PNG). */
  bytes: Buffer;
  /** The bytes read as UTF-8, for text files such as CSV. */
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
  /** The Home tab each user sees: the last view `views.publish` accepted for them, by user id. */
  homeViews: Map<string, Record<string, unknown>>;
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
