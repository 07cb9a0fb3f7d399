import { describe, expect, it } from 'vitest';
import {
  renderMessage,
  type WorkbenchMessage,
} from '../../../src/sandbox/workbench/render/index.js';
import { assertSafeHtml, buttonsIn, CTX, tagsOf, visibleText } from './html.js';

const TS = '1795812000.000100';

function message(overrides: Partial<WorkbenchMessage> = {}): WorkbenchMessage {
  return { ts: TS, channel: 'C0GENERAL', ephemeral: false, ...overrides };
}

/** Renders blocks in a message and checks the HTML is safe. */
function render(blocks: unknown[], overrides: Partial<WorkbenchMessage> = {}): string {
  const html = renderMessage(message({ blocks, ...overrides }), CTX);
  assertSafeHtml(html);
  return html;
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const plain = (text: string, emoji?: boolean) => ({
  type: 'plain_text',
  text,
  ...(emoji === undefined ? {} : { emoji }),
});

describe('renderMessage: the message around the blocks', () => {
  it('is an <article> carrying the ts and channel', () => {
    const html = renderMessage(message({ text: 'hi' }), CTX);
    expect(tagsOf(html)[0]).toMatchObject({
      name: 'article',
      attrs: { 'data-ts': TS, 'data-channel': 'C0GENERAL' },
    });
    expect(html.endsWith('</article>')).toBe(true);
  });

  it('shows the top-level text as mrkdwn when there are no blocks', () => {
    const html = renderMessage(message({ text: '*3* sessions &lt;ok&gt;', blocks: [] }), CTX);
    expect(html).toContain('<b>3</b> sessions &lt;ok&gt;');
  });

  it('shows the blocks, not the text, when there are blocks', () => {
    const html = render([{ type: 'section', text: mrkdwn('from blocks') }], {
      text: 'notification',
    });
    expect(visibleText(html)).toContain('from blocks');
    expect(visibleText(html)).not.toContain('notification');
  });

  it('names the author, tags a bot with APP and shows the time for the browser to localize', () => {
    const html = renderMessage(
      message({ text: 'x', author: { id: 'B1', name: 'vpn-conns', isBot: true } }),
      CTX,
    );
    expect(visibleText(html)).toMatch(/^Vvpn-connsAPP20:40 UTCx$/);
    expect(html).toContain(
      '<time class="slack-date slack-message-time" datetime="2026-11-27T20:40:00.000Z" data-ts="1795812000" data-format="{time}">',
    );
  });

  it('shows a person without the APP tag, and escapes their name', () => {
    const html = renderMessage(
      message({ text: 'x', author: { id: 'U1', name: '<b>eve</b>', isBot: false } }),
      CTX,
    );
    expect(html).not.toContain('APP');
    expect(visibleText(html)).toContain('<b>eve</b>');
    assertSafeHtml(html);
  });

  it('says "Only visible to you" on an ephemeral message only', () => {
    expect(visibleText(renderMessage(message({ text: 'x', ephemeral: true }), CTX))).toContain(
      'Only visible to you',
    );
    expect(visibleText(renderMessage(message({ text: 'x' }), CTX))).not.toContain(
      'Only visible to you',
    );
  });

  it('marks an edited message', () => {
    expect(visibleText(renderMessage(message({ text: 'x', edited: true }), CTX))).toContain(
      '(edited)',
    );
  });

  it('shows a red alert badge naming each broken Block Kit limit', () => {
    const html = render([], {
      text: 'x',
      limitProblems: [
        'blocks[1].text.text: 3001 characters (max 3000)',
        'blocks: 51 items (max 50)',
      ],
    });
    const badge = /<div class="slack-limit-badge" role="alert">([\s\S]*?)<\/div>/.exec(html);
    expect(badge?.[1] && visibleText(badge[1])).toBe(
      'Block Kit limit: blocks[1].text.text: 3001 characters (max 3000)' +
        'Block Kit limit: blocks: 51 items (max 50)',
    );
    expect(renderMessage(message({ text: 'x', limitProblems: [] }), CTX)).not.toContain('alert');
  });

  it('offers files as downloads named by the file name', () => {
    const html = render([], {
      text: 'x',
      files: [
        { id: 'F1', name: 'vpn-digest.csv', url: '/files/F1/vpn-digest.csv', title: 'Digest' },
        { id: 'F2', name: 'evil.csv', url: 'javascript:alert(1)' },
        { id: 'F3', name: 'elsewhere.csv', url: '//evil.example/x.csv' },
      ],
    });
    const links = tagsOf(html).filter((t) => t.name === 'a' && !t.closing);
    expect(links).toHaveLength(1);
    expect(links[0]?.attrs).toMatchObject({
      href: '/files/F1/vpn-digest.csv',
      download: 'vpn-digest.csv',
    });
    expect(html).toMatch(/download="vpn-digest.csv" data-file-id="F1">vpn-digest.csv<\/a>/);
    expect(visibleText(html)).toContain('evil.csv');
    expect(visibleText(html)).toContain('elsewhere.csv');
  });

  it('shows an uploaded image inline above its name, and never from an unsafe URL', () => {
    const html = render([], {
      text: 'x',
      files: [
        { id: 'F1', name: 'chart.png', url: '/files/F1', title: 'VPN usage' },
        { id: 'F2', name: 'evil.png', url: 'javascript:alert(1)' },
      ],
    });
    const images = tagsOf(html).filter((t) => t.name === 'img');
    expect(images).toHaveLength(1);
    expect(images[0]?.attrs).toMatchObject({ src: '/files/F1', alt: 'VPN usage' });
  });

  it('shows the reply count of a thread as a link carrying the thread ts', () => {
    const html = render([], { text: 'x', replyCount: 2, threadTs: TS });
    expect(html).toContain(
      `<a class="slack-thread-link" href="#" data-thread-ts="${TS}">2 replies</a>`,
    );
    expect(render([], { text: 'x', replyCount: 1 })).toContain('>1 reply</a>');
    expect(render([], { text: 'x' })).not.toContain('slack-thread-link');
  });

  it('is deterministic', () => {
    const input = message({ blocks: [{ type: 'divider' }], ephemeral: true, replyCount: 3 });
    expect(renderMessage(input, CTX)).toBe(renderMessage(structuredClone(input), CTX));
  });
});

describe('renderMessage: blocks', () => {
  it('shows a bot file (slack_file) from the workbench when it holds it, else a placeholder', () => {
    const block = { type: 'image', slack_file: { id: 'F0CHART' }, alt_text: 'Usage chart' };
    const withFiles = {
      ...CTX,
      fileUrl: (id: string) => (id === 'F0CHART' ? '/files/F0CHART' : undefined),
    };
    const shown = renderMessage(message({ blocks: [block] }), withFiles);
    assertSafeHtml(shown);
    expect(shown).toContain('src="/files/F0CHART" alt="Usage chart"');
    // A file the workbench does not hold, or a path outside /files/, is never a src.
    const unknown = render([{ ...block, slack_file: { id: 'F0OTHER' } }]);
    expect(unknown).not.toContain('<img');
    const outside = renderMessage(message({ blocks: [block] }), {
      ...CTX,
      fileUrl: () => 'javascript:alert(1)',
    });
    expect(outside).not.toContain('<img');
  });

  it('renders a header as a heading of its plain text, with emoji', () => {
    const html = render([{ type: 'header', text: plain(':warning: <prod> & co', true) }]);
    expect(html).toMatch(/<h3 class="slack-block slack-header" data-block-id="b0">/);
    expect(visibleText(/<h3[^>]*>(.*)<\/h3>/.exec(html)?.[1] ?? '')).toBe('⚠️ <prod> & co');
  });

  it('renders a section with text and fields in two columns', () => {
    const html = render([
      {
        type: 'section',
        block_id: 'summary',
        text: mrkdwn('*Totals*'),
        fields: [mrkdwn('*Active*\n264'), plain('Terminated: 29')],
      },
    ]);
    expect(html).toContain('data-block-id="summary"');
    expect(html).toContain(
      '<div class="slack-fields"><div class="slack-field"><b>Active</b><br>264</div><div class="slack-field">Terminated: 29</div></div>',
    );
  });

  it('renders a section accessory button on the right', () => {
    const html = render([
      {
        type: 'section',
        text: mrkdwn('alice'),
        accessory: { type: 'button', action_id: 'go', text: plain('Go'), value: 'v' },
      },
    ]);
    expect(html).toMatch(
      /<div class="slack-accessory"><button type="button"[^>]*>Go<\/button><\/div>/,
    );
  });

  it('renders buttons named by their text with action id, block id, value and style', () => {
    const html = render([
      {
        type: 'actions',
        block_id: 'vpn_conns_actions',
        elements: [
          { type: 'button', action_id: 'next', text: plain('Next'), value: '{"q":"all","p":1}' },
          { type: 'button', action_id: 'ok', text: plain('Approve'), style: 'primary' },
          {
            type: 'button',
            action_id: 'kill',
            text: plain('Terminate'),
            style: 'danger',
            value: 'x',
          },
        ],
      },
    ]);
    const buttons = buttonsIn(html);
    expect(buttons.map((b) => b.text)).toEqual(['Next', 'Approve', 'Terminate']);
    expect(buttons[0]?.attrs).toMatchObject({
      type: 'button',
      class: 'slack-button',
      'data-action-id': 'next',
      'data-block-id': 'vpn_conns_actions',
      'data-value': '{"q":"all","p":1}',
    });
    expect(buttons[1]?.attrs.class).toBe('slack-button slack-button-primary');
    expect(buttons[1]?.attrs).not.toHaveProperty('data-value');
    expect(buttons[2]?.attrs.class).toBe('slack-button slack-button-danger');
  });

  it('gives a block without a block_id one, so every button has a block id', () => {
    const html = render([
      { type: 'divider' },
      { type: 'actions', elements: [{ type: 'button', action_id: 'a', text: plain('A') }] },
    ]);
    expect(buttonsIn(html)[0]?.attrs['data-block-id']).toBe('b1');
  });

  it('carries a confirm dialog as JSON, its mrkdwn text rendered', () => {
    const html = render([
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'kill',
            text: plain('Terminate'),
            confirm: {
              title: plain('Terminate this session?'),
              text: mrkdwn('Disconnect *<script>x* from *prod*?'),
              confirm: plain('Terminate'),
              deny: plain('Cancel'),
              style: 'danger',
            },
          },
          {
            type: 'button',
            action_id: 'plain',
            text: plain('Do'),
            confirm: { title: plain('Sure?'), text: plain('Really.') },
          },
        ],
      },
    ]);
    const [kill, other] = buttonsIn(html);
    expect(JSON.parse(kill?.attrs['data-confirm'] ?? '')).toEqual({
      title: 'Terminate this session?',
      text: 'Disconnect <script>x from prod?',
      html: 'Disconnect <b>&lt;script&gt;x</b> from <b>prod</b>?',
      confirm: 'Terminate',
      deny: 'Cancel',
      style: 'danger',
    });
    expect(JSON.parse(other?.attrs['data-confirm'] ?? '')).toMatchObject({
      confirm: 'Yes',
      deny: 'Cancel',
      style: 'default',
    });
  });

  it('renders a url button as a link, and only to http(s)', () => {
    const html = render([
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: 'docs', text: plain('Docs'), url: 'https://example.com/d' },
          { type: 'button', action_id: 'bad', text: plain('Bad'), url: 'javascript:alert(1)' },
        ],
      },
    ]);
    expect(html).toMatch(
      /<a class="slack-button" href="https:\/\/example.com\/d" target="_blank" rel="noopener noreferrer" data-action-id="docs"[^>]*>Docs<\/a>/,
    );
    expect(buttonsIn(html).map((b) => b.text)).toEqual(['Bad']);
  });

  it('renders an overflow menu and a static select as usable controls', () => {
    const options = [
      { text: plain('Refresh'), value: 'refresh' },
      { text: plain('Export'), value: 'export' },
    ];
    const html = render([
      {
        type: 'section',
        text: mrkdwn('x'),
        accessory: { type: 'overflow', action_id: 'more', options },
      },
      {
        type: 'actions',
        elements: [
          { type: 'static_select', action_id: 'pick', placeholder: plain('Endpoint'), options },
          { type: 'datepicker', action_id: 'day', placeholder: plain('Pick a day') },
        ],
      },
    ]);
    expect(
      buttonsIn(html).map((b) => [b.text, b.attrs['data-value'], b.attrs['data-element-type']]),
    ).toEqual([
      ['Refresh', 'refresh', 'overflow'],
      ['Export', 'export', 'overflow'],
    ]);
    expect(html).toContain('<summary aria-label="More actions">⋯</summary>');
    expect(html).toMatch(
      /<select class="slack-select" aria-label="Endpoint" data-action-id="pick"/,
    );
    expect(html).toContain('<option value="refresh">Refresh</option>');
    expect(visibleText(html)).toContain('[datepicker: Pick a day]');
  });

  it('renders context text and images', () => {
    const html = render([
      {
        type: 'context',
        elements: [
          mrkdwn('Fetched by *bot*'),
          { type: 'image', image_url: 'https://example.com/i.png', alt_text: 'logo' },
          { type: 'image', image_url: 'javascript:alert(1)', alt_text: 'bad' },
        ],
      },
    ]);
    expect(html).toContain('<span class="slack-context-text">Fetched by <b>bot</b></span>');
    expect(html).toContain(
      '<img class="slack-context-image" src="https://example.com/i.png" alt="logo" loading="lazy" referrerpolicy="no-referrer">',
    );
    expect(visibleText(html)).toContain('[image: bad]');
  });

  it('renders a divider and an image block with its title', () => {
    const html = render([
      { type: 'divider' },
      {
        type: 'image',
        title: plain('Sessions per hour'),
        image_url: 'https://example.com/c.png',
        alt_text: 'chart',
      },
    ]);
    expect(html).toContain('<hr class="slack-block slack-divider" data-block-id="b0">');
    expect(html).toMatch(
      /<figure[^>]*><figcaption>Sessions per hour<\/figcaption><img [^>]*alt="chart"/,
    );
  });

  it('renders rich_text: styled text, links, mentions, lists, code and quotes', () => {
    const html = render([
      {
        type: 'rich_text',
        elements: [
          {
            type: 'rich_text_section',
            elements: [
              { type: 'text', text: 'Hi ', style: { bold: true } },
              { type: 'user', user_id: 'U0ALICE01' },
              { type: 'text', text: ' see ' },
              { type: 'link', url: 'https://example.com', text: 'this' },
              { type: 'emoji', name: 'tada', unicode: '1f389' },
              { type: 'link', url: 'javascript:alert(1)', text: 'not a link' },
            ],
          },
          {
            type: 'rich_text_list',
            style: 'ordered',
            elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: '<one>' }] }],
          },
          { type: 'rich_text_preformatted', elements: [{ type: 'text', text: 'a *b*' }] },
          { type: 'rich_text_quote', elements: [{ type: 'text', text: 'quoted' }] },
        ],
      },
    ]);
    expect(html).toContain('<b>Hi </b><span class="slack-mention">@alice</span>');
    expect(html).toContain('<ol class="slack-list"><li>&lt;one&gt;</li></ol>');
    expect(html).toContain('<pre class="slack-pre">a *b*</pre>');
    expect(html).toContain('<blockquote class="slack-quote">quoted</blockquote>');
    expect(visibleText(html)).toContain('🎉not a link');
    expect(tagsOf(html).filter((t) => t.name === 'a' && !t.closing)).toHaveLength(1);
  });

  it('renders table, markdown and video blocks, escaped', () => {
    const html = render([
      {
        type: 'table',
        rows: [
          [
            { type: 'raw_text', text: '<b>user</b>' },
            { type: 'raw_text', text: 'sessions' },
          ],
          [
            {
              type: 'rich_text',
              elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'bob' }] }],
            },
            { type: 'raw_text', text: '3' },
          ],
        ],
      },
      { type: 'markdown', text: '**not parsed** <i>x</i>' },
      {
        type: 'video',
        title: plain('Demo'),
        video_url: 'https://example.com/v',
        alt_text: 'a video',
        thumbnail_url: 'https://example.com/t.png',
      },
    ]);
    expect(html).toContain('<tr><td>&lt;b&gt;user&lt;/b&gt;</td><td>sessions</td></tr>');
    expect(html).toContain('<td><div class="slack-rich-section">bob</div></td>');
    expect(visibleText(html)).toContain('**not parsed** <i>x</i>');
    expect(html).toMatch(/<a class="slack-link" href="https:\/\/example.com\/v"[^>]*>Demo<\/a>/);
  });

  it('shows an unknown block type as a visible placeholder naming it', () => {
    const html = render([{ type: 'carousel', items: [] }, { nope: true }, 'junk']);
    expect(visibleText(html)).toContain('[unsupported block type "carousel"]');
    expect(visibleText(html)).toContain('[block without a type]');
    expect(visibleText(html)).toContain('[not a block]');
  });

  it('escapes hostile values in every attribute', () => {
    const evil = '"><img src=x onerror=alert(1)>';
    const html = render([
      {
        type: 'actions',
        block_id: evil,
        elements: [{ type: 'button', action_id: evil, value: evil, text: plain(evil) }],
      },
    ]);
    const [button] = buttonsIn(html);
    expect(button?.text).toBe(evil);
    expect(button?.attrs).toMatchObject({
      'data-action-id': evil,
      'data-block-id': evil,
      'data-value': evil,
    });
  });
});
