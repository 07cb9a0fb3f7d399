/**
 * Renders every kind of bot message (built by the real builders) into one
 * static HTML page with the workbench's blocks.css and blocks.js, and, when
 * Chromium is installed, a full-page PNG of it: a way to look at a message
 * change without starting the demo.
 *
 *   node --import tsx scripts/render-gallery.ts [OUT_DIR]   (default: tmp/gallery)
 *
 * Writes OUT_DIR/gallery.html and OUT_DIR/gallery.png (set CHROMIUM to another browser binary).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderMessage } from '../src/sandbox/workbench/render/index.js';
import { botMessages } from '../test/sandbox/render/bot-messages.js';

const outDir = resolve(process.argv[2] ?? 'tmp/gallery');
const staticDir = resolve('src/sandbox/workbench/static');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

const ctx = {
  userName: (id: string) => ({ U0ADMIN01: 'ada.admin' })[id],
  channelName: (id: string) => ({ C0GENERAL: 'general' })[id],
};

const articles = botMessages().map((bot, i) => {
  const html = renderMessage(
    {
      ts: `${1795780800 + i * 60}.000100`,
      channel: 'C0GENERAL',
      text: bot.message.text,
      blocks: bot.message.blocks,
      ephemeral: bot.ephemeral,
      ...(i === 11 ? { replyCount: 1, threadTs: `${1795780800 + i * 60}.000100` } : {}),
      ...(i === 11
        ? { files: [{ id: 'F1', name: 'vpn-digest.csv', url: '/files/F1', title: 'Digest CSV' }] }
        : {}),
      ...(i === 2 ? { limitProblems: ['blocks[3].text.text: 3001 characters (max 3000)'] } : {}),
    },
    ctx,
  );
  return `<h2 class="gallery-name">${bot.name}</h2>${html}`;
});

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vpn-conns messages</title>
<style>${await readFile(join(staticDir, 'blocks.css'), 'utf8')}
body { margin: 0; background: #fff; max-width: 900px; }
.gallery-name { font: 600 11px monospace; color: #999; margin: 16px 20px 0; text-transform: uppercase; }
</style></head><body>
${articles.join('\n')}
<script>${await readFile(join(staticDir, 'blocks.js'), 'utf8')}</script>
</body></html>`;

await mkdir(outDir, { recursive: true });
const htmlPath = join(outDir, 'gallery.html');
await writeFile(htmlPath, page);
console.log(htmlPath);

if (existsSync(chromium)) {
  const { chromium: launcher } = await import('playwright-core');
  const browser = await launcher.launch({
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
