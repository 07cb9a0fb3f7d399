/**
 * Reading Slack messages the way a person would see them, for end-to-end tests: the texts, the
 * buttons (in actions blocks and as section accessories) and the audit log lines.
 */

export type MessageBody = Record<string, unknown>;

function isRecord(value: unknown): value is MessageBody {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every text object (`mrkdwn` and `plain_text`) inside a value, depth first. */
export function textObjects(
  value: unknown,
  out: { type: string; text: string }[] = [],
): { type: string; text: string }[] {
  if (Array.isArray(value)) {
    for (const item of value) textObjects(item, out);
  } else if (isRecord(value)) {
    if (
      (value.type === 'mrkdwn' || value.type === 'plain_text') &&
      typeof value.text === 'string'
    ) {
      out.push({ type: value.type, text: value.text });
    }
    for (const child of Object.values(value)) {
      if (typeof child === 'object') textObjects(child, out);
    }
  }
  return out;
}

/** The top-level text and the text of every block (buttons and confirm dialogs too), one per line. */
export function allText(body: MessageBody): string {
  const top = typeof body.text === 'string' ? [body.text] : [];
  return [...top, ...textObjects(body.blocks).map((t) => t.text)].join('\n');
}

/** The text of the blocks alone (what the message shows), one per line. */
export function blockText(body: MessageBody): string {
  return textObjects(body.blocks)
    .map((t) => t.text)
    .join('\n');
}

/** A button as a test reads it. */
export interface ButtonElement {
  readonly actionId: string;
  readonly value: string;
  readonly text: string;
  readonly style: string | undefined;
  readonly confirm: MessageBody | undefined;
  /** The mrkdwn text of the section the button is the accessory of (`undefined` in actions blocks). */
  readonly sectionText: string | undefined;
}

function toButton(element: MessageBody, sectionText: string | undefined): ButtonElement | null {
  if (element.type !== 'button') return null;
  const text =
    isRecord(element.text) && typeof element.text.text === 'string' ? element.text.text : '';
  return {
    actionId: String(element.action_id),
    value: typeof element.value === 'string' ? element.value : '',
    text,
    style: typeof element.style === 'string' ? element.style : undefined,
    confirm: isRecord(element.confirm) ? element.confirm : undefined,
    sectionText,
  };
}

/** Every button of a message: section accessories and the elements of actions blocks. */
export function buttonsOf(body: MessageBody): ButtonElement[] {
  const blocks = Array.isArray(body.blocks) ? body.blocks.filter(isRecord) : [];
  const out: ButtonElement[] = [];
  for (const block of blocks) {
    if (block.type === 'section' && isRecord(block.accessory)) {
      const text =
        isRecord(block.text) && typeof block.text.text === 'string' ? block.text.text : '';
      const button = toButton(block.accessory, text);
      if (button) out.push(button);
    }
    if (block.type === 'actions' && Array.isArray(block.elements)) {
      for (const element of block.elements.filter(isRecord)) {
        const button = toButton(element, undefined);
        if (button) out.push(button);
      }
    }
  }
  return out;
}

/** The buttons with this action id. */
export function buttonsWith(body: MessageBody, actionId: string): ButtonElement[] {
  return buttonsOf(body).filter((b) => b.actionId === actionId);
}

/** The only button with this action id; throws when there is none or more than one. */
export function onlyButton(body: MessageBody, actionId: string): ButtonElement {
  const found = buttonsWith(body, actionId);
  const [button] = found;
  if (found.length !== 1 || button === undefined) {
    throw new Error(`expected one ${actionId} button, found ${found.length}`);
  }
  return button;
}

/** The button whose section names this connection id. */
export function buttonForConnection(
  body: MessageBody,
  actionId: string,
  connectionId: string,
): ButtonElement {
  const button = buttonsWith(body, actionId).find((b) => b.sectionText?.includes(connectionId));
  if (!button) throw new Error(`no ${actionId} button next to ${connectionId}`);
  return button;
}

/** The mrkdwn text of the section that lists this connection id. */
export function entryOf(body: MessageBody, connectionId: string): string {
  const entry = textObjects(body.blocks).find(
    (t) => t.type === 'mrkdwn' && t.text.includes(`\`${connectionId}\``),
  );
  if (!entry) throw new Error(`${connectionId} is not listed`);
  return entry.text;
}
