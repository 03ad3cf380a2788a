// Browser tests of the dashboard's Accounts page (/dashboard/#/accounts) in Debian's headless
// Chromium, against the real sync-server: create an account, sign in with it in another
// browser, reset its password (that browser is signed out), disable and enable it, change
// one's own password (one's other browser is signed out), and the buttons the server would
// refuse are not offered.
//
// Run: node --test --test-timeout=120000 tests/web/accounts.test.mjs
// (ctest sets SYNC_SERVER and ARTIFACTS_DIR; see tests/CMakeLists.txt.)

import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import {
  SYNC_SERVER, ARTIFACTS_DIR, WAIT_MS, checkPrerequisites, makeTempDir, ensureDir, run, startServer,
  launchBrowser, api, waitUntil, closePage, signedInDashboard, tearDown,
} from './support.mjs';

// Fictional accounts and passwords.
const COORDINATOR = 'cat';
const PASSWORD = 'a long password 123';
const NEW_ACCOUNT = 'dee.jones';
const DEE_PASSWORD = 'harbour lantern quartz';
const DEE_RESET = 'meadow copper violin';
const CAT_NEW = 'granite willow beacon';

let dir;
let server;
let browser;
const startedAt = Date.now();

before(async () => {
  checkPrerequisites();
  ensureDir(ARTIFACTS_DIR);
  dir = makeTempDir();
  const db = join(dir, 'sync-server.db');
  run(SYNC_SERVER, ['add-coordinator', '--db', db, '--username', COORDINATOR], { input: `${PASSWORD}\n` });
  server = await startServer(db, join(ARTIFACTS_DIR, 'web-accounts-sync-server.log'));
  browser = await launchBrowser();
});

after(() => tearDown({ browser, server, dir, name: 'web accounts tests', startedAt }));

const signedIn = (username, password, hash = '#/accounts') => signedInDashboard(browser, server.base, hash, username, password);

const row = (page, username) => page.locator(`[data-testid="account-row"][data-username="${username}"]`);

/** True once `page`, on its next request, shows the sign-in form (its session has ended). */
async function waitForSignedOut(page) {
  await page.evaluate(() => { window.location.hash = '#/overview'; });
  await page.reload();
  await page.getByTestId('login-username').waitFor({ state: 'visible', timeout: WAIT_MS });
}

// Why: the issue asks for accounts from the dashboard, not only the command line, and for a
// reset and a disable that end sessions at once; a browser is where "at once" is felt.
test('1. create an account, reset its password and disable it: its browser is signed out each time', async () => {
  const cat = await signedIn(COORDINATOR, PASSWORD);
  const { page } = cat;
  try {
    await row(page, COORDINATOR).waitFor();
    // One's own row offers no Disable; with one account there is nobody to reset.
    assert.equal(await row(page, COORDINATOR).getByTestId('account-disable').count(), 0);

    // A password the server refuses: its message shows, nothing is created.
    await page.getByTestId('account-username').fill(NEW_ACCOUNT);
    await page.getByTestId('account-password').fill('Password1234!');
    await page.getByTestId('account-create-submit').click();
    await assert.doesNotReject(page.getByTestId('account-create-error').getByText('common').waitFor());
    await page.getByTestId('account-password').fill(DEE_PASSWORD);
    await page.getByTestId('account-create-submit').click();
    await row(page, NEW_ACCOUNT).waitFor();
    assert.equal(await page.getByTestId('account-password').inputValue(), '', 'the password is cleared from the form');
    assert.ok(!page.url().includes('harbour'), 'no password in the URL');

    // dee signs in elsewhere; cat resets dee's password: dee's browser is signed out.
    const dee = await signedIn(NEW_ACCOUNT, DEE_PASSWORD, '#/overview');
    try {
      await page.reload();
      await waitUntil(async () => (await row(page, NEW_ACCOUNT).getByTestId('account-sessions').getAttribute('data-value')) === '1',
        { what: 'dee has one open session' });
      await page.getByTestId('reset-username').selectOption(NEW_ACCOUNT);
      await page.getByTestId('reset-password').fill(DEE_RESET);
      await page.getByTestId('account-reset-submit').click();
      await page.getByTestId('confirm-yes').click();
      await page.getByTestId('account-reset-done').getByText('reset').waitFor();
      await waitForSignedOut(dee.page);
    } finally {
      await closePage(dee);
    }

    // With the new password dee signs in again; cat disables dee: signed out, and refused at sign-in.
    const deeAgain = await signedIn(NEW_ACCOUNT, DEE_RESET, '#/overview');
    try {
      await page.reload();
      await row(page, NEW_ACCOUNT).getByTestId('account-disable').click();
      await page.getByTestId('confirm-yes').click();
      await waitUntil(async () => (await row(page, NEW_ACCOUNT).getByTestId('account-state').getAttribute('data-value')) === 'disabled',
        { what: 'dee shows as disabled' });
      await waitForSignedOut(deeAgain.page);
      await deeAgain.page.getByTestId('login-username').fill(NEW_ACCOUNT);
      await deeAgain.page.getByTestId('login-password').fill(DEE_RESET);
      await deeAgain.page.getByTestId('login-submit').click();
      await deeAgain.page.getByText('this account is disabled').waitFor();
    } finally {
      await closePage(deeAgain);
    }
    // cat is now the only enabled account: still no Disable on cat's own row, and Enable on dee's.
    assert.equal(await row(page, COORDINATOR).getByTestId('account-disable').count(), 0);
    await row(page, NEW_ACCOUNT).getByTestId('account-enable').click();
    await waitUntil(async () => (await row(page, NEW_ACCOUNT).getByTestId('account-state').getAttribute('data-value')) === 'enabled',
      { what: 'dee shows as enabled' });
  } finally {
    await closePage(cat);
  }
});

// Why: a changed password must end the sessions an old one opened elsewhere, and must be
// asked with the current one.
test('2. change one’s own password: a wrong current one is refused; the other browser is signed out, this one stays', async () => {
  const here = await signedIn(COORDINATOR, PASSWORD);
  const elsewhere = await signedIn(COORDINATOR, PASSWORD, '#/overview');
  const { page } = here;
  try {
    await page.getByTestId('own-current-password').fill('not the password at all');
    await page.getByTestId('own-new-password').fill(CAT_NEW);
    await page.getByTestId('own-repeat-password').fill(CAT_NEW);
    await page.getByTestId('own-password-submit').click();
    await page.getByTestId('own-password-error').getByText('current password is not right').waitFor();

    await page.getByTestId('own-current-password').fill(PASSWORD);
    await page.getByTestId('own-new-password').fill(CAT_NEW);
    await page.getByTestId('own-repeat-password').fill(CAT_NEW);
    await page.getByTestId('own-password-submit').click();
    await page.getByTestId('own-password-done').getByText('changed').waitFor();
    await waitForSignedOut(elsewhere.page);
    // This browser is still signed in.
    await page.reload();
    await row(page, COORDINATOR).waitFor();
    const login = await api(server.base, null, '/api/v1/session', { method: 'POST', json: { username: COORDINATOR, password: CAT_NEW } });
    assert.equal(login.status, 200);
  } finally {
    await closePage(elsewhere);
    await closePage(here);
  }
});
