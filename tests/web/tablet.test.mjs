// Browser tests of the tablet app (`field-client ui`, /app/) in Debian's headless Chromium,
// driven by playwright-core, at both tablet sizes: 800×1280 (portrait) and 1280×800
// (landscape), against the real sync-server and field-client binaries on 127.0.0.1.
//
// One sync server (on a port reserved in `before`, started by test 1) and one browser serve
// the whole file; each tablet is its own store and its own `field-client ui` process. The
// tests run in order: tests 2 and 4 use the two officers' tablets that test 1 starts and fills.
// Every child process is stopped by its pid in `after` (and killed by pid if Node exits first).
//
// Run: node --test --test-timeout=240000 tests/web/tablet.test.mjs
// (ctest sets SYNC_SERVER, FIELD_CLIENT and ARTIFACTS_DIR; see tests/CMakeLists.txt.)
// Screenshots: ARTIFACTS_DIR/tablet-<today|visit|commute|sync>-<portrait|landscape>.png (what the
// tablet's screen shows) and …-full.png (the whole page).

import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';

import {
  LABELS, SYNC_SERVER, FIELD_CLIENT, ARTIFACTS_DIR, WAIT_MS,
  checkPrerequisites, makeTempDir, removeDir, ensureDir, run, runOk, api, apiGet, launchBrowser, csvText,
  withDeadline, startServerOn, startTabletUi, reservePort, rawHttp, waitUntil, newPageAt, openSyncSocket,
} from './support.mjs';

const { OUTCOME_LABELS, YES_NO_OUTCOMES } = LABELS;

// ---------------------------------------------------------------------------------------------
// Sizes, flags and fictional data

const SIZES = [
  { name: 'portrait', width: 800, height: 1280 },
  { name: 'landscape', width: 1280, height: 800 },
];
/** Sync fast, and retry fast while the server is away (test 1 waits for the reconnection). */
const UI_FLAGS = ['--sync-interval', '0.5', '--retry-base', '0.2', '--max-backoff', '1'];
const T = { timeout: WAIT_MS };
const MIN_TARGET = 44; // CSS px: the smallest touch target allowed (WCAG 2.5.5)
const PIN = '246813';

const hid = (n) => `7ab1e700-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** officer.cal's register; the third is deleted by the coordinator before cal's visit syncs. */
const CAL_HOUSEHOLDS = [
  { id: hid(1), address: '2 Holly Walk', postcode: 'WD6 3HW', ward: 'Elstree', target: true, assigned_to: 'officer.cal' },
  { id: hid(2), address: 'Flat 4, 6 Ivy Lane', postcode: 'WD6 4LN', ward: 'Borehamwood Hillside', target: true, assigned_to: 'officer.cal' },
  { id: hid(3), address: '10 Juniper Row', postcode: 'EN6 5JR', ward: 'Potters Bar Oakmere', target: false, assigned_to: 'officer.cal' },
];
const DELETED_HOUSEHOLD = hid(3);

// ---------------------------------------------------------------------------------------------
// Shared state

let dir;
let db;
let serverPort; // reserved in before(); nothing listens on it until test 1 starts the server
let server = null;
let browser;
let coordinatorToken;
const startedAt = Date.now();
/** Every child process started (sync server, field-client ui), stopped by pid in after(). */
const processes = [];
/** Tablets: store, device, user, and once started, ui = {port, key, base, url, pid, stop}. */
const tablets = {
  ann: { device: 'tablet-ann', user: 'officer.ann', role: 'officer' },
  ash: { device: 'tablet-ash', user: 'officer.ash', role: 'officer' },
  pat: { device: 'tablet-pat', user: 'pcso.pat', role: 'pcso' },
  cal: { device: 'tablet-cal', user: 'officer.cal', role: 'officer' },
  pip: { device: 'tablet-pip', user: 'officer.pip', role: 'officer' },
  rex: { device: 'tablet-rex', user: 'officer.rex', role: 'officer' },
  kit: { device: 'tablet-kit', user: 'officer.kit', role: 'officer' },
};
/** What test 1 adds on ann's (portrait) and ash's (landscape) tablets, in the app. */
const FIELD_HOUSEHOLDS = {
  ann: { address: '14 Rowan Crescent', postcode: 'WD6 5RD', ward: 'Elstree' },
  ash: { address: '8 Sycamore Walk', postcode: 'EN6 4SW', ward: 'Potters Bar Oakmere' },
};

function fieldClient(store, ...args) {
  return runOk(FIELD_CLIENT, ['--store', store, ...args]);
}

async function ensureServer() {
  if (!server) {
    server = await startServerOn(db, join(ARTIFACTS_DIR, 'tablet-sync-server.log'), `127.0.0.1:${serverPort}`);
    processes.push(server);
  }
  return server;
}

async function startUi(name, extra = []) {
  const tablet = tablets[name];
  tablet.ui = await startTabletUi(tablet.store, join(ARTIFACTS_DIR, `tablet-ui-${name}.log`), [...UI_FLAGS, ...extra]);
  processes.push(tablet.ui);
  return tablet.ui;
}

/** The tablet app's local API from Node, with the launch key header. */
/** background: as the app's own refreshes ask (X-Background: 1), which are not use of the app. */
async function local(ui, path, { method = 'GET', json, background = false } = {}) {
  const headers = { 'X-Field-Client-Key': ui.key, ...(background ? { 'X-Background': '1' } : {}) };
  return api(ui.base, null, path, { method, json, headers });
}
async function localGet(ui, path) {
  const answer = await local(ui, path);
  if (answer.status !== 200) throw new Error(`GET ${path} on the tablet: ${answer.status} ${answer.raw}`);
  return answer.data;
}

const stats = () => apiGet(server.base, coordinatorToken, '/api/v1/stats');

/** A fresh context at `size`, opened from the launch address (which sets the ss_app_<port> cookie). */
async function openApp(ui, size, hash = '') {
  const opened = await newPageAt(browser, { width: size.width, height: size.height });
  await opened.page.goto(ui.url, T);
  await opened.page.waitForURL(`${ui.base}/app/**`, T);
  if (hash) await go(opened.page, hash);
  await opened.page.getByTestId('sync-banner').waitFor({ state: 'visible', ...T });
  return opened;
}

/** Moves the app to a route (#/…) and waits for that page to be mounted. */
async function go(page, hash) {
  await page.evaluate((h) => { window.location.hash = h; }, hash);
  const key = hash.replace(/^#\//, '').split('?')[0];
  await page.locator(`#main [data-page="${key}"]`).waitFor({ state: 'attached', ...T });
}

async function closePage({ context, problems }) {
  await withDeadline(context.close(), 10_000);
  assert.deepEqual(problems, [], 'no uncaught errors and no CSP violations in the page');
}

const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);
const click = (page, id) => byTestId(page, id).click(T);

/**
 * Waits until the element's data-value is `expected` (a string), or a number of at least
 * expected.min. (No predicate source is sent: the page's CSP forbids eval, rightly.)
 */
async function waitForValue(page, id, expected, timeout = WAIT_MS) {
  await page.waitForFunction(([testid, value, min]) => {
    const el = document.querySelector(`[data-testid="${testid}"]`);
    if (!el || el.dataset.value === undefined) return false;
    return min === null ? el.dataset.value === value : Number(el.dataset.value) >= min;
  }, [id, typeof expected === 'object' ? null : String(expected), typeof expected === 'object' ? expected.min : null], { timeout });
}

const dataValue = (page, id) => byTestId(page, id).getAttribute('data-value', T);

// ---------------------------------------------------------------------------------------------
// Setup and teardown

before(async () => {
  checkPrerequisites();
  ensureDir(ARTIFACTS_DIR);
  dir = makeTempDir('safer-streets-tablet-');
  db = join(dir, 'sync-server.db');

  // The register (only officer.cal's households: the others find theirs in the field).
  const csvFile = join(dir, 'households.csv');
  writeFileSync(csvFile, csvText([['id', 'address', 'postcode', 'ward', 'target', 'assigned_to'],
    ...CAL_HOUSEHOLDS.map((r) => [r.id, r.address, r.postcode, r.ward, r.target ? '1' : '0', r.assigned_to])]));
  run(SYNC_SERVER, ['import-households', '--db', db, csvFile]);

  const enroll = (device, user, role) =>
    run(SYNC_SERVER, ['enroll', '--db', db, '--device', device, '--user', user, '--role', role]).stdout.split('\n')[0].trim();
  coordinatorToken = enroll('laptop-cat', 'cat', 'coordinator');
  assert.match(coordinatorToken, /^\S{20,}$/);

  // A port for the server that nothing listens on yet: the tablets are enrolled against it.
  serverPort = await reservePort();
  const ws = `ws://127.0.0.1:${serverPort}`;
  for (const [name, tablet] of Object.entries(tablets)) {
    tablet.store = join(dir, `${name}.db`);
    const token = enroll(tablet.device, tablet.user, tablet.role);
    run(FIELD_CLIENT, ['--store', tablet.store, 'enroll', '--server', ws, '--token', token, '--device', tablet.device]);
  }
  // The PIN encrypts the store; kit's wipes it at the 4th wrong PIN in a row (test 8).
  for (const name of ['pip', 'rex']) run(FIELD_CLIENT, ['--store', tablets[name].store, 'set-pin'], { input: `${PIN}\n` });
  run(FIELD_CLIENT, ['--store', tablets.kit.store, 'set-pin', '--pin-max-attempts', '4'], { input: `${PIN}\n` });
  // The coordinator's laptop, as a device: it deletes a household in test 5.
  tablets.coordinator = { store: join(dir, 'laptop-cat.db') };
  run(FIELD_CLIENT, ['--store', tablets.coordinator.store, 'enroll', '--server', ws, '--token', coordinatorToken, '--device', 'laptop-cat']);

  browser = await launchBrowser();
});

after(async () => {
  try {
    if (browser) await withDeadline(browser.close(), 10_000);
  } finally {
    // Every child by its own pid, newest first (the tablets before the server).
    for (const child of processes.reverse()) {
      try { await child.stop(); } catch (error) { console.error(`stopping pid ${child.pid}: ${error.message}`); }
    }
    removeDir(dir);
    console.log(`web tablet tests took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  }
});

// ---------------------------------------------------------------------------------------------
// 1

// Why: officers work in doorways with no signal. A visit recorded offline must be kept and
// shown as waiting, and must reach the server by itself, without anyone pressing anything,
// once the server can be reached; the banner must say what is happening at each step.
test('1. offline: a visit recorded with no server waits, then syncs by itself when the server comes up', async () => {
  // Nothing listens on the server's port yet.
  const refused = await fetch(`http://127.0.0.1:${serverPort}/healthz`, { signal: AbortSignal.timeout(WAIT_MS) })
    .then(() => 'answered', (error) => error.cause?.code || error.message);
  assert.equal(refused, 'ECONNREFUSED', 'the server is not there yet');

  const opened = [];
  try {
    // ann's tablet in portrait, ash's in landscape: each adds a household found in the field
    // and records a completed visit there, offline.
    for (const [name, size] of [['ann', SIZES[0]], ['ash', SIZES[1]]]) {
      const ui = await startUi(name);
      const tab = await openApp(ui, size);
      opened.push(tab);
      const { page } = tab;
      const household = FIELD_HOUSEHOLDS[name];

      await waitForValue(page, 'banner-online', 'offline');

      // Today → Add a household found in the field.
      await click(page, 'add-household-jump');
      await byTestId(page, 'add-address').fill(household.address, T);
      await byTestId(page, 'add-postcode').fill(household.postcode, T);
      await byTestId(page, 'add-ward').selectOption(household.ward, T);
      await click(page, 'add-submit');
      await byTestId(page, 'add-household-saved').waitFor({ state: 'visible', ...T });
      await click(page, 'add-household-record');

      // Record a visit: completed, fire safety check, one smoke detector fitted.
      await byTestId(page, 'visit-household').filter({ hasText: household.address }).waitFor({ state: 'visible', ...T });
      const fire = byTestId(page, 'outcome-fire_safety_check');
      assert.equal(await fire.isDisabled(T), true, 'outcomes are disabled until a status is chosen');
      await click(page, 'status-completed');
      assert.equal(await byTestId(page, 'status-completed').getAttribute('aria-checked', T), 'true');
      await fire.click(T);
      assert.equal(await fire.getAttribute('aria-pressed', T), 'true');
      await click(page, 'smoke-plus');
      assert.equal(await dataValue(page, 'smoke-value'), '1');
      await click(page, 'save-visit');
      await byTestId(page, 'visit-saved').waitFor({ state: 'visible', ...T });

      // Waiting, offline: the household and the visit.
      await waitForValue(page, 'banner-pending', { min: 1 });
      assert.equal(await dataValue(page, 'banner-online'), 'offline');
      const status = await localGet(ui, '/api/status');
      assert.equal(status.online, false);
      assert.equal(status.pending, 2, 'the new household and its visit wait to sync');
      assert.equal(status.last_sync_at, null);
      const card = page.locator('[data-testid="household-card"]', { hasText: household.address });
      await card.locator('[data-testid="last-visit"][data-value="completed"]').waitFor({ state: 'visible', ...T });
    }

    // The server comes up on the port the tablets were enrolled with.
    const upAt = Date.now();
    await ensureServer();
    assert.equal(server.port, serverPort);
    await Promise.all(opened.map(async ({ page }) => {
      await page.waitForFunction(() => {
        const online = document.querySelector('[data-testid="banner-online"]');
        const pending = document.querySelector('[data-testid="banner-pending"]');
        return online?.dataset.value === 'online' && pending?.dataset.value === '0';
      }, null, { timeout: 10_000 });
    }));
    const seconds = (Date.now() - upAt) / 1000;
    assert.ok(seconds <= 10, `both banners say online and nothing waiting within 10 s (took ${seconds.toFixed(1)} s)`);
    for (const { page } of opened) {
      assert.match(await byTestId(page, 'banner-pending').textContent(T), /All changes synced/);
      assert.ok(await byTestId(page, 'banner-last-sync').getAttribute('data-value', T), 'the banner shows a last sync time');
      assert.equal(await byTestId(page, 'banner-error').isHidden(), true, 'no error once synced');
    }

    // The coordinator's statistics count both visits.
    const s = await stats();
    assert.equal(s.visits.total, 2);
    assert.equal(s.visits.by_status.completed, 2);
    assert.equal(s.outcomes.fire_safety_check, 2);
    assert.equal(s.outcomes.smoke_detectors_fitted, 2);
    assert.equal(s.visits.by_ward.Elstree, 1);
    assert.equal(s.visits.by_ward['Potters Bar Oakmere'], 1);
    const { households } = await apiGet(server.base, coordinatorToken, '/api/v1/households?limit=100');
    for (const h of Object.values(FIELD_HOUSEHOLDS)) {
      assert.ok(households.some((row) => row.address === h.address && row.postcode === h.postcode),
        `${h.address} reached the server`);
    }
  } finally {
    for (const tab of opened) await closePage(tab);
  }
});

// ---------------------------------------------------------------------------------------------
// 2

// Why: a record the server would refuse must be stopped on the tablet, with the reason beside
// the field the officer has to change (the server's own words), and must not be saved at all:
// otherwise it would sit in the outbox and come back as a rejection hours later.
test('2. invalid input: the message shows beside the field and nothing is saved', async () => {
  for (const [name, size] of [['ann', SIZES[0]], ['ash', SIZES[1]]]) {
    const { ui } = tablets[name];
    assert.ok(ui, `${name}'s tablet was started by test 1`);
    const statusBefore = await localGet(ui, '/api/status');
    const householdsBefore = (await localGet(ui, '/api/households')).households;
    const household = householdsBefore.find((h) => h.address === FIELD_HOUSEHOLDS[name].address);
    assert.ok(household, `${FIELD_HOUSEHOLDS[name].address} is on the tablet`);
    const visitsBefore = (await localGet(ui, `/api/visits?household=${household.id}`)).visits;
    const pendingBefore = JSON.parse((await fieldClient(tablets[name].store, '--json', 'pending')).stdout);

    // The messages the validation shared with the server gives for these mistakes.
    const notes = 'Spoke about window locks and a doorbell camera. '.repeat(50).slice(0, 2001);
    assert.equal([...notes].length, 2001);
    const visitCheck = await local(ui, '/api/validate/visit', {
      method: 'POST',
      json: { household_id: household.id, visited_at: new Date().toISOString(), status: 'completed', notes },
    });
    const notesMessage = visitCheck.data.errors.find((e) => e.field === 'notes')?.message;
    assert.ok(notesMessage, 'the local API refuses 2001 characters of notes');
    assert.match(notesMessage, /2000/);
    const badHousehold = { address: '22 Quince Gardens', postcode: 'WD6 1CI', ward: 'Shenley', vulnerability: [] };
    const householdCheck = await local(ui, '/api/validate/household', { method: 'POST', json: badHousehold });
    const postcodeMessage = householdCheck.data.errors.find((e) => e.field === 'postcode')?.message;
    assert.ok(postcodeMessage, 'the local API refuses the postcode');

    const tab = await openApp(ui, size, `#/visit?household=${encodeURIComponent(household.id)}`);
    const { page } = tab;
    try {
      // Notes of 2001 characters on a completed visit.
      await byTestId(page, 'save-visit').waitFor({ state: 'visible', ...T });
      // Each outcome is named as the one table shared with the dashboard names it
      // (dashboard.test.mjs checks the overview's outcomes against the same table).
      for (const code of YES_NO_OUTCOMES) {
        assert.equal((await byTestId(page, `outcome-${code}`).textContent(T)).trim(), OUTCOME_LABELS[code], `outcome ${code}`);
      }
      // Status first: outcomes only for a completed visit, so "no answer" with an outcome
      // cannot even be entered (the toggles and the stepper are cleared and disabled).
      await click(page, 'status-completed');
      await click(page, 'outcome-first_aid_training');
      await click(page, 'smoke-plus');
      await click(page, 'status-no_answer');
      assert.equal(await byTestId(page, 'status-no_answer').getAttribute('aria-checked', T), 'true');
      assert.equal(await byTestId(page, 'outcome-first_aid_training').getAttribute('aria-pressed', T), 'false');
      assert.equal(await byTestId(page, 'outcome-first_aid_training').isDisabled(T), true);
      assert.equal(await dataValue(page, 'smoke-value'), '0');
      assert.equal(await byTestId(page, 'smoke-plus').isDisabled(T), true);
      await click(page, 'status-completed');
      await byTestId(page, 'notes').fill(notes, T);
      assert.equal(await dataValue(page, 'notes-count'), '2001');
      assert.match(await byTestId(page, 'notes-count').getAttribute('class', T), /is-over/);
      // While typing: the message appears beside the notes (live validation).
      await byTestId(page, 'field-error-notes').filter({ hasText: notesMessage }).waitFor({ state: 'visible', ...T });

      await click(page, 'save-visit');
      const summary = byTestId(page, 'save-errors');
      await summary.waitFor({ state: 'visible', ...T });
      assert.match(await summary.textContent(T), /Not saved/);
      assert.ok((await summary.textContent(T)).includes(notesMessage), 'the summary repeats the message');
      assert.equal((await byTestId(page, 'field-error-notes').textContent(T)).trim(), notesMessage);
      assert.equal(await byTestId(page, 'notes').getAttribute('aria-invalid', T), 'true');
      assert.equal(await byTestId(page, 'notes').inputValue(T), notes, 'what was typed is kept');
      assert.match(page.url(), /#\/visit\?household=/, 'still on the visit form');
      assert.equal(await byTestId(page, 'visit-saved').count(), 0);

      // A household with a postcode that is not a UK postcode.
      await go(page, '#/today');
      await byTestId(page, 'add-submit').waitFor({ state: 'visible', ...T });
      await byTestId(page, 'add-address').fill(badHousehold.address, T);
      await byTestId(page, 'add-postcode').fill(badHousehold.postcode, T);
      await byTestId(page, 'add-ward').selectOption(badHousehold.ward, T);
      await click(page, 'add-submit');
      await byTestId(page, 'add-save-errors').waitFor({ state: 'visible', ...T });
      const postcodeError = byTestId(page, 'field-error-postcode');
      assert.equal((await postcodeError.textContent(T)).trim(), postcodeMessage);
      assert.equal(await byTestId(page, 'add-postcode').getAttribute('aria-invalid', T), 'true');
      assert.equal(await byTestId(page, 'add-household-saved').count(), 0);
      assert.equal(await byTestId(page, 'add-address').inputValue(T), badHousehold.address, 'the form keeps what was typed');

      // Nothing was saved: not in the store, not in the outbox.
      const statusAfter = await localGet(ui, '/api/status');
      assert.equal(statusAfter.pending, statusBefore.pending, 'nothing new waits to sync');
      const householdsAfter = (await localGet(ui, '/api/households')).households;
      assert.equal(householdsAfter.length, householdsBefore.length);
      assert.ok(!householdsAfter.some((h) => h.address === badHousehold.address), 'the bad household was not added');
      const visitsAfter = (await localGet(ui, `/api/visits?household=${household.id}`)).visits;
      assert.deepEqual(visitsAfter.map((v) => v.id), visitsBefore.map((v) => v.id), 'no visit was added');
      const pendingAfter = JSON.parse((await fieldClient(tablets[name].store, '--json', 'pending')).stdout);
      assert.deepEqual(pendingAfter, pendingBefore, '`field-client --json pending` is unchanged');
    } finally {
      await closePage(tab);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 3

// Why: Commute Aware is counted tap by tap on a busy concourse; every tap must be kept (none
// lost, none doubled), a correction must take one off, and the count must reach the
// programme's figures on the server, at the right station, once the session ends.
test('3. Commute Aware: 25 taps on +1 (with a −1 and a +1), end, sync; the server counts 25 cards at the station', async () => {
  await ensureServer();
  const ui = await startUi('pat');
  const stations = { portrait: 'Potters Bar', landscape: 'Elstree & Borehamwood' };
  const before = await stats();

  for (const size of SIZES) {
    const station = stations[size.name];
    const tab = await openApp(ui, size, '#/commute');
    const { page } = tab;
    try {
      await byTestId(page, 'start-view').waitFor({ state: 'visible', ...T });
      await page.locator(`[data-station="${station}"]`).click(T);
      await click(page, 'start-session');
      const active = byTestId(page, 'active-session');
      await active.waitFor({ state: 'visible', ...T });
      const sessionId = await active.getAttribute('data-session-id', T);
      assert.ok(sessionId);

      const plus = byTestId(page, 'plus-one');
      for (let i = 0; i < 25; i += 1) await plus.click(T);
      await click(page, 'minus-one');
      await plus.click(T);
      // Shown at once, then every tap confirmed by the local service.
      await page.waitForFunction(() => {
        const count = document.querySelector('[data-testid="cards-count"]');
        const saving = document.querySelector('[data-testid="count-saving"]');
        return count?.dataset.value === '25' && count.dataset.confirmed === '25' && saving?.dataset.value === '0';
      }, null, T);
      assert.equal((await byTestId(page, 'cards-count').textContent(T)).trim(), '25');
      assert.equal((await byTestId(page, 'count-error').textContent(T)).trim(), '');

      await click(page, 'end-session');
      await byTestId(page, 'confirm-dialog').waitFor({ state: 'visible', ...T });
      assert.match(await byTestId(page, 'confirm-dialog').textContent(T), /25 card holders/);
      await click(page, 'confirm-yes');
      await byTestId(page, 'start-view').waitFor({ state: 'visible', ...T });
      const row = page.locator(`[data-testid="session-row"][data-session-id="${sessionId}"]`);
      await row.waitFor({ state: 'visible', ...T });
      assert.equal(await row.getByTestId('session-cards').getAttribute('data-value', T), '25');

      // The app syncs by itself: the session is ended, acknowledged, and nothing waits.
      const session = await waitUntil(async () => {
        const { sessions } = await localGet(ui, '/api/commute');
        const found = sessions.find((s) => s.id === sessionId);
        return found && found.state === 'synced' && found.data.ended_at ? found : null;
      }, { what: `session ${sessionId} ended and synced` });
      assert.equal(session.data.cards_distributed, 25);
      assert.equal(session.data.station, station);
      await waitForValue(page, 'banner-pending', '0');
      assert.equal(await dataValue(page, 'banner-online'), 'online');
    } finally {
      await closePage(tab);
    }
  }

  const after = await stats();
  for (const station of Object.values(stations)) {
    assert.equal(after.commute_aware.by_station[station] - (before.commute_aware.by_station[station] ?? 0), 25,
      `25 cards at ${station}`);
  }
  assert.equal(after.commute_aware.by_station.Radlett, before.commute_aware.by_station.Radlett, 'none at Radlett');
  assert.equal(after.commute_aware.sessions - before.commute_aware.sessions, 2);
  assert.equal(after.commute_aware.cards_distributed - before.commute_aware.cards_distributed, 50);
});

// ---------------------------------------------------------------------------------------------
// 4

// Why: the app holds addresses and vulnerabilities and can change records. Another web page
// in the tablet's browser, or one that points its own name at 127.0.0.1 (DNS rebinding), must
// get nothing: the Host check (421) and the launch key (403) are what stop them.
test('4. security: wrong Host gets 421, no launch key gets 403, and the browser sees data only after the key URL', async () => {
  const { ui } = tablets.ann;
  assert.ok(ui, "ann's tablet was started by test 1");
  const address = FIELD_HOUSEHOLDS.ann.address;
  const good = { Host: `127.0.0.1:${ui.port}`, 'X-Field-Client-Key': ui.key };

  // DNS rebinding: the right key but another name.
  for (const host of [`evil.example:${ui.port}`, `127.0.0.1.evil.example:${ui.port}`, `127.0.0.1:${ui.port + 1}`]) {
    const answer = await rawHttp(ui.port, '/api/households', { headers: { Host: host, 'X-Field-Client-Key': ui.key } });
    assert.equal(answer.status, 421, `Host ${host}: 421`);
    assert.ok(!answer.body.includes(address), 'no data with a 421');
  }
  // No key, a wrong key, a wrong launch URL.
  for (const [what, path, headers] of [
    ['no key', '/api/households', { Host: good.Host }],
    ['no key, status', '/api/status', { Host: good.Host }],
    ['no key, the app', '/app/', { Host: good.Host }],
    ['a wrong key', '/api/households', { Host: good.Host, 'X-Field-Client-Key': 'f'.repeat(ui.key.length) }],
    ['a wrong cookie', '/api/households', { Host: good.Host, Cookie: `ss_app_${ui.port}=${'0'.repeat(ui.key.length)}` }],
    ['the key under the old cookie name', '/api/households', { Host: good.Host, Cookie: `fc_key=${ui.key}` }],
    ['a wrong launch key', `/?key=${'0'.repeat(ui.key.length)}`, { Host: good.Host }],
  ]) {
    const answer = await rawHttp(ui.port, path, { headers });
    assert.equal(answer.status, 403, `${what}: 403`);
    assert.ok(!answer.body.includes(address), `${what}: no data`);
    assert.equal(answer.headers['set-cookie'], undefined, `${what}: no cookie`);
  }
  // The controls: the right key (header or cookie), under 127.0.0.1 or localhost.
  for (const headers of [good, { Host: `localhost:${ui.port}`, 'X-Field-Client-Key': ui.key },
    { Host: good.Host, Cookie: `ss_app_${ui.port}=${ui.key}` }]) {
    const answer = await rawHttp(ui.port, '/api/households', { headers });
    assert.equal(answer.status, 200, `control ${JSON.stringify(Object.keys(headers))} with Host ${headers.Host}`);
    assert.ok(answer.body.includes(address));
  }

  for (const size of SIZES) {
    // A browser that never opened the launch address.
    const stranger = await newPageAt(browser, { width: size.width, height: size.height });
    try {
      const response = await stranger.page.goto(`${ui.base}/app/`, T);
      assert.equal(response.status(), 403, `${size.name}: /app/ without the key is 403`);
      const text = await stranger.page.textContent('body', T);
      assert.ok(!text.includes(address), 'no household on the page');
      assert.equal(await stranger.page.locator('[data-testid="household-card"]').count(), 0);
      assert.equal(await stranger.page.locator('[data-testid="sync-banner"]').count(), 0, 'not even the app shell');
      const fromPage = await stranger.page.evaluate(async () => {
        const answer = await fetch('/api/households', { credentials: 'same-origin' });
        return { status: answer.status, body: await answer.text() };
      });
      assert.equal(fromPage.status, 403);
      assert.ok(!fromPage.body.includes(address));
      assert.deepEqual((await stranger.context.cookies(ui.base)).map((c) => c.name), [], 'no cookie was given');
    } finally {
      await withDeadline(stranger.context.close(), 10_000);
    }

    // The same, from the launch address: the cookie is set and the app shows the data.
    const tab = await openApp(ui, size);
    const { page, context } = tab;
    try {
      assert.equal(new URL(page.url()).pathname, '/app/', 'the launch address redirects to the app');
      await page.locator('[data-testid="household-card"]', { hasText: address }).waitFor({ state: 'visible', ...T });
      const cookie = (await context.cookies(ui.base)).find((c) => c.name === `ss_app_${ui.port}`);
      assert.ok(cookie, 'the ss_app_<port> cookie is set');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(cookie.value, ui.key);
      assert.ok(!(await page.evaluate(() => document.cookie)).includes('ss_app_'), 'scripts cannot read the key');
      assert.equal(await page.evaluate(async () => (await fetch('/api/households')).status), 200);
      assert.equal(await byTestId(page, 'access-error').count(), 0);
    } finally {
      await closePage(tab);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 5

/** Horizontal overflow and touch targets under 44×44: a list of problems (empty when fine). */
async function layoutProblems(page, where, testids) {
  const problems = [];
  const width = await page.evaluate(() => {
    const inner = window.innerWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > inner + 0.5; })
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''}.${el.className}`);
    return { scroll: document.scrollingElement.scrollWidth, inner, wide };
  });
  if (width.scroll > width.inner) {
    problems.push(`${where}: scrollWidth ${width.scroll} > innerWidth ${width.inner} (${width.wide.join(', ')})`);
  }
  for (const id of testids) {
    const all = byTestId(page, id);
    const count = await all.count();
    if (count === 0) problems.push(`${where}: no [data-testid="${id}"]`);
    for (let i = 0; i < count; i += 1) {
      const box = await all.nth(i).boundingBox(T);
      if (!box) problems.push(`${where}: ${id} #${i} is not displayed`);
      else if (box.width < MIN_TARGET || box.height < MIN_TARGET) {
        problems.push(`${where}: ${id} #${i} is ${box.width.toFixed(1)}×${box.height.toFixed(1)} px (< ${MIN_TARGET}×${MIN_TARGET})`);
      }
    }
  }
  return problems;
}

/**
 * Saves what the tablet shows (the viewport, after scrolling `focus` into view, or from the
 * top) as tablet-<page>-<size>.png, and the whole page as tablet-<page>-<size>-full.png (in the
 * full-page image a sticky bar stays where the viewport's bottom was). Waits for the banner
 * to settle on "All changes synced" first.
 */
async function screenshot(page, pageName, size, focus = null) {
  await waitForValue(page, 'banner-pending', '0');
  await page.evaluate(() => window.scrollTo(0, 0));
  if (focus) await focus.scrollIntoViewIfNeeded(T);
  const file = join(ARTIFACTS_DIR, `tablet-${pageName}-${size.name}.png`);
  await page.screenshot({ path: file, timeout: WAIT_MS });
  const png = readFileSync(file);
  assert.equal(png.readUInt32BE(16), size.width, `${file} is ${size.width} px wide`);
  assert.equal(png.readUInt32BE(20), size.height, `${file} is ${size.height} px high`);
  const full = join(ARTIFACTS_DIR, `tablet-${pageName}-${size.name}-full.png`);
  await page.screenshot({ path: full, fullPage: true, timeout: WAIT_MS });
  assert.ok(existsSync(full));
  return file;
}

// Why: the app is used at arm's length on tablets held either way up. Each page must fit the
// width at both sizes (no sideways scrolling), the buttons an officer taps with a gloved finger
// must be at least 44×44 CSS px, and people reviewing the design need to see every page.
test('5. layout: every page at both sizes fits the width, has 44×44 px buttons, and is saved as a screenshot', async (t) => {
  await ensureServer();
  const cal = tablets.cal;
  const coordinator = tablets.coordinator;

  // cal's tablet takes its register; the coordinator deletes one household, and cal records
  // a visit there (offline from the ui's point of view: it is not running) before syncing.
  await fieldClient(cal.store, 'sync');
  await fieldClient(coordinator.store, 'sync');
  await fieldClient(coordinator.store, 'household', 'delete', DELETED_HOUSEHOLD);
  await fieldClient(coordinator.store, 'sync');
  await fieldClient(cal.store, 'visit', 'record', '--household', DELETED_HOUSEHOLD, '--status', 'completed',
    '--crime-prevention-advice', '--at', 'now');

  const ui = await startUi('cal');
  const status = await waitUntil(async () => {
    const s = await localGet(ui, '/api/status');
    return s.rejected >= 1 && s.pending === 0 ? s : null;
  }, { what: "the server's refusal of cal's visit" });
  assert.equal(status.rejected, 1);
  const { rejections } = await apiGet(server.base, coordinatorToken, '/api/v1/devices/tablet-cal/rejections');
  assert.equal(rejections.length, 1);
  assert.equal(rejections[0].field, 'household_id');

  const problems = [];
  const shots = [];
  for (const size of SIZES) {
    const tab = await openApp(ui, size);
    const { page } = tab;
    const where = (name) => `${name} (${size.name})`;
    try {
      // Today
      await page.locator('[data-testid="household-card"]').first().waitFor({ state: 'visible', ...T });
      await waitForValue(page, 'household-count', String(CAL_HOUSEHOLDS.length - 1));
      await waitForValue(page, 'banner-rejected', '1');
      shots.push(await screenshot(page, 'today', size));
      problems.push(...await layoutProblems(page, where('Today'), ['record-visit-button', 'sync-now', 'add-submit']));

      // Record a visit (a fresh form with "Completed" chosen, so the outcomes are live)
      await go(page, `#/visit?household=${encodeURIComponent(CAL_HOUSEHOLDS[0].id)}`);
      await byTestId(page, 'save-visit').waitFor({ state: 'visible', ...T });
      await click(page, 'status-completed');
      await click(page, 'outcome-crime_prevention_advice');
      shots.push(await screenshot(page, 'visit', size));
      problems.push(...await layoutProblems(page, where('Record a visit'), [
        'save-visit', 'status-completed', 'status-no_answer', 'status-declined', 'status-rescheduled',
        'smoke-plus', 'smoke-minus', 'outcome-crime_prevention_advice', 'sync-now']));

      // Commute Aware with an active session (started once: it stays active in the store)
      await go(page, '#/commute');
      await page.locator('[data-testid="start-view"], [data-testid="active-session"]').first().waitFor({ state: 'visible', ...T });
      if (await byTestId(page, 'start-view').isVisible()) {
        await page.locator('[data-station="Radlett"]').click(T);
        await click(page, 'start-session');
        await byTestId(page, 'active-session').waitFor({ state: 'visible', ...T });
        for (let i = 0; i < 7; i += 1) await click(page, 'plus-one');
        await click(page, 'message-vehicle_security');
      }
      await page.waitForFunction(() => {
        const count = document.querySelector('[data-testid="cards-count"]');
        return count?.dataset.value === '7' && count.dataset.confirmed === '7';
      }, null, T);
      shots.push(await screenshot(page, 'commute', size));
      problems.push(...await layoutProblems(page, where('Commute Aware'), ['plus-one', 'minus-one', 'end-session', 'sync-now']));

      // Sync, with the refused visit
      await go(page, '#/sync');
      const row = byTestId(page, 'rejected-row');
      await row.waitFor({ state: 'visible', ...T });
      assert.equal(await row.getAttribute('data-entity', T), 'visit');
      assert.equal(await row.getByTestId('rejected-field').getAttribute('data-value', T), 'household_id');
      assert.ok((await row.getByTestId('rejected-message').textContent(T)).includes(rejections[0].message),
        "the row shows the server's message");
      await waitForValue(page, 'sync-detail-rejected', '1');
      shots.push(await screenshot(page, 'sync', size, row));
      problems.push(...await layoutProblems(page, where('Sync'), ['sync-page-now', 'discard-button', 'sync-now']));
    } finally {
      await closePage(tab);
    }
  }
  t.diagnostic(`screenshots: ${shots.join(', ')}`);
  assert.equal(shots.length, 8);
  assert.deepEqual(problems, [], 'no horizontal overflow and no touch target under 44×44 px');
});

// ---------------------------------------------------------------------------------------------
// 6

// Why: a tablet left on a doorstep or a train must not show anyone the households. After the
// set time without use the app must lock itself, refuse a wrong PIN, and open for the right one.
test('6. PIN lock: the app locks itself after the set time; a wrong PIN is refused, the right one unlocks', async () => {
  // 3 s: long enough that a loaded machine shows the app before it locks (0.6 s was not).
  const ui = await startUi('pip', ['--pin-lock-minutes', '0.05']);
  for (const size of SIZES) {
    // It starts locked (test 8): unlock it first, as if the officer had given the PIN.
    const unlockedAt = Date.now();
    assert.equal((await local(ui, '/api/unlock', { method: 'POST', json: { pin: PIN } })).status, 200);
    const tab = await openApp(ui, size);
    const { page } = tab;
    try {
      // The page's first reads are use, so on a loaded machine the 3 s may end well after the
      // page opened: wait for the lock (asking as the app's own polls do, which are not use),
      // and check it did not come before the set time.
      await waitUntil(async () => (await local(ui, '/api/status', { background: true })).data?.locked === true,
        { what: 'the service to lock itself' });
      assert.ok(Date.now() - unlockedAt >= 3_000, 'not before the set time');
      assert.equal((await local(ui, '/api/households')).status, 423, 'and answers 423');

      const input = byTestId(page, 'pin-input');
      await input.waitFor({ state: 'visible', ...T });
      assert.equal(await page.locator('#app-shell').isHidden(), true, 'the app is hidden behind the lock');

      // A wrong PIN, on the keypad.
      for (const digit of '135799') await click(page, `pin-key-${digit}`);
      assert.equal(await input.inputValue(T), '135799');
      const [wrong] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/unlock'), T),
        click(page, 'pin-submit'),
      ]);
      assert.equal(wrong.status(), 403);
      await byTestId(page, 'pin-error').filter({ hasText: 'Wrong PIN' }).waitFor({ state: 'visible', ...T });
      assert.equal(await input.inputValue(T), '', 'the wrong PIN is cleared');
      assert.equal(await byTestId(page, 'pin-lock').isVisible(), true, 'still locked');

      // The right PIN.
      for (const digit of PIN) await click(page, `pin-key-${digit}`);
      const [right] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/unlock'), T),
        click(page, 'pin-submit'),
      ]);
      assert.equal(right.status(), 200);
      // It locks again 3 s later: watch for the unlocked state on every frame.
      await page.waitForFunction(() => document.querySelector('[data-testid="pin-lock"]')?.hidden === true &&
        document.getElementById('app-shell')?.hidden === false, null, { timeout: WAIT_MS, polling: 'raf' });
    } finally {
      await closePage(tab);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 7

// Why: test 6 locks after 0.6 s, less than the app's 2 s status poll, so it cannot see whether
// anything the app does by itself keeps the lock off. A tablet left open on Today or Sync
// while it has signal must still lock: the app's own refreshes after a background sync are not
// someone using it. The lock time here (3 s) is longer than the poll; Commute Aware, which
// does not refresh by itself, is the control.
// Regression: Today and Sync reloaded after every background sync and the service counted those
// reads as use, so a tablet with signal never locked there. The app now marks its own
// refreshes with X-Background, which do not count.
test('7. PIN lock: the app locks even while Today or Sync sits open and keeps syncing', async (t) => {
  await ensureServer();
  const ui = await startUi('rex', ['--pin-lock-minutes', '0.05']); // 3 s; syncs every 0.5 s (UI_FLAGS)
  const results = [];
  for (const [hash, size] of [['#/commute', SIZES[0]], ['#/today', SIZES[0]], ['#/sync', SIZES[1]]]) {
    // Start unlocked, and open the page.
    const unlocked = await local(ui, '/api/unlock', { method: 'POST', json: { pin: PIN } });
    assert.equal(unlocked.status, 200);
    const tab = await openApp(ui, size, hash);
    const { page } = tab;
    const reads = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (path.startsWith('/api/') && path !== '/api/status') reads.push(path);
    });
    try {
      const startedWaiting = Date.now();
      const locked = await byTestId(page, 'pin-input').waitFor({ state: 'visible', timeout: 10_000 })
        .then(() => true, () => false);
      const status = await localGet(ui, '/api/status');
      results.push({ page: `${hash} (${size.name})`, locked, serviceLocked: status.locked,
        seconds: Number(((Date.now() - startedWaiting) / 1000).toFixed(1)), readsWhileOpen: reads.length });
    } finally {
      await closePage(tab);
    }
  }
  t.diagnostic(`lock after 3 s without use: ${JSON.stringify(results)}`);
  assert.equal(results[0].locked, true, 'control: Commute Aware locks');
  assert.deepEqual(results.map((r) => [r.page, r.locked]), results.map((r) => [r.page, true]),
    'every page locks within 10 s when nobody touches the tablet');
});

// ---------------------------------------------------------------------------------------------
// 8

/** Types `digits` on the PIN pad, presses Unlock and resolves with the /api/unlock response. */
async function submitPin(page, digits) {
  for (const digit of digits) await click(page, `pin-key-${digit}`);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/unlock'), T),
    click(page, 'pin-submit'),
  ]);
  return response;
}

/** Waits until the PIN pad's Unlock button is in `state` (ready, waiting or locked-out). */
const waitForSubmit = (page, state, timeout = WAIT_MS) => waitForValue(page, 'pin-submit', state, timeout);

// Why: a tablet with a PIN must show nothing before the PIN, from the moment the app starts
// (regression: it started unlocked), and the PIN pad must make the attempt limit plain: a wait
// after three wrong PINs, counted down on the button, and at the limit a wiped store and a
// page that says why and what to do.
test('8. PIN lock: the app starts locked; wrong PINs make it wait, then wipe the store', async () => {
  const flags = ['--pin-wait-seconds', '2'];
  let ui = await startUi('kit', flags);
  const size = SIZES[0];
  let tab = await newPageAt(browser, { width: size.width, height: size.height });
  try {
    const { page } = tab;
    const reads = [];
    page.on('response', (response) => {
      const path = new URL(response.url()).pathname;
      if (path.startsWith('/api/') && path !== '/api/status' && path !== '/api/unlock') reads.push(`${path} ${response.status()}`);
    });
    await page.goto(ui.url, T);
    await page.waitForURL(`${ui.base}/app/**`, T);
    // Locked from the start: the PIN pad, and the app hidden behind it.
    await byTestId(page, 'pin-input').waitFor({ state: 'visible', ...T });
    assert.equal(await page.locator('#app-shell').isHidden(), true, 'the app is hidden behind the lock');
    assert.equal((await localGet(ui, '/api/status')).locked, true, 'the service says locked');
    assert.deepEqual(reads.filter((r) => !r.endsWith(' 423')), [], 'every read before the PIN was refused (423)');

    // Two wrong PINs: refused, with the tries left.
    let answer = await submitPin(page, '135799');
    assert.equal(answer.status(), 403);
    await byTestId(page, 'pin-error').filter({ hasText: 'Wrong PIN' }).waitFor({ state: 'visible', ...T });
    answer = await submitPin(page, '135799');
    assert.equal(answer.status(), 403);
    await byTestId(page, 'pin-error').filter({ hasText: '2 tries left' }).waitFor({ state: 'visible', ...T });
    // The third: a wait of 2 s, shown on the button, which is off meanwhile.
    answer = await submitPin(page, '135799');
    assert.equal(answer.status(), 403);
    await byTestId(page, 'pin-error').filter({ hasText: 'Wait 2 seconds' }).waitFor({ state: 'visible', ...T });
    await waitForSubmit(page, 'waiting');
    assert.equal(await byTestId(page, 'pin-submit').isDisabled(), true, 'no attempt during the wait');
    await click(page, 'pin-key-1');
    assert.match(await byTestId(page, 'pin-error').textContent(T), /Wait 2 seconds/, 'typing keeps the message');
    await click(page, 'pin-clear');
    // After the wait, the right PIN opens the app.
    await waitForSubmit(page, 'ready', 5_000);
    answer = await submitPin(page, PIN);
    assert.equal(answer.status(), 200);
    await page.waitForFunction(() => document.querySelector('[data-testid="pin-lock"]')?.hidden === true &&
      document.getElementById('app-shell')?.hidden === false, null, T);
    await byTestId(page, 'sync-banner').waitFor({ state: 'visible', ...T });
  } finally {
    await closePage(tab);
  }

  // Started again: still locked. Three wrong PINs from elsewhere, then the one wrong PIN that
  // is left, on the pad, wipes the tablet's store.
  await ui.stop();
  ui = await startUi('kit', flags);
  for (let i = 0; i < 3; i += 1) {
    assert.equal((await local(ui, '/api/unlock', { method: 'POST', json: { pin: '135799' } })).status, 403);
  }
  tab = await newPageAt(browser, { width: size.width, height: size.height });
  try {
    const { page } = tab;
    await page.goto(ui.url, T);
    await byTestId(page, 'pin-input').waitFor({ state: 'visible', ...T });
    await waitForSubmit(page, 'ready', 5_000); // the page knows of no wait yet
    let answer = await submitPin(page, '135799');
    if (answer.status() === 429) { // still within the 2 s: not checked, and the pad counts down
      await byTestId(page, 'pin-error').filter({ hasText: 'Too many wrong PINs' }).waitFor({ state: 'visible', ...T });
      await waitForSubmit(page, 'ready', 5_000);
      answer = await submitPin(page, '135799');
    }
    assert.equal(answer.status(), 410);
    assert.equal((await answer.json()).code, 'wiped');
    // The status poll then says so, and the app shows why in place of everything else.
    await byTestId(page, 'wiped').filter({ hasText: 'Too many wrong PINs were entered' }).waitFor({ state: 'visible', ...T });
    assert.match(await byTestId(page, 'wiped').textContent(T), /enrolled again/);
    assert.equal(await byTestId(page, 'pin-lock').isHidden(), true, 'no PIN pad: there is nothing to unlock');
    assert.equal((await local(ui, '/api/households')).status, 410);
  } finally {
    await closePage(tab);
  }
});

// ---------------------------------------------------------------------------------------------
// 9

// Why: every port of 127.0.0.1 is the same site to a browser, so a page served by any other
// local program gets the app's SameSite=Strict cookie sent with its requests. Only the Origin
// check stops its writes. Regression: such a write (a text/plain form POST that carries JSON,
// sent with the cookie) was saved.
test('9. security: a page on another local port cannot write, though the browser sends it the cookie', async () => {
  const { ui } = tablets.ann;
  assert.ok(ui, "ann's tablet was started by test 1");
  const before = (await localGet(ui, '/api/households')).households.length;
  // The other app's page: a form whose text/plain body is a household in JSON.
  const name = '{"address":"1 Foreign Row","postcode":"WD6 1FR","ward":"Elstree","padding":"';
  const page = `<!doctype html><title>another local app</title>
    <form method="post" enctype="text/plain" action="${ui.base}/api/households">
    <input type="hidden" name='${name}' value='"}'></form>`;
  const foreign = createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end(page);
  });
  await new Promise((resolve) => foreign.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const tab = await openApp(ui, SIZES[0]); // the cookie is set in this browser context
  try {
    const other = await tab.context.newPage();
    await other.goto(`http://127.0.0.1:${foreign.address().port}/`, T);
    const [response] = await Promise.all([
      other.waitForResponse((r) => r.url() === `${ui.base}/api/households`, T),
      other.evaluate(() => document.forms[0].submit()),
    ]);
    const request = response.request();
    assert.equal(request.method(), 'POST');
    assert.equal(await request.headerValue('origin'), `http://127.0.0.1:${foreign.address().port}`);
    assert.equal(response.status(), 403, 'refused');
    assert.match(await response.text(), /Origin/, 'for its Origin');
    assert.equal((await localGet(ui, '/api/households')).households.length, before, 'nothing was saved');
    await other.close();
    // The control: the app's own page writes (its Origin is the app's).
    const own = await tab.page.evaluate(async () => (await fetch('/api/validate/household', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status);
    assert.equal(own, 200);
  } finally {
    await closePage(tab);
    await new Promise((resolve) => foreign.close(resolve));
  }
});

// ---------------------------------------------------------------------------------------------
// 10

// Why: issue 14: an officer had no way to discard a refused change. Test 5 left cal's visit
// refused; its household was erased, so the visit is gone from the tablet and only the
// refusal remains. Discard asks first, saying what is lost; Cancel keeps it; the confirmed
// discard removes it from the list and from the counts.
test('10. refused changes: Discard asks first, says what is lost, and the refusal goes', async () => {
  const ui = tablets.cal.ui;
  assert.ok(ui, "test 5 started cal's app");
  const tab = await openApp(ui, SIZES[0], '#/sync');
  const { page } = tab;
  try {
    const row = byTestId(page, 'rejected-row');
    await row.waitFor({ state: 'visible', ...T });
    assert.ok((await row.getByTestId('rejected-summary').textContent(T)).includes('No longer on this tablet'),
      'the refusal of a record that left the tablet shows no data');
    const dialog = byTestId(page, 'confirm-dialog');
    await row.getByTestId('discard-button').click(T);
    await dialog.waitFor({ state: 'visible', ...T });
    assert.ok((await dialog.textContent(T)).includes('Only the notice goes'), 'the confirmation says what is lost');
    await click(page, 'confirm-no');
    await dialog.waitFor({ state: 'detached', ...T });
    assert.equal((await localGet(ui, '/api/status')).rejected, 1, 'Cancel discards nothing');

    await row.getByTestId('discard-button').click(T);
    await dialog.waitFor({ state: 'visible', ...T });
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/rejected/') && r.request().method() === 'DELETE', T),
      click(page, 'confirm-yes'),
    ]);
    assert.equal(answer.status(), 200);
    await byTestId(page, 'rejected-none').waitFor({ state: 'visible', ...T });
    assert.equal((await localGet(ui, '/api/status')).rejected, 0);
    assert.deepEqual((await localGet(ui, '/api/rejected')).rejected, []);
  } finally {
    await closePage(tab);
  }
});

// ---------------------------------------------------------------------------------------------
// 11

/**
 * A protocol-1 device's session, as an older app would hold it (Node 20 has no WebSocket; the
 * raw client is support.mjs's openSyncSocket): its hello, then each message of `messages` in
 * turn, the answer to each returned.
 */
async function protocol1Session(port, token, deviceId, messages) {
  const socket = await openSyncSocket(`ws://127.0.0.1:${port}`, token);
  try {
    const answers = [];
    for (const message of [{ type: 'hello', protocol: 1, device_id: deviceId, app_version: 'old-app' }, ...messages]) {
      answers.push(await socket.request(message));
    }
    return answers;
  } finally {
    socket.close();
  }
}

// Why: issue 14 §3: a referral tells a partner about a vulnerable person, which needs the
// resident's consent or another lawful basis, recorded at the door. The form must ask for it
// as soon as a referral is chosen, refuse to save without it (the error beside the question,
// in the summary, and focus sent there), keep it, and show it in the visit's history; a visit
// from an older app, with a referral and no basis, opens with none chosen and asks on saving.
test('11. consent to share: a referral asks for its lawful basis, which is kept, shown, and asked again of an old visit', async () => {
  const ui = tablets.ann.ui;
  assert.ok(ui, "test 1 started ann's app");
  const household = (await localGet(ui, '/api/households')).households.find((h) => h.address === FIELD_HOUSEHOLDS.ann.address);
  assert.ok(household, `${FIELD_HOUSEHOLDS.ann.address} is on ann's tablet`);
  const visitsBefore = (await localGet(ui, `/api/visits?household=${household.id}`)).visits;
  const pendingBefore = (await localGet(ui, '/api/status')).pending;
  const expected = (await local(ui, '/api/validate/visit', {
    method: 'POST',
    json: { household_id: household.id, visited_at: new Date().toISOString(), status: 'completed', referrals: ['adult_social_care'] },
  })).data.errors.find((e) => e.field === 'share_basis')?.message;
  assert.ok(expected, 'the local API asks for the basis of a referral');

  let tab = await openApp(ui, SIZES[0], `#/visit?household=${encodeURIComponent(household.id)}`);
  try {
    const { page } = tab;
    const basisField = byTestId(page, 'share-basis-field');
    await byTestId(page, 'save-visit').waitFor({ state: 'visible', ...T });
    await click(page, 'status-completed');
    assert.equal(await basisField.isHidden(), true, 'no basis is asked without a referral');
    await click(page, 'referral-adult_social_care');
    await basisField.waitFor({ state: 'visible', ...T });
    assert.equal(await byTestId(page, 'share-basis').getAttribute('role', T), 'radiogroup');
    assert.equal(await byTestId(page, 'share-basis').getAttribute('aria-required', T), 'true');
    for (const code of ['consent', 'vital_interests', 'safeguarding']) {
      assert.equal(await byTestId(page, `share-basis-${code}`).getAttribute('aria-checked', T), 'false', `${code} is not chosen`);
    }
    assert.deepEqual(await layoutProblems(page, 'the lawful basis (portrait)', ['share-basis-consent', 'share-basis-vital_interests', 'share-basis-safeguarding']), []);

    // Saving without a basis: not saved, the error beside the question and in the summary.
    await click(page, 'save-visit');
    const summary = byTestId(page, 'save-errors');
    await summary.waitFor({ state: 'visible', ...T });
    assert.ok((await summary.textContent(T)).includes(expected), 'the summary gives the message');
    assert.equal((await byTestId(page, 'field-error-share_basis').textContent(T)).trim(), expected);
    assert.equal(await byTestId(page, 'share-basis').getAttribute('aria-invalid', T), 'true');
    assert.equal(await byTestId(page, 'visit-saved').count(), 0);
    assert.equal((await localGet(ui, '/api/status')).pending, pendingBefore, 'nothing was saved');
    // The summary's link takes focus to the question; the arrow keys choose, as in a radio group.
    await summary.getByRole('button', { name: expected }).click(T);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'share-basis-consent');
    await page.keyboard.press('ArrowDown');
    assert.equal(await byTestId(page, 'share-basis-vital_interests').getAttribute('aria-checked', T), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'share-basis-vital_interests');

    // Taking the referral off hides and clears the basis; putting it back asks again.
    await click(page, 'referral-adult_social_care');
    await basisField.waitFor({ state: 'hidden', ...T });
    await click(page, 'referral-adult_social_care');
    await basisField.waitFor({ state: 'visible', ...T });
    assert.equal(await byTestId(page, 'share-basis-vital_interests').getAttribute('aria-checked', T), 'false');

    await click(page, 'share-basis-consent');
    assert.equal(await byTestId(page, 'share-basis-consent').getAttribute('aria-checked', T), 'true');
    await click(page, 'save-visit');
    await byTestId(page, 'visit-saved').waitFor({ state: 'visible', ...T });
  } finally {
    await closePage(tab);
  }
  const visitsAfter = (await localGet(ui, `/api/visits?household=${household.id}`)).visits;
  const saved = visitsAfter.find((v) => !visitsBefore.some((before) => before.id === v.id));
  assert.ok(saved, 'the visit was saved');
  assert.equal(saved.data.share_basis, 'consent');
  assert.deepEqual(saved.data.referrals, ['adult_social_care']);

  // A visit from an older app of the same officer: a referral, no basis.
  const oldDevice = 'tablet-ann-old';
  const token = run(SYNC_SERVER, ['enroll', '--db', db, '--device', oldDevice, '--user', 'officer.ann', '--role', 'officer'])
    .stdout.split('\n')[0].trim();
  const oldVisit = '7ab1e700-0000-4000-8000-00000000b0a1';
  const [welcome, ack] = await protocol1Session(server.port, token, oldDevice, [{
    type: 'push',
    changes: [{
      seq: 1, entity: 'visit', op: 'upsert', id: oldVisit, hlc: `${String(Date.now()).padStart(15, '0')}-00000`,
      data: { household_id: household.id, visited_at: '2026-11-20T10:00:00Z', status: 'completed', referrals: ['health'], notes: '' },
    }],
  }]);
  assert.equal(welcome.type, 'welcome');
  assert.equal(ack.type, 'ack');
  assert.deepEqual(ack.rejected, [], 'the server takes a protocol-1 visit without a basis');
  await waitUntil(async () => (await localGet(ui, `/api/visits?household=${household.id}`)).visits.some((v) => v.id === oldVisit),
    { what: 'the old visit on ann\'s tablet' });

  tab = await openApp(ui, SIZES[1], `#/visit?id=${oldVisit}&household=${encodeURIComponent(household.id)}`);
  try {
    const { page } = tab;
    await byTestId(page, 'save-visit').waitFor({ state: 'visible', ...T });
    // The history under the form: the new visit's basis in words, the old one's not recorded.
    const savedRow = page.locator(`[data-testid="visit-row"][data-visit-id="${saved.id}"]`);
    assert.equal(await savedRow.getByTestId('visit-row-basis').getAttribute('data-value', T), 'consent');
    assert.match(await savedRow.getByTestId('visit-row-basis').textContent(T), /Resident consents to sharing/);
    const oldRow = page.locator(`[data-testid="visit-row"][data-visit-id="${oldVisit}"]`);
    assert.match(await oldRow.getByTestId('visit-row-basis').textContent(T), /not recorded/);

    await byTestId(page, 'share-basis-field').waitFor({ state: 'visible', ...T });
    assert.equal(await byTestId(page, 'referral-health').getAttribute('aria-pressed', T), 'true');
    assert.equal(await byTestId(page, 'share-basis').getAttribute('data-value', T), '', 'no basis is chosen');
    assert.deepEqual(await layoutProblems(page, 'the lawful basis (landscape)',
      ['share-basis-consent', 'share-basis-vital_interests', 'share-basis-safeguarding']), []);
    await click(page, 'save-visit');
    await byTestId(page, 'save-errors').waitFor({ state: 'visible', ...T });
    assert.equal((await byTestId(page, 'field-error-share_basis').textContent(T)).trim(), expected);
    await click(page, 'share-basis-safeguarding');
    assert.equal(await byTestId(page, 'share-basis').getAttribute('data-value', T), 'safeguarding');
    // Choosing one takes the error away (the live validation agrees).
    await page.waitForFunction(() => document.querySelector('[data-testid="field-error-share_basis"]')?.textContent === '', null, T);
  } finally {
    await closePage(tab);
  }
  // (The app saves changes only to visits made on this tablet: the CLI's and the store's tests,
  // and e2e/field_clients_test, save such an edit with its basis.)
  const untouched = (await localGet(ui, `/api/visits?household=${household.id}`)).visits.find((v) => v.id === oldVisit);
  assert.equal(untouched.data.share_basis, undefined, 'nothing was saved without a basis');
});

// Why: issue 15 asks the resident how safe they feel, how satisfied they were, and for their
// feedback, on the tablet, with the server's questions (a new server's three here): big radio
// buttons for the scales, a counted text, errors beside the field, and the answers saved.
test('12. feedback: the server\'s questions are asked, checked beside the field, and saved with the visit', async () => {
  const ui = tablets.ann.ui;
  assert.ok(ui, "test 1 started ann's app");
  const household = (await localGet(ui, '/api/households')).households.find((h) => h.address === FIELD_HOUSEHOLDS.ann.address);
  assert.ok(household, `${FIELD_HOUSEHOLDS.ann.address} is on ann's tablet`);
  const visitsBefore = (await localGet(ui, `/api/visits?household=${household.id}`)).visits;
  const questions = (await localGet(ui, '/api/reference')).questions.map((q) => q.id);
  assert.deepEqual(questions, ['feels_safe', 'satisfaction', 'feedback'], 'the server sent its questions in welcome');

  const tab = await openApp(ui, SIZES[0], `#/visit?household=${encodeURIComponent(household.id)}`);
  try {
    const { page } = tab;
    await byTestId(page, 'feedback-block').waitFor({ state: 'visible', ...T });
    assert.equal(await byTestId(page, 'answer-feels_safe').getAttribute('role', T), 'radiogroup');
    assert.equal(await page.getByRole('radiogroup', { name: 'How safe does the resident feel at home?' }).count(), 1);
    const scaleButtons = [1, 2, 3, 4, 5].map((v) => `answer-feels_safe-${v}`);
    assert.deepEqual(await layoutProblems(page, 'the feedback scale (portrait)', scaleButtons), []);
    await click(page, 'status-completed');
    await click(page, 'answer-feels_safe-4');
    assert.equal(await byTestId(page, 'answer-feels_safe-4').getAttribute('aria-checked', T), 'true');
    await page.keyboard.press('ArrowRight');
    assert.equal(await byTestId(page, 'answer-feels_safe-5').getAttribute('aria-checked', T), 'true', 'arrow keys choose');
    await click(page, 'answer-satisfaction-5');

    // Over 500 characters: the count says so, and the error shows beside the question.
    await byTestId(page, 'answer-feedback').fill('x'.repeat(501), T);
    await waitForValue(page, 'answer-feedback-count', '501');
    await byTestId(page, 'field-error-answers.feedback').waitFor({ state: 'visible', ...T });
    assert.match(await byTestId(page, 'field-error-answers.feedback').textContent(T), /at most 500 characters/);
    await click(page, 'save-visit');
    await byTestId(page, 'save-errors').waitFor({ state: 'visible', ...T });
    assert.equal(await byTestId(page, 'visit-saved').count(), 0);

    await byTestId(page, 'answer-feedback').fill('Fictional: glad of the visit', T);
    await click(page, 'save-visit');
    await byTestId(page, 'visit-saved').waitFor({ state: 'visible', ...T });
  } finally {
    await closePage(tab);
  }
  const saved = (await localGet(ui, `/api/visits?household=${household.id}`)).visits
    .find((v) => !visitsBefore.some((before) => before.id === v.id));
  assert.ok(saved, 'the visit was saved');
  assert.deepEqual(saved.data.answers, { feels_safe: 5, satisfaction: 5, feedback: 'Fictional: glad of the visit' });
});
