// lock.js — the full-screen PIN lock.
//
//   POST /api/unlock {"pin": "…"}  → 200 (unlocked) or 403 (wrong PIN)
//
// It is shown when GET /api/status says "locked", or when any request gets 423. While it is
// shown, the rest of the app is hidden and inert (nothing personal shows behind it), but kept
// as it was: a visit half typed in is still there after the PIN.

import { api, ApiError } from './api.js';
import { h, setText } from './dom.js';

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

  const input = h('input', {
    id: 'pin-input', type: 'password', inputmode: 'numeric', autocomplete: 'off', enterkeyhint: 'go',
    class: 'pin-input', 'data-testid': 'pin-input', 'aria-describedby': 'pin-hint pin-error',
  });
  const error = h('p', { id: 'pin-error', class: 'pin-error', role: 'alert', 'data-testid': 'pin-error' });
  const submit = h('button', { type: 'submit', class: 'button button-big pin-submit', 'data-testid': 'pin-submit' }, 'Unlock');

  const keys = [];
  for (const digit of ['1', '2', '3', '4', '5', '6', '7', '8', '9']) keys.push(digitKey(digit));
  keys.push(h('button', {
    type: 'button', class: 'pin-key pin-key-action', 'data-testid': 'pin-clear', onclick: () => { input.value = ''; input.focus(); },
  }, 'Clear'));
  keys.push(digitKey('0'));
  keys.push(h('button', {
    type: 'button', class: 'pin-key pin-key-action', 'aria-label': 'Delete last digit', 'data-testid': 'pin-backspace',
    onclick: () => { input.value = input.value.slice(0, -1); input.focus(); },
  }, h('span', { 'aria-hidden': 'true' }, '⌫')));

  function digitKey(digit) {
    return h('button', {
      type: 'button', class: 'pin-key', 'data-testid': `pin-key-${digit}`,
      onclick: () => { input.value += digit; setText(error, ''); },
    }, digit);
  }

  const form = h('form', { class: 'pin-form', novalidate: true },
    h('label', { for: input.id, class: 'pin-label' }, 'PIN'),
    input,
    error,
    h('div', { class: 'pin-pad', role: 'group', 'aria-label': 'PIN keypad' }, keys),
    submit);

  const screen = h('div', {
    class: 'lock-screen', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'lock-title',
    'data-testid': 'pin-lock', hidden: true,
  },
  h('div', { class: 'lock-box' },
    h('div', { class: 'lock-glyph', 'aria-hidden': 'true' }),
    h('h1', { id: 'lock-title', tabindex: '-1' }, 'Locked'),
    h('p', { id: 'pin-hint', class: 'lock-hint' }, 'The app locked itself after a while without use. Enter your PIN to carry on. Nothing you were doing has been lost.'),
    form));
  slot.replaceChildren(screen);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    const pin = input.value.trim();
    if (!pin) {
      setText(error, 'Enter your PIN.');
      input.focus();
      return;
    }
    busy = true;
    submit.disabled = true;
    setText(submit, 'Checking…');
    try {
      await api('/api/unlock', { method: 'POST', json: { pin }, noLockWait: true });
      hide();
      if (onUnlocked) onUnlocked();
    } catch (failure) {
      let message = failure.message;
      if (failure instanceof ApiError && failure.status === 403) {
        message = 'Wrong PIN. Try again.';
      }
      setText(error, message);
      input.value = '';
      input.focus();
    } finally {
      busy = false;
      submit.disabled = false;
      setText(submit, 'Unlock');
    }
  });

  function show() {
    if (shown) return;
    shown = true;
    shownAt = Date.now();
    returnFocus = document.activeElement;
    input.value = '';
    setText(error, '');
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
