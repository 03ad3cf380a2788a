// household-form.js — the household form: "Add a household found in the field" on Today, and
// correcting a household the server refused (#/household?id=…).
//
//   POST /api/validate/household   while typing (debounced)
//   POST /api/households           add (201 {id}); 409 {code: "near_duplicate", household_id} when a
//                                  household with the same postcode and house number is on the
//                                  tablet: the form shows it, and "Add it anyway" sends
//                                  near_duplicate_ok: true
//   GET  /api/households/{id}      the near duplicate's address
//   PUT  /api/households/{id}      correct (see README: not in docs/tablet-app.md's table yet)
//
// An officer never sends `target` or `assigned_to` (protocol.md §5.7: omitted = unchanged, and a new
// household from the field is not on the target list).

import { get, postJson, putJson, path } from './api.js';
import { h, fieldError, uniqueId, VULNERABILITIES, VULNERABILITY_LABELS, label } from './dom.js';
import { createErrorDisplay, createLiveValidator, bigCheckbox, onSubmit, showRefusal } from './forms.js';

/**
 * householdForm({wards, initial, id, testidPrefix, submitText, onSaved(id, data)}) → {element, focusFirst()}.
 * With id: PUT (correct an existing household); without: POST (add).
 */
export function householdForm({ wards, initial = {}, id = null, testidPrefix = 'add', submitText, onSaved }) {
  const t = (name) => `${testidPrefix}-${name}`;
  const address = h('input', {
    id: uniqueId('hh-address'), name: 'address', type: 'text', autocomplete: 'off', spellcheck: 'false',
    class: 'input-wide', 'data-testid': t('address'),
  });
  address.value = initial.address || '';
  const postcode = h('input', {
    id: uniqueId('hh-postcode'), name: 'postcode', type: 'text', autocomplete: 'off', autocapitalize: 'characters',
    spellcheck: 'false', class: 'input-postcode', 'data-testid': t('postcode'),
  });
  postcode.value = initial.postcode || '';

  const ward = h('select', { id: uniqueId('hh-ward'), name: 'ward', 'data-testid': t('ward') },
    h('option', { value: '' }, 'Choose a ward…'));
  const wardNames = [...wards];
  if (initial.ward && !wardNames.includes(initial.ward)) wardNames.push(initial.ward);
  for (const name of wardNames) ward.append(h('option', { value: name }, name));
  ward.value = initial.ward || '';

  const chosen = new Set(Array.isArray(initial.vulnerability) ? initial.vulnerability : []);
  const vulnerabilityGroup = h('div', { class: 'check-grid', role: 'group' });
  const checks = VULNERABILITIES.map((code) => bigCheckbox({
    name: 'vulnerability', value: code, text: label(VULNERABILITY_LABELS, code), checked: chosen.has(code),
    testid: t(`vuln-${code}`), onChange: () => changed('vulnerability'),
  }));
  for (const check of checks) vulnerabilityGroup.append(check.element);
  const vulnerabilityLegendId = uniqueId('hh-vuln-legend');
  vulnerabilityGroup.setAttribute('aria-labelledby', vulnerabilityLegendId);

  const errors = {
    address: fieldError('address', address),
    postcode: fieldError('postcode', postcode),
    ward: fieldError('ward', ward),
    vulnerability: fieldError('vulnerability', vulnerabilityGroup),
  };
  const display = createErrorDisplay({
    fields: errors, focusTargets: { address, postcode, ward, vulnerability: checks[0].input }, testidPrefix: `${testidPrefix}-`,
  });

  const submit = h('button', { type: 'submit', class: 'button button-big', 'data-testid': t('submit') },
    submitText || (id ? 'Save the corrected household' : 'Add household'));
  const result = h('div', { class: 'form-result', 'data-testid': t('result') });
  // The warning of a near duplicate; while it shows, the next submit adds the household anyway.
  const nearDuplicate = h('div', { class: 'message message-warning', role: 'alert', hidden: true, 'data-testid': t('near-duplicate') });
  let addAnyway = false;
  function clearNearDuplicate() {
    nearDuplicate.hidden = true;
    nearDuplicate.replaceChildren();
    addAnyway = false;
    submit.textContent = submitText || (id ? 'Save the corrected household' : 'Add household');
  }
  async function showNearDuplicate(otherId) {
    let other = null;
    try {
      other = (await get(path('/api/households', otherId))).household;
    } catch {
      other = null; // the warning stands without the address
    }
    nearDuplicate.replaceChildren(
      h('p', null, h('strong', null, 'This household may already be on the tablet. '),
        other ? `${other.address}, ${other.postcode} has the same postcode and house number.`
          : 'Another household has the same postcode and house number.'),
      h('p', { class: 'button-row' },
        h('a', { class: 'button', href: `#/visit?household=${encodeURIComponent(otherId)}`, 'data-testid': t('near-duplicate-open') },
          'Record a visit there instead')));
    nearDuplicate.hidden = false;
    addAnyway = true;
    submit.textContent = 'Add it anyway';
  }

  function collect() {
    const data = {
      address: address.value,
      postcode: postcode.value,
      ward: ward.value,
      vulnerability: checks.filter((check) => check.input.checked).map((check) => check.input.value),
    };
    return data;
  }

  const validator = createLiveValidator('household', collect, (list) => display.apply(list));
  function changed(field) {
    display.touch(field);
    validator.schedule();
  }
  // Once a field shows its error, the error follows the typing.
  address.addEventListener('input', () => { if (display.isTouched('address')) validator.schedule(); });
  postcode.addEventListener('input', () => { if (display.isTouched('postcode')) validator.schedule(); });
  address.addEventListener('change', () => changed('address'));
  postcode.addEventListener('change', () => changed('postcode'));
  // Another address or postcode is another question: the warning goes until it is asked again.
  address.addEventListener('input', () => { if (addAnyway) clearNearDuplicate(); });
  postcode.addEventListener('input', () => { if (addAnyway) clearNearDuplicate(); });
  ward.addEventListener('change', () => changed('ward'));

  const form = h('form', { class: 'household-form', novalidate: true, 'data-testid': t('form') },
    display.summary,
    h('div', { class: 'form-grid' },
      h('div', { class: 'field field-span' },
        h('label', { for: address.id }, 'Address'),
        h('p', { class: 'hint', id: `${address.id}-hint` }, 'House number or name and street, as on the door.'),
        address, errors.address.element),
      h('div', { class: 'field' },
        h('label', { for: postcode.id }, 'Postcode'),
        h('p', { class: 'hint', id: `${postcode.id}-hint` }, 'For example WD6 1WA.'),
        postcode, errors.postcode.element),
      h('div', { class: 'field' },
        h('label', { for: ward.id }, 'Ward'),
        ward, errors.ward.element)),
    h('div', { class: 'field' },
      h('p', { class: 'field-label', id: vulnerabilityLegendId }, 'Vulnerability (tick any that apply)'),
      vulnerabilityGroup, errors.vulnerability.element),
    display.general,
    nearDuplicate,
    h('div', { class: 'button-row' }, submit),
    result);
  address.setAttribute('aria-describedby', `${address.id}-hint ${address.getAttribute('aria-describedby')}`);
  postcode.setAttribute('aria-describedby', `${postcode.id}-hint ${postcode.getAttribute('aria-describedby')}`);

  onSubmit(form, { button: submit, validator, display }, async () => {
    result.replaceChildren();
    const data = collect();
    try {
      const answer = id
        ? await putJson(path('/api/households', id), data)
        : await postJson('/api/households', addAnyway ? { ...data, near_duplicate_ok: true } : data);
      clearNearDuplicate();
      display.reset();
      const newId = (answer && answer.id) || id;
      if (!id) {
        form.reset();
        ward.value = '';
      }
      if (onSaved) onSaved(newId, data, result);
    } catch (failure) {
      if (failure.status === 409 && failure.body && failure.body.code === 'near_duplicate') {
        await showNearDuplicate(failure.body.household_id);
        return;
      }
      if (!showRefusal(display, failure)) display.general.replaceChildren(h('p', null, failure.message));
    }
  });

  return {
    element: form,
    focusFirst: () => address.focus(),
    destroy: () => validator.cancel(),
    /** Shows errors beside their fields at once (e.g. the server's message for a refused change). */
    showErrors(list) {
      for (const error of list) display.touch(error.field);
      display.apply(list);
    },
  };
}
