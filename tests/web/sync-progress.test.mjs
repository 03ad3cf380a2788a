// Browser test of the tablet app's sync progress (issue 16 §3): a first pull of a large scope
// shows "Receiving households and visits: N of about TOTAL (page P)" with a progress bar whose
// numbers go up, then the sync completes and the block goes. Nobody stares at a spinner.
//
// The pull is slowed by a TCP relay between the tablet and the server that holds each chunk the
// tablet sends for RELAY_DELAY_MS, so every page takes at least that long however fast this
// machine is, and the app's once-a-second status poll sees several pages go by.
//
// Run: node --test --test-timeout=120000 tests/web/sync-progress.test.mjs
// (ctest sets SYNC_SERVER, FIELD_CLIENT and ARTIFACTS_DIR; see tests/CMakeLists.txt.)

import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect } from 'node:net';
import { join } from 'node:path';

import {
  SYNC_SERVER, FIELD_CLIENT, ARTIFACTS_DIR, WAIT_MS, checkPrerequisites, makeTempDir, removeDir, ensureDir, run,
  csvText, launchBrowser, newPageAt, withDeadline, startServerOn, startTabletUi, reservePort, waitUntil,
} from './support.mjs';

const HOUSEHOLDS = 6000; // 12 pages of the client's 500
const RELAY_DELAY_MS = 300;
const SIZE = { width: 800, height: 1280 };
const T = { timeout: WAIT_MS };

let dir;
let browser;
const processes = [];
const relays = [];
const startedAt = Date.now();

before(async () => {
  checkPrerequisites();
  ensureDir(ARTIFACTS_DIR);
  dir = makeTempDir('safer-streets-progress-');
  browser = await launchBrowser();
});

after(async () => {
  try {
    if (browser) await withDeadline(browser.close(), 10_000);
  } finally {
    try {
      for (const relay of relays) relay.close();
      for (const started of processes) await started.stop();
    } finally {
      removeDir(dir);
      console.log(`web sync progress tests took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    }
  }
});

/**
 * Listens on 127.0.0.1:port and relays each connection to targetPort, holding every chunk from
 * the client delayMs (in order) before passing it on. Returns {close()}.
 */
async function slowRelay(port, targetPort, delayMs) {
  const sockets = new Set();
  const server = createNetServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let chain = Promise.resolve();
    client.on('data', (chunk) => {
      chain = chain.then(() => new Promise((resolveLater) => { setTimeout(resolveLater, delayMs); }))
        .then(() => { if (!upstream.destroyed) upstream.write(chunk); });
    });
    upstream.pipe(client);
    for (const [one, other] of [[client, upstream], [upstream, client]]) {
      one.on('error', () => other.destroy());
      one.on('close', () => { sockets.delete(one); other.destroy(); });
    }
  });
  await new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, resolveListen);
  });
  return {
    close() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

// Why: a first sync of thousands of records showed only a spinner for as long as it took.
test('1. a first pull shows records, an estimate of the total and the page, going up, then completes', async () => {
  const db = join(dir, 'sync-server.db');
  const csvFile = join(dir, 'households.csv');
  const rows = [];
  for (let n = 0; n < HOUSEHOLDS; n += 1) {
    rows.push(['', `${n} Progress Street`, n % 2 === 0 ? 'WD6 1AB' : 'EN6 2DD', 'Elstree', '1', 'officer.amy']);
  }
  writeFileSync(csvFile, csvText([['id', 'address', 'postcode', 'ward', 'target', 'assigned_to'], ...rows]));
  run(SYNC_SERVER, ['import-households', '--db', db, csvFile]);
  const token = run(SYNC_SERVER, ['enroll', '--db', db, '--device', 'tablet-amy', '--user', 'officer.amy', '--role', 'officer'])
    .stdout.split('\n')[0].trim();
  const server = await startServerOn(db, join(ARTIFACTS_DIR, 'sync-progress-server.log'), '127.0.0.1:0');
  processes.push(server);

  // The tablet is enrolled through the relay, which is not listening yet: its syncs fail until
  // the page is open.
  const relayPort = await reservePort();
  const store = join(dir, 'amy.db');
  run(FIELD_CLIENT, ['--store', store, 'enroll', '--server', `ws://127.0.0.1:${relayPort}`, '--token', token, '--device', 'tablet-amy']);
  const ui = await startTabletUi(store, join(ARTIFACTS_DIR, 'sync-progress-ui.log'),
    ['--sync-interval', '60', '--retry-base', '0.2', '--max-backoff', '0.5']);
  processes.push(ui);

  const { context, page, problems } = await newPageAt(browser, SIZE);
  try {
    await page.goto(ui.url, T);
    await page.waitForURL(`${ui.base}/app/**`, T);
    await page.evaluate(() => { window.location.hash = '#/sync'; });
    await page.getByTestId('sync-details').waitFor({ state: 'visible', ...T });

    // Without an estimate (a server that sends none) the line has no total, the bar no end.
    const shown = await page.evaluate(async () => {
      const { describeProgress } = await import('./sync-progress.js');
      return [
        describeProgress({ phase: 'pulling', pages: 7, received: 3500, remaining: null, elapsed_ms: 4000 }),
        describeProgress({ phase: 'pulling', pages: 7, received: 3500, remaining: 56500, elapsed_ms: 4000 }),
        describeProgress({ phase: 'pulling', pages: 0, received: 0, remaining: null }),
        describeProgress({ phase: 'pulling', pages: 1, received: 40, remaining: 0 }),
      ];
    });
    assert.equal(shown[0].text, 'Receiving households and visits: 3,500 so far (page 7)');
    assert.equal(shown[0].max, null);
    assert.equal(shown[1].text, 'Receiving households and visits: 3,500 of about 60,000 (page 7)');
    assert.equal(shown[1].max, 60000);
    assert.match(shown[1].left, /^about 1 minute left$/);
    assert.equal(shown[2], null, 'no bar before the first page');
    assert.equal(shown[3], null, 'no bar for a pull that was all in its first page');

    relays.push(await slowRelay(relayPort, server.port, RELAY_DELAY_MS));

    // Sample the banner's progress while the pull runs.
    const block = page.getByTestId('banner-progress');
    const samples = [];
    const deadline = Date.now() + 60_000;
    let finished = false;
    while (Date.now() < deadline) {
      const sample = await page.evaluate(() => {
        const element = document.querySelector('[data-testid="banner-progress"]');
        const bar = document.querySelector('[data-testid="banner-progress-bar"]');
        if (!element || element.hidden) return null;
        return {
          phase: element.dataset.phase,
          received: Number(element.dataset.received),
          text: element.querySelector('[data-testid="banner-progress-text"]').textContent,
          left: element.querySelector('[data-testid="banner-progress-left"]').textContent,
          now: bar.getAttribute('aria-valuenow'),
          max: bar.getAttribute('aria-valuemax'),
          role: bar.getAttribute('role') || bar.tagName.toLowerCase(),
        };
      });
      if (sample && sample.phase === 'pulling') {
        samples.push(sample);
        if (samples.length === 3) await page.screenshot({ path: join(ARTIFACTS_DIR, 'tablet-sync-progress.png') });
      }
      const last = await page.getByTestId('banner-last-sync').getAttribute('data-value');
      if (last && samples.length > 0 && sample === null) {
        finished = true;
        break;
      }
      await new Promise((resolveSleep) => { setTimeout(resolveSleep, 100); });
    }
    assert.ok(finished, `the sync completed (samples: ${JSON.stringify(samples.slice(-3))})`);
    const distinct = [...new Set(samples.map((sample) => sample.received))];
    assert.ok(distinct.length >= 2, `several pages were shown going by: ${JSON.stringify(distinct)}`);
    for (let i = 1; i < distinct.length; i += 1) assert.ok(distinct[i] > distinct[i - 1], `received goes up: ${distinct}`);
    for (const sample of samples) {
      assert.match(sample.text, /^Receiving households and visits: [\d,]+ of about 6,000 \(page \d+\)$/);
      assert.equal(sample.text.includes(sample.received.toLocaleString('en-GB')), true, sample.text);
      assert.equal(sample.max, String(HOUSEHOLDS));
      assert.equal(sample.now, String(sample.received));
      assert.equal(sample.role, 'progress');
    }
    // The pages in the text go up too.
    const pages = samples.map((sample) => Number(/\(page (\d+)\)/.exec(sample.text)[1]));
    for (let i = 1; i < pages.length; i += 1) assert.ok(pages[i] >= pages[i - 1], `pages go up: ${pages}`);
    assert.ok(samples.some((sample) => /left$/.test(sample.left)), 'an estimate of the time left showed once a few pages were in');

    // Complete: the block is gone, every household is on the tablet, and the Sync page says so.
    assert.equal(await block.isHidden(), true);
    assert.equal(await page.getByTestId('sync-page-progress').isHidden(), true);
    const status = await waitUntil(async () => {
      const answer = await page.evaluate(async () => (await fetch('/api/status')).json());
      return answer.last_sync_at && answer.progress === null ? answer : null;
    }, { what: 'a finished sync in the status' });
    assert.equal(status.syncing, false);
  } finally {
    await context.close();
    assert.deepEqual(problems, [], 'no uncaught errors and no CSP violations in the page');
  }
});
