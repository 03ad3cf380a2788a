// Renders the tablet app's icon (field-client/web/icon.svg) to the PNG icons its web app
// manifest names (icon-192.png, icon-512.png), in Debian's headless Chromium through the
// playwright-core the browser tests use. Run after changing icon.svg, and commit the PNGs:
//
//   (cd tests/web && npm ci)   # once
//   node scripts/render-icons.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(repo, 'field-client', 'web');
const require = createRequire(join(repo, 'tests', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const svg = readFileSync(join(web, 'icon.svg'), 'utf8');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
try {
  for (const size of [192, 512]) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    const sized = svg.replace('width="512" height="512"', `width="${size}" height="${size}"`);
    await page.setContent(`<!DOCTYPE html><html><body style="margin:0;background:transparent">${sized}</body></html>`);
    const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    writeFileSync(join(web, `icon-${size}.png`), png);
    console.log(`field-client/web/icon-${size}.png: ${png.length} bytes`);
    await page.close();
  }
} finally {
  await browser.close();
}
