/**
 * The emoji shortcodes the bot uses (`grep -rhoE ':[a-z_]+:' src/`) and a few
 * common others, as characters. Unknown shortcodes stay as typed, as in a
 * Slack workspace that lacks a custom emoji.
 */
import { escapeHtml } from './escape.js';

export const EMOJI: Readonly<Record<string, string>> = {
  // Used by the bot's messages.
  boom: '💥',
  calendar: '📆',
  card_index_dividers: '🗂️',
  electric_plug: '🔌',
  eyes: '👀',
  grey_question: '❔',
  hourglass_flowing_sand: '⏳',
  information_source: 'ℹ️',
  key: '🔑',
  large_green_circle: '🟢',
  mag: '🔍',
  memory: '📝',
  no_entry: '⛔',
  page_facing_up: '📄',
  rotating_light: '🚨',
  scissors: '✂️',
  snail: '🐌',
  warning: '⚠️',
  white_check_mark: '✅',
  white_circle: '⚪',
  x: '❌',
  // Common in Slack.
  bell: '🔔',
  bulb: '💡',
  chart_with_upwards_trend: '📈',
  clock1: '🕐',
  construction: '🚧',
  fire: '🔥',
  globe_with_meridians: '🌐',
  heavy_check_mark: '✔️',
  hourglass: '⌛',
  large_blue_circle: '🔵',
  large_orange_circle: '🟠',
  large_yellow_circle: '🟡',
  lock: '🔒',
  red_circle: '🔴',
  rocket: '🚀',
  shield: '🛡️',
  smile: '😄',
  tada: '🎉',
  thumbsup: '👍',
  '+1': '👍',
  unlock: '🔓',
  wave: '👋',
  wrench: '🔧',
  zap: '⚡',
};

/** The HTML for `:name:` when the shortcode is known (the character, with the code as its title). */
export function emojiHtml(name: string): string | undefined {
  const char = EMOJI[name];
  return char === undefined
    ? undefined
    : `<span class="slack-emoji" title=":${escapeHtml(name)}:">${char}</span>`;
}

/** Known `:shortcodes:` in already-escaped HTML text replaced by their characters. */
export function replaceEmoji(escapedText: string): string {
  return escapedText.replace(/:([a-z0-9_+-]+):/g, (code, name: string) => emojiHtml(name) ?? code);
}
