// page-commute.js — #/commute: Commute Aware card distribution at a station, for PCSOs;
// #/commute?id=ID: correct a session (e.g. one the server refused).
//
//   GET  /api/reference               the stations
//   GET  /api/commute                 the sessions, newest first; one without ended_at is active
//   POST /api/commute                 start a session {station, started_at, cards_distributed: 0, messages: []}
//   POST /api/commute/{id}/count      each +1 / −1 tap {"delta": 1 | -1} → {id, cards_distributed};
//                                     409 "session_over" once the session's day is over (it was
//                                     ended at its midnight): the page asks "Start today's session
//                                     at <station>?" and counts the taps there if so
//   PUT  /api/commute/{id}            messages, "End session" (ended_at), corrections: the whole record
//   POST /api/validate/commute_session  while correcting (debounced)
//   GET  /api/rejected                only to find a refused session that is no longer listed
//
// Never lose a tap: every tap and every PUT of a session goes through that session's queue
// (tap-queue.js), which outlives the page.

import { get, postJson, isAbort } from './api.js';
import {
  h, setChildren, setText, uniqueId, createStateArea, fieldError, toggleButton, radioArrowKeys, confirmDialog, announce,
  formatWhen, formatDateTime, toLocalInput, fromLocalInput, nowIso, stateBadge, plural, slug, label,
  MESSAGES, MESSAGE_LABELS,
} from './dom.js';
import { createErrorDisplay, createLiveValidator, onSubmit, showRefusal } from './forms.js';
import { queueFor, MAX_CARDS } from './tap-queue.js';

// ---------------------------------------------------------------------------------------------
// Pieces

function messagesText(messages) {
  const list = Array.isArray(messages) ? messages : [];
  return list.length ? list.map((code) => label(MESSAGE_LABELS, code)).join(', ') : 'no messages ticked';
}

function sessionRow(session, activeId) {
  const data = session.data && typeof session.data === 'object' ? session.data : {};
  const cards = Number(data.cards_distributed) || 0;
  const rejection = session.rejection && typeof session.rejection === 'object' ? session.rejection : null;
  const isActive = session.id === activeId;
  return h('li', { class: 'session-row', 'data-testid': 'session-row', 'data-session-id': session.id },
    h('div', { class: 'session-row-body' },
      h('p', { class: 'session-row-title' },
        h('strong', null, String(data.station || '')), ' — ', formatWhen(data.started_at),
        data.ended_at ? ` to ${formatWhen(data.ended_at).replace(/^today /, '')}` : null,
        ' ', isActive ? h('span', { class: 'badge badge-mine' }, 'In progress')
          : (!data.ended_at ? h('span', { class: 'badge badge-pending' }, 'Not ended') : null),
        ' ', stateBadge(session.state)),
      h('p', null, h('span', { class: 'session-cards', 'data-testid': 'session-cards', 'data-value': String(cards) },
        plural(cards, 'card holder', 'card holders')), ' · Messages: ', messagesText(data.messages)),
      rejection ? h('p', { class: 'row-rejection' }, h('span', { 'aria-hidden': 'true' }, '⚠ '),
        'Refused by the server: ', String(rejection.message || rejection.code || '')) : null),
    isActive || session.mine === false ? null : h('div', { class: 'session-row-actions' },
      h('a', { class: 'button button-secondary', href: `#/commute?id=${encodeURIComponent(session.id)}`, 'data-testid': 'session-edit' },
        'Correct', h('span', { class: 'visually-hidden' }, ` the session at ${data.station || ''}, ${formatDateTime(data.started_at)}`))));
}

// ---------------------------------------------------------------------------------------------
// Start a session

function startView({ stations, lastStation, onStarted }) {
  let chosen = stations.includes(lastStation) ? lastStation : (stations.length === 1 ? stations[0] : null);
  const titleId = uniqueId('station-title');
  const buttons = stations.map((station) => h('button', {
    type: 'button', role: 'radio', 'aria-checked': 'false', tabindex: '-1', class: 'station-option',
    'data-testid': `station-${slug(station)}`, 'data-station': station,
  }, h('span', { class: 'station-mark', 'aria-hidden': 'true' }), h('span', null, station)));
  const group = h('div', { class: 'station-group', role: 'radiogroup', 'aria-labelledby': titleId }, buttons);
  const stationError = fieldError('station', group);
  const startButton = h('button', { type: 'button', class: 'button button-big button-start', 'data-testid': 'start-session' },
    h('span', { 'aria-hidden': 'true' }, '▶ '), 'Start a session');
  const general = h('div', { class: 'form-general-error', role: 'alert', 'data-testid': 'start-error' });

  function render() {
    buttons.forEach((button, index) => {
      const checked = button.dataset.station === chosen;
      button.setAttribute('aria-checked', checked ? 'true' : 'false');
      button.tabIndex = checked || (!chosen && index === 0) ? 0 : -1;
    });
  }
  for (const button of buttons) {
    button.addEventListener('click', () => {
      chosen = button.dataset.station;
      stationError.set('');
      render();
    });
  }
  radioArrowKeys(buttons, (next) => {
    chosen = next.dataset.station;
    render();
  });

  let starting = false;
  startButton.addEventListener('click', async () => {
    if (starting) return;
    general.replaceChildren();
    if (!chosen) {
      stationError.set('Choose the station first.');
      (buttons[0] || startButton).focus();
      return;
    }
    starting = true;
    startButton.disabled = true;
    const data = { station: chosen, started_at: nowIso(), cards_distributed: 0, messages: [] };
    try {
      const answer = await postJson('/api/commute', data);
      announce(`Session started at ${chosen}.`);
      onStarted(answer.id, data);
    } catch (failure) {
      const stationProblem = failure.errors.find((error) => error.field === 'station');
      if (stationProblem) stationError.set(stationProblem.message);
      const rest = failure.errors.filter((error) => error.field !== 'station').map((error) => error.message);
      if (!failure.errors.length) rest.push(failure.message);
      setChildren(general, rest.map((message) => h('p', null, `Not started: ${message}`)));
    } finally {
      starting = false;
      startButton.disabled = false;
    }
  });
  render();

  return h('section', { class: 'card-section start-session', 'aria-labelledby': 'start-title', 'data-testid': 'start-view' },
    h('h2', { id: 'start-title' }, 'Start a session'),
    h('p', { id: titleId, class: 'field-label' }, 'Which station are you at?'),
    group, stationError.element, general, startButton);
}

// ---------------------------------------------------------------------------------------------
// The active session

function activeView({ session, onEnded, onOver }) {
  const queue = queueFor(session.id, session.data);
  const data = queue.data;

  const count = h('span', { class: 'count-value', 'data-testid': 'cards-count', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const countLabel = h('span', { class: 'count-label' }, 'card holders given out');
  const plusOne = h('button', { type: 'button', class: 'plus-one', 'data-testid': 'plus-one' },
    h('span', { class: 'plus-one-big', 'aria-hidden': 'true' }, '+1'),
    h('span', { class: 'plus-one-text' }, h('span', { class: 'visually-hidden' }, 'Add one '), 'card holder given'));
  const minusOne = h('button', { type: 'button', class: 'button button-secondary minus-one', 'data-testid': 'minus-one' },
    h('span', { 'aria-hidden': 'true' }, '−1 '), 'Correction: take one off');
  const saving = h('p', { class: 'count-saving', 'data-testid': 'count-saving' });
  const errorLine = h('p', { class: 'count-error', role: 'alert', 'data-testid': 'count-error' });

  let messages = new Set(Array.isArray(data.messages) ? data.messages : []);
  const messageToggles = MESSAGES.map((code) => toggleButton({
    text: label(MESSAGE_LABELS, code), testid: `message-${code}`, pressed: messages.has(code),
    onChange: (pressed) => {
      if (pressed) messages.add(code);
      else messages.delete(code);
      const list = MESSAGES.filter((name) => messages.has(name));
      queue.put({ messages: list }).catch(() => {
        // Refused: show what the store really has.
        messages = new Set(Array.isArray(queue.data.messages) ? queue.data.messages : []);
        messageToggles.forEach((toggle, index) => toggle.set(messages.has(MESSAGES[index])));
      });
    },
  }));

  const endButton = h('button', { type: 'button', class: 'button button-danger button-end', 'data-testid': 'end-session' },
    h('span', { 'aria-hidden': 'true' }, '■ '), 'End session');

  let overHandled = false;
  function render() {
    if (queue.over && !overHandled) {
      overHandled = true;
      onOver(queue);
      return;
    }
    const value = queue.displayed();
    setText(count, String(value));
    count.dataset.value = String(value);
    count.dataset.confirmed = String(Number(queue.data.cards_distributed) || 0);
    minusOne.disabled = value <= 0;
    plusOne.disabled = value >= MAX_CARDS;
    const waiting = queue.ops.filter((op) => op.kind === 'count').length;
    saving.dataset.value = String(queue.ops.length);
    setText(saving, queue.ops.length
      ? `Saving… (${plural(waiting, 'tap', 'taps')} to save)` : '✓ Every tap is saved on this tablet');
    saving.classList.toggle('is-saving', queue.ops.length > 0);
    setText(errorLine, queue.error);
  }

  plusOne.addEventListener('click', () => { queue.tap(1); });
  minusOne.addEventListener('click', () => {
    if (!queue.tap(-1)) minusOne.blur();
  });
  endButton.addEventListener('click', async () => {
    const yes = await confirmDialog({
      title: 'End this session?',
      body: `${data.station}: ${plural(queue.displayed(), 'card holder', 'card holders')} given out. You cannot add to it after it has ended.`,
      confirmLabel: 'End session',
      cancelLabel: 'Keep going',
    });
    if (!yes) return;
    endButton.disabled = true;
    try {
      await queue.put({ ended_at: nowIso() });
      announce('Session ended and saved on this tablet.');
      onEnded();
    } catch (failure) {
      endButton.disabled = false;
      setText(errorLine, `Not ended: ${failure.message}`);
    }
  });

  queue.listeners.add(render);
  render();

  const element = h('section', { class: 'active-session', 'aria-labelledby': 'active-title', 'data-testid': 'active-session', 'data-session-id': session.id },
    h('div', { class: 'active-head' },
      h('h2', { id: 'active-title' }, `Session at ${data.station}`),
      h('p', { class: 'muted-strong' }, `Started ${formatWhen(data.started_at)}`)),
    h('div', { class: 'active-grid' },
      h('div', { class: 'counter' },
        h('p', { class: 'count-display' }, count, countLabel),
        plusOne,
        minusOne,
        saving,
        errorLine),
      h('div', { class: 'active-side' },
        h('section', { class: 'form-block', 'aria-labelledby': 'messages-title' },
          h('h3', { id: 'messages-title', class: 'block-title' }, 'Messages on the card'),
          h('p', { class: 'hint' }, 'Tap the messages you talked about.'),
          h('div', { class: 'toggle-grid toggle-grid-small', role: 'group', 'aria-labelledby': 'messages-title' },
            messageToggles.map((toggle) => toggle.element))),
        endButton)));
  return { element, destroy: () => queue.listeners.delete(render) };
}

// ---------------------------------------------------------------------------------------------
// Correct a session (#/commute?id=…)

function sessionForm({ session, stations, rejection, ctx }) {
  const data = session.data && typeof session.data === 'object' ? session.data : {};
  const station = h('select', { id: uniqueId('cs-station'), 'data-testid': 'commute-station' }, h('option', { value: '' }, 'Choose a station…'));
  const names = [...stations];
  if (data.station && !names.includes(data.station)) names.push(data.station);
  for (const name of names) station.append(h('option', { value: name }, name));
  station.value = data.station || '';
  const started = h('input', { type: 'datetime-local', id: uniqueId('cs-started'), step: '60', 'data-testid': 'commute-started' });
  started.value = toLocalInput(data.started_at);
  const ended = h('input', { type: 'datetime-local', id: uniqueId('cs-ended'), step: '60', 'data-testid': 'commute-ended' });
  ended.value = toLocalInput(data.ended_at);
  const cards = h('input', {
    type: 'number', id: uniqueId('cs-cards'), min: '0', max: String(MAX_CARDS), step: '1', inputmode: 'numeric',
    'data-testid': 'commute-cards', class: 'input-number',
  });
  cards.value = String(Number.isInteger(data.cards_distributed) ? data.cards_distributed : 0);
  const chosen = new Set(Array.isArray(data.messages) ? data.messages : []);
  const toggles = MESSAGES.map((code) => toggleButton({
    text: label(MESSAGE_LABELS, code), testid: `message-${code}`, pressed: chosen.has(code),
    onChange: () => changed('messages'),
  }));
  const messagesGroup = h('div', { class: 'toggle-grid toggle-grid-small', role: 'group', 'aria-labelledby': 'cs-messages-title' },
    toggles.map((toggle) => toggle.element));

  const errors = {
    station: fieldError('station', station),
    started_at: fieldError('started_at', started),
    ended_at: fieldError('ended_at', ended),
    cards_distributed: fieldError('cards_distributed', cards),
    messages: fieldError('messages', messagesGroup),
  };
  const display = createErrorDisplay({
    fields: errors, focusTargets: { station, started_at: started, ended_at: ended, cards_distributed: cards, messages: toggles[0].element },
  });

  function collect() {
    const record = {
      station: station.value,
      started_at: fromLocalInput(started.value) || started.value,
      cards_distributed: /^\d+$/.test(cards.value.trim()) ? Number(cards.value.trim()) : cards.value,
      messages: MESSAGES.filter((code, index) => toggles[index].get()),
    };
    // An ended time the officer cleared is sent as null (the session is then open again).
    record.ended_at = ended.value ? (fromLocalInput(ended.value) || ended.value) : null;
    return record;
  }
  const validator = createLiveValidator('commute_session', collect, (list) => display.apply(list));
  function changed(field) {
    display.touch(field);
    validator.schedule();
  }
  station.addEventListener('change', () => changed('station'));
  started.addEventListener('change', () => changed('started_at'));
  ended.addEventListener('change', () => changed('ended_at'));
  cards.addEventListener('input', () => changed('cards_distributed'));

  const save = h('button', { type: 'submit', class: 'button button-big', 'data-testid': 'commute-save' }, 'Save the session');
  const form = h('form', { class: 'session-form', novalidate: true, 'data-testid': 'commute-form' },
    display.summary,
    rejection ? h('div', { class: 'message message-error', role: 'alert', 'data-testid': 'commute-rejection' },
      h('p', null, h('strong', null, 'The server refused this session: '), String(rejection.message || rejection.code || '')),
      h('p', null, 'Correct it and save: it is sent again with the next sync.')) : null,
    h('div', { class: 'form-grid' },
      h('div', { class: 'field' }, h('label', { for: station.id }, 'Station'), station, errors.station.element),
      h('div', { class: 'field' }, h('label', { for: cards.id }, 'Card holders given out'), cards, errors.cards_distributed.element),
      h('div', { class: 'field' }, h('label', { for: started.id }, 'Started at'), started, errors.started_at.element),
      h('div', { class: 'field' }, h('label', { for: ended.id }, 'Ended at (leave empty if still going)'), ended, errors.ended_at.element)),
    h('div', { class: 'field' }, h('p', { class: 'field-label', id: 'cs-messages-title' }, 'Messages'), messagesGroup, errors.messages.element),
    display.general,
    h('div', { class: 'action-bar' }, save,
      h('a', { href: '#/commute', class: 'button button-secondary', 'data-testid': 'commute-cancel' }, 'Cancel')));

  if (rejection && rejection.field && errors[rejection.field]) {
    display.touch(rejection.field);
    display.apply([{ field: rejection.field, message: rejection.message }]);
  }

  onSubmit(form, { button: save, validator, display }, async () => {
    display.general.replaceChildren();
    const record = collect();
    try {
      // Through the session's queue, after any taps still on their way.
      const queue = queueFor(session.id, data);
      await queue.put(record);
      ctx.flash('Saved on this tablet — waiting to sync');
      ctx.refreshStatus();
      ctx.navigate('commute');
    } catch (failure) {
      if (!showRefusal(display, failure)) display.general.replaceChildren(h('p', null, `Not saved: ${failure.message}`));
    }
  });
  return { element: form, destroy: () => validator.cancel() };
}

// ---------------------------------------------------------------------------------------------
// The page

export default {
  key: 'commute',
  title: 'Commute Aware',
  mount(container, params, ctx) {
    let alive = true;
    let pieces = [];
    const editId = params.get('id');
    const flash = ctx.takeFlash();
    const state = createStateArea('commute-state');
    const body = h('div', { class: 'page-body' });
    setChildren(container,
      h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, editId ? 'Correct a Commute Aware session' : 'Commute Aware')),
      flash ? h('div', { class: 'message message-success', role: 'status', 'data-testid': 'commute-saved' },
        h('p', null, h('span', { 'aria-hidden': 'true' }, '✓ '), flash)) : null,
      state.element, body);
    if (flash) announce(flash);

    function destroyPieces() {
      for (const piece of pieces) if (piece.destroy) piece.destroy();
      pieces = [];
    }

    async function load() {
      state.set('loading', 'Loading sessions…');
      try {
        const [reference, list] = await Promise.all([ctx.reference(), get('/api/commute')]);
        if (!alive) return;
        const sessions = list && Array.isArray(list.sessions) ? list.sessions.filter((item) => item && item.id) : [];
        state.set('none');
        destroyPieces();
        if (editId) await renderEdit(reference, sessions);
        else renderMain(reference, sessions);
      } catch (error) {
        if (!alive || isAbort(error)) return;
        state.set('error', error.message, load);
      }
    }

    async function renderEdit(reference, sessions) {
      let session = sessions.find((item) => item.id === editId) || null;
      let rejection = session && session.rejection && typeof session.rejection === 'object' ? session.rejection : null;
      if (!session) {
        const rejected = await get('/api/rejected');
        const item = (rejected && Array.isArray(rejected.rejected) ? rejected.rejected : [])
          .find((entry) => entry.entity === 'commute_session' && entry.id === editId);
        if (item && item.data) {
          session = { id: editId, state: 'rejected', data: item.data };
          rejection = item;
        }
      }
      if (!alive) return;
      if (!session) {
        setChildren(body, h('p', { class: 'state state-error', role: 'alert' }, 'This session is not on this tablet any more.'),
          h('p', null, h('a', { class: 'button', href: '#/commute' }, 'Back to Commute Aware')));
        return;
      }
      const form = sessionForm({ session, stations: reference.stations, rejection, ctx });
      pieces.push(form);
      setChildren(body, form.element);
    }

    function renderMain(reference, sessions) {
      // The active session: the newest one not ended that this tablet may write to.
      const active = sessions.find((item) => item.data && !item.data.ended_at && item.mine !== false) || null;
      const top = active
        ? activeView({ session: active, onEnded: () => ctx.navigate('commute', {}, { replace: true }), onOver: askToCarryOn })
        : {
          element: startView({
            stations: reference.stations,
            lastStation: sessions[0] && sessions[0].data ? sessions[0].data.station : null,
            onStarted: (id, data) => {
              if (id) queueFor(id, data);
              ctx.refreshStatus();
              ctx.navigate('commute', {}, { replace: true });
            },
          }),
        };
      pieces.push(top);
      const past = sessions.filter((item) => !active || item.id !== active.id);
      setChildren(body,
        top.element,
        h('section', { class: 'list-section', 'aria-labelledby': 'sessions-title' },
          h('h2', { id: 'sessions-title' }, `Your sessions (${past.length})`),
          past.length ? h('ul', { class: 'session-list', 'data-testid': 'session-list' }, past.map((item) => sessionRow(item, active && active.id)))
            : h('p', { class: 'empty' }, 'No earlier sessions on this tablet.')));
    }

    // The active session's day is over (tap-queue.js): it was ended at its midnight. Ask before
    // carrying on; if so, start today's session at the same station with the uncounted taps.
    async function askToCarryOn(queue) {
      const { station, taps } = queue.over;
      queue.over = null;
      const uncounted = taps.reduce((sum, delta) => sum + delta, 0);
      const yes = await confirmDialog({
        title: `Start today's session at ${station}?`,
        body: `The session at ${station} began on an earlier day, so it was ended at midnight with the card holders ` +
          `counted until then. ${uncounted > 0 ? `${plural(uncounted, 'tap', 'taps')} made since will be counted in today's session.` : ''}`,
        confirmLabel: "Start today's session",
        cancelLabel: 'Not now',
        danger: false,
      });
      if (!alive) return;
      if (yes) {
        try {
          const data = { station, started_at: nowIso(), cards_distributed: 0, messages: [] };
          const created = await postJson('/api/commute', data);
          const next = queueFor(created.id, data);
          for (const delta of taps) next.tap(delta);
          announce(`Today's session at ${station} started.`);
          ctx.refreshStatus();
        } catch (failure) {
          if (!alive) return;
          state.set('error', `Today's session was not started: ${failure.message}`, load);
          return;
        }
      } else {
        announce(`The session at ${station} was ended at midnight.`);
      }
      load();
    }

    load();
    return {
      unmount() {
        alive = false;
        destroyPieces();
      },
    };
  },
};
