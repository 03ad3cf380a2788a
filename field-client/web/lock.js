// lock.js — the full-screen PIN lock.
//
//   POST /api/unlock {"pin": "…"}  → 200 (unlocked); 403 {attempts_left, retry_after_seconds}
//   (wrong PIN); 429 {retry_after_seconds} (too many wrong PINs in a row: wait before the next
//   try); 410 {code: "wiped"} (that was the last one allowed: the store was erased, and the
//   tablet must be enrolled again; app.js then shows why).
//
// The PIN is the key of the tablet's encrypted store: until it is given the store is not even
// open. The lock is shown when GET /api/status says "locked" (as it does at every start when a
// PIN is set), or when any request gets 423. While it is shown, the rest of the app is hidden and inert
// (nothing personal shows behind it), but kept as it was: a visit half typed in is still there
// after the PIN. During a wait the Unlock button is off and counts down.

import { api, ApiError } from './api.js';
import { h, setText } from './dom.js';

/** The keypad: 1-9, Clear, 0, Delete. Each key edits `input`; a digit then calls onDigit(). */
function pinKeys(input, onDigit) {
  const digitKey = (digit) => h('button', {
    type: 'button', class: 'pin-key', 'data-testid': `pin-key-${digit}`,
    onclick: () => { input.value += digit; onDigit(); },
  }, digit);
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map(digitKey);
  keys.push(h('button', {
    type: 'button', class: 'pin-key pin-key-action', 'data-testid': 'pin-clear', onclick: () => { input.value = ''; input.focus(); },
  }, 'Clear'));
  keys.push(digitKey('0'));
  keys.push(h('button', {
    type: 'button', class: 'pin-key pin-key-action', 'aria-label': 'Delete last digit', 'data-testid': 'pin-backspace',
    onclick: () => { input.value = input.value.slice(0, -1); input.focus(); },
  }, h('span', { 'aria-hidden': 'true' }, '⌫')));
  return keys;
}

/** The full-screen dialog around the PIN form (hidden until show()). */
function lockScreen(form) {
  return h('div', {
    class: 'lock-screen', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'lock-title',
    'data-testid': 'pin-lock', hidden: true,
  },
  h('div', { class: 'lock-box' },
    h('div', { class: 'lock-glyph', 'aria-hidden': 'true' }),
    h('h1', { id: 'lock-title', tabindex: '-1' }, 'Locked'),
    h('p', { id: 'pin-hint', class: 'lock-hint' }, 'The app is locked: it locks when it starts and after a while without use. Enter your PIN to carry on. Nothing you were doing has been lost.'),
    form));
}

/**
 * A refused PIN → {message for the officer, lockedOut (the store was erased: enrol again),
 * waitSeconds (before the next try; 0: none)}.
 */
function describeRefusal(failure) {
  const refused = { message: failure.message, lockedOut: false, waitSeconds: 0 };
  if (!(failure instanceof ApiError)) return refused;
  const body = failure.body || {};
  if (failure.status === 410) {
    return { ...refused, lockedOut: true,
      message: 'Too many wrong PINs: everything on this tablet was erased. It must be enrolled again: ask your coordinator.' };
  }
  const seconds = Number.isFinite(body.retry_after_seconds) ? body.retry_after_seconds : 0;
  refused.waitSeconds = seconds > 0 ? seconds : 0;
  if (failure.status === 429) return { ...refused, message: `Too many wrong PINs. Wait ${seconds} seconds, then try again.` };
  if (failure.status !== 403) return refused;
  const left = Number.isFinite(body.attempts_left) ? body.attempts_left : null;
  if (seconds > 0) return { ...refused, message: `Wrong PIN. Wait ${seconds} seconds, then try again.` };
  if (left !== null && left <= 3) {
    return { ...refused, message: `Wrong PIN. ${left} ${left === 1 ? 'try' : 'tries'} left before everything on this tablet is erased.` };
  }
  return { ...refused, message: 'Wrong PIN. Try again.' };
}

/**
 * createLock(slot, {shell, onUnlocked}) → {show(), hide(), waitForUnlock(), isShown()}.
 * shell: the element holding the rest of the app.
 */
export function createLock(slot, { shell, onUnlocked } = {}) {
  let shown = false;
  let shownAt = 0;
  let waiters = [];
  let returnFocus = null;
  let busy = false;
  let waitUntil = 0; // Date.now() before which the service checks no PIN
  let waitTimer = null;
  let lockedOut = false;

  const input = h('input', {
    id: 'pin-input', type: 'password', inputmode: 'numeric', autocomplete: 'off', enterkeyhint: 'go',
    class: 'pin-input', 'data-testid': 'pin-input', 'aria-describedby': 'pin-hint pin-error',
  });
  const error = h('p', { id: 'pin-error', class: 'pin-error', role: 'alert', 'data-testid': 'pin-error' });
  const submit = h('button', { type: 'submit', class: 'button button-big pin-submit', 'data-testid': 'pin-submit' }, 'Unlock');

  const keys = pinKeys(input, () => { if (!lockedOut && Date.now() >= waitUntil) setText(error, ''); });

  const form = h('form', { class: 'pin-form', novalidate: true },
    h('label', { for: input.id, class: 'pin-label' }, 'PIN'),
    input,
    error,
    h('div', { class: 'pin-pad', role: 'group', 'aria-label': 'PIN keypad' }, keys),
    submit);

  const screen = lockScreen(form);
  slot.replaceChildren(screen);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy || lockedOut || Date.now() < waitUntil) return;
    const pin = input.value.trim();
    if (!pin) {
      setText(error, 'Enter your PIN.');
      input.focus();
      return;
    }
    busy = true;
    showSubmit();
    try {
      await api('/api/unlock', { method: 'POST', json: { pin }, noLockWait: true });
      hide();
      if (onUnlocked) onUnlocked();
    } catch (failure) {
      const refused = describeRefusal(failure);
      if (refused.lockedOut) lockedOut = true;
      if (refused.waitSeconds > 0) startWait(refused.waitSeconds);
      setText(error, refused.message);
      input.value = '';
      input.focus();
    } finally {
      busy = false;
      showSubmit();
    }
  });

  function startWait(seconds) {
    waitUntil = Date.now() + seconds * 1000;
    clearInterval(waitTimer);
    waitTimer = setInterval(() => {
      if (Date.now() >= waitUntil) {
        clearInterval(waitTimer);
        waitTimer = null;
      }
      showSubmit();
    }, 250);
  }

  /** The Unlock button: off while checking, during a wait (with the seconds left) and when locked out. */
  function showSubmit() {
    const left = Math.ceil((waitUntil - Date.now()) / 1000);
    submit.disabled = busy || lockedOut || left > 0;
    let label = 'Unlock';
    if (busy) label = 'Checking…';
    else if (lockedOut) label = 'Locked';
    else if (left > 0) label = `Wait ${left} s`;
    if (submit.textContent !== label) setText(submit, label);
    submit.dataset.value = lockedOut ? 'locked-out' : left > 0 ? 'waiting' : 'ready';
  }

  function show() {
    if (shown) return;
    shown = true;
    shownAt = Date.now();
    returnFocus = document.activeElement;
    input.value = '';
    if (!lockedOut && Date.now() >= waitUntil) setText(error, '');
    showSubmit();
    shell.hidden = true;
    shell.inert = true;
    screen.hidden = false;
    document.documentElement.classList.add('is-locked');
    input.focus();
  }

  function hide() {
    if (!shown) return;
    shown = false;
    screen.hidden = true;
    shell.hidden = false;
    shell.inert = false;
    input.value = '';
    document.documentElement.classList.remove('is-locked');
    if (returnFocus && returnFocus.isConnected && typeof returnFocus.focus === 'function') returnFocus.focus();
    returnFocus = null;
    const resolve = waiters;
    waiters = [];
    for (const fn of resolve) fn();
  }

  return {
    show,
    hide,
    isShown: () => shown,
    /** When the lock was last shown (a status asked for before then is out of date). */
    shownAt: () => shownAt,
    /** Shows the lock (if needed) and resolves once the PIN has been accepted. */
    waitForUnlock() {
      show();
      return new Promise((resolve) => { waiters.push(resolve); });
    },
  };
}
