import { describe, expect, it } from 'vitest';
import {
  dateToken,
  escapeMrkdwn,
  inlineCode,
  literal,
  truncate,
} from '../../../src/slack/blocks/mrkdwn.js';

// Every date in these tests must come out in UTC even though the process runs in Los Angeles.
process.env.TZ = 'America/Los_Angeles';

const ZWSP = '\u200B';

describe('escapeMrkdwn', () => {
  it('escapes &, < and > so a name cannot ping a channel or hide a link', () => {
    expect(escapeMrkdwn('<!channel>')).toBe('&lt;!channel&gt;');
    expect(escapeMrkdwn('<https://evil.example|click>')).toBe('&lt;https://evil.example|click&gt;');
    expect(escapeMrkdwn('tom&jerry')).toBe('tom&amp;jerry');
  });

  it('escapes & first, so an already escaped text is escaped again rather than decoded', () => {
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });

  it('leaves everything else alone', () => {
    const text = `*bold* _it_ ~s~ \`c\` "q" 'a' zoë 名前 :smile: @here`;
    expect(escapeMrkdwn(text)).toBe(text);
  });
});

describe('literal', () => {
  it('keeps *admin* from turning bold', () => {
    expect(literal('*admin*')).toBe(`${ZWSP}*admin${ZWSP}*`);
    expect(literal('*admin*')).not.toContain('*admin*');
  });

  it('neutralises every formatting marker and still escapes', () => {
    expect(literal('_a_ ~b~ `c` <d>')).toBe(
      `${ZWSP}_a${ZWSP}_ ${ZWSP}~b${ZWSP}~ ${ZWSP}\`c${ZWSP}\` &lt;d&gt;`,
    );
  });

  it('changes nothing visible in an ordinary name', () => {
    expect(literal('alice.martin')).toBe('alice.martin');
  });
});

describe('truncate', () => {
  it('returns a short enough text unchanged', () => {
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('cuts to exactly the limit, ending with …', () => {
    const cut = truncate('abcdefghij', 5);
    expect(cut).toBe('abcd…');
    expect(cut.length).toBe(5);
  });

  it('never cuts inside an entity', () => {
    const text = `${'a'.repeat(7)}&amp;${'b'.repeat(10)}`;
    for (let max = 1; max <= text.length; max++) {
      const cut = truncate(text, max);
      expect(cut.length).toBeLessThanOrEqual(max);
      expect(cut.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
    }
  });

  it('never cuts inside a Slack date token', () => {
    const token = dateToken(new Date('2026-11-27T20:40:00Z'));
    const text = `since ${token} and more`;
    for (let max = 6; max < 6 + token.length; max++) {
      const cut = truncate(text, max);
      expect(cut.length).toBeLessThanOrEqual(max);
      expect(cut === 'since…' || cut.includes(token)).toBe(true);
    }
  });

  it('never splits a surrogate pair', () => {
    const cut = truncate('ab😀cd', 4);
    expect(cut).toBe('ab…');
    expect(truncate('ab😀cd', 5)).toBe('ab😀…');
  });

  it('handles tiny limits', () => {
    expect(truncate('abc', 1)).toBe('…');
    expect(truncate('abc', 0)).toBe('');
  });
});

describe('dateToken', () => {
  const date = new Date('2026-11-27T20:40:59Z');

  it('shows the date in the reader’s zone with a UTC fallback', () => {
    expect(dateToken(date)).toBe(
      '<!date^1795812059^{date_short_pretty} {time}|2026-11-27 20:40 UTC>',
    );
  });

  it('takes a fallback and escapes it', () => {
    expect(dateToken(date, 'a <b> & c')).toBe(
      '<!date^1795812059^{date_short_pretty} {time}|a &lt;b&gt; &amp; c>',
    );
  });

  it('shows a dash for a missing or invalid date, never Invalid Date', () => {
    expect(dateToken(null)).toBe('–');
    expect(dateToken(new Date(Number.NaN))).toBe('–');
  });
});

describe('inlineCode', () => {
  it('wraps a value in backticks so an IPv6 address grows no emoji', () => {
    expect(inlineCode('2001:db8:a:b::1')).toBe('`2001:db8:a:b::1`');
  });

  it('escapes, flattens and keeps the span closed', () => {
    expect(inlineCode('a`b\n<c>')).toBe("`a'b &lt;c&gt;`");
  });

  it('shows a dash for nothing', () => {
    expect(inlineCode(null)).toBe('–');
    expect(inlineCode('  ')).toBe('–');
  });
});
