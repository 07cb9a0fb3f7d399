/**
 * The contract between the workbench server and the Block Kit renderer
 * (`./render/index.ts`): one message in, one HTML `<article>` string out.
 */

/** One message as the renderer draws it. */
export interface WorkbenchMessage {
  ts: string;
  channel: string;
  text?: string;
  blocks?: unknown[];
  /** "Only visible to you". */
  ephemeral: boolean;
  threadTs?: string;
  replyCount?: number;
  files?: { id: string; name: string; url: string; title?: string }[];
  /** What the independent Block Kit limits check found: shown as a red badge. */
  limitProblems?: string[];
  edited?: boolean;
  author?: { id: string; name: string; isBot: boolean };
}

/** Names for `<@U…>` and `<#C…>` in mrkdwn. */
export interface RenderContext {
  userName(id: string): string | undefined;
  channelName(id: string): string | undefined;
}

/** Draws one message as an HTML `<article>`, every string escaped. */
export type RenderMessage = (message: WorkbenchMessage, ctx: RenderContext) => string;
