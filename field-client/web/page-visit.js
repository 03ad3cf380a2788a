// page-visit.js — #/visit?household=ID (record a visit) and #/visit?id=VISIT_ID[&household=ID]
// (edit one, e.g. to fix a change the server refused).
//
//   GET    /api/households/{id}         the household's address
//   GET    /api/visits?household=ID     the visits to it (listed under the form; the one to edit)
//   GET    /api/rejected                only for #/visit?id=… without household: finds the visit
//   POST   /api/validate/visit          as the officer taps and types (debounced)
//   POST   /api/visits                  save a new visit      (201 {id})
//   PUT    /api/visits/{id}             save an edited visit  (200 {id})
//   DELETE /api/visits/{id}             delete one (after a confirmation); 403 = not yours
//
// Status comes first. The outcomes and the smoke detectors are only for a completed visit
// (protocol.md §5.2): for any other status they are cleared and disabled.
//
// The form's parts are components in visit-controls.js, the list under it is visit-list.js;
// this file loads what the page needs, lays the parts out and saves.

import { get, postJson, putJson, path, isAbort } from './api.js';
import { h, setChildren, setText, createStateArea, fieldError, OUTCOME_LABELS } from './dom.js';
import { createErrorDisplay, createLiveValidator, onSubmit, showRefusal } from './forms.js';
import {
  createVisitModel, visitData, chooseStatus, statusControl, outcomesControl, smokeStepper, referralsControl,
  shareBasisControl, followUpDueField, rescheduledForField, notesField, timeField,
} from './visit-controls.js';
import { feedbackControl, questionsOf } from './question-controls.js';
import { createVisitList } from './visit-list.js';

const SAVED_MESSAGE = 'Saved on this tablet — waiting to sync';

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
        const [household, visitsData, reference] = await Promise.all([
          ctx.household(householdId),
          get('/api/visits', { household: householdId }),
          ctx.reference(),
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
        cleanup = buildPage(body, { household, householdId, visit, visits, questions: questionsOf(reference), ctx });
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

const stepTitle = (id, number, ...title) => h('h2', { id, class: 'block-title' },
  h('span', { class: 'step-number', 'aria-hidden': 'true' }, number), ...title);

/** The form's parts, over one model (see visit-controls.js). */
function createControls(model, changed, editing) {
  const controls = {
    model,
    outcomes: outcomesControl(model, (field) => {
      if (field === 'follow_up_required') controls.followUpDue.render();
      changed(field);
    }),
    followUpDue: followUpDueField(model, changed),
    rescheduledFor: rescheduledForField(model, changed),
    smoke: smokeStepper(model, changed),
    referrals: referralsControl(model, (field) => {
      controls.basis.render();
      changed(field);
    }),
    basis: shareBasisControl(model, changed),
    feedback: feedbackControl(model, changed),
    notes: notesField(model, changed),
    time: timeField(model, changed, { editing }),
  };
  controls.status = statusControl(model, (code) => {
    if (!chooseStatus(model, code)) return;
    controls.renderStatus();
    changed('status');
  });
  controls.renderStatus = () => {
    controls.status.render();
    controls.outcomes.render();
    controls.smoke.render();
    controls.followUpDue.render();
    controls.rescheduledFor.render();
  };
  return controls;
}

/** Every field's error element, and where the error summary sends focus for each. */
function createFieldErrors(controls) {
  const { status, outcomes, smoke, referrals, basis, followUpDue, rescheduledFor, feedback, notes, time } = controls;
  const answerFocus = Object.fromEntries([
    ...feedback.parts.map((part) => [part.field, part.first]),
    ...Object.entries(outcomes.toggles).filter(([name]) => name.startsWith('answers.')).map(([name, t]) => [name, t.element]),
  ]);
  const fields = {
    status: fieldError('status', status.group),
    rescheduled_for: fieldError('rescheduled_for', rescheduledFor.input),
    ...outcomes.errors,
    ...referrals.errors,
    ...Object.fromEntries(feedback.parts.map((part) => [part.field, part.error])),
    answers: fieldError('answers', null),
    follow_up_due: fieldError('follow_up_due', followUpDue.input),
    smoke_detectors_fitted: fieldError('smoke_detectors_fitted', smoke.group),
    referrals: fieldError('referrals', referrals.group),
    share_basis: fieldError('share_basis', basis.group),
    notes: fieldError('notes', notes.notes),
    visited_at: fieldError('visited_at', time.input),
    household_id: fieldError('household_id', null),
  };
  const focusTargets = {
    status: status.buttons[0], rescheduled_for: rescheduledFor.input, follow_up_due: followUpDue.input,
    smoke_detectors_fitted: smoke.plus, referrals: referrals.first, share_basis: basis.first,
    notes: notes.notes,
    visited_at: time.input, ...Object.fromEntries(Object.entries(outcomes.toggles).map(([name, toggle]) => [name, toggle.element])),
    ...answerFocus,
  };
  return createErrorDisplay({ fields, focusTargets });
}

/** The messages above the form: another device's visit, or the server's refusal. */
function formNotices(visit, rejection) {
  return [
    visit && visit.mine === false ? h('div', { class: 'message message-error', 'data-testid': 'visit-not-mine' },
      h('p', null, 'This visit was recorded on another device. Only its author can change it: a change from here will be refused.')) : null,
    rejection ? h('div', { class: 'message message-error', role: 'alert', 'data-testid': 'visit-rejection' },
      h('p', null, h('strong', null, 'The server refused this visit: '), String(rejection.message || rejection.code || '')),
      h('p', null, 'Correct it and save: the corrected visit is sent again with the next sync.')) : null,
  ];
}

/**
 * Steps 1 and 2 (status, outcomes and smoke detectors) and 3 to 5 (referrals with their lawful
 * basis, notes, time).
 */
function formColumns({ status, outcomes, smoke, referrals, basis, followUpDue, rescheduledFor, feedback, notes, time }, errors) {
  const asked = feedback.parts.length > 0;  // the feedback step, when the server asks anything
  const step = (n) => String(asked ? n + 1 : n);
  basis.element.append(errors.share_basis.element);
  followUpDue.element.append(errors.follow_up_due.element);
  rescheduledFor.element.append(errors.rescheduled_for.element);
  return h('div', { class: 'visit-columns' },
    h('div', { class: 'visit-col' },
      h('section', { class: 'form-block', 'aria-labelledby': status.labelId },
        stepTitle(status.labelId, '1', 'How did the visit go?'),
        status.group, errors.status.element, rescheduledFor.element),
      h('section', { class: 'form-block', 'aria-labelledby': 'outcomes-title' },
        stepTitle('outcomes-title', '2', 'What was given or done?'),
        outcomes.hint,
        h('div', { class: 'toggle-grid', role: 'group', 'aria-labelledby': 'outcomes-title' }, outcomes.items),
        followUpDue.element,
        h('div', { class: 'stepper-field' },
          h('p', { class: 'field-label', id: smoke.labelId }, OUTCOME_LABELS.smoke_detectors_fitted),
          smoke.group, errors.smoke_detectors_fitted.element))),
    h('div', { class: 'visit-col' },
      h('section', { class: 'form-block', 'aria-labelledby': referrals.labelId },
        stepTitle(referrals.labelId, '3', 'Referrals'),
        referrals.group, errors.referrals.element, basis.element),
      feedback.parts.length ? h('section', { class: 'form-block', 'aria-labelledby': 'feedback-title', 'data-testid': 'feedback-block' },
        stepTitle('feedback-title', '4', "Resident's feedback"),
        h('p', { class: 'hint' }, 'Ask if the resident is happy to answer; leave out what they would rather not say.'),
        feedback.elements, errors.answers.element) : errors.answers.element,
      h('section', { class: 'form-block', 'aria-labelledby': 'notes-title' },
        stepTitle('notes-title', step(4), h('label', { for: notes.notes.id }, 'Notes')),
        notes.notes, notes.count, errors.notes.element),
      h('section', { class: 'form-block', 'aria-labelledby': 'time-title' },
        stepTitle('time-title', step(5), 'Time of visit'),
        h('p', { class: 'time-line' }, time.text, ' ', time.changeButton),
        time.editor, errors.visited_at.element)));
}

/**
 * Saves on submit (POST a new visit, PUT an edited one), then goes back to Today; a refused
 * save shows its errors beside their fields and in the summary.
 */
function handleSave({ form, saveButton, saveMessage, display, validator, controls, visit, householdId, ctx }) {
  onSubmit(form, { button: saveButton, validator, display }, async () => {
    display.general.replaceChildren();
    setText(saveMessage, 'Saving…');
    const data = visitData(controls.model, householdId);
    try {
      if (visit) await putJson(path('/api/visits', visit.id), data);
      else await postJson('/api/visits', data);
      setText(saveMessage, '');
      ctx.flash(SAVED_MESSAGE);
      ctx.refreshStatus();
      ctx.navigate('today');
    } catch (failure) {
      setText(saveMessage, '');
      const shown = showRefusal(display, failure);
      if (shown) {
        if (shown.some((error) => error.field === 'visited_at')) controls.time.reveal(data.visited_at);
      } else {
        // 403: another officer's visit (the server would refuse the change too).
        display.general.replaceChildren(h('p', null, `Not saved: ${failure.message}`));
        display.general.scrollIntoView({ block: 'center' });
      }
    }
  });
}

/** The page once loaded: the household, the form, the household's visits. Returns its cleanup. */
function buildPage(container, { household, householdId, visit, visits, questions, ctx }) {
  const editing = Boolean(visit);
  const initial = editing && visit.data && typeof visit.data === 'object' ? visit.data : {};
  const rejection = editing && visit.rejection && typeof visit.rejection === 'object' ? visit.rejection : null;

  let display = null;
  let validator = null;
  const changed = (field) => {
    display.touch(field);
    validator.schedule();
  };
  const controls = createControls(createVisitModel(initial, questions), changed, editing);
  display = createFieldErrors(controls);
  validator = createLiveValidator('visit', () => visitData(controls.model, householdId), (errors) => display.apply(errors));

  const saveButton = h('button', { type: 'submit', class: 'button button-big button-save', 'data-testid': 'save-visit' },
    h('span', { 'aria-hidden': 'true' }, '✓ '), editing ? 'Save changes' : 'Save visit');
  const saveMessage = h('p', { class: 'save-message', role: 'status', 'data-testid': 'save-message' });
  const form = h('form', { class: 'visit-form', novalidate: true, 'data-testid': 'visit-form' },
    display.summary,
    formNotices(visit, rejection),
    formColumns(controls, display.fields),
    display.fields.household_id.element,
    display.general,
    h('div', { class: 'action-bar' },
      saveButton,
      h('a', { href: '#/today', class: 'button button-secondary', 'data-testid': 'cancel-visit' }, 'Cancel'),
      saveMessage));
  const listSection = h('section', { class: 'list-section visit-list-section', 'aria-labelledby': 'visit-list-title' });
  setChildren(container, householdSummary(household, householdId), form, listSection);

  controls.renderStatus();
  controls.basis.render();
  controls.feedback.render();
  controls.notes.render();
  controls.time.render();
  // A refused change shows its message beside its field from the start.
  if (rejection && rejection.field && Object.prototype.hasOwnProperty.call(display.fields, rejection.field)) {
    display.touch(rejection.field);
    display.apply([{ field: rejection.field, message: rejection.message }]);
    if (rejection.field === 'visited_at') controls.time.reveal(controls.model.visitedAt);
  }
  handleSave({ form, saveButton, saveMessage, display, validator, controls, visit, householdId, ctx });
  const list = createVisitList(listSection, { visits, householdId, editingId: editing ? visit.id : null, ctx });

  return () => {
    list.stop();
    validator.cancel();
  };
}
