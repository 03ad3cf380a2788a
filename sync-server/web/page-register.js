// page-register.js — #/register?ward=&target=&unassigned=&officer=&page=: the household register.
//   POST /api/v1/households/import (text/csv)       import a households CSV
//   GET  /api/v1/households?ward=&target=&unassigned=&officer=&limit=&offset=    the list
//   POST /api/v1/households/search {q, ward, target, unassigned, officer, limit, offset}  the list, searched
//   POST /api/v1/households/{id}/assignment          assign to an officer (or nobody)
//   POST /api/v1/households/assignment {ids, assigned_to}  assign the selected households
//   GET  /api/v1/officers, POST /api/v1/officers, DELETE /api/v1/officers/{id}  officers known to the server
//   GET  /api/v1/exports/households.csv              the register as CSV
//   GET  /api/v1/households/{id}/subject-access.json|csv  everything held about one household
//
// The filters are not personal data and stay in the hash; the search text never does.

import { get, postJson, del, isQuiet } from './api.js';
import {
  h, formatNumber, createStateArea, wardSelect, announce, label,
  VULNERABILITY_LABELS, ROLE_LABELS,
} from './dom.js';
import { createTable } from './charts.js';
import { csvUploadForm } from './csv-upload.js';

const PAGE_SIZE = 100;
const MAX_BULK = 500; // the server's bound on one bulk assignment
const MAX_CSV_BYTES = 10 * 1024 * 1024;

// The search text (a piece of an address or postcode): kept in this module's memory only, never
// in the hash, so it stays out of the browser's history and bookmarks, and sent in a POST body,
// never in a URL (docs/data-protection.md). It lasts while the dashboard is open: paging and
// other pages keep it, Clear or a reload ends it.
let searchText = '';

// ---------------------------------------------------------------------------------------------
// Import

function importSection(onImported) {
  const count = (answer) => (answer && typeof answer.imported === 'number' ? answer.imported : 0);
  const { form, result } = csvUploadForm({
    idPrefix: 'import', label: 'Households CSV file', path: '/api/v1/households/import',
    hint: ['UTF-8 text, at most 10 MiB, with the header row ',
      h('code', null, 'id,address,postcode,ward,target,assigned_to'),
      ', optionally followed by ', h('code', null, ',vulnerability'),
      ' (elderly, disability, repeat_victim, lives_alone or other, several joined with ;). The register export has ',
      'these columns, so an exported file can be edited and imported again. ',
      'Every row is checked first: if any row has a problem, nothing is imported.'],
    submitText: 'Import households', busyText: 'Importing…', maxBytes: MAX_CSV_BYTES,
    refusedTitle: 'Nothing was imported', failedTitle: 'The import failed',
    done: (answer, file) => `Imported ${formatNumber(count(answer))} ${count(answer) === 1 ? 'household' : 'households'} from ${file.name}.`,
    more: (answer) => {
      result.firstChild.dataset.value = String(count(answer));
      const near = answer && Array.isArray(answer.near_duplicates) ? answer.near_duplicates : [];
      if (!near.length) return null;
      // Warnings, not errors: the rows were imported; the coordinator checks them and erases a true duplicate.
      return h('div', { class: 'message', 'data-testid': 'import-near-duplicates' },
        h('h3', null, `${formatNumber(near.length)} possible ${near.length === 1 ? 'duplicate' : 'duplicates'}`),
        h('p', null, 'These rows have the same postcode and house number as another row or a household already on the register. They were imported; check them:'),
        h('ul', { class: 'problem-list' }, near.slice(0, 500).map((warning) =>
          h('li', { 'data-testid': 'import-near-duplicate' }, `Line ${warning.line}: ${warning.message}`))));
    },
    onDone: onImported,
  });
  return h('section', { class: 'card-section', 'aria-labelledby': 'import-heading' },
    h('h2', { id: 'import-heading' }, 'Import households from a CSV file'), form, result);
}

// ---------------------------------------------------------------------------------------------
// Assignment control for one household row

function assignControl(household, users, assignedCell) {
  const selectId = `assign-${household.id}`;
  const select = h('select', { id: selectId, 'data-testid': 'assign-select' },
    h('option', { value: '' }, 'Nobody (unassigned)'));
  const ids = users.filter((user) => user.role !== 'coordinator');  // officers known to the server
  if (household.assigned_to && !ids.some((user) => user.user_id === household.assigned_to)) {
    ids.push({ user_id: household.assigned_to, role: null });
  }
  for (const user of ids) {
    select.append(h('option', { value: user.user_id },
      user.role ? `${user.user_id} (${label(ROLE_LABELS, user.role)})` : user.user_id));
  }
  select.value = household.assigned_to || '';

  const message = h('span', { class: 'row-message', 'data-testid': 'assign-message' });
  const button = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'assign-button' },
    'Assign', h('span', { class: 'visually-hidden' }, ` ${household.address}`));

  button.addEventListener('click', async () => {
    const chosen = select.value || null;
    if (chosen === (household.assigned_to || null)) {
      message.className = 'row-message';
      message.textContent = 'No change.';
      return;
    }
    button.disabled = true;
    message.className = 'row-message';
    message.textContent = 'Saving…';
    try {
      const data = await postJson(`/api/v1/households/${encodeURIComponent(household.id)}/assignment`, { assigned_to: chosen });
      household.assigned_to = data && 'assigned_to' in data ? data.assigned_to : chosen;
      assignedCell.replaceChildren(household.assigned_to || h('span', { class: 'muted' }, 'Not assigned'));
      message.className = 'row-message row-message-ok';
      message.textContent = 'Saved.';
      announce(household.assigned_to ? `${household.address} assigned to ${household.assigned_to}.` : `${household.address} unassigned.`);
    } catch (error) {
      if (isQuiet(error)) return;
      message.className = 'row-message row-message-error';
      message.textContent = error.status === 404 ? 'This household no longer exists.' : error.message;
      select.value = household.assigned_to || '';
    } finally {
      button.disabled = false;
    }
  });

  return h('div', { class: 'assign-control' },
    h('label', { for: selectId, class: 'visually-hidden' }, `Assign ${household.address} to`),
    select, button, message);
}

// ---------------------------------------------------------------------------------------------
// Subject access: everything the server holds about one household, as JSON or CSV (the
// download is audited by the server).

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function subjectAccessPath(id, format) {
  return `/api/v1/households/${encodeURIComponent(id)}/subject-access.${format}`;
}

// The two download links of one household; `about` names it for screen readers.
function subjectAccessLinks(id, about, testid) {
  return ['json', 'csv'].map((format) => h('a', {
    class: 'button button-secondary download-link', download: true, href: subjectAccessPath(id, format),
    'data-testid': `${testid}-${format}`,
  }, format.toUpperCase(), h('span', { class: 'visually-hidden' }, ` subject access export of ${about}`)));
}

// By id: for a household no longer listed (erased), or named in a request.
function subjectAccessSection() {
  const input = h('input', {
    type: 'text', id: 'sar-id', name: 'household', autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'sar-hint sar-error', 'data-testid': 'sar-id',
  });
  const error = h('p', { id: 'sar-error', class: 'field-error', 'data-testid': 'sar-error', role: 'alert' });
  const links = h('p', { class: 'sar-links' });
  function render() {
    const id = input.value.trim().toLowerCase();
    const valid = UUID_PATTERN.test(id);
    input.setAttribute('aria-invalid', String(id !== '' && !valid));
    error.textContent = id !== '' && !valid ? 'A household id is a UUID, such as 0190a5f2-0000-7000-8000-000000000001.' : '';
    links.replaceChildren(...(valid ? subjectAccessLinks(id, `household ${id}`, 'sar-download') : []));
  }
  input.addEventListener('input', render);
  return h('section', { class: 'card-section', 'aria-labelledby': 'sar-heading' },
    h('h2', { id: 'sar-heading' }, 'Subject access export'),
    h('p', { id: 'sar-hint', class: 'hint' },
      'Everything held about one household: its record, its visits, and its history (assignments, erasure, rejected ',
      'changes, exports). An erased household gives its tombstones and history only. Each download is recorded in the ',
      'audit trail. The files hold personal data: keep them on the partnership’s systems.'),
    h('div', { class: 'field' }, h('label', { for: 'sar-id' }, 'Household id'), input), error, links);
}

// ---------------------------------------------------------------------------------------------
// Officers known to the server: named here (before they have a tablet), or enrolled.

function officersSection(onChanged) {
  const input = h('input', {
    type: 'text', id: 'officer-id', name: 'user_id', autocomplete: 'off', spellcheck: 'false', maxlength: 64,
    'aria-describedby': 'officer-hint officer-error', 'data-testid': 'officer-id',
  });
  const error = h('p', { id: 'officer-error', class: 'field-error', role: 'alert', 'data-testid': 'officer-error' });
  const table = createTable({
    caption: 'Officers known to the server', testid: 'officers-table',
    columns: [{ label: 'User id' }, { label: 'Tablets' }, { label: 'Households' }, { label: 'On the list' }],
  });
  function render(officers) {
    table.setRows(officers.map((officer) => ({
      attrs: { 'data-testid': 'officer-row', 'data-user-id': officer.user_id },
      cells: [officer.user_id, String(officer.devices), String(officer.households),
        officer.listed ? h('button', {
          type: 'button', class: 'button button-secondary button-small', 'data-testid': 'officer-remove',
          onclick: async () => {
            try {
              render((await del(`/api/v1/officers/${encodeURIComponent(officer.user_id)}`)).officers || []);
              onChanged();
            } catch (failure) {
              if (!isQuiet(failure)) error.textContent = failure.message;
            }
          },
        }, 'Take off the list', h('span', { class: 'visually-hidden' }, ` ${officer.user_id}`)) : 'Enrolled tablet only'],
      cellAttrs: [null, { class: 'num' }, { class: 'num' }, null],
    })), [], 'No officers yet.');
  }
  const form = h('form', { class: 'filters', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: input.id }, 'Officer user id'), input),
    h('div', { class: 'field field-buttons' }, h('button', { type: 'submit', class: 'button', 'data-testid': 'officer-add' }, 'Add officer')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const userId = input.value.trim();
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(userId)) {
      error.textContent = 'A user id is 1 to 64 letters, digits, “.”, “_”, “@” or “-”, as on the officer’s tablet.';
      input.focus();
      return;
    }
    try {
      render((await postJson('/api/v1/officers', { user_id: userId })).officers || []);
      input.value = '';
      announce(`${userId} added to the officers.`);
      onChanged();
    } catch (failure) {
      if (!isQuiet(failure)) error.textContent = failure.message;
    }
  });
  return {
    element: h('section', { class: 'card-section', 'aria-labelledby': 'officers-heading' },
      h('h2', { id: 'officers-heading' }, 'Officers'),
      h('p', { id: 'officer-hint', class: 'hint' }, 'Households can be assigned to anyone on this list before their tablet is ',
        'enrolled; enrol a tablet for the same user id and it receives them at its first sync. Everyone with an enrolled ',
        'tablet is listed too.'),
      form, error, table.element),
    render,
  };
}

// ---------------------------------------------------------------------------------------------

// The hash's filters and page. A `q` from an old bookmark is dropped from the hash and not used.
function readParams(params, ctx) {
  const page = Number.parseInt(params.get('page') || '1', 10);
  const target = params.get('target');
  const filters = {
    ward: params.get('ward') || '',
    target: target === '1' || target === '0' ? target : '',
    unassigned: params.get('unassigned') === '1' ? '1' : '',
    officer: params.get('officer') || '',
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
  if (filters.unassigned) filters.officer = '';
  if (params.has('q')) ctx.replaceParams('register', hashParams(filters, filters.page));
  return filters;
}

/** The hash's params for `filters` at `page` (empty ones left out). */
function hashParams(filters, page = 1) {
  return {
    ward: filters.ward || null, target: filters.target || null, unassigned: filters.unassigned || null,
    officer: filters.officer || null, page: page > 1 ? page : null,
  };
}

function loadPage({ ward, target, unassigned, officer, page }) {
  const listing = { ward, target, unassigned, officer, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE };
  if (searchText) {
    return postJson('/api/v1/households/search', {
      ward, target: target === '' ? null : target === '1', unassigned: unassigned === '1', officer: officer || null,
      limit: listing.limit, offset: listing.offset, q: searchText,
    });
  }
  return get('/api/v1/households', listing);
}

async function loadOfficers() {
  const data = await get('/api/v1/officers');
  return data.officers || [];
}

// The filter controls besides the ward: target or not, unassigned only, one officer's.
function filterControls(filters, officers) {
  const target = h('select', { id: 'households-target', name: 'target', 'data-testid': 'households-target' },
    h('option', { value: '' }, 'Targets and others'), h('option', { value: '1' }, 'Target households only'),
    h('option', { value: '0' }, 'Not target households'));
  target.value = filters.target;
  const unassigned = h('input', {
    type: 'checkbox', id: 'households-unassigned', name: 'unassigned', checked: filters.unassigned === '1',
    'data-testid': 'households-unassigned',
  });
  const officer = h('select', { id: 'households-officer', name: 'officer', 'data-testid': 'households-officer' },
    h('option', { value: '' }, 'Any officer'));
  const names = officers.map((known) => known.user_id);
  if (filters.officer && !names.includes(filters.officer)) names.push(filters.officer);
  for (const name of names) officer.append(h('option', { value: name }, name));
  officer.value = filters.officer;
  return { target, unassigned, officer };
}

// "Assign to…" for the selected rows: one request, every one or none.
function bulkBar(selected, officers, onDone) {
  const count = h('span', { class: 'count', role: 'status', 'data-testid': 'bulk-count' }, 'No households selected.');
  const select = h('select', { id: 'bulk-assignee', 'data-testid': 'bulk-assignee' }, h('option', { value: '' }, 'Nobody (unassigned)'));
  for (const officer of officers) {
    select.append(h('option', { value: officer.user_id },
      officer.devices ? officer.user_id : `${officer.user_id} (no tablet yet)`));
  }
  const message = h('span', { class: 'row-message', 'data-testid': 'bulk-message' });
  const button = h('button', { type: 'button', class: 'button', disabled: true, 'data-testid': 'bulk-assign' }, 'Assign selected');
  button.addEventListener('click', async () => {
    const ids = [...selected];
    if (!ids.length) return;
    button.disabled = true;
    message.className = 'row-message';
    message.textContent = 'Saving…';
    try {
      const data = await postJson('/api/v1/households/assignment', { ids, assigned_to: select.value || null });
      const assigned = data && typeof data.assigned === 'number' ? data.assigned : ids.length;
      const to = select.value || 'nobody';
      message.className = 'row-message row-message-ok';
      message.textContent = `${formatNumber(assigned)} ${assigned === 1 ? 'household' : 'households'} assigned to ${to}.`;
      announce(message.textContent);
      selected.clear();
      onDone();
    } catch (error) {
      if (isQuiet(error)) return;
      message.className = 'row-message row-message-error';
      message.textContent = `Nothing was assigned: ${error.status === 404 ? 'a selected household no longer exists.' : error.message}`;
    } finally {
      button.disabled = selected.size === 0;
    }
  });
  return {
    element: h('div', { class: 'bulk-bar assign-control', 'data-testid': 'bulk-bar' },
      count, h('label', { for: select.id }, 'Assign to'), select, button, message),
    update() {
      count.textContent = selected.size === 0 ? 'No households selected.'
        : `${formatNumber(selected.size)} ${selected.size === 1 ? 'household' : 'households'} selected.`;
      button.disabled = selected.size === 0;
    },
    reset() {
      message.textContent = '';
    },
  };
}

function mount(root, params, ctx) {
  let filters = readParams(params, ctx);
  let alive = true;
  let requestId = 0;
  let officers = [];
  const selected = new Set(); // ids chosen for "Assign selected" (this page's rows)

  const wardHolder = h('div', { class: 'field' });
  const extraHolder = h('div', { class: 'filters-extra' });
  const search = h('input', {
    type: 'search', id: 'households-q', name: 'q', value: searchText, maxlength: 200, autocomplete: 'off',
    'data-testid': 'households-q',
  });
  let controls = filterControls(filters, officers);
  const filterForm = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find households' },
    wardHolder, extraHolder,
    h('div', { class: 'field' }, h('label', { for: search.id }, 'Address or postcode contains'), search),
    h('div', { class: 'field field-buttons' },
      h('button', { type: 'submit', class: 'button', 'data-testid': 'households-search' }, 'Search'),
      h('button', {
        type: 'button', class: 'button button-secondary', 'data-testid': 'households-clear',
        onclick: () => { searchText = ''; search.value = ''; ctx.navigate('register', {}); },
      }, 'Clear')));
  function renderExtras() {
    controls = filterControls(filters, officers);
    extraHolder.replaceChildren(
      h('div', { class: 'field' }, h('label', { for: controls.target.id }, 'Target'), controls.target),
      h('div', { class: 'field' }, h('label', { for: controls.officer.id }, 'Assigned to'), controls.officer),
      h('div', { class: 'field field-inline' }, controls.unassigned, h('label', { for: controls.unassigned.id }, 'Unassigned only')));
  }
  renderExtras();
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const select = root.querySelector('#households-ward');
    searchText = search.value.trim();
    const unassigned = controls.unassigned.checked ? '1' : '';
    ctx.navigate('register', hashParams({
      ward: select ? select.value : filters.ward, target: controls.target.value, unassigned,
      officer: unassigned ? '' : controls.officer.value,
    }));
  });

  const total = h('p', { class: 'count', 'data-testid': 'households-total', role: 'status' });
  const state = createStateArea('households-state');
  const selectAll = h('input', { type: 'checkbox', id: 'households-select-all', 'data-testid': 'households-select-all' });
  const table = createTable({
    caption: 'Households', testid: 'households-table',
    columns: [{ label: 'Address' }, { label: 'Postcode' }, { label: 'Ward' }, { label: 'Target' },
      { label: 'Vulnerability' }, { label: 'Assigned to' }, { label: 'Change assignment' }, { label: 'Subject access' },
      { label: 'Select' }],
  });
  const pager = h('nav', { class: 'pager no-print', 'aria-label': 'Household list pages' });
  const bulkHolder = h('div');
  let bulk = bulkBar(selected, officers, () => load());
  bulkHolder.append(bulk.element);
  const officerList = officersSection(() => refreshOfficers());

  root.append(
    h('h1', { tabindex: '-1' }, 'Household register'),
    importSection(() => load()),
    h('section', { class: 'card-section', 'aria-labelledby': 'households-heading' },
      h('h2', { id: 'households-heading' }, 'Households'),
      filterForm,
      h('p', null, h('a', {
        class: 'button button-secondary download-link', download: true, href: '/api/v1/exports/households.csv',
        'data-testid': 'households-export',
      }, 'Download the register (CSV)'), ' ', h('span', { class: 'hint' }, 'Every household, with vulnerability. The download is recorded in the audit trail.')),
      total,
      h('div', { class: 'field-inline' }, selectAll, h('label', { for: selectAll.id }, 'Select every household on this page')),
      bulkHolder, state.element, table.element, pager),
    officerList.element,
    subjectAccessSection());

  ctx.wards().then((wards) => {
    if (!alive) return;
    const select = wardSelect('households-ward', wards, filters.ward);
    select.setAttribute('data-testid', 'households-ward');
    wardHolder.replaceChildren(h('label', { for: 'households-ward' }, 'Ward'), select);
  }).catch(() => {});

  async function refreshOfficers() {
    try {
      officers = await loadOfficers();
    } catch (error) {
      if (isQuiet(error)) return;
      officers = [];
    }
    if (!alive) return;
    officerList.render(officers);
    renderExtras();
    bulk = bulkBar(selected, officers, () => load());
    bulkHolder.replaceChildren(bulk.element);
    bulk.update();
  }

  let rowBoxes = [];
  selectAll.addEventListener('change', () => {
    for (const box of rowBoxes) {
      box.checked = selectAll.checked;
      if (box.checked) selected.add(box.value); else selected.delete(box.value);
    }
    bulk.update();
  });

  function pageButton(text, page, disabled) {
    return h('button', {
      type: 'button', class: 'button button-secondary', disabled,
      onclick: () => ctx.navigate('register', hashParams(filters, page)),
    }, text);
  }

  async function load() {
    const id = ++requestId;
    const searched = searchText;
    state.set('loading', 'Loading households…');
    try {
      const data = await loadPage(filters);
      if (!alive || id !== requestId) return;
      state.set('none');
      selected.clear();
      selectAll.checked = false;
      bulk.update();
      const households = data.households || [];
      const count = typeof data.total === 'number' ? data.total : households.length;
      const first = households.length ? (filters.page - 1) * PAGE_SIZE + 1 : 0;
      const filtered = filters.ward || filters.target || filters.unassigned || filters.officer || searched;
      total.dataset.value = String(count);
      total.textContent = count === 0 ? 'No households match.'
        : `Showing ${formatNumber(first)}–${formatNumber(first + households.length - 1)} of ${formatNumber(count)} ${filtered ? 'matching ' : ''}households.`;
      table.setCaption(`Households${filters.ward ? ` in ${filters.ward}` : ''}${searched ? ` matching “${searched}”` : ''}`);
      rowBoxes = [];
      table.setRows(households.map((household) => {
        const assignedCell = h('span', null, household.assigned_to || h('span', { class: 'muted' }, 'Not assigned'));
        const box = h('input', {
          type: 'checkbox', value: household.id, id: `select-${household.id}`, 'data-testid': 'household-select',
          'aria-label': `Select ${household.address}`, disabled: rowBoxes.length >= MAX_BULK,
        });
        box.addEventListener('change', () => {
          if (box.checked) selected.add(household.id); else selected.delete(household.id);
          bulk.update();
        });
        rowBoxes.push(box);
        return {
          attrs: { 'data-testid': 'household-row', 'data-household-id': household.id },
          cells: [h('a', { href: `#/household/${encodeURIComponent(household.id)}`, 'data-testid': 'household-link' }, household.address),
            household.postcode, household.ward, household.target ? 'Yes' : 'No',
            (household.vulnerability || []).map((v) => label(VULNERABILITY_LABELS, v)).join(', ') || '—',
            assignedCell, assignControl(household, officers, assignedCell),
            h('span', { class: 'sar-links' }, ...subjectAccessLinks(household.id, household.address, 'household-sar')), box],
          cellAttrs: [null, null, null, { 'data-value': String(Boolean(household.target)) }, null,
            { 'data-testid': 'household-assigned' }, null, null, null],
        };
      }), [], 'No households match.');
      pager.replaceChildren();
      if (count > PAGE_SIZE) {
        const pages = Math.ceil(count / PAGE_SIZE);
        pager.append(pageButton('Previous page', filters.page - 1, filters.page <= 1),
          h('span', null, ` Page ${filters.page} of ${pages} `),
          pageButton('Next page', filters.page + 1, filters.page >= pages));
      }
    } catch (error) {
      if (!alive || id !== requestId || isQuiet(error)) return;
      state.set('error', error.message, load);
    }
  }

  refreshOfficers().then(() => load());

  return {
    update(nextParams) {
      filters = readParams(nextParams, ctx);
      search.value = searchText;
      const select = root.querySelector('#households-ward');
      if (select) select.value = filters.ward;
      renderExtras();
      bulk.reset();
      load();
    },
    unmount() {
      alive = false;
    },
  };
}

export default {
  key: 'register', title: 'Household register', mount,
  /** Ends the search (at sign-out). */
  forget() { searchText = ''; },
};
