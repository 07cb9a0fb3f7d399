/** Shared by the Block Kit builder tests: the limits each message must keep. */
import type { types } from '@slack/bolt';
import type { SlackMessage } from '../../../src/slack/blocks/limits.js';

/**
 * Every way a message breaks the limits the app promises: Slack's Block Kit limits from the
 * platform reference, a 10,000-character budget for all block text, and a top-level text of
 * 1..3000. Written out here, independently of the guard under test.
 */
export function limitProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  let total = 0;
  const text = (at: string, value: { text: string } | undefined, max: number) => {
    if (value === undefined) return;
    total += value.text.length;
    if (value.text.length < 1 || value.text.length > max) {
      problems.push(`${at}: ${value.text.length} characters (1..${max})`);
    }
  };
  const id = (at: string, value: string | undefined) => {
    if (value !== undefined && value.length > 255) problems.push(`${at}: id of ${value.length}`);
  };
  const element = (at: string, el: types.ActionsBlockElement | types.SectionBlockAccessory) => {
    if ('action_id' in el) id(`${at}.action_id`, el.action_id);
    if (el.type === 'button') {
      text(`${at}.text`, el.text, 75);
      if ((el.value?.length ?? 0) > 2000) problems.push(`${at}.value: ${el.value?.length}`);
      if ((el.url?.length ?? 0) > 3000) problems.push(`${at}.url: ${el.url?.length}`);
    }
    if ('confirm' in el && el.confirm) {
      text(`${at}.confirm.title`, el.confirm.title, 100);
      text(`${at}.confirm.text`, el.confirm.text, 300);
      text(`${at}.confirm.confirm`, el.confirm.confirm, 30);
      text(`${at}.confirm.deny`, el.confirm.deny, 30);
    }
  };

  if (message.text.trim() === '' || message.text.length > 3000) {
    problems.push(`text: ${message.text.length} characters (1..3000)`);
  }
  if (message.blocks.length > 50) problems.push(`${message.blocks.length} blocks (max 50)`);
  const blockIds = new Set<string>();
  message.blocks.forEach((block, i) => {
    const at = `blocks[${i}]`;
    if (block.block_id !== undefined) {
      id(`${at}.block_id`, block.block_id);
      if (blockIds.has(block.block_id)) problems.push(`${at}: duplicate block_id`);
      blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'header':
        text(`${at}.text`, block.text, 150);
        break;
      case 'section':
        if (block.text === undefined && block.fields === undefined) problems.push(`${at}: empty`);
        text(`${at}.text`, block.text, 3000);
        if ((block.fields?.length ?? 0) > 10) problems.push(`${at}.fields: more than 10`);
        block.fields?.forEach((field, j) => {
          text(`${at}.fields[${j}]`, field, 2000);
        });
        if (block.accessory) element(`${at}.accessory`, block.accessory);
        break;
      case 'context':
        if (block.elements.length > 10) problems.push(`${at}.elements: more than 10`);
        block.elements.forEach((el, j) => {
          if (el.type === 'mrkdwn' || el.type === 'plain_text') {
            text(`${at}.elements[${j}]`, el, 3000);
          }
        });
        break;
      case 'actions':
        if (block.elements.length > 25) problems.push(`${at}.elements: more than 25`);
        if (block.elements.length === 0) problems.push(`${at}.elements: empty`);
        block.elements.forEach((el, j) => {
          element(`${at}.elements[${j}]`, el);
        });
        break;
      default:
        break;
    }
  });
  if (total > 10_000) problems.push(`${total} characters of block text (max 10,000)`);
  return problems;
}
