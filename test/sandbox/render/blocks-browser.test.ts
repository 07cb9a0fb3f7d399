/**
 * static/blocks.js and blocks.css in a real Chromium, on messages the bot's
 * builders made: dates in the browser's time zone, buttons dispatching
 * `workbench:action`, confirm dialogs, idempotent enhancing. Skipped when
 * /usr/bin/chromium is missing, except under CI=true.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  renderMessage,
  type WorkbenchMessage,
} from '../../../src/sandbox/workbench/render/index.js';
import { botMessages } from './bot-messages.js';
import { CTX } from './html.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && process.env.CI !== 'true';
const staticFile = (name: string) =>
  readFileSync(new URL(`../../../src/sandbox/workbench/static/${name}`, import.meta.url), 'utf8');

const bots = new Map(botMessages().map((bot) => [bot.name, bot]));
function botArticle(name: string, ts: string): string {
  const bot = bots.get(name);
  if (!bot) throw new Error(`no bot message ${name}`);
  return renderMessage({ ts, channel: 'D0BOTDM01', ephemeral: bot.ephemeral, ...bot.message }, CTX);
}
const article = (message: Partial<WorkbenchMessage>) =>
  renderMessage(
    { ts: '1795812000.000200', channel: 'C0GENERAL', ephemeral: false, ...message },
    CTX,
  );

const DATE = '<!date^1795812000^{date_short_pretty} {time}|2026-11-27 20:40 UTC>';
const ODD_DATE = '<!date^1795812000^{moon_phase}|full moon>';

function page(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>${staticFile('blocks.css')}</style></head>
<body><main>${body}</main>
<script>window.actions = []; addEventListener('workbench:action', (e) => window.actions.push(e.detail));</script>
<script>${staticFile('blocks.js')}</script></body></html>`;
}

interface Detail {
  actionId: string;
  blockId: string;
  value?: string;
  messageTs?: string;
  channel?: string;
  elementType: string;
}

describe.skipIf(skip)('blocks.js in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function open(body: string, timezoneId = 'UTC', locale = 'en-US'): Promise<Page> {
    const context = await browser.newContext({ timezoneId, locale });
    const tab = await context.newPage();
    await tab.setContent(page(body));
    return tab;
  }
  // Code run in the page is given as text: this project's TypeScript has no DOM types.
  const actions = (tab: Page) => tab.evaluate<Detail[]>('window.actions');

  it("shows <!date> tokens in the browser's time zone, keeping the fallback it cannot format", async () => {
    const tab = await open(article({ text: `since ${DATE} · ${ODD_DATE}` }), 'Asia/Tokyo');
    const times = tab.locator('.slack-text time.slack-date');
    await expect.poll(() => times.first().textContent()).toBe('Nov 28, 2026 5:40 AM');
    expect(await times.first().getAttribute('title')).toBe(
      'Saturday, November 28th, 2026 5:40:00 AM',
    );
    expect(await times.nth(1).textContent()).toBe('full moon');
    expect(await tab.locator('.slack-message-time').textContent()).toBe('5:40 AM');
    await tab.context().close();
  });

  it("uses a 24-hour clock where the reader's locale does", async () => {
    const tab = await open(article({ text: DATE }), 'Europe/Berlin', 'en-GB');
    await expect
      .poll(() => tab.locator('.slack-text time').textContent())
      .toBe('Nov 27, 2026 21:40');
    await tab.context().close();
  });

  it('dispatches workbench:action for a button without a confirm dialog', async () => {
    const tab = await open(botArticle('connections, page 2', '1795812000.000300'));
    await tab.getByRole('button', { name: 'Next', exact: true }).click();
    const [detail] = await actions(tab);
    expect(detail).toEqual({
      actionId: 'vpn_conns_page_next',
      blockId: 'vpn_conns_actions',
      value: '{"q":"list all","p":2}',
      messageTs: '1795812000.000300',
      channel: 'D0BOTDM01',
      elementType: 'button',
    });
    await tab.context().close();
  });

  it('asks in a dialog before a Terminate, and acts only on confirm', async () => {
    const tab = await open(botArticle('connections, page 1, admin', '1795812000.000400'));
    const terminate = tab
      .locator('article')
      .getByRole('button', { name: 'Terminate', exact: true });
    await terminate.first().click();
    const dialog = tab.getByRole('dialog', { name: 'Terminate this session?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.getByRole('heading').textContent()).toBe('Terminate this session?');
    expect(await dialog.textContent()).toContain('Disconnect Mary Ann from prod?');
    const confirm = dialog.getByRole('button', { name: 'Terminate', exact: true });
    expect(await confirm.getAttribute('class')).toContain('slack-button-danger');

    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect.poll(() => tab.locator('dialog').count()).toBe(0);
    expect(await actions(tab)).toEqual([]);

    await terminate.first().click();
    await tab.keyboard.press('Escape');
    await expect.poll(() => tab.locator('dialog').count()).toBe(0);
    expect(await actions(tab)).toEqual([]);

    await terminate.first().click();
    await dialog.getByRole('button', { name: 'Terminate', exact: true }).click();
    await expect.poll(() => actions(tab).then((a) => a.length)).toBe(1);
    const [detail] = await actions(tab);
    expect(detail).toMatchObject({
      actionId: 'vpn_conns_terminate',
      messageTs: '1795812000.000400',
    });
    expect(detail?.value).toMatch(/^signed:cvpn-connection-/);
    await tab.context().close();
  });

  it('is idempotent: enhancing again neither doubles actions nor reformats dates', async () => {
    const tab = await open(
      `${botArticle('connections, page 2', '1795812000.000500')}${article({ text: DATE })}`,
      'Asia/Tokyo',
    );
    const before = await tab.locator('main').innerHTML();
    await tab.evaluate(
      "VpnWorkbench.enhance(document.body); VpnWorkbench.enhance(document.querySelector('article'))",
    );
    expect(await tab.locator('main').innerHTML()).toBe(before);
    await tab.getByRole('button', { name: 'Previous', exact: true }).click();
    await expect.poll(() => actions(tab).then((a) => a.length)).toBe(1);
    await tab.waitForTimeout(100);
    expect(await actions(tab)).toHaveLength(1);
    await tab.context().close();
  });

  it('enhances messages added to the page later', async () => {
    const tab = await open('', 'Asia/Tokyo');
    const html = article({
      ts: '1795812000.000600',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: DATE } },
        {
          type: 'actions',
          block_id: 'later',
          elements: [
            {
              type: 'button',
              action_id: 'go',
              value: '1',
              text: { type: 'plain_text', text: 'Go' },
            },
            {
              type: 'static_select',
              action_id: 'pick',
              placeholder: { type: 'plain_text', text: 'Endpoint' },
              options: ['prod', 'staging'].map((v) => ({
                text: { type: 'plain_text', text: v },
                value: v,
              })),
            },
          ],
        },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'more' },
          accessory: {
            type: 'overflow',
            action_id: 'menu',
            options: [{ text: { type: 'plain_text', text: 'Refresh' }, value: 'refresh' }],
          },
        },
      ],
    });
    await tab.evaluate(
      `document.querySelector('main').insertAdjacentHTML('beforeend', ${JSON.stringify(html)})`,
    );
    await expect
      .poll(() => tab.locator('.slack-text time.slack-date').textContent())
      .toBe('Nov 28, 2026 5:40 AM');
    await tab.getByRole('button', { name: 'Go', exact: true }).click();
    await tab.getByRole('combobox', { name: 'Endpoint' }).selectOption('staging');
    await tab.getByText('⋯').click();
    await tab.getByRole('button', { name: 'Refresh', exact: true }).click();
    await expect.poll(() => actions(tab).then((a) => a.length)).toBe(3);
    expect(
      (await actions(tab)).map((a) => [a.actionId, a.blockId, a.value, a.elementType]),
    ).toEqual([
      ['go', 'later', '1', 'button'],
      ['pick', 'later', 'staging', 'static_select'],
      ['menu', 'b2', 'refresh', 'overflow'],
    ]);
    await tab.context().close();
  });
});
