// question-controls.js — the server's questions on the visit form (protocol.md §5.8), over the
// visit model of visit-controls.js (model.answers: question id → answer; model.questions: the
// server's questions from /api/reference). Scales are five big radio buttons, a text is a
// textarea with a count; extra yes/no outcomes join the outcomes and extra partners the
// referrals (visit-controls.js builds those toggles with extraToggles()).
//
// A withdrawn question is not offered, unless the visit being edited already answers it: its
// answer stays valid and is kept.

import { h, setText, uniqueId, fieldError, toggleButton, radioArrowKeys, codePoints } from './dom.js';

export const MAX_ANSWER_TEXT = 500;
const SCALE = [1, 2, 3, 4, 5];
const SCALE_ENDS = { 1: 'not at all', 5: 'very' };

/** The questions of `kind` the form offers for this model. */
export function offered(model, kind) {
  return (model.questions || []).filter((q) => q && q.kind === kind &&
    (!q.withdrawn || Object.prototype.hasOwnProperty.call(model.answers, q.id)));
}

/** The server's questions from /api/reference, those of a kind this app knows. */
export function questionsOf(reference) {
  const list = reference && Array.isArray(reference.questions) ? reference.questions : [];
  return list.filter((q) => q && typeof q.id === 'string' && typeof q.label === 'string' &&
    ['scale', 'text', 'yes_no', 'referral'].includes(q.kind));
}

/** Whether the visit refers the resident to a partner: a built-in one or an extra one. */
export function hasReferral(model) {
  return model.referrals.size > 0 || offered(model, 'referral').some((q) => model.answers[q.id] === true);
}

/** Clears the extra outcomes (only a completed visit has outcomes); true when there were any. */
export function clearExtraOutcomes(model) {
  let had = false;
  for (const q of offered(model, 'yes_no')) {
    if (model.answers[q.id] !== undefined) had = true;
    delete model.answers[q.id];
  }
  return had;
}

/** Toggles for the extra outcomes (kind yes_no) or partners (kind referral), each with its error. */
export function extraToggles(model, kind, onChange) {
  return offered(model, kind).map((q) => {
    const field = `answers.${q.id}`;
    const toggle = toggleButton({
      text: q.label, testid: `answer-${q.id}`, pressed: model.answers[q.id] === true,
      onChange: (pressed) => {
        if (pressed) model.answers[q.id] = true;
        else delete model.answers[q.id];
        onChange(field, pressed);
      },
    });
    return { id: q.id, field, toggle, error: fieldError(field, toggle.element) };
  });
}

/** One scale question: five radio buttons 1..5 under its label; the chosen one again clears it. */
function scaleQuestion(model, q, changed) {
  const field = `answers.${q.id}`;
  const labelId = uniqueId('scale-label');
  const buttons = SCALE.map((value) => h('button', {
    type: 'button', role: 'radio', 'aria-checked': 'false', tabindex: '-1', class: 'scale-option',
    'data-testid': `answer-${q.id}-${value}`, 'data-value': String(value),
    'aria-label': SCALE_ENDS[value] ? `${value}, ${SCALE_ENDS[value]}` : String(value),
  }, String(value)));
  const group = h('div', { class: 'scale-group', role: 'radiogroup', 'aria-labelledby': labelId, 'data-testid': `answer-${q.id}` },
    buttons);
  const error = fieldError(field, group);
  const element = h('div', { class: 'question question-scale' },
    h('p', { class: 'field-label', id: labelId }, q.label),
    h('p', { class: 'hint scale-ends', 'aria-hidden': 'true' }, '1 = not at all · 5 = very'),
    group, error.element);

  function render() {
    const chosen = model.answers[q.id];
    buttons.forEach((button, index) => {
      const checked = Number(button.dataset.value) === chosen;
      button.setAttribute('aria-checked', checked ? 'true' : 'false');
      button.tabIndex = checked || (!SCALE.includes(chosen) && index === 0) ? 0 : -1;
    });
  }
  function choose(value) {
    if (model.answers[q.id] === value) delete model.answers[q.id];
    else model.answers[q.id] = value;
    render();
    changed(field);
  }
  for (const button of buttons) button.addEventListener('click', () => choose(Number(button.dataset.value)));
  radioArrowKeys(buttons, (next) => { model.answers[q.id] = Number(next.dataset.value); render(); changed(field); });
  return { field, element, error, first: buttons[0], render };
}

/** One text question: a textarea with a count against MAX_ANSWER_TEXT; empty leaves it unanswered. */
function textQuestion(model, q, changed) {
  const field = `answers.${q.id}`;
  const input = h('textarea', { id: uniqueId('answer'), rows: '3', 'data-testid': `answer-${q.id}`, spellcheck: 'true' });
  input.value = typeof model.answers[q.id] === 'string' ? model.answers[q.id] : '';
  const count = h('p', { class: 'notes-count', id: uniqueId('answer-count'), 'data-testid': `answer-${q.id}-count` });
  input.setAttribute('aria-describedby', count.id);
  const error = fieldError(field, input);
  const element = h('div', { class: 'question question-text' },
    h('label', { class: 'field-label', for: input.id }, q.label), input, count, error.element);

  function render() {
    const length = codePoints(input.value);
    setText(count, `${length} / ${MAX_ANSWER_TEXT}`);
    count.dataset.value = String(length);
    count.classList.toggle('is-over', length > MAX_ANSWER_TEXT);
  }
  input.addEventListener('input', () => {
    if (input.value.trim()) model.answers[q.id] = input.value;
    else delete model.answers[q.id];
    render();
    changed(field);
  });
  return { field, element, error, first: input, render };
}

/** The feedback step: every offered scale, then every offered text; null when there is none. */
export function feedbackControl(model, changed) {
  const parts = [
    ...offered(model, 'scale').map((q) => scaleQuestion(model, q, changed)),
    ...offered(model, 'text').map((q) => textQuestion(model, q, changed)),
  ];
  return {
    parts,
    elements: parts.map((part) => part.element),
    render() { for (const part of parts) part.render(); },
  };
}
