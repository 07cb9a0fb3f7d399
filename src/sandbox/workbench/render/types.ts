/** The shapes the workbench renderer takes; re-exported by `./index.ts`. */

/** One message as the workbench stores it: what the bot sent, plus what Slack adds around it. */
export interface WorkbenchMessage {
  /** Slack's message id, `1795812000.000100`; also when it was posted (Unix seconds). */
  ts: string;
  channel: string;
  /** The top-level text; shown when there are no blocks. */
  text?: string;
  /** Block Kit blocks as received: anything, checked here block by block. */
  blocks?: unknown[];
  ephemeral: boolean;
  /** Set on a thread reply (and on a thread's parent): the parent's ts. */
  threadTs?: string;
  replyCount?: number;
  files?: { id: string; name: string; url: string; title?: string }[];
  /** What the independent Block Kit limits check found wrong with the message. */
  limitProblems?: string[];
  edited?: boolean;
  author?: { id: string; name: string; isBot: boolean };
}

/** Names for the ids mrkdwn mentions; `undefined` when the workbench does not know the id. */
export interface RenderContext {
  userName(id: string): string | undefined;
  channelName(id: string): string | undefined;
  /**
   * Where the page can load a file the bot uploaded (`slack_file: { id }` images), or
   * `undefined` when the workbench does not hold it: the image is then a placeholder.
   */
  fileUrl?(id: string): string | undefined;
}
