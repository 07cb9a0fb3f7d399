/**
 * Every message the bot's builders make renders with its visible text intact:
 * headers, button labels, confirm dialogs, and every word of every mrkdwn
 * text, in order, with the tricky VPN user names shown exactly as typed.
 */
import { describe, expect, it } from 'vitest';
import { renderMessage } from '../../../src/sandbox/workbench/render/index.js';
import { literal } from '../../../src/slack/blocks/mrkdwn.js';
import { buttonsOf, textObjects } from '../../support/slack-message.js';
import { botMessages, TRICKY_USERNAMES } from './bot-messages.js';
import { assertSafeHtml, buttonsIn, CTX, decode, readable, visibleText } from './html.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;

/**
 * The words a reader must see for a mrkdwn text, worked out without the
 * renderer: dates by their fallback, mentions by name, emoji codes dropped,
 * Slack's three entities decoded; then the runs of letters and digits.
 */
function expectedWords(mrkdwn: string): string[] {
  const text = mrkdwn
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<@([A-Z0-9]+)(?:\|[^>]*)?>/g, (_, id: string) => `@${CTX.userName(id) ?? id}`)
    .replace(/<#([A-Z0-9]+)(?:\|([^>]*))?>/g, (_, id: string, label?: string) => {
      return `#${CTX.channelName(id) ?? label ?? id}`;
    })
    .replace(/:[a-z0-9_+-]+:/g, ' ')
    .replace(/&(lt|gt|amp);/g, (entity) => decode(entity));
  return text.match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** True when `words` occur in `text` in this order. */
function inOrder(text: string, words: readonly string[]): string | null {
  let from = 0;
  for (const word of words) {
    const at = text.indexOf(word, from);
    if (at === -1) return word;
    from = at + word.length;
  }
  return null;
}

const messages = botMessages();

describe('every message builder renders with its visible text intact', () => {
  it('covers every builder', () => {
    expect(messages.map((m) => m.name)).toEqual([
      'connections, page 1, admin',
      'connections, page 2',
      'user lookup',
      'no connections',
      'connections with a failed endpoint',
      'help',
      'usage error',
      'AWS error',
      'endpoints',
      'working',
      'digest',
      'digest preview',
      'empty digest',
      'terminate result',
      'terminate refused by dry run',
      'audit',
    ]);
  });

  for (const bot of messages) {
    describe(bot.name, () => {
      const html = renderMessage(
        { ts: '1795812000.000100', channel: 'C0GENERAL', ephemeral: bot.ephemeral, ...bot.message },
        CTX,
      );
      const seen = readable(visibleText(html));
      const blocks = bot.message.blocks as unknown as Json[];

      it('is safe HTML', () => {
        assertSafeHtml(html);
      });

      it('shows every header as typed', () => {
        for (const block of blocks.filter((b) => b.type === 'header')) {
          const text = isObject(block.text) ? String(block.text.text) : '';
          expect(seen).toContain(readable(text));
        }
      });

      it('shows every word of every mrkdwn text and field, in order', () => {
        const texts = textObjects(blocks).filter((t) => t.type === 'mrkdwn');
        expect(texts.length).toBeGreaterThan(0);
        for (const { text } of texts) {
          // Confirm dialogs are not on the page until clicked: checked with the buttons.
          if (isConfirmText(blocks, text)) continue;
          expect(inOrder(seen, expectedWords(text)), text).toBeNull();
        }
      });

      it('shows each tricky user name it lists exactly as typed', () => {
        const source = textObjects(blocks)
          .map((t) => t.text)
          .join('\n');
        for (const name of TRICKY_USERNAMES) {
          if (source.includes(literal(name))) expect(seen).toContain(readable(name));
        }
      });

      it('has every button, named by its text, with its action id, value and confirm dialog', () => {
        const expected = buttonsOf(bot.message as unknown as Json);
        const rendered = buttonsIn(html);
        expect(rendered.map((b) => b.text)).toEqual(expected.map((b) => b.text));
        for (const [i, button] of expected.entries()) {
          const attrs = rendered[i]?.attrs ?? {};
          expect(attrs['data-action-id']).toBe(button.actionId);
          expect(attrs['data-value'] ?? '').toBe(button.value);
          if (button.confirm) {
            const confirm = JSON.parse(attrs['data-confirm'] ?? '{}') as Record<string, string>;
            const text = (key: string) => {
              const value = button.confirm?.[key];
              return isObject(value) ? String(value.text) : undefined;
            };
            expect(confirm.title).toBe(text('title'));
            expect(confirm.confirm).toBe(text('confirm'));
            expect(confirm.deny).toBe(text('deny'));
            expect(
              inOrder(readable(confirm.text ?? ''), expectedWords(text('text') ?? '')),
            ).toBeNull();
          } else {
            expect(attrs).not.toHaveProperty('data-confirm');
          }
        }
      });
    });
  }

  it('shows the hostile user names of the fleet literally, never as markup', () => {
    const all = messages
      .map((bot) => renderMessage({ ts: '1', channel: 'C1', ephemeral: true, ...bot.message }, CTX))
      .join('');
    const seen = readable(visibleText(all));
    for (const name of [
      '<script>alert(1)</script>',
      '<https://evil.example|click>',
      '*bold*',
      'tom&jerry',
      '_italic_',
    ]) {
      expect(seen).toContain(name);
    }
    expect(all).not.toContain('<script');
    expect(all).not.toContain('href="https://evil.example"');
  });
});

/** Whether `text` is the text of a confirm dialog in these blocks. */
function isConfirmText(blocks: readonly Json[], text: string): boolean {
  const confirms: unknown[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (isObject(value)) {
      if (isObject(value.confirm)) confirms.push(value.confirm);
      Object.values(value).forEach(walk);
    }
  };
  walk(blocks);
  return textObjects(confirms).some((t) => t.text === text);
}
