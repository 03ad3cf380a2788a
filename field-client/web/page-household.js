// page-household.js — #/household?id=ID: correct a household (the "Fix" of a household change
// the server refused, from the Sync page).
//
//   GET  /api/rejected            the refused version and the server's message
//   GET  /api/households/{id}     the household as this tablet has it
//   GET  /api/reference           wards
//   POST /api/validate/household  while typing
//   PUT  /api/households/{id}     save (household-form.js; see README about this route)

import { get, isAbort } from './api.js';
import { h, setChildren, createStateArea, announce } from './dom.js';
import { householdForm } from './household-form.js';

export default {
  key: 'household',
  title: 'Correct a household',
  mount(container, params, ctx) {
    let alive = true;
    let form = null;
    const id = params.get('id') || '';
    const state = createStateArea('household-state');
    const body = h('div', { class: 'page-body' });
    setChildren(container, h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Correct a household')), state.element, body);

    async function load() {
      state.set('loading', 'Loading…');
      try {
        const [reference, rejected, household] = await Promise.all([
          ctx.reference(), get('/api/rejected'), ctx.household(id),
        ]);
        if (!alive) return;
        const item = (rejected && Array.isArray(rejected.rejected) ? rejected.rejected : [])
          .find((entry) => entry.entity === 'household' && entry.id === id) || null;
        const data = (item && item.data) || household;
        if (!data) {
          state.set('error', 'This household is not on this tablet.');
          body.append(h('p', null, h('a', { class: 'button', href: '#/today' }, 'Go to Today')));
          return;
        }
        state.set('none');
        form = householdForm({
          wards: reference.wards,
          initial: data,
          id,
          testidPrefix: 'household',
          onSaved: () => {
            ctx.flash('Saved on this tablet — waiting to sync');
            ctx.refreshStatus();
            announce('Household saved.');
            ctx.navigate('today');
          },
        });
        setChildren(body,
          item ? h('div', { class: 'message message-error', role: 'alert', 'data-testid': 'household-rejection' },
            h('p', null, h('strong', null, 'The server refused this household: '), String(item.message || item.code || '')),
            h('p', null, 'Correct it and save: it is sent again with the next sync.')) : null,
          h('section', { class: 'card-section' }, form.element));
        if (item && item.field) form.showErrors([{ field: item.field, message: String(item.message || '') }]);
      } catch (error) {
        if (!alive || isAbort(error)) return;
        state.set('error', error.message, load);
      }
    }
    load();

    return {
      unmount() {
        alive = false;
        if (form) form.destroy();
      },
    };
  },
};
