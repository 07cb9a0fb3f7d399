/**
 * An independent check of Slack's Block Kit limits, used by the Slack stand-in to refuse what
 * Slack itself would refuse. Written from the platform reference table on purpose, and shares no
 * code with the app's own limits guard: a bug in one cannot hide the same bug in the other.
 *
 * It enforces Slack's limits, not the app's safety margins (so the total text budget is the
 * 12,000 characters where Slack starts answering `msg_blocks_too_long`, not the app's 10,000).
 */

/** The limits enforced by {@link validateBlocks}, by the item they apply to. */
export const BLOCK_KIT_LIMITS = {
  blocksPerMessage: 50,
  /** A Home tab (and a modal) view. */
  blocksPerView: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  id: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  optionText: 75,
  optionValue: 150,
  optionsPerMenu: 100,
  overflowOptions: 5,
  imageAltText: 2000,
  inputLabel: 2000,
  tableRows: 100,
  tableCells: 20,
  totalText: 12_000,
} as const;

const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

const BUTTON_STYLES = new Set(['primary', 'danger']);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Walks one message's blocks, collecting violations and the running total of text. */
class BlocksChecker {
  readonly violations: string[] = [];
  totalText = 0;
  private readonly blockIds = new Set<string>();

  report(path: string, problem: string): void {
    this.violations.push(`${path}: ${problem}`);
  }

  /** Checks a text object; `kinds` restricts its type (header and button labels are plain only). */
  text(
    path: string,
    value: unknown,
    max: number,
    kinds: readonly string[] = ['plain_text', 'mrkdwn'],
  ): void {
    if (!isObject(value)) {
      this.report(path, 'must be a text object');
      return;
    }
    const { type, text } = value;
    if (type !== 'plain_text' && type !== 'mrkdwn') {
      this.report(
        path,
        `text object type must be plain_text or mrkdwn, got ${JSON.stringify(type)}`,
      );
    } else if (!kinds.includes(type)) {
      this.report(path, `must be ${kinds.join(' or ')}, got ${type}`);
    }
    if (typeof text !== 'string') {
      this.report(`${path}.text`, 'must be a string');
      return;
    }
    this.totalText += text.length;
    if (text.length === 0) this.report(`${path}.text`, 'must not be empty');
    if (text.length > max) this.report(`${path}.text`, `${text.length} characters (max ${max})`);
  }

  string(path: string, value: unknown, max: number, required: boolean): void {
    if (value === undefined && !required) return;
    if (typeof value !== 'string') {
      this.report(path, required ? 'is required and must be a string' : 'must be a string');
      return;
    }
    if (value.length > max) this.report(path, `${value.length} characters (max ${max})`);
  }

  array(path: string, value: unknown, min: number, max: number): unknown[] {
    if (!Array.isArray(value)) {
      this.report(path, 'must be an array');
      return [];
    }
    if (value.length < min) this.report(path, `${value.length} items (min ${min})`);
    if (value.length > max) this.report(path, `${value.length} items (max ${max})`);
    return value;
  }

  confirm(path: string, value: unknown): void {
    if (value === undefined) return;
    if (!isObject(value)) {
      this.report(path, 'must be a confirmation dialog object');
      return;
    }
    this.text(`${path}.title`, value.title, BLOCK_KIT_LIMITS.confirmTitle, ['plain_text']);
    this.text(`${path}.text`, value.text, BLOCK_KIT_LIMITS.confirmText);
    this.text(`${path}.confirm`, value.confirm, BLOCK_KIT_LIMITS.confirmButton, ['plain_text']);
    this.text(`${path}.deny`, value.deny, BLOCK_KIT_LIMITS.confirmButton, ['plain_text']);
  }

  option(path: string, value: unknown): void {
    if (!isObject(value)) {
      this.report(path, 'must be an option object');
      return;
    }
    this.text(`${path}.text`, value.text, BLOCK_KIT_LIMITS.optionText);
    this.string(`${path}.value`, value.value, BLOCK_KIT_LIMITS.optionValue, true);
    if (value.description !== undefined) {
      this.text(`${path}.description`, value.description, BLOCK_KIT_LIMITS.optionText);
    }
    this.string(`${path}.url`, value.url, BLOCK_KIT_LIMITS.url, false);
  }

  /** Checks an interactive (or image) element inside actions, section accessory or input. */
  element(path: string, value: unknown): void {
    if (!isObject(value)) {
      this.report(path, 'must be an element object');
      return;
    }
    if (typeof value.type !== 'string') {
      this.report(`${path}.type`, 'is required');
      return;
    }
    if (value.type === 'image') {
      this.string(`${path}.image_url`, value.image_url, BLOCK_KIT_LIMITS.url, false);
      this.string(`${path}.alt_text`, value.alt_text, BLOCK_KIT_LIMITS.imageAltText, true);
      return;
    }
    this.string(`${path}.action_id`, value.action_id, BLOCK_KIT_LIMITS.id, false);
    this.confirm(`${path}.confirm`, value.confirm);
    if (value.type === 'button') {
      this.text(`${path}.text`, value.text, BLOCK_KIT_LIMITS.buttonText, ['plain_text']);
      this.string(`${path}.value`, value.value, BLOCK_KIT_LIMITS.buttonValue, false);
      this.string(`${path}.url`, value.url, BLOCK_KIT_LIMITS.url, false);
      if (value.style !== undefined && !BUTTON_STYLES.has(String(value.style))) {
        this.report(
          `${path}.style`,
          `must be primary or danger, got ${JSON.stringify(value.style)}`,
        );
      }
      return;
    }
    if (value.placeholder !== undefined) {
      this.text(`${path}.placeholder`, value.placeholder, 150, ['plain_text']);
    }
    if (value.options !== undefined) {
      const max =
        value.type === 'overflow'
          ? BLOCK_KIT_LIMITS.overflowOptions
          : BLOCK_KIT_LIMITS.optionsPerMenu;
      const options = this.array(`${path}.options`, value.options, 1, max);
      options.forEach((option, i) => {
        this.option(`${path}.options[${i}]`, option);
      });
    }
  }

  blockId(path: string, value: unknown): void {
    if (value === undefined) return;
    this.string(path, value, BLOCK_KIT_LIMITS.id, true);
    if (typeof value !== 'string') return;
    if (this.blockIds.has(value)) this.report(path, `duplicate block_id ${JSON.stringify(value)}`);
    this.blockIds.add(value);
  }

  block(path: string, block: unknown): void {
    if (!isObject(block)) {
      this.report(path, 'must be a block object');
      return;
    }
    const { type } = block;
    if (typeof type !== 'string' || !BLOCK_TYPES.has(type)) {
      this.report(`${path}.type`, `unknown block type ${JSON.stringify(type)}`);
      return;
    }
    this.blockId(`${path}.block_id`, block.block_id);
    switch (type) {
      case 'section':
        this.section(path, block);
        break;
      case 'header':
        this.text(`${path}.text`, block.text, BLOCK_KIT_LIMITS.headerText, ['plain_text']);
        break;
      case 'context':
        this.context(path, block);
        break;
      case 'actions':
        this.actions(path, block);
        break;
      case 'image':
        this.image(path, block);
        break;
      case 'input':
        this.text(`${path}.label`, block.label, BLOCK_KIT_LIMITS.inputLabel, ['plain_text']);
        this.element(`${path}.element`, block.element);
        break;
      case 'markdown':
        if (typeof block.text !== 'string') this.report(`${path}.text`, 'must be a string');
        else this.totalText += block.text.length;
        break;
      case 'table':
        this.table(path, block);
        break;
      default:
        // divider, rich_text, file, video: no limit in the reference table to check.
        break;
    }
  }

  context(path: string, block: Json): void {
    const elements = this.array(
      `${path}.elements`,
      block.elements,
      1,
      BLOCK_KIT_LIMITS.contextElements,
    );
    elements.forEach((element, i) => {
      const at = `${path}.elements[${i}]`;
      if (isObject(element) && element.type === 'image') this.element(at, element);
      else this.text(at, element, BLOCK_KIT_LIMITS.sectionText);
    });
  }

  actions(path: string, block: Json): void {
    const elements = this.array(
      `${path}.elements`,
      block.elements,
      1,
      BLOCK_KIT_LIMITS.actionsElements,
    );
    elements.forEach((element, i) => {
      this.element(`${path}.elements[${i}]`, element);
    });
  }

  /** An image block shows `image_url` or a `slack_file` (`{ id }` or `{ url }`), exactly one. */
  image(path: string, block: Json): void {
    const file = block.slack_file;
    if ((block.image_url !== undefined) === (file !== undefined)) {
      this.report(path, 'needs exactly one of image_url and slack_file');
    }
    this.string(`${path}.image_url`, block.image_url, BLOCK_KIT_LIMITS.url, false);
    if (file !== undefined) {
      if (!isObject(file) || (typeof file.id !== 'string') === (typeof file.url !== 'string')) {
        this.report(`${path}.slack_file`, 'must be an object with an id or a url');
      }
    }
    this.string(`${path}.alt_text`, block.alt_text, BLOCK_KIT_LIMITS.imageAltText, true);
    if (block.title !== undefined) {
      this.text(`${path}.title`, block.title, BLOCK_KIT_LIMITS.imageAltText, ['plain_text']);
    }
  }

  table(path: string, block: Json): void {
    const rows = this.array(`${path}.rows`, block.rows, 1, BLOCK_KIT_LIMITS.tableRows);
    rows.forEach((row, i) => {
      this.array(`${path}.rows[${i}]`, row, 1, BLOCK_KIT_LIMITS.tableCells);
    });
  }

  section(path: string, block: Json): void {
    if (block.text === undefined && block.fields === undefined) {
      this.report(path, 'a section must have text or fields');
    }
    if (block.text !== undefined)
      this.text(`${path}.text`, block.text, BLOCK_KIT_LIMITS.sectionText);
    if (block.fields !== undefined) {
      const fields = this.array(`${path}.fields`, block.fields, 1, BLOCK_KIT_LIMITS.sectionFields);
      fields.forEach((field, i) => {
        this.text(`${path}.fields[${i}]`, field, BLOCK_KIT_LIMITS.sectionFieldText);
      });
    }
    if (block.accessory !== undefined) this.element(`${path}.accessory`, block.accessory);
  }
}

/**
 * Checks a message's `blocks` against Slack's Block Kit limits, the way Slack would before
 * accepting `chat.postMessage`, `chat.update` or a `response_url` post, or (`surface: 'view'`)
 * `views.publish`, where up to 100 blocks are allowed.
 *
 * @param blocks - the `blocks` value as received (anything: it is checked, not trusted).
 * @param surface - `message` (default, 50 blocks) or `view` (a Home tab or modal, 100 blocks).
 * @returns human-readable violations, each starting with a JSON-ish path such as
 *   `blocks[3].text.text`; empty when Slack would accept the blocks.
 */
export function validateBlocks(blocks: unknown, surface: 'message' | 'view' = 'message'): string[] {
  if (!Array.isArray(blocks)) return ['blocks: must be an array'];
  const checker = new BlocksChecker();
  const max =
    surface === 'view' ? BLOCK_KIT_LIMITS.blocksPerView : BLOCK_KIT_LIMITS.blocksPerMessage;
  if (blocks.length > max) checker.report('blocks', `${blocks.length} blocks (max ${max})`);
  blocks.forEach((block, i) => {
    checker.block(`blocks[${i}]`, block);
  });
  // msg_blocks_too_long is a message's limit; a view is bounded by its blocks.
  if (surface === 'message' && checker.totalText > BLOCK_KIT_LIMITS.totalText) {
    checker.report(
      'blocks',
      `msg_blocks_too_long: ${checker.totalText} characters of text in all blocks ` +
        `(max ${BLOCK_KIT_LIMITS.totalText})`,
    );
  }
  return checker.violations;
}
