// app.js — entry point: session (sign in / sign out), hash routing, shared look-ups.
//
// Routes are "#/<page>?<params>"; each page module exports
//   {key, title, mount(container, params, ctx) → {update(params), unmount()}}.
// Navigating within a page (new params) calls update(); another page unmounts the old one.

import { api, get, del, setCsrfToken, onUnauthorized, isQuiet } from './api.js';
import { h, setChildren, announce, createStateArea, DEFAULT_WARDS, partnerOptions } from './dom.js';
import { extraOutcomesOf } from './panel-feedback.js';
import { createRouter, notFoundPage } from './common/router.js';
import { setupCharts } from './charts.js';
import overviewPage from './page-overview.js';
import worklistsPage from './page-worklists.js';
import registerPage from './page-register.js';
import householdPage from './page-household.js';
import devicesPage from './page-devices.js';
import exportsPage from './page-exports.js';
import reportPage from './page-report.js';
import auditPage from './page-audit.js';
import referralsPage from './page-referrals.js';
import accountsPage from './page-accounts.js';

const SITE_TITLE = 'Safer Streets dashboard';

const main = document.getElementById('main');
const nav = document.getElementById('site-nav');
const sessionBox = document.getElementById('session-box');
const sessionUser = document.getElementById('session-user');

let session = null; // {username} while signed in

// ---------------------------------------------------------------------------------------------
// Shared look-ups (cached for the session)

let overviewPromise = null;
let usersPromise = null;

/** The all-time overview, fetched once a session for the lists the pages need (wards, partners). */
function overviewOnce() {
  if (!overviewPromise) {
    overviewPromise = get('/api/v1/overview').catch((error) => {
      overviewPromise = null;
      throw error;
    });
  }
  return overviewPromise;
}

const ctx = {
  navigate: (key, params, options) => router.navigate(key, params, options),
  replaceParams: (key, params) => router.replaceParams(key, params),

  /** All ward names, in the server's order (coverage_by_ward lists every ward). */
  wards() {
    return overviewOnce().then((data) => {
      const names = (data.coverage_by_ward || []).map((row) => row.ward);
      return names.length ? names : DEFAULT_WARDS;
    }, (error) => {
      if (isQuiet(error)) throw error;
      return DEFAULT_WARDS;
    });
  },

  /** [[id, label], …]: every referral partner, the built-in ones and the server's own. */
  partners() {
    return overviewOnce().then((data) => partnerOptions(data.stats && data.stats.referrals), (error) => {
      if (isQuiet(error)) throw error;
      return partnerOptions(null);
    });
  },

  /** [[id, label], …]: the yes/no outcomes the server adds (its questions of kind yes_no). */
  extraOutcomes() {
    return overviewOnce().then((data) => extraOutcomesOf(data.stats && data.stats.answers)
      .map(([id, question]) => [id, String(question.label || id)]), (error) => {
      if (isQuiet(error)) throw error;
      return [];
    });
  },

  /** Known users [{user_id, role}] from the activity list and the enrolled devices. */
  users() {
    if (!usersPromise) {
      usersPromise = Promise.allSettled([get('/api/v1/activity'), get('/api/v1/devices')]).then(([activity, devices]) => {
        const byId = new Map();
        if (activity.status === 'fulfilled') {
          for (const officer of activity.value.officers || []) byId.set(officer.user_id, officer.role || null);
        }
        if (devices.status === 'fulfilled') {
          for (const device of devices.value.devices || []) {
            if (!byId.has(device.user_id) || !byId.get(device.user_id)) byId.set(device.user_id, device.role);
          }
        }
        if (activity.status === 'rejected' && devices.status === 'rejected') {
          usersPromise = null;
          throw activity.reason;
        }
        return [...byId].map(([userId, role]) => ({ user_id: userId, role }))
          .sort((a, b) => a.user_id.localeCompare(b.user_id, 'en-GB'));
      });
    }
    return usersPromise;
  },

  forgetUsers() {
    usersPromise = null;
  },
};

// ---------------------------------------------------------------------------------------------
// Routing (common/router.js): new params for the page on show go to its update().

const router = createRouter({
  main,
  nav,
  pages: [overviewPage, worklistsPage, referralsPage, registerPage, householdPage, devicesPage, exportsPage, reportPage, auditPage, accountsPage],
  navFor: (key) => (key === 'household' ? 'register' : key),
  context: ctx,
  defaultKey: 'overview',
  siteTitle: SITE_TITLE,
  notFound: (container) => notFoundPage(container, 'the dashboard', '#/overview', 'Go to the overview'),
  updateInPlace: true,
  canRoute: () => session !== null,
});

// ---------------------------------------------------------------------------------------------
// Session

function showChrome(signedIn) {
  nav.hidden = !signedIn;
  sessionBox.hidden = !signedIn;
  sessionUser.textContent = signedIn ? session.username : '';
}

function startSession(data) {
  session = { username: String(data.username || '') };
  setCsrfToken(data.csrf_token);
  overviewPromise = null;
  usersPromise = null;
  showChrome(true);
  router.route();
}

function retryText(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return '';
  const minutes = Math.ceil(seconds / 60);
  const at = new Date(Date.now() + seconds * 1000);
  const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  return ` You can try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'} (at ${hhmm}).`;
}

function showLogin(notice) {
  router.unmount();
  registerPage.forget(); // the next person to sign in does not inherit a search
  session = null;
  router.setFocusOnNext(false);
  setCsrfToken(null);
  showChrome(false);
  router.clearNav();
  document.title = `Sign in — ${SITE_TITLE}`;

  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true, 'data-testid': 'login-username' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const error = h('div', { id: 'login-error', class: 'form-error', role: 'alert', 'data-testid': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'button', id: 'login-submit', 'data-testid': 'login-submit' }, 'Sign in');
  const form = h('form', { class: 'login-form', id: 'login-form', 'aria-describedby': 'login-intro', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: username.id }, 'Username'), username),
    h('div', { class: 'field' }, h('label', { for: password.id }, 'Password'), password),
    error,
    submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.replaceChildren();
    if (!username.value.trim() || !password.value) {
      error.append(h('p', null, 'Enter your username and password.'));
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const data = await api('/api/v1/session', {
        method: 'POST', json: { username: username.value.trim(), password: password.value }, allow401: true,
      });
      // Signing in is a page change: focus goes to the new page's heading, not back to the top.
      router.setFocusOnNext(true);
      startSession(data);
    } catch (failure) {
      let message = failure.message || 'Sign-in failed.';
      if (failure.status === 401) message = (failure.body && failure.body.error) || 'Wrong username or password.';
      if (failure.status === 429) {
        message = `${(failure.body && failure.body.error) || 'This account is locked after too many failed attempts.'}${retryText(failure.body && failure.body.retry_after_s)}`;
      }
      error.append(h('p', null, message));
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  setChildren(main, h('div', { class: 'page page-login', 'data-page': 'login' },
    h('h1', { tabindex: '-1' }, 'Sign in'),
    h('p', { id: 'login-intro' }, 'Sign in with your coordinator account to see Safer Streets visits and Commute Aware sessions.'),
    notice ? h('p', { class: 'notice', role: 'status', 'data-testid': 'login-notice' }, notice) : null,
    form));
  username.focus();
}

async function logout() {
  try {
    await del('/api/v1/session');
  } catch (error) {
    if (!isQuiet(error)) announce(`Sign-out problem: ${error.message}`);
  }
  showLogin('You have signed out.');
}

async function boot() {
  setupCharts();
  document.getElementById('logout-button').addEventListener('click', logout);
  document.getElementById('skip-link').addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
    main.scrollIntoView();
  });
  window.addEventListener('hashchange', () => router.route());
  onUnauthorized(() => {
    if (session) showLogin('Your session has ended. Please sign in again.');
  });

  await checkSession();
}

async function checkSession() {
  const state = createStateArea('boot-state');
  setChildren(main, state.element);
  state.set('loading', 'Loading…');
  try {
    const data = await api('/api/v1/session', { allow401: true });
    startSession(data);
  } catch (error) {
    if (error.status === 401) showLogin();
    else state.set('error', error.message, checkSession);
  }
}

boot();
