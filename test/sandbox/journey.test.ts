/**
 * The demo in a real browser, through the page only: the real bot (dist/main.js as a child
 * process), the EC2 emulator with the demo fleet, the workbench and headless Chromium.
 *
 * The screenshot in the README (docs/workbench.png) is taken here: run with
 * `UPDATE_SCREENSHOT=1` to refresh it; otherwise it goes to a temporary folder.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateBlocks } from '../../src/sandbox/block-kit-limits.js';
import { DEMO_BOT, DEMO_CHANNELS, type Demo, ROOT, startDemo } from '../../src/sandbox/demo.js';
import { launchBrowser, skipBrowser } from './browser.js';

const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? join(ROOT, 'docs', 'workbench.png')
    : join(tmpdir(), `vpn-conns-workbench-${process.pid}.png`);

const CALLER_SETTINGS = {
  AWS_PROFILE: 'production',
  AWS_ACCESS_KEY_ID: 'AKIAREALACCOUNTKEY00',
  AWS_SECRET_ACCESS_KEY: 'real-secret',
  AWS_ENDPOINT_URL: 'https://ec2.eu-west-1.amazonaws.com',
  SLACK_API_URL: 'https://slack.com/api/',
  SLACK_BOT_TOKEN: 'xoxb-real-workspace',
};

let demo: Demo;
let browser: Browser;
let page: Page;

/** Active and terminated counts of one endpoint, as the emulator holds them now. */
function countsOf(endpointId: string) {
  const all = demo.emulator.connections(endpointId);
  return {
    total: all.length,
    active: all.filter((c) => c.status === 'active').length,
    terminated: all.filter((c) => c.status === 'terminated').length,
  };
}

async function send(text: string): Promise<void> {
  const composer = page.getByRole('textbox', { name: 'Message' });
  await composer.fill(text);
  await composer.press('Enter');
}

/** The text a person sees, as laid out (hidden elements excluded), unlike textContent. */
// biome-ignore lint/performance/useDomNodeTextContent: what is visible is the point here.
const seen = (locator: Locator) => locator.innerText();

const messages = () => page.getByRole('region', { name: 'Messages' });
const lastMessage = () => messages().locator(':scope > .message').last();

describe.skipIf(skipBrowser)('the demo in a browser', () => {
  beforeAll(async () => {
    // Settings of a real account and workspace in the caller's environment must not reach the bot.
    Object.assign(process.env, CALLER_SETTINGS);
    // No timed churn: the test ends sessions itself (fleet.tick) so the counts are exact.
    demo = await startDemo({
      port: 0,
      connections: 300,
      churnMs: 0,
      digestCron: '*/10 * * * * *',
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(15_000);
  }, 60_000);

  afterAll(async () => {
    for (const name of Object.keys(CALLER_SETTINGS)) delete process.env[name];
    await browser?.close();
    await demo?.close();
  });

  it('lists, pages, finds a user, terminates as admin, posts a digest and exports a CSV', {
    timeout: 120_000,
  }, async () => {
    const [corp, , partners] = demo.fleet.endpoints;
    for (let i = 0; i < 6; i++) demo.fleet.tick();
    await page.goto(demo.url ?? '');
    await expect.poll(() => page.getByLabel('Person').inputValue()).toBe('U0BOB');

    // /vpn-conns: the default endpoint with exact counts.
    const expected = countsOf(corp?.id ?? '');
    await send('/vpn-conns');
    const list = lastMessage();
    await expect.poll(() => seen(list)).toContain('page 1 of');
    const listText = await seen(list);
    expect(listText).toContain('corp');
    expect(listText).toContain(`${expected.total} connections`);
    expect(listText).toContain(`${expected.active} active`);
    expect(listText).toContain(`${expected.terminated} terminated`);

    // Next: page 2 replaces page 1 (same message, no new one).
    const before = await messages().locator(':scope > .message').count();
    await list.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => seen(lastMessage())).toContain('page 2 of');
    expect(await messages().locator(':scope > .message').count()).toBe(before);
    expect(await seen(messages())).not.toContain('page 1 of');

    // user bob: sessions on several endpoints (AD by user name, certificate by common name).
    await send('/vpn-conns user bob');
    await expect.poll(() => seen(lastMessage())).toContain('bob on every endpoint');
    const bobText = await seen(lastMessage());
    expect(bobText).toContain(corp?.name ?? '');
    expect(bobText).toContain(partners?.name ?? '');
    expect(bobText).not.toContain('Terminate');

    // The admin sees Terminate buttons; confirm, and the status changes.
    await page.getByLabel('Person').selectOption({ label: 'Ada (admin)' });
    await send('/vpn-conns user bob');
    await expect.poll(() => seen(lastMessage())).toContain('3 active');
    await page.screenshot({ path: SCREENSHOT });
    const adminList = messages()
      .locator(':scope > .message')
      .nth((await messages().locator(':scope > .message').count()) - 1);
    await adminList.getByRole('button', { name: 'Terminate', exact: true }).first().click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => seen(dialog)).toContain('Terminate this session?');
    await dialog.getByRole('button', { name: 'Terminate', exact: true }).click();
    // A private result, and the list itself refreshed in place.
    await expect.poll(() => seen(lastMessage())).toContain('active → terminating');
    await expect
      .poll(() => seen(adminList))
      .toMatch(/3 connections · 2 active · .*1 (terminating|terminated)/);
    const bobs = demo.emulator
      .connections()
      .filter((c) => c.username === 'bob' || c.commonName?.startsWith('bob.'));
    expect(bobs.filter((c) => c.status !== 'active')).toHaveLength(1);

    // #vpn-digest: a digest of the sessions that ended arrives.
    await page.getByRole('link', { name: '#vpn-digest' }).click();
    await expect.poll(() => seen(page.getByRole('heading', { level: 1 }))).toBe('#vpn-digest');
    for (let i = 0; i < 3; i++) demo.fleet.tick();
    await expect
      .poll(() => seen(messages()), { timeout: 60_000 })
      .toMatch(/VPN sessions ended [^\n]+\n[\s\S]*\b\d+ sessions? · \d+ users?/);

    // Export CSV: the file arrives in the DM with the bot and downloads.
    await page.getByRole('link', { name: '#general' }).click();
    await adminList.getByRole('button', { name: 'Export CSV' }).click();
    await page.getByRole('link', { name: DEMO_BOT.name, exact: true }).click();
    const file = messages().getByRole('link', { name: /\.csv/ }).last();
    const [download] = await Promise.all([page.waitForEvent('download'), file.click()]);
    const csv = await readFile((await download.path()) ?? '', 'utf8');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toMatch(/connection/i);
    expect(lines).toHaveLength(4);
    for (const c of bobs) expect(csv).toContain(c.connectionId);
  });

  it("uses only the demo's AWS and Slack, whatever the caller's environment holds", () => {
    expect(demo.emulator.requests.length).toBeGreaterThan(0);
    expect(new Set(demo.emulator.requests.map((r) => r.accessKeyId))).toEqual(
      new Set(['AKIAVPNCONNSDEMO0000']),
    );
    const calls = demo.workbench?.standIn.calls ?? [];
    expect(calls.map((c) => c.method)).toContain('auth.test');
    expect(new Set(calls.map((c) => c.token))).toEqual(new Set(['xoxb-vpn-conns-demo']));
  });

  it('finds `user me` from the Slack profile email of the person typing', async () => {
    await page.goto(demo.url ?? '');
    await page.getByLabel('Person').selectOption({ label: 'Bob (allowed user)' });
    await page.getByRole('link', { name: '#general' }).click();
    await send('/vpn-conns user me');
    await expect.poll(() => seen(lastMessage())).toContain('bob on every endpoint');
  });

  it('refuses a stranger, privately', async () => {
    await page.goto(demo.url ?? '');
    await page.getByLabel('Person').selectOption({ label: 'Sam (stranger)' });
    await page.getByRole('link', { name: '#general' }).click();
    await send('/vpn-conns');
    await expect.poll(() => seen(lastMessage())).toContain('not allowed');
    expect(await seen(lastMessage())).toContain('Only visible to you');
    // Nobody else sees the refusal.
    await page.getByLabel('Person').selectOption({ label: 'Bob (allowed user)' });
    expect(await seen(messages())).not.toContain('not allowed');
  });

  it('opens the App Home: live counts and the chart for Bob, Refresh publishes again, Sam is refused', async () => {
    await page.goto(demo.url ?? '');
    await page.getByLabel('Person').selectOption({ label: 'Bob (allowed user)' });
    await page.getByRole('link', { name: 'vpn-conns · Home' }).click();
    await expect.poll(() => seen(page.getByRole('heading', { level: 1 }))).toBe('vpn-conns · Home');
    await expect.poll(() => seen(messages()), { timeout: 30_000 }).toContain('Endpoints');
    const home = await seen(messages());
    expect(home).toMatch(/corp[^\n]*active now: \d+/);
    expect(home).toContain('Longest-running sessions');
    // The chart is a file the bot uploaded, shown from the workbench (not a placeholder).
    const chart = messages().locator('img.slack-image-picture');
    await expect
      .poll(() =>
        chart.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
    expect(await page.getByRole('textbox', { name: 'Message' }).isVisible()).toBe(false);
    const published = () =>
      demo.workbench?.standIn.calls.filter((c) => c.method === 'views.publish').length ?? 0;
    const before = published();
    await messages().getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(published).toBe(before + 1);
    await page.getByLabel('Person').selectOption({ label: 'Sam (stranger)' });
    await expect.poll(() => seen(messages())).toContain('You are not allowed to use vpn-conns');
    await page.getByLabel('Person').selectOption({ label: 'Bob (allowed user)' });
    await page.getByRole('link', { name: '#general' }).click();
    expect(await page.getByRole('textbox', { name: 'Message' }).isVisible()).toBe(true);
  });

  it('shows a message that breaks a Block Kit limit with a badge naming it', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => ({
      type: 'section',
      text: { type: 'mrkdwn', text: `line ${i}` },
    }));
    const [problem] = validateBlocks(blocks);
    const response = await fetch(`${demo.workbench?.standIn.url}chat.postMessage`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        authorization: 'Bearer xoxb-vpn-conns-demo',
      },
      body: JSON.stringify({ channel: DEMO_CHANNELS[0].id, text: 'too long', blocks }),
    });
    // Slack refuses it, as the bot would be told; the page still shows what was tried.
    expect(await response.json()).toMatchObject({ ok: false, error: 'invalid_blocks' });
    await page.goto(demo.url ?? '');
    await page.getByRole('link', { name: '#general' }).click();
    await expect.poll(() => seen(lastMessage())).toContain('line 50');
    expect(problem).toBeDefined();
    expect(await seen(lastMessage())).toContain(problem ?? '');
  });
});
