// page-referrals.js — #/referrals?partner=&state=&from=&to=&offset=: referrals to pass on.
//   GET  /api/v1/referrals?partner=&state=&from=&to=&limit=&offset=   a page of one partner's referrals
//   GET  /api/v1/exports/referrals.csv?partner=&state=&from=&to=&include_not_recorded=
//   POST /api/v1/referrals/sent {partner, visit_ids} or {partner, all, from, to, include_not_recorded}
// A referral whose visit recorded no lawful basis for sharing is flagged, and left out of the CSV
// and of "mark all" unless the coordinator ticks the box that includes them (data-protection.md §5).
// The partners are the built-in ones and the server's own (its questions of kind referral).

import { get, postJson, query, isQuiet } from './api.js';
import {
  h, formatNumber, timeElement, createStateArea, confirmDialog, announce, label, plural,
  REFERRALS, SHARE_BASIS_LABELS, VULNERABILITY_LABELS, partnerOptions,
} from './dom.js';
import { createTable } from './charts.js';
import { createRangeControl, rangeFromParams, describeRange } from './ranges.js';

const PAGE_SIZE = 100;
const STATES = [['unsent', 'Not yet passed on'], ['sent', 'Passed on'], ['all', 'All']];
const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

// A partner id of the URL is taken when it has an id's form; the server refuses one it does not know.
const PARTNER_ID = /^[a-z0-9_]{1,40}$/;

function paramsOf(params) {
  const partner = PARTNER_ID.test(params.get('partner') || '') ? params.get('partner') : REFERRALS[0];
  const state = STATES.some(([key]) => key === params.get('state')) ? params.get('state') : 'unsent';
  const offset = Math.max(0, Number.parseInt(params.get('offset') || '0', 10) || 0);
  return { partner, state, offset, ...rangeFromParams(params) };
}

function setOptions(element, options, value) {
  const known = options.some(([key]) => key === value) ? options : [...options, [value, value]];
  element.replaceChildren(...known.map(([key, text]) => h('option', { value: key, selected: key === value }, text)));
  element.value = value;
}

function select(id, options, value, testid) {
  const element = h('select', { id, 'data-testid': testid });
  setOptions(element, options, value);
  return element;
}

function basisCell(row) {
  if (row.basis_not_recorded) {
    return h('strong', { class: 'flag-warning', 'data-testid': 'basis-not-recorded' }, 'No basis recorded — check before sharing');
  }
  return label(SHARE_BASIS_LABELS, row.share_basis);
}

function mount(root, params, ctx) {
  let current = paramsOf(params);
  let alive = true;
  let latest = 0;
  let shown = [];  // the rows of the page on show
  let partners = partnerOptions(null);  // the built-in ones until the server's list arrives
  const partnerName = (id) => (partners.find(([key]) => key === id) || [id, id])[1];

  const partnerSelect = select('referrals-partner', partners, current.partner, 'referrals-partner');
  const stateSelect = select('referrals-state', STATES, current.state, 'referrals-state');
  const go = (changes) => ctx.navigate('referrals', { ...current, offset: 0, ...changes });
  partnerSelect.addEventListener('change', () => go({ partner: partnerSelect.value }));
  stateSelect.addEventListener('change', () => go({ state: stateSelect.value }));
  const rangeControl = createRangeControl({
    idPrefix: 'referrals-range', range: current, legend: 'Visits made between',
    onChange: (next) => go(next),
  });
  const filters = h('form', { class: 'filters no-print', 'aria-label': 'Choose referrals' },
    h('div', { class: 'field' }, h('label', { for: 'referrals-partner' }, 'Partner'), partnerSelect),
    h('div', { class: 'field' }, h('label', { for: 'referrals-state' }, 'Show'), stateSelect));
  filters.addEventListener('submit', (event) => event.preventDefault());

  const count = h('p', { class: 'count', 'data-testid': 'referrals-count' });
  const warning = h('div', { class: 'state state-error', role: 'note', 'data-testid': 'referrals-not-recorded', hidden: true });
  const includeBox = h('input', { type: 'checkbox', id: 'referrals-include', 'data-testid': 'referrals-include' });
  const includeField = h('div', { class: 'field-inline' }, includeBox,
    h('label', { for: 'referrals-include' },
      'Include referrals with no basis recorded in the CSV and in “Mark all as passed on” (I have checked their basis)'));
  const download = h('a', { class: 'button download-link', download: true, 'data-testid': 'referrals-download' },
    'Download for the partner (CSV)');
  const markSelected = h('button', { type: 'button', class: 'button', 'data-testid': 'referrals-mark-selected' },
    'Mark selected as passed on');
  const markAll = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'referrals-mark-all' },
    'Mark all as passed on');
  const state = createStateArea('referrals-state-area');
  const table = createTable({
    caption: 'Referrals', testid: 'referrals-table', scroll: true,
    columns: [{ label: 'Select' }, { label: 'Visit date' }, { label: 'Address' }, { label: 'Postcode' }, { label: 'Ward' },
      { label: 'Vulnerability' }, { label: 'Basis for sharing' }, { label: 'Officer' }, { label: 'Passed on' }],
  });
  const previous = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'referrals-previous' }, 'Previous page');
  const next = h('button', { type: 'button', class: 'button button-secondary', 'data-testid': 'referrals-next' }, 'Next page');
  previous.addEventListener('click', () => ctx.navigate('referrals', { ...current, offset: Math.max(0, current.offset - PAGE_SIZE) }));
  next.addEventListener('click', () => ctx.navigate('referrals', { ...current, offset: current.offset + PAGE_SIZE }));

  root.append(
    h('h1', { tabindex: '-1' }, 'Referrals to pass on'),
    h('p', null, 'The referrals officers made at visits, one partner at a time: what the partner needs to act on each ',
      '(the visit date, the address, the household’s vulnerability, the lawful basis for sharing and the officer), ',
      'never the visit’s notes. Mark them as passed on once the partner has them.'),
    filters, rangeControl.element, count, warning,
    h('div', { class: 'button-row no-print' }, download, markSelected, markAll), includeField,
    state.element, table.element,
    h('div', { class: 'button-row no-print' }, previous, next),
    h('p', { class: 'hint' }, 'The CSV holds personal data: send it to the partner by the agreed secure route only.'));

  const rowOf = (row) => {
    const box = h('input', { type: 'checkbox', 'data-testid': 'referral-select', 'aria-label': `Select the visit of ${row.local_date} at ${row.address}` });
    box.dataset.visitId = row.visit_id;
    if (row.sent_at) box.disabled = true;
    return {
      attrs: { 'data-testid': 'referral-item', 'data-visit-id': row.visit_id, 'data-sent': row.sent_at ? 'true' : 'false',
        'data-basis-not-recorded': row.basis_not_recorded ? 'true' : 'false' },
      cells: [box, timeElement(row.visited_at), row.address || '—', row.postcode || '—', row.ward,
        (row.vulnerability || []).map((v) => label(VULNERABILITY_LABELS, v)).join(', ') || h('span', { class: 'muted' }, 'None recorded'),
        basisCell(row), row.officer,
        row.sent_at ? [timeElement(row.sent_at), ` by ${row.sent_by}`] : h('span', { class: 'muted' }, 'Not yet')],
    };
  };

  function csvLink() {
    return '/api/v1/exports/referrals.csv' + query({ partner: current.partner, state: current.state, from: current.from,
      to: current.to, include_not_recorded: includeBox.checked ? 'true' : 'false' });
  }
  includeBox.addEventListener('change', () => { download.href = csvLink(); });

  async function load() {
    const id = ++latest;
    state.set('loading');
    const partner = partnerName(current.partner);
    table.setCaption(`Referrals to ${partner}, ${STATES.find(([key]) => key === current.state)[1].toLowerCase()}, ${describeRange(current)}`);
    download.href = csvLink();
    try {
      const data = await get('/api/v1/referrals', { partner: current.partner, state: current.state, from: current.from,
        to: current.to, limit: PAGE_SIZE, offset: current.offset });
      if (!alive || id !== latest) return;
      state.set('none');
      shown = data.referrals || [];
      const counts = data.counts || {};
      count.textContent = `${plural(num(counts.total), 'referral', 'referrals')} to ${partner} in ${describeRange(current)}: ` +
        `${formatNumber(num(counts.unsent))} not yet passed on, ${formatNumber(num(counts.sent))} passed on.`;
      count.dataset.unsent = String(num(counts.unsent));
      count.dataset.sent = String(num(counts.sent));
      warning.hidden = num(counts.not_recorded) === 0;
      warning.textContent = `${plural(num(counts.not_recorded), 'referral has', 'referrals have')} no lawful basis for ` +
        'sharing recorded (made on an older tablet). Check the basis with the officer before passing them on: they are ' +
        'left out of the CSV and of “Mark all” unless you include them below.';
      table.setRows(shown.map(rowOf), [], `No referrals to ${partner} here.`);
      previous.disabled = current.offset === 0;
      next.disabled = current.offset + shown.length >= num(data.matched);
      markAll.disabled = num(counts.unsent) === 0;
    } catch (error) {
      if (!alive || id !== latest || isQuiet(error)) return;
      state.set('error', error.message, load);
      table.setRows([], [], 'Not loaded.');
    }
  }

  async function mark(body, what) {
    try {
      const result = await postJson('/api/v1/referrals/sent', { partner: current.partner, ...body });
      const message = `${plural(num(result.marked), 'referral', 'referrals')} marked as passed on ${what}.`;
      announce(message);
      state.set('none');
      await load();
      count.dataset.marked = String(num(result.marked));
    } catch (error) {
      if (!isQuiet(error)) state.set('error', error.message);
    }
  }

  markSelected.addEventListener('click', () => {
    const ids = [...table.element.querySelectorAll('input[data-testid="referral-select"]:checked')].map((box) => box.dataset.visitId);
    if (ids.length === 0) {
      state.set('error', 'Select the referrals to mark first.');
      return;
    }
    mark({ visit_ids: ids }, `to ${partnerName(current.partner)}`);
  });
  markAll.addEventListener('click', async () => {
    const included = includeBox.checked;
    const sure = await confirmDialog({
      title: `Mark every referral to ${partnerName(current.partner)} in ${describeRange(current)} as passed on?`,
      body: included ? 'Referrals with no basis recorded are included.' : 'Referrals with no basis recorded stay as they are.',
      confirmLabel: 'Mark all as passed on', danger: false,
    });
    if (sure) mark({ all: true, from: current.from || null, to: current.to || null, include_not_recorded: included }, 'in the range');
  });

  ctx.partners().then((list) => {
    if (!alive) return;
    partners = list;
    setOptions(partnerSelect, partners, current.partner);
    load();
  }, (error) => {
    if (alive && !isQuiet(error)) load();
  });

  return {
    update(nextParams) {
      current = paramsOf(nextParams);
      setOptions(partnerSelect, partners, current.partner);
      stateSelect.value = current.state;
      rangeControl.set(current);
      load();
    },
    unmount() {
      alive = false;
    },
  };
}

export default { key: 'referrals', title: 'Referrals to pass on', mount };
