// banner.js — the sync banner at the top of every page, and the status poll behind it.
//
//   GET  /api/status   every 2 seconds (and at once after a change or "Sync now")
//   POST /api/sync     "Sync now"
//
// Everyone else (the lock screen, the navigation badge, the Sync page) learns the status
// through subscribe(). The poll never waits for the PIN: /api/status answers while locked.

import { get, postJson, ApiError, NOT_REACHABLE } from './api.js';
import { h, setText, formatWhen, plural, announce } from './dom.js';
import { createSyncProgress } from './sync-progress.js';

const POLL_MS = 2000;
const POLL_SYNCING_MS = 1000; // while a sync runs: its progress moves

const ONLINE_STATES = {
  online: { glyph: '✓', text: 'Online', detail: 'Connected to the sync server' },
  offline: { glyph: '✕', text: 'Offline', detail: 'Working offline: everything is kept on this tablet' },
  unknown: { glyph: '?', text: 'Not connected yet', detail: 'No sync has been tried since the app started' },
};

function onlineKey(status) {
  if (status.online === true) return 'online';
  if (status.online === false) return 'offline';
  return 'unknown';
}

function clockText(offsetMs) {
  const minutes = Math.round(Math.abs(Number(offsetMs) || 0) / 60000);
  const amount = minutes >= 120 ? `about ${Math.round(minutes / 60)} hours`
    : minutes >= 1 ? `about ${plural(minutes, 'minute', 'minutes')}` : 'a little';
  return `This tablet’s clock is ${amount} out from the sync server’s: ` +
    'set the right date and time in the tablet’s settings, or changes may be refused.';
}

/** The banner's elements (filled in by createBanner's render()). */
function bannerElements() {
  const onlineGlyph = h('span', { class: 'pill-glyph', 'aria-hidden': 'true' }, '?');
  const onlineText = h('span', { class: 'pill-text' }, 'Checking…');
  const online = h('span', { class: 'pill pill-unknown', 'data-testid': 'banner-online', 'data-value': 'unknown' }, onlineGlyph, onlineText);
  const pending = h('span', { class: 'banner-pending', 'data-testid': 'banner-pending', 'data-value': '0' }, '');
  const liveLine = h('p', { class: 'banner-live', role: 'status', 'aria-live': 'polite' }, online, ' ', pending);

  const lastSync = h('p', { class: 'banner-last', 'data-testid': 'banner-last-sync' }, 'Last sync: —');
  const syncing = h('p', { class: 'banner-syncing', 'data-testid': 'banner-syncing', hidden: true },
    h('span', { class: 'spin', 'aria-hidden': 'true' }, '⟳'), ' Syncing…');
  const syncButton = h('button', { type: 'button', class: 'button button-light banner-button', 'data-testid': 'sync-now' },
    h('span', { 'aria-hidden': 'true' }, '⇅ '), 'Sync now');

  const error = h('p', { class: 'banner-alert banner-error', 'data-testid': 'banner-error', role: 'alert', hidden: true });
  const clock = h('p', { class: 'banner-alert banner-clock', 'data-testid': 'banner-clock', role: 'alert', hidden: true });
  const rejectedLink = h('a', { href: '#/sync', class: 'banner-rejected-link' });
  const rejected = h('p', { class: 'banner-alert banner-rejected', 'data-testid': 'banner-rejected', 'data-value': '0', hidden: true },
    rejectedLink);

  const progress = createSyncProgress('banner-progress', { speaks: true });

  const banner = h('section', { class: 'banner', 'data-testid': 'sync-banner', 'aria-label': 'Sync status' },
    h('div', { class: 'banner-row' },
      liveLine,
      h('div', { class: 'banner-right' }, h('div', { class: 'banner-times' }, lastSync, syncing), syncButton)),
    progress.element, error, clock, rejected);
  return { banner, online, onlineGlyph, onlineText, pending, lastSync, syncing, syncButton, error, clock, rejected, rejectedLink, progress };
}

/** The online pill, the changes waiting and the last sync, from a status answer. */
function renderConnection({ online, onlineGlyph, onlineText, pending, lastSync }, status) {
  const key = onlineKey(status);
  const state = ONLINE_STATES[key];
  online.className = `pill pill-${key}`;
  online.dataset.value = key;
  online.title = state.detail;
  setText(onlineGlyph, state.glyph);
  setText(onlineText, state.text);

  const waiting = Number.isFinite(status.pending) ? status.pending : 0;
  pending.dataset.value = String(waiting);
  setText(pending, waiting === 0 ? 'All changes synced' : `${plural(waiting, 'change', 'changes')} waiting`);
  pending.classList.toggle('banner-pending-some', waiting > 0);

  setText(lastSync, status.last_sync_at ? `Last sync ${formatWhen(status.last_sync_at)}` : 'Never synced');
  if (status.last_sync_at) lastSync.dataset.value = status.last_sync_at;
  else delete lastSync.dataset.value;
}

/**
 * Builds the banner into `slot` and starts polling.
 * onAccessProblem(message): the local service refuses this page (403/421: no launch key).
 */
export function createBanner(slot, { onAccessProblem } = {}) {
  const listeners = new Set();
  let status = null;
  let pollTimer = null;
  let inFlight = false;
  let serviceDown = false;
  let manualSync = null; // {before: last_attempt_at} while a "Sync now" is being watched
  let lastErrorShown = '';
  let lastRejected = null;

  const { banner, online, onlineGlyph, onlineText, pending, lastSync, syncing, syncButton, error, clock, rejected, rejectedLink, progress } =
    bannerElements();
  slot.replaceChildren(banner);

  // --- rendering
  function render() {
    if (!status) return;
    renderConnection({ online, onlineGlyph, onlineText, pending, lastSync }, status);

    // Right after "Sync now", show "Syncing…" at once (a quick sync may end between polls).
    const isSyncing = Boolean(status.syncing) || Boolean(manualSync && Date.now() - manualSync.started < 1500);
    syncing.hidden = !isSyncing;
    banner.classList.toggle('is-syncing', isSyncing);
    progress.update(serviceDown ? null : status);

    let errorText = '';
    if (serviceDown) errorText = NOT_REACHABLE;
    else if (status.last_error) errorText = `Last sync failed: ${status.last_error}`;
    error.hidden = !errorText;
    if (errorText !== lastErrorShown) {
      setText(error, errorText ? `⚠ ${errorText}` : '');
      lastErrorShown = errorText;
    }

    clock.hidden = !status.clock_warning;
    if (status.clock_warning) setText(clock, `◷ ${clockText(status.clock_offset_ms)}`);

    const refused = Number.isFinite(status.rejected) ? status.rejected : 0;
    rejected.hidden = refused === 0;
    rejected.dataset.value = String(refused);
    setText(rejectedLink, refused ? `⚠ ${plural(refused, 'change was', 'changes were')} refused by the server — review and fix` : '');
    if (lastRejected !== null && refused > lastRejected) {
      announce(`${plural(refused, 'change was', 'changes were')} refused by the server. Open the Sync page to fix them.`);
    }
    lastRejected = refused;
  }

  function watchManualSync() {
    if (!manualSync || !status || status.syncing) return;
    if (status.last_attempt_at && status.last_attempt_at !== manualSync.before) {
      announce(status.last_error ? `Sync failed: ${status.last_error}` : 'Sync finished.');
      manualSync = null;
    } else if (Date.now() - manualSync.started > 60000) {
      manualSync = null;
    }
  }

  // --- polling
  async function poll() {
    if (inFlight) return;
    inFlight = true;
    window.clearTimeout(pollTimer);
    const requestedAt = Date.now();
    try {
      const data = await get('/api/status', null, { noLockWait: true });
      status = data && typeof data === 'object' ? data : {};
      serviceDown = false;
      watchManualSync();
      render();
      for (const listener of listeners) listener(status, { requestedAt });
    } catch (failure) {
      if (failure instanceof ApiError && (failure.status === 403 || failure.status === 421)) {
        if (onAccessProblem) onAccessProblem(failure.message);
        inFlight = false;
        return; // no more polling: the page cannot use the service without the launch key
      }
      serviceDown = true;
      if (!status) status = { online: null, pending: 0, rejected: 0 };
      render();
    } finally {
      inFlight = false;
    }
    pollTimer = window.setTimeout(poll, status && status.syncing ? POLL_SYNCING_MS : POLL_MS);
  }

  async function syncNow() {
    manualSync = { before: status ? status.last_attempt_at : null, started: Date.now() };
    render();
    announce('Syncing now…');
    try {
      await postJson('/api/sync', {});
    } catch (failure) {
      manualSync = null;
      announce(`Could not start a sync: ${failure.message}`);
    }
    refresh();
  }

  function refresh() {
    window.clearTimeout(pollTimer);
    pollTimer = window.setTimeout(poll, 150);
  }

  syncButton.addEventListener('click', syncNow);
  poll();

  return {
    element: banner,
    /** The last status answer (null before the first). */
    current: () => status,
    /** listener(status, {requestedAt}) after every successful poll; returns an unsubscribe function. */
    subscribe(listener) {
      listeners.add(listener);
      if (status) listener(status, { requestedAt: 0 });
      return () => listeners.delete(listener);
    },
    /** Polls soon (after a save, so that "changes waiting" moves at once). */
    refresh,
    syncNow,
  };
}
