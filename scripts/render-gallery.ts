/**
 * Renders every kind of bot message (built by the real builders) into one
 * static HTML page with the workbench's blocks.css and blocks.js, and, when
 * Chromium is installed, a full-page PNG of it: a way to look at a message
 * change without starting the demo.
 *
 *   node --import tsx scripts/render-gallery.ts [OUT_DIR]   (default: $TMPDIR/vpn-conns-gallery)
 *   node --import tsx scripts/render-gallery.ts --measure   (1,000 messages: render and enhance times)
 *
 * Writes OUT_DIR/gallery.html and OUT_DIR/gallery.png (set CHROMIUM to another browser binary).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Browser, chromium as launcher } from 'playwright-core';
import { renderMessage } from '../src/sandbox/workbench/render/index.js';
import { botMessages } from '../test/sandbox/render/bot-messages.js';

const measure = process.argv.includes('--measure');
const outDir = resolve(
  process.argv.slice(2).find((a) => !a.startsWith('--')) ?? join(tmpdir(), 'vpn-conns-gallery'),
);
const staticDir = resolve('src/sandbox/workbench/static');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const css = await readFile(join(staticDir, 'blocks.css'), 'utf8');
const js = await readFile(join(staticDir, 'blocks.js'), 'utf8');

const ctx = {
  userName: (id: string) => ({ U0ADMIN01: 'ada.admin' })[id],
  channelName: (id: string) => ({ C0GENERAL: 'general' })[id],
};
const bots = botMessages();

/** The i-th message of the gallery; the digest gets a thread and a file, one lookup a limit badge. */
function article(i: number): string {
  const bot = bots[i % bots.length] ?? bots[0];
  if (!bot) throw new Error('no bot messages');
  const ts = `${1795780800 + i * 60}.000100`;
  const digest = bot.name === 'digest';
  return renderMessage(
    {
      ts,
      channel: 'C0GENERAL',
      text: bot.message.text,
      blocks: bot.message.blocks,
      ephemeral: bot.ephemeral,
      ...(digest ? { replyCount: 1, threadTs: ts } : {}),
      ...(digest
        ? { files: [{ id: 'F1', name: 'vpn-digest.csv', url: '/files/F1', title: 'Digest CSV' }] }
        : {}),
      ...(bot.name === 'user lookup'
        ? { limitProblems: ['blocks[3].text.text: 3001 characters (max 3000)'] }
        : {}),
    },
    ctx,
  );
}

async function launch(): Promise<Browser> {
  return launcher.launch({
    executablePath: chromium,
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
}

if (measure) {
  const started = performance.now();
  const html = Array.from({ length: 1000 }, (_, i) => article(i)).join('');
  const renderMs = performance.now() - started;
  console.log(
    `render: 1,000 messages in ${renderMs.toFixed(0)} ms, ${(html.length / 1048576).toFixed(1)} MiB of HTML`,
  );
  if (!existsSync(chromium)) process.exit(0);
  const browser = await launch();
  try {
    const tab = await browser.newPage();
    await tab.setContent(`<style>${css}</style><main></main><script>${js}</script>`);
    const figures = await tab.evaluate(`(() => {
      const main = document.querySelector('main');
      const t0 = performance.now();
      main.insertAdjacentHTML('beforeend', ${JSON.stringify(html)});
      const t1 = performance.now();
      VpnWorkbench.enhance(main);
      const t2 = performance.now();
      VpnWorkbench.enhance(main);
      const t3 = performance.now();
      return 'insert ' + (t1 - t0).toFixed(0) + ' ms, enhance ' + (t2 - t1).toFixed(0) + ' ms (' +
        document.querySelectorAll('time').length + ' dates, ' + document.querySelectorAll('[data-action-id]').length +
        ' controls), enhance again ' + (t3 - t2).toFixed(0) + ' ms, JS heap ' +
        (performance.memory.usedJSHeapSize / 1048576).toFixed(1) + ' MiB';
    })()`);
    console.log(`browser: ${figures}`);
  } finally {
    await browser.close();
  }
} else {
  const articles = bots.map((bot, i) => `<h2 class="gallery-name">${bot.name}</h2>${article(i)}`);
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vpn-conns messages</title>
<style>${css}
body { margin: 0; background: #fff; max-width: 900px; }
.gallery-name { font: 600 11px monospace; color: #999; margin: 16px 20px 0; text-transform: uppercase; }
</style></head><body>
${articles.join('\n')}
<script>${js}</script>
</body></html>`;
  await mkdir(outDir, { recursive: true });
  const htmlPath = join(outDir, 'gallery.html');
  await writeFile(htmlPath, page);
  console.log(htmlPath);
  if (existsSync(chromium)) {
    const browser = await launch();
    try {
      const tab = await browser.newPage({ viewport: { width: 900, height: 800 } });
      await tab.goto(`file://${htmlPath}`);
      const pngPath = join(outDir, 'gallery.png');
      await tab.screenshot({ path: pngPath, fullPage: true });
      console.log(pngPath);
    } finally {
      await browser.close();
    }
  }
}
