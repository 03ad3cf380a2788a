// visit-controls.js — the parts of the visit form (page-visit.js), each a small component over
// the one visit model: {element(s), render()}. A control changes the model and calls
// changed(field) (live validation); the page decides how the parts are laid out.
//
// The model: {status, outcomes: {name: bool}, smoke, referrals: Set, shareBasis, followUpDue,
// rescheduledFor, notes, visitedAt, answers: {question id: answer}, questions: the server's}
// (visitedAt null: the time of saving; answers and questions: question-controls.js,
// protocol.md §5.8). protocol.md §5.2: only a completed visit has outcomes, a visit with a
// referral needs its lawful basis for sharing (shareBasis), and one without has none; a follow-up
// needs the date it is due (followUpDue, "YYYY-MM-DD") and a rescheduled visit the local time
// agreed (rescheduledFor, "YYYY-MM-DDTHH:MM"), each sent only with its condition.

import {
  h, setText, uniqueId, fieldError, toggleButton, radioArrowKeys, announce, codePoints, formatDateTime, toLocalInput,
  fromLocalInput, nowIso, label, STATUSES, STATUS_LABELS, STATUS_GLYPHS, YES_NO_OUTCOMES, OUTCOME_LABELS,
  REFERRALS, REFERRAL_LABELS,
} from './dom.js';
import { clearExtraOutcomes, extraToggles, hasReferral } from './question-controls.js';

export const MAX_NOTES = 2000;

/**
 * The lawful basis for sharing a visit's referrals (its share_basis), in the words the officer
 * reads at the door; docs/tablet-app.md gives the reasons for them. The visit's list shows the
 * same words.
 */
export const BASIS_CHOICES = {
  consent: 'Resident consents to sharing',
  vital_interests: 'Vital interests: risk to life or serious harm',
  safeguarding: 'Safeguarding an adult or child at risk (without consent)',
};
const BASIS_CODES = Object.keys(BASIS_CHOICES);
export const MAX_SMOKE = 10;

const STATUS_HINTS = {
  completed: 'Spoke with the household',
  no_answer: 'Nobody came to the door',
  declined: 'Did not want a visit',
  rescheduled: 'Agreed another time',
};

/** The model of a visit, from a stored visit's data ({} for a new one) and the server's questions. */
export function createVisitModel(initial, questions = []) {
  const model = {
    status: STATUSES.includes(initial.status) ? initial.status : null,
    outcomes: Object.fromEntries(YES_NO_OUTCOMES.map((name) => [name, initial[name] === true])),
    smoke: Number.isInteger(initial.smoke_detectors_fitted) ? initial.smoke_detectors_fitted : 0,
    referrals: new Set(Array.isArray(initial.referrals) ? initial.referrals : []),
    // A visit recorded before the basis was asked (or by an older app) has none: null.
    shareBasis: typeof initial.share_basis === 'string' ? initial.share_basis : null,
    followUpDue: typeof initial.follow_up_due === 'string' ? initial.follow_up_due : '',
    rescheduledFor: typeof initial.rescheduled_for === 'string' ? initial.rescheduled_for : '',
    notes: typeof initial.notes === 'string' ? initial.notes : '',
    visitedAt: typeof initial.visited_at === 'string' ? initial.visited_at : null, // null = now, at save
    answers: initial.answers && typeof initial.answers === 'object' ? { ...initial.answers } : {},
    questions,
  };
  // A stored record that breaks §5.2 (it can only have been refused) is put right here, since
  // its outcomes cannot be tapped.
  if (model.status && model.status !== 'completed') clearOutcomes(model);
  return model;
}

/** Clears the outcomes and the smoke detectors; true when there were any. */
export function clearOutcomes(model) {
  const had = YES_NO_OUTCOMES.some((name) => model.outcomes[name]) || model.smoke > 0;
  for (const name of YES_NO_OUTCOMES) model.outcomes[name] = false;
  model.smoke = 0;
  return clearExtraOutcomes(model) || had;
}

/** The visit as the local API takes it. */
export function visitData(model, householdId) {
  const data = { household_id: householdId, visited_at: model.visitedAt || nowIso() };
  if (model.status) data.status = model.status;
  for (const name of YES_NO_OUTCOMES) data[name] = model.outcomes[name];
  data.smoke_detectors_fitted = model.smoke;
  data.referrals = REFERRALS.filter((code) => model.referrals.has(code));
  for (const code of model.referrals) if (!REFERRALS.includes(code)) data.referrals.push(code);
  if (hasReferral(model) && model.shareBasis) data.share_basis = model.shareBasis;
  if (model.outcomes.follow_up_required && model.followUpDue) data.follow_up_due = model.followUpDue;
  if (model.status === 'rescheduled' && model.rescheduledFor) data.rescheduled_for = model.rescheduledFor;
  data.notes = model.notes;
  if (Object.keys(model.answers).length) data.answers = { ...model.answers };
  return data;
}

/**
 * Step 1: the status, a radio group of big buttons (arrow keys move and choose).
 * onChoose(code) runs when the officer picks another status.
 */
export function statusControl(model, onChoose) {
  const labelId = uniqueId('status-label');
  const buttons = STATUSES.map((code) => h('button', {
    type: 'button', role: 'radio', 'aria-checked': 'false', tabindex: '-1',
    class: `status-option status-option-${code}`, 'data-testid': `status-${code}`, 'data-value': code,
  },
  h('span', { class: 'status-glyph', 'aria-hidden': 'true' }, STATUS_GLYPHS[code]),
  h('span', { class: 'status-text' }, label(STATUS_LABELS, code)),
  h('span', { class: 'status-hint' }, STATUS_HINTS[code])));
  const group = h('div', { class: 'status-group', role: 'radiogroup', 'aria-labelledby': labelId, 'aria-required': 'true' }, buttons);

  for (const button of buttons) button.addEventListener('click', () => onChoose(button.dataset.value));
  radioArrowKeys(buttons, (next) => onChoose(next.dataset.value));

  function render() {
    buttons.forEach((button, index) => {
      const checked = button.dataset.value === model.status;
      button.setAttribute('aria-checked', checked ? 'true' : 'false');
      button.tabIndex = checked || (!model.status && index === 0) ? 0 : -1;
    });
  }
  return { labelId, group, buttons, render };
}

/** Step 2: the yes/no outcomes, one toggle each with its own error, and the hint above them. */
export function outcomesControl(model, changed) {
  const hintId = uniqueId('outcomes-hint');
  const toggles = {};
  const errors = {};
  const items = YES_NO_OUTCOMES.map((name) => {
    const toggle = toggleButton({
      text: label(OUTCOME_LABELS, name), testid: `outcome-${name}`, pressed: model.outcomes[name],
      onChange: (pressed) => { model.outcomes[name] = pressed; changed(name); },
    });
    toggle.element.setAttribute('aria-describedby', hintId);
    toggles[name] = toggle;
    errors[name] = fieldError(name, toggle.element);
    return h('div', { class: 'toggle-item' }, toggle.element, errors[name].element);
  });
  // The server's extra outcomes (protocol.md §5.8), by their labels, beside the built-in ones.
  for (const extra of extraToggles(model, 'yes_no', (field) => changed(field))) {
    extra.toggle.element.setAttribute('aria-describedby', hintId);
    toggles[extra.field] = extra.toggle;
    errors[extra.field] = extra.error;
    items.push(h('div', { class: 'toggle-item' }, extra.toggle.element, extra.error.element));
  }
  const hint = h('p', { class: 'hint', id: hintId, 'data-testid': 'outcomes-hint' });

  function render() {
    const completed = model.status === 'completed';
    for (const name of YES_NO_OUTCOMES) {
      toggles[name].set(model.outcomes[name]);
      toggles[name].setDisabled(!completed);
    }
    for (const [field, toggle] of Object.entries(toggles)) {
      if (!field.startsWith('answers.')) continue;
      toggle.set(model.answers[field.slice('answers.'.length)] === true);
      toggle.setDisabled(!completed);
    }
    setText(hint, completed ? 'Tap each one that applies.'
      : model.status ? `Only a completed visit has outcomes: for “${label(STATUS_LABELS, model.status)}” they are left empty.`
        : 'Choose “Completed” above to record what was given or done.');
    hint.classList.toggle('hint-strong', !completed);
  }
  return { items, toggles, errors, hint, render };
}

/** The smoke detectors fitted: − value + (0 to MAX_SMOKE, a completed visit only). */
export function smokeStepper(model, changed) {
  const labelId = uniqueId('smoke-label');
  const minus = h('button', { type: 'button', class: 'stepper-button', 'data-testid': 'smoke-minus', 'aria-label': 'One fewer smoke detector' },
    h('span', { 'aria-hidden': 'true' }, '−'));
  const value = h('output', { class: 'stepper-value', 'data-testid': 'smoke-value', 'aria-live': 'polite', 'aria-labelledby': labelId }, '0');
  const plus = h('button', { type: 'button', class: 'stepper-button', 'data-testid': 'smoke-plus', 'aria-label': 'One more smoke detector' },
    h('span', { 'aria-hidden': 'true' }, '+'));
  const group = h('div', { class: 'stepper', role: 'group', 'aria-labelledby': labelId }, minus, value, plus);

  function render() {
    const completed = model.status === 'completed';
    setText(value, String(model.smoke));
    value.dataset.value = String(model.smoke);
    minus.disabled = !completed || model.smoke <= 0;
    plus.disabled = !completed || model.smoke >= MAX_SMOKE;
    group.classList.toggle('is-disabled', !completed);
  }
  // At either end the pressed button is disabled: focus moves to the other one.
  minus.addEventListener('click', () => {
    if (model.smoke <= 0) return;
    model.smoke -= 1;
    render();
    if (minus.disabled) plus.focus();
    changed('smoke_detectors_fitted');
  });
  plus.addEventListener('click', () => {
    if (model.smoke >= MAX_SMOKE) return;
    model.smoke += 1;
    render();
    if (plus.disabled) minus.focus();
    changed('smoke_detectors_fitted');
  });
  return { labelId, group, plus, render };
}

/**
 * Step 3: the referrals, one toggle each. The first referral chosen brings the lawful basis
 * (shareBasisControl) up, and it is said; taking the last one off clears the basis, and that is
 * said too.
 */
export function referralsControl(model, changed) {
  const labelId = uniqueId('referrals-label');
  // Says what a change of the referrals means for the basis: `had` is hasReferral() before it.
  const after = (had, field) => {
    if (!had && hasReferral(model)) {
      announce('Choose the lawful basis for sharing, below the referrals.');
    } else if (had && !hasReferral(model) && model.shareBasis) {
      model.shareBasis = null;
      announce('Lawful basis cleared: no referral is chosen.');
    }
    changed(field);
  };
  const toggles = REFERRALS.map((code) => toggleButton({
    text: label(REFERRAL_LABELS, code), testid: `referral-${code}`, pressed: model.referrals.has(code),
    onChange: (pressed) => {
      const had = hasReferral(model);
      if (pressed) model.referrals.add(code);
      else model.referrals.delete(code);
      after(had, 'referrals');
    },
  }));
  // The server's extra partners (protocol.md §5.8): referrals like the others.
  const extras = extraToggles(model, 'referral', (field, pressed) => {
    // Taken off, it was a referral before; put on, there was one before if another is chosen.
    const id = field.slice('answers.'.length);
    let had = true;
    if (pressed) {
      delete model.answers[id];
      had = hasReferral(model);
      model.answers[id] = true;
    }
    after(had, field);
  });
  const errors = Object.fromEntries(extras.map((extra) => [extra.field, extra.error]));
  const group = h('div', { class: 'toggle-grid toggle-grid-small', role: 'group', 'aria-labelledby': labelId },
    toggles.map((toggle) => toggle.element),
    extras.map((extra) => h('div', { class: 'toggle-item' }, extra.toggle.element, extra.error.element)));
  return { labelId, group, first: toggles[0].element, errors };
}

/**
 * The lawful basis for sharing, under the referrals: a radio group of big buttons (arrow keys
 * move and choose), shown only while a referral is chosen. render() after the referrals change.
 */
export function shareBasisControl(model, changed) {
  const labelId = uniqueId('basis-label');
  const hintId = uniqueId('basis-hint');
  const buttons = BASIS_CODES.map((code) => h('button', {
    type: 'button', role: 'radio', 'aria-checked': 'false', tabindex: '-1',
    class: 'toggle basis-option', 'data-testid': `share-basis-${code}`, 'data-value': code,
  }, h('span', { class: 'toggle-mark', 'aria-hidden': 'true' }), h('span', { class: 'toggle-text' }, BASIS_CHOICES[code])));
  const group = h('div', {
    class: 'basis-group', role: 'radiogroup', 'aria-labelledby': labelId, 'aria-describedby': hintId,
    'aria-required': 'true', 'data-testid': 'share-basis',
  }, buttons);
  const element = h('div', { class: 'basis-field', 'data-testid': 'share-basis-field', hidden: true },
    h('h3', { class: 'field-label', id: labelId }, 'Lawful basis for sharing'),
    h('p', { class: 'hint', id: hintId }, 'A referral needs one: on what grounds are the partners told?'),
    group);

  function render() {
    element.hidden = !hasReferral(model);
    group.dataset.value = model.shareBasis || '';
    buttons.forEach((button, index) => {
      const checked = button.dataset.value === model.shareBasis;
      button.setAttribute('aria-checked', checked ? 'true' : 'false');
      button.tabIndex = checked || (!BASIS_CODES.includes(model.shareBasis) && index === 0) ? 0 : -1;
    });
  }
  function choose(code) {
    if (model.shareBasis === code) return;
    model.shareBasis = code;
    render();
    changed('share_basis');
  }
  for (const button of buttons) button.addEventListener('click', () => choose(button.dataset.value));
  radioArrowKeys(buttons, (next) => choose(next.dataset.value));
  return { labelId, element, group, first: buttons[0], render };
}

/**
 * A date the work depends on, shown only while its condition holds (render() after a change):
 * the follow-up's due date under the outcomes, the agreed time under the status. The input's
 * value is the field's own form ("YYYY-MM-DD", "YYYY-MM-DDTHH:MM"): no time-zone arithmetic.
 */
function workDateField(model, changed, { field, key, type, testid, title, hint, shown }) {
  const input = h('input', { type, id: uniqueId(testid), name: field, 'data-testid': testid, required: true, step: type === 'date' ? null : '60' });
  const hintId = uniqueId(`${testid}-hint`);
  input.setAttribute('aria-describedby', hintId);
  const element = h('div', { class: 'work-date-field', 'data-testid': `${testid}-field`, hidden: true },
    h('label', { class: 'field-label', for: input.id }, title), h('p', { class: 'hint', id: hintId }, hint), input);
  input.value = model[key];
  const inputChanged = () => {
    model[key] = input.value;
    changed(field);
  };
  input.addEventListener('change', inputChanged);
  input.addEventListener('input', inputChanged);
  function render() {
    const wasHidden = element.hidden;
    element.hidden = !shown();
    if (wasHidden && !element.hidden && !model[key]) announce(`${title}: enter it below.`);
  }
  return { element, input, render };
}

/** The follow-up's due date (follow_up_due), while “Follow-up needed” is on. */
export function followUpDueField(model, changed) {
  return workDateField(model, changed, {
    field: 'follow_up_due', key: 'followUpDue', type: 'date', testid: 'follow-up-due', title: 'Follow-up due by',
    hint: 'The day the follow-up should happen by: it shows on Today from then on.',
    shown: () => model.status === 'completed' && model.outcomes.follow_up_required,
  });
}

/** The time agreed with the resident (rescheduled_for), while the status is “Agreed another time”. */
export function rescheduledForField(model, changed) {
  return workDateField(model, changed, {
    field: 'rescheduled_for', key: 'rescheduledFor', type: 'datetime-local', testid: 'rescheduled-for',
    title: 'Agreed date and time', hint: 'When the resident agreed to be visited: it shows on Today that day.',
    shown: () => model.status === 'rescheduled',
  });
}

/** Step 4: the notes, with a count of characters against MAX_NOTES. */
export function notesField(model, changed) {
  const notes = h('textarea', { id: uniqueId('notes'), name: 'notes', rows: '5', 'data-testid': 'notes', spellcheck: 'true' });
  notes.value = model.notes;
  const count = h('p', { class: 'notes-count', id: uniqueId('notes-count'), 'data-testid': 'notes-count' });
  notes.setAttribute('aria-describedby', count.id);

  function render() {
    const length = codePoints(model.notes);
    setText(count, `${length} / ${MAX_NOTES}`);
    count.dataset.value = String(length);
    count.classList.toggle('is-over', length > MAX_NOTES);
  }
  notes.addEventListener('input', () => {
    model.notes = notes.value;
    render();
    changed('notes');
  });
  return { notes, count, render };
}

/**
 * Step 5: the time of the visit: "Now (the time you save)" or a chosen time, and an editor
 * behind "Change time". A new visit can go back to the time of saving; an edited one cannot.
 */
export function timeField(model, changed, { editing }) {
  const text = h('strong', { 'data-testid': 'visit-time-text' });
  const input = h('input', { type: 'datetime-local', id: uniqueId('visited-at'), name: 'visited_at', 'data-testid': 'visit-time', step: '60' });
  const useNow = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'visit-time-now' }, 'Use the time of saving');
  const changeButton = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'change-time', 'aria-expanded': 'false' }, 'Change time');
  const editor = h('div', { class: 'time-editor', hidden: true },
    h('label', { for: input.id }, 'Date and time of the visit'), input, editing ? null : useNow);

  function render() {
    if (model.visitedAt) setText(text, formatDateTime(model.visitedAt));
    else setText(text, 'Now (the time you save)');
    text.dataset.value = model.visitedAt || 'now';
  }
  function setOpen(open) {
    editor.hidden = !open;
    changeButton.setAttribute('aria-expanded', open ? 'true' : 'false');
  }
  /** Opens the editor (to show an error beside it); an empty input gets `instant`. */
  function reveal(instant) {
    setOpen(true);
    if (!input.value) input.value = toLocalInput(instant);
  }

  changeButton.addEventListener('click', () => {
    const open = editor.hidden;
    setOpen(open);
    if (open) {
      if (!input.value) input.value = toLocalInput(model.visitedAt || new Date());
      input.focus();
    }
  });
  const inputChanged = () => {
    const iso = fromLocalInput(input.value);
    if (iso) model.visitedAt = iso;
    render();
    changed('visited_at');
  };
  input.addEventListener('change', inputChanged);
  input.addEventListener('input', inputChanged);
  useNow.addEventListener('click', () => {
    model.visitedAt = null;
    input.value = '';
    setOpen(false);
    render();
    changed('visited_at');
    changeButton.focus();
  });
  return { text, input, changeButton, editor, render, reveal };
}

/** Chooses a status: any but completed clears the outcomes (and says so when there were any). */
export function chooseStatus(model, code) {
  if (model.status === code) return false;
  model.status = code;
  if (code !== 'completed' && clearOutcomes(model)) {
    announce(`Outcomes cleared: a visit marked ${label(STATUS_LABELS, code)} has none.`);
  }
  return true;
}
