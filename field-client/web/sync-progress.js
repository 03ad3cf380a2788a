// sync-progress.js — how far a running sync has got, from GET /api/status's "progress":
// "Receiving households and visits: 3,500 of about 60,000 (page 7)", a <progress> bar, and the
// time left once a few pages are in. A server that sends no estimate (an older one) gives
// pages and records without a total, and the bar moves without an end.
//
// Screen readers: the bar is a progressbar with aria-valuenow; the text beside it is not a live
// region (it changes every second). Progress is announced through the page's polite live region
// at the start, at each quarter, and never more often than every 10 seconds.

import { h, setText, formatNumber, plural, announce } from './dom.js';

const PAGES_BEFORE_ESTIMATE = 3;
const MIN_MS_BEFORE_ESTIMATE = 2000;
const ANNOUNCE_EVERY_MS = 10000;
const PUSH_BATCH = 500; // the client's changes per push: a push of one batch shows no bar

/** "about 3 minutes left", "less than a minute left", or '' when it cannot be told yet. */
export function timeLeftText(progress) {
  const { received, remaining, pages, elapsed_ms: elapsed } = progress;
  if (!Number.isFinite(remaining) || !Number.isFinite(elapsed) || !(received > 0)) return '';
  if (pages < PAGES_BEFORE_ESTIMATE || elapsed < MIN_MS_BEFORE_ESTIMATE) return '';
  const seconds = (remaining * elapsed) / received / 1000;
  if (seconds < 60) return 'less than a minute left';
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `about ${plural(minutes, 'minute', 'minutes')} left` : `about ${Math.round(minutes / 60)} hours left`;
}

/**
 * The line shown for a status's progress, and the bar's value and maximum (null: no end
 * known); null when there is nothing worth a bar: connecting (the banner says "Syncing…"), a
 * push of one batch, a pull that was all in its first page.
 */
export function describeProgress(progress) {
  if (!progress || typeof progress !== 'object') return null;
  const number = (value) => (Number.isFinite(value) && value >= 0 ? value : 0);
  if (progress.phase === 'pushing' && number(progress.to_push) > PUSH_BATCH) {
    const sent = Math.min(number(progress.pushed), number(progress.to_push));
    return { text: `Sending changes: ${formatNumber(sent)} of ${formatNumber(progress.to_push)}`, value: sent, max: progress.to_push };
  }
  if (progress.phase !== 'pulling' || number(progress.pages) === 0) return null;
  if (number(progress.pages) === 1 && progress.remaining === 0) return null;
  const received = number(progress.received);
  const page = `(page ${formatNumber(number(progress.pages))})`;
  if (!Number.isFinite(progress.remaining)) {
    return { text: `Receiving households and visits: ${formatNumber(received)} so far ${page}`, value: null, max: null };
  }
  const total = received + number(progress.remaining);
  return {
    text: `Receiving households and visits: ${formatNumber(received)} of about ${formatNumber(total)} ${page}`,
    value: received,
    max: Math.max(total, 1),
    left: timeLeftText(progress),
  };
}

/**
 * The progress block: element (hidden while no sync runs), and update(status) after each poll.
 * `testid` prefixes the data-testid of its parts; `speaks`: this block announces (only one of
 * those on screen should, so that nothing is said twice).
 */
export function createSyncProgress(testid, { speaks = false } = {}) {
  const text = h('p', { class: 'sync-progress-text', 'data-testid': `${testid}-text` });
  const bar = h('progress', { class: 'sync-progress-bar', 'data-testid': `${testid}-bar`, 'aria-label': 'Sync progress' });
  const left = h('p', { class: 'sync-progress-left', 'data-testid': `${testid}-left` });
  const element = h('div', { class: 'sync-progress', 'data-testid': testid, hidden: true }, text, bar, left);
  let lastAnnounced = { at: 0, quarter: -1, running: false };

  function say(shown, now) {
    const quarter = shown.max ? Math.floor((4 * shown.value) / shown.max) : -1;
    const first = !lastAnnounced.running;
    if (!first && (quarter === lastAnnounced.quarter || now - lastAnnounced.at < ANNOUNCE_EVERY_MS)) return;
    if (!first && quarter < 0) return; // no total: only the start and the end are announced
    announce(shown.text);
    lastAnnounced = { at: now, quarter, running: true };
  }

  function update(status) {
    const shown = status && status.syncing ? describeProgress(status.progress) : null;
    if (!shown) {
      if (speaks && lastAnnounced.running && lastAnnounced.quarter >= 0) announce('Sync finished receiving.');
      lastAnnounced = { at: 0, quarter: -1, running: false };
      element.hidden = true;
      return;
    }
    element.hidden = false;
    setText(text, shown.text);
    if (shown.max) {
      bar.max = shown.max;
      bar.value = shown.value;
      bar.setAttribute('aria-valuenow', String(shown.value));
      bar.setAttribute('aria-valuemax', String(shown.max));
      bar.setAttribute('aria-valuetext', shown.text);
    } else {
      bar.removeAttribute('value'); // indeterminate: no end known
      bar.removeAttribute('aria-valuenow');
      bar.removeAttribute('aria-valuemax');
      bar.setAttribute('aria-valuetext', shown.text);
    }
    element.dataset.received = String(shown.value === null ? (Number(status.progress.received) || 0) : shown.value);
    element.dataset.phase = String(status.progress.phase || '');
    setText(left, shown.left || '');
    left.hidden = !shown.left;
    if (speaks && status.progress.phase === 'pulling') say(shown, Date.now());
  }

  return { element, update };
}
