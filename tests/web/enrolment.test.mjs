// Enrolling a tablet without a shell (issue 16 §1), in Debian's headless Chromium against the
// real sync-server and field-client binaries on 127.0.0.1: the coordinator makes an enrolment
// code on the dashboard; its QR code, read back from a screenshot, holds the server address
// and the code shown beside it; the tablet's app (a fresh store) opens on its enrolment page,
// where the test types the code (headless Chromium has no camera), chooses a PIN, and records
// a visit that reaches the server. A used code, a mistyped one and a PIN too short are refused
// with their reasons; the enrolments are in the audit trail.
//
// Run: node --test --test-timeout=240000 tests/web/enrolment.test.mjs
// (ctest sets SYNC_SERVER, FIELD_CLIENT and ARTIFACTS_DIR; see tests/CMakeLists.txt.)

import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

import {
  SYNC_SERVER, ARTIFACTS_DIR, WAIT_MS,
  checkPrerequisites, makeTempDir, ensureDir, run, api, apiGet, launchBrowser, startServer, startTabletUi,
  signedInDashboard, closePage, newPageAt, waitUntil, tearDown,
} from './support.mjs';

const T = { timeout: WAIT_MS };
const COORDINATOR = { username: 'coord.eve', password: 'enrolment test passphrase' };
const PIN = '482916';
const SIZE = { width: 800, height: 1280 };

let dir;
let server;
let browser;
let dashboard;
let coordinatorToken;
const processes = [];
const startedAt = Date.now();

before(async () => {
  checkPrerequisites();
  ensureDir(ARTIFACTS_DIR);
  dir = makeTempDir('safer-streets-enrolment-');
  const db = join(dir, 'server.db');
  run(SYNC_SERVER, ['add-coordinator', '--db', db, '--username', COORDINATOR.username], { input: `${COORDINATOR.password}\n` });
  coordinatorToken = run(SYNC_SERVER, ['enroll', '--db', db, '--device', 'laptop-eve', '--user', 'coord.eve', '--role', 'coordinator'])
    .stdout.split('\n')[0].trim();
  server = await startServer(db, join(ARTIFACTS_DIR, 'enrolment-sync-server.log'));
  browser = await launchBrowser();
  dashboard = await signedInDashboard(browser, server.base, '#/devices', COORDINATOR.username, COORDINATOR.password);
});

after(async () => {
  for (const child of processes) await child.stop();
  if (dashboard) await closePage(dashboard);
  await tearDown({ browser, server, dir, name: 'enrolment.test.mjs', startedAt });
});

/** Makes a code on the dashboard's "Enrol a device"; {code, server, payload (read from the QR code)}. */
async function makeCode(device, user) {
  const { page } = dashboard;
  await page.getByTestId('enrol-device-id').fill(device, T);
  await page.getByTestId('enrol-user-id').fill(user, T);
  await page.getByTestId('enrol-role').selectOption('officer', T);
  await page.getByTestId('enrol-submit').click(T);
  const box = page.getByTestId('enrol-code-box');
  await box.waitFor({ state: 'visible', ...T });
  const code = (await page.getByTestId('enrol-code').textContent(T)).trim();
  const serverUrl = (await page.getByTestId('enrol-code-server').textContent(T)).trim();
  const shot = PNG.sync.read(await page.getByTestId('enrol-qr').screenshot(T));
  const read = jsQR(new Uint8ClampedArray(shot.data), shot.width, shot.height);
  assert.ok(read, 'the QR code on the dashboard can be read');
  await page.getByTestId('enrol-code-done').click(T);
  return { code, server: serverUrl, payload: read.data };
}

/** The tablet app on a fresh store, opened in a page at its launch address. */
async function freshTablet(name) {
  const store = join(dir, `${name}.db`);
  const ui = await startTabletUi(store, join(ARTIFACTS_DIR, `enrolment-ui-${name}.log`),
    ['--sync-interval', '0.5', '--retry-base', '0.2', '--max-backoff', '1']);
  processes.push(ui);
  const opened = await newPageAt(browser, SIZE);
  await opened.page.goto(ui.url, T);
  return { store, ui, ...opened };
}

/** Types the address, the code and the PIN twice, each found by its label, as a screen reader would. */
async function typeEnrolment(page, { server: serverUrl, code, pin = PIN, pinAgain = pin }) {
  await page.getByLabel('Server address').fill(serverUrl, T);
  await page.getByLabel('Enrolment code').fill(code, T);
  await page.getByLabel('PIN (at least 6 digits)').fill(pin, T);
  await page.getByLabel('The same PIN again').fill(pinAgain, T);
  await page.getByTestId('enrol-submit').click(T);
}

test('the QR code holds the server and the code shown beside it; the code is short and one of a kind', async () => {
  const first = await makeCode('tablet-qr', 'officer.quin');
  assert.match(first.code, /^[2-9A-HJKMNP-TV-Z]{5}-[2-9A-HJKMNP-TV-Z]{5}$/);
  assert.equal(first.server, server.ws);
  const parsed = new URL(first.payload);
  assert.equal(parsed.protocol, 'safer-streets:');
  assert.equal(parsed.searchParams.get('server'), server.ws);
  assert.equal(parsed.searchParams.get('code'), first.code);
  const second = await makeCode('tablet-qr', 'officer.quin');
  assert.notEqual(second.code, first.code);
  // No token on the dashboard's page, nor in the answer it was drawn from.
  assert.doesNotMatch(await dashboard.page.content(), /sst_/);
});

test('a new tablet is enrolled from the code to its first synced visit, without a shell', async () => {
  const used = await makeCode('tablet-old', 'officer.olly');
  // Someone else's tablet took this code first.
  const taken = await api(server.base, null, '/api/v1/enrolment', { method: 'POST', json: { code: used.code } });
  assert.equal(taken.status, 200);

  const good = await makeCode('tablet-new', 'officer.nia');
  const tablet = await freshTablet('nia');
  const { page } = tablet;
  try {
    await page.getByTestId('enrol-page').waitFor({ state: 'visible', ...T });
    assert.equal(await page.locator('#app-nav').isVisible(), false, 'nothing of the app shows before enrolment');
    assert.equal(await page.getByTestId('sync-banner').isVisible(), false, 'no sync banner before enrolment');

    // A PIN too short, and two PINs that differ, are refused on the page: nothing is sent.
    await typeEnrolment(page, { ...good, pin: '123' });
    await page.getByTestId('field-error-pin').filter({ hasText: 'at least 6' }).waitFor({ state: 'visible', ...T });
    await typeEnrolment(page, { ...good, pinAgain: '000000' });
    await page.getByTestId('field-error-pin_again').filter({ hasText: 'not the same' }).waitFor({ state: 'visible', ...T });
    // A mistyped code (an O for a 0 is not in the alphabet either): said beside the code.
    await typeEnrolment(page, { ...good, code: 'ABCDE-FGHJ' });
    await page.getByTestId('field-error-code').filter({ hasText: '10 letters and digits' }).waitFor({ state: 'visible', ...T });
    // A code already used: the server's reason, beside the code.
    await typeEnrolment(page, { server: good.server, code: used.code });
    await page.getByTestId('field-error-code').filter({ hasText: 'already been used' }).waitFor({ state: 'visible', ...T });
    // A code that was never issued.
    await typeEnrolment(page, { server: good.server, code: 'ZZZZZ-ZZZZZ' });
    await page.getByTestId('field-error-code').filter({ hasText: 'no such enrolment code' }).waitFor({ state: 'visible', ...T });

    // The right one, typed in lower case with a space, as an officer might.
    await typeEnrolment(page, { server: good.server, code: good.code.toLowerCase().replace('-', ' ') });
    // The PIN's key is derived with scrypt (128 MiB) before the store is encrypted: a second or two.
    await page.locator('#main [data-page="today"]').waitFor({ state: 'attached', timeout: 30_000 });
    assert.equal(await page.locator('#app-nav').isVisible(), true);
    assert.match(await page.getByTestId('app-user').textContent(T), /officer\.nia/);
    assert.ok(existsSync(`${tablet.store}.key`), 'the PIN chose at enrolment encrypts the store');
    const status = (await api(tablet.ui.base, null, '/api/status', { headers: { 'X-Field-Client-Key': tablet.ui.key } })).data;
    assert.equal(status.enrolled, true);
    assert.equal(status.device_id, 'tablet-new');
    assert.equal(status.pin_set, true);

    // The code is spent: a second tablet cannot use it.
    const again = await api(server.base, null, '/api/v1/enrolment', { method: 'POST', json: { code: good.code } });
    assert.equal(again.status, 410);
    assert.equal(again.data.code, 'used');

    // The first visit: a household found in the field, a completed visit, synced.
    await page.getByTestId('add-household-jump').click(T);
    await page.getByTestId('add-address').fill('3 Quince Court', T);
    await page.getByTestId('add-postcode').fill('WD6 2QB', T);
    await page.getByTestId('add-ward').selectOption('Elstree', T);
    await page.getByTestId('add-submit').click(T);
    await page.getByTestId('add-household-saved').waitFor({ state: 'visible', ...T });
    await page.getByTestId('add-household-record').click(T);
    await page.getByTestId('status-completed').click(T);
    await page.getByTestId('save-visit').click(T);
    await page.getByTestId('visit-saved').waitFor({ state: 'visible', ...T });
    await waitUntil(async () => (await apiGet(server.base, coordinatorToken, '/api/v1/stats')).visits.total === 1,
      { timeoutMs: 15_000, what: 'the visit to reach the server' });
    const devices = await apiGet(server.base, coordinatorToken, '/api/v1/devices');
    const enrolled = devices.devices.find((device) => device.device_id === 'tablet-new');
    assert.equal(enrolled.user_id, 'officer.nia');
  } finally {
    await closePage(tablet);
  }

  // Audited: each code made, by whom, and each enrolment by code, from where.
  const audit = await dashboard.page.evaluate(async () => (await fetch('/api/v1/audit?limit=100')).json());
  const entries = audit.entries.filter((entry) => entry.device === 'tablet-new');
  assert.ok(entries.some((entry) => entry.action === 'enrolment_code' && entry.actor === 'coord.eve'), JSON.stringify(entries));
  assert.ok(entries.some((entry) => entry.action === 'enroll' && entry.via === 'enrolment_code' && /by_code/.test(entry.detail)),
    JSON.stringify(entries));
});
