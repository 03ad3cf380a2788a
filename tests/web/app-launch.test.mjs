// Browser tests of launching the tablet app (docs/tablet-app.md, "field-client app"): the web
// app manifest is served, parses (Chromium's own reading of it has no errors) and names icons
// that load at their sizes; and `field-client app` opens the app on a one-time link in a
// browser whose cookie survives the browser's restart, but not the app's.
//
// Run: node --test --test-timeout=120000 tests/web/app-launch.test.mjs
// (ctest sets FIELD_CLIENT and ARTIFACTS_DIR; see tests/CMakeLists.txt.)

import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  ARTIFACTS_DIR, CHROMIUM, CHROMIUM_ARGS, FIELD_CLIENT, WAIT_MS, checkPrerequisites, makeTempDir,
  ensureDir, startTabletUi, startProcess, launchBrowser, loadChromium, newPageAt, withDeadline, waitUntil,
  tearDown,
} from './support.mjs';

const SIZE = { width: 800, height: 1280 };
const T = { timeout: WAIT_MS };

let dir;
let browser;
const processes = [];
const startedAt = Date.now();

before(async () => {
  checkPrerequisites();
  ensureDir(ARTIFACTS_DIR);
  dir = makeTempDir();
  browser = await launchBrowser();
});

after(() => tearDown({ browser, processes, dir, name: 'web app launch tests', startedAt }));

test('1. the web app manifest is served, parses, and names icons that load', async () => {
  const ui = await startTabletUi(join(dir, 'manifest.db'), join(ARTIFACTS_DIR, 'app-launch-manifest.log'));
  processes.push(ui);
  const { context, page, problems } = await newPageAt(browser, SIZE);
  try {
    await page.goto(ui.url, T);
    await page.waitForURL(`${ui.base}/app/**`, T);
    await page.getByTestId('enrol-page').waitFor({ state: 'visible', ...T }); // a fresh store: the app opens on its enrolment page

    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    assert.equal(href, 'manifest.webmanifest');
    // As the browser fetches a manifest: without cookies.
    const fetched = await page.evaluate(async () => {
      const answer = await fetch('/app/manifest.webmanifest', { credentials: 'omit' });
      return { status: answer.status, type: answer.headers.get('content-type'), text: await answer.text() };
    });
    assert.equal(fetched.status, 200);
    assert.equal(fetched.type, 'application/manifest+json');
    const manifest = JSON.parse(fetched.text);
    assert.equal(manifest.name, 'Safer Streets');
    assert.ok(manifest.short_name && manifest.short_name.length <= 15, 'a short_name that fits under an icon');
    assert.equal(manifest.start_url, '/app/');
    assert.equal(manifest.scope, '/app/');
    assert.equal(manifest.display, 'standalone');
    const css = readFileSync(new URL('../../field-client/web/app.css', import.meta.url), 'utf8');
    assert.ok(css.includes(manifest.background_color), 'the background colour is one of app.css');
    const themeMeta = await page.locator('meta[name="theme-color"]').getAttribute('content');
    assert.equal(manifest.theme_color, themeMeta, 'the same theme colour as the page');

    // Chromium's own reading of the manifest.
    const cdp = await context.newCDPSession(page);
    const read = await cdp.send('Page.getAppManifest');
    assert.ok(read.url.endsWith('/app/manifest.webmanifest'), `Chromium found the manifest (${read.url})`);
    assert.deepEqual(read.errors, [], 'Chromium reads the manifest without errors');

    const sizes = manifest.icons.map((icon) => icon.sizes);
    assert.ok(sizes.includes('192x192') && sizes.includes('512x512'), 'PNG icons of 192 and 512 px');
    for (const icon of manifest.icons) {
      const loaded = await page.evaluate(async (src) => {
        const image = new Image();
        image.src = src;
        try { await image.decode(); } catch (error) { return { error: String(error) }; }
        return { width: image.naturalWidth, height: image.naturalHeight };
      }, icon.src);
      assert.ok(!loaded.error, `${icon.src} loads: ${loaded.error}`);
      if (icon.sizes !== 'any') assert.equal(`${loaded.width}x${loaded.height}`, icon.sizes, `${icon.src} is ${icon.sizes}`);
    }
    const favicon = await page.locator('link[rel="icon"]').getAttribute('href');
    assert.ok(manifest.icons.some((icon) => icon.src === `/app/${favicon}`), 'the page icon is one of the manifest');
    assert.deepEqual(problems, [], 'no uncaught errors and no CSP violations in the page');
  } finally {
    await withDeadline(context.close(), 10_000);
  }
});

test('2. field-client app opens the app in the browser once, and its cookie outlives a browser restart', async () => {
  const store = join(dir, 'launch.db');
  const record = join(dir, 'browser.log');
  const script = join(dir, 'browser.sh');
  writeFileSync(script, `#!/bin/sh\necho "$1" >> '${record}'\n`);
  chmodSync(script, 0o755);
  const startApp = () => startProcess(FIELD_CLIENT, ['--store', store, 'app', '--port', '0', '--browser', script], {
    logFile: join(ARTIFACTS_DIR, 'app-launch-app.log'),
    firstLine: /^field-client app: serving (http:\/\/127\.0\.0\.1:(\d+)) \(opened in the browser\)$/,
    name: 'field-client app',
  });
  const lastUrl = async (count) => {
    await waitUntil(() => existsSync(record) && readFileSync(record, 'utf8').trim().split('\n').length >= count,
      { what: 'the browser script to be started' });
    return readFileSync(record, 'utf8').trim().split('\n')[count - 1];
  };

  let app = await startApp();
  processes.push(app);
  const base = app.match[1];
  const url = await lastUrl(1);
  assert.match(url, new RegExp(`^${base}/\\?launch=[0-9a-f]{48}$`));

  // A real browser profile on disk, closed and opened again as a tablet's browser would be.
  const chromium = await loadChromium();
  const profile = join(dir, 'profile');
  const openProfile = () => chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: SIZE, timeout: 30_000,
  });
  let context = await openProfile();
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(url, T);
    await page.waitForURL(`${base}/app/**`, T);
    await page.getByTestId('enrol-page').waitFor({ state: 'visible', ...T }); // a fresh store: the app opens on its enrolment page
    const cookie = (await context.cookies(base)).find((c) => c.name === `ss_app_${app.match[2]}`);
    assert.ok(cookie, 'the cookie is set');
    assert.ok(cookie.expires > Date.now() / 1000 + 29 * 24 * 3600, 'it lasts about 30 days, not the session');
    // The link worked once: a second visit is refused with what to do.
    const again = await page.goto(url, T);
    assert.equal(again.status(), 403);
    assert.match(await page.textContent('body'), /used already.*field-client app/s);
  } finally {
    await withDeadline(context.close(), 10_000);
  }

  // The browser restarts: the app opens from its address alone.
  context = await openProfile();
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const answer = await page.goto(`${base}/app/`, T);
    assert.equal(answer.status(), 200);
    await page.getByTestId('enrol-page').waitFor({ state: 'visible', ...T }); // a fresh store: the app opens on its enrolment page

    // The app restarts (a new key): the old cookie no longer opens it, and the page says what to do.
    await app.stop();
    app = await startApp();
    processes.push(app);
    const newBase = app.match[1];
    const refused = await page.goto(`${newBase}/app/`, T);
    assert.equal(refused.status(), 403);
    assert.match(await page.textContent('body'), /field-client app/);
    // ...and the new launch link opens it.
    const newUrl = await lastUrl(2);
    await page.goto(newUrl, T);
    await page.waitForURL(`${newBase}/app/**`, T);
    await page.getByTestId('enrol-page').waitFor({ state: 'visible', ...T }); // a fresh store: the app opens on its enrolment page
  } finally {
    await withDeadline(context.close(), 10_000);
  }
});
