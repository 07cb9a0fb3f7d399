import type { types } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { BLOCK_TRUNCATED_NOTE } from '../../../src/slack/blocks/ids.js';
import { guardMessage, type SlackMessage } from '../../../src/slack/blocks/limits.js';
import { limitProblems } from './limit-problems.js';

type KnownBlock = types.KnownBlock;

const NOTE = ":scissors: Some content was cut to fit Slack's message limits.";

const section = (text: string, block_id?: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text },
  ...(block_id === undefined ? {} : { block_id }),
});

const button = (text: string, value: string, action_id = `a_${text}`): types.Button => ({
  type: 'button',
  text: { type: 'plain_text', text },
  action_id,
  value,
});

const blockText = (block: KnownBlock | undefined): string =>
  block?.type === 'section' || block?.type === 'header' ? (block.text?.text ?? '') : '';

const noteOf = (message: SlackMessage) =>
  message.blocks.filter((block) => block.block_id === BLOCK_TRUNCATED_NOTE);

describe('guardMessage', () => {
  it('passes a message within the limits through unchanged', () => {
    const message: SlackMessage = {
      text: 'prod: 3 connections',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'prod' } },
        section('*3 connections*'),
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Fetched now' }] },
        { type: 'actions', block_id: 'acts', elements: [button('Next', '{"q":"list","p":1}')] },
      ],
    };
    const guarded = guardMessage(message);
    expect(guarded).toEqual({ ...message, truncated: false });
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('never modifies the message it is given', () => {
    const message: SlackMessage = { text: 'x', blocks: [section('y'.repeat(5000))] };
    const copy = structuredClone(message);
    guardMessage(message);
    expect(message).toEqual(copy);
  });

  it('cuts an over-long section text to 3000 with … and says so', () => {
    const guarded = guardMessage({ text: 'x', blocks: [section('y'.repeat(5000))] });
    expect(guarded.truncated).toBe(true);
    const first = blockText(guarded.blocks[0]);
    expect(first).toHaveLength(3000);
    expect(first.endsWith('…')).toBe(true);
    expect(guarded.blocks.at(-1)).toEqual({
      type: 'context',
      block_id: BLOCK_TRUNCATED_NOTE,
      elements: [{ type: 'mrkdwn', text: NOTE }],
    });
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('never cuts an escaped entity in half', () => {
    const guarded = guardMessage({ text: 'x', blocks: [section('&amp;'.repeat(700))] });
    const first = blockText(guarded.blocks[0]);
    expect(first.length).toBeLessThanOrEqual(3000);
    expect(first).toMatch(/^(&amp;)+…$/);
  });

  it('fills an empty section text, which Slack refuses, without calling it a cut', () => {
    const guarded = guardMessage({ text: 'x', blocks: [section('')] });
    expect(blockText(guarded.blocks[0])).toBe('–');
    expect(guarded.truncated).toBe(false);
  });

  it('keeps at most 10 fields of at most 2000 characters', () => {
    const fields = Array.from({ length: 12 }, (_, i) => ({
      type: 'mrkdwn' as const,
      text: i === 0 ? 'f'.repeat(2500) : `field ${i}`,
    }));
    const guarded = guardMessage({ text: 'x', blocks: [{ type: 'section', fields }] });
    const block = guarded.blocks[0];
    expect(block?.type === 'section' && block.fields).toHaveLength(10);
    expect(block?.type === 'section' && block.fields?.[0]?.text.length).toBe(2000);
    expect(guarded.truncated).toBe(true);
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('cuts a header to 150 characters', () => {
    const guarded = guardMessage({
      text: 'x',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(400) } }],
    });
    expect(blockText(guarded.blocks[0])).toHaveLength(150);
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('keeps at most 10 context elements and 25 action elements', () => {
    const guarded = guardMessage({
      text: 'x',
      blocks: [
        {
          type: 'context',
          elements: Array.from({ length: 14 }, (_, i) => ({
            type: 'mrkdwn' as const,
            text: `${i}`,
          })),
        },
        {
          type: 'actions',
          elements: Array.from({ length: 30 }, (_, i) => button(`b${i}`, `${i}`)),
        },
      ],
    });
    const [context, actions] = guarded.blocks;
    expect(context?.type === 'context' && context.elements).toHaveLength(10);
    expect(actions?.type === 'actions' && actions.elements).toHaveLength(25);
    expect(guarded.truncated).toBe(true);
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('cuts a button label to 75, but drops a button whose value is too long rather than cut it', () => {
    const guarded = guardMessage({
      text: 'x',
      blocks: [
        {
          type: 'actions',
          elements: [button('L'.repeat(100), 'ok', 'long_label'), button('Big', 'v'.repeat(2001))],
        },
      ],
    });
    const actions = guarded.blocks[0];
    if (actions?.type !== 'actions') throw new Error('expected the actions block to stay');
    expect(actions.elements).toHaveLength(1);
    const [kept] = actions.elements;
    expect(kept?.type === 'button' && kept.text.text).toHaveLength(75);
    expect(kept?.type === 'button' && kept.value).toBe('ok');
    expect(guarded.truncated).toBe(true);
  });

  it('drops an actions block left without any usable button', () => {
    const guarded = guardMessage({
      text: 'x',
      blocks: [section('a'), { type: 'actions', elements: [button('Big', 'v'.repeat(3000))] }],
    });
    expect(guarded.blocks.map((block) => block.type)).toEqual(['section', 'context']);
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('drops an element whose action_id is too long, and an over-long or repeated block_id', () => {
    const guarded = guardMessage({
      text: 'x',
      blocks: [
        section('a', 'same'),
        section('b', 'same'),
        section('c', 'i'.repeat(256)),
        { type: 'actions', elements: [button('ok', '1'), button('bad', '2', 'x'.repeat(256))] },
      ],
    });
    expect(guarded.blocks.map((block) => block.block_id)).toEqual([
      'same',
      undefined,
      undefined,
      undefined,
      BLOCK_TRUNCATED_NOTE,
    ]);
    const actions = guarded.blocks[3];
    expect(actions?.type === 'actions' && actions.elements).toHaveLength(1);
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('cuts confirm dialogs to 100 / 300 / 30 / 30', () => {
    const guarded = guardMessage({
      text: 'x',
      blocks: [
        {
          type: 'actions',
          elements: [
            {
              ...button('Go', '1'),
              confirm: {
                title: { type: 'plain_text', text: 't'.repeat(200) },
                text: { type: 'mrkdwn', text: 'x'.repeat(500) },
                confirm: { type: 'plain_text', text: 'c'.repeat(40) },
                deny: { type: 'plain_text', text: 'd'.repeat(40) },
              },
            },
          ],
        },
      ],
    });
    expect(limitProblems(guarded)).toEqual([]);
    const actions = guarded.blocks[0];
    const go = actions?.type === 'actions' ? actions.elements[0] : undefined;
    const confirm = go?.type === 'button' ? go.confirm : undefined;
    expect(confirm?.title?.text).toHaveLength(100);
    expect(confirm?.text.text).toHaveLength(300);
    expect(confirm?.confirm?.text).toHaveLength(30);
    expect(confirm?.deny?.text).toHaveLength(30);
  });

  it('keeps at most 50 blocks with the note, dropping entries from the end but keeping header, summary and actions', () => {
    const entries = Array.from({ length: 60 }, (_, i) => section(`entry ${i}`));
    const guarded = guardMessage({
      text: 'x',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Title' } },
        section('summary'),
        ...entries,
        { type: 'actions', block_id: 'acts', elements: [button('Next', '1')] },
      ],
    });
    expect(guarded.blocks).toHaveLength(50);
    expect(guarded.truncated).toBe(true);
    expect(blockText(guarded.blocks[0])).toBe('Title');
    expect(blockText(guarded.blocks[1])).toBe('summary');
    expect(blockText(guarded.blocks[2])).toBe('entry 0');
    expect(blockText(guarded.blocks[47])).toBe('entry 45');
    expect(guarded.blocks[48]?.block_id).toBe('acts');
    expect(noteOf(guarded)).toHaveLength(1);
    expect(guarded.blocks.at(-1)?.block_id).toBe(BLOCK_TRUNCATED_NOTE);
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('keeps the total block text within 10,000 characters, dropping from the end', () => {
    const blocks = Array.from({ length: 6 }, (_, i) => section(`${i}`.repeat(2900)));
    const guarded = guardMessage({ text: 'x', blocks });
    expect(guarded.truncated).toBe(true);
    expect(guarded.blocks.map((block) => blockText(block).slice(0, 1))).toEqual([
      '0',
      '1',
      '2',
      '',
    ]);
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('counts field and context element texts toward the 10,000-character budget', () => {
    const fields = Array.from({ length: 10 }, () => ({
      type: 'mrkdwn' as const,
      text: 'f'.repeat(1500),
    }));
    const elements = Array.from({ length: 10 }, () => ({
      type: 'mrkdwn' as const,
      text: 'c'.repeat(1200),
    }));
    const withFields = guardMessage({
      text: 'x',
      blocks: [section('s'), { type: 'section', fields }],
    });
    expect(withFields.blocks.map((block) => block.type)).toEqual(['section', 'context']);
    expect(withFields.truncated).toBe(true);
    const withContext = guardMessage({
      text: 'x',
      blocks: [section('s'), { type: 'context', elements }],
    });
    expect(withContext.blocks.map((block) => block.block_id)).toEqual([
      undefined,
      BLOCK_TRUNCATED_NOTE,
    ]);
    expect(limitProblems(withFields)).toEqual([]);
    expect(limitProblems(withContext)).toEqual([]);
  });

  it('sheds buttons, then summary text, when the protected blocks alone are too long', () => {
    const heavy = (i: number): types.Button => ({
      ...button(`${i}`.padEnd(75, 'b'), `${i}`),
      confirm: {
        title: { type: 'plain_text', text: 't'.repeat(100) },
        text: { type: 'plain_text', text: 'x'.repeat(300) },
        confirm: { type: 'plain_text', text: 'y'.repeat(30) },
        deny: { type: 'plain_text', text: 'n'.repeat(30) },
      },
    });
    const guarded = guardMessage({
      text: 'x',
      blocks: [
        section('s'.repeat(3000)),
        { type: 'actions', elements: Array.from({ length: 25 }, (_, i) => heavy(i)) },
      ],
    });
    const actions = guarded.blocks[1];
    expect(actions?.type === 'actions' && actions.elements.length).toBeLessThan(25);
    expect(actions?.type === 'actions' && actions.elements.length).toBeGreaterThan(0);
    expect(limitProblems(guarded)).toEqual([]);
  });

  it('always has a non-empty top-level text of at most 3000 characters', () => {
    expect(guardMessage({ text: 't'.repeat(5000), blocks: [] }).text).toHaveLength(3000);
    expect(guardMessage({ text: '', blocks: [section('from the *blocks*')] }).text).toBe(
      'from the *blocks*',
    );
    const fromHeader = guardMessage({
      text: ' ',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: '<!channel> & co' } }],
    });
    expect(fromHeader.text).toBe('&lt;!channel&gt; &amp; co');
    expect(guardMessage({ text: '', blocks: [] }).text).not.toBe('');
  });

  it('changes nothing when run on its own output, and never adds a second note', () => {
    const once = guardMessage({
      text: 'x',
      blocks: Array.from({ length: 70 }, (_, i) => section(`${i}`)),
    });
    const { truncated, ...message } = once;
    expect(truncated).toBe(true);
    const twice = guardMessage(message);
    expect(twice).toEqual(once);
    expect(noteOf(twice)).toHaveLength(1);
  });
});
