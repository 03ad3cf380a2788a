// Browser tests of the tablet app (`field-client ui`) in Debian's headless Chromium: the Today
// list reaches every household however many there are (never cut at 500 without a word), the
// search text stays out of every URL, and a Commute Aware session open at local midnight ends
// there, the app asking "Start today's session at <station>?" before the next tap counts.
// Today starts with the follow-ups and agreed visits due and overdue, and the visit form asks
// for the dates that put them there.
//
// The midnight is real: the app's process runs in a time zone (TZ) whose local time is a few
// seconds before midnight when the test starts.
//
// Run: node --test --test-timeout=120000 tests/web/tablet-list.test.mjs
// (ctest sets FIELD_CLIENT and ARTIFACTS_DIR; see tests/CMakeLists.txt.)

import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import {
  ARTIFACTS_DIR, WAIT_MS, FIELD_CLIENT, checkPrerequisites, makeTempDir, ensureDir, run, startTabletUi, launchBrowser,
  newPageAt, api, waitUntil,
  tearDown,
} from './support.mjs';

const HOUSEHOLDS = 530;
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

after(() => tearDown({ browser, processes, dir, name: 'web tablet list tests', startedAt }));

/**
 * The tablet app on a store enrolled for a server that never answers (nothing here syncs): a
 * tablet that is not enrolled shows only its enrolment page (enrolment.test.mjs).
 */
async function offlineTablet(name, extra = [], logName = `tablet-${name}-ui.log`) {
  const store = join(dir, `${name}.db`);
  run(FIELD_CLIENT, ['--store', store, 'enroll', '--server', 'ws://127.0.0.1:9', '--token', 'sst_never-used',
    '--device', `tablet-${name}`]);
  return startTabletUi(store, join(ARTIFACTS_DIR, logName), extra);
}

async function local(ui, path, { method = 'GET', json } = {}) {
  const answer = await api(ui.base, null, path, { method, json, headers: { 'X-Field-Client-Key': ui.key } });
  if (answer.status >= 300) throw new Error(`${method} ${path} on the tablet: ${answer.status} ${answer.raw}`);
  return answer.data;
}

async function openApp(ui, hash) {
  const opened = await newPageAt(browser, SIZE);
  const urls = [];
  opened.page.on('request', (request) => urls.push(request.url()));
  await opened.page.goto(ui.url, T);
  await opened.page.waitForURL(`${ui.base}/app/**`, T);
  if (hash) await opened.page.evaluate((h) => { window.location.hash = h; }, hash);
  return { ...opened, urls };
}

async function closePage({ context, problems }) {
  await context.close();
  assert.deepEqual(problems, [], 'no uncaught errors and no CSP violations in the page');
}

const byTestId = (page, id) => page.getByTestId(id);
const dataValue = (page, id) => page.getByTestId(id).first().getAttribute('data-value', T);

// Why: the list stopped at 500 without saying so, and a household past that showed "not found".
test('1. Today pages through 530 households, says how many, opens the last one, and searches without a URL', async () => {
  const ui = await offlineTablet('list', [], 'tablet-list-ui.log');
  processes.push(ui);
  for (let n = 0; n < HOUSEHOLDS; n += 1) {
    await local(ui, '/api/households', {
      method: 'POST',
      json: { address: `${n} Paging Street`, postcode: n % 2 === 0 ? 'WD6 1AB' : 'EN6 2DD', ward: 'Elstree' },
    });
  }
  const tab = await openApp(ui, '#/today');
  const { page } = tab;
  try {
    const count = byTestId(page, 'household-count');
    await waitUntil(async () => (await count.getAttribute('data-total')) === String(HOUSEHOLDS), { what: 'the total' });
    assert.equal(await count.getAttribute('data-value'), '100');
    assert.match(await count.textContent(), /Showing 100 of 530 households/);

    // "Show more" until every household is listed; then it goes.
    const more = byTestId(page, 'household-more');
    for (let shown = 100; shown < HOUSEHOLDS; shown += 100) {
      await more.click(T);
      await waitUntil(async () => Number(await count.getAttribute('data-value')) === Math.min(shown + 100, HOUSEHOLDS),
        { what: `${Math.min(shown + 100, HOUSEHOLDS)} listed` });
    }
    assert.equal(await page.locator('[data-testid="household-card"]').count(), HOUSEHOLDS);
    assert.equal(await more.isHidden(), true);
    assert.match(await count.textContent(), /^530 households/);

    // The last card (past 500) opens: its visit form shows its address, not "not found".
    const last = page.locator('[data-testid="household-card"]').last();
    const address = await last.getByTestId('card-address').textContent();
    await last.getByTestId('record-visit-button').click(T);
    await byTestId(page, 'visit-household').filter({ hasText: address }).waitFor({ state: 'visible', ...T });

    // A search: typed, matched on the device's store, never in a URL, the hash or history.
    await page.evaluate(() => { window.location.hash = '#/today'; });
    await byTestId(page, 'household-search').fill('529 Paging', T);
    await waitUntil(async () => (await count.getAttribute('data-total')) === '1', { what: 'one match' });
    await byTestId(page, 'household-search').fill('EN6 2DD', T);
    await waitUntil(async () => (await count.getAttribute('data-total')) === String(HOUSEHOLDS / 2), { what: 'half match' });
    assert.equal(await count.getAttribute('data-value'), '100');
    await more.click(T);
    await waitUntil(async () => (await count.getAttribute('data-value')) === '200', { what: 'the next page of the search' });
    for (const url of [...tab.urls, page.url()]) {
      // (ids are hexadecimal: neither word can be part of one)
      assert.ok(!/Paging|EN6/i.test(decodeURIComponent(url)), `no search text in ${url}`);
    }
    assert.equal(await page.evaluate(() => window.history.length < 10 && !window.location.hash.includes('q=')), true);
  } finally {
    await closePage(tab);
  }
});

/** TZ for a process whose local time is now `secondsBefore` seconds before midnight. */
function zoneNearMidnight(secondsBefore) {
  const now = new Date();
  const utcSeconds = now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds();
  const ahead = (((86400 - secondsBefore) - utcSeconds) % 86400 + 86400) % 86400; // local = UTC + ahead
  const hh = String(Math.floor(ahead / 3600)).padStart(2, '0');
  const mm = String(Math.floor((ahead % 3600) / 60)).padStart(2, '0');
  const ss = String(ahead % 60).padStart(2, '0');
  return { tz: `TST-${hh}:${mm}:${ss}`, midnight: Date.now() + secondsBefore * 1000 };
}

// Why: a session left open on Monday collected Tuesday's taps under Monday's date and station.
test('2. a session open at midnight ends there; the next tap asks to start today\'s session at the station', async () => {
  const { tz, midnight } = zoneNearMidnight(20);
  const saved = process.env.TZ;
  process.env.TZ = tz; // inherited by the app's process only for its start
  let ui;
  try {
    ui = await offlineTablet('commute', [], 'tablet-midnight-ui.log');
  } finally {
    if (saved === undefined) delete process.env.TZ; else process.env.TZ = saved;
  }
  processes.push(ui);
  const tab = await openApp(ui, '#/commute');
  const { page } = tab;
  try {
    await byTestId(page, 'station-radlett').click(T);
    await byTestId(page, 'start-session').click(T);
    await byTestId(page, 'plus-one').click(T);
    await byTestId(page, 'plus-one').click(T);
    await waitUntil(async () => (await byTestId(page, 'cards-count').getAttribute('data-confirmed')) === '2', { what: 'two taps saved' });
    assert.ok(Date.now() < midnight, 'the first taps came before midnight (the machine was too slow otherwise)');

    // Past the app's local midnight, a tap is not counted in yesterday's session: the app asks.
    await new Promise((resolve) => { setTimeout(resolve, Math.max(0, midnight - Date.now()) + 1500); });
    await byTestId(page, 'plus-one').click(T);
    const dialog = byTestId(page, 'confirm-dialog');
    await dialog.getByText('Start today\'s session at Radlett?').waitFor({ state: 'visible', ...T });
    await byTestId(page, 'confirm-yes').click(T);

    // Today's session at Radlett holds the tap; yesterday's ended at its midnight with two.
    await waitUntil(async () => (await byTestId(page, 'cards-count').getAttribute('data-confirmed')) === '1', { what: 'the tap in today\'s session' });
    const { sessions } = await local(ui, '/api/commute');
    assert.equal(sessions.length, 2);
    const [today, yesterday] = sessions; // newest first
    assert.equal(today.data.station, 'Radlett');
    assert.equal(today.data.ended_at ?? null, null);
    assert.equal(today.data.cards_distributed, 1);
    assert.equal(yesterday.data.cards_distributed, 2);
    assert.ok(yesterday.data.ended_at, 'yesterday\'s session was ended');
    const ended = Date.parse(yesterday.data.ended_at);
    assert.ok(Math.abs(ended - (midnight - 1)) < 2000, `ended at 23:59:59.999 local (${yesterday.data.ended_at})`);
    assert.equal(await dataValue(page, 'session-cards'), '2');
  } finally {
    await closePage(tab);
  }
});

// Why: an officer adding a household found in the field may not see that the tablet already has
// it under another spelling (issue 15). The form says which household has the same postcode and
// house number, offers to record the visit there, and adds the new one only when told again.
test('3. adding a near duplicate: the form names the household already there and adds only on "Add it anyway"', async () => {
  const ui = await offlineTablet('near', [], 'tablet-near-duplicate-ui.log');
  processes.push(ui);
  const { id } = await local(ui, '/api/households', {
    method: 'POST', json: { address: 'Flat 2, 11 Fir Drive', postcode: 'WD7 9FF', ward: 'Shenley' },
  });
  const tab = await openApp(ui, '#/today');
  const { page } = tab;
  try {
    const count = byTestId(page, 'household-count');
    await waitUntil(async () => (await count.getAttribute('data-total')) === '1', { what: 'one household' });
    await byTestId(page, 'add-address').fill('flat 2 11 fir drive', T);
    await byTestId(page, 'add-postcode').fill('wd79ff', T);
    await byTestId(page, 'add-ward').selectOption('Shenley', T);
    await byTestId(page, 'add-submit').click(T);

    const warning = byTestId(page, 'add-near-duplicate');
    await warning.waitFor({ state: 'visible', ...T });
    assert.match(await warning.textContent(), /Flat 2, 11 Fir Drive, WD7 9FF has the same postcode and house number/);
    assert.equal(await byTestId(page, 'add-near-duplicate-open').getAttribute('href'), `#/visit?household=${id}`);
    assert.equal((await byTestId(page, 'add-submit').textContent()).trim(), 'Add it anyway');
    assert.equal((await local(ui, '/api/households')).total, 1, 'nothing added yet');

    // Another number is another question: the warning goes.
    await byTestId(page, 'add-address').fill('flat 3 11 fir drive', T);
    await warning.waitFor({ state: 'hidden', ...T });
    assert.equal((await byTestId(page, 'add-submit').textContent()).trim(), 'Add household');
    await byTestId(page, 'add-address').fill('flat 2 11 fir drive', T);
    await byTestId(page, 'add-submit').click(T);
    await warning.waitFor({ state: 'visible', ...T });
    await byTestId(page, 'add-submit').click(T);
    await warning.waitFor({ state: 'hidden', ...T });
    await waitUntil(async () => (await local(ui, '/api/households')).total === 2, { what: 'the second household' });
    assert.ok(tab.urls.every((url) => !/fir/i.test(url)), 'no address in any URL');
  } finally {
    await closePage(tab);
  }
});

/** The day before "YYYY-MM-DD" (calendar arithmetic in UTC, so no zone can shift it). */
function dayBefore(date) {
  const instant = new Date(`${date}T12:00:00Z`);
  instant.setUTCDate(instant.getUTCDate() - 1);
  return instant.toISOString().slice(0, 10);
}

// Why: officers found follow-ups by scrolling every household; Today must start with what is due
// and overdue, and the form must ask for the dates that put a visit there.
test('4. Today starts with the follow-ups and agreed visits due and overdue; the form asks for their dates', async () => {
  const ui = await offlineTablet('due', [], 'tablet-due-ui.log');
  processes.push(ui);
  const ids = {};
  // Each its own house number: the same postcode and number would be a near duplicate (test 3).
  for (const [number, name] of ['Late', 'Today', 'Agreed', 'Later'].entries()) {
    ids[name] = (await local(ui, '/api/households', {
      method: 'POST', json: { address: `${number + 1} ${name} Lane`, postcode: 'WD6 1AB', ward: 'Elstree' },
    })).id;
  }
  const { today } = await local(ui, '/api/due');
  assert.match(today, /^\d{4}-\d{2}-\d{2}$/);
  const visit = (household, extra) => ({ household_id: household, visited_at: new Date().toISOString(), ...extra });
  await local(ui, '/api/visits', { method: 'POST', json: visit(ids.Today, { status: 'completed', follow_up_required: true, follow_up_due: today }) });
  await local(ui, '/api/visits', { method: 'POST', json: visit(ids.Later, { status: 'completed', follow_up_required: true, follow_up_due: '2999-01-01' }) });

  let tab = await openApp(ui, `#/visit?household=${encodeURIComponent(ids.Late)}`);
  try {
    const { page } = tab;
    const dueField = byTestId(page, 'follow-up-due-field');
    const agreedField = byTestId(page, 'rescheduled-for-field');
    await byTestId(page, 'save-visit').waitFor({ state: 'visible', ...T });
    assert.equal(await dueField.isHidden(), true, 'no date is asked without a follow-up');
    assert.equal(await agreedField.isHidden(), true, 'no time is asked before the status');
    await byTestId(page, 'status-completed').click(T);
    await byTestId(page, 'outcome-follow_up_required').click(T);
    await dueField.waitFor({ state: 'visible', ...T });
    assert.equal(await byTestId(page, 'follow-up-due').getAttribute('type', T), 'date');

    // Saving without the date: not saved, the message beside the date.
    await byTestId(page, 'save-visit').click(T);
    await byTestId(page, 'save-errors').waitFor({ state: 'visible', ...T });
    assert.match(await byTestId(page, 'field-error-follow_up_due').textContent(T), /follow_up_due is required with a follow-up/);
    assert.equal(await byTestId(page, 'follow-up-due').getAttribute('aria-invalid', T), 'true');
    assert.equal((await local(ui, `/api/visits?household=${ids.Late}`)).visits.length, 0, 'nothing was saved');

    // Unticking the follow-up hides the date; ticking it again brings it back.
    await byTestId(page, 'outcome-follow_up_required').click(T);
    await dueField.waitFor({ state: 'hidden', ...T });
    await byTestId(page, 'outcome-follow_up_required').click(T);
    await dueField.waitFor({ state: 'visible', ...T });
    await byTestId(page, 'follow-up-due').fill(dayBefore(today), T);
    await page.waitForFunction(() => document.querySelector('[data-testid="field-error-follow_up_due"]')?.textContent === '', null, T);
    await byTestId(page, 'save-visit').click(T);
    await byTestId(page, 'visit-saved').waitFor({ state: 'visible', ...T });
  } finally {
    await closePage(tab);
  }
  const [late] = (await local(ui, `/api/visits?household=${ids.Late}`)).visits;
  assert.equal(late.data.follow_up_due, dayBefore(today));

  // "Agreed another time" asks for the time agreed, a local date and time.
  tab = await openApp(ui, `#/visit?household=${encodeURIComponent(ids.Agreed)}`);
  try {
    const { page } = tab;
    await byTestId(page, 'status-rescheduled').click(T);
    await byTestId(page, 'rescheduled-for-field').waitFor({ state: 'visible', ...T });
    assert.equal(await byTestId(page, 'follow-up-due-field').isHidden(), true);
    await byTestId(page, 'save-visit').click(T);
    await byTestId(page, 'save-errors').waitFor({ state: 'visible', ...T });
    assert.match(await byTestId(page, 'field-error-rescheduled_for').textContent(T), /rescheduled_for is required when status is rescheduled/);
    await byTestId(page, 'rescheduled-for').fill(`${today}T18:30`, T);
    await byTestId(page, 'save-visit').click(T);
    await byTestId(page, 'visit-saved').waitFor({ state: 'visible', ...T });

    // Today (where saving leads) starts with what is due: the overdue one marked, the later one not listed.
    const items = page.locator('[data-testid="due-item"]');
    await waitUntil(async () => (await items.count()) === 3, { what: 'three due' });
    assert.deepEqual(await items.evaluateAll((list) => list.map((item) => [item.dataset.householdId, item.dataset.kind, item.dataset.overdue])), [
      [ids.Late, 'follow_up', 'true'], [ids.Today, 'follow_up', 'false'], [ids.Agreed, 'rescheduled', 'false'],
    ]);
    assert.equal(await items.nth(0).getByTestId('overdue-badge').count(), 1);
    assert.equal(await items.nth(1).getByTestId('overdue-badge').count(), 0);
    assert.match(await items.nth(2).textContent(T), /Agreed visit .*18:30/);
    assert.match(await byTestId(page, 'due-count').textContent(T), /3 visits due by today, 1 overdue/);
    // The section comes before the household list.
    assert.equal(await page.evaluate(() => {
      const due = document.querySelector('[data-testid="due-section"]');
      const search = document.getElementById('household-search');
      return Boolean(due.compareDocumentPosition(search) & Node.DOCUMENT_POSITION_FOLLOWING);
    }), true);

    // Each opens its household; a later visit to a household takes it off the list.
    await items.nth(0).getByTestId('due-open').click(T);
    await byTestId(page, 'visit-household').filter({ hasText: '1 Late Lane' }).waitFor({ state: 'visible', ...T });
    await local(ui, '/api/visits', { method: 'POST', json: visit(ids.Late, { status: 'no_answer' }) });
    await page.evaluate(() => { window.location.hash = '#/today'; });
    await waitUntil(async () => (await page.locator('[data-testid="due-item"]').count()) === 2, { what: 'the late one gone' });
  } finally {
    await closePage(tab);
  }
});
