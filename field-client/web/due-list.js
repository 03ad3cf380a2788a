// due-list.js — Today's first section, "Due and overdue": the follow-ups due today or earlier
// and the visits rescheduled to today or earlier, on each household's latest visit (a later
// visit supersedes them). Overdue ones are marked; each opens the household's visit form.
//
//   GET /api/due   {"today", "more", "due": [{visit_id, kind, due, overdue, household}]}
// The list holds the oldest 500; `more` says there is more, which the count then says too.

import { get, isAbort } from './api.js';
import { h, setChildren, setText, createStateArea, formatDate, formatLocalTime, plural } from './dom.js';

const KIND_TEXT = { follow_up: 'Follow-up due', rescheduled: 'Agreed visit' };

function dueItem(item) {
  const household = item.household && typeof item.household === 'object' ? item.household : {};
  const id = String(household.id || '');
  const address = String(household.address || '');
  const when = item.kind === 'rescheduled' ? formatLocalTime(item.due) : formatDate(item.due);
  return h('li', {
    class: `due-item${item.overdue ? ' is-overdue' : ''}`, 'data-testid': 'due-item', 'data-household-id': id,
    'data-kind': String(item.kind || ''), 'data-overdue': item.overdue ? 'true' : 'false',
  },
  h('a', { class: 'due-link', href: `#/visit?household=${encodeURIComponent(id)}`, 'data-testid': 'due-open' },
    h('span', { class: 'due-address' }, address),
    h('span', { class: 'due-meta' }, `${String(household.postcode || '')} · `,
      `${KIND_TEXT[item.kind] || 'Due'} ${when}`),
    item.overdue ? h('span', { class: 'badge badge-overdue', 'data-testid': 'overdue-badge' },
      h('span', { 'aria-hidden': 'true' }, '⚠ '), 'Overdue') : null));
}

/** The section, and load() to (re)read it; quiet: no "Loading…" (a refresh after a sync). */
export function createDueSection() {
  const count = h('p', { class: 'list-count', 'data-testid': 'due-count' });
  const state = createStateArea('due-state');
  const list = h('ul', { class: 'due-list', 'data-testid': 'due-list' });
  const element = h('section', { class: 'list-section due-section', 'aria-labelledby': 'due-heading', 'data-testid': 'due-section' },
    h('h2', { id: 'due-heading' }, 'Due and overdue'), count, state.element, list);
  let controller = null;

  async function load({ quiet = false, background = false } = {}) {
    if (controller) controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    if (!quiet) state.set('loading', 'Loading what is due…');
    try {
      const data = await get('/api/due', {}, { signal, background });
      if (signal.aborted) return;
      state.set('none');
      const items = data && Array.isArray(data.due) ? data.due : [];
      const overdue = items.filter((item) => item.overdue).length;
      setChildren(list, items.map(dueItem));
      const more = Boolean(data && data.more);
      count.dataset.value = String(items.length);
      count.dataset.overdue = String(overdue);
      count.dataset.more = more ? 'true' : 'false';
      if (more) {
        setText(count, `More than ${plural(items.length, 'visit is', 'visits are')} due by today. The oldest ` +
          `${items.length} are listed${overdue ? `, ${overdue} of them overdue` : ''}; ` +
          'find the others under Households.');
      } else {
        setText(count, items.length
          ? `${plural(items.length, 'visit', 'visits')} due by today${overdue ? `, ${overdue} overdue` : ''}.`
          : 'Nothing is due today.');
      }
    } catch (error) {
      if (isAbort(error)) return;
      state.set('error', error.message, () => load());
    }
  }
  return { element, load, stop: () => { if (controller) controller.abort(); } };
}
