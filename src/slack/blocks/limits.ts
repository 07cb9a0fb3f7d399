/**
 * The app's own Block Kit limits guard. Slack checks lengths only when a
 * message is sent (`invalid_blocks`, `msg_blocks_too_long`) and `KnownBlock`
 * checks shapes, not lengths; so every builder runs its message through
 * `guardMessage`, which cuts what would not fit and says so in the message.
 */
import type { types } from '@slack/bolt';
import { MISSING } from '../../vpn/format.js';
import { BLOCK_TRUNCATED_NOTE } from './ids.js';
import { escapeMrkdwn, truncate } from './mrkdwn.js';

export type KnownBlock = types.KnownBlock;

/** A message as the builders return it and `respond()` / `chat.postMessage` take it. */
export type SlackMessage = { text: string; blocks: KnownBlock[] };

/** A guarded message; `truncated` is true when something had to be cut to fit. */
export type GuardedMessage = SlackMessage & { truncated: boolean };

/** The limits `guardMessage` enforces (Slack's, with a safety margin on the total text). */
export const MESSAGE_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  id: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Slack answers `msg_blocks_too_long` somewhere around 12-13k characters. */
  totalText: 10_000,
  /** Slack cuts at 40k, but a notification wants a short line. */
  topLevelText: 3000,
} as const;

export const TRUNCATED_NOTE = ":scissors: Some content was cut to fit Slack's message limits.";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTextObject(value: unknown): value is Json & { text: string } {
  return (
    isObject(value) &&
    (value.type === 'plain_text' || value.type === 'mrkdwn') &&
    typeof value.text === 'string'
  );
}

/** Characters of text in a block: every text object anywhere in it, and a markdown block's text. */
function textSize(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + textSize(item), 0);
  if (!isObject(value)) return 0;
  if (isTextObject(value)) return value.text.length;
  let size = value.type === 'markdown' && typeof value.text === 'string' ? value.text.length : 0;
  for (const [key, child] of Object.entries(value)) {
    if (key !== 'text' || value.type !== 'markdown') size += textSize(child);
  }
  return size;
}

const noteBlock = (): Json => ({
  type: 'context',
  block_id: BLOCK_TRUNCATED_NOTE,
  elements: [{ type: 'mrkdwn', text: TRUNCATED_NOTE }],
});

/** One guarding pass over a message; `cut` becomes true as soon as content is lost. */
class Guard {
  cut = false;
  private readonly blockIds = new Set<string>();

  /** Shortens (or fills, when empty) a text object in place; `false` when it is not one. */
  text(value: unknown, max: number): boolean {
    if (!isTextObject(value)) return false;
    if (value.text.trim() === '') value.text = MISSING;
    if (value.text.length > max) {
      value.text = truncate(value.text, max);
      this.cut = true;
    }
    return true;
  }

  confirm(element: Json): void {
    const dialog = element.confirm;
    if (!isObject(dialog)) return;
    this.text(dialog.title, MESSAGE_LIMITS.confirmTitle);
    this.text(dialog.text, MESSAGE_LIMITS.confirmText);
    this.text(dialog.confirm, MESSAGE_LIMITS.confirmButton);
    this.text(dialog.deny, MESSAGE_LIMITS.confirmButton);
  }

  /** Fixes an interactive element in place; `false` when it must be dropped instead. */
  element(element: unknown): boolean {
    if (!isObject(element)) return false;
    const actionId = element.action_id;
    const url = element.url;
    const tooLong = (value: unknown, max: number) =>
      typeof value === 'string' && value.length > max;
    // A shortened id or value would no longer mean anything: drop the element instead.
    if (tooLong(actionId, MESSAGE_LIMITS.id) || tooLong(url, MESSAGE_LIMITS.url)) {
      this.cut = true;
      return false;
    }
    if (element.type === 'button') {
      if (tooLong(element.value, MESSAGE_LIMITS.buttonValue)) {
        this.cut = true;
        return false;
      }
      this.text(element.text, MESSAGE_LIMITS.buttonText);
    }
    this.confirm(element);
    return true;
  }

  /** Fixes one block in place; `false` when nothing sendable is left of it. */
  block(block: Json): boolean {
    const id = block.block_id;
    if (id !== undefined) {
      // Slack makes up an id for a block without one; a clash or an over-long id is refused.
      if (typeof id !== 'string' || id.length > MESSAGE_LIMITS.id || this.blockIds.has(id)) {
        delete block.block_id;
      } else {
        this.blockIds.add(id);
      }
    }
    switch (block.type) {
      case 'section':
        return this.section(block);
      case 'header':
        return this.text(block.text, MESSAGE_LIMITS.headerText);
      case 'context': {
        const elements = this.list(block, 'elements', MESSAGE_LIMITS.contextElements);
        for (const element of elements) this.text(element, MESSAGE_LIMITS.contextText);
        return elements.length > 0;
      }
      case 'actions': {
        const elements = this.list(block, 'elements', MESSAGE_LIMITS.actionsElements);
        const usable = elements.filter((element) => this.element(element));
        block.elements = usable;
        return usable.length > 0;
      }
      default:
        return true;
    }
  }

  section(block: Json): boolean {
    if (block.fields !== undefined) {
      const fields = this.list(block, 'fields', MESSAGE_LIMITS.sectionFields);
      for (const field of fields) this.text(field, MESSAGE_LIMITS.fieldText);
      if (fields.length === 0) delete block.fields;
    }
    if (block.text !== undefined || block.fields === undefined) {
      if (!isTextObject(block.text)) block.text = { type: 'mrkdwn', text: MISSING };
      this.text(block.text, MESSAGE_LIMITS.sectionText);
    }
    if (block.accessory !== undefined && !this.element(block.accessory)) delete block.accessory;
    return true;
  }

  /** The array at `block[key]`, cut to `max` items. */
  list(block: Json, key: string, max: number): unknown[] {
    const value = block[key];
    if (!Array.isArray(value)) return [];
    if (value.length > max) {
      block[key] = value.slice(0, max);
      this.cut = true;
    }
    return block[key] as unknown[];
  }
}

/**
 * Makes a message fit Slack's Block Kit limits, with margins: at most 50
 * blocks and 10,000 characters of block text; section text 1..3000; at most
 * 10 fields of 2000; header 150; context 10 elements; actions 25 elements;
 * button text 75 (a button whose value or url is too long, or any element
 * whose action_id is, is dropped rather than cut); ids at most 255 and block
 * ids unique; confirm dialogs 100/300/30/30; and a non-empty top-level `text`
 * of at most 3000.
 *
 * Over-long texts are shortened with `…`. Over 50 blocks or 10,000
 * characters, blocks are dropped from the end, keeping the first header, the
 * first section (the summary) and a trailing actions block. When any content
 * was cut, a context block says so and `truncated` is true. The input is not
 * modified; guarding a guarded message changes nothing.
 */
export function guardMessage(message: SlackMessage): GuardedMessage {
  const guard = new Guard();
  let alreadyTruncated = false;
  const blocks: Json[] = [];
  for (const original of message.blocks as unknown[]) {
    if (!isObject(original)) continue;
    if (original.block_id === BLOCK_TRUNCATED_NOTE) {
      alreadyTruncated = true;
      continue;
    }
    const block = structuredClone(original);
    if (guard.block(block)) blocks.push(block);
  }

  fitBudget(blocks, guard, alreadyTruncated);
  const truncated = alreadyTruncated || guard.cut;
  if (truncated) blocks.push(noteBlock());

  return {
    text: topLevelText(message.text, blocks),
    // The guard only shortens or removes parts of the blocks it was given.
    blocks: blocks as unknown as KnownBlock[],
    truncated,
  };
}

/** Drops blocks from the end (sparing the protected ones) until the message fits. */
function fitBudget(blocks: Json[], guard: Guard, alreadyTruncated: boolean): void {
  const noteSize = textSize(noteBlock());
  const header = blocks.find((block) => block.type === 'header');
  const summary = blocks.find((block) => block.type === 'section');
  const last = blocks.at(-1);
  const actions = last?.type === 'actions' ? last : undefined;
  const kept = new Set([header, summary, actions]);

  // Characters of text over the budget (with the note counted), or Infinity with too many blocks.
  const excess = () => {
    if (blocks.length + 1 > MESSAGE_LIMITS.blocks) return Number.POSITIVE_INFINITY;
    return textSize(blocks) + noteSize - MESSAGE_LIMITS.totalText;
  };
  const fits =
    blocks.length + (alreadyTruncated || guard.cut ? 1 : 0) <= MESSAGE_LIMITS.blocks &&
    textSize(blocks) + (alreadyTruncated || guard.cut ? noteSize : 0) <= MESSAGE_LIMITS.totalText;
  if (fits) return;
  guard.cut = true;

  for (let i = blocks.length - 1; i >= 0 && excess() > 0; i--) {
    if (!kept.has(blocks[i])) blocks.splice(i, 1);
  }
  // Only the protected blocks are left and still too long: fewer buttons, then a shorter summary.
  const buttons = Array.isArray(actions?.elements) ? actions.elements : [];
  while (excess() > 0 && buttons.length > 1) buttons.pop();
  const over = excess();
  if (over > 0 && summary && isTextObject(summary.text)) {
    summary.text.text = truncate(summary.text.text, Math.max(1, summary.text.text.length - over));
  }
}

/** The notification line: as given, or taken from the blocks when empty; at most 3000. */
function topLevelText(text: string, blocks: Json[]): string {
  let line = typeof text === 'string' ? text.trim() : '';
  if (line === '') {
    const first = blocks.find((block) => isTextObject(block.text))?.text;
    if (isTextObject(first)) {
      // Plain text is shown as typed, but the top-level text is read as mrkdwn.
      line = first.type === 'plain_text' ? escapeMrkdwn(first.text.trim()) : first.text.trim();
    }
  }
  if (line === '') line = 'vpn-conns';
  return truncate(line, MESSAGE_LIMITS.topLevelText);
}
