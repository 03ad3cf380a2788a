// page-sync.js — #/sync: the sync status in full, "Sync now", and the changes the server refused,
// each with its message, a "Fix" button that opens the right form, filled in, and a "Discard"
// button (after a confirmation that says what is lost).
//
//   GET    /api/status         (through the banner's poll: ctx.onStatus)
//   POST   /api/sync           "Sync now"
//   GET    /api/rejected       the refused changes (again whenever the status's counts move)
//   DELETE /api/rejected/{seq} "Discard"
//   GET    /api/households/{id} addresses, to say which household a refused visit is for

import { get, del, path, isAbort } from './api.js';
import {
  h, setChildren, setText, createStateArea, formatWhen, formatDateTime, plural, label, confirmDialog, announce,
  ROLE_LABELS, ENTITY_LABELS, STATUS_LABELS, OUTCOME_LABELS,
} from './dom.js';
import { createSyncProgress } from './sync-progress.js';

const CODE_LABELS = { invalid: 'Not valid', forbidden: 'Not allowed', clock_skew: 'Tablet clock wrong' };
const FIELD_LABELS = {
  ...OUTCOME_LABELS,
  address: 'Address', postcode: 'Postcode', ward: 'Ward', vulnerability: 'Vulnerability', target: 'Target',
  assigned_to: 'Assigned to', household_id: 'Household', visited_at: 'Time of visit', status: 'Status',
  referrals: 'Referrals', share_basis: 'Lawful basis for sharing', notes: 'Notes', station: 'Station', started_at: 'Started at', ended_at: 'Ended at',
  cards_distributed: 'Card holders', messages: 'Messages', hlc: 'Time of the change (tablet clock)',
};

function fixLink(item) {
  const data = item.data && typeof item.data === 'object' ? item.data : null;
  if (!data) return null;
  const id = encodeURIComponent(item.id);
  if (item.entity === 'visit') {
    return data.household_id ? `#/visit?id=${id}&household=${encodeURIComponent(data.household_id)}` : `#/visit?id=${id}`;
  }
  if (item.entity === 'household') return `#/household?id=${id}`;
  if (item.entity === 'commute_session') return `#/commute?id=${id}`;
  return null;
}

function recordSummary(item, households) {
  const data = item.data && typeof item.data === 'object' ? item.data : null;
  if (item.gone) return 'No longer on this tablet (it left your list, or was erased): its details were removed. Discard this notice once read.';
  if (!data) return 'A deletion (nothing to correct on this tablet: the record stays as the server has it).';
  if (item.entity === 'visit') {
    const household = households.get(data.household_id);
    return `${formatDateTime(data.visited_at)} · ${label(STATUS_LABELS, data.status)} · ${household ? `${household.address}, ${household.postcode}` : 'household not on this tablet'}`;
  }
  if (item.entity === 'household') return `${data.address || ''}, ${data.postcode || ''} · ${data.ward || ''}`;
  if (item.entity === 'commute_session') {
    return `${data.station || ''} · ${formatDateTime(data.started_at)} · ${plural(Number(data.cards_distributed) || 0, 'card holder', 'card holders')}`;
  }
  return '';
}

/** What discarding `item` loses, for the confirmation. */
function discardConsequence(item) {
  const kind = label(ENTITY_LABELS, item.entity).toLowerCase();
  if (item.gone) return `Only the notice goes: the ${kind} itself is no longer on this tablet.`;
  const lost = item.data ? `The details of this ${kind} that the server refused are erased from this tablet and cannot be sent again.`
    : 'The refused deletion is forgotten.';
  return `${lost} If the server never accepted this ${kind}, it goes from the tablet; otherwise the tablet goes back to the server’s version at the next sync.`;
}

/** The "Discard" button of a refused change; onDone() after it was discarded. */
function discardButton(item, onDone) {
  const kind = label(ENTITY_LABELS, item.entity).toLowerCase();
  const message = h('p', { class: 'field-error', role: 'alert', 'data-testid': 'discard-error' });
  const button = h('button', { type: 'button', class: 'button button-big button-danger-outline', 'data-testid': 'discard-button' },
    h('span', { 'aria-hidden': 'true' }, '✕ '), 'Discard', h('span', { class: 'visually-hidden' }, ` the refused ${kind}`));
  button.addEventListener('click', async () => {
    const yes = await confirmDialog({
      title: `Discard this refused ${kind}?`,
      body: discardConsequence(item),
      confirmLabel: 'Discard change',
    });
    if (!yes) return;
    button.disabled = true;
    setText(message, '');
    try {
      await del(path('/api/rejected', String(item.seq)));
      announce('Refused change discarded.');
      onDone();
    } catch (failure) {
      button.disabled = false;
      setText(message, `Not discarded: ${failure.message}`);
    }
  });
  return [button, message];
}

function rejectedRow(item, households, onDiscarded) {
  const link = fixLink(item);
  const field = typeof item.field === 'string' && item.field ? item.field : null;
  return h('li', {
    class: 'rejected-row', 'data-testid': 'rejected-row', 'data-seq': String(item.seq), 'data-entity': item.entity, 'data-id': item.id,
  },
  h('div', { class: 'rejected-body' },
    h('h3', { class: 'rejected-title' },
      h('span', { 'aria-hidden': 'true' }, '⚠ '), label(ENTITY_LABELS, item.entity),
      h('span', { class: 'badge badge-danger' }, label(CODE_LABELS, item.code))),
    h('p', { class: 'rejected-summary', 'data-testid': 'rejected-summary' }, recordSummary(item, households)),
    h('p', { class: 'rejected-message', 'data-testid': 'rejected-message' }, h('strong', null, 'The server said: '), String(item.message || '')),
    field ? h('p', { class: 'rejected-field', 'data-testid': 'rejected-field', 'data-value': field },
      'Field: ', label(FIELD_LABELS, field)) : null,
    h('p', { class: 'muted-strong' }, `Change number ${item.seq}`)),
  link ? h('a', { class: 'button button-big', href: link, 'data-testid': 'fix-button' },
    h('span', { 'aria-hidden': 'true' }, '✎ '), 'Fix', h('span', { class: 'visually-hidden' }, ` this ${label(ENTITY_LABELS, item.entity).toLowerCase()}`)) : null,
  ...discardButton(item, onDiscarded));
}

export default {
  key: 'sync',
  title: 'Sync',
  mount(container, params, ctx) {
    let alive = true;
    let controller = null;
    let lastKey = null;

    const details = h('dl', { class: 'details', 'data-testid': 'sync-details' });
    const syncButton = h('button', { type: 'button', class: 'button button-big', 'data-testid': 'sync-page-now' },
      h('span', { 'aria-hidden': 'true' }, '⇅ '), 'Sync now');
    syncButton.addEventListener('click', () => ctx.syncNow());
    const progress = createSyncProgress('sync-page-progress'); // the banner's says it aloud
    const state = createStateArea('rejected-state');
    const rejectedList = h('div', { class: 'rejected-area' });

    setChildren(container,
      h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Sync')),
      h('section', { class: 'card-section', 'aria-labelledby': 'sync-status-title' },
        h('h2', { id: 'sync-status-title' }, 'This tablet'),
        details,
        progress.element,
        h('p', { class: 'hint' }, 'The app syncs by itself soon after each change and at least every 30 seconds while a connection is available.'),
        syncButton),
      h('section', { class: 'card-section', 'aria-labelledby': 'rejected-title' },
        h('h2', { id: 'rejected-title' }, 'Changes the server refused'),
        h('p', { class: 'hint' }, 'A refused change is not sent again as it is. Fix it: the corrected record is sent with the next sync. Or discard it: its details are erased from this tablet.'),
        state.element,
        rejectedList));

    function row(key, term, value, testValue) {
      return [h('dt', null, term), h('dd', { 'data-testid': `sync-detail-${key}`, 'data-value': testValue === undefined ? null : String(testValue) }, value)];
    }

    function renderDetails(status) {
      const online = status.online === true ? '✓ Online' : status.online === false ? '✕ Offline' : '? Not tried yet';
      setChildren(details,
        row('device', 'Device', String(status.device_id || '—')),
        row('user', 'User', String(status.user_id || '—')),
        row('role', 'Role', status.role ? label(ROLE_LABELS, status.role) : '—', status.role || ''),
        row('server', 'Sync server', String(status.server || '—')),
        row('online', 'Connection', online, status.online === true ? 'online' : status.online === false ? 'offline' : 'unknown'),
        row('last-sync', 'Last successful sync', status.last_sync_at ? formatWhen(status.last_sync_at) : 'Never', status.last_sync_at || ''),
        row('last-attempt', 'Last attempt', status.last_attempt_at ? formatWhen(status.last_attempt_at) : 'None yet', status.last_attempt_at || ''),
        row('syncing', 'Syncing now', status.syncing ? 'Yes' : 'No'),
        row('pending', 'Changes waiting to sync', String(Number(status.pending) || 0), Number(status.pending) || 0),
        row('rejected', 'Changes refused', String(Number(status.rejected) || 0), Number(status.rejected) || 0),
        row('last-error', 'Last error', status.last_error ? String(status.last_error) : 'None'),
        status.clock_warning ? row('clock', 'Clock', `Off by about ${Math.round(Math.abs(Number(status.clock_offset_ms) || 0) / 60000)} min — check the tablet’s date and time`) : null,
        row('pin', 'PIN lock', status.pin_set ? 'On' : 'Off'));
    }

    async function loadRejected({ quiet = false, background = false } = {}) {
      if (controller) controller.abort();
      controller = new AbortController();
      const { signal } = controller;
      if (!quiet) state.set('loading', 'Loading refused changes…');
      try {
        const rejected = await get('/api/rejected', null, { signal, background });
        if (!alive || signal.aborted) return;
        const items = rejected && Array.isArray(rejected.rejected) ? rejected.rejected : [];
        // Only the households the refused visits are for (the list has a page at a time).
        const wanted = [...new Set(items.map((item) => item && item.data && item.data.household_id).filter(Boolean))];
        const found = await Promise.all(wanted.map((id) => get(path('/api/households', id), null, { signal, background })
          .then((data) => data && data.household).catch((error) => (isAbort(error) ? Promise.reject(error) : null))));
        if (!alive || signal.aborted) return;
        const households = new Map(found.filter(Boolean).map((item) => [item.id, item]));
        state.set('none');
        setChildren(rejectedList, items.length
          ? h('ul', { class: 'rejected-list', 'data-testid': 'rejected-list' }, items.map((item) => rejectedRow(item, households, () => {
            ctx.refreshStatus();
            loadRejected({ quiet: true });
          })))
          : h('p', { class: 'message message-success', 'data-testid': 'rejected-none' }, h('span', { 'aria-hidden': 'true' }, '✓ '), 'No refused changes.'));
      } catch (error) {
        if (!alive || isAbort(error)) return;
        state.set('error', error.message, () => loadRejected());
      }
    }

    let lastShown = '';
    const unsubscribe = ctx.onStatus((status) => {
      const shown = JSON.stringify(status);
      if (shown !== lastShown) renderDetails(status);
      progress.update(status);
      lastShown = shown;
      const key = `${status.rejected}|${status.last_sync_at}`;
      if (lastKey !== null && key !== lastKey) loadRejected({ quiet: true, background: true });
      lastKey = key;
    });
    if (!ctx.status()) setText(details, 'Waiting for the status…');
    loadRejected();

    return {
      unmount() {
        alive = false;
        if (controller) controller.abort();
        unsubscribe();
      },
    };
  },
};
