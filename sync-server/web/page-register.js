// page-register.js — #/register?ward=&page=: the household register.
//   POST /api/v1/households/import (text/csv)       import a households CSV
//   GET  /api/v1/households?ward=&limit=&offset=    the list
//   POST /api/v1/households/search {q, ward, limit, offset}  the list, searched
//   POST /api/v1/households/{id}/assignment          assign to an officer (or nobody)
//   GET  /api/v1/households/{id}/subject-access.json|csv  everything held about one household

import { api, get, postJson, isQuiet } from './api.js';
import {
  h, formatNumber, createStateArea, wardSelect, announce, label, setChildren,
  VULNERABILITY_LABELS, ROLE_LABELS,
} from './dom.js';
import { createTable } from './charts.js';

const PAGE_SIZE = 100;
const MAX_CSV_BYTES = 10 * 1024 * 1024;

// The search text (a piece of an address or postcode): kept in this module's memory only, never
// in the hash, so it stays out of the browser's history and bookmarks, and sent in a POST body,
// never in a URL (docs/data-protection.md). It lasts while the dashboard is open: paging and
// other pages keep it, Clear or a reload ends it.
let searchText = '';

// ---------------------------------------------------------------------------------------------
// Import

function importSection(onImported) {
  const fileInput = h('input', {
    type: 'file', id: 'import-file', name: 'file', accept: '.csv,text/csv',
    'aria-describedby': 'import-hint', 'data-testid': 'import-file',
  });
  const submit = h('button', { type: 'submit', class: 'button', id: 'import-submit', 'data-testid': 'import-submit' }, 'Import households');
  const result = h('div', { id: 'import-result', class: 'import-result', 'data-testid': 'import-result' });
  const form = h('form', { class: 'import-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: fileInput.id }, 'Households CSV file'),
      h('p', { class: 'hint', id: 'import-hint' },
        'UTF-8 text, at most 10 MiB, with the header row ',
        h('code', null, 'id,address,postcode,ward,target,assigned_to'),
        '. Every row is checked first: if any row has a problem, nothing is imported.'),
      fileInput),
    submit);

  function showError(title, message, problems = []) {
    const shown = problems.slice(0, 500);
    setChildren(result, h('div', { class: 'message message-error', role: 'alert', 'data-testid': 'import-problems' },
      h('h3', null, title),
      message ? h('p', null, message) : null,
      shown.length ? h('ul', { class: 'problem-list' }, shown.map((problem) => h('li', { 'data-testid': 'import-problem' },
        problem.line !== undefined && problem.line !== null ? `Line ${problem.line}: ${problem.message}` : String(problem.message)))) : null,
      problems.length > shown.length ? h('p', null, `…and ${formatNumber(problems.length - shown.length)} more problems.`) : null));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    result.replaceChildren();
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      showError('No file chosen', 'Choose a CSV file to import.');
      fileInput.focus();
      return;
    }
    if (file.size > MAX_CSV_BYTES) {
      showError('Nothing was imported', 'The file is larger than 10 MiB. Split it into smaller files.');
      return;
    }
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      showError('Nothing was imported', 'The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8” and try again.');
      return;
    }

    submit.disabled = true;
    submit.textContent = 'Importing…';
    setChildren(result, h('p', { class: 'state state-loading', role: 'status' }, `Importing ${file.name}…`));
    try {
      const data = await api('/api/v1/households/import', { method: 'POST', text, contentType: 'text/csv' });
      const imported = data && typeof data.imported === 'number' ? data.imported : 0;
      setChildren(result, h('div', { class: 'message message-success', role: 'status', 'data-testid': 'import-success' },
        h('p', null, `Imported ${formatNumber(imported)} ${imported === 1 ? 'household' : 'households'} from ${file.name}.`)));
      result.firstChild.dataset.value = String(imported);
      form.reset();
      onImported();
    } catch (error) {
      if (isQuiet(error)) return;
      const problems = error.body && Array.isArray(error.body.problems) ? error.body.problems : [];
      if (error.status === 400) {
        showError('Nothing was imported',
          problems.length ? 'Fix these problems in the file and import it again:' : error.message, problems);
      } else {
        showError('The import failed', `${error.message} Nothing was imported.`);
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Import households';
    }
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
  const ids = users.filter((user) => user.role !== 'coordinator');
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

// The hash's ward and page. A `q` from an old bookmark is dropped from the hash and not used.
function readParams(params, ctx) {
  const page = Number.parseInt(params.get('page') || '1', 10);
  const filters = { ward: params.get('ward') || '', page: Number.isFinite(page) && page > 0 ? page : 1 };
  if (params.has('q')) ctx.replaceParams('register', { ward: filters.ward, page: filters.page > 1 ? filters.page : null });
  return filters;
}

function loadPage({ ward, page }) {
  const listing = { ward, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE };
  return searchText ? postJson('/api/v1/households/search', { ...listing, q: searchText })
    : get('/api/v1/households', listing);
}

function mount(root, params, ctx) {
  let filters = readParams(params, ctx);
  let alive = true;
  let requestId = 0;

  const wardHolder = h('div', { class: 'field' });
  const search = h('input', {
    type: 'search', id: 'households-q', name: 'q', value: searchText, maxlength: 200, autocomplete: 'off',
    'data-testid': 'households-q',
  });
  const filterForm = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find households' },
    wardHolder,
    h('div', { class: 'field' }, h('label', { for: search.id }, 'Address or postcode contains'), search),
    h('div', { class: 'field field-buttons' },
      h('button', { type: 'submit', class: 'button', 'data-testid': 'households-search' }, 'Search'),
      h('button', {
        type: 'button', class: 'button button-secondary', 'data-testid': 'households-clear',
        onclick: () => { searchText = ''; search.value = ''; ctx.navigate('register', {}); },
      }, 'Clear')));
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const select = root.querySelector('#households-ward');
    searchText = search.value.trim();
    ctx.navigate('register', { ward: select ? select.value : filters.ward });
  });

  const total = h('p', { class: 'count', 'data-testid': 'households-total', role: 'status' });
  const state = createStateArea('households-state');
  const table = createTable({
    caption: 'Households', testid: 'households-table',
    columns: [{ label: 'Address' }, { label: 'Postcode' }, { label: 'Ward' }, { label: 'Target' },
      { label: 'Vulnerability' }, { label: 'Assigned to' }, { label: 'Change assignment' }, { label: 'Subject access' }],
  });
  const pager = h('nav', { class: 'pager no-print', 'aria-label': 'Household list pages' });

  root.append(
    h('h1', { tabindex: '-1' }, 'Household register'),
    importSection(() => load()),
    h('section', { class: 'card-section', 'aria-labelledby': 'households-heading' },
      h('h2', { id: 'households-heading' }, 'Households'),
      filterForm, total, state.element, table.element, pager),
    subjectAccessSection());

  ctx.wards().then((wards) => {
    if (!alive) return;
    const select = wardSelect('households-ward', wards, filters.ward);
    select.setAttribute('data-testid', 'households-ward');
    wardHolder.replaceChildren(h('label', { for: 'households-ward' }, 'Ward'), select);
  }).catch(() => {});

  function pageButton(text, page, disabled) {
    return h('button', {
      type: 'button', class: 'button button-secondary', disabled,
      onclick: () => ctx.navigate('register', { ward: filters.ward, page: page > 1 ? page : null }),
    }, text);
  }

  async function load() {
    const id = ++requestId;
    const searched = searchText;
    state.set('loading', 'Loading households…');
    try {
      const [data, users] = await Promise.all([
        loadPage(filters),
        ctx.users().catch((error) => { if (isQuiet(error)) throw error; return []; }),
      ]);
      if (!alive || id !== requestId) return;
      state.set('none');
      const households = data.households || [];
      const count = typeof data.total === 'number' ? data.total : households.length;
      const first = households.length ? (filters.page - 1) * PAGE_SIZE + 1 : 0;
      const filtered = filters.ward || searched;
      total.dataset.value = String(count);
      total.textContent = count === 0 ? 'No households match.'
        : `Showing ${formatNumber(first)}–${formatNumber(first + households.length - 1)} of ${formatNumber(count)} ${filtered ? 'matching ' : ''}households.`;
      table.setCaption(`Households${filters.ward ? ` in ${filters.ward}` : ''}${searched ? ` matching “${searched}”` : ''}`);
      table.setRows(households.map((household) => {
        const assignedCell = h('span', null, household.assigned_to || h('span', { class: 'muted' }, 'Not assigned'));
        return {
          attrs: { 'data-testid': 'household-row', 'data-household-id': household.id },
          cells: [household.address, household.postcode, household.ward, household.target ? 'Yes' : 'No',
            (household.vulnerability || []).map((v) => label(VULNERABILITY_LABELS, v)).join(', ') || '—',
            assignedCell, assignControl(household, users, assignedCell),
            h('span', { class: 'sar-links' }, ...subjectAccessLinks(household.id, household.address, 'household-sar'))],
          cellAttrs: [null, null, null, { 'data-value': String(Boolean(household.target)) }, null,
            { 'data-testid': 'household-assigned' }, null, null],
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

  load();

  return {
    update(nextParams) {
      filters = readParams(nextParams, ctx);
      search.value = searchText;
      const select = root.querySelector('#households-ward');
      if (select) select.value = filters.ward;
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
