// dom.js — building DOM safely, formatting dates, labels for the protocol's codes, and the small
// widgets every page uses (toggle buttons, field errors, the confirmation dialog).
//
// Data from the local API (addresses, postcodes, notes…) only ever reaches the page as text
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
export function uniqueId(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** "Elstree & Borehamwood" → "elstree-borehamwood" (for data-testid values). */
export function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** Length in Unicode code points, as protocol.md §9.14 counts (notes ≤ 2000, address ≤ 200). */
export function codePoints(text) {
  return Array.from(String(text)).length;
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
// Dates and times (shown in the tablet's local time)

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n) => String(n).padStart(2, '0');

function toDate(instant) {
  if (!instant) return null;
  const date = instant instanceof Date ? instant : new Date(instant);
  return Number.isNaN(date.getTime()) ? null : date;
}

const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** An instant → "today 09:41", "26 Nov 09:41", or "26 Nov 2025 09:41" (another year). */
export function formatWhen(instant, now = new Date()) {
  const date = toDate(instant);
  if (!date) return instant ? String(instant) : '—';
  const time = `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
  if (sameDay(date, now)) return `today ${time}`;
  const day = `${date.getDate()} ${MONTHS[date.getMonth()]}`;
  return date.getFullYear() === now.getFullYear() ? `${day} ${time}` : `${day} ${date.getFullYear()} ${time}`;
}

/** An instant → "26 Nov 2026" (local date). */
export function formatDate(instant) {
  const date = toDate(instant);
  if (!date) return instant ? String(instant) : '—';
  return `${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()}`;
}

/** An instant → "26 Nov 2026, 09:41". */
export function formatDateTime(instant) {
  const date = toDate(instant);
  if (!date) return instant ? String(instant) : '—';
  return `${formatDate(date)}, ${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

/** A <time> element showing formatWhen(instant). */
export function timeElement(instant, empty = '—') {
  const date = toDate(instant);
  if (!date) return h('span', null, instant ? String(instant) : empty);
  return h('time', { datetime: date.toISOString() }, formatWhen(date));
}

/** An instant → the value of an <input type="datetime-local"> ("2026-11-26T09:41"), local time. */
export function toLocalInput(instant) {
  const date = toDate(instant);
  if (!date) return '';
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}` +
    `T${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

/** A datetime-local value (local time) → RFC 3339 in UTC, or null when empty or invalid. */
export function fromLocalInput(value) {
  if (!value) return null;
  const date = new Date(value); // "YYYY-MM-DDTHH:MM" without a zone is local time
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export const nowIso = () => new Date().toISOString();

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// ---------------------------------------------------------------------------------------------
// The protocol's codes (protocol.md §5) and their labels

export const STATUSES = ['completed', 'no_answer', 'declined', 'rescheduled'];
export const STATUS_LABELS = {
  completed: 'Completed', no_answer: 'No answer', declined: 'Declined', rescheduled: 'Rescheduled',
};
export const STATUS_GLYPHS = { completed: '✓', no_answer: '⌂', declined: '✕', rescheduled: '↻' };

/** The visit's yes/no outcomes (smoke_detectors_fitted is a number, handled apart). */
export const OUTCOMES = ['crime_prevention_advice', 'fire_safety_check', 'healthy_lifestyle_advice',
  'community_involvement_info', 'first_aid_training', 'follow_up_required'];
export const OUTCOME_LABELS = {
  crime_prevention_advice: 'Crime prevention advice',
  fire_safety_check: 'Home fire safety check',
  healthy_lifestyle_advice: 'Healthier lifestyle advice',
  community_involvement_info: 'Community information',
  first_aid_training: 'First aid training',
  follow_up_required: 'Follow-up needed',
  smoke_detectors_fitted: 'Smoke detectors fitted',
};

export const REFERRALS = ['fire_service', 'victim_support', 'adult_social_care', 'health', 'other'];
export const REFERRAL_LABELS = {
  fire_service: 'Fire service', victim_support: 'Victim support', adult_social_care: 'Adult social care',
  health: 'Health', other: 'Other',
};

export const VULNERABILITIES = ['elderly', 'disability', 'repeat_victim', 'lives_alone', 'other'];
export const VULNERABILITY_LABELS = {
  elderly: 'Elderly', disability: 'Disability', repeat_victim: 'Repeat victim',
  lives_alone: 'Lives alone', other: 'Other',
};

export const MESSAGES = ['vehicle_security', 'home_security', 'garden_tools', 'personal_belongings'];
export const MESSAGE_LABELS = {
  vehicle_security: 'Vehicle security', home_security: 'Home security',
  garden_tools: 'Garden tools', personal_belongings: 'Personal belongings',
};

export const ROLE_LABELS = { officer: 'Officer', pcso: 'PCSO', coordinator: 'Coordinator' };

export const ENTITY_LABELS = { household: 'Household', visit: 'Visit', commute_session: 'Commute Aware session' };

/** Local state of a record → a short label, or null when there is nothing to say. */
export const STATE_LABELS = {
  pending: 'Waiting to sync', unsynced: 'Waiting to sync', local: 'Waiting to sync',
  rejected: 'Refused by the server',
};

export const label = (labels, code) => (Object.prototype.hasOwnProperty.call(labels, code) ? labels[code] : String(code));

// Wards and stations by default (protocol.md §5.5): used only when the reference list is empty.
export const DEFAULT_WARDS = ['Aldenham East', 'Aldenham West', 'Bentley Heath & The Royds',
  'Borehamwood Brookmeadow', 'Borehamwood Cowley Hill', 'Borehamwood Hillside',
  'Borehamwood Kenilworth', 'Bushey Heath', 'Bushey North', 'Bushey Park', 'Bushey St James',
  'Elstree', 'Potters Bar Furzefield', 'Potters Bar Oakmere', 'Potters Bar Parkfield', 'Shenley'];
export const DEFAULT_STATIONS = ['Potters Bar', 'Elstree & Borehamwood', 'Radlett'];

/** A small badge for a record's local state ("Waiting to sync"), or null. */
export function stateBadge(state) {
  if (!state || state === 'synced') return null;
  const text = label(STATE_LABELS, state);
  const rejected = state === 'rejected';
  return h('span', { class: `badge ${rejected ? 'badge-danger' : 'badge-pending'}`, 'data-testid': 'state-badge', 'data-value': state },
    h('span', { 'aria-hidden': 'true' }, rejected ? '⚠ ' : '⇅ '), text);
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
 * A big on/off toggle button (aria-pressed). onChange(pressed) runs after each press.
 * Returns {element, get(), set(pressed), setDisabled(disabled)}.
 */
export function toggleButton({ text, testid, pressed = false, onChange, extraClass = '' }) {
  const element = h('button', {
    type: 'button', class: `toggle ${extraClass}`.trim(), 'aria-pressed': pressed ? 'true' : 'false', 'data-testid': testid,
  }, h('span', { class: 'toggle-mark', 'aria-hidden': 'true' }), h('span', { class: 'toggle-text' }, text));
  let value = Boolean(pressed);
  const set = (next) => {
    value = Boolean(next);
    element.setAttribute('aria-pressed', value ? 'true' : 'false');
  };
  element.addEventListener('click', () => {
    if (element.disabled) return;
    set(!value);
    if (onChange) onChange(value);
  });
  return {
    element,
    get: () => value,
    set,
    setDisabled(disabled) { element.disabled = Boolean(disabled); },
  };
}

/**
 * The error message beside one field: <p class="field-error" id=… data-testid="field-error-<field>">.
 * control: the element that gets aria-invalid and aria-describedby (an input, or a group).
 */
export function fieldError(field, control, prefix = 'err') {
  const id = uniqueId(`${prefix}-${field}`);
  const element = h('p', { class: 'field-error', id, 'data-testid': `field-error-${field}`, 'data-field': field });
  if (control) {
    const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    control.setAttribute('aria-describedby', [...described, id].join(' '));
  }
  return {
    element,
    control,
    set(message) {
      const text = message || '';
      setText(element, text);
      if (control) {
        if (text) control.setAttribute('aria-invalid', 'true');
        else control.removeAttribute('aria-invalid');
      }
    },
    get: () => element.textContent,
  };
}

/**
 * A modal confirmation (<dialog>), keyboard-usable (Esc cancels). Resolves true when the
 * user confirms. Focus returns to the element that had it.
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

/** Says message to screen-reader users through the page's polite live region. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  window.setTimeout(() => { region.textContent = message; }, 50);
}
