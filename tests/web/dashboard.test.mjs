// Browser tests of the coordinator dashboard (/dashboard/) in Debian's headless Chromium,
// driven by playwright-core, against the real sync-server and field-client binaries.
//
// One server and one browser serve the whole file; the tests run in order and later ones
// build on the data of earlier ones (each test keeps `visits` and the register up to date).
//
// Run: node --test --test-timeout=120000 tests/web/dashboard.test.mjs
// (ctest sets SYNC_SERVER, FIELD_CLIENT and ARTIFACTS_DIR; see tests/CMakeLists.txt.)

import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

import {
  LABELS, SYNC_SERVER, FIELD_CLIENT, ARTIFACTS_DIR, WAIT_MS,
  checkPrerequisites, makeTempDir, ensureDir, run, runAsync, runOk,
  startServer, api, apiGet, launchBrowser, newPage, parseCsv, csvText, pushVisitsRaw, waitUntil, closePage, tearDown,
} from './support.mjs';

const { OUTCOME_LABELS, SHARE_BASIS_LABELS } = LABELS;

// ---------------------------------------------------------------------------------------------
// Fictional seed data

const PASSWORD = 'a long password 123';
const COORDINATOR = 'cat';

const hid = (n) => `0b5e1a7c-0000-4000-8000-${String(n).padStart(12, '0')}`;
const vid = (n) => `5a1e0000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const HOUSEHOLD_HEADER = ['id', 'address', 'postcode', 'ward', 'target', 'assigned_to'];
const HOUSEHOLDS = [
  { id: hid(1), address: '1 Acacia Avenue', postcode: 'WD6 1AA', ward: 'Elstree', target: true, assigned_to: 'officer.ann' },
  { id: hid(2), address: '3 Birch Close', postcode: 'WD6 2BB', ward: 'Elstree', target: true, assigned_to: 'officer.ann' },
  { id: hid(3), address: '5 Cedar Road', postcode: 'EN6 1DA', ward: 'Potters Bar Oakmere', target: true, assigned_to: 'officer.ann' },
  { id: hid(4), address: '7 Damson Way', postcode: 'EN6 2DD', ward: 'Potters Bar Oakmere', target: false, assigned_to: null },
  { id: hid(5), address: '9 Elm Grove', postcode: 'WD23 1EE', ward: 'Bushey Heath', target: true, assigned_to: null },
  { id: hid(6), address: 'Flat 2, 11 Fir Drive', postcode: 'WD7 9FF', ward: 'Shenley', target: false, assigned_to: 'officer.ann' },
];

// Visits recorded by officer.ann's tablet. November 2026 is GMT, so UTC dates are local dates.
// Notes exercise the export's quoting (quote, comma, line break) and its formula guard.
const SEED_VISITS = [
  { id: vid(1), household: hid(1), status: 'completed', at: '2026-11-20T10:00:00Z', flags: ['--fire-safety-check'], smoke: 2 },
  { id: vid(2), household: hid(2), status: 'no_answer', at: '2026-11-18T14:00:00Z', flags: [] },
  { id: vid(3), household: hid(3), status: 'completed', at: '2026-11-05T11:30:00Z', flags: ['--crime-prevention-advice', '--fire-safety-check'], smoke: 1 },
  { id: vid(4), household: hid(2), status: 'declined', at: '2026-10-15T09:30:00Z', flags: [] },
  {
    id: vid(5), household: hid(6), status: 'completed', at: '2026-11-21T15:45:00Z',
    flags: ['--follow-up-required', '--follow-up-due', '2026-11-28'],
    notes: 'Resident said "call back, after 6pm"\nSide door only',
  },
  {
    id: vid(6), household: hid(1), status: 'rescheduled', at: '2026-11-23T09:00:00Z', flags: ['--rescheduled-for', '2026-11-30T10:00'],
    notes: '=2 alarms tested',
  },
];
const NOVEMBER = { from: '2026-11-01', to: '2026-11-30' };

const VISITS_HEADER = ['id', 'visited_at', 'local_date', 'status', 'household_id', 'address', 'postcode', 'ward', 'vulnerability',
  'crime_prevention_advice', 'fire_safety_check', 'healthy_lifestyle_advice', 'community_involvement_info',
  'first_aid_training', 'follow_up_required', 'smoke_detectors_fitted', 'referrals', 'share_basis', 'follow_up_due',
  'rescheduled_for', 'notes', 'recorded_by',
  // then one column per question of the server (protocol.md §5.8): a new server's three
  'answer_feels_safe', 'answer_satisfaction', 'answer_feedback'];

// ---------------------------------------------------------------------------------------------
// Shared state

let dir;
let db;
let server;
let browser;
let coordinatorToken;
let annStore;
let bobStore;
/** Every visit pushed so far ({id, status, notes}); the export must list exactly these. */
const visits = [];
const startedAt = Date.now();

const householdsCsv = (rows) => csvText([HOUSEHOLD_HEADER,
  ...rows.map((r) => [r.id ?? '', r.address, r.postcode, r.ward, r.target ? '1' : '0', r.assigned_to ?? ''])]);

function fieldClient(store, ...args) {
  return runOk(FIELD_CLIENT, ['--store', store, ...args]);
}

async function recordVisit(store, visit) {
  const args = ['visit', 'record', '--id', visit.id, '--household', visit.household, '--status', visit.status,
    '--at', visit.at, ...visit.flags];
  if (visit.smoke !== undefined) args.push('--smoke-detectors', String(visit.smoke));
  if (visit.notes !== undefined) args.push('--notes', visit.notes);
  await fieldClient(store, ...args);
  visits.push({ id: visit.id, status: visit.status, notes: visit.notes ?? '' });
}

/** A page signed in as the coordinator through the sign-in form, showing `hash`. */
async function signedInPage(hash = '#/overview') {
  const opened = await newPage(browser);
  const { page } = opened;
  await page.goto(`${server.base}/dashboard/${hash}`);
  await signIn(page);
  await page.locator('#site-nav').waitFor({ state: 'visible', timeout: WAIT_MS });
  return opened;
}

async function signIn(page, password = PASSWORD) {
  await page.getByTestId('login-username').fill(COORDINATOR, { timeout: WAIT_MS });
  await page.getByTestId('login-password').fill(password, { timeout: WAIT_MS });
  await page.getByTestId('login-submit').click({ timeout: WAIT_MS });
}

/** Waits until the overview shows data for the given range (from/to: '' for all time). */
async function waitForOverview(page, { from = '', to = '' } = {}) {
  await page.waitForFunction(([f, t]) => {
    const body = document.querySelector('[data-testid="overview"]');
    return body && !body.hidden && body.dataset.from === f && body.dataset.to === t &&
      !body.classList.contains('is-stale');
  }, [from, to], { timeout: WAIT_MS });
}

const dataValue = (page, testid) => page.getByTestId(testid).getAttribute('data-value', { timeout: WAIT_MS });

// ---------------------------------------------------------------------------------------------
// Setup and teardown

before(async () => {
  checkPrerequisites();
  ensureDir(ARTIFACTS_DIR);
  dir = makeTempDir();
  db = join(dir, 'sync-server.db');

  // The register, the coordinator's login, and the devices.
  const csvFile = join(dir, 'households.csv');
  writeFileSync(csvFile, householdsCsv(HOUSEHOLDS));
  run(SYNC_SERVER, ['import-households', '--db', db, csvFile]);
  run(SYNC_SERVER, ['add-coordinator', '--db', db, '--username', COORDINATOR], { input: `${PASSWORD}\n` });
  const enroll = (device, user, role) =>
    run(SYNC_SERVER, ['enroll', '--db', db, '--device', device, '--user', user, '--role', role]).stdout.split('\n')[0].trim();
  const annToken = enroll('tablet-ann', 'officer.ann', 'officer');
  const bobToken = enroll('tablet-bob', 'officer.bob', 'officer');
  coordinatorToken = enroll('laptop-cat', COORDINATOR, 'coordinator');
  assert.match(annToken, /^\S{20,}$/);
  assert.match(coordinatorToken, /^\S{20,}$/);

  server = await startServer(db, join(ARTIFACTS_DIR, 'web-sync-server.log'));

  // officer.ann's tablet: enrol, pull the register, record the visits, push them.
  annStore = join(dir, 'tablet-ann.db');
  await fieldClient(annStore, 'enroll', '--server', server.ws, '--token', annToken, '--device', 'tablet-ann');
  await fieldClient(annStore, 'sync');
  for (const visit of SEED_VISITS) await recordVisit(annStore, visit);
  await fieldClient(annStore, 'commute', 'log', '--station', 'Potters Bar', '--cards', '25', '--message', 'vehicle_security',
    '--started-at', '2026-11-19T07:00:00Z', '--ended-at', '2026-11-19T09:00:00Z');
  await fieldClient(annStore, 'sync');

  // officer.bob's tablet syncs fine before it is revoked (test 6).
  bobStore = join(dir, 'tablet-bob.db');
  await fieldClient(bobStore, 'enroll', '--server', server.ws, '--token', bobToken, '--device', 'tablet-bob');
  await fieldClient(bobStore, 'sync');

  // The server holds what was pushed.
  const overview = await apiGet(server.base, coordinatorToken, '/api/v1/overview');
  assert.equal(overview.stats.visits.total, SEED_VISITS.length, 'every seeded visit reached the server');

  browser = await launchBrowser();
});

after(() => tearDown({ browser, server, dir, name: 'web dashboard tests', startedAt }));

// ---------------------------------------------------------------------------------------------
// 1

// Why: the sign-in form is the only way in; it must show the API's own error for a wrong
// password (not a generic one, and without leaving the page) and then let the right one in.
test('1. sign in through the form: a wrong password shows the API error, the right one the overview', async () => {
  // The API's answer for wrong credentials (asked with another username, so that it does not
  // count towards cat's lock-out).
  const refused = await api(server.base, null, '/api/v1/session', {
    method: 'POST', json: { username: 'nobody.here', password: 'not the password' },
  });
  assert.equal(refused.status, 401);
  const apiMessage = refused.data.error;
  assert.ok(apiMessage, 'the API explains a refused sign-in');

  const opened = await newPage(browser);
  const { page } = opened;
  try {
    await page.goto(`${server.base}/dashboard/`);
    await page.getByTestId('login-username').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal(await page.locator('#site-nav').isVisible(), false, 'no navigation before signing in');

    await signIn(page, 'not the password');
    const error = page.getByTestId('login-error');
    await error.filter({ hasText: apiMessage }).waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal((await error.textContent()).trim(), apiMessage);
    assert.equal(await page.getByTestId('login-password').inputValue(), '', 'the wrong password is cleared');
    assert.equal(await page.locator('[data-testid="overview"]').count(), 0);

    await signIn(page);
    await waitForOverview(page);
    assert.equal(await page.getByTestId('session-user').textContent(), COORDINATOR);
    assert.equal(await page.locator('main h1').textContent(), 'Overview');
    assert.equal(new URL(page.url()).hash, '#/overview');
    assert.match(await page.title(), /^Overview — /);
    assert.equal(await page.getByTestId('login-error').count(), 0, 'the sign-in form is gone');
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 2

// Why: the figures coordinators report to the partnership must be the server's figures for the
// chosen range, not something the page recomputes or rounds wrongly. Also keeps a screenshot
// of the rendered overview for people to look at.
test('2. the overview shows the API figures for the seeded data and range', async () => {
  const expected = await apiGet(server.base, coordinatorToken, `/api/v1/overview?from=${NOVEMBER.from}&to=${NOVEMBER.to}`);
  const allTime = await apiGet(server.base, coordinatorToken, '/api/v1/overview');
  // The range matters: the October visit is left out of November.
  assert.equal(expected.stats.visits.total, SEED_VISITS.length - 1);
  assert.equal(allTime.stats.visits.total, SEED_VISITS.length);

  const opened = await signedInPage(`#/overview?from=${NOVEMBER.from}&to=${NOVEMBER.to}`);
  const { page } = opened;
  try {
    await waitForOverview(page, NOVEMBER);
    const { stats } = expected;

    const figures = {
      'visits-total': stats.visits.total,
      'visits-completed': stats.visits.by_status.completed,
      'households-target': stats.households.target,
      'households-visited': stats.households.visited,
      'households-reached': stats.households.reached,
      'cards-total': stats.commute_aware.cards_distributed,
      'smoke-detectors-fitted': stats.outcomes.smoke_detectors_fitted,
      'commute-sessions': stats.commute_aware.sessions,
      'referred-visits': stats.referrals.visits,
    };
    for (const [testid, value] of Object.entries(figures)) {
      assert.equal(Number(await dataValue(page, testid)), value, `${testid} data-value`);
      assert.equal((await page.getByTestId(testid).textContent()).trim(), value.toLocaleString('en-GB'), `${testid} text`);
    }
    assert.equal(Number(await dataValue(page, 'coverage')), stats.households.coverage, 'coverage data-value');
    const percent = `${(stats.households.coverage * 100).toLocaleString('en-GB', { maximumFractionDigits: 1 })}%`;
    assert.equal((await page.getByTestId('coverage').textContent()).trim(), percent);

    // Sanity of the seed itself: numbers we can work out by hand.
    assert.equal(stats.visits.by_status.completed, 3);
    assert.equal(stats.outcomes.smoke_detectors_fitted, 3);
    assert.equal(stats.commute_aware.cards_distributed, 25);
    assert.equal(stats.households.target, 4);
    assert.ok(stats.households.reached >= stats.households.visited, 'reached counts target households and others');

    // Commute Aware messages: a row per message, with the API's sessions and card holders, and a
    // column per station.
    const messageRows = await page.getByTestId('message-row').evaluateAll((trs) => trs.map((tr) => ({
      message: tr.dataset.message,
      sessions: Number(tr.cells[1].dataset.value),
      cards: Number(tr.cells[2].dataset.value),
      pottersBar: Number(tr.querySelector('[data-station="Potters Bar"]').dataset.value),
    })));
    assert.deepEqual(messageRows, Object.entries(stats.commute_aware.messages).map(([message, count]) => ({
      message, sessions: count.sessions, cards: count.cards,
      pottersBar: stats.commute_aware.messages_by_station['Potters Bar'][message].cards,
    })));
    assert.deepEqual(stats.commute_aware.messages.vehicle_security, { sessions: 1, cards: 25 });

    // Households visited by vulnerability: a row per group, with the API's numbers.
    const groupRows = await page.getByTestId('vulnerability-row').evaluateAll((trs) => trs.map((tr) => ({
      group: tr.dataset.group, households: Number(tr.cells[1].dataset.value), visits: Number(tr.cells[2].dataset.value),
    })));
    assert.deepEqual(groupRows, Object.entries(stats.households.by_vulnerability).map(([group, count]) => ({
      group, households: count.households, visits: count.completed_visits,
    })));
    assert.equal(stats.households.by_vulnerability.none_recorded.households, stats.households.reached,
      'the seeded register records no vulnerability');

    // Ward rows: one per ward, in the API's order, with its numbers.
    const rows = await page.getByTestId('ward-row').evaluateAll((trs) => trs.map((tr) => {
      const cell = (id) => tr.querySelector(`[data-testid="${id}"]`);
      return {
        ward: tr.dataset.ward,
        name: cell('ward-name').textContent,
        target: Number(cell('ward-target').dataset.value),
        visited: Number(cell('ward-visited').dataset.value),
        coverage: Number(cell('ward-coverage').dataset.value),
        visits: Number(cell('ward-visits').dataset.value),
      };
    }));
    assert.deepEqual(rows, expected.coverage_by_ward.map((w) => ({
      ward: w.ward, name: w.ward, target: w.target, visited: w.visited, coverage: w.coverage,
      visits: expected.stats.visits.by_ward[w.ward] ?? 0,
    })));
    const elstree = rows.find((r) => r.ward === 'Elstree');
    assert.deepEqual([elstree.target, elstree.visited, elstree.visits], [2, 1, 3]);

    // Each outcome is named as the one table shared with the tablet names it (tablet.test.mjs
    // checks the visit form's toggles against the same table).
    const outcomeNames = await page.getByTestId('outcome-row').evaluateAll((trs) => trs.map((tr) => [tr.dataset.outcome, tr.cells[0].textContent]));
    assert.equal(outcomeNames.length, Object.keys(OUTCOME_LABELS).length);
    for (const [code, text] of outcomeNames) {
      assert.ok(text.startsWith(OUTCOME_LABELS[code]), `outcome ${code}: "${text}" is not "${OUTCOME_LABELS[code]}"`);
    }

    // A full-page screenshot at 1280 wide, once the charts have been drawn.
    await page.waitForFunction(() => [...document.querySelectorAll('canvas[role="img"]')]
      .every((c) => c.width > 0 && !/: loading$/.test(c.getAttribute('aria-label') || '')), null, { timeout: WAIT_MS });
    await page.waitForTimeout(300);
    const shot = join(ARTIFACTS_DIR, 'dashboard-overview.png');
    await page.screenshot({ path: shot, fullPage: true, timeout: WAIT_MS });
    assert.ok(existsSync(shot));
    const png = readFileSync(shot);
    assert.equal(png.readUInt32BE(16), 1280, 'the screenshot is 1280 pixels wide');
    assert.ok(png.readUInt32BE(20) > 900, 'the screenshot is of the full page');
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 3

// Why: the overview is left open on a screen in the office; a visit synced from a tablet must
// show up by itself (the page polls /api/v1/version) without anyone reloading it.
test('3. live: a visit synced from a tablet updates the open overview without a reload', async () => {
  const opened = await signedInPage('#/overview');
  const { page } = opened;
  try {
    await waitForOverview(page);
    const before = Number(await dataValue(page, 'visits-total'));
    const visitedBefore = Number(await dataValue(page, 'households-visited'));
    assert.equal(before, visits.length);
    await page.evaluate(() => { window.__sameDocument = 'still here'; });

    const pushedAt = Date.now();
    // A completed visit to 3 Birch Close, which had only no_answer and declined visits.
    await recordVisit(annStore, { id: vid(7), household: hid(2), status: 'completed', at: 'now', flags: ['--first-aid-training'] });
    await fieldClient(annStore, 'sync');

    await page.waitForFunction((n) => document.querySelector('[data-testid="visits-total"]')?.dataset.value === String(n),
      before + 1, { timeout: 10_000 });
    const seconds = (Date.now() - pushedAt) / 1000;
    assert.ok(seconds <= 10, `updated within 10 s (took ${seconds.toFixed(1)} s)`);
    assert.equal(await page.evaluate(() => window.__sameDocument), 'still here', 'the page did not reload');
    assert.equal((await page.getByTestId('visits-total').textContent()).trim(), String(before + 1));
    assert.equal(Number(await dataValue(page, 'households-visited')), visitedBefore + 1);
    assert.match(await page.getByTestId('live-status').textContent(), /Last updated at/);
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 4

// Why: coordinators maintain the register by uploading spreadsheets; a bad row must be reported
// by its line number (so it can be found in the file) with nothing imported, and a good file
// must be imported and listed.
test('4. register: a CSV with bad rows is refused line by line; a good one is imported and listed', async () => {
  const totalBefore = (await apiGet(server.base, coordinatorToken, '/api/v1/households?limit=1')).total;
  const bad = householdsCsv([
    { address: '21 Hazel Street', postcode: 'WD6 3HH', ward: 'Elstree', target: true },
    { address: '23 Hazel Street', postcode: 'NOT A POSTCODE', ward: 'Elstree', target: true }, // line 3
    { address: '25 Hazel Street', postcode: 'WD6 3HJ', ward: 'Elstree', target: false },
    { address: '27 Hazel Street', postcode: 'WD6 3HL', ward: 'Atlantis', target: false }, // line 5
  ]);
  const newHouseholds = [
    { address: '31 Juniper Court', postcode: 'WD6 4JJ', ward: 'Elstree', target: true, assigned_to: 'officer.ann' },
    { address: 'Flat 1, "Kestrel House", 2 Larch Road', postcode: 'EN6 3LB', ward: 'Potters Bar Oakmere', target: true },
    { address: '35 Maple Mews', postcode: 'WD23 2NN', ward: 'Bushey Heath', target: false },
  ];
  const good = householdsCsv(newHouseholds);

  // What the API says about the bad file (with the bearer token; nothing is imported either way).
  const refused = await api(server.base, coordinatorToken, '/api/v1/households/import', {
    method: 'POST', text: bad, contentType: 'text/csv',
  });
  assert.equal(refused.status, 400);
  assert.deepEqual(refused.data.problems.map((p) => p.line), [3, 5]);

  const opened = await signedInPage('#/register');
  const { page } = opened;
  try {
    const total = page.getByTestId('households-total');
    await page.waitForFunction((n) => document.querySelector('[data-testid="households-total"]')?.dataset.value === String(n),
      totalBefore, { timeout: WAIT_MS });

    await page.getByTestId('import-file').setInputFiles({ name: 'bad-households.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) }, { timeout: WAIT_MS });
    await page.getByTestId('import-submit').click();
    await page.getByTestId('import-problems').waitFor({ state: 'visible', timeout: WAIT_MS });
    const problems = await page.getByTestId('import-problem').allTextContents();
    assert.deepEqual(problems, refused.data.problems.map((p) => `Line ${p.line}: ${p.message}`));
    assert.match(problems[0], /^Line 3: /);
    assert.match(problems[1], /^Line 5: /);
    assert.match(await page.getByTestId('import-problems').textContent(), /Nothing was imported/);
    assert.equal((await apiGet(server.base, coordinatorToken, '/api/v1/households?limit=1')).total, totalBefore,
      'nothing of the bad file was imported');

    await page.getByTestId('import-file').setInputFiles({ name: 'new-households.csv', mimeType: 'text/csv', buffer: Buffer.from(good) }, { timeout: WAIT_MS });
    await page.getByTestId('import-submit').click();
    const success = page.getByTestId('import-success');
    await success.waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal(await success.getAttribute('data-value'), String(newHouseholds.length));
    assert.equal((await success.textContent()).trim(), `Imported ${newHouseholds.length} households from new-households.csv.`);
    assert.equal(await page.getByTestId('import-problems').count(), 0);

    // The list reloads with the new households.
    const totalAfter = totalBefore + newHouseholds.length;
    await page.waitForFunction((n) => document.querySelector('[data-testid="households-total"]')?.dataset.value === String(n),
      totalAfter, { timeout: WAIT_MS });
    assert.match(await total.textContent(), new RegExp(`of ${totalAfter} households`));
    const listed = await page.getByTestId('household-row').evaluateAll((trs) => trs.map((tr) => ({
      address: tr.cells[0].textContent, postcode: tr.cells[1].textContent, ward: tr.cells[2].textContent,
      target: tr.cells[3].dataset.value, assigned: tr.querySelector('[data-testid="household-assigned"]').textContent,
    })));
    assert.equal(listed.length, totalAfter);
    for (const h of newHouseholds) {
      assert.deepEqual(listed.find((row) => row.address === h.address), {
        address: h.address, postcode: h.postcode, ward: h.ward, target: String(h.target),
        assigned: h.assigned_to ?? 'Not assigned',
      }, `${h.address} is listed`);
    }
    const fromApi = await apiGet(server.base, coordinatorToken, '/api/v1/households?limit=100');
    assert.equal(fromApi.total, totalAfter);
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 5

// Why: the CSV export is how the partnership's figures leave the system; it must download from
// the page with the session cookie and hold exactly the synced visits, as valid RFC 4180.
test('5. exports: visits.csv downloads from the page and holds exactly the synced visits', async () => {
  const opened = await signedInPage('#/exports');
  const { page } = opened;
  try {
    const link = page.getByTestId('export-visits');
    await link.waitFor({ state: 'visible', timeout: WAIT_MS });
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: WAIT_MS }),
      link.click({ timeout: WAIT_MS }),
    ]);
    assert.equal(download.suggestedFilename(), 'visits.csv');
    assert.equal(await download.failure(), null);
    const saved = join(ARTIFACTS_DIR, 'dashboard-visits.csv');
    await download.saveAs(saved);
    const text = readFileSync(saved, 'utf8');

    const records = parseCsv(text); // throws on anything that is not RFC 4180 with CRLF
    assert.ok(text.endsWith('\r\n'), 'the last record ends with CRLF');
    assert.deepEqual(records[0], VISITS_HEADER);
    const rows = records.slice(1).map((cells) => {
      assert.equal(cells.length, VISITS_HEADER.length, `every row has ${VISITS_HEADER.length} cells`);
      return Object.fromEntries(VISITS_HEADER.map((name, i) => [name, cells[i]]));
    });
    const byId = (a, b) => a.id.localeCompare(b.id);
    assert.deepEqual(rows.map((r) => ({ id: r.id, status: r.status })).sort(byId),
      visits.map((v) => ({ id: v.id, status: v.status })).sort(byId));

    for (const row of rows) assert.equal(row.recorded_by, 'officer.ann');
    const row = (id) => rows.find((r) => r.id === id);
    assert.equal(row(vid(1)).household_id, hid(1));
    assert.equal(row(vid(1)).fire_safety_check, 'true');
    assert.equal(row(vid(1)).smoke_detectors_fitted, '2');
    assert.equal(row(vid(1)).local_date, '2026-11-20');
    assert.equal(row(vid(5)).address, 'Flat 2, 11 Fir Drive');
    assert.equal(row(vid(5)).notes, SEED_VISITS[4].notes, 'a note with a quote, commas and a line break survives');
    assert.equal(row(vid(6)).notes, `'${SEED_VISITS[5].notes}`, 'a cell that looks like a formula starts with an apostrophe');
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 6

// Why: revoking is what a coordinator does when a tablet is lost; it must take effect on the
// server (not just in the page) and stop the tablet syncing.
test('6. devices: revoke a tablet after confirming; the API and the tablet see it revoked', async () => {
  const opened = await signedInPage('#/devices');
  const { page } = opened;
  try {
    const row = page.locator('[data-testid="device-row"][data-device-id="tablet-bob"]');
    await row.waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal(await row.getByTestId('device-state').getAttribute('data-value'), 'active');

    // Cancelling changes nothing.
    await row.getByTestId('device-revoke').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.match(await dialog.textContent(), /Revoke device tablet-bob\?/);
    await page.getByTestId('confirm-no').click();
    await dialog.waitFor({ state: 'detached', timeout: WAIT_MS });
    assert.equal(await row.getByTestId('device-state').getAttribute('data-value'), 'active');

    await row.getByTestId('device-revoke').click();
    await dialog.waitFor({ state: 'visible', timeout: WAIT_MS });
    await page.getByTestId('confirm-yes').click();
    await row.locator('[data-testid="device-state"][data-value="revoked"]').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal((await row.getByTestId('device-state').textContent()).trim(), 'Revoked');
    assert.equal(await row.getByTestId('device-revoke').count(), 0, 'no revoke button for a revoked device');
    // Only that device.
    const annState = page.locator('[data-testid="device-row"][data-device-id="tablet-ann"] [data-testid="device-state"]');
    assert.equal(await annState.getAttribute('data-value'), 'active');

    const { devices } = await apiGet(server.base, coordinatorToken, '/api/v1/devices');
    const byId = Object.fromEntries(devices.map((d) => [d.device_id, d]));
    assert.equal(byId['tablet-bob'].revoked, true);
    assert.equal(byId['tablet-ann'].revoked, false);

    const sync = await runAsync(FIELD_CLIENT, ['--store', bobStore, 'sync']);
    assert.notEqual(sync.code, 0, 'the revoked tablet cannot sync');
    assert.match(sync.stdout + sync.stderr, /the server refused this device's token \(401\)/);

    // The tablet turns out lost: a revoked device can still be ordered wiped, after confirming.
    await row.getByTestId('device-wipe').click();
    await dialog.waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.match(await dialog.textContent(), /Revoke and wipe device tablet-bob\?/);
    await page.getByTestId('confirm-yes').click();
    await row.locator('[data-testid="device-state"][data-value="wipe"]').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal(await row.getByTestId('device-wipe').count(), 0, 'no wipe button once a wipe is ordered');
    const after = await apiGet(server.base, coordinatorToken, '/api/v1/devices');
    const wiped = Object.fromEntries(after.devices.map((d) => [d.device_id, d]));
    assert.equal(wiped['tablet-bob'].wipe, true);
    assert.equal(wiped['tablet-bob'].wipe_delivered, false, 'not delivered before the tablet connects');
    assert.equal(wiped['tablet-ann'].wipe, false);

    // The tablet connects, is told, and erases itself; the page then says the order reached it.
    const told = await runAsync(FIELD_CLIENT, ['--store', bobStore, 'sync']);
    assert.notEqual(told.code, 0);
    await page.reload();
    await row.locator('[data-testid="device-state"][data-value="wipe-delivered"]').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal((await row.getByTestId('device-state').textContent()).trim(), 'Revoked, wipe delivered');
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 7

// Why: coordinators who cannot use a mouse must be able to sign in and move between pages, and
// see where the focus is (WCAG 2.1.1 keyboard, 2.4.7 focus visible).
test('7. keyboard: sign in and navigate with Tab and Enter only, with a visible focus', async (t) => {
  const opened = await newPage(browser);
  const { page } = opened;
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    return {
      tag: el.tagName.toLowerCase(), id: el.id, page: el.dataset ? el.dataset.page || '' : '',
      text: (el.textContent || '').replace(/\s+/g, ' ').trim(),
      outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
      onScreen: rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.right > 0 &&
        rect.top < window.innerHeight && rect.left < window.innerWidth,
    };
  });
  const assertFocusVisible = (f, what) => {
    assert.notEqual(f.outlineStyle, 'none', `${what} shows where the focus is`);
    assert.ok(f.outlineWidth >= 2, `${what} has a focus outline at least 2px wide (${f.outlineWidth}px)`);
  };
  try {
    await page.goto(`${server.base}/dashboard/`);
    await page.waitForFunction(() => document.activeElement?.id === 'login-username', null, { timeout: WAIT_MS });

    await page.keyboard.type(COORDINATOR);
    await page.keyboard.press('Tab');
    let f = await focused();
    assert.equal(f.id, 'login-password', 'Tab goes from the username to the password');
    assertFocusVisible(f, 'the password field');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    f = await focused();
    assert.equal(f.id, 'login-submit', 'Tab goes on to the sign-in button');
    assertFocusVisible(f, 'the sign-in button');
    await page.keyboard.press('Enter');
    await waitForOverview(page);

    // Tab through the page chrome to the navigation's "Devices" link; every stop on the way
    // that is a link or button shows its focus.
    const stops = [];
    for (let i = 0; i < 30; i += 1) {
      await page.keyboard.press('Tab');
      f = await focused();
      stops.push(f.id || f.page || f.text.slice(0, 30) || f.tag);
      if (['a', 'button'].includes(f.tag)) assertFocusVisible(f, `"${f.text}"`);
      if (f.id === 'skip-link') assert.ok(f.onScreen, 'the skip link appears when it has the focus');
      if (f.page === 'devices') break;
    }
    t.diagnostic(`Tab stops after signing in: ${stops.join(' → ')}`);
    assert.equal(f.page, 'devices', `Tab reaches the Devices link (stops: ${stops.join(' → ')})`);
    assert.ok(stops.includes('overview'), 'the navigation links are in order');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.location.hash === '#/devices', null, { timeout: WAIT_MS });
    await page.locator('main h1', { hasText: 'Devices' }).waitFor({ state: 'visible', timeout: WAIT_MS });
    f = await focused();
    assert.equal(f.tag, 'h1', 'focus moves to the new page heading');
    assert.equal(f.text, 'Devices');
    assert.equal(await page.locator('a[data-page="devices"]').getAttribute('aria-current'), 'page');

    // Shift+Tab goes back into the navigation, and Enter opens another page.
    for (let i = 0; i < 10 && f.page !== 'exports'; i += 1) {
      await page.keyboard.press('Shift+Tab');
      f = await focused();
    }
    assert.equal(f.page, 'exports', 'Shift+Tab from the heading reaches the Exports link');
    assertFocusVisible(f, 'the Exports link');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.location.hash === '#/exports', null, { timeout: WAIT_MS });
    await page.getByTestId('export-visits').waitFor({ state: 'visible', timeout: WAIT_MS });

    // Back up to the skip link; Enter on it puts the focus on the main content.
    for (let i = 0; i < 15 && f.id !== 'skip-link'; i += 1) {
      await page.keyboard.press('Shift+Tab');
      f = await focused();
    }
    assert.equal(f.id, 'skip-link', 'Shift+Tab reaches the skip link');
    assert.ok(f.onScreen, 'the focused skip link is on screen');
    assertFocusVisible(f, 'the skip link');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'main', null, { timeout: WAIT_MS });
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 8

// Why: signing out must end the session on the server, and the cookie alone must never be
// enough to change anything (CSRF): another site can make the browser send the cookie, but it
// cannot read the CSRF token.
test('8. authorisation: after sign-out the overview needs a sign-in; a POST without the CSRF header is refused', async () => {
  const opened = await signedInPage('#/overview');
  const { page, context } = opened;
  try {
    await waitForOverview(page);
    const cookie = (await context.cookies(server.base)).find((c) => c.name === 'ss_session');
    assert.ok(cookie, 'the session cookie is set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');

    await page.getByTestId('logout').click();
    await page.getByTestId('login-username').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.match(await page.getByTestId('login-notice').textContent(), /signed out/);
    // The old cookie no longer works on the server.
    const stale = await api(server.base, null, '/api/v1/session', { headers: { Cookie: `ss_session=${cookie.value}` } });
    assert.equal(stale.status, 401, 'the session ended on the server');

    // In the same document, and on a fresh load.
    await page.evaluate(() => { window.location.hash = '#/overview'; });
    await page.waitForTimeout(200);
    assert.equal(await page.locator('[data-page="login"]').count(), 1, 'still the sign-in form');
    assert.equal(await page.getByTestId('overview').count(), 0);
    await page.goto('about:blank');
    await page.goto(`${server.base}/dashboard/#/overview`);
    await page.getByTestId('login-username').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal(await page.getByTestId('overview').count(), 0, 'no overview without a session');
    assert.equal(await page.locator('#site-nav').isVisible(), false);
    const direct = await page.evaluate(async () => (await fetch('/api/v1/overview')).status);
    assert.equal(direct, 401, 'the API refuses the signed-out browser');

    // Sign in again; then forge requests that carry the cookie but not the CSRF token.
    await signIn(page);
    await waitForOverview(page);
    const forged = await page.evaluate(async () => {
      const post = async (deviceId, headers) => {
        const response = await fetch('/api/v1/devices', {
          method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', ...headers },
          body: JSON.stringify({ device_id: deviceId, user_id: 'officer.mallory', role: 'coordinator' }),
        });
        return { status: response.status, body: await response.text() };
      };
      const logout = await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' });
      const session = await (await fetch('/api/v1/session')).json();
      return {
        none: await post('forged-tablet-1', {}),
        wrong: await post('forged-tablet-2', { 'X-CSRF-Token': 'not-the-token' }),
        logout: logout.status,
        // The control: the same request with the session's token is accepted.
        right: await post('laptop-control', { 'X-CSRF-Token': session.csrf_token }),
      };
    });
    assert.equal(forged.none.status, 403, 'no CSRF header: 403');
    assert.deepEqual(JSON.parse(forged.none.body), { error: 'csrf' });
    assert.equal(forged.wrong.status, 403, 'a wrong CSRF token: 403');
    assert.equal(forged.logout, 403, 'sign-out without the CSRF header is refused too');
    assert.equal(forged.right.status, 201, 'with the right token the same request is accepted');

    const { devices } = await apiGet(server.base, coordinatorToken, '/api/v1/devices');
    const ids = devices.map((d) => d.device_id);
    assert.ok(!ids.includes('forged-tablet-1') && !ids.includes('forged-tablet-2'), 'the forged requests enrolled nothing');
    assert.ok(ids.includes('laptop-control'), 'the control request enrolled its device');
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 9

// Why: the audit trail is how a data-protection officer sees who consulted or disclosed the
// records (issue 14 §4); the page must list what the earlier tests did, filter it, export it
// (and record that export), and show ids only — never the addresses the register holds.
test('9. audit trail: lists sign-ins, the export and the revocation; filters by action; its CSV export is audited', async () => {
  const opened = await signedInPage('#/audit');
  const { page } = opened;
  try {
    const rows = page.getByTestId('audit-row');
    await rows.first().waitFor({ state: 'visible', timeout: WAIT_MS });
    const actions = await rows.evaluateAll((elements) => elements.map((row) => row.dataset.action));
    for (const action of ['login', 'export', 'revoke', 'enroll', 'register_import', 'account_add']) {
      assert.ok(actions.includes(action), `the trail lists a ${action} entry`);
    }
    const tableText = await page.getByTestId('audit-table').textContent();
    for (const household of HOUSEHOLDS) assert.ok(!tableText.includes(household.address), 'no address in the trail');
    assert.match(tableText, /cli:/, 'the CLI commands of the setup are attributed to an OS user');

    await page.getByTestId('audit-action').selectOption('revoke');
    await page.getByTestId('audit-filter').click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="audit-row"]')]
      .every((row) => row.dataset.action === 'revoke'), null, { timeout: WAIT_MS });
    assert.match(page.url(), /action=revoke/);
    const revokeText = await page.getByTestId('audit-table').textContent();
    assert.match(revokeText, /device tablet-bob/);
    assert.match(revokeText, /cat \(dashboard\)/);

    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: WAIT_MS }),
      page.getByTestId('audit-export').click({ timeout: WAIT_MS }),
    ]);
    assert.equal(download.suggestedFilename(), 'audit.csv');
    const saved = join(ARTIFACTS_DIR, 'dashboard-audit.csv');
    await download.saveAs(saved);
    const records = parseCsv(readFileSync(saved, 'utf8'));
    assert.equal(records[0][0], 'seq');
    assert.ok(records.length >= 2 && records.slice(1).every((cells) => cells[5] === 'revoke'), 'the CSV holds the filtered entries');

    const exports = await page.evaluate(async () => (await fetch('/api/v1/audit?action=export')).json());
    assert.ok(exports.entries.some((entry) => entry.kind === 'audit' && entry.actor === 'cat'),
      'the CSV export of the trail is itself in the trail');
    const byToken = await api(server.base, coordinatorToken, '/api/v1/audit');
    assert.equal(byToken.status, 403, 'a device token cannot read the trail');
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 10

// Why: a subject access request is answered from the household's row (issue 14 §3): the
// download must work with the session alone, hold that household and its visits as one CSV,
// be audited, and an id typed for an erased household must be checked before a link appears.
test('10. subject access: a household row downloads its export as CSV; the id box checks what is typed', async () => {
  const opened = await signedInPage('#/register');
  const { page } = opened;
  try {
    const row = page.locator(`[data-testid="household-row"][data-household-id="${hid(6)}"]`);
    await row.waitFor({ state: 'visible', timeout: WAIT_MS });
    const link = row.getByTestId('household-sar-csv');
    assert.match(await link.textContent(), /CSV subject access export of Flat 2, 11 Fir Drive/);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: WAIT_MS }),
      link.click({ timeout: WAIT_MS }),
    ]);
    assert.equal(download.suggestedFilename(), `subject-access-${hid(6)}.csv`);
    const saved = join(ARTIFACTS_DIR, 'dashboard-subject-access.csv');
    await download.saveAs(saved);
    const records = parseCsv(readFileSync(saved, 'utf8'));
    const header = records[0];
    const rows = records.slice(1).map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i]])));
    const household = rows.filter((r) => r.section === 'household');
    assert.equal(household.length, 1);
    assert.equal(household[0].address, 'Flat 2, 11 Fir Drive');
    const visitRows = rows.filter((r) => r.section === 'visit');
    assert.deepEqual(visitRows.map((r) => r.id), [vid(5)], 'its visits, and no other household\'s');
    assert.equal(visitRows[0].notes, SEED_VISITS[4].notes);

    const trail = await page.evaluate(async () => (await fetch('/api/v1/audit?action=subject_access')).json());
    assert.ok(trail.entries.some((entry) => entry.household && entry.kind === 'csv' && entry.actor === 'cat'),
      'the download is in the audit trail');

    const box = page.getByTestId('sar-id');
    await box.fill('Flat 2, 11 Fir Drive', { timeout: WAIT_MS });
    assert.equal(await box.getAttribute('aria-invalid'), 'true');
    assert.match(await page.getByTestId('sar-error').textContent(), /UUID/);
    assert.equal(await page.getByTestId('sar-download-json').count(), 0, 'no link for a malformed id');
    await box.fill(hid(1).toUpperCase(), { timeout: WAIT_MS });
    assert.equal(await box.getAttribute('aria-invalid'), 'false');
    assert.equal(await page.getByTestId('sar-download-json').getAttribute('href'),
      `/api/v1/households/${hid(1)}/subject-access.json`);
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 11

// Visits with referrals, pushed as raw protocol JSON by a second tablet of officer.ann's: first
// as a protocol-1 tablet (no `share_basis` capability, no basis: counted "not recorded"), then
// as a current one that records the basis of each referral. November holds five of them; the
// October one is in the financial year but not in November; the last visit made no referral.
const REFERRAL_VISITS_OLD_TABLET = [
  { id: vid(20), household_id: hid(1), visited_at: '2026-11-24T10:00:00Z', status: 'completed', referrals: ['fire_service'] },
];
const REFERRAL_VISITS = [
  { id: vid(21), household_id: hid(1), visited_at: '2026-11-25T10:00:00Z', status: 'completed',
    referrals: ['fire_service', 'health'], share_basis: 'consent' },
  { id: vid(22), household_id: hid(2), visited_at: '2026-11-25T11:00:00Z', status: 'completed',
    referrals: ['victim_support'], share_basis: 'consent' },
  { id: vid(23), household_id: hid(3), visited_at: '2026-11-26T09:00:00Z', status: 'completed',
    referrals: ['adult_social_care'], share_basis: 'vital_interests' },
  { id: vid(24), household_id: hid(3), visited_at: '2026-11-27T09:00:00Z', status: 'rescheduled',
    referrals: ['other'], share_basis: 'safeguarding' },
  { id: vid(25), household_id: hid(1), visited_at: '2026-10-20T09:00:00Z', status: 'completed',
    referrals: ['health'], share_basis: 'consent' },
  { id: vid(26), household_id: hid(2), visited_at: '2026-11-27T10:00:00Z', status: 'completed' },
];
const NO_PARTNER = { adult_social_care: 0, fire_service: 0, health: 0, other: 0, victim_support: 0 };
const NOVEMBER_REFERRALS = {
  visits: 5, by_share_basis: { consent: 2, vital_interests: 1, safeguarding: 1, not_recorded: 1 },
  by_partner: { adult_social_care: 1, fire_service: 2, health: 1, other: 1, victim_support: 1 }, sent_by_partner: NO_PARTNER,
  partner_labels: {},
};
const YEAR_REFERRALS = {
  visits: 6, by_share_basis: { consent: 3, vital_interests: 1, safeguarding: 1, not_recorded: 1 },
  by_partner: { adult_social_care: 1, fire_service: 2, health: 2, other: 1, victim_support: 1 }, sent_by_partner: NO_PARTNER,
  partner_labels: {},
};
const BASIS_ROWS = ['consent', 'vital_interests', 'safeguarding', 'not_recorded'];

/** The referrals panel's table: one {basis, name, visits, share} per row, and the total. */
async function referralTable(page) {
  const rows = await page.getByTestId('referral-row').evaluateAll((trs) => trs.map((tr) => ({
    basis: tr.dataset.basis, name: tr.cells[0].textContent,
    visits: Number(tr.cells[1].dataset.value), share: tr.cells[2].textContent,
  })));
  const total = Number(await dataValue(page, 'referrals-total'));
  return { rows, total };
}

/** The per-partner table: {partner: [referrals, passed on, not yet]} and the total. */
async function partnerTable(page) {
  const rows = await page.getByTestId('partner-row').evaluateAll((trs) => Object.fromEntries(trs.map((tr) => [
    tr.dataset.partner, [1, 2, 3].map((i) => Number(tr.cells[i].dataset.value))])));
  return { rows, total: Number(await dataValue(page, 'partner-referrals-total')) };
}

function partnerRows(expected) {
  return { rows: Object.fromEntries(Object.entries(expected.by_partner).map(([p, n]) =>
    [p, [n, expected.sent_by_partner[p], n - expected.sent_by_partner[p]]])) };
}

/** What the table must show for the given counts. */
function expectedReferralRows(expected) {
  const names = { ...SHARE_BASIS_LABELS, not_recorded: 'Not recorded (older tablet)' };
  return BASIS_ROWS.map((basis) => ({
    basis, name: names[basis], visits: expected.by_share_basis[basis],
    share: `${(expected.by_share_basis[basis] / expected.visits * 100).toLocaleString('en-GB', { maximumFractionDigits: 1 })}%`,
  }));
}

// Why: a data-protection officer checks that every referral to a partner had a lawful basis
// for sharing (issue 14 §3); the overview and the annual report must count referred visits by
// the basis their tablets recorded, name those from older tablets "not recorded", and say
// "no data" rather than show nonsense when the server predates the figures.
test('11. referrals and consent to share: the overview and the report count referred visits by basis', async () => {
  const token = run(SYNC_SERVER, ['enroll', '--db', db, '--device', 'tablet-ann-2', '--user', 'officer.ann', '--role', 'officer'])
    .stdout.split('\n')[0].trim();
  const old = await pushVisitsRaw(server.ws, token, 'tablet-ann-2', REFERRAL_VISITS_OLD_TABLET);
  assert.deepEqual(old.rejected, [], 'a protocol-1 tablet may push a referral without a basis');
  const current = await pushVisitsRaw(server.ws, token, 'tablet-ann-2', REFERRAL_VISITS, { capabilities: ['share_basis'] });
  assert.deepEqual(current.rejected, []);
  for (const v of [...REFERRAL_VISITS_OLD_TABLET, ...REFERRAL_VISITS]) visits.push({ id: v.id, status: v.status, notes: '' });

  // The server's own counts first: the test's data is what the test thinks it is.
  const november = await apiGet(server.base, coordinatorToken, `/api/v1/overview?from=${NOVEMBER.from}&to=${NOVEMBER.to}`);
  assert.deepEqual(november.stats.referrals, NOVEMBER_REFERRALS);
  const report = await apiGet(server.base, coordinatorToken, '/api/v1/report?year=2026');
  assert.deepEqual(report.stats.referrals, YEAR_REFERRALS);
  // The visits export gives each visit's basis, empty where the tablet recorded none.
  const exported = await api(server.base, coordinatorToken, '/api/v1/exports/visits.csv');
  assert.equal(exported.status, 200);
  const [header, ...cells] = parseCsv(exported.raw);
  const basisOf = Object.fromEntries(cells.map((row) => [row[0], row[header.indexOf('share_basis')]]));
  assert.deepEqual([vid(20), vid(21), vid(23), vid(24), vid(26)].map((id) => basisOf[id]),
    ['', 'consent', 'vital_interests', 'safeguarding', '']);

  const opened = await signedInPage(`#/overview?from=${NOVEMBER.from}&to=${NOVEMBER.to}`);
  const { page } = opened;
  try {
    await waitForOverview(page, NOVEMBER);
    assert.deepEqual(await referralTable(page), { rows: expectedReferralRows(NOVEMBER_REFERRALS), total: 5 });
    assert.equal(Number(await dataValue(page, 'referred-visits')), 5);
    assert.equal((await page.getByTestId('referred-visits').textContent()).trim(), '5');
    assert.match(await page.locator('#figure-referred-visits + .figure-note').textContent(), /^1 with no basis for sharing recorded$/);

    // Accessible like the other panels: a region named by its heading, the chart an image whose
    // text gives the numbers, the table captioned with row headers.
    const panel = page.getByTestId('panel-referrals');
    assert.equal(await page.getByRole('region', { name: 'Referrals and consent to share' }).count(), 1);
    assert.equal(await panel.locator('h3').textContent(), 'Referrals and consent to share');
    await page.waitForFunction(() => !/: loading$/.test(document.querySelector('[data-testid="panel-referrals-chart"]')
      .getAttribute('aria-label')), null, { timeout: WAIT_MS });
    const description = await page.getByTestId('panel-referrals-chart').getAttribute('aria-label');
    assert.match(description, /Of 5 visits with a referral to a partner, 4 recorded a lawful basis for sharing/);
    assert.match(description, /Resident consented 2/);
    assert.match(description, /1 came from older tablets/);
    assert.match(await page.getByTestId('referrals-table').locator('caption').textContent(), /^Referrals by basis for sharing \(.+\)$/);
    assert.equal(await page.getByTestId('referrals-table').locator('tbody th[scope="row"]').count(), BASIS_ROWS.length);
    // The same panel counts referrals per partner (a visit referred to two counts for each):
    // its own chart, captioned table and text, none passed on yet.
    assert.equal(await page.getByRole('region', { name: 'Referrals by partner' }).count(), 1);
    assert.deepEqual(await partnerTable(page), { ...partnerRows(NOVEMBER_REFERRALS), total: 6 });
    assert.match(await page.getByTestId('referral-partners-table').locator('caption').textContent(), /^Referrals by partner \(.+\)$/);
    await page.waitForFunction(() => !/: loading$/.test(document.querySelector('[data-testid="panel-referral-partners-chart"]')
      .getAttribute('aria-label')), null, { timeout: WAIT_MS });
    assert.match(await page.getByTestId('panel-referral-partners-chart').getAttribute('aria-label'),
      /6 referrals to partners, 0 passed on: Fire service 2 \(0 passed on\), Victim support 1 \(0 passed on\)/);
    assert.doesNotMatch(await page.getByTestId('overview').textContent(), /NaN|undefined/);
    await page.waitForTimeout(300);
    await panel.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-referrals.png'), timeout: WAIT_MS });

    // All time: the October referral counts too, and the open page follows the range.
    await page.goto(`${server.base}/dashboard/#/overview`);
    await waitForOverview(page);
    assert.deepEqual(await referralTable(page), { rows: expectedReferralRows(YEAR_REFERRALS), total: 6 });
    assert.deepEqual(await partnerTable(page), { ...partnerRows(YEAR_REFERRALS), total: 7 });

    // An older server's answer has no "referrals": the panel says so, and the figure is a dash.
    const asOlderServer = async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      delete body.stats.referrals;
      await route.fulfill({ response, json: body });
    };
    await page.route('**/api/v1/overview*', asOlderServer);
    await page.reload();
    await waitForOverview(page);
    assert.equal(await page.getByTestId('referral-row').count(), 0);
    assert.match(await page.getByTestId('referrals-table').textContent(), /No figures: this server does not count referrals/);
    assert.equal(await page.getByTestId('partner-row').count(), 0);
    assert.match(await page.getByTestId('referral-partners-table').textContent(), /No figures: this server does not count referrals by partner/);
    assert.equal((await page.getByTestId('referred-visits').textContent()).trim(), '—');
    assert.equal(await dataValue(page, 'referred-visits'), '');
    assert.doesNotMatch(await page.getByTestId('overview').textContent(), /NaN|undefined/);
    await page.unroute('**/api/v1/overview*');

    // The annual report of 2026-27: the same panel, and the summary line.
    await page.goto(`${server.base}/dashboard/#/report?year=2026`);
    await page.locator('[data-testid="report"][data-year="2026"]').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.deepEqual(await referralTable(page), { rows: expectedReferralRows(YEAR_REFERRALS), total: 6 });
    assert.equal(Number(await dataValue(page, 'referred-visits')), 6);
    assert.equal(await page.getByTestId('referrals-summary').textContent(),
      'Of 6 visits with a referral to a partner, 5 recorded a lawful basis for sharing (' +
      `${SHARE_BASIS_LABELS.consent} 3, ${SHARE_BASIS_LABELS.vital_interests} 1, ${SHARE_BASIS_LABELS.safeguarding} 1); ` +
      '1 came from older tablets that do not record one.');
    assert.doesNotMatch(await page.getByTestId('report').textContent(), /NaN|undefined/);

    await page.route('**/api/v1/report*', asOlderServer);
    await page.reload();
    await page.locator('[data-testid="report"][data-year="2026"]').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal(await page.getByTestId('referral-row').count(), 0);
    assert.match(await page.getByTestId('referrals-summary').textContent(), /^No figures: this server does not count referrals/);
    assert.equal((await page.getByTestId('referred-visits').textContent()).trim(), '—');
    assert.doesNotMatch(await page.getByTestId('report').textContent(), /NaN|undefined/);
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 12

// Why: the register's search text is a piece of an address, which is personal data: it must
// stay out of every URL (issue 14 review) — the page's hash, and so the browser's history and
// bookmarks, and the API's URLs, which proxies and access logs keep — while searching and
// paging through the results still work.
test('12. register search: the text is in no URL or history entry; results page; a reload clears it', async () => {
  const SEARCH = 'Quenby Mews'; // fictional
  const mews = Array.from({ length: 105 }, (_, i) => ({
    id: hid(1000 + i), address: `${i + 1} Quenby Mews`, postcode: 'WD6 5QT', ward: 'Elstree', target: false, assigned_to: null,
  }));
  const imported = await api(server.base, coordinatorToken, '/api/v1/households/import', {
    method: 'POST', text: householdsCsv(mews), contentType: 'text/csv',
  });
  assert.equal(imported.status, 200, JSON.stringify(imported.data));
  const everyone = (await apiGet(server.base, coordinatorToken, '/api/v1/households?limit=1')).total;

  const opened = await signedInPage('#/register');
  const { page } = opened;
  const urls = []; // every request the page made and every URL its frame showed
  page.on('request', (request) => urls.push(request.url()));
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) urls.push(frame.url()); });
  const waitFor = (count, rows) => page.waitForFunction(([n, r]) =>
    document.querySelector('[data-testid="households-total"]')?.dataset.value === String(n) &&
    document.querySelectorAll('[data-testid="household-row"]').length === r, [count, rows], { timeout: WAIT_MS });
  const hash = () => page.evaluate(() => window.location.hash);
  try {
    await waitFor(everyone, 100);
    await page.getByTestId('households-q').fill(`  ${SEARCH} `, { timeout: WAIT_MS });
    const [searched] = await Promise.all([
      page.waitForRequest((request) => new URL(request.url()).pathname === '/api/v1/households/search', { timeout: WAIT_MS }),
      page.getByTestId('households-search').click({ timeout: WAIT_MS }),
    ]);
    assert.equal(searched.method(), 'POST');
    assert.equal(searched.postDataJSON().q, SEARCH, 'the text goes in the body, trimmed');
    await waitFor(105, 100);
    assert.match(await page.getByTestId('households-total').textContent(), /^Showing 1–100 of 105 matching households\.$/);
    assert.equal(await page.locator('[data-testid="households-table"] caption').textContent(), `Households matching “${SEARCH}”`);
    assert.equal(await hash(), '#/register');

    // Paging keeps the search; the hash holds the page only.
    await page.getByRole('button', { name: 'Next page' }).click({ timeout: WAIT_MS });
    await waitFor(105, 5);
    assert.equal(await hash(), '#/register?page=2');
    assert.equal(await page.getByTestId('households-q').inputValue(), SEARCH);
    assert.match(await page.getByTestId('households-total').textContent(), /^Showing 101–105 of 105 matching households\.$/);
    const onPage2 = await page.getByTestId('household-row').evaluateAll((trs) => trs.map((tr) => tr.cells[0].textContent));
    assert.ok(onPage2.every((address) => address.endsWith(' Quenby Mews')), onPage2.join(', '));

    // Back through the history: no entry holds the text, and the search is still in force.
    await page.goBack({ timeout: WAIT_MS });
    await page.waitForFunction(() => window.location.hash === '#/register', null, { timeout: WAIT_MS });
    await waitFor(105, 100);
    for (const url of [...urls, page.url()]) assert.doesNotMatch(decodeURIComponent(url), /quenby/i, url);
    assert.ok(urls.some((url) => url.includes('#/register?page=2')), 'the history entries were looked at');

    // A reload ends the search: the text was in memory only.
    await page.reload();
    await waitFor(everyone, 100);
    assert.equal(await page.getByTestId('households-q').inputValue(), '');
    assert.doesNotMatch(await page.getByTestId('households-total').textContent(), /matching/);

    // A search in an old bookmark's hash is dropped from it and not run.
    await page.goto(`${server.base}/dashboard/#/register?ward=Elstree&q=Quenby`);
    await page.waitForFunction(() => window.location.hash === '#/register?ward=Elstree', null, { timeout: WAIT_MS });
    assert.equal(await page.getByTestId('households-q').inputValue(), '');
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 13

// Why: referrals must reach the partners (issue 15): a coordinator lists one partner's
// referrals with what the partner needs, sees which have no lawful basis recorded (they must
// not go out as if the resident consented), downloads the partner's CSV, and marks them as
// passed on, selected or all, with the counts following. Uses test 11's referrals: to the fire
// service, vid(20) with no basis recorded and vid(21) with consent.
test('13. referrals to pass on: flagged without a basis, marked as sent selected and all, counted', async () => {
  const opened = await signedInPage('#/referrals?partner=fire_service');
  const { page } = opened;
  const items = page.getByTestId('referral-item');
  const waitForCounts = (unsent, sent, rows) => page.waitForFunction(([u, s, r]) => {
    const count = document.querySelector('[data-testid="referrals-count"]');
    return count && count.dataset.unsent === String(u) && count.dataset.sent === String(s) &&
      document.querySelectorAll('[data-testid="referral-item"]').length === r;
  }, [unsent, sent, rows], { timeout: WAIT_MS });
  try {
    await waitForCounts(2, 0, 2);
    assert.deepEqual(await items.evaluateAll((trs) => trs.map((tr) => [tr.dataset.visitId, tr.dataset.basisNotRecorded])),
      [[vid(20), 'true'], [vid(21), 'false']]);
    const unrecorded = page.locator(`[data-testid="referral-item"][data-visit-id="${vid(20)}"]`);
    assert.match(await unrecorded.textContent(), /1 Acacia Avenue.*WD6 1AA.*Elstree.*No basis recorded — check before sharing.*officer\.ann/);
    assert.ok(await page.getByTestId('referrals-not-recorded').isVisible());
    assert.match(await page.getByTestId('referrals-not-recorded').textContent(), /^1 referral has no lawful basis for sharing recorded/);
    assert.match(await page.getByTestId('referrals-table').locator('caption').textContent(),
      /^Referrals to Fire service, not yet passed on, /);
    assert.doesNotMatch(await page.getByTestId('referrals-table').textContent(), /NaN|undefined/);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-referrals-to-pass-on.png'), fullPage: true, timeout: WAIT_MS });

    // The partner's CSV, as the link fetches it: the one with no basis is left out until included.
    const href = await page.getByTestId('referrals-download').getAttribute('href');
    assert.match(href, /^\/api\/v1\/exports\/referrals\.csv\?partner=fire_service&state=unsent&include_not_recorded=false$/);
    const csv = await api(server.base, coordinatorToken, href);
    assert.equal(csv.status, 200);
    const [header, ...rows] = parseCsv(csv.raw);
    assert.deepEqual(rows.map((row) => row[header.indexOf('visit_id')]), [vid(21)]);
    assert.equal(header.indexOf('notes'), -1);
    await page.getByTestId('referrals-include').check();
    assert.match(await page.getByTestId('referrals-download').getAttribute('href'), /include_not_recorded=true$/);
    await page.getByTestId('referrals-include').uncheck();

    // Mark the consented one, selected by its box: it leaves the unsent list.
    await page.locator(`[data-testid="referral-item"][data-visit-id="${vid(21)}"] [data-testid="referral-select"]`).check();
    await page.getByTestId('referrals-mark-selected').click();
    await waitForCounts(1, 1, 1);

    // "Mark all" leaves the one with no basis unless included.
    await page.getByTestId('referrals-mark-all').click();
    await page.getByTestId('confirm-yes').click({ timeout: WAIT_MS });
    await page.waitForFunction(() => document.querySelector('[data-testid="referrals-count"]')?.dataset.marked === '0',
      null, { timeout: WAIT_MS });
    await waitForCounts(1, 1, 1);
    await page.getByTestId('referrals-include').check();
    await page.getByTestId('referrals-mark-all').click();
    await page.getByTestId('confirm-yes').click({ timeout: WAIT_MS });
    await waitForCounts(0, 2, 0);

    // Both shown as passed on, by whom; and the statistics count them sent.
    await page.getByTestId('referrals-state').selectOption('all');
    await waitForCounts(0, 2, 2);
    assert.deepEqual(await items.evaluateAll((trs) => trs.map((tr) => tr.dataset.sent)), ['true', 'true']);
    assert.match(await items.first().textContent(), new RegExp(`by ${COORDINATOR}`));
    const stats = await apiGet(server.base, coordinatorToken, '/api/v1/stats');
    assert.equal(stats.referrals.sent_by_partner.fire_service, 2);
    assert.equal(stats.referrals.by_partner.fire_service, 2);
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 14

// Why: the partnership reports what Safer Streets did "since the launch of the project in 2011";
// the years before this system come from a baseline a coordinator loads, and the annual report
// must add them to what was recorded, year by year, without losing a bad file's lines.
test('14. since the launch: the report adds a loaded baseline to the recorded years', async () => {
  const header = 'financial_year,households_visited,visits,smoke_detectors_fitted,cards_distributed';
  const bad = `${header}\n2011/12,300,400,90,0\n2012/13,x,1,1,1\n2012/13,1,1,1,1\n`;
  const good = `${header}\n2011/12,300,400,90,0\n2013,100,150,20,50\n`;
  const opened = await signedInPage('#/report?year=2026');
  const { page } = opened;
  try {
    await page.locator('[data-testid="report"][data-year="2026"]').waitFor({ state: 'visible', timeout: WAIT_MS });
    await page.getByText('Load the figures of earlier years').click({ timeout: WAIT_MS });
    await page.getByTestId('baseline-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) }, { timeout: WAIT_MS });
    await page.getByTestId('baseline-submit').click();
    await page.getByTestId('baseline-problems').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.deepEqual(await page.getByTestId('baseline-problem').allTextContents(), [
      'Line 3: households_visited must be a whole number from 0 to 10000000',
      'Line 4: financial_year 2012 appears on an earlier line too',
    ]);
    assert.deepEqual((await apiGet(server.base, coordinatorToken, '/api/v1/baseline')).years, [], 'nothing was loaded');

    await page.getByTestId('baseline-file').setInputFiles({ name: 'earlier.csv', mimeType: 'text/csv', buffer: Buffer.from(good) }, { timeout: WAIT_MS });
    await page.getByTestId('baseline-submit').click();
    await page.getByTestId('baseline-success').filter({ hasText: 'Loaded 2 earlier years.' }).waitFor({ state: 'visible', timeout: WAIT_MS });
    await page.locator('[data-testid="history-row"][data-year="2011/12"]').waitFor({ state: 'visible', timeout: WAIT_MS });

    const { history } = await apiGet(server.base, coordinatorToken, '/api/v1/report?year=2026');
    const rows = await page.getByTestId('history-row').evaluateAll((trs) => trs.map((tr) => ({
      year: tr.dataset.year, source: tr.dataset.source, figures: [...tr.cells].slice(2).map((td) => Number(td.dataset.value)),
    })));
    assert.deepEqual(rows, history.years.map((y) => ({
      year: y.financial_year, source: y.source,
      figures: [y.households_visited, y.visits, y.smoke_detectors_fitted, y.cards_distributed],
    })));
    assert.deepEqual(rows.map((r) => [r.year, r.source]), [['2011/12', 'baseline'], ['2013/14', 'baseline'], ['2026/27', 'recorded']]);
    const recorded = rows[2].figures;
    assert.equal(history.since.visits, 400 + 150 + recorded[1]);
    assert.match(await page.getByTestId('history-summary').textContent(),
      new RegExp(`^Since 2011/12: ${(300 + 100 + recorded[0]).toLocaleString('en-GB')} households visited`));
    assert.doesNotMatch(await page.getByTestId('history').textContent(), /NaN|undefined/);
  } finally {
    await closePage(opened);
  }
  // Cleared again for the other tests: a file with the header alone.
  const cleared = await api(server.base, coordinatorToken, '/api/v1/baseline', { method: 'POST', text: `${header}\n`, contentType: 'text/csv' });
  assert.equal(cleared.status, 200);
});

// ---------------------------------------------------------------------------------------------
// 15

// Why: coordinators run the register from the dashboard (issue 15): they narrow it with
// filters kept in the page's address (none is personal data), give many households at once to
// an officer who has no tablet yet, and open one household to read its visits, correct it,
// make it a target or erase it. No address may reach a URL or the page title on the way.
test('15. register: filters in the hash, bulk "Assign to…" a new officer, the household page edits and erases', async () => {
  const expectTotal = (page, n) => page.waitForFunction((count) =>
    document.querySelector('[data-testid="households-total"]')?.dataset.value === String(count) &&
    !document.querySelector('[data-testid="households-state"]')?.textContent.includes('Loading'), n, { timeout: WAIT_MS });
  const opened = await signedInPage('#/register?ward=Bushey%20Heath&target=1');
  const { page } = opened;
  const urls = [];
  page.on('request', (request) => urls.push(request.url()));
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) urls.push(frame.url()); });
  try {
    // Filters: from the hash, combined, and the form writes them back to the hash.
    const bushey = await apiGet(server.base, coordinatorToken, '/api/v1/households?ward=Bushey%20Heath&target=1');
    await expectTotal(page, bushey.total);
    assert.equal(await page.getByTestId('households-target').inputValue(), '1');
    await page.getByTestId('households-unassigned').check({ timeout: WAIT_MS });
    await page.getByTestId('households-search').click({ timeout: WAIT_MS });
    await page.waitForFunction(() => window.location.hash === '#/register?ward=Bushey+Heath&target=1&unassigned=1', null, { timeout: WAIT_MS });
    const unassigned = await apiGet(server.base, coordinatorToken, '/api/v1/households?ward=Bushey%20Heath&target=1&unassigned=1');
    await expectTotal(page, unassigned.total);
    assert.deepEqual(await page.getByTestId('household-link').allTextContents(), unassigned.households.map((h) => h.address));

    // A new officer, without a tablet, gets every household of a ward in one go.
    await page.getByTestId('officer-id').fill('officer.zed', { timeout: WAIT_MS });
    await page.getByTestId('officer-add').click({ timeout: WAIT_MS });
    await page.locator('[data-testid="officer-row"][data-user-id="officer.zed"]').waitFor({ timeout: WAIT_MS });
    await page.goto(`${server.base}/dashboard/#/register?ward=Potters%20Bar%20Oakmere`);
    const oakmere = await apiGet(server.base, coordinatorToken, '/api/v1/households?ward=Potters%20Bar%20Oakmere');
    await expectTotal(page, oakmere.total);
    assert.ok(oakmere.total >= 3);
    await page.locator('#bulk-assignee option[value="officer.zed"]').waitFor({ state: 'attached', timeout: WAIT_MS });
    await page.getByTestId('households-select-all').check({ timeout: WAIT_MS });
    assert.equal(await page.getByTestId('bulk-count').textContent(), `${oakmere.total} households selected.`);
    await page.getByTestId('bulk-assignee').selectOption('officer.zed', { timeout: WAIT_MS });
    await page.getByTestId('bulk-assign').click({ timeout: WAIT_MS });
    // The status line, not the screen-reader announcer (#announcer) that repeats it.
    await page.getByTestId('bulk-message').filter({ hasText: `${oakmere.total} households assigned to officer.zed.` })
      .waitFor({ timeout: WAIT_MS });
    const zeds = await apiGet(server.base, coordinatorToken, '/api/v1/households?officer=officer.zed');
    assert.deepEqual(zeds.households.map((h) => h.id).sort(), oakmere.households.map((h) => h.id).sort());
    await page.goto(`${server.base}/dashboard/#/register?officer=officer.zed`);
    await expectTotal(page, oakmere.total);

    // The household page: only the id in the address; notes hidden until asked for.
    await page.goto(`${server.base}/dashboard/#/register?ward=Shenley`);
    await page.getByTestId('household-link').filter({ hasText: 'Flat 2, 11 Fir Drive' }).click({ timeout: WAIT_MS });
    await page.waitForFunction((id) => window.location.hash === `#/household/${id}`, hid(6), { timeout: WAIT_MS });
    await page.getByTestId('detail-address').waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByTestId('detail-address').textContent(), 'Flat 2, 11 Fir Drive');
    assert.equal(await page.title(), 'Household — Safer Streets dashboard');
    const notes = page.getByTestId('visit-notes').first();
    assert.equal(await notes.isVisible(), false, 'notes are hidden at first');
    await page.getByTestId('show-notes').first().click({ timeout: WAIT_MS });
    assert.match(await notes.textContent(), /call back, after 6pm/);
    assert.equal(await notes.isVisible(), true);
    assert.ok(await page.getByTestId('assignment-row').count() >= 1, 'the import\'s assignment is in the history');
    assert.equal(await page.locator('#site-nav a[aria-current="page"]').getAttribute('data-page'), 'register');

    // Editing: a bad postcode is shown at its field and nothing changes; a good edit makes it a
    // target with a vulnerability, and the register says so.
    await page.getByTestId('edit-postcode').fill('NOT A POSTCODE');
    await page.getByTestId('edit-save').click({ timeout: WAIT_MS });
    await page.getByTestId('edit-postcode-error').filter({ hasText: /postcode/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByTestId('edit-postcode').getAttribute('aria-invalid'), 'true');
    assert.equal((await apiGet(server.base, coordinatorToken, `/api/v1/households/${hid(6)}`)).postcode, 'WD7 9FF');
    await page.getByTestId('edit-postcode').fill('wd7 9fg');
    await page.getByTestId('edit-target').check();
    await page.getByTestId('edit-vulnerability-lives_alone').check();
    await page.getByTestId('edit-save').click({ timeout: WAIT_MS });
    await page.waitForFunction(() => document.querySelector('[data-testid="detail-postcode"]')?.textContent === 'WD7 9FG', null, { timeout: WAIT_MS });
    const edited = await apiGet(server.base, coordinatorToken, `/api/v1/households/${hid(6)}`);
    assert.equal(edited.target, true);
    assert.deepEqual(edited.vulnerability, ['lives_alone']);
    assert.equal(edited.assigned_to, 'officer.ann', 'an edit keeps the assignment');

    // Erasing, after a confirmation: a household imported for it.
    const doomed = hid(2000);
    const imported = await api(server.base, coordinatorToken, '/api/v1/households/import', {
      method: 'POST', text: householdsCsv([{ id: doomed, address: '4 Rowan Spinney', postcode: 'WD6 5RS', ward: 'Elstree', target: false }]),
      contentType: 'text/csv',
    });
    assert.equal(imported.status, 200);
    await page.goto(`${server.base}/dashboard/#/household/${doomed}`);
    await page.getByTestId('erase-household').click({ timeout: WAIT_MS });
    await page.getByTestId('confirm-no').click({ timeout: WAIT_MS });
    assert.equal((await api(server.base, coordinatorToken, `/api/v1/households/${doomed}`)).status, 200, 'Cancel erases nothing');
    await page.getByTestId('erase-household').click({ timeout: WAIT_MS });
    await page.getByTestId('confirm-yes').click({ timeout: WAIT_MS });
    await page.waitForFunction(() => window.location.hash === '#/register', null, { timeout: WAIT_MS });
    assert.equal((await api(server.base, coordinatorToken, `/api/v1/households/${doomed}`)).status, 404);

    for (const url of [...urls, page.url()]) assert.doesNotMatch(decodeURIComponent(url), /Fir Drive|Rowan|WD7 9F/i, url);
  } finally {
    await closePage(opened);
  }
});

// ---------------------------------------------------------------------------------------------
// 16

// Why: "never visited" stops being useful after the first year (issue 15). The work list is of
// target households not visited since a date, 1 April of this financial year unless the
// coordinator picks another; the date is in the address (it is not personal data), and the
// list the page shows is the API's for that date.
test('16. work lists: target households not visited since a date, by default this financial year', async () => {
  const opened = await signedInPage('#/worklists');
  const { page } = opened;
  const rowIds = () => page.getByTestId('unvisited-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.householdId).sort());
  const apiIds = async (since) => {
    const reply = await apiGet(server.base, coordinatorToken, `/api/v1/worklists/unvisited?since=${since}`);
    assert.equal(reply.since, since);
    return reply.households.map((row) => row.id).sort();
  };
  try {
    const now = new Date();
    const fyStart = `${now.getMonth() >= 3 ? now.getFullYear() : now.getFullYear() - 1}-04-01`;
    const since = page.getByTestId('unvisited-since');
    assert.equal(await since.inputValue({ timeout: WAIT_MS }), fyStart, 'the default is 1 April of this financial year');
    const count = page.getByTestId('unvisited-count');
    await page.waitForFunction(() => document.querySelector('[data-testid="unvisited-count"]')?.dataset.value !== undefined, null, { timeout: WAIT_MS });
    assert.deepEqual(await rowIds(), await apiIds(fyStart));

    // 5 Cedar Road (hid 3) was last visited, completed, on 26 November (test 11): listed from
    // the 27th, not from the 26th.
    for (const [date, listed] of [['2026-11-26', false], ['2026-11-27', true]]) {
      await since.fill(date, { timeout: WAIT_MS });
      await since.dispatchEvent('change');
      await page.waitForFunction((d) => window.location.hash.includes(`since=${d}`), date, { timeout: WAIT_MS });
      const expected = await apiIds(date);
      assert.equal(expected.includes(hid(3)), listed, `hid(3) since ${date}`);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="unvisited-row"]').length === n
        && document.querySelector('[data-testid="unvisited-count"]')?.dataset.value === String(n), expected.length, { timeout: WAIT_MS });
      assert.deepEqual(await rowIds(), expected);
      assert.match(await count.textContent(), new RegExp(`not visited since ${Number(date.slice(8))} November 2026`));
    }
  } finally {
    await closePage(opened);
  }
});

// Why: coordinators chase late follow-ups officer by officer (issue 15): the work lists must
// say, per officer, which follow-ups are overdue and which are due today, from the latest visit.
test('17. work lists: follow-ups due and overdue by officer, as the API lists them, filtered by ward', async () => {
  const expected = await apiGet(server.base, coordinatorToken, '/api/v1/worklists/follow-ups-due');
  const ann = expected.officers.find((officer) => officer.officer === 'officer.ann');
  assert.ok(ann, 'officer.ann has follow-ups due');
  assert.ok(ann.overdue.some((row) => row.visit_id === vid(5) && row.follow_up_due === '2026-11-28'), 'the seeded follow-up is overdue');
  const opened = await signedInPage('#/worklists');
  const { page } = opened;
  try {
    const blocks = page.getByTestId('due-officer');
    await waitUntil(async () => (await blocks.count()) === expected.officers.length, { what: 'one block per officer' });
    assert.deepEqual(await blocks.evaluateAll((list) => list.map((block) => block.dataset.officer)),
      expected.officers.map((officer) => officer.officer));
    const annBlock = page.locator('[data-testid="due-officer"][data-officer="officer.ann"]');
    const overdueRows = annBlock.getByTestId('due-overdue-table').locator('[data-testid="due-row"]');
    assert.deepEqual(await overdueRows.evaluateAll((rows) => rows.map((row) => row.dataset.visitId)), ann.overdue.map((row) => row.visit_id));
    const seeded = annBlock.locator(`[data-testid="due-row"][data-visit-id="${vid(5)}"]`);
    assert.equal(await seeded.getAttribute('data-overdue'), 'true');
    assert.match(await seeded.textContent(), /28 Nov 2026/);
    assert.equal(await seeded.getByRole('link').getAttribute('href'), `#/household/${hid(6)}`);
    const overdue = expected.officers.reduce((sum, officer) => sum + officer.overdue.length, 0);
    assert.equal(await page.getByTestId('followups-due-count').getAttribute('data-overdue'), String(overdue));

    // A ward with none of them: the list says so.
    await page.getByTestId('ward-filter').selectOption('Bushey Heath', { timeout: WAIT_MS });
    const bushey = await apiGet(server.base, coordinatorToken, '/api/v1/worklists/follow-ups-due?ward=Bushey%20Heath');
    await waitUntil(async () => (await blocks.count()) === bushey.officers.length, { what: 'the ward\'s officers' });
    if (bushey.officers.length === 0) {
      await page.getByTestId('followups-due-officers').getByText('No follow-ups due in Bushey Heath.').waitFor({ timeout: WAIT_MS });
    }
  } finally {
    await closePage(opened);
  }
});
