// ranges.js — date ranges (presets and custom) and the range control shared by several pages.
//
// A range is {from, to}: local dates "YYYY-MM-DD" or null for an open end; {null, null} is all
// time, as in the API. In the URL hash a range is ?from=…&to=…; no parameters means all time.

import { h, formatDate, uniqueId } from './dom.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const pad2 = (n) => String(n).padStart(2, '0');

export function isoDate(year, month, day) {
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

function lastDayOfMonth(year, month) {
  return new Date(year, month, 0).getDate(); // month is 1-based: day 0 of the next month
}

export function todayIso(now = new Date()) {
  return isoDate(now.getFullYear(), now.getMonth() + 1, now.getDate());
}

/** The first year of the UK financial year (1 April – 31 March) that contains `now`. */
export function financialYearStart(now = new Date()) {
  return now.getMonth() >= 3 ? now.getFullYear() : now.getFullYear() - 1;
}

export function financialYearLabel(startYear) {
  return `${startYear}/${pad2((startYear + 1) % 100)}`;
}

export const PRESETS = [
  { key: 'month', label: 'This month' },
  { key: 'quarter', label: 'This quarter' },
  { key: 'fy', label: 'Financial year' },
  { key: 'all', label: 'All time' },
  { key: 'custom', label: 'Custom' },
];

/** The range of a preset ("month", "quarter", "fy", "all") around `now`. */
export function presetRange(key, now = new Date()) {
  const year = now.getFullYear();
  const month = now.getMonth() + 1;
  if (key === 'month') {
    return { from: isoDate(year, month, 1), to: isoDate(year, month, lastDayOfMonth(year, month)) };
  }
  if (key === 'quarter') {
    // Calendar quarters; they are also the UK financial quarters (Apr–Jun, Jul–Sep, …).
    const first = Math.floor((month - 1) / 3) * 3 + 1;
    return { from: isoDate(year, first, 1), to: isoDate(year, first + 2, lastDayOfMonth(year, first + 2)) };
  }
  if (key === 'fy') {
    const start = financialYearStart(now);
    return { from: isoDate(start, 4, 1), to: isoDate(start + 1, 3, 31) };
  }
  return { from: null, to: null };
}

function validDate(text) {
  if (!ISO_DATE.test(text || '')) return null;
  const [year, month, day] = text.split('-').map(Number);
  const date = new Date(year, month - 1, day);
  return date.getFullYear() === year && date.getMonth() === month - 1 && date.getDate() === day ? text : null;
}

/** The range in URLSearchParams (invalid dates are ignored). */
export function rangeFromParams(params) {
  return { from: validDate(params.get('from')), to: validDate(params.get('to')) };
}

export function sameRange(a, b) {
  return a.from === b.from && a.to === b.to;
}

/** Which preset a range is ("custom" when none matches). */
export function matchPreset(range, now = new Date()) {
  for (const { key } of PRESETS) {
    if (key !== 'custom' && sameRange(range, presetRange(key, now))) return key;
  }
  return 'custom';
}

export function describeRange(range) {
  if (range.from && range.to) return `${formatDate(range.from)} to ${formatDate(range.to)}`;
  if (range.from) return `from ${formatDate(range.from)}`;
  if (range.to) return `up to ${formatDate(range.to)}`;
  return 'all time';
}

/**
 * The date-range control: preset buttons (aria-pressed) and a custom from/to form.
 * onChange(range) is called when the user picks a range; set(range) shows one without calling it.
 */
export function createRangeControl({ idPrefix, range, onChange, legend = 'Date range' }) {
  const fromInput = h('input', { type: 'date', id: `${idPrefix}-from`, name: 'from', 'data-testid': 'range-from' });
  const toInput = h('input', { type: 'date', id: `${idPrefix}-to`, name: 'to', 'data-testid': 'range-to' });
  const errorId = uniqueId('range-error');
  const error = h('p', { class: 'field-error', id: errorId, role: 'alert', 'data-testid': 'range-error' });
  const summary = h('p', { class: 'range-summary', 'data-testid': 'range-summary' });

  const customForm = h('form', { class: 'range-custom', 'aria-label': 'Custom date range', novalidate: true },
    h('div', { class: 'field field-inline' }, h('label', { for: fromInput.id }, 'From'), fromInput),
    h('div', { class: 'field field-inline' }, h('label', { for: toInput.id }, 'To'), toInput),
    h('button', { type: 'submit', class: 'button' }, 'Show range'),
    error);

  const buttons = PRESETS.map(({ key, label }) => h('button', {
    type: 'button', class: 'button button-toggle', 'aria-pressed': 'false',
    'data-preset': key, 'data-testid': `range-${key}`,
  }, label));

  const element = h('fieldset', { class: 'range-control no-print' },
    h('legend', null, legend),
    h('div', { class: 'range-presets' }, buttons),
    customForm,
    summary);

  let current = { ...range };
  let customOpen = false;

  function render() {
    const active = customOpen ? 'custom' : matchPreset(current);
    for (const button of buttons) {
      button.setAttribute('aria-pressed', String(button.dataset.preset === active));
    }
    customForm.hidden = active !== 'custom';
    summary.textContent = `Showing ${describeRange(current)}.`;
  }

  function set(next) {
    current = { ...next };
    customOpen = matchPreset(current) === 'custom';
    fromInput.value = current.from || '';
    toInput.value = current.to || '';
    error.textContent = '';
    render();
  }

  for (const button of buttons) {
    button.addEventListener('click', () => {
      const key = button.dataset.preset;
      if (key === 'custom') {
        customOpen = true;
        fromInput.value = current.from || '';
        toInput.value = current.to || '';
        render();
        fromInput.focus();
        return;
      }
      customOpen = false;
      current = presetRange(key);
      render();
      onChange({ ...current });
    });
  }

  customForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const from = fromInput.value ? validDate(fromInput.value) : null;
    const to = toInput.value ? validDate(toInput.value) : null;
    if ((fromInput.value && !from) || (toInput.value && !to)) {
      error.textContent = 'Enter dates as day, month and year.';
      return;
    }
    if (from && to && from > to) {
      error.textContent = 'The “From” date must be on or before the “To” date.';
      fromInput.focus();
      return;
    }
    error.textContent = '';
    current = { from, to };
    customOpen = true;
    render();
    onChange({ ...current });
  });

  set(range);
  return { element, set, get: () => ({ ...current }) };
}
