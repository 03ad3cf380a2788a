// page-overview.js — #/overview?from=&to=: headline figures and charts from GET /api/v1/overview,
// kept live by polling GET /api/v1/version every 3 seconds.

import { get, isQuiet } from './api.js';
import { h, formatNumber, formatPercent, formatTime, createStateArea, plural, OUTCOME_LABELS } from './dom.js';
import { createRangeControl, rangeFromParams, sameRange, describeRange } from './ranges.js';
import { createPanelSet, updatePanelSet, hasReferralFigures } from './panels.js';

const POLL_MS = 3000;
const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** One headline figure: <div><dt>label</dt><dd data-testid>value</dd></div>. */
function figure(labelText, testid, note) {
  const value = h('dd', { class: 'figure-value', 'data-testid': testid, id: `figure-${testid}` }, '—');
  const noteElement = h('dd', { class: 'figure-note' }, note || '');
  const element = h('div', { class: 'figure' }, h('dt', { class: 'figure-label' }, labelText), value, noteElement);
  return {
    element,
    set(text, raw, noteText) {
      value.textContent = text;
      value.dataset.value = String(raw);
      if (noteText !== undefined) noteElement.textContent = noteText;
    },
  };
}

/** The headline figures, empty until setFigures(). */
function createFigures() {
  return {
    visits: figure('Visits recorded', 'visits-total'),
    completed: figure('Completed visits', 'visits-completed'),
    reached: figure('Households visited', 'households-reached'),
    visited: figure('Target households visited', 'households-visited'),
    target: figure('Target households', 'households-target', 'on the Safer Streets list now'),
    coverage: figure('Household coverage', 'coverage', 'of target households visited'),
    smoke: figure(OUTCOME_LABELS.smoke_detectors_fitted, 'smoke-detectors-fitted'),
    referred: figure('Visits with a referral', 'referred-visits'),
    cards: figure('Commute Aware cards', 'cards-total'),
    sessions: figure('Commute Aware sessions', 'commute-sessions', 'at railway stations'),
  };
}

function setFigures(figures, stats) {
  const visits = stats.visits || {};
  const byStatus = visits.by_status || {};
  const outcomes = stats.outcomes || {};
  const households = stats.households || {};
  const commute = stats.commute_aware || {};
  figures.visits.set(formatNumber(num(visits.total)), num(visits.total));
  figures.completed.set(formatNumber(num(byStatus.completed)), num(byStatus.completed),
    num(visits.total) ? `${formatPercent(num(byStatus.completed) / num(visits.total))} of visits` : '');
  if (typeof households.reached === 'number') {
    figures.reached.set(formatNumber(households.reached), households.reached, 'any household, target or not, each once');
  } else {
    figures.reached.set('—', '', 'not counted by this server');
  }
  figures.visited.set(formatNumber(num(households.visited)), num(households.visited),
    `of ${plural(num(households.target), 'target household', 'target households')}`);
  figures.target.set(formatNumber(num(households.target)), num(households.target));
  figures.coverage.set(formatPercent(num(households.coverage)), num(households.coverage));
  figures.smoke.set(formatNumber(num(outcomes.smoke_detectors_fitted)), num(outcomes.smoke_detectors_fitted), 'fitted free of charge');
  setReferredFigure(figures.referred, stats.referrals);
  figures.cards.set(formatNumber(num(commute.cards_distributed)), num(commute.cards_distributed), 'card holders distributed');
  figures.sessions.set(formatNumber(num(commute.sessions)), num(commute.sessions));
}

/** Visits with a referral, noting those without a basis for sharing; "—" from an older server. */
function setReferredFigure(referred, referrals) {
  if (!hasReferralFigures(referrals)) {
    referred.set('—', '', 'not counted by this server');
    return;
  }
  const notRecorded = num(referrals.by_share_basis.not_recorded);
  referred.set(formatNumber(num(referrals.visits)), num(referrals.visits),
    notRecorded ? `${formatNumber(notRecorded)} with no basis for sharing recorded` : 'to partner services');
}

/** The figures and the panels, in their sections (hidden until the first answer). */
function overviewBody(figures, panels) {
  return h('div', { class: 'overview-body', 'data-testid': 'overview', hidden: true },
    h('section', { class: 'figures-section', 'aria-labelledby': 'figures-heading' },
      h('h2', { id: 'figures-heading' }, 'Headline figures'),
      h('dl', { class: 'figures' }, Object.values(figures).map((f) => f.element))),
    h('h2', { class: 'section-heading' }, 'Safer Streets visits'),
    h('div', { class: 'panel-grid' }, panels.status.element, panels.outcomes.element, panels.visitsSeries.element),
    h('h2', { class: 'section-heading' }, "Residents' feedback"),
    h('div', { class: 'panel-grid' }, panels.feedback.element, panels.feedbackWards.element),
    h('h2', { class: 'section-heading' }, 'Referrals to partners'),
    h('div', { class: 'panel-grid' }, panels.referrals.element),
    h('h2', { class: 'section-heading' }, 'Household coverage'),
    h('div', { class: 'panel-grid' }, panels.wards.element, panels.vulnerability.element),
    h('h2', { class: 'section-heading' }, 'Commute Aware'),
    h('div', { class: 'panel-grid' }, panels.stations.element, panels.cardsSeries.element),
    h('div', { class: 'panel-grid' }, panels.messages.element));
}

function mount(root, params, ctx) {
  let range = rangeFromParams(params);
  let data = null;
  let alive = true;
  let requestId = 0;
  let loading = false;
  let pollTimer = null;

  const rangeControl = createRangeControl({
    idPrefix: 'overview-range', range,
    onChange: (next) => ctx.navigate('overview', next),
  });
  const liveStatus = h('p', { class: 'live-status', role: 'status', 'data-testid': 'live-status' }, '');
  const state = createStateArea('overview-state');

  const rangeText = () => ` (${describeRange(range)})`;
  const figures = createFigures();
  // Panel headings are h3: they sit under the h2 section headings.
  const panels = createPanelSet({ headingLevel: 3, rangeText: rangeText() }, 'week');
  const body = overviewBody(figures, panels);
  root.append(
    h('div', { class: 'page-head' },
      h('h1', { tabindex: '-1' }, 'Overview'),
      liveStatus),
    rangeControl.element,
    state.element,
    body);

  function render(overview) {
    setFigures(figures, overview.stats || {});
    updatePanelSet(panels, overview, rangeText(), 'week');
    body.dataset.version = String(overview.version);
    body.dataset.from = overview.from || '';
    body.dataset.to = overview.to || '';
    body.hidden = false;
    body.removeAttribute('aria-busy');
    body.classList.remove('is-stale');
  }

  async function load({ quiet = false } = {}) {
    const id = ++requestId;
    loading = true;
    if (!quiet) {
      if (data) {
        body.setAttribute('aria-busy', 'true');
        body.classList.add('is-stale');
      }
      state.set('loading', `Loading figures for ${describeRange(range)}…`);
    }
    try {
      const overview = await get('/api/v1/overview', { from: range.from, to: range.to });
      if (!alive || id !== requestId) return;
      data = overview;
      render(overview);
      state.set('none');
      liveStatus.textContent = `Live: updates automatically. Last updated at ${formatTime(new Date())}.`;
    } catch (error) {
      if (!alive || id !== requestId || isQuiet(error)) return;
      if (quiet && data) {
        liveStatus.textContent = `Could not refresh the figures (${error.message}). Retrying…`;
      } else {
        body.hidden = true;
        state.set('error', error.message, () => load());
      }
    } finally {
      if (id === requestId) loading = false;
    }
  }

  async function poll() {
    pollTimer = null;
    if (!alive) return;
    if (!document.hidden && data && !loading) {
      try {
        const { version } = await get('/api/v1/version');
        if (alive && data && !loading && version !== data.version) await load({ quiet: true });
      } catch (error) {
        if (!alive || isQuiet(error)) return;
        liveStatus.textContent = `Connection problem: ${error.message} Retrying…`;
      }
    }
    if (alive) pollTimer = window.setTimeout(poll, POLL_MS);
  }

  load();
  pollTimer = window.setTimeout(poll, POLL_MS);

  return {
    update(nextParams) {
      const next = rangeFromParams(nextParams);
      if (sameRange(next, range)) return;
      range = next;
      rangeControl.set(range);
      load();
    },
    unmount() {
      alive = false;
      if (pollTimer) window.clearTimeout(pollTimer);
      for (const panel of Object.values(panels)) panel.destroy();
    },
  };
}

export default { key: 'overview', title: 'Overview', mount };
