// page-accounts.js — #/accounts: coordinators' dashboard accounts (docs/dashboard.md).
//   GET  /api/v1/accounts                   the list
//   POST /api/v1/accounts                   create {username, password}
//   POST /api/v1/accounts/{name}/disable    (after a confirmation) its sessions end at once
//   POST /api/v1/accounts/{name}/enable
//   POST /api/v1/accounts/{name}/password   reset {password}: its sessions end at once
//   POST /api/v1/session/password           change one's own {current_password, new_password}
//
// Every coordinator may do all of this, except disable their own account or the last enabled
// one, and reset their own password (they change it, with the current one). The server
// enforces it; the page only leaves out the buttons that would be refused. Passwords are in
// the inputs only until the request is sent: never in the URL, storage or an announcement.

import { get, postJson, isQuiet } from './api.js';
import { h, createStateArea, confirmDialog, announce, timeElement, formatNumber, uniqueId } from './dom.js';
import { createTable } from './charts.js';

const MIN_PASSWORD = 12;
const PASSWORD_HINT = `At least ${MIN_PASSWORD} characters, and not a common password: three or four unrelated words work well.`;

function field(labelText, input, hint) {
  const hintId = hint ? uniqueId('hint') : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: input.id }, labelText), input,
    hint ? h('p', { class: 'hint hint-after', id: hintId }, hint) : null);
}

function passwordInput(id, autocomplete) {
  return h('input', { id, type: 'password', autocomplete, required: true, minlength: String(MIN_PASSWORD), 'data-testid': id });
}

/**
 * A form whose submit runs `send()` with its button disabled; what went wrong goes in its alert
 * box, what went right is announced and shown in its status line.
 */
function accountForm({ id, heading, intro, fields, submitLabel, send }) {
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': `${id}-error` });
  const done = h('p', { class: 'row-message', role: 'status', 'data-testid': `${id}-done` });
  const submit = h('button', { type: 'submit', class: 'button', 'data-testid': `${id}-submit` }, submitLabel);
  const form = h('form', { novalidate: true }, fields, error, h('div', { class: 'form-actions' }, submit, done));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.replaceChildren();
    done.textContent = '';
    submit.disabled = true;
    try {
      const message = await send();
      if (message) {
        done.textContent = message;
        announce(message);
        form.reset();
      }
    } catch (failure) {
      if (!isQuiet(failure)) error.append(h('p', null, failure.message));
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', { class: 'card-section', 'aria-labelledby': `${id}-heading`, 'data-testid': id },
    h('h2', { id: `${id}-heading` }, heading), intro ? h('p', null, intro) : null, form);
}

/** Refused before it is sent: the same length rule as the server (which also refuses common ones). */
function checkNewPassword(password, repeated) {
  if (password.length < MIN_PASSWORD) throw new Error(`The new password must be at least ${MIN_PASSWORD} characters long.`);
  if (repeated !== undefined && repeated !== password) throw new Error('The two new passwords are not the same.');
}

function createSection(onChanged) {
  const username = h('input', { id: 'account-username', autocomplete: 'off', spellcheck: 'false', required: true, 'data-testid': 'account-username' });
  const password = passwordInput('account-password', 'new-password');
  return accountForm({
    id: 'account-create',
    heading: 'Create an account',
    intro: 'For a coordinator who needs the dashboard. Give them the initial password in person or by phone; they should change it when they first sign in.',
    fields: [field('Username', username, 'Letters, digits, ".", "_", "@" or "-"; for example cat.jones'),
      field('Initial password', password, PASSWORD_HINT)],
    submitLabel: 'Create account',
    async send() {
      const name = username.value.trim();
      if (!name) throw new Error('Enter the username.');
      checkNewPassword(password.value);
      await postJson('/api/v1/accounts', { username: name, password: password.value });
      onChanged();
      return `Account ${name} created. It can sign in now.`;
    },
  });
}

function resetSection(accounts, onChanged) {
  const select = h('select', { id: 'reset-username', 'data-testid': 'reset-username' });
  const password = passwordInput('reset-password', 'new-password');
  const section = accountForm({
    id: 'account-reset',
    heading: 'Reset a password',
    intro: 'For a coordinator who has forgotten theirs. Their open sessions end at once; they sign in again with the new password.',
    fields: [field('Account', select), field('New password', password, PASSWORD_HINT)],
    submitLabel: 'Reset password',
    async send() {
      const name = select.value;
      if (!name) throw new Error('Choose the account.');
      checkNewPassword(password.value);
      const ok = await confirmDialog({
        title: `Reset the password of ${name}?`,
        body: `Every open session of ${name} ends now. They sign in again with the new password.`,
        confirmLabel: 'Reset password',
      });
      if (!ok) return '';
      await postJson(`/api/v1/accounts/${encodeURIComponent(name)}/password`, { password: password.value });
      onChanged();
      return `The password of ${name} was reset; their sessions ended.`;
    },
  });
  return {
    element: section,
    setAccounts(list) {
      const chosen = select.value;
      select.replaceChildren(h('option', { value: '' }, 'Choose an account'),
        ...list.filter((account) => !account.you).map((account) => h('option', { value: account.username }, account.username)));
      select.value = list.some((account) => account.username === chosen) ? chosen : '';
    },
  };
}

function changeOwnSection(onChanged) {
  const current = passwordInput('own-current-password', 'current-password');
  const next = passwordInput('own-new-password', 'new-password');
  const repeated = passwordInput('own-repeat-password', 'new-password');
  return accountForm({
    id: 'own-password',
    heading: 'Change your password',
    intro: 'Your other sessions (other browsers, other computers) end; this one stays signed in.',
    fields: [field('Current password', current), field('New password', next, PASSWORD_HINT), field('New password again', repeated)],
    submitLabel: 'Change password',
    async send() {
      if (!current.value) throw new Error('Enter your current password.');
      checkNewPassword(next.value, repeated.value);
      await postJson('/api/v1/session/password', { current_password: current.value, new_password: next.value });
      onChanged();
      return 'Your password was changed; your other sessions ended.';
    },
  });
}

// ---------------------------------------------------------------------------------------------

function mount(root) {
  let alive = true;
  let requestId = 0;
  const state = createStateArea('accounts-state');
  const count = h('p', { class: 'count', 'data-testid': 'accounts-count' });
  const table = createTable({
    caption: 'Dashboard accounts', testid: 'accounts-table',
    columns: [{ label: 'Username' }, { label: 'Created' }, { label: 'Open sessions', numeric: true }, { label: 'State' }],
  });
  const reset = resetSection([], () => load());

  root.append(
    h('h1', { tabindex: '-1' }, 'Accounts'),
    h('section', { class: 'card-section', 'aria-labelledby': 'accounts-heading' },
      h('h2', { id: 'accounts-heading' }, 'Coordinators who can sign in'),
      h('p', null, 'Any coordinator can manage these accounts. Nobody can disable their own account or the last enabled one. ' +
        'A disabled account cannot sign in, and its open sessions end at once. Every change is in the audit trail.'),
      count, state.element, table.element),
    createSection(() => load()),
    reset.element,
    changeOwnSection(() => load()));

  async function setEnabled(account, enabled, button) {
    if (!enabled) {
      const ok = await confirmDialog({
        title: `Disable the account ${account.username}?`,
        body: `${account.username} can no longer sign in, and their open sessions end now. You can enable the account again later.`,
        confirmLabel: 'Disable account',
      });
      if (!ok) return;
    }
    button.disabled = true;
    try {
      await postJson(`/api/v1/accounts/${encodeURIComponent(account.username)}/${enabled ? 'enable' : 'disable'}`, {});
      announce(`Account ${account.username} ${enabled ? 'enabled' : 'disabled'}.`);
      await load();
    } catch (error) {
      if (isQuiet(error)) return;
      button.disabled = false;
      state.set('error', `Could not ${enabled ? 'enable' : 'disable'} ${account.username}: ${error.message}`);
    }
  }

  function stateCell(account, enabledCount) {
    const badge = h('span', {
      class: account.enabled ? 'badge badge-active' : 'badge badge-revoked', 'data-testid': 'account-state',
      'data-value': account.enabled ? 'enabled' : 'disabled',
    }, account.enabled ? 'Enabled' : 'Disabled');
    // The buttons the server would refuse are left out, with the reason beside.
    let action = null;
    if (account.you) {
      action = h('span', { class: 'muted' }, 'You');
    } else if (!account.enabled) {
      action = h('button', { type: 'button', class: 'button button-small', 'data-testid': 'account-enable' },
        'Enable', h('span', { class: 'visually-hidden' }, ` ${account.username}`));
      action.addEventListener('click', () => setEnabled(account, true, action));
    } else if (enabledCount > 1) {
      action = h('button', { type: 'button', class: 'button button-small button-danger', 'data-testid': 'account-disable' },
        'Disable', h('span', { class: 'visually-hidden' }, ` ${account.username}`));
      action.addEventListener('click', () => setEnabled(account, false, action));
    }
    return h('div', { class: 'cell-row' }, badge, action);
  }

  async function load() {
    const id = ++requestId;
    state.set('loading', 'Loading accounts…');
    try {
      const data = await get('/api/v1/accounts');
      if (!alive || id !== requestId) return;
      const accounts = Array.isArray(data.accounts) ? data.accounts : [];
      const enabledCount = accounts.filter((account) => account.enabled).length;
      state.set('none');
      count.textContent = `${formatNumber(accounts.length)} ${accounts.length === 1 ? 'account' : 'accounts'}, ` +
        `${formatNumber(enabledCount)} enabled.`;
      count.dataset.value = String(accounts.length);
      table.setRows(accounts.map((account) => ({
        attrs: { 'data-testid': 'account-row', 'data-username': account.username, class: account.enabled ? null : 'row-revoked' },
        cells: [account.you ? [account.username, ' (you)'] : account.username, timeElement(account.created_at),
          formatNumber(Number(account.sessions) || 0), stateCell(account, enabledCount)],
        cellAttrs: [null, null, { 'data-testid': 'account-sessions', 'data-value': Number(account.sessions) || 0 }, null],
      })), [], 'There are no accounts.');
      reset.setAccounts(accounts);
    } catch (error) {
      if (!alive || id !== requestId || isQuiet(error)) return;
      state.set('error', error.message, load);
    }
  }

  load();
  return {
    update() {},
    unmount() {
      alive = false;
    },
  };
}

export default { key: 'accounts', title: 'Accounts', mount };
