/**
 * Properties of the query grammar (src/vpn/query.ts): whatever a person types, the answer is a
 * query or a usage error that names what it could not use; and the canonical text of a query
 * (carried in paging buttons) reads back as the same query.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  formatQuery,
  type ParsedCommand,
  parseCommand,
  type Surface,
  tokenize,
  unescapeSlack,
} from '../../src/vpn/query.js';
import { commandText, word } from './arbitraries.js';
import { settings } from './settings.js';

/** What Slack does to command text before sending it (should_escape also does this much). */
const escapeForSlack = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;
const BACKTICKED = /`([^`]+)`/g;

/** The pieces of input a usage error message names: its `"…"` and `` `…` `` quotations. */
function named(message: string): string[] {
  const names: string[] = [];
  for (const match of message.matchAll(JSON_STRING)) names.push(JSON.parse(match[0]) as string);
  for (const match of message.matchAll(BACKTICKED)) names.push(match[1] ?? '');
  return names;
}

/**
 * True when `name` comes from the words typed: one of them (`""` is a word too), or made of
 * parts that occur in them (`"user="`, `` `user @` ``), compared without case.
 */
function occursIn(name: string, words: readonly string[]): boolean {
  if (name === '') return words.includes('');
  const haystack = words.join(' ').toLowerCase();
  return name
    .toLowerCase()
    .split(' ')
    .every((part) => haystack.includes(part));
}

/**
 * Parses and checks the outcome: a parsed command, or a `UsageError` naming a word of the input
 * (or, for an unclosed quote, the quote). Anything else thrown fails the property.
 */
function parseOrNameTheWord(
  input: string | readonly string[],
  surface: Surface,
): ParsedCommand | UsageError {
  const text = typeof input === 'string' ? input : input.join(' ');
  try {
    return parseCommand(input, surface);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message.startsWith('Unclosed quote')) {
      expect(text).toMatch(/["\u201C\u201D]/);
      return error;
    }
    const names = named(error.message);
    const words = typeof input === 'string' ? tokenize(input) : input;
    const readable = [words, words.map(unescapeSlack)];
    expect(
      names.some((name) => readable.some((seen) => occursIn(name, seen))),
      `${JSON.stringify(error.message)} names no word of ${JSON.stringify(text)}`,
    ).toBe(true);
    return error;
  }
}

describe('the query grammar, for any input', () => {
  it('gives a query or a usage error naming a word, in Slack (escaped by Slack or not)', () => {
    fc.assert(
      fc.property(commandText, (text) => {
        parseOrNameTheWord(text, 'slack');
        parseOrNameTheWord(escapeForSlack(text), 'slack');
      }),
      settings(),
    );
  });

  it('gives a query or a usage error naming a word in the terminal (text or argv)', () => {
    fc.assert(
      fc.property(commandText, fc.array(word, { maxLength: 6 }), (text, argv) => {
        parseOrNameTheWord(text, 'cli');
        parseOrNameTheWord(argv, 'cli');
      }),
      settings(),
    );
  });

  it('formats every query it reads so that the text reads back as the same query', () => {
    fc.assert(
      fc.property(commandText, fc.boolean(), (text, escaped) => {
        const parsed = parseOrNameTheWord(escaped ? escapeForSlack(text) : text, 'slack');
        if (parsed instanceof UsageError) return;
        const canonical = formatQuery(parsed.query);
        const again = parseCommand(canonical, 'slack', { slackEscaped: false });
        expect(again, canonical).toEqual({ query: parsed.query, public: false });
      }),
      settings(),
    );
  });
});

describe('the query grammar, on the counterexamples the properties found', () => {
  it('names the value of a status list with an empty part', () => {
    expect(() => parseCommand('status=active,', 'slack')).toThrow(
      'An empty status in "active,": use one of',
    );
  });

  it('names the mention the terminal cannot use', () => {
    expect(() => parseCommand(['user', '<@U0123ABCD>'], 'cli')).toThrow('"<@U0123ABCD>"');
  });

  it.each([
    ['user @"="', '='],
    ['user @me', 'me'],
    ['user @public', 'public'],
    ['user @@alice', '@alice'],
    ['user @"<@U0123ABCD>"', '<@U0123ABCD>'],
  ])('formats the name read from %s so that it reads back as %j', (text, name) => {
    const { query } = parseCommand(text, 'slack', { slackEscaped: false });
    expect(query).toMatchObject({ kind: 'user', who: { kind: 'name', name } });
    expect(parseCommand(formatQuery(query), 'slack', { slackEscaped: false }).query).toEqual(query);
  });
});
