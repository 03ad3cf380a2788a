// page-household.js — #/household/<id>: one household (docs/dashboard.md "Household page").
//   GET    /api/v1/households/{id}              details, visits, assignment history (audited)
//   PUT    /api/v1/households/{id}              edit address, postcode, ward, target, vulnerability
//   DELETE /api/v1/households/{id}              erase it and its visits
//   POST   /api/v1/households/{id}/assignment   assign to an officer (or nobody)
//   GET    /api/v1/officers                     the officers known to the server
//
// Only the id is in the URL; the address and everything else stay in the page. The page title
// is "Household", never the address, because browsers keep titles in their history.

import { get, postJson, putJson, del, isQuiet } from './api.js';
import {
  h, createStateArea, wardSelect, announce, label, setChildren, confirmDialog, timeElement, uniqueId,
  VULNERABILITIES, VULNERABILITY_LABELS, STATUS_LABELS, YES_NO_OUTCOMES, OUTCOME_LABELS, REFERRALS, REFERRAL_LABELS, SHARE_BASIS_LABELS, ROLE_LABELS,
} from './dom.js';
import { createTable } from './charts.js';

const householdPath = (id) => `/api/v1/households/${encodeURIComponent(id)}`;

function vulnerabilityText(list) {
  return (list || []).map((code) => label(VULNERABILITY_LABELS, code)).join(', ') || 'None recorded';
}

function detailsList(household) {
  const row = (term, value, testid) => [h('dt', null, term), h('dd', { 'data-testid': testid }, value)];
  return h('dl', { class: 'details', 'data-testid': 'household-details' },
    ...row('Address', household.address, 'detail-address'),
    ...row('Postcode', household.postcode, 'detail-postcode'),
    ...row('Ward', household.ward, 'detail-ward'),
    ...row('Target household', household.target ? 'Yes' : 'No', 'detail-target'),
    ...row('Vulnerability', vulnerabilityText(household.vulnerability), 'detail-vulnerability'),
    ...row('Assigned to', household.assigned_to || 'Nobody', 'detail-assigned'));
}

// The edit form: saving sends every editable field; the server validates them as a pushed
// household and names the field that is wrong.
function editForm(household, wards, onSaved) {
  const fields = {};
  const errors = {};
  const field = (name, text, control) => {
    const errorId = `edit-${name}-error`;
    control.setAttribute('aria-describedby', errorId);
    errors[name] = h('p', { id: errorId, class: 'field-error', 'data-testid': `edit-${name}-error` });
    fields[name] = control;
    return h('div', { class: 'field' }, h('label', { for: control.id }, text), control, errors[name]);
  };
  const address = h('input', { id: 'edit-address', name: 'address', value: household.address, maxlength: 200, autocomplete: 'off', 'data-testid': 'edit-address' });
  const postcode = h('input', { id: 'edit-postcode', name: 'postcode', value: household.postcode, maxlength: 10, autocomplete: 'off', 'data-testid': 'edit-postcode' });
  const ward = wardSelect('edit-ward', wards, household.ward, 'Choose a ward');
  ward.setAttribute('data-testid', 'edit-ward');
  const target = h('input', { type: 'checkbox', id: 'edit-target', name: 'target', checked: Boolean(household.target), 'data-testid': 'edit-target' });
  const boxes = VULNERABILITIES.map((code) => h('input', {
    type: 'checkbox', id: `edit-vulnerability-${code}`, name: 'vulnerability', value: code,
    checked: (household.vulnerability || []).includes(code), 'data-testid': `edit-vulnerability-${code}`,
  }));
  errors.vulnerability = h('p', { id: 'edit-vulnerability-error', class: 'field-error' });
  errors.target = h('p', { id: 'edit-target-error', class: 'field-error' });
  const formError = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'edit-error' });
  const submit = h('button', { type: 'submit', class: 'button', 'data-testid': 'edit-save' }, 'Save changes');
  const form = h('form', { class: 'edit-form', novalidate: true, 'aria-labelledby': 'edit-heading' },
    field('address', 'Address', address),
    field('postcode', 'Postcode', postcode),
    field('ward', 'Ward', ward),
    h('div', { class: 'field field-inline' }, target, h('label', { for: target.id }, 'Target household (counts towards coverage)'), errors.target),
    h('fieldset', { class: 'field', 'aria-describedby': 'edit-vulnerability-error' },
      h('legend', null, 'Vulnerability'),
      ...boxes.map((box) => h('div', { class: 'field-inline' }, box, h('label', { for: box.id }, label(VULNERABILITY_LABELS, box.value)))),
      errors.vulnerability),
    formError, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const element of Object.values(errors)) element.textContent = '';
    for (const control of Object.values(fields)) control.removeAttribute('aria-invalid');
    formError.replaceChildren();
    submit.disabled = true;
    try {
      const saved = await putJson(householdPath(household.id), {
        address: address.value, postcode: postcode.value, ward: ward.value, target: target.checked,
        vulnerability: boxes.filter((box) => box.checked).map((box) => box.value),
      });
      announce('Household saved.');
      onSaved(saved);
    } catch (error) {
      if (isQuiet(error)) return;
      const name = error.body && error.body.field;
      if (error.status === 400 && name && errors[name]) {
        errors[name].textContent = error.message;
        if (fields[name]) {
          fields[name].setAttribute('aria-invalid', 'true');
          fields[name].focus();
        }
      }
      formError.append(h('p', null, error.status === 404 ? 'This household no longer exists.' : `Not saved: ${error.message}`));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function assignForm(household, officers, onAssigned) {
  const select = h('select', { id: 'household-assign', 'data-testid': 'household-assign' }, h('option', { value: '' }, 'Nobody (unassigned)'));
  const names = officers.map((officer) => officer.user_id);
  if (household.assigned_to && !names.includes(household.assigned_to)) officers = [...officers, { user_id: household.assigned_to }];
  for (const officer of officers) {
    select.append(h('option', { value: officer.user_id },
      officer.role ? `${officer.user_id} (${label(ROLE_LABELS, officer.role)})` : officer.user_id));
  }
  select.value = household.assigned_to || '';
  const message = h('span', { class: 'row-message', role: 'status', 'data-testid': 'household-assign-message' });
  const button = h('button', { type: 'button', class: 'button', 'data-testid': 'household-assign-button' }, 'Assign');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await postJson(`${householdPath(household.id)}/assignment`, { assigned_to: select.value || null });
      message.className = 'row-message row-message-ok';
      message.textContent = 'Saved.';
      onAssigned();
    } catch (error) {
      if (isQuiet(error)) return;
      message.className = 'row-message row-message-error';
      message.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'assign-control' }, h('label', { for: select.id }, 'Assign to'), select, button, message);
}

// The visits, newest first; notes are hidden until asked for (they may be sensitive).
// `partners` and `extra` ([[id, label], …]: ctx.partners(), ctx.extraOutcomes()) let what the
// partnership added — answered questions of kind referral and yes_no — show beside the
// built-in referrals and outcomes.
function visitsTable(visits, partners, extra) {
  const table = createTable({
    caption: 'Visits, newest first', testid: 'household-visits',
    columns: [{ label: 'Date' }, { label: 'Status' }, { label: 'Outcomes' }, { label: 'Referrals' }, { label: 'Officer' }, { label: 'Notes' }],
  });
  table.setRows(visits.map((item) => {
    const visit = item.visit || {};
    const outcomes = YES_NO_OUTCOMES.filter((code) => visit[code] === true)
      .map((code) => label(OUTCOME_LABELS, code));
    if (visit.smoke_detectors_fitted > 0) outcomes.push(`${label(OUTCOME_LABELS, 'smoke_detectors_fitted')}: ${visit.smoke_detectors_fitted}`);
    outcomes.push(...extra.filter(([id]) => visit.answers && visit.answers[id] === true).map(([, name]) => name));
    const added = partners.filter(([id]) => !REFERRALS.includes(id) && visit.answers && visit.answers[id] === true);
    const referrals = [...(visit.referrals || []).map((code) => label(REFERRAL_LABELS, code)),
      ...added.map(([, name]) => name)].join(', ');
    const basis = visit.share_basis ? ` (${label(SHARE_BASIS_LABELS, visit.share_basis)})` : '';
    let notesCell = h('span', { class: 'muted' }, 'None');
    if (visit.notes) {
      const notesId = uniqueId('notes');
      const notes = h('p', { id: notesId, hidden: true, class: 'visit-notes', 'data-testid': 'visit-notes' }, visit.notes);
      const toggle = h('button', {
        type: 'button', class: 'button button-secondary button-small', 'aria-expanded': 'false', 'aria-controls': notesId,
        'data-testid': 'show-notes',
      }, 'Show notes');
      toggle.addEventListener('click', () => {
        const open = notes.hidden;
        notes.hidden = !open;
        toggle.setAttribute('aria-expanded', String(open));
        toggle.textContent = open ? 'Hide notes' : 'Show notes';
      });
      notesCell = h('div', null, toggle, notes);
    }
    return {
      attrs: { 'data-testid': 'visit-row', 'data-visit-id': item.id },
      cells: [timeElement(visit.visited_at), label(STATUS_LABELS, visit.status), outcomes.join(', ') || '—',
        referrals ? `${referrals}${basis}` : '—', item.recorded_by, notesCell],
    };
  }), [], 'No visits recorded.');
  return table.element;
}

function assignmentsTable(assignments) {
  const table = createTable({
    caption: 'Assignment history, oldest first', testid: 'household-assignments',
    columns: [{ label: 'When' }, { label: 'Assigned to' }, { label: 'By' }],
  });
  table.setRows(assignments.map((item) => ({
    attrs: { 'data-testid': 'assignment-row' },
    cells: [timeElement(item.at), item.assigned_to || 'Nobody', `${item.by}${item.via === 'dashboard' ? ' (dashboard)' : ''}`],
  })), [], 'No assignments recorded.');
  return table.element;
}

function mount(root, params, ctx) {
  let id = params.get('id') || '';
  let alive = true;
  const state = createStateArea('household-state');
  const body = h('div');
  root.append(
    h('p', { class: 'no-print' }, h('a', { href: '#/register', 'data-testid': 'back-to-register' }, '← Household register')),
    h('h1', { tabindex: '-1' }, 'Household'), state.element, body);

  async function erase(household) {
    const sure = await confirmDialog({
      title: 'Erase this household?',
      body: `This erases ${household.address} and all ${household.visits.length} of its visits, on the server and on every tablet, `
        + 'for good (a data-protection erasure). Its statistics go too. It cannot be undone.',
      confirmLabel: 'Erase household',
    });
    if (!sure) return;
    try {
      await del(householdPath(household.id));
      announce('Household erased.');
      ctx.navigate('register', {});
    } catch (error) {
      if (isQuiet(error)) return;
      state.set('error', `Not erased: ${error.message}`);
    }
  }

  async function load() {
    state.set('loading', 'Loading the household…');
    body.replaceChildren();
    try {
      const [household, wards, partners, extra, officers] = await Promise.all([
        get(householdPath(id)),
        ctx.wards(),
        ctx.partners(),
        ctx.extraOutcomes(),
        get('/api/v1/officers').then((data) => data.officers || []).catch((error) => { if (isQuiet(error)) throw error; return []; }),
      ]);
      if (!alive) return;
      state.set('none');
      household.id = id;
      setChildren(body,
        h('section', { class: 'card-section', 'aria-labelledby': 'details-heading' },
          h('h2', { id: 'details-heading' }, 'Details'), detailsList(household),
          assignForm(household, officers, load)),
        h('section', { class: 'card-section', 'aria-labelledby': 'edit-heading' },
          h('h2', { id: 'edit-heading' }, 'Edit details'),
          editForm(household, wards, () => load())),
        h('section', { class: 'card-section', 'aria-labelledby': 'visits-heading' },
          h('h2', { id: 'visits-heading' }, 'Visits'), visitsTable(household.visits || [], partners, extra)),
        h('section', { class: 'card-section', 'aria-labelledby': 'assignments-heading' },
          h('h2', { id: 'assignments-heading' }, 'Assignment history'), assignmentsTable(household.assignments || [])),
        h('section', { class: 'card-section', 'aria-labelledby': 'erase-heading' },
          h('h2', { id: 'erase-heading' }, 'Erase'),
          h('p', { class: 'hint' }, 'Erasing removes the household and its visits everywhere (right to erasure). '
            + 'Download a subject access export first if one was asked for.'),
          h('p', { class: 'sar-links' }, ...['json', 'csv'].map((format) => h('a', {
            class: 'button button-secondary download-link', download: true,
            href: `${householdPath(id)}/subject-access.${format}`, 'data-testid': `household-page-sar-${format}`,
          }, `Subject access ${format.toUpperCase()}`))),
          h('button', { type: 'button', class: 'button button-danger', 'data-testid': 'erase-household', onclick: () => erase(household) },
            'Erase household…')));
    } catch (error) {
      if (!alive || isQuiet(error)) return;
      state.set('error', error.status === 404 ? 'There is no such household: it may have been erased.' : error.message,
        error.status === 404 ? null : load);
    }
  }

  load();
  return {
    update(next) {
      id = next.get('id') || '';
      load();
    },
    unmount() { alive = false; },
  };
}

export default { key: 'household', title: 'Household', mount };
