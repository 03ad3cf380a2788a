// forms.js — what the three record forms (household, visit, commute session) share:
// live validation through POST /api/validate/{entity}, errors beside their fields, the error
// summary after a refused save, and big checkboxes.
//
// The local API is the only judge of a record (it applies the same rules, and sends the same
// messages, as the sync server): the forms send what the officer entered and show what comes back.

import { postJson, isAbort } from './api.js';
import { h, setChildren, debounce, uniqueId, announce } from './dom.js';

const VALIDATE_DELAY_MS = 350;

/**
 * Errors beside fields. fields: {fieldName: fieldError(...)} (see dom.js); focusTargets:
 * {fieldName: element to focus from the summary}. summary/general elements are created here.
 *
 * While the officer types, a field's error shows only once that field has been touched (no
 * "postcode is not valid" after the first letter); after a save attempt, every error shows.
 */
export function createErrorDisplay({ fields, focusTargets = {}, testidPrefix = '' }) {
  const touched = new Set();
  let showAll = false;
  let announced = new Set();

  const general = h('div', { class: 'form-general-error', 'data-testid': `${testidPrefix}field-error-form`, role: 'alert' });
  const summary = h('div', {
    class: 'error-summary', role: 'alert', tabindex: '-1', 'data-testid': `${testidPrefix}save-errors`, hidden: true,
  });

  /** Shows errors ([{field, message}]); all = after a save attempt. Returns the shown errors. */
  function apply(errors, { all = false } = {}) {
    if (all) showAll = true;
    const byField = new Map();
    const others = [];
    for (const error of errors || []) {
      const field = typeof error.field === 'string' ? error.field : '';
      const message = typeof error.message === 'string' ? error.message : String(error.message || 'invalid');
      if (Object.prototype.hasOwnProperty.call(fields, field)) {
        byField.set(field, byField.has(field) ? `${byField.get(field)} ${message}` : message);
      } else {
        others.push(field && !message.includes(field) ? `${field}: ${message}` : message);
      }
    }
    const shown = [];
    const fresh = [];
    for (const [field, display] of Object.entries(fields)) {
      const message = byField.get(field) || '';
      const visible = message && (showAll || touched.has(field));
      display.set(visible ? message : '');
      if (visible) {
        shown.push({ field, message });
        if (!announced.has(`${field}:${message}`)) fresh.push(message);
      }
    }
    announced = new Set(shown.map((error) => `${error.field}:${error.message}`));
    if (showAll) setChildren(general, others.map((message) => h('p', null, message)));
    else general.replaceChildren();
    // Errors that appear while typing are said politely (the summary says them after a save).
    if (!all && fresh.length) announce(fresh.join(' '));
    return { shown, others: showAll ? others : [] };
  }

  /** The summary at the top of the form after a refused save; focuses it. */
  function showSummary(title, errors, others = []) {
    const items = [];
    for (const error of errors) {
      const target = focusTargets[error.field];
      items.push(h('li', null, target
        ? h('button', { type: 'button', class: 'link-button', onclick: () => { target.focus(); target.scrollIntoView({ block: 'center' }); } }, error.message)
        : error.message));
    }
    for (const message of others) items.push(h('li', null, message));
    setChildren(summary, h('h2', { class: 'error-summary-title' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), title),
      items.length ? h('ul', null, items) : null);
    summary.hidden = false;
    summary.focus();
  }

  function hideSummary() {
    summary.hidden = true;
    summary.replaceChildren();
  }

  return {
    fields,
    general,
    summary,
    apply,
    showSummary,
    hideSummary,
    touch(field) { touched.add(field); },
    isTouched: (field) => showAll || touched.has(field),
    showingAll: () => showAll,
    /** Back to a fresh form: nothing touched, no errors. */
    reset() {
      touched.clear();
      showAll = false;
      announced = new Set();
      for (const display of Object.values(fields)) display.set('');
      general.replaceChildren();
      hideSummary();
    },
  };
}

/**
 * Debounced POST /api/validate/{entity} with collect()'s data; onErrors(errors) with the answer
 * of the latest call only. schedule() after every change; cancel() before saving.
 */
export function createLiveValidator(entity, collect, onErrors) {
  let sequence = 0;
  let controller = null;

  async function run() {
    sequence += 1;
    const mine = sequence;
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const answer = await postJson(`/api/validate/${entity}`, collect(), { signal: controller.signal });
      if (mine === sequence) onErrors(answer && Array.isArray(answer.errors) ? answer.errors : []);
    } catch (error) {
      if (isAbort(error)) return;
      // Validation is a help while typing; saving checks again, so a failure here is quiet.
    }
  }
  const scheduled = debounce(run, VALIDATE_DELAY_MS);
  return {
    schedule: scheduled,
    now: run,
    cancel() {
      scheduled.cancel();
      sequence += 1;
      if (controller) controller.abort();
    },
  };
}

/** A big checkbox with its label: {element, input}. */
export function bigCheckbox({ name, value, text, checked = false, testid, onChange }) {
  const id = uniqueId(`check-${value}`);
  const input = h('input', { type: 'checkbox', id, name, value, checked, 'data-testid': testid });
  if (onChange) input.addEventListener('change', onChange);
  const element = h('label', { class: 'check', for: id }, input, h('span', { class: 'check-text' }, text));
  return { element, input };
}

/**
 * Runs save() on each submit of `form`, one at a time (a submit while one is saving is ignored).
 * Before it, the live validation is cancelled and the error summary hidden; `button` stays
 * disabled until save() settles. save() handles its own failures.
 */
export function onSubmit(form, { button, validator, display }, save) {
  let saving = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (saving) return;
    saving = true;
    validator.cancel();
    display.hideSummary();
    button.disabled = true;
    try {
      await save();
    } finally {
      saving = false;
      button.disabled = false;
    }
  });
}

/**
 * A refused save: a 400 with field errors shows every error beside its field and in the
 * summary, and returns the errors shown; anything else returns null (the caller says why).
 */
export function showRefusal(display, failure) {
  if (failure.status !== 400 || !failure.errors.length) return null;
  const { shown, others } = display.apply(failure.errors, { all: true });
  display.showSummary('Not saved. Please check:', shown, others);
  return shown;
}
