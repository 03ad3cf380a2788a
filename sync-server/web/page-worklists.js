// page-worklists.js — #/worklists?ward=&since=&from=&to=: where officers go next.
//   GET /api/v1/worklists/unvisited?ward=&since=   target households not visited since a date
//                                                  (by default since 1 April, this financial year)
//   GET /api/v1/worklists/follow-ups?ward=  follow-ups outstanding
//   GET /api/v1/worklists/follow-ups-due?ward=  follow-ups due and overdue, by officer (worklist-due.js)
//   GET /api/v1/activity?from=&to=          officers' activity in the range

import { get, isQuiet } from './api.js';
import {
  h, formatNumber, formatDate, timeElement, createStateArea, wardSelect, plural, label,
  STATUS_LABELS, ROLE_LABELS,
} from './dom.js';
import { createTable } from './charts.js';
import {
  createRangeControl, rangeFromParams, sameRange, describeRange, financialYearStart, isoDate,
} from './ranges.js';
import { createFollowUpsDueSection } from './worklist-due.js';

const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const orNone = (value) => (value === null || value === undefined || value === '' ? h('span', { class: 'muted' }, 'Not assigned') : String(value));

/** A section that loads one list: heading, count line, state area, table. */
function listSection({ id, title, intro, table }) {
  const count = h('p', { class: 'count', 'data-testid': `${id}-count` });
  const state = createStateArea(`${id}-state`);
  const element = h('section', { class: 'list-section', id, 'aria-labelledby': `${id}-heading` },
    h('h2', { id: `${id}-heading` }, title),
    intro ? h('p', null, intro) : null,
    count, state.element, table.element);
  return { element, count, state, table };
}

// The three lists' sections and rows.

const unvisitedSection = () => listSection({
  id: 'unvisited', title: 'Target households not visited since…',
  intro: 'Households on the Safer Streets target list with no completed visit on or after the date below '
    + '(at first, 1 April: none yet this financial year).',
  table: createTable({
    caption: 'Target households with no completed visit', testid: 'unvisited-table',
    columns: [{ label: 'Address' }, { label: 'Postcode' }, { label: 'Ward' }, { label: 'Assigned to' },
      { label: 'Last attempt' }],
  }),
});

const followUpsSection = () => listSection({
  id: 'followups', title: 'Follow-ups outstanding',
  intro: 'Visits that asked for a follow-up, with no later completed visit to the household.',
  table: createTable({
    caption: 'Outstanding follow-ups', testid: 'followups-table',
    columns: [{ label: 'Address' }, { label: 'Postcode' }, { label: 'Ward' }, { label: 'Visited' },
      { label: 'Recorded by' }, { label: 'Assigned to' }],
  }),
});

const activitySection = () => listSection({
  id: 'activity', title: 'Officers’ activity',
  intro: 'Everyone who recorded something in the range, and every enrolled user.',
  table: createTable({
    caption: 'Officers’ activity', testid: 'activity-table',
    columns: [{ label: 'User' }, { label: 'Role' }, { label: 'Visits', numeric: true },
      { label: STATUS_LABELS.completed, numeric: true }, { label: 'Households visited', numeric: true },
      { label: 'Follow-ups', numeric: true }, { label: 'Commute Aware sessions', numeric: true },
      { label: 'Cards', numeric: true }, { label: 'Last sync' }],
  }),
});

const unvisitedRow = (row) => ({
  attrs: { 'data-testid': 'unvisited-row', 'data-household-id': row.id },
  cells: [row.address, row.postcode, row.ward, orNone(row.assigned_to),
    row.last_visit ? [timeElement(row.last_visit.visited_at), ` (${label(STATUS_LABELS, row.last_visit.status)})`]
      : h('span', { class: 'muted' }, 'Never')],
});

const followUpRow = (row) => ({
  attrs: { 'data-testid': 'followup-row', 'data-visit-id': row.visit_id, 'data-household-id': row.household_id },
  cells: [row.address, row.postcode, row.ward, timeElement(row.visited_at), row.recorded_by || '—',
    orNone(row.assigned_to)],
});

const activityRow = (row) => ({
  attrs: { 'data-testid': 'activity-row', 'data-user-id': row.user_id },
  cells: [row.user_id, row.role ? label(ROLE_LABELS, row.role) : '—', formatNumber(num(row.visits)),
    formatNumber(num(row.completed)), formatNumber(num(row.households_visited)),
    formatNumber(num(row.follow_ups)), formatNumber(num(row.commute_sessions)), formatNumber(num(row.cards)),
    timeElement(row.last_sync_at, 'Never')],
  cellAttrs: [null, null, { 'data-value': num(row.visits) }, { 'data-value': num(row.completed) },
    { 'data-value': num(row.households_visited) }, { 'data-value': num(row.follow_ups) },
    { 'data-value': num(row.commute_sessions) }, { 'data-value': num(row.cards) }, null],
});

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const sinceFromParams = (params) => {
  const since = params.get('since') || '';
  return ISO_DATE.test(since) ? since : isoDate(financialYearStart(), 4, 1);
};

function mount(root, params, ctx) {
  let ward = params.get('ward') || '';
  let since = sinceFromParams(params);
  let range = rangeFromParams(params);
  let alive = true;
  const latest = { lists: 0, activity: 0 };

  const wardHolder = h('div', { class: 'field' });
  const filterForm = h('form', { class: 'filters no-print', 'aria-label': 'Filter work lists' }, wardHolder);
  filterForm.addEventListener('submit', (event) => event.preventDefault());
  const unvisited = unvisitedSection();
  const followUps = followUpsSection();
  const followUpsDue = createFollowUpsDueSection();
  const activity = activitySection();
  const sinceInput = h('input', {
    type: 'date', id: 'unvisited-since', value: since, required: true, 'data-testid': 'unvisited-since',
  });
  sinceInput.addEventListener('change', () => {
    if (ISO_DATE.test(sinceInput.value)) ctx.navigate('worklists', { ward, since: sinceInput.value, ...range });
  });
  unvisited.element.insertBefore(h('div', { class: 'field no-print' },
    h('label', { for: 'unvisited-since' }, 'Not visited since'), sinceInput), unvisited.count);
  const sinceText = () => ` since ${formatDate(since, true)}`;
  const rangeControl = createRangeControl({
    idPrefix: 'activity-range', range, legend: 'Date range for officers’ activity',
    onChange: (next) => ctx.navigate('worklists', { ward, since, ...next }),
  });
  activity.element.insertBefore(rangeControl.element, activity.count);

  root.append(
    h('h1', { tabindex: '-1' }, 'Work lists'),
    filterForm,
    followUpsDue.element,
    unvisited.element,
    followUps.element,
    activity.element);

  // Ward filter: every ward, from the server.
  ctx.wards().then((wards) => {
    if (!alive) return;
    const select = wardSelect('ward-filter', wards, ward);
    select.setAttribute('data-testid', 'ward-filter');
    select.addEventListener('change', () => ctx.navigate('worklists', { ward: select.value, since, ...range }));
    wardHolder.replaceChildren(h('label', { for: 'ward-filter' }, 'Ward'), select,
      h('p', { class: 'hint' }, 'Filters the work lists; the activity table covers all wards.'));
  }).catch(() => {});

  const wardText = () => (ward ? ` in ${ward}` : ' in all wards');

  async function loadLists() {
    const id = ++latest.lists;
    for (const section of [unvisited, followUps]) {
      section.state.set('loading');
      section.count.textContent = '';
    }
    unvisited.table.setCaption(`Target households with no completed visit${sinceText()}${wardText()}`);
    followUps.table.setCaption(`Outstanding follow-ups${wardText()}`);
    followUpsDue.load(ward, wardText());

    const [households, follow] = await Promise.allSettled([
      get('/api/v1/worklists/unvisited', { ward, since }),
      get('/api/v1/worklists/follow-ups', { ward }),
    ]);
    if (!alive || id !== latest.lists) return;

    if (households.status === 'fulfilled') {
      const list = households.value.households || [];
      unvisited.state.set('none');
      unvisited.count.textContent = `${plural(list.length, 'household', 'households')} not visited${sinceText()}${wardText()}.`;
      unvisited.count.dataset.value = String(list.length);
      unvisited.table.setRows(list.map(unvisitedRow), [], `Every target household visited${sinceText()}${wardText()}.`);
    } else if (!isQuiet(households.reason)) {
      unvisited.state.set('error', households.reason.message, loadLists);
      unvisited.table.setRows([], [], 'Not loaded.');
    }

    if (follow.status === 'fulfilled') {
      const list = follow.value.follow_ups || [];
      followUps.state.set('none');
      followUps.count.textContent = `${plural(list.length, 'follow-up', 'follow-ups')} outstanding${wardText()}.`;
      followUps.count.dataset.value = String(list.length);
      followUps.table.setRows(list.map(followUpRow), [], `No follow-ups outstanding${wardText()}.`);
    } else if (!isQuiet(follow.reason)) {
      followUps.state.set('error', follow.reason.message, loadLists);
      followUps.table.setRows([], [], 'Not loaded.');
    }
  }

  async function loadActivity() {
    const id = ++latest.activity;
    activity.state.set('loading');
    activity.count.textContent = '';
    activity.table.setCaption(`Officers’ activity, ${describeRange(range)}`);
    try {
      const data = await get('/api/v1/activity', { from: range.from, to: range.to });
      if (!alive || id !== latest.activity) return;
      const officers = data.officers || [];
      activity.state.set('none');
      activity.count.textContent = `${plural(officers.length, 'user', 'users')}.`;
      activity.table.setRows(officers.map(activityRow), [], 'No users.');
    } catch (error) {
      if (!alive || id !== latest.activity || isQuiet(error)) return;
      activity.state.set('error', error.message, loadActivity);
      activity.table.setRows([], [], 'Not loaded.');
    }
  }

  loadLists();
  loadActivity();

  return {
    update(nextParams) {
      const nextWard = nextParams.get('ward') || '';
      const nextSince = sinceFromParams(nextParams);
      const nextRange = rangeFromParams(nextParams);
      if (nextWard !== ward || nextSince !== since) {
        ward = nextWard;
        since = nextSince;
        const select = root.querySelector('#ward-filter');
        if (select) select.value = ward;
        sinceInput.value = since;
        loadLists();
      }
      if (!sameRange(nextRange, range)) {
        range = nextRange;
        rangeControl.set(range);
        loadActivity();
      }
    },
    unmount() {
      alive = false;
      followUpsDue.stop();
    },
  };
}

export default { key: 'worklists', title: 'Work lists', mount };
