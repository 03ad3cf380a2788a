// page-devices.js — #/devices?device=ID: enrolled tablets.
//   GET  /api/v1/devices                 the list
//   POST /api/v1/devices/{id}/revoke     revoke (after a confirmation)
//   GET  /api/v1/devices/{id}/rejections rejected changes of one device (?device=ID)
//   POST /api/v1/devices                 enrol; the token is shown once

import { get, postJson, isQuiet } from './api.js';
import {
  h, formatNumber, timeElement, createStateArea, confirmDialog, announce, label, setChildren, ROLE_LABELS,
} from './dom.js';
import { createTable } from './charts.js';

const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** Copies text; navigator.clipboard needs a secure context, so fall back to a selection copy. */
async function copyText(input) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(input.value);
      return true;
    } catch {
      // fall through
    }
  }
  input.focus();
  input.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Enrolment

function enrolSection(onEnrolled, knownDevices) {
  const deviceInput = h('input', { id: 'enrol-device-id', name: 'device_id', required: true, autocomplete: 'off', spellcheck: 'false', 'data-testid': 'enrol-device-id' });
  const userInput = h('input', { id: 'enrol-user-id', name: 'user_id', required: true, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'enrol-user-hint', 'data-testid': 'enrol-user-id' });
  const roleSelect = h('select', { id: 'enrol-role', name: 'role', 'data-testid': 'enrol-role' },
    ['officer', 'pcso', 'coordinator'].map((role) => h('option', { value: role }, label(ROLE_LABELS, role))));
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'enrol-error' });
  const submit = h('button', { type: 'submit', class: 'button', 'data-testid': 'enrol-submit' }, 'Enrol device');
  const tokenArea = h('div', { 'data-testid': 'enrol-result' });

  const form = h('form', { class: 'enrol-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: deviceInput.id }, 'Device id'), deviceInput),
    h('div', { class: 'field' }, h('label', { for: userInput.id }, 'User id'), userInput,
      h('p', { class: 'hint hint-after', id: 'enrol-user-hint' }, 'For example officer.ann')),
    h('div', { class: 'field' }, h('label', { for: roleSelect.id }, 'Role'), roleSelect),
    error, h('div', { class: 'form-actions' }, submit));

  function showToken(deviceId, token) {
    const tokenInput = h('input', {
      type: 'text', id: 'enrol-token', readonly: true, value: token, class: 'token-input',
      'aria-describedby': 'token-warning', 'data-testid': 'enrol-token', spellcheck: 'false', autocomplete: 'off',
    });
    const copyStatus = h('span', { class: 'row-message', role: 'status', 'data-testid': 'token-copy-status' });
    const copyButton = h('button', { type: 'button', class: 'button', 'data-testid': 'token-copy' }, 'Copy token');
    copyButton.addEventListener('click', async () => {
      copyStatus.textContent = (await copyText(tokenInput)) ? 'Copied.' : 'Could not copy: select the token and copy it by hand.';
    });
    const doneButton = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'token-done' }, 'I have copied it — hide the token');
    const box = h('section', { class: 'token-box', 'aria-labelledby': 'token-heading', tabindex: '-1', 'data-testid': 'enrol-token-box' },
      h('h3', { id: 'token-heading' }, `Token for device ${deviceId}`),
      h('p', { class: 'token-warning', id: 'token-warning' },
        h('strong', null, 'Copy this token now. It will not be shown again.'),
        ' Enter it on the tablet when enrolling it. Anyone with the token can sync as this device: do not email it or write it down where others can see it.'),
      h('div', { class: 'field' }, h('label', { for: tokenInput.id }, 'Device token'), tokenInput),
      h('div', { class: 'button-row' }, copyButton, doneButton, copyStatus));
    doneButton.addEventListener('click', () => {
      tokenArea.replaceChildren();
      deviceInput.focus();
    });
    setChildren(tokenArea, box);
    box.focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.replaceChildren();
    tokenArea.replaceChildren();
    const body = { device_id: deviceInput.value.trim(), user_id: userInput.value.trim(), role: roleSelect.value };
    if (!body.device_id || !body.user_id) {
      error.append(h('p', null, body.device_id ? 'Enter the user id.' : 'Enter the device id.'));
      (body.device_id ? userInput : deviceInput).focus();
      return;
    }
    if (knownDevices().includes(body.device_id)) {
      const replace = await confirmDialog({
        title: `Replace the token of ${body.device_id}?`,
        body: 'This device is already enrolled. Enrolling it again gives it a new token; the old token stops working.',
        confirmLabel: 'Enrol again',
      });
      if (!replace) return;
    }
    submit.disabled = true;
    try {
      const data = await postJson('/api/v1/devices', body);
      form.reset();
      showToken(data.device_id || body.device_id, String(data.token || ''));
      announce(`Device ${body.device_id} enrolled.`);
      onEnrolled();
    } catch (failure) {
      if (isQuiet(failure)) return;
      error.append(h('p', null, `Could not enrol the device: ${failure.message}`));
    } finally {
      submit.disabled = false;
    }
  });

  return h('section', { class: 'card-section', 'aria-labelledby': 'enrol-heading' },
    h('h2', { id: 'enrol-heading' }, 'Enrol a device'),
    h('p', null, 'Gives a tablet its own token. Officers and PCSOs see only their households and records; coordinators see everything.'),
    form, tokenArea);
}

// ---------------------------------------------------------------------------------------------
// Rejected changes of one device

function rejectionsSection(deviceId, alive) {
  const state = createStateArea('rejections-state');
  const count = h('p', { class: 'count', 'data-testid': 'rejections-count' });
  const table = createTable({
    caption: `Rejected changes of device ${deviceId}, newest first`, testid: 'rejections-table',
    columns: [{ label: 'Seq', numeric: true }, { label: 'Record' }, { label: 'Field' }, { label: 'Code' },
      { label: 'Message' }, { label: 'Time' }],
  });
  const element = h('section', { class: 'card-section', id: 'rejections', 'aria-labelledby': 'rejections-heading', tabindex: '-1' },
    h('h2', { id: 'rejections-heading' }, `Rejected changes — ${deviceId}`),
    h('p', null, 'Changes the server refused to apply. The tablet shows them to its user and never sends them again; a corrected record is a new change.'),
    count, state.element, table.element,
    h('p', { class: 'no-print table-after' }, h('a', { href: '#/devices' }, 'Close rejected changes')));

  async function load() {
    state.set('loading');
    try {
      const data = await get(`/api/v1/devices/${encodeURIComponent(deviceId)}/rejections`);
      if (!alive()) return;
      const rows = data.rejections || [];
      state.set('none');
      count.textContent = `${formatNumber(rows.length)} rejected ${rows.length === 1 ? 'change' : 'changes'}.`;
      count.dataset.value = String(rows.length);
      table.setRows(rows.map((row) => ({
        attrs: { 'data-testid': 'rejection-row', 'data-seq': row.seq },
        cells: [formatNumber(num(row.seq)), [String(row.entity || ''), ' ', h('code', { class: 'code-id' }, String(row.record_id || ''))],
          row.field ? h('code', null, String(row.field)) : '—', h('code', null, String(row.code || '')),
          String(row.message || ''), timeElement(row.at)],
      })), [], 'This device has no rejected changes.');
    } catch (error) {
      if (!alive() || isQuiet(error)) return;
      state.set('error', error.status === 404 ? `There is no device ${deviceId}.` : error.message, load);
    }
  }
  load();
  return element;
}

// ---------------------------------------------------------------------------------------------

function mount(root, params, ctx) {
  let alive = true;
  let devices = [];
  let shownDevice = params.get('device') || '';
  let requestId = 0;

  const state = createStateArea('devices-state');
  const count = h('p', { class: 'count', 'data-testid': 'devices-count' });
  const table = createTable({
    caption: 'Enrolled devices', testid: 'devices-table',
    columns: [{ label: 'Device' }, { label: 'User' }, { label: 'Role' }, { label: 'Enrolled' },
      { label: 'Last sync' }, { label: 'Acked seq', numeric: true }, { label: 'Rejected changes' },
      { label: 'State' }],
  });
  const rejectionsHolder = h('div');

  root.append(
    h('h1', { tabindex: '-1' }, 'Devices'),
    h('section', { class: 'card-section', 'aria-labelledby': 'devices-heading' },
      h('h2', { id: 'devices-heading' }, 'Enrolled devices'),
      count, state.element, table.element),
    rejectionsHolder,
    enrolSection(() => { ctx.forgetUsers(); load(); }, () => devices.map((d) => d.device_id)));

  async function revoke(device, button) {
    const ok = await confirmDialog({
      title: `Revoke device ${device.device_id}?`,
      body: `The tablet of ${device.user_id} can no longer sync: its token stops working and its open connections close. ` +
        'Changes it has not synced yet stay on the tablet. To use it again, enrol it again.',
      confirmLabel: 'Revoke device',
    });
    if (!ok) return;
    button.disabled = true;
    try {
      await postJson(`/api/v1/devices/${encodeURIComponent(device.device_id)}/revoke`, {});
      announce(`Device ${device.device_id} revoked.`);
      await load();
      const again = root.querySelector(`[data-testid="device-row"][data-device-id="${CSS.escape(device.device_id)}"] [data-testid="device-rejections-link"]`);
      if (again) again.focus();
    } catch (error) {
      if (isQuiet(error)) return;
      button.disabled = false;
      state.set('error', `Could not revoke ${device.device_id}: ${error.message}`);
    }
  }

  function rejectedCell(device) {
    return h('div', { class: 'cell-row' },
      h('span', { 'data-testid': 'device-rejected', 'data-value': num(device.rejected) }, formatNumber(num(device.rejected))),
      h('a', {
        href: `#/devices?device=${encodeURIComponent(device.device_id)}`, class: 'action-link', 'data-testid': 'device-rejections-link',
      }, 'View', h('span', { class: 'visually-hidden' }, ` rejected changes of ${device.device_id}`)));
  }

  function stateCell(device) {
    const badge = h('span', {
      class: device.revoked ? 'badge badge-revoked' : 'badge badge-active',
      'data-testid': 'device-state', 'data-value': device.revoked ? 'revoked' : 'active',
    }, device.revoked ? 'Revoked' : 'Active');
    if (device.revoked) return badge;
    const button = h('button', { type: 'button', class: 'button button-small button-danger', 'data-testid': 'device-revoke' },
      'Revoke', h('span', { class: 'visually-hidden' }, ` ${device.device_id}`));
    button.addEventListener('click', () => revoke(device, button));
    return h('div', { class: 'cell-row' }, badge, button);
  }

  async function load() {
    const id = ++requestId;
    if (!devices.length) state.set('loading', 'Loading devices…');
    try {
      const data = await get('/api/v1/devices');
      if (!alive || id !== requestId) return;
      devices = data.devices || [];
      state.set('none');
      const revoked = devices.filter((d) => d.revoked).length;
      count.textContent = `${formatNumber(devices.length)} ${devices.length === 1 ? 'device' : 'devices'}` +
        `${revoked ? `, ${formatNumber(revoked)} revoked` : ''}.`;
      count.dataset.value = String(devices.length);
      table.setRows(devices.map((device) => ({
        attrs: { 'data-testid': 'device-row', 'data-device-id': device.device_id, class: device.revoked ? 'row-revoked' : null },
        cells: [device.device_id, device.user_id, label(ROLE_LABELS, device.role), timeElement(device.enrolled_at),
          timeElement(device.last_sync_at, 'Never'), formatNumber(num(device.acked_seq)), rejectedCell(device), stateCell(device)],
        cellAttrs: [{ 'data-testid': 'device-id' }, { 'data-testid': 'device-user' }, { 'data-testid': 'device-role', 'data-value': device.role },
          null, { 'data-testid': 'device-last-sync' }, { 'data-testid': 'device-acked-seq', 'data-value': num(device.acked_seq) }, null, null],
      })), [], 'No devices are enrolled yet.');
    } catch (error) {
      if (!alive || id !== requestId || isQuiet(error)) return;
      state.set('error', error.message, load);
    }
  }

  function showRejections(focus) {
    rejectionsHolder.replaceChildren();
    if (!shownDevice) return;
    const section = rejectionsSection(shownDevice, () => alive && params.get('device') === shownDevice);
    rejectionsHolder.append(section);
    if (focus) section.focus();
  }

  load();
  showRejections(false);

  return {
    update(nextParams) {
      params = nextParams;
      const next = nextParams.get('device') || '';
      if (next === shownDevice) return;
      shownDevice = next;
      showRejections(true);
      if (!next) {
        const heading = root.querySelector('#devices-heading');
        if (heading) heading.scrollIntoView();
      }
    },
    unmount() {
      alive = false;
    },
  };
}

export default { key: 'devices', title: 'Devices', mount };
