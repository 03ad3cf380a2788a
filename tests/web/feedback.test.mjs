// Browser tests of "Residents' feedback" (protocol.md §5.8, issue 15) in Debian's headless
// Chromium, against the real sync-server: the server asks its configured questions, tablets
// answer them, and the overview and the annual report show each scale's 1–5 counts, answered
// and mean, overall and by ward, labelled by the question, with the extra outcomes beside the
// built-in ones — a chart with a captioned table, as every panel has. A partner the server adds
// (a question of kind referral) is a referral: counted by its label and passed on from
// "Referrals to pass on" as the built-in partners are.
//
// Run: node --test --test-timeout=120000 tests/web/feedback.test.mjs
// (ctest sets SYNC_SERVER and ARTIFACTS_DIR; see tests/CMakeLists.txt.)

import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

import {
  SYNC_SERVER, ARTIFACTS_DIR, WAIT_MS, checkPrerequisites, makeTempDir, ensureDir, run, startServer,
  launchBrowser, apiGet, csvText, pushVisitsRaw, closePage, signedInDashboard, tearDown,
} from './support.mjs';

// Fictional seed data.
const PASSWORD = 'a long password 123';
const COORDINATOR = 'cat';
const hid = (n) => `0b5e1a7c-0000-4000-8000-${String(n).padStart(12, '0')}`;
const vid = (n) => `5a1e0000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const QUESTIONS = [
  { id: 'feels_safe', kind: 'scale', label: 'How safe does the resident feel at home?' },
  { id: 'satisfaction', kind: 'scale', label: 'How satisfied was the resident with the visit?' },
  { id: 'feedback', kind: 'text', label: "Resident's feedback" },
  { id: 'owl_signup', kind: 'yes_no', label: 'OWL sign-up' },
  { id: 'age_uk', kind: 'referral', label: 'Age UK' },
];
const visit = (n, household, answers, more = {}) => ({
  id: vid(n), household_id: hid(household), visited_at: `2026-11-${String(10 + n).padStart(2, '0')}T10:00:00Z`,
  status: 'completed', answers, ...more,
});
// Elstree: feels safe 4, 5, 5 (mean 4.7); Shenley: 2 (mean 2.0). Satisfaction 5 twice.
const VISITS = [
  visit(1, 1, { feels_safe: 4, satisfaction: 5, feedback: 'Fictional: very reassuring', owl_signup: true }),
  visit(2, 1, { feels_safe: 5 }),
  visit(3, 2, { feels_safe: 5, satisfaction: 5, owl_signup: true, age_uk: true }, { share_basis: 'consent' }),
  visit(4, 3, { feels_safe: 2, feedback: 'Fictional: worried about the lane' }),
  visit(5, 3, {}),
];
const RANGE = { from: '2026-11-01', to: '2026-11-30' };

let dir;
let server;
let browser;
let coordinatorToken;
const startedAt = Date.now();

before(async () => {
  checkPrerequisites();
  ensureDir(ARTIFACTS_DIR);
  dir = makeTempDir();
  const db = join(dir, 'sync-server.db');
  const csvFile = join(dir, 'households.csv');
  writeFileSync(csvFile, csvText([['id', 'address', 'postcode', 'ward', 'target', 'assigned_to'],
    [hid(1), '1 Acacia Avenue', 'WD6 1AA', 'Elstree', '1', ''],
    [hid(2), '3 Birch Close', 'WD6 2BB', 'Elstree', '1', ''],
    [hid(3), '5 Cedar Road', 'WD7 9AA', 'Shenley', '1', '']]));
  run(SYNC_SERVER, ['import-households', '--db', db, csvFile]);
  const questionsFile = join(dir, 'questions.json');
  writeFileSync(questionsFile, JSON.stringify(QUESTIONS));
  run(SYNC_SERVER, ['questions', '--db', db, '--file', questionsFile]);
  run(SYNC_SERVER, ['add-coordinator', '--db', db, '--username', COORDINATOR], { input: `${PASSWORD}\n` });
  coordinatorToken = run(SYNC_SERVER, ['enroll', '--db', db, '--device', 'laptop-cat', '--user', COORDINATOR,
    '--role', 'coordinator']).stdout.split('\n')[0].trim();
  server = await startServer(db, join(ARTIFACTS_DIR, 'web-feedback-sync-server.log'));
  const ack = await pushVisitsRaw(server.ws, coordinatorToken, 'laptop-cat', VISITS, { capabilities: ['share_basis', 'questions'] });
  assert.deepEqual(ack.rejected, []);
  browser = await launchBrowser();
});

after(() => tearDown({ browser, server, dir, name: 'web feedback tests', startedAt }));

const signedInPage = (hash) => signedInDashboard(browser, server.base, hash, COORDINATOR, PASSWORD);

/** The feedback table's rows: question id → [label, 1, 2, 3, 4, 5, answered, mean]. */
async function feedbackRows(page) {
  await page.getByTestId('feedback-row').first().waitFor({ timeout: WAIT_MS });
  return Object.fromEntries(await page.getByTestId('feedback-row').evaluateAll((trs) =>
    trs.map((tr) => [tr.dataset.question, [...tr.cells].map((c) => c.textContent.trim())])));
}

// Why: the partnership plan measures "perception surveys – residents' feelings of safety" and
// "customer satisfaction"; the overview is where a coordinator reads them, by ward too.
test('1. the overview shows each question by its label: 1–5 counts, answered and mean, overall and by ward', async () => {
  // The server's own counts first: the test's data is what the test thinks it is.
  const overview = await apiGet(server.base, coordinatorToken, `/api/v1/overview?from=${RANGE.from}&to=${RANGE.to}`);
  assert.deepEqual(overview.stats.answers.feels_safe.counts, { 1: 0, 2: 1, 3: 0, 4: 1, 5: 2 });
  assert.equal(overview.stats.answers.feels_safe.by_ward.Shenley.mean, 2);

  const opened = await signedInPage(`#/overview?from=${RANGE.from}&to=${RANGE.to}`);
  const { page } = opened;
  try {
    assert.equal(await page.getByRole('region', { name: "Residents' feedback", exact: true }).count(), 1);
    const rows = await feedbackRows(page);
    assert.deepEqual(rows.feels_safe, ['How safe does the resident feel at home?', '0', '1', '0', '1', '2', '4', '4.0']);
    assert.deepEqual(rows.satisfaction, ['How satisfied was the resident with the visit?', '0', '0', '0', '0', '2', '2', '5.0']);
    assert.deepEqual(rows.feedback.slice(-2), ['2', '—']);
    assert.match(rows.feedback[0], /^Resident's feedback/);
    assert.match(await page.getByTestId('feedback-table').locator('caption').textContent(), /^Residents' feedback \(.+\)$/);
    assert.equal(await page.getByTestId('feedback-table').locator('tbody th[scope="row"]').count(), 3);
    await page.waitForFunction(() => !/: loading$/.test(document.querySelector('[data-testid="panel-feedback-chart"]')
      .getAttribute('aria-label')), null, { timeout: WAIT_MS });
    assert.match(await page.getByTestId('panel-feedback-chart').getAttribute('aria-label'),
      /How safe does the resident feel at home\?: 4 answered, mean 4\.0 \(1: 0, 2: 1, 3: 0, 4: 1, 5: 2\)/);

    // By ward: the mean and the number answering, per question.
    const wards = Object.fromEntries(await page.getByTestId('feedback-ward-row').evaluateAll((trs) =>
      trs.map((tr) => [tr.dataset.ward, [...tr.cells].slice(1).map((c) => c.textContent.trim())])));
    assert.deepEqual(wards, { Elstree: ['4.7', '3', '5.0', '2'], Shenley: ['2.0', '1', '—', '0'] });

    // The extra outcome sits beside the built-in ones, by its label.
    const owl = page.locator('[data-testid="outcome-row"][data-outcome="owl_signup"]');
    assert.deepEqual(await owl.evaluate((tr) => [...tr.cells].map((c) => c.textContent.trim())), ['OWL sign-up', '2', '40%']);
    assert.doesNotMatch(await page.getByTestId('overview').textContent(), /NaN|undefined|Fictional:/);
    await page.waitForTimeout(300);
    await page.getByTestId('panel-feedback').screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-feedback.png'), timeout: WAIT_MS });
  } finally {
    await closePage(opened);
  }
});

test('2. the annual report has the same feedback figures and a sentence on them', async () => {
  const opened = await signedInPage('#/report?year=2026');
  const { page } = opened;
  try {
    const rows = await feedbackRows(page);
    assert.deepEqual(rows.feels_safe.slice(1), ['0', '1', '0', '1', '2', '4', '4.0']);
    await page.getByTestId('feedback-summary').getByText('mean 4.0').waitFor({ timeout: WAIT_MS });
    assert.match(await page.getByTestId('feedback-summary').textContent(),
      /^Residents' feedback: How safe does the resident feel at home\?: 4 answered, mean 4\.0/);
  } finally {
    await closePage(opened);
  }
});

// Why: the plan's "talk about how local services can help them" covers partners the
// partnership adds (Age UK here); their referrals must reach them as the built-in ones do.
test('3. a partner the server adds is counted by its label and passed on from its own list', async () => {
  const overview = await apiGet(server.base, coordinatorToken, `/api/v1/overview?from=${RANGE.from}&to=${RANGE.to}`);
  assert.equal(overview.stats.referrals.by_partner.age_uk, 1);
  assert.equal(overview.stats.referrals.visits, 1);

  const opened = await signedInPage(`#/overview?from=${RANGE.from}&to=${RANGE.to}`);
  const { page } = opened;
  try {
    const row = page.locator('[data-testid="partner-row"][data-partner="age_uk"]');
    await row.waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await row.evaluate((tr) => [...tr.cells].map((c) => c.textContent.trim())), ['Age UK', '1', '0', '1']);

    // Chosen by its label in the partner list; the list, the CSV link and "mark selected".
    await page.goto(`${server.base}/dashboard/#/referrals?state=all`);
    const partner = page.getByTestId('referrals-partner');
    await partner.locator('option[value="age_uk"]').waitFor({ state: 'attached', timeout: WAIT_MS });
    await partner.selectOption({ label: 'Age UK' });
    const item = page.locator(`[data-testid="referral-item"][data-visit-id="${vid(3)}"]`);
    await item.waitFor({ timeout: WAIT_MS });
    assert.match(await item.textContent(), /3 Birch Close/);
    assert.match(await page.getByTestId('referrals-count').textContent(), /^1 referral to Age UK in /);
    assert.match(await page.getByTestId('referrals-download').getAttribute('href'), /partner=age_uk/);
    assert.match(page.url(), /partner=age_uk/);
    await item.getByTestId('referral-select').check({ timeout: WAIT_MS });
    await page.getByTestId('referrals-mark-selected').click({ timeout: WAIT_MS });
    await page.waitForFunction(() => document.querySelector('[data-testid="referrals-count"]').dataset.sent === '1',
      null, { timeout: WAIT_MS });
    const after = await apiGet(server.base, coordinatorToken, '/api/v1/stats');
    assert.equal(after.referrals.sent_by_partner.age_uk, 1);

    // Opened straight at that partner, the list shows it chosen by its label.
    await page.goto(`${server.base}/dashboard/#/referrals?partner=age_uk&state=sent`);
    await page.locator(`[data-testid="referral-item"][data-visit-id="${vid(3)}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await partner.evaluate((select) => select.selectedOptions[0].textContent), 'Age UK');

    // The household's page lists the referral in the visit's history, by the partner's label.
    await page.goto(`${server.base}/dashboard/#/household/${hid(2)}`);
    const visitRow = page.locator(`[data-testid="visit-row"][data-visit-id="${vid(3)}"]`);
    await visitRow.waitFor({ timeout: WAIT_MS });
    assert.equal(await visitRow.evaluate((tr) => tr.cells[3].textContent.trim()), 'Age UK (Resident consented)');
    assert.equal(await visitRow.evaluate((tr) => tr.cells[2].textContent.trim()), 'OWL sign-up');  // an added outcome
  } finally {
    await closePage(opened);
  }
});
