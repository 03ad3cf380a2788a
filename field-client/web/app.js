// app.js — entry point: the sync banner, the PIN lock, hash routing and shared look-ups.
//
// Routes are "#/<page>?<params>"; each page module exports
//   {key, title, mount(container, params, ctx) → {unmount()}}.
// A new hash mounts the page afresh (pages that keep state across visits, such as the Commute
// Aware tap queue, keep it in their module).

import { get, onLocked, path, ApiError } from './api.js';
import { h, setChildren, setText, DEFAULT_WARDS, DEFAULT_STATIONS, ROLE_LABELS, label } from './dom.js';
import { createRouter, notFoundPage } from './common/router.js';
import { createBanner } from './banner.js';
import { createLock } from './lock.js';
import { mountEnrolment } from './enrol.js';
import todayPage from './page-today.js';
import visitPage from './page-visit.js';
import commutePage from './page-commute.js';
import syncPage from './page-sync.js';
import householdPage from './page-household.js';

/** Which navigation tab is current for each page. */
const NAV_FOR = { today: 'today', visit: 'today', household: 'today', commute: 'commute', sync: 'sync' };

const shell = document.getElementById('app-shell');
const main = document.getElementById('main');
const nav = document.getElementById('app-nav');
const userBox = document.getElementById('app-user');
const navRejected = document.getElementById('nav-rejected');

let flashMessage = null;
let accessBlocked = false;

// ---------------------------------------------------------------------------------------------
// Shared look-ups

let referencePromise = null;

function stringList(value) {
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string' && item !== '') : [];
}

const ctx = {
  navigate: (key, params, options) => router.navigate(key, params, options),
  replaceParams: (key, params) => router.replaceParams(key, params),

  /** GET /api/reference, cached; wards and stations fall back to protocol.md §5.5's defaults. */
  reference() {
    if (!referencePromise) {
      referencePromise = get('/api/reference').then((data) => {
        const ref = data && typeof data === 'object' ? data : {};
        const wards = stringList(ref.wards);
        const stations = stringList(ref.stations);
        return { ...ref, wards: wards.length ? wards : DEFAULT_WARDS, stations: stations.length ? stations : DEFAULT_STATIONS };
      }).catch((error) => {
        referencePromise = null;
        throw error;
      });
    }
    return referencePromise;
  },

  /** The household with this id (GET /api/households/{id}, whichever page of the list it is on), or null. */
  async household(id) {
    try {
      const data = await get(path('/api/households', id));
      return data && data.household && typeof data.household === 'object' ? data.household : null;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  },

  /** A message for the next page to show (e.g. "Saved on this tablet"). */
  flash(message) { flashMessage = message; },
  takeFlash() {
    const message = flashMessage;
    flashMessage = null;
    return message;
  },

  status: () => banner.current(),
  onStatus: (listener) => banner.subscribe(listener),
  refreshStatus: () => banner.refresh(),
  syncNow: () => banner.syncNow(),
};

// ---------------------------------------------------------------------------------------------
// Routing (common/router.js): a new hash mounts its page afresh.

const router = createRouter({
  main,
  nav,
  pages: [todayPage, visitPage, commutePage, syncPage, householdPage],
  context: ctx,
  defaultKey: 'today',
  siteTitle: 'Safer Streets field sync',
  notFound: (container) => notFoundPage(container, 'the app', '#/today', 'Go to Today'),
  navFor: (key) => NAV_FOR[key],
  pageClass: (key) => `page page-${key}`,
  canRoute: () => !accessBlocked,
  focusOptions: { preventScroll: true },
});

// ---------------------------------------------------------------------------------------------
// Boot

function showAccessProblem(message) {
  accessBlocked = true;
  router.unmount();
  setChildren(main, h('div', { class: 'page', 'data-testid': 'access-error' },
    h('h1', { tabindex: '-1' }, 'Open the app again'),
    h('div', { class: 'message message-error', role: 'alert' },
      h('p', null, message),
      h('p', null, 'This page was not opened from the address that field-client ui printed when it started ' +
        '(the address changes at every start). Close this page and open the app again from that address.'))));
}

/** Not enrolled (GET /api/status says "enrolled": false): the enrolment page, and nothing else. */
let enrolment = null;
function showEnrolment() {
  if (enrolment) return;
  accessBlocked = true;
  router.unmount();
  lock.hide();
  shell.classList.add('app-enrolling');
  enrolment = mountEnrolment(main, {
    onEnrolled: () => {
      enrolment.unmount();
      enrolment = null;
      accessBlocked = false;
      shell.classList.remove('app-enrolling');
      ctx.flash('This tablet is enrolled. It syncs by itself from now on.');
      router.navigate('today', {}, { replace: true });
      banner.refresh();
    },
  });
}

/** The store was erased (GET /api/status says "wiped"): why, and what to do; nothing else shows. */
function showWiped(reason) {
  if (accessBlocked) return;
  accessBlocked = true;
  router.unmount();
  lock.hide();
  const why = reason === 'coordinator'
    ? 'A coordinator ordered this tablet wiped (for example because it was reported lost, or passed on).'
    : 'Too many wrong PINs were entered.';
  setChildren(main, h('div', { class: 'page', 'data-testid': 'wiped' },
    h('h1', { tabindex: '-1' }, 'This tablet was wiped'),
    h('div', { class: 'message message-error', role: 'alert' },
      h('p', null, why),
      h('p', null, 'Every household, visit and session on it, every change waiting to sync, its sign-in token and ' +
        'its key were erased. Nothing that was already synced is lost: it is on the server.'),
      h('p', null, 'The tablet must be enrolled again before it can be used: ask your coordinator for an enrolment code.')),
    h('button', {
      type: 'button', class: 'button button-big', 'data-testid': 'enrol-again',
      onclick: () => { accessBlocked = false; showEnrolment(); },
    }, 'Enrol this tablet again')));
  main.querySelector('h1').focus();
}

const banner = createBanner(document.getElementById('banner-slot'), { onAccessProblem: showAccessProblem });
const lock = createLock(document.getElementById('lock-slot'), {
  shell,
  onUnlocked: () => banner.refresh(),
});
onLocked(() => lock.waitForUnlock());

banner.subscribe((status, { requestedAt }) => {
  if (typeof status.wiped === 'string') {
    if (!enrolment) showWiped(status.wiped);
    return;
  }
  if (status.enrolled === false) {
    showEnrolment();
    return;
  }
  if (status.locked && !lock.isShown()) lock.show();
  // Unlocked elsewhere (or the lock was lifted): only a status asked for after the lock showed
  // counts, or a poll already on its way when a request got 423 would hide it at once.
  else if (status.locked === false && lock.isShown() && requestedAt > lock.shownAt()) lock.hide();

  const who = [status.user_id, status.role ? label(ROLE_LABELS, status.role) : null].filter(Boolean).join(' · ');
  setText(userBox, who);
  const refused = Number.isFinite(status.rejected) ? status.rejected : 0;
  navRejected.hidden = refused === 0;
  if (navRejected.dataset.value !== String(refused)) {
    setChildren(navRejected, String(refused), h('span', { class: 'visually-hidden' }, refused === 1 ? ' refused change' : ' refused changes'));
    navRejected.dataset.value = String(refused);
  }
});

document.getElementById('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
  main.scrollIntoView();
});
window.addEventListener('hashchange', () => router.route());
router.route();
