// worklist-due.js — the Work lists page's "Follow-ups due": follow-ups due today or overdue,
// by officer (the household's assignee, else who recorded the visit), each officer's overdue
// ones and those due today in two tables. Only a household's latest visit counts.
//
//   GET /api/v1/worklists/follow-ups-due?ward=   {"today", "officers": [{officer, overdue, due}]}

import { get, isQuiet } from './api.js';
import { h, formatDate, timeElement, createStateArea, plural, setChildren } from './dom.js';
import { createTable } from './charts.js';

const COLUMNS = [{ label: 'Address' }, { label: 'Postcode' }, { label: 'Ward' }, { label: 'Due' }, { label: 'Visited' },
  { label: 'Recorded by' }];

const dueRow = (row, overdue) => ({
  attrs: {
    'data-testid': 'due-row', 'data-visit-id': row.visit_id, 'data-household-id': row.household_id,
    'data-overdue': overdue ? 'true' : 'false',
  },
  cells: [h('a', { href: `#/household/${encodeURIComponent(row.household_id)}` }, String(row.address || '')),
    row.postcode, row.ward, h('time', { datetime: row.follow_up_due }, formatDate(row.follow_up_due)),
    timeElement(row.visited_at), row.recorded_by || '—'],
});

/** One officer: a heading, then their overdue follow-ups and those due today. */
function officerBlock(officer, wardText) {
  const overdue = Array.isArray(officer.overdue) ? officer.overdue : [];
  const due = Array.isArray(officer.due) ? officer.due : [];
  const name = String(officer.officer || '');
  const tables = [
    [overdue, true, `Overdue follow-ups for ${name}${wardText}`, 'No follow-ups overdue.'],
    [due, false, `Follow-ups due today for ${name}${wardText}`, 'None due today.'],
  ].map(([rows, late, caption, empty]) => {
    const table = createTable({ caption, columns: COLUMNS, testid: late ? 'due-overdue-table' : 'due-today-table' });
    table.setRows(rows.map((row) => dueRow(row, late)), [], empty);
    return table.element;
  });
  return h('section', { class: 'due-officer', 'data-testid': 'due-officer', 'data-officer': name },
    h('h3', null, name, ' ', h('span', { class: 'muted' }, `(${overdue.length} overdue, ${due.length} due today)`)),
    tables);
}

/** The section; load(ward, wardText) (re)reads it. */
export function createFollowUpsDueSection() {
  const count = h('p', { class: 'count', 'data-testid': 'followups-due-count' });
  const state = createStateArea('followups-due-state');
  const body = h('div', { 'data-testid': 'followups-due-officers' });
  const element = h('section', { class: 'list-section', id: 'followups-due', 'aria-labelledby': 'followups-due-heading' },
    h('h2', { id: 'followups-due-heading' }, 'Follow-ups due'),
    h('p', null, 'Follow-ups due today or overdue, by officer: the officer the household is assigned to, or else who recorded the visit. Only a household’s latest visit counts.'),
    count, state.element, body);
  let latest = 0;

  async function load(ward, wardText) {
    const id = ++latest;
    state.set('loading');
    count.textContent = '';
    try {
      const data = await get('/api/v1/worklists/follow-ups-due', { ward });
      if (id !== latest) return;
      const officers = Array.isArray(data.officers) ? data.officers : [];
      const overdue = officers.reduce((sum, officer) => sum + (officer.overdue || []).length, 0);
      const due = officers.reduce((sum, officer) => sum + (officer.due || []).length, 0);
      state.set('none');
      count.dataset.overdue = String(overdue);
      count.dataset.due = String(due);
      count.textContent = `${plural(overdue, 'follow-up', 'follow-ups')} overdue and ${due} due today (${formatDate(data.today)})${wardText}.`;
      setChildren(body, officers.length ? officers.map((officer) => officerBlock(officer, wardText))
        : h('p', { class: 'muted' }, `No follow-ups due${wardText}.`));
    } catch (error) {
      if (id !== latest || isQuiet(error)) return;
      state.set('error', error.message, () => load(ward, wardText));
      setChildren(body);
    }
  }
  return { element, load, stop: () => { latest += 1; } };
}
