import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMOJI } from '../../../src/sandbox/workbench/render/emoji.js';
import { renderMrkdwn, renderPlainText } from '../../../src/sandbox/workbench/render/index.js';
import { escapeMrkdwn, literal } from '../../../src/slack/blocks/mrkdwn.js';
import { TRICKY_USERNAMES } from './bot-messages.js';
import { assertSafeHtml, CTX, tagsOf, visibleText } from './html.js';

const render = (text: string) => renderMrkdwn(text, CTX);
const ZWSP = '\u200B';

describe('renderMrkdwn: formatting', () => {
  it('renders bold, italic and strike', () => {
    expect(render('*bold* _it_ ~gone~')).toBe('<b>bold</b> <i>it</i> <s>gone</s>');
  });

  it('nests formatting and allows punctuation around it', () => {
    expect(render('(*bold _and it_*)!')).toBe('(<b>bold <i>and it</i></b>)!');
  });

  it('does not format markers inside words or next to spaces', () => {
    expect(render('snake_case_name 2*3*4 * not bold *')).toBe('snake_case_name 2*3*4 * not bold *');
  });

  it('shows a marker after a zero-width space as text, as the bot writes user names', () => {
    // What `*${literal('*admin*')}*` gives: the name in bold, its stars as typed.
    const html = render(`*${literal('*admin*')}*`);
    expect(html).toBe(`<b>${ZWSP}*admin${ZWSP}*</b>`);
    expect(render(literal('_x_ ~y~ `z`'))).not.toMatch(/<(i|s|code)/);
  });

  it('renders inline code without formatting, emoji or tokens inside', () => {
    expect(render('`*a* :warning: 2001:db8:a:b::1 &lt;x&gt;`')).toBe(
      '<code class="slack-code">*a* :warning: 2001:db8:a:b::1 &lt;x&gt;</code>',
    );
  });

  it('renders ``` blocks as <pre>, keeping newlines and leaving their content unformatted', () => {
    const html = render('Usage:\n```\n/vpn-conns *all*\n  help\n```\nDone');
    expect(html).toBe('Usage:<pre class="slack-pre">/vpn-conns *all*\n  help</pre>Done');
  });

  it('groups lines starting with > into one quote; &gt; at the start is only text', () => {
    expect(render('> one\n> *two*\nafter\n&gt; not a quote')).toBe(
      '<blockquote class="slack-quote">one<br><b>two</b></blockquote>after<br>&gt; not a quote',
    );
  });

  it('quotes the rest of the message after >>>', () => {
    expect(render('before\n>>> a\nb')).toBe(
      'before<blockquote class="slack-quote">a<br>b</blockquote>',
    );
  });

  it('keeps newlines as <br>', () => {
    expect(render('a\nb\n\nc')).toBe('a<br>b<br><br>c');
  });

  it('shows known emoji shortcodes as characters and leaves unknown ones as typed', () => {
    const html = render(':warning: :x: :no_such_emoji:');
    expect(visibleText(html)).toBe('⚠️ ❌ :no_such_emoji:');
    expect(html).toContain('title=":warning:"');
  });

  it('knows every shortcode the bot writes, so the workbench shows none as typed', () => {
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts')) {
          // Code, not comments (`2001:db8:a:b::1` in a comment is no emoji).
          const code = readFileSync(path, 'utf8')
            .split('\n')
            .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
            .join('\n');
          for (const m of code.matchAll(/['`\s(]:([a-z_]+):[\s'`]/g)) {
            used.add(m[1] as string);
          }
        }
      }
    };
    walk('src/slack');
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !(name in EMOJI))).toEqual([]);
  });
});

describe('renderMrkdwn: links and mentions', () => {
  it('renders <url|label> and <url> as links that open safely in a new tab', () => {
    expect(render('<https://example.com/a?b=1&amp;c=2|the docs> <mailto:a@b.example>')).toBe(
      '<a class="slack-link" href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the docs</a> ' +
        '<a class="slack-link" href="mailto:a@b.example" target="_blank" rel="noopener noreferrer">mailto:a@b.example</a>',
    );
  });

  it('refuses links with other schemes, showing the token as text', () => {
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,x',
      'java\tscript:x',
      'vbscript:x',
    ]) {
      const html = render(`<${url}|x>`);
      expect(html).not.toContain('<a');
      expect(visibleText(html)).toBe(`<${url}|x>`);
    }
  });

  it('shows user mentions by name, falling back to the id', () => {
    expect(visibleText(render('<@U0ALICE01> <@U0NOBODY9> <@U0NOBODY9|bob>'))).toBe(
      '@alice @U0NOBODY9 @bob',
    );
    expect(render('<@U0ALICE01>')).toBe(
      '<span class="slack-mention" data-user-id="U0ALICE01">@alice</span>',
    );
  });

  it('shows channels as #name', () => {
    expect(visibleText(render('<#C0GENERAL> <#C0OTHER01|ops> <#C0UNKNOWN>'))).toBe(
      '#general #ops #C0UNKNOWN',
    );
  });

  it('shows @here, @channel, @everyone and user groups', () => {
    expect(
      visibleText(
        render('<!here> <!channel> <!everyone> <!subteam^S0SECOPS1|@secops> <!subteam^S0SECOPS1>'),
      ),
    ).toBe('@here @channel @everyone @secops @S0SECOPS1');
  });

  it('renders <!date^…> as a <time> the browser localizes, showing the fallback', () => {
    expect(render('<!date^1795812000^{date_short_pretty} {time}|2026-11-27 20:40 UTC>')).toBe(
      '<time class="slack-date" datetime="2026-11-27T20:40:00.000Z" data-ts="1795812000" ' +
        'data-format="{date_short_pretty} {time}">2026-11-27 20:40 UTC</time>',
    );
  });

  it('links a date that carries a link, and only to a safe URL', () => {
    const linked = render('<!date^1795812000^{date}^https://example.com/x|then>');
    expect(linked).toMatch(/^<a class="slack-link" href="https:\/\/example.com\/x"[^>]*><time /);
    expect(render('<!date^1795812000^{date}^javascript:alert(1)|then>')).not.toContain('<a');
  });

  it('shows a malformed date token as text', () => {
    expect(visibleText(render('<!date^soon^{date}|later>'))).toBe('<!date^soon^{date}|later>');
  });

  it('renders the dates the bot writes with dateToken, fallback included', () => {
    const html = render(
      'since <!date^1795812000^{date_short_pretty} {time}|2026-11-27 20:40 UTC> · 5m',
    );
    expect(visibleText(html)).toBe('since 2026-11-27 20:40 UTC · 5m');
  });
});

describe('renderMrkdwn: escaping', () => {
  it('decodes &lt; &gt; &amp; exactly once, then escapes for HTML', () => {
    expect(render('&lt;b&gt; tom&amp;jerry &amp;lt;')).toBe('&lt;b&gt; tom&amp;jerry &amp;lt;');
    expect(visibleText(render('&lt;b&gt; tom&amp;jerry &amp;lt;'))).toBe('<b> tom&jerry &lt;');
  });

  it('never lets hostile text become markup', () => {
    const hostile = [
      '<script>alert(1)</script>',
      '"><img src=x onerror=alert(1)>',
      '&lt;script&gt;alert(1)&lt;/script&gt;',
      '<javascript:alert(1)|x>',
      '<https://ok.example/" onmouseover="alert(1)|x\'>',
      '<@U1"><img src=x onerror=alert(1)>|x>',
      '<!date^1^{date}^https://x.example/"onclick="alert(1)|y>',
      '`<img src=x onerror=alert(1)>`',
      '```<iframe srcdoc="x">```',
      '> <svg onload=alert(1)>',
      '*<b onclick=alert(1)>*',
    ];
    for (const text of hostile) {
      const html = render(text);
      assertSafeHtml(html);
      expect(tagsOf(html).map((t) => t.name)).not.toContain('img');
      expect(tagsOf(html).map((t) => t.name)).not.toContain('script');
    }
  });

  it('formats an escaped text only where it has markers of its own', () => {
    expect(visibleText(render(escapeMrkdwn('<!channel> a>b')))).toBe('<!channel> a>b');
    expect(render(escapeMrkdwn('*bold*'))).toBe('<b>bold</b>');
  });

  it('shows every tricky VPN user name exactly as typed once the bot has made it literal', () => {
    for (const name of TRICKY_USERNAMES) {
      for (const written of [literal(name), `*${literal(name)}*`, `_${literal(name)}_`]) {
        const html = render(written);
        assertSafeHtml(html);
        expect(visibleText(html).replaceAll(ZWSP, '')).toBe(name);
      }
    }
  });

  it('produces safe HTML for any mix of Slack syntax (seeded random strings)', () => {
    const pieces = [
      '<',
      '>',
      '&',
      '&lt;',
      '&gt;',
      '&amp;',
      '"',
      "'",
      '*',
      '_',
      '~',
      '`',
      '```',
      '|',
      '!',
      '@',
      '#',
      '^',
      ':',
      'x',
      ' ',
      '\n',
      '> ',
      'https://a.example',
      'javascript:',
      'onerror=',
      '<!date^1^{date}|',
      ':warning:',
      ZWSP,
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      const text = Array.from(
        { length: 1 + (next() % 30) },
        () => pieces[next() % pieces.length],
      ).join('');
      const html = render(text);
      expect(() => assertSafeHtml(html), text).not.toThrow();
    }
  });
});

describe('renderMrkdwn: pathological input', () => {
  // Messages over Slack's limits are still shown (with a badge): they can be long.
  it('renders deeply nested markers without running out of stack', () => {
    const depth = 20_000;
    const text = `${'*a _b '.repeat(depth)}${' b_ a*'.repeat(depth)}`;
    const html = render(text);
    assertSafeHtml(html);
    expect(visibleText(html).replace(/[*_]/g, '')).toBe(text.replace(/[*_]/g, ''));
  });

  it('renders long runs of unclosed markers, brackets and escaped backticks', () => {
    for (const unit of ['*a ', '<', '<<x', `${ZWSP}\``, '&lt;<', '_ ~ * ', '<@U1|<']) {
      const text = unit.repeat(Math.ceil(100_000 / unit.length));
      const html = render(text);
      assertSafeHtml(html);
      expect(visibleText(html)).toBe(text.replaceAll('&lt;', '<'));
    }
  });
});

describe('renderPlainText', () => {
  it('shows the text as typed, escaped, with newlines', () => {
    expect(renderPlainText('<b>&amp; *x*\nnext', true)).toBe('&lt;b&gt;&amp;amp; *x*<br>next');
  });

  it('converts known shortcodes unless emoji is false', () => {
    expect(visibleText(renderPlainText(':warning: ok', true))).toBe('⚠️ ok');
    expect(renderPlainText(':warning: ok', false)).toBe(':warning: ok');
  });
});
