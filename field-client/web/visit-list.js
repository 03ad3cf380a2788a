// visit-list.js — the household's visits, listed under the visit form (page-visit.js): each
// with its outcomes, referrals and their lawful basis, notes and refusal, and Edit / Delete for the officer's own.
//
//   GET    /api/visits?household=ID     the list again after a delete
//   DELETE /api/visits/{id}             after a confirmation

import { get, del, path, isAbort } from './api.js';
import {
  h, setChildren, setText, confirmDialog, announce, formatDateTime, formatWhen, stateBadge, plural, label,
  STATUS_LABELS, STATUS_GLYPHS, YES_NO_OUTCOMES, OUTCOME_LABELS, REFERRAL_LABELS,
} from './dom.js';
import { BASIS_CHOICES } from './visit-controls.js';

/** "Crime prevention advice, 2 smoke detectors fitted" for a visit's data. */
export function outcomeSummary(data) {
  const parts = YES_NO_OUTCOMES.filter((name) => data[name] === true).map((name) => label(OUTCOME_LABELS, name));
  const smoke = Number(data.smoke_detectors_fitted) || 0;
  if (smoke) parts.push(`${plural(smoke, 'smoke detector', 'smoke detectors')} fitted`);
  return parts.join(', ');
}

/**
 * The list in `section`, starting from `visits`. editingId: the visit the form above edits
 * (null for a new one). Returns {stop()}: after it, answers still on their way are dropped.
 */
export function createVisitList(section, { visits, householdId, editingId, ctx }) {
  let alive = true;

  function render(list) {
    setChildren(section,
      h('h2', { id: 'visit-list-title' }, `Visits to this household (${list.length})`),
      list.length ? h('ul', { class: 'visit-list', 'data-testid': 'visit-list' }, list.map(row))
        : h('p', { class: 'empty' }, 'No visits recorded yet.'));
  }

  async function reload() {
    try {
      const data = await get('/api/visits', { household: householdId });
      if (alive) render(data && Array.isArray(data.visits) ? data.visits : []);
    } catch (error) {
      if (alive && !isAbort(error)) setChildren(section, h('p', { class: 'state state-error', role: 'alert' }, error.message));
    }
  }

  /** Delete, after a confirmation; deleting the visit being edited starts a new one. */
  function deleteButton(item, data, isCurrent, message) {
    const button = h('button', { type: 'button', class: 'button button-danger-outline', 'data-testid': 'visit-delete' },
      'Delete', h('span', { class: 'visually-hidden' }, ` the visit of ${formatDateTime(data.visited_at)}`));
    button.addEventListener('click', async () => {
      const yes = await confirmDialog({
        title: 'Delete this visit?',
        body: `The visit of ${formatDateTime(data.visited_at)} (${label(STATUS_LABELS, data.status)}) is deleted on this tablet and then on the server.`,
        confirmLabel: 'Delete visit',
      });
      if (!yes) return;
      button.disabled = true;
      setText(message, '');
      try {
        await del(path('/api/visits', item.id));
        announce('Visit deleted.');
        ctx.refreshStatus();
        if (isCurrent) {
          ctx.navigate('visit', { household: householdId });
          return;
        }
        reload();
      } catch (failure) {
        button.disabled = false;
        setText(message, `Not deleted: ${failure.message}`);
      }
    });
    return button;
  }

  function actions(item, data, isCurrent, message) {
    if (item.mine === false) {
      return h('p', { class: 'muted-strong', 'data-testid': 'visit-not-mine' }, 'Recorded on another device: only its author can change it.');
    }
    return h('div', { class: 'visit-row-actions' },
      isCurrent ? null : h('a', {
        class: 'button button-secondary', href: `#/visit?id=${encodeURIComponent(item.id)}&household=${encodeURIComponent(householdId)}`,
        'data-testid': 'visit-edit',
      }, 'Edit', h('span', { class: 'visually-hidden' }, ` the visit of ${formatDateTime(data.visited_at)}`)),
      deleteButton(item, data, isCurrent, message));
  }

  function row(item) {
    const data = item.data && typeof item.data === 'object' ? item.data : {};
    const isCurrent = editingId !== null && item.id === editingId;
    const message = h('p', { class: 'row-message', role: 'alert', 'data-testid': 'visit-row-message' });
    const summary = outcomeSummary(data);
    const referrals = Array.isArray(data.referrals) ? data.referrals.map((code) => label(REFERRAL_LABELS, code)) : [];
    const rejection = item.rejection && typeof item.rejection === 'object' ? item.rejection : null;
    return h('li', { class: `visit-row${isCurrent ? ' is-current' : ''}`, 'data-testid': 'visit-row', 'data-visit-id': item.id },
      h('div', { class: 'visit-row-body' },
        h('p', { class: 'visit-row-title' },
          h('strong', null, formatWhen(data.visited_at)), ' — ',
          h('span', { 'aria-hidden': 'true' }, `${STATUS_GLYPHS[data.status] || ''} `), label(STATUS_LABELS, data.status),
          ' ', stateBadge(item.state),
          isCurrent ? [' ', h('span', { class: 'badge badge-mine' }, 'Editing now')] : null),
        summary ? h('p', null, summary) : null,
        referrals.length ? h('p', null, 'Referred to: ', referrals.join(', ')) : null,
        referrals.length ? h('p', { 'data-testid': 'visit-row-basis', 'data-value': data.share_basis || '' }, 'Lawful basis for sharing: ',
          data.share_basis ? label(BASIS_CHOICES, data.share_basis) : 'not recorded') : null,
        data.notes ? h('p', { class: 'visit-row-notes' }, String(data.notes)) : null,
        rejection ? h('p', { class: 'row-rejection' }, h('span', { 'aria-hidden': 'true' }, '⚠ '),
          'Refused by the server: ', String(rejection.message || rejection.code || '')) : null,
        message),
      actions(item, data, isCurrent, message));
  }

  render(visits);
  return { stop() { alive = false; } };
}
