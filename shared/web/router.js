// router.js — hash routing for both apps: "#/<page>?<params>".
//
// Each page module exports {key, title, mount(container, params, ctx) → {update?(params), unmount()}}.
// The router mounts the page for the hash into `main`, marks the current link in `nav`
// (a[data-page]), sets the document title, and after the first page moves focus to the new
// page's <h1> (so a screen reader hears the page change) and scrolls to the top.

import { h, setChildren } from './dom.js';
import { query } from './api.js';

/**
 * "#/visit?household=…" → {key: 'visit', params: URLSearchParams}; an empty key → defaultKey;
 * "#/household/<id>" → {key: 'household', params: {id}}.
 */
export function parseHash(hash, defaultKey) {
  const raw = hash.replace(/^#/, '');
  const mark = raw.indexOf('?');
  let key = (mark === -1 ? raw : raw.slice(0, mark)).replace(/^\/+|\/+$/g, '');
  const params = new URLSearchParams(mark === -1 ? '' : raw.slice(mark + 1));
  // "#/household/<id>": a record's page, with its id as the `id` param.
  const slash = key.indexOf('/');
  if (slash !== -1) {
    params.set('id', decodeURIComponent(key.slice(slash + 1)));
    key = key.slice(0, slash);
  }
  return { key: key || defaultKey, params };
}

export const hashFor = (key, params = {}) => `#/${key}${query(params)}`;

/**
 * options:
 *   main, nav      the elements pages go into and the navigation links live in
 *   pages          the page modules
 *   context        the ctx every page's mount() gets (the app's look-ups and navigate)
 *   defaultKey     the page for "#/" and for no hash at all
 *   siteTitle      "<page title> — <siteTitle>"
 *   notFound(container) → instance   the page for an unknown key
 *   navFor(key)    which nav link is current for a page (default: the page's own)
 *   pageClass(key) the container's class (default "page")
 *   updateInPlace  true: a new hash for the page on show calls its update(params);
 *                  false: it mounts the page afresh (unless the hash is the same)
 *   canRoute()     false while the app shows something else (sign-in, access error)
 *   focusOptions   passed to the heading's focus()
 * Returns {route(force), navigate(key, params, {replace}), replaceParams(key, params),
 *          unmount(), setFocusOnNext(bool), clearNav()}.
 */
export function createRouter(options) {
  const {
    main, nav, pages, defaultKey, siteTitle, notFound, context,
    navFor = (key) => key, pageClass = () => 'page', updateInPlace = false,
    canRoute = () => true, focusOptions,
  } = options;
  const byKey = Object.fromEntries(pages.map((page) => [page.key, page]));
  let current = null; // {hash, key, instance}
  let focusNext = false; // false until the first page has been shown

  function setActiveNav(key) {
    const wanted = key === null ? null : navFor(key);
    for (const link of nav.querySelectorAll('a[data-page]')) {
      if (wanted !== null && link.dataset.page === wanted) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  }

  function unmount() {
    if (current && current.instance && typeof current.instance.unmount === 'function') current.instance.unmount();
    current = null;
  }

  function mount(key, params) {
    unmount();
    const page = byKey[key];
    const container = h('div', { class: pageClass(key), 'data-page': key });
    main.replaceChildren(container);
    const instance = page ? page.mount(container, params, context) : notFound(container);
    current = { hash: window.location.hash, key, instance };
    setActiveNav(page ? key : null);
    document.title = `${page ? page.title : 'Page not found'} — ${siteTitle}`;
    if (focusNext) {
      window.scrollTo(0, 0);
      const heading = container.querySelector('h1');
      if (heading) heading.focus(focusOptions);
    }
    focusNext = true;
  }

  function route(force = false) {
    if (!canRoute()) return;
    if (!window.location.hash.startsWith('#/')) {
      // "#main" (skip link without script) or nothing: keep the page, or start at the default.
      if (current) return;
      window.history.replaceState(null, '', `#/${defaultKey}`);
    }
    const { key, params } = parseHash(window.location.hash, defaultKey);
    if (updateInPlace && current && current.key === key) {
      current.instance.update(params);
      current.hash = window.location.hash;
      return;
    }
    if (!updateInPlace && !force && current && current.hash === window.location.hash) return;
    mount(key, params);
  }

  const api = {
    route,
    unmount,
    /** Goes to #/key?params (replace: without a new history entry). */
    navigate(key, params = {}, { replace = false } = {}) {
      const hash = hashFor(key, params);
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
      const hash = hashFor(key, params);
      window.history.replaceState(null, '', hash);
      if (current) current.hash = hash;
    },
    /** Whether the next page shown takes focus (false: as on the first page of a load). */
    setFocusOnNext(value) { focusNext = Boolean(value); },
    clearNav() { setActiveNav(null); },
  };
  return api;
}

/** The "Page not found" page, with a link to where the app starts. */
export function notFoundPage(container, where, homeHash, homeText) {
  setChildren(container,
    h('h1', { tabindex: '-1' }, 'Page not found'),
    h('p', null, `There is no such page in ${where}. `, h('a', { href: homeHash }, homeText), '.'));
  return { update() {}, unmount() {} };
}
