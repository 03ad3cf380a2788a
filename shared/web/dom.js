// dom.js — building DOM safely, and the small widgets both apps use (the loading/error area,
// the confirmation dialog, the screen-reader announcer).
//
// Data from an API (addresses, postcodes, notes, user ids…) only ever reaches the page as text
// nodes or attribute values through h(); nothing here parses HTML.

/**
 * h('p', {class: 'x', 'data-testid': 'y', onclick: fn}, 'text', child, [more]) → element.
 * Attribute values null/undefined/false are left out; true gives an empty attribute.
 * Children: strings/numbers (as text), nodes, arrays of them; null/false are skipped.
 */
export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  appendChildren(element, children);
  return element;
}

export function appendChildren(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replaces all children of element. */
export function setChildren(element, ...children) {
  element.replaceChildren();
  return appendChildren(element, children);
}

/** Sets textContent only when it changes (live regions then announce real changes only). */
export function setText(element, text) {
  const value = String(text);
  if (element.textContent !== value) element.textContent = value;
}

let idCounter = 0;
/** "prefix-<n>", unique within the page. */
export function uniqueId(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** "Elstree & Borehamwood" → "elstree-borehamwood" (for data-testid values). */
export function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** A function that runs fn(...args) once, `wait` ms after the last call. .cancel() stops it. */
export function debounce(fn, wait) {
  let timer = null;
  const debounced = (...args) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => { timer = null; fn(...args); }, wait);
  };
  debounced.cancel = () => { window.clearTimeout(timer); timer = null; };
  return debounced;
}

// ---------------------------------------------------------------------------------------------
// Widgets

/** A "Loading…" / error area. set('loading'|'error'|'none', message, retry). */
export function createStateArea(testid) {
  const element = h('div', { class: 'state-area', 'data-testid': testid });
  function set(kind, message, retry) {
    element.replaceChildren();
    element.removeAttribute('role');
    if (kind === 'loading') {
      element.setAttribute('role', 'status');
      element.append(h('p', { class: 'state state-loading' }, message || 'Loading…'));
    } else if (kind === 'error') {
      element.setAttribute('role', 'alert');
      element.append(h('div', { class: 'state state-error' },
        h('p', null, h('strong', null, 'Something went wrong: '), message || 'unknown error'),
        retry ? h('button', { type: 'button', class: 'button', onclick: retry }, 'Try again') : null));
    }
  }
  return { element, set };
}

/**
 * A modal confirmation (<dialog>), keyboard-usable (Esc cancels). Resolves true when the
 * user confirms. Focus returns to the element that had it. body may be left out.
 */
export function confirmDialog({ title, body, confirmLabel, cancelLabel = 'Cancel', danger = true }) {
  return new Promise((resolve) => {
    const returnFocus = document.activeElement;
    const titleId = uniqueId('dialog-title');
    const confirmButton = h('button', {
      type: 'button', class: danger ? 'button button-danger' : 'button',
      'data-testid': 'confirm-yes',
    }, confirmLabel);
    const cancelButton = h('button', {
      type: 'button', class: 'button button-secondary', 'data-testid': 'confirm-no',
    }, cancelLabel);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': 'confirm-dialog' },
      h('h2', { id: titleId }, title),
      body ? h('p', null, body) : null,
      h('div', { class: 'button-row' }, confirmButton, cancelButton));
    let answer = false;
    confirmButton.addEventListener('click', () => { answer = true; dialog.close(); });
    cancelButton.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (returnFocus && typeof returnFocus.focus === 'function' && returnFocus.isConnected) returnFocus.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelButton.focus();
  });
}

/** Says message to screen-reader users through the page's polite live region (#announcer). */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  window.setTimeout(() => { region.textContent = message; }, 50);
}
