// page-audit.js — #/audit?person=&action=&from=&to=&before=: the audit trail, newest first.
//   GET /api/v1/audit?person=&action=&from=&to=&before=&limit=   one page (docs/api.md)
//   GET /api/v1/audit.csv?person=&action=&from=&to=              every match, as CSV (a plain link)
// Reading the trail and exporting it are themselves recorded in it.

import { get, query, isQuiet } from './api.js';
import { h, createStateArea, formatDateTime, formatNumber } from './dom.js';
import { createTable } from './charts.js';

const PAGE_SIZE = 100;

// The actions the server records (docs/server.md, "Audit trail").
const ACTIONS = [
  'login', 'logout', 'export', 'households_view', 'households_search', 'household_view', 'household_edit',
  'officer_add', 'officer_remove', 'worklist_view', 'audit_view', 'audit_verify', 'audit_purge', 'register_import',
  'assign', 'enrolment_code', 'enroll', 'revoke', 'revoke_and_wipe', 'wipe_delivered', 'erase', 'account_add', 'password_change',
  'password_reset', 'account_disable', 'account_enable', 'lists_view', 'lists_change', 'questions_view',
  'questions_change', 'move_to_postgresql', 'subject_access', 'retention_view', 'retention_change',
  'retention_purge', 'baseline_load', 'referrals_sent', 'backup',
];

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function readParams(params) {
  const before = params.get('before') || '';
  const date = (name) => (DATE.test(params.get(name) || '') ? params.get(name) : '');
  return {
    person: params.get('person') || '',
    action: params.get('action') || '',
    from: date('from'),
    to: date('to'),
    before: /^\d+$/.test(before) ? before : '',
  };
}

/** What an entry was about: its ids, as "household …, device …". */
function objects(entry) {
  return [['household', entry.household], ['device', entry.device], ['user', entry.username], ['kind', entry.kind]]
    .filter(([, value]) => value)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ') || '—';
}

function mount(root, params, ctx) {
  let filters = readParams(params);
  let alive = true;
  let requestId = 0;

  const person = h('input', { id: 'audit-person', name: 'person', value: filters.person, autocomplete: 'off', spellcheck: 'false', 'data-testid': 'audit-person' });
  const action = h('select', { id: 'audit-action', name: 'action', 'data-testid': 'audit-action' },
    h('option', { value: '' }, 'All actions'),
    ACTIONS.map((name) => h('option', { value: name }, name)));
  action.value = filters.action;
  const from = h('input', { type: 'date', id: 'audit-from', name: 'from', value: filters.from, 'data-testid': 'audit-from' });
  const to = h('input', { type: 'date', id: 'audit-to', name: 'to', value: filters.to, 'data-testid': 'audit-to' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit trail', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: person.id }, 'Person (user or account)'), person),
    h('div', { class: 'field' }, h('label', { for: action.id }, 'Action'), action),
    h('div', { class: 'field' }, h('label', { for: from.id }, 'From'), from),
    h('div', { class: 'field' }, h('label', { for: to.id }, 'To'), to),
    h('div', { class: 'field field-buttons' },
      h('button', { type: 'submit', class: 'button', 'data-testid': 'audit-filter' }, 'Show'),
      h('button', { type: 'button', class: 'button button-secondary', onclick: () => ctx.navigate('audit', {}) }, 'Clear')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate('audit', { person: person.value.trim(), action: action.value, from: from.value, to: to.value });
  });

  const exportLink = h('a', { class: 'button download-link', download: true, 'data-testid': 'audit-export' }, 'Download these entries (CSV)');
  const count = h('p', { class: 'count', role: 'status', 'data-testid': 'audit-count' });
  const state = createStateArea('audit-state');
  const table = createTable({
    caption: 'Audit entries, newest first', testid: 'audit-table', scroll: true,
    columns: [{ label: 'Entry', numeric: true }, { label: 'Time' }, { label: 'Who' }, { label: 'From' }, { label: 'Action' },
      { label: 'Outcome' }, { label: 'About' }, { label: 'Detail' }],
  });
  const pager = h('nav', { class: 'pager no-print', 'aria-label': 'Audit trail pages' });

  root.append(
    h('h1', { tabindex: '-1' }, 'Audit trail'),
    h('p', null, 'Who signed in, exported, searched, viewed, assigned, enrolled or revoked, and when. ',
      'Entries hold ids, never addresses or notes, and each carries the hash of the one before: ',
      h('code', null, 'sync-server audit verify'), ' finds any entry edited, deleted or reordered.'),
    form,
    h('p', null, exportLink),
    count, state.element, table.element, pager);

  function filterQuery() {
    return { person: filters.person, action: filters.action, from: filters.from, to: filters.to };
  }

  async function load() {
    const id = ++requestId;
    exportLink.href = `/api/v1/audit.csv${query(filterQuery())}`;
    state.set('loading', 'Loading the audit trail…');
    try {
      const data = await get('/api/v1/audit', { ...filterQuery(), before: filters.before, limit: PAGE_SIZE });
      if (!alive || id !== requestId) return;
      state.set('none');
      const entries = data.entries || [];
      count.dataset.value = String(entries.length);
      count.textContent = entries.length === 0 ? 'No entries match.'
        : `Showing ${formatNumber(entries.length)} ${entries.length === 1 ? 'entry' : 'entries'}${filters.before ? ` older than entry ${filters.before}` : ''}.`;
      table.setRows(entries.map((entry) => ({
        attrs: { 'data-testid': 'audit-row', 'data-action': entry.action, 'data-seq': String(entry.seq) },
        cells: [String(entry.seq), formatDateTime(entry.at), `${entry.actor} (${entry.via})`, entry.address, entry.action,
          entry.outcome, objects(entry), entry.detail || '—'],
      })), [], 'No entries match.');
      pager.replaceChildren();
      if (filters.before) {
        pager.append(h('button', { type: 'button', class: 'button button-secondary', onclick: () => ctx.navigate('audit', filterQuery()) }, 'Newest entries'));
      }
      if (data.next_before !== null && data.next_before !== undefined) {
        pager.append(h('button', {
          type: 'button', class: 'button button-secondary', 'data-testid': 'audit-older',
          onclick: () => ctx.navigate('audit', { ...filterQuery(), before: String(data.next_before) }),
        }, 'Older entries'));
      }
    } catch (error) {
      if (!alive || id !== requestId || isQuiet(error)) return;
      state.set('error', error.message, load);
    }
  }

  load();

  return {
    update(nextParams) {
      filters = readParams(nextParams);
      person.value = filters.person;
      action.value = filters.action;
      from.value = filters.from;
      to.value = filters.to;
      load();
    },
    unmount() {
      alive = false;
    },
  };
}

export default { key: 'audit', title: 'Audit trail', mount };
