// app.js — entry point: the sync banner, the PIN lock, hash routing and shared look-ups.
//
// Routes are "#/<page>?<params>"; each page module exports
//   {key, title, mount(container, params, ctx) → {unmount()}}.
// A new hash mounts the page afresh (pages that keep state across visits, such as the Commute
// Aware tap queue, keep it in their module).

import { get, query, onLocked } from './api.js';
import { h, setChildren, setText, DEFAULT_WARDS, DEFAULT_STATIONS, ROLE_LABELS, label } from './dom.js';
import { createBanner } from './banner.js';
import { createLock } from './lock.js';
import todayPage from './page-today.js';
import visitPage from './page-visit.js';
import commutePage from './page-commute.js';
import syncPage from './page-sync.js';
import householdPage from './page-household.js';

const PAGES = Object.fromEntries(
  [todayPage, visitPage, commutePage, syncPage, householdPage].map((page) => [page.key, page]),
);
/** Which navigation tab is current for each page. */
const NAV_FOR = { today: 'today', visit: 'today', household: 'today', commute: 'commute', sync: 'sync' };
const SITE_TITLE = 'Safer Streets field sync';

const shell = document.getElementById('app-shell');
const main = document.getElementById('main');
const nav = document.getElementById('app-nav');
const userBox = document.getElementById('app-user');
const navRejected = document.getElementById('nav-rejected');

let current = null; // {hash, key, instance}
let routedOnce = false;
let flashMessage = null;
let accessBlocked = false;

// ---------------------------------------------------------------------------------------------
// Shared look-ups

let referencePromise = null;

function stringList(value) {
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string' && item !== '') : [];
}

const ctx = {
  /** Goes to #/key?params (replace: without a new history entry). */
  navigate(key, params = {}, { replace = false } = {}) {
    const hash = `#/${key}${query(params)}`;
    if (replace) {
      window.history.replaceState(null, '', hash);
      route(true);
    } else if (window.location.hash === hash) {
      route(true);
    } else {
      window.location.hash = hash;
    }
  },

  /** Updates the hash's params without re-mounting the page (e.g. the search text). */
  replaceParams(key, params) {
    const hash = `#/${key}${query(params)}`;
    window.history.replaceState(null, '', hash);
    if (current) current.hash = hash;
  },

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

  /** The household with this id from GET /api/households, or null. */
  async household(id) {
    const data = await get('/api/households');
    return (data && Array.isArray(data.households) ? data.households : []).find((item) => item.id === id) || null;
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
// Routing

function parseHash() {
  const raw = window.location.hash.slice(1); // "/visit?household=…"
  const mark = raw.indexOf('?');
  const pathPart = (mark === -1 ? raw : raw.slice(0, mark)).replace(/^\/+|\/+$/g, '');
  const params = new URLSearchParams(mark === -1 ? '' : raw.slice(mark + 1));
  return { key: pathPart || 'today', params };
}

function setActiveNav(key) {
  for (const link of nav.querySelectorAll('a[data-page]')) {
    if (link.dataset.page === NAV_FOR[key]) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function unmountCurrent() {
  if (current && current.instance && typeof current.instance.unmount === 'function') current.instance.unmount();
  current = null;
}

function notFound(container) {
  setChildren(container,
    h('h1', { tabindex: '-1' }, 'Page not found'),
    h('p', null, 'There is no such page in the app. ', h('a', { href: '#/today' }, 'Go to Today'), '.'));
  return { unmount() {} };
}

function route(force = false) {
  if (accessBlocked) return;
  const hash = window.location.hash;
  if (!hash.startsWith('#/')) {
    // "#main" (skip link without script) or nothing: keep the page, or start at Today.
    if (current) return;
    window.history.replaceState(null, '', '#/today');
  }
  if (!force && current && current.hash === window.location.hash) return;
  const { key, params } = parseHash();

  unmountCurrent();
  const page = PAGES[key];
  const container = h('div', { class: `page page-${key}`, 'data-page': key });
  main.replaceChildren(container);
  const instance = page ? page.mount(container, params, ctx) : notFound(container);
  current = { hash: window.location.hash, key, instance };
  setActiveNav(page ? key : null);
  document.title = `${page ? page.title : 'Page not found'} — ${SITE_TITLE}`;

  if (routedOnce) {
    window.scrollTo(0, 0);
    const heading = container.querySelector('h1');
    if (heading) heading.focus({ preventScroll: true });
  }
  routedOnce = true;
}

// ---------------------------------------------------------------------------------------------
// Boot

function showAccessProblem(message) {
  accessBlocked = true;
  unmountCurrent();
  setChildren(main, h('div', { class: 'page', 'data-testid': 'access-error' },
    h('h1', { tabindex: '-1' }, 'Open the app again'),
    h('div', { class: 'message message-error', role: 'alert' },
      h('p', null, message),
      h('p', null, 'This page was not opened from the address that field-client ui printed when it started ' +
        '(the address changes at every start). Close this page and open the app again from that address.'))));
}

const banner = createBanner(document.getElementById('banner-slot'), { onAccessProblem: showAccessProblem });
const lock = createLock(document.getElementById('lock-slot'), {
  shell,
  onUnlocked: () => banner.refresh(),
});
onLocked(() => lock.waitForUnlock());

banner.subscribe((status, { requestedAt }) => {
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
window.addEventListener('hashchange', () => route());
route();
