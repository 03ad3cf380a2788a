// page-visit.js — #/visit?household=ID (record a visit) and #/visit?id=VISIT_ID[&household=ID]
// (edit one, e.g. to fix a change the server refused).
//
//   GET    /api/households              the household's address (there is no GET by id)
//   GET    /api/visits?household=ID     the visits to it (listed under the form; the one to edit)
//   GET    /api/rejected                only for #/visit?id=… without household: finds the visit
//   POST   /api/validate/visit          as the officer taps and types (debounced)
//   POST   /api/visits                  save a new visit      (201 {id})
//   PUT    /api/visits/{id}             save an edited visit  (200 {id})
//   DELETE /api/visits/{id}             delete one (after a confirmation); 403 = not yours
//
// Status comes first. The outcomes and the smoke detectors are only for a completed visit
// (protocol.md §5.2): for any other status they are cleared and disabled.

import { get, postJson, putJson, del, path, isAbort } from './api.js';
import {
  h, setChildren, setText, uniqueId, createStateArea, fieldError, toggleButton, confirmDialog, announce,
  codePoints, formatDateTime, formatWhen, toLocalInput, fromLocalInput, nowIso, stateBadge, plural, label,
  STATUSES, STATUS_LABELS, STATUS_GLYPHS, YES_NO_OUTCOMES, OUTCOME_LABELS, REFERRALS, REFERRAL_LABELS,
} from './dom.js';
import { createErrorDisplay, createLiveValidator } from './forms.js';

const MAX_NOTES = 2000;
const MAX_SMOKE = 10;
const SAVED_MESSAGE = 'Saved on this tablet — waiting to sync';

const STATUS_HINTS = {
  completed: 'Spoke with the household',
  no_answer: 'Nobody came to the door',
  declined: 'Did not want a visit',
  rescheduled: 'Agreed another time',
};

function householdSummary(household, householdId) {
  if (!household) {
    return h('div', { class: 'household-summary', 'data-testid': 'visit-household' },
      h('p', { class: 'household-summary-address' }, 'Household not found on this tablet'),
      h('p', { class: 'muted' }, `Household id ${householdId}`));
  }
  return h('div', { class: 'household-summary', 'data-testid': 'visit-household', 'data-household-id': household.id },
    h('p', { class: 'household-summary-address' }, String(household.address || '')),
    h('p', { class: 'household-summary-meta' }, `${household.postcode || ''} · ${household.ward || ''}`,
      household.target ? [' ', h('span', { class: 'badge badge-target' }, h('span', { 'aria-hidden': 'true' }, '★ '), 'Target household')] : null,
      household.follow_up_outstanding ? [' ', h('span', { class: 'badge badge-follow-up' }, h('span', { 'aria-hidden': 'true' }, '⚑ '), 'Follow-up outstanding')] : null));
}

/** "Crime prevention advice, 2 smoke detectors fitted" for a visit's data. */
function outcomeSummary(data) {
  const parts = YES_NO_OUTCOMES.filter((name) => data[name] === true).map((name) => label(OUTCOME_LABELS, name));
  const smoke = Number(data.smoke_detectors_fitted) || 0;
  if (smoke) parts.push(`${plural(smoke, 'smoke detector', 'smoke detectors')} fitted`);
  return parts.join(', ');
}

export default {
  key: 'visit',
  title: 'Record a visit',
  mount(container, params, ctx) {
    let alive = true;
    let cleanup = () => {};
    const visitId = params.get('id') || null;
    let householdId = params.get('household') || null;
    const state = createStateArea('visit-state');
    const body = h('div', { class: 'page-body' });
    setChildren(container, h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, visitId ? 'Edit a visit' : 'Record a visit')),
      state.element, body);

    async function load() {
      state.set('loading', 'Loading…');
      try {
        let rejectedItem = null;
        if (visitId && !householdId) {
          const rejected = await get('/api/rejected');
          rejectedItem = (rejected && Array.isArray(rejected.rejected) ? rejected.rejected : [])
            .find((item) => item.entity === 'visit' && item.id === visitId) || null;
          if (rejectedItem && rejectedItem.data && rejectedItem.data.household_id) householdId = rejectedItem.data.household_id;
        }
        if (!householdId) {
          if (!alive) return;
          state.set('error', visitId
            ? 'This visit is not on this tablet any more. Open it from its household on Today.'
            : 'No household was chosen. Choose one on Today, then press Record visit.');
          body.append(h('p', null, h('a', { href: '#/today', class: 'button' }, 'Go to Today')));
          return;
        }
        const [household, visitsData] = await Promise.all([
          ctx.household(householdId),
          get('/api/visits', { household: householdId }),
        ]);
        if (!alive) return;
        const visits = visitsData && Array.isArray(visitsData.visits) ? visitsData.visits : [];
        let visit = null;
        if (visitId) {
          visit = visits.find((item) => item.id === visitId) || null;
          if (!visit && !rejectedItem) {
            const rejected = await get('/api/rejected');
            if (!alive) return;
            rejectedItem = (rejected && Array.isArray(rejected.rejected) ? rejected.rejected : [])
              .find((item) => item.entity === 'visit' && item.id === visitId) || null;
          }
          if (!visit && rejectedItem && rejectedItem.data) {
            visit = { id: visitId, state: 'rejected', data: rejectedItem.data, rejection: rejectedItem };
          }
          if (!visit) {
            state.set('error', 'This visit is not on this tablet any more (it may have been deleted).');
            body.append(h('p', null, h('a', { href: `#/visit?household=${encodeURIComponent(householdId)}`, class: 'button' }, 'Record a new visit instead')));
            return;
          }
        }
        state.set('none');
        cleanup = buildPage(body, { household, householdId, visit, visits, ctx });
      } catch (error) {
        if (!alive || isAbort(error)) return;
        state.set('error', error.message, load);
      }
    }
    load();

    return {
      unmount() {
        alive = false;
        cleanup();
      },
    };
  },
};

function buildPage(container, { household, householdId, visit, visits, ctx }) {
  const editing = Boolean(visit);
  const initial = editing && visit.data && typeof visit.data === 'object' ? visit.data : {};
  const rejection = editing && visit.rejection && typeof visit.rejection === 'object' ? visit.rejection : null;

  // ---- the record being edited
  const model = {
    status: STATUSES.includes(initial.status) ? initial.status : null,
    outcomes: Object.fromEntries(YES_NO_OUTCOMES.map((name) => [name, initial[name] === true])),
    smoke: Number.isInteger(initial.smoke_detectors_fitted) ? initial.smoke_detectors_fitted : 0,
    referrals: new Set(Array.isArray(initial.referrals) ? initial.referrals : []),
    notes: typeof initial.notes === 'string' ? initial.notes : '',
    visitedAt: typeof initial.visited_at === 'string' ? initial.visited_at : null, // null = now, at save
  };
  // protocol.md §5.2: a visit that was not completed has no outcomes. A stored record that breaks the
  // rule (it can only have been refused) is put right here, since its outcomes cannot be tapped.
  if (model.status && model.status !== 'completed') {
    for (const name of YES_NO_OUTCOMES) model.outcomes[name] = false;
    model.smoke = 0;
  }

  function collect() {
    const data = { household_id: householdId, visited_at: model.visitedAt || nowIso() };
    if (model.status) data.status = model.status;
    for (const name of YES_NO_OUTCOMES) data[name] = model.outcomes[name];
    data.smoke_detectors_fitted = model.smoke;
    data.referrals = REFERRALS.filter((code) => model.referrals.has(code));
    for (const code of model.referrals) if (!REFERRALS.includes(code)) data.referrals.push(code);
    data.notes = model.notes;
    return data;
  }

  // ---- 1. status (radio group)
  const statusLabelId = uniqueId('status-label');
  const statusButtons = STATUSES.map((code) => h('button', {
    type: 'button', role: 'radio', 'aria-checked': 'false', tabindex: '-1',
    class: `status-option status-option-${code}`, 'data-testid': `status-${code}`, 'data-value': code,
  },
  h('span', { class: 'status-glyph', 'aria-hidden': 'true' }, STATUS_GLYPHS[code]),
  h('span', { class: 'status-text' }, label(STATUS_LABELS, code)),
  h('span', { class: 'status-hint' }, STATUS_HINTS[code])));
  const statusGroup = h('div', { class: 'status-group', role: 'radiogroup', 'aria-labelledby': statusLabelId, 'aria-required': 'true' }, statusButtons);

  // ---- 2. outcomes
  const outcomesHintId = uniqueId('outcomes-hint');
  const outcomeToggles = {};
  const outcomeErrors = {};
  const outcomeItems = YES_NO_OUTCOMES.map((name) => {
    const toggle = toggleButton({
      text: label(OUTCOME_LABELS, name), testid: `outcome-${name}`, pressed: model.outcomes[name],
      onChange: (pressed) => { model.outcomes[name] = pressed; changed(name); },
    });
    toggle.element.setAttribute('aria-describedby', outcomesHintId);
    outcomeToggles[name] = toggle;
    outcomeErrors[name] = fieldError(name, toggle.element);
    return h('div', { class: 'toggle-item' }, toggle.element, outcomeErrors[name].element);
  });
  const outcomesHint = h('p', { class: 'hint', id: outcomesHintId, 'data-testid': 'outcomes-hint' });

  // ---- smoke detectors stepper
  const smokeLabelId = uniqueId('smoke-label');
  const smokeMinus = h('button', { type: 'button', class: 'stepper-button', 'data-testid': 'smoke-minus', 'aria-label': 'One fewer smoke detector' },
    h('span', { 'aria-hidden': 'true' }, '−'));
  const smokeValue = h('output', { class: 'stepper-value', 'data-testid': 'smoke-value', 'aria-live': 'polite', 'aria-labelledby': smokeLabelId }, '0');
  const smokePlus = h('button', { type: 'button', class: 'stepper-button', 'data-testid': 'smoke-plus', 'aria-label': 'One more smoke detector' },
    h('span', { 'aria-hidden': 'true' }, '+'));
  const smokeGroup = h('div', { class: 'stepper', role: 'group', 'aria-labelledby': smokeLabelId }, smokeMinus, smokeValue, smokePlus);

  // ---- referrals
  const referralsLabelId = uniqueId('referrals-label');
  const referralToggles = REFERRALS.map((code) => toggleButton({
    text: label(REFERRAL_LABELS, code), testid: `referral-${code}`, pressed: model.referrals.has(code),
    onChange: (pressed) => {
      if (pressed) model.referrals.add(code);
      else model.referrals.delete(code);
      changed('referrals');
    },
  }));
  const referralsGroup = h('div', { class: 'toggle-grid toggle-grid-small', role: 'group', 'aria-labelledby': referralsLabelId },
    referralToggles.map((toggle) => toggle.element));

  // ---- notes
  const notes = h('textarea', { id: uniqueId('notes'), name: 'notes', rows: '5', 'data-testid': 'notes', spellcheck: 'true' });
  notes.value = model.notes;
  const notesCount = h('p', { class: 'notes-count', id: uniqueId('notes-count'), 'data-testid': 'notes-count' });
  notes.setAttribute('aria-describedby', notesCount.id);

  // ---- time of visit
  const timeText = h('strong', { 'data-testid': 'visit-time-text' });
  const timeInput = h('input', { type: 'datetime-local', id: uniqueId('visited-at'), name: 'visited_at', 'data-testid': 'visit-time', step: '60' });
  const timeNow = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'visit-time-now' }, 'Use the time of saving');
  const changeTime = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'change-time', 'aria-expanded': 'false' }, 'Change time');
  const timeEditor = h('div', { class: 'time-editor', hidden: true },
    h('label', { for: timeInput.id }, 'Date and time of the visit'), timeInput, editing ? null : timeNow);

  // ---- errors
  const fieldErrors = {
    status: fieldError('status', statusGroup),
    ...outcomeErrors,
    smoke_detectors_fitted: fieldError('smoke_detectors_fitted', smokeGroup),
    referrals: fieldError('referrals', referralsGroup),
    notes: fieldError('notes', notes),
    visited_at: fieldError('visited_at', timeInput),
    household_id: fieldError('household_id', null),
  };
  const display = createErrorDisplay({
    fields: fieldErrors,
    focusTargets: {
      status: statusButtons[0], smoke_detectors_fitted: smokePlus, referrals: referralToggles[0].element, notes,
      visited_at: timeInput, ...Object.fromEntries(YES_NO_OUTCOMES.map((name) => [name, outcomeToggles[name].element])),
    },
  });

  const saveButton = h('button', { type: 'submit', class: 'button button-big button-save', 'data-testid': 'save-visit' },
    h('span', { 'aria-hidden': 'true' }, '✓ '), editing ? 'Save changes' : 'Save visit');
  const saveMessage = h('p', { class: 'save-message', role: 'status', 'data-testid': 'save-message' });

  const form = h('form', { class: 'visit-form', novalidate: true, 'data-testid': 'visit-form' },
    display.summary,
    editing && visit.mine === false ? h('div', { class: 'message message-error', 'data-testid': 'visit-not-mine' },
      h('p', null, 'This visit was recorded on another device. Only its author can change it: a change from here will be refused.')) : null,
    rejection ? h('div', { class: 'message message-error', role: 'alert', 'data-testid': 'visit-rejection' },
      h('p', null, h('strong', null, 'The server refused this visit: '), String(rejection.message || rejection.code || '')),
      h('p', null, 'Correct it and save: the corrected visit is sent again with the next sync.')) : null,
    h('div', { class: 'visit-columns' },
      h('div', { class: 'visit-col' },
        h('section', { class: 'form-block', 'aria-labelledby': statusLabelId },
          h('h2', { id: statusLabelId, class: 'block-title' }, h('span', { class: 'step-number', 'aria-hidden': 'true' }, '1'), 'How did the visit go?'),
          statusGroup, fieldErrors.status.element),
        h('section', { class: 'form-block', 'aria-labelledby': 'outcomes-title' },
          h('h2', { id: 'outcomes-title', class: 'block-title' }, h('span', { class: 'step-number', 'aria-hidden': 'true' }, '2'), 'What was given or done?'),
          outcomesHint,
          h('div', { class: 'toggle-grid', role: 'group', 'aria-labelledby': 'outcomes-title' }, outcomeItems),
          h('div', { class: 'stepper-field' },
            h('p', { class: 'field-label', id: smokeLabelId }, 'Smoke detectors fitted'),
            smokeGroup, fieldErrors.smoke_detectors_fitted.element))),
      h('div', { class: 'visit-col' },
        h('section', { class: 'form-block', 'aria-labelledby': referralsLabelId },
          h('h2', { id: referralsLabelId, class: 'block-title' }, h('span', { class: 'step-number', 'aria-hidden': 'true' }, '3'), 'Referrals'),
          referralsGroup, fieldErrors.referrals.element),
        h('section', { class: 'form-block', 'aria-labelledby': 'notes-title' },
          h('h2', { id: 'notes-title', class: 'block-title' }, h('span', { class: 'step-number', 'aria-hidden': 'true' }, '4'),
            h('label', { for: notes.id }, 'Notes')),
          notes, notesCount, fieldErrors.notes.element),
        h('section', { class: 'form-block', 'aria-labelledby': 'time-title' },
          h('h2', { id: 'time-title', class: 'block-title' }, h('span', { class: 'step-number', 'aria-hidden': 'true' }, '5'), 'Time of visit'),
          h('p', { class: 'time-line' }, timeText, ' ', changeTime),
          timeEditor, fieldErrors.visited_at.element))),
    fieldErrors.household_id.element,
    display.general,
    h('div', { class: 'action-bar' },
      saveButton,
      h('a', { href: '#/today', class: 'button button-secondary', 'data-testid': 'cancel-visit' }, 'Cancel'),
      saveMessage));

  const listSection = h('section', { class: 'list-section visit-list-section', 'aria-labelledby': 'visit-list-title' });

  setChildren(container,
    householdSummary(household, householdId),
    form,
    listSection);

  // ---- behaviour
  const validator = createLiveValidator('visit', collect, (errors) => display.apply(errors));
  function changed(field) {
    display.touch(field);
    validator.schedule();
  }

  function renderStatus() {
    const completed = model.status === 'completed';
    statusButtons.forEach((button, index) => {
      const checked = button.dataset.value === model.status;
      button.setAttribute('aria-checked', checked ? 'true' : 'false');
      button.tabIndex = checked || (!model.status && index === 0) ? 0 : -1;
    });
    for (const name of YES_NO_OUTCOMES) {
      outcomeToggles[name].set(model.outcomes[name]);
      outcomeToggles[name].setDisabled(!completed);
    }
    setText(outcomesHint, completed ? 'Tap each one that applies.'
      : model.status ? `Only a completed visit has outcomes: for “${label(STATUS_LABELS, model.status)}” they are left empty.`
        : 'Choose “Completed” above to record what was given or done.');
    outcomesHint.classList.toggle('hint-strong', !completed);
    renderSmoke();
  }

  function renderSmoke() {
    const completed = model.status === 'completed';
    setText(smokeValue, String(model.smoke));
    smokeValue.dataset.value = String(model.smoke);
    smokeMinus.disabled = !completed || model.smoke <= 0;
    smokePlus.disabled = !completed || model.smoke >= MAX_SMOKE;
    smokeGroup.classList.toggle('is-disabled', !completed);
  }

  function renderNotesCount() {
    const length = codePoints(model.notes);
    setText(notesCount, `${length} / ${MAX_NOTES}`);
    notesCount.dataset.value = String(length);
    notesCount.classList.toggle('is-over', length > MAX_NOTES);
  }

  function renderTime() {
    if (model.visitedAt) setText(timeText, formatDateTime(model.visitedAt));
    else setText(timeText, 'Now (the time you save)');
    timeText.dataset.value = model.visitedAt || 'now';
  }

  function chooseStatus(code) {
    if (model.status === code) return;
    model.status = code;
    if (code !== 'completed') {
      const hadOutcomes = YES_NO_OUTCOMES.some((name) => model.outcomes[name]) || model.smoke > 0;
      for (const name of YES_NO_OUTCOMES) model.outcomes[name] = false;
      model.smoke = 0;
      if (hadOutcomes) announce(`Outcomes cleared: a visit marked ${label(STATUS_LABELS, code)} has none.`);
    }
    renderStatus();
    changed('status');
  }

  statusButtons.forEach((button, index) => {
    button.addEventListener('click', () => chooseStatus(button.dataset.value));
    button.addEventListener('keydown', (event) => {
      let step = 0;
      if (event.key === 'ArrowRight' || event.key === 'ArrowDown') step = 1;
      else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') step = -1;
      if (!step) return;
      event.preventDefault();
      const next = statusButtons[(index + step + statusButtons.length) % statusButtons.length];
      chooseStatus(next.dataset.value);
      next.focus();
    });
  });

  smokeMinus.addEventListener('click', () => {
    if (model.smoke <= 0) return;
    model.smoke -= 1;
    renderSmoke();
    if (smokeMinus.disabled) smokePlus.focus();
    changed('smoke_detectors_fitted');
  });
  smokePlus.addEventListener('click', () => {
    if (model.smoke >= MAX_SMOKE) return;
    model.smoke += 1;
    renderSmoke();
    if (smokePlus.disabled) smokeMinus.focus();
    changed('smoke_detectors_fitted');
  });

  notes.addEventListener('input', () => {
    model.notes = notes.value;
    renderNotesCount();
    changed('notes');
  });

  changeTime.addEventListener('click', () => {
    const open = timeEditor.hidden;
    timeEditor.hidden = !open;
    changeTime.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) {
      if (!timeInput.value) timeInput.value = toLocalInput(model.visitedAt || new Date());
      timeInput.focus();
    }
  });
  const timeChanged = () => {
    const iso = fromLocalInput(timeInput.value);
    if (iso) model.visitedAt = iso;
    renderTime();
    changed('visited_at');
  };
  timeInput.addEventListener('change', timeChanged);
  timeInput.addEventListener('input', timeChanged);
  timeNow.addEventListener('click', () => {
    model.visitedAt = null;
    timeInput.value = '';
    timeEditor.hidden = true;
    changeTime.setAttribute('aria-expanded', 'false');
    renderTime();
    changed('visited_at');
    changeTime.focus();
  });

  renderStatus();
  renderNotesCount();
  renderTime();

  // A refused change shows its message beside its field from the start.
  if (rejection && rejection.field && Object.prototype.hasOwnProperty.call(fieldErrors, rejection.field)) {
    display.touch(rejection.field);
    display.apply([{ field: rejection.field, message: rejection.message }]);
    if (rejection.field === 'visited_at') {
      timeEditor.hidden = false;
      changeTime.setAttribute('aria-expanded', 'true');
      timeInput.value = toLocalInput(model.visitedAt);
    }
  }

  // ---- save
  let saving = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (saving) return;
    saving = true;
    validator.cancel();
    display.hideSummary();
    display.general.replaceChildren();
    saveButton.disabled = true;
    setText(saveMessage, 'Saving…');
    const data = collect();
    try {
      if (editing) await putJson(path('/api/visits', visit.id), data);
      else await postJson('/api/visits', data);
      setText(saveMessage, '');
      ctx.flash(SAVED_MESSAGE);
      ctx.refreshStatus();
      ctx.navigate('today');
    } catch (failure) {
      setText(saveMessage, '');
      if (failure.status === 400 && failure.errors.length) {
        const { shown, others } = display.apply(failure.errors, { all: true });
        if (shown.some((error) => error.field === 'visited_at')) {
          timeEditor.hidden = false;
          changeTime.setAttribute('aria-expanded', 'true');
          if (!timeInput.value) timeInput.value = toLocalInput(data.visited_at);
        }
        display.showSummary('Not saved. Please check:', shown, others);
      } else {
        // 403: another officer's visit (the server would refuse the change too).
        display.general.replaceChildren(h('p', null, `Not saved: ${failure.message}`));
        display.general.scrollIntoView({ block: 'center' });
      }
    } finally {
      saving = false;
      saveButton.disabled = false;
    }
  });

  // ---- the household's visits
  let listAlive = true;
  function renderList(list) {
    const rows = list.map((item) => visitRow(item));
    setChildren(listSection,
      h('h2', { id: 'visit-list-title' }, `Visits to this household (${list.length})`),
      list.length ? h('ul', { class: 'visit-list', 'data-testid': 'visit-list' }, rows)
        : h('p', { class: 'empty' }, 'No visits recorded yet.'));
  }

  function visitRow(item) {
    const data = item.data && typeof item.data === 'object' ? item.data : {};
    const isCurrent = editing && item.id === visit.id;
    const message = h('p', { class: 'row-message', role: 'alert', 'data-testid': 'visit-row-message' });
    const deleteButton = h('button', { type: 'button', class: 'button button-danger-outline', 'data-testid': 'visit-delete' },
      'Delete', h('span', { class: 'visually-hidden' }, ` the visit of ${formatDateTime(data.visited_at)}`));
    deleteButton.addEventListener('click', async () => {
      const yes = await confirmDialog({
        title: 'Delete this visit?',
        body: `The visit of ${formatDateTime(data.visited_at)} (${label(STATUS_LABELS, data.status)}) is deleted on this tablet and then on the server.`,
        confirmLabel: 'Delete visit',
      });
      if (!yes) return;
      deleteButton.disabled = true;
      setText(message, '');
      try {
        await del(path('/api/visits', item.id));
        announce('Visit deleted.');
        ctx.refreshStatus();
        if (isCurrent) {
          ctx.navigate('visit', { household: householdId });
          return;
        }
        reloadList();
      } catch (failure) {
        deleteButton.disabled = false;
        setText(message, `Not deleted: ${failure.message}`);
      }
    });
    const summary = outcomeSummary(data);
    const referrals = Array.isArray(data.referrals) ? data.referrals.map((code) => label(REFERRAL_LABELS, code)) : [];
    const rejectionInfo = item.rejection && typeof item.rejection === 'object' ? item.rejection : null;
    return h('li', { class: `visit-row${isCurrent ? ' is-current' : ''}`, 'data-testid': 'visit-row', 'data-visit-id': item.id },
      h('div', { class: 'visit-row-body' },
        h('p', { class: 'visit-row-title' },
          h('strong', null, formatWhen(data.visited_at)), ' — ',
          h('span', { 'aria-hidden': 'true' }, `${STATUS_GLYPHS[data.status] || ''} `), label(STATUS_LABELS, data.status),
          ' ', stateBadge(item.state),
          isCurrent ? [' ', h('span', { class: 'badge badge-mine' }, 'Editing now')] : null),
        summary ? h('p', null, summary) : null,
        referrals.length ? h('p', null, 'Referred to: ', referrals.join(', ')) : null,
        data.notes ? h('p', { class: 'visit-row-notes' }, String(data.notes)) : null,
        rejectionInfo ? h('p', { class: 'row-rejection' }, h('span', { 'aria-hidden': 'true' }, '⚠ '),
          'Refused by the server: ', String(rejectionInfo.message || rejectionInfo.code || '')) : null,
        message),
      item.mine === false ? h('p', { class: 'muted-strong', 'data-testid': 'visit-not-mine' }, 'Recorded on another device: only its author can change it.') : h('div', { class: 'visit-row-actions' },
        isCurrent ? null : h('a', {
          class: 'button button-secondary', href: `#/visit?id=${encodeURIComponent(item.id)}&household=${encodeURIComponent(householdId)}`,
          'data-testid': 'visit-edit',
        }, 'Edit', h('span', { class: 'visually-hidden' }, ` the visit of ${formatDateTime(data.visited_at)}`)),
        deleteButton));
  }

  async function reloadList() {
    try {
      const data = await get('/api/visits', { household: householdId });
      if (listAlive) renderList(data && Array.isArray(data.visits) ? data.visits : []);
    } catch (error) {
      if (listAlive && !isAbort(error)) setChildren(listSection, h('p', { class: 'state state-error', role: 'alert' }, error.message));
    }
  }
  renderList(visits);

  return () => {
    listAlive = false;
    validator.cancel();
  };
}
