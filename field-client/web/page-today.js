// page-today.js — #/today: the start page. First what is due and overdue (due-list.js), then the
// officer's households (assigned to them first), a search by address or postcode, "Record visit"
// on each, and "Add a household found in the field".
//
//   GET  /api/due                         the due and overdue work (due-list.js)
//   GET  /api/households?offset=&limit=   a page of the list; "Show more" asks for the next
//   POST /api/households/search           {q, offset, limit}: the search (again, debounced, as
//                                         the text changes). The text stays in this page's memory
//                                         and the request body: never in the hash, history or a URL.
//   GET  /api/reference                   wards for the add form
//   POST /api/households                  add (household-form.js)
//
// Every household in the tablet's scope can be reached: the list says how many there are in
// all, and "Show more" brings the next page, however many there are.

import { get, postJson, isAbort } from './api.js';
import {
  h, setChildren, setText, debounce, createStateArea, formatDate, plural, stateBadge, announce,
  label, STATUS_LABELS, VULNERABILITY_LABELS, STATUS_GLYPHS,
} from './dom.js';
import { householdForm } from './household-form.js';
import { createDueSection } from './due-list.js';

const SEARCH_DELAY_MS = 300;
const PAGE_SIZE = 100;

function householdCard(household) {
  const id = String(household.id || '');
  const address = String(household.address || '');
  const lastVisit = household.last_visit && typeof household.last_visit === 'object' ? household.last_visit : null;
  const vulnerability = Array.isArray(household.vulnerability) ? household.vulnerability : [];

  const badges = [
    household.target ? h('span', { class: 'badge badge-target', 'data-testid': 'target-badge' },
      h('span', { 'aria-hidden': 'true' }, '★ '), 'Target household') : null,
    household.follow_up_outstanding ? h('span', { class: 'badge badge-follow-up', 'data-testid': 'follow-up-badge' },
      h('span', { 'aria-hidden': 'true' }, '⚑ '), 'Follow-up outstanding') : null,
    stateBadge(household.state),
  ].filter(Boolean);

  return h('li', {
    class: 'household-card', 'data-testid': 'household-card', 'data-household-id': id, 'data-mine': household.mine ? 'true' : 'false',
  },
    h('div', { class: 'card-body' },
      h('h3', { class: 'card-address', 'data-testid': 'card-address' }, address),
      h('p', { class: 'card-meta' },
        h('span', { class: 'card-postcode', 'data-testid': 'card-postcode' }, String(household.postcode || '')),
        h('span', { class: 'card-sep', 'aria-hidden': 'true' }, ' · '),
        h('span', { class: 'visually-hidden' }, ', ward: '),
        h('span', { 'data-testid': 'card-ward' }, String(household.ward || ''))),
      badges.length ? h('p', { class: 'badge-row' }, badges) : null,
      h('p', { class: 'card-last-visit', 'data-testid': 'last-visit', 'data-value': lastVisit ? String(lastVisit.status || '') : '' },
        lastVisit
          ? ['Last visit: ', h('strong', null, formatDate(lastVisit.visited_at)), ' — ',
            h('span', { 'aria-hidden': 'true' }, `${STATUS_GLYPHS[lastVisit.status] || ''} `), label(STATUS_LABELS, lastVisit.status)]
          : h('span', null, 'Not visited yet')),
      vulnerability.length
        ? h('p', { class: 'card-vulnerability' }, 'Vulnerability: ', vulnerability.map((code) => label(VULNERABILITY_LABELS, code)).join(', '))
        : null),
    h('a', {
      class: 'button button-big card-action', href: `#/visit?household=${encodeURIComponent(id)}`, 'data-testid': 'record-visit-button',
    }, h('span', { 'aria-hidden': 'true' }, '✎ '), 'Record visit', h('span', { class: 'visually-hidden' }, ` at ${address}`)));
}

/** The search text box (its hint is in searchForm). */
function searchField(q) {
  const input = h('input', {
    id: 'household-search', type: 'search', name: 'q', autocomplete: 'off', spellcheck: 'false',
    enterkeyhint: 'search', 'data-testid': 'household-search', 'aria-describedby': 'household-search-hint',
  });
  input.value = q;
  return input;
}

/** "Find a household": the search box and its Clear button; onSubmit() when Enter is pressed. */
function searchForm(searchInput, clearButton, onSubmit) {
  return h('form', { class: 'search-box', role: 'search', onsubmit: (event) => { event.preventDefault(); onSubmit(); } },
    h('label', { for: searchInput.id }, 'Find a household'),
    h('p', { class: 'hint', id: 'household-search-hint' }, 'Type part of the address or the postcode.'),
    h('div', { class: 'search-row' }, searchInput, clearButton));
}

/** The officer's households first, then the others; or why the list is empty (q: the search). */
function householdSections(households, q) {
  const mine = households.filter((item) => item && item.mine);
  const others = households.filter((item) => item && !item.mine);
  const sections = [];
  if (mine.length) {
    sections.push(h('section', { class: 'list-section', 'aria-labelledby': 'mine-heading' },
      h('h2', { id: 'mine-heading' }, `Assigned to you (${mine.length})`),
      h('ul', { class: 'household-list', 'data-testid': 'household-list-mine' }, mine.map(householdCard))));
  }
  if (others.length) {
    sections.push(h('section', { class: 'list-section', 'aria-labelledby': 'others-heading' },
      h('h2', { id: 'others-heading' }, mine.length ? `Other households (${others.length})` : `Households (${others.length})`),
      h('ul', { class: 'household-list', 'data-testid': 'household-list-others' }, others.map(householdCard))));
  }
  if (!households.length) {
    sections.push(h('p', { class: 'empty', 'data-testid': 'households-empty' }, q
      ? `No household matches “${q}”. Check the spelling, or add the household below.`
      : 'There are no households on this tablet yet. They arrive with the first sync; you can also add one below.'));
  }
  return sections;
}

/** "Add a household found in the field": the form goes in addSlot, what came of it in addResult. */
function addHouseholdSection(addResult, addSlot) {
  return h('section', { class: 'card-section add-household', 'aria-labelledby': 'add-household-heading', id: 'add-household' },
    h('h2', { id: 'add-household-heading' }, 'Add a household found in the field'),
    h('p', { class: 'hint' }, 'For a household that is not on your list. It is saved on this tablet and sent to the coordinators with the next sync.'),
    addResult,
    addSlot);
}

/** Said after a household has been added: saved, and "Record a visit there now". */
function addedMessage(id, data) {
  return h('div', { class: 'message message-success', role: 'status', 'data-testid': 'add-household-saved' },
    h('p', null, h('span', { 'aria-hidden': 'true' }, '✓ '), `${data.address} added on this tablet — waiting to sync.`),
    id ? h('a', { class: 'button', href: `#/visit?household=${encodeURIComponent(id)}`, 'data-testid': 'add-household-record' },
      'Record a visit there now') : null);
}

export default {
  key: 'today',
  title: 'Today',
  mount(container, params, ctx) {
    let alive = true;
    let controller = null;
    let q = '';
    let shown = []; // the households listed so far, page after page
    let total = 0;
    let lastSyncSeen;
    let addForm = null;

    const flash = ctx.takeFlash();
    const searchInput = searchField(q);
    const clearButton = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'household-search-clear', hidden: !q },
      'Clear');
    const count = h('p', { class: 'list-count', role: 'status', 'data-testid': 'household-count' });
    const state = createStateArea('households-state');
    const lists = h('div', { class: 'household-lists' });
    const moreButton = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'household-more', hidden: true },
      'Show more households');
    const addSlot = h('div', { class: 'add-slot' });
    const addResult = h('div', { 'data-testid': 'add-household-result' });

    const due = createDueSection();
    const addJump = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'add-household-jump' },
      h('span', { 'aria-hidden': 'true' }, '+ '), 'Add a household');

    setChildren(container,
      h('div', { class: 'page-head' },
        h('h1', { tabindex: '-1' }, 'Today'),
        addJump),
      flash ? h('div', { class: 'message message-success', role: 'status', 'data-testid': 'visit-saved' },
        h('p', null, h('span', { 'aria-hidden': 'true' }, '✓ '), flash)) : null,
      due.element,
      searchForm(searchInput, clearButton, () => { runSearch.cancel(); load(); }),
      count,
      state.element,
      lists,
      h('div', { class: 'list-more' }, moreButton),
      addHouseholdSection(addResult, addSlot));
    // An old bookmark's ?q= is dropped: search text is never kept in the address.
    if (params.get('q') !== null) ctx.replaceParams('today', {});

    function render() {
      setChildren(lists, householdSections(shown, q));
      count.dataset.value = String(shown.length);
      count.dataset.total = String(total);
      const all = shown.length >= total;
      const what = q ? `${plural(total, 'household matches', 'households match')} “${q}”` : `${plural(total, 'household', 'households')}, yours first`;
      setText(count, all ? what : `Showing ${shown.length} of ${what}`);
      moreButton.hidden = all;
    }

    /** One page of the list or of the search, from `offset`. */
    function fetchPage(offset, limit, options) {
      const text = q.trim();
      return text ? postJson('/api/households/search', { q: text, offset, limit }, options)
        : get('/api/households', { offset, limit }, options);
    }

    moreButton.addEventListener('click', async () => {
      moreButton.disabled = true;
      const firstNew = shown.length;
      try {
        const data = await fetchPage(shown.length, PAGE_SIZE, {});
        if (!alive) return;
        shown = shown.concat(data && Array.isArray(data.households) ? data.households : []);
        total = Number(data && data.total) || shown.length;
        render();
        // Focus goes to the first card the page added, so that a keyboard user carries on from there.
        const cards = [...lists.querySelectorAll('[data-testid="household-card"]')];
        const added = cards.find((card) => shown.findIndex((item) => item.id === card.dataset.householdId) === firstNew);
        const button = added && added.querySelector('[data-testid="record-visit-button"]');
        if (button) button.focus();
      } catch (error) {
        if (isAbort(error) || !alive) return;
        state.set('error', error.message, () => load());
      } finally {
        moreButton.disabled = false;
      }
    });

    async function load({ quiet = false, background = false } = {}) {
      if (controller) controller.abort();
      controller = new AbortController();
      const signal = controller.signal;
      // Keep focus on the card it was on when the list is redrawn under the officer's finger.
      const focusedCard = document.activeElement && document.activeElement.closest
        ? document.activeElement.closest('[data-household-id]') : null;
      const focusedId = focusedCard ? focusedCard.dataset.householdId : null;
      if (!quiet) state.set('loading', q ? 'Searching…' : 'Loading households…');
      try {
        // A refresh keeps as many households listed as were shown (at least one page).
        const data = await fetchPage(0, Math.max(PAGE_SIZE, shown.length), { signal, background });
        if (!alive || signal.aborted) return;
        state.set('none');
        shown = data && Array.isArray(data.households) ? data.households : [];
        total = Number(data && data.total) || shown.length;
        render();
        if (focusedId) {
          const again = [...lists.querySelectorAll('[data-household-id]')].find((card) => card.dataset.householdId === focusedId);
          const button = again && again.querySelector('[data-testid="record-visit-button"]');
          if (button) button.focus({ preventScroll: true });
        }
      } catch (error) {
        if (isAbort(error) || !alive) return;
        state.set('error', error.message, () => load());
      }
    }

    const runSearch = debounce(() => load(), SEARCH_DELAY_MS);
    searchInput.addEventListener('input', () => {
      q = searchInput.value;
      clearButton.hidden = !q;
      shown = [];
      runSearch();
    });
    clearButton.addEventListener('click', () => {
      searchInput.value = '';
      q = '';
      shown = [];
      clearButton.hidden = true;
      runSearch.cancel();
      load();
      searchInput.focus();
    });
    addJump.addEventListener('click', () => {
      document.getElementById('add-household').scrollIntoView({ block: 'start' });
      if (addForm) addForm.focusFirst();
    });

    // The add form needs the wards.
    ctx.reference().then((reference) => {
      if (!alive) return;
      addForm = householdForm({
        wards: reference.wards,
        testidPrefix: 'add',
        onSaved: (id, data) => {
          setChildren(addResult, addedMessage(id, data));
          announce('Household added on this tablet.');
          ctx.refreshStatus();
          load({ quiet: true });
        },
      });
      addSlot.replaceChildren(addForm.element);
    }).catch((error) => {
      if (!alive || isAbort(error)) return;
      setChildren(addSlot, h('p', { class: 'state state-error', role: 'alert' }, `The form cannot be shown: ${error.message}`));
    });

    // Households pulled by a sync show up without a reload.
    const unsubscribe = ctx.onStatus((status) => {
      const seen = status.last_sync_at || null;
      if (lastSyncSeen !== undefined && seen !== lastSyncSeen) {
        load({ quiet: true, background: true });
        due.load({ quiet: true, background: true });
      }
      lastSyncSeen = seen;
    });

    load();
    due.load();
    if (flash) announce(flash);

    return {
      unmount() {
        alive = false;
        runSearch.cancel();
        if (controller) controller.abort();
        due.stop();
        if (addForm) addForm.destroy();
        unsubscribe();
      },
    };
  },
};
