// dom.js — building DOM safely, formatting numbers and dates, small shared widgets.
//
// Data from the API (addresses, notes, user ids…) only ever reaches the page as text nodes or
// attribute values through h(); nothing here parses HTML.

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

let idCounter = 0;
export function uniqueId(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

const pad2 = (n) => String(n).padStart(2, '0');

export function formatNumber(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toLocaleString('en-GB') : '—';
}

/** 0.3333 → "33.3%". */
export function formatPercent(ratio) {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toLocaleString('en-GB', { maximumFractionDigits: 1 })}%`;
}

/** "2026-11-26" → "26 Nov 2026" (no time-zone arithmetic: it is already a local date). */
export function formatDate(isoDate, long = false) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate || '');
  if (!match) return isoDate ? String(isoDate) : '—';
  const month = (long ? MONTHS_LONG : MONTHS)[Number(match[2]) - 1];
  return `${Number(match[3])} ${month} ${match[1]}`;
}

/** "2026-04" → "Apr 2026". */
export function formatMonth(isoMonth, long = false) {
  const match = /^(\d{4})-(\d{2})$/.exec(isoMonth || '');
  if (!match) return isoMonth ? String(isoMonth) : '—';
  return `${(long ? MONTHS_LONG : MONTHS)[Number(match[2]) - 1]} ${match[1]}`;
}

/** RFC 3339 instant → "26 Nov 2026, 09:30" in the browser's local time. */
export function formatDateTime(instant) {
  if (!instant) return '—';
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return String(instant);
  return `${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()}, ` +
    `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

export function formatTime(date) {
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/** A <time> element for an RFC 3339 instant (or "Never"/"—" when there is none). */
export function timeElement(instant, empty = '—') {
  if (!instant) return h('span', { class: 'muted' }, empty);
  return h('time', { datetime: instant }, formatDateTime(instant));
}

export function plural(count, one, many) {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}

// ---------------------------------------------------------------------------------------------
// Labels for the API's codes

export const STATUSES = ['completed', 'no_answer', 'declined', 'rescheduled'];
export const STATUS_LABELS = {
  completed: 'Completed', no_answer: 'No answer', declined: 'Declined', rescheduled: 'Rescheduled',
};

export const OUTCOMES = ['crime_prevention_advice', 'fire_safety_check', 'smoke_detectors_fitted',
  'healthy_lifestyle_advice', 'community_involvement_info', 'first_aid_training', 'follow_up_required'];
export const OUTCOME_LABELS = {
  crime_prevention_advice: 'Crime prevention advice',
  fire_safety_check: 'Home fire safety check',
  smoke_detectors_fitted: 'Smoke detectors fitted',
  healthy_lifestyle_advice: 'Healthier lifestyle advice',
  community_involvement_info: 'Community involvement information',
  first_aid_training: 'First aid training',
  follow_up_required: 'Follow-up required',
};

export const VULNERABILITY_LABELS = {
  elderly: 'Elderly', disability: 'Disability', repeat_victim: 'Repeat victim',
  lives_alone: 'Lives alone', other: 'Other',
};

export const ROLE_LABELS = { officer: 'Officer', pcso: 'PCSO', coordinator: 'Coordinator' };

export const label = (labels, code) => (Object.prototype.hasOwnProperty.call(labels, code) ? labels[code] : String(code));

// Wards by default (protocol.md §5.5); used only when the server's list cannot be fetched.
export const DEFAULT_WARDS = ['Aldenham East', 'Aldenham West', 'Bentley Heath & The Royds',
  'Borehamwood Brookmeadow', 'Borehamwood Cowley Hill', 'Borehamwood Hillside',
  'Borehamwood Kenilworth', 'Bushey Heath', 'Bushey North', 'Bushey Park', 'Bushey St James',
  'Elstree', 'Potters Bar Furzefield', 'Potters Bar Oakmere', 'Potters Bar Parkfield', 'Shenley'];

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

/** A select of wards: first option "All wards" (value ""). */
export function wardSelect(id, wards, selected, allLabel = 'All wards') {
  const select = h('select', { id, name: 'ward' }, h('option', { value: '' }, allLabel));
  const names = [...wards];
  if (selected && !names.includes(selected)) names.push(selected);
  for (const ward of names) {
    select.append(h('option', { value: ward, selected: ward === selected }, ward));
  }
  select.value = selected || '';
  return select;
}

/**
 * A modal confirmation (<dialog>), keyboard-usable (Esc cancels). Resolves true when the
 * user confirms. Focus returns to the element that had it.
 */
export function confirmDialog({ title, body, confirmLabel, danger = true }) {
  return new Promise((resolve) => {
    const returnFocus = document.activeElement;
    const titleId = uniqueId('dialog-title');
    const confirmButton = h('button', {
      type: 'button', class: danger ? 'button button-danger' : 'button',
      'data-testid': 'confirm-yes',
    }, confirmLabel);
    const cancelButton = h('button', {
      type: 'button', class: 'button button-secondary', 'data-testid': 'confirm-no',
    }, 'Cancel');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': 'confirm-dialog' },
      h('h2', { id: titleId }, title),
      h('p', null, body),
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

/** Says message to screen-reader users through the page's polite live region. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  window.setTimeout(() => { region.textContent = message; }, 50);
}
