// page-report.js — #/report?year=YYYY: the printable annual review of one financial year
// (April to March), from GET /api/v1/report?year=YYYY.

import { get, isQuiet } from './api.js';
import { h, formatNumber, formatPercent, formatDate, createStateArea, setChildren, OUTCOME_LABELS } from './dom.js';
import { financialYearStart, financialYearLabel, todayIso } from './ranges.js';
import { createPanelSet, updatePanelSet, hasReferralFigures, referralSummary } from './panels.js';
import { feedbackSummary } from './panel-feedback.js';
import { createTable } from './charts.js';
import { csvUploadForm } from './csv-upload.js';

const FIRST_YEAR = 2011; // Safer Streets began in 2011
const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const SOURCE_LABELS = { baseline: 'Earlier records', recorded: 'This system', both: 'Earlier records and this system' };
const BASELINE_HEADER = 'financial_year,households_visited,visits,smoke_detectors_fitted,cards_distributed';

/**
 * "Since the launch": every financial year from the first of the loaded baseline or of the
 * records up to the report's, and their sums; with a form (not printed) that loads the baseline.
 */
function historySection(onLoaded) {
  const line = h('p', { class: 'report-summary-line', 'data-testid': 'history-summary' });
  const table = createTable({
    caption: 'Year by year', testid: 'history-table',
    columns: [{ label: 'Financial year' }, { label: 'Figures from' }, { label: 'Households visited', numeric: true },
      { label: 'Completed visits', numeric: true }, { label: OUTCOME_LABELS.smoke_detectors_fitted, numeric: true },
      { label: 'Card holders', numeric: true }],
  });
  const upload = csvUploadForm({
    idPrefix: 'baseline', label: 'Figures of earlier years (CSV)', path: '/api/v1/baseline',
    hint: ['One line a financial year, with the header ', h('code', null, BASELINE_HEADER),
      ', for example ', h('code', null, '2011/12,310,420,95,0'), '. Give only what this system does not hold ',
      '(years before it, or the months of its first year before it started): the report adds the two. ',
      'The file replaces any loaded before; a file with the header alone removes them.'],
    submitText: 'Load earlier years', busyText: 'Loading…', refusedTitle: 'Nothing was loaded', maxBytes: 60 * 1024,
    done: (answer) => `Loaded ${formatNumber(num(answer && answer.years))} earlier years.`,
    onDone: onLoaded,
  });
  const element = h('section', { class: 'report-history', 'aria-labelledby': 'report-history-heading', 'data-testid': 'history' },
    h('h2', { id: 'report-history-heading' }, 'Since the launch'), line, table.element,
    h('details', { class: 'no-print baseline-load' }, h('summary', null, 'Load the figures of earlier years'),
      upload.form, upload.result));

  function update(history) {
    const years = (history && Array.isArray(history.years)) ? history.years : [];
    const since = (history && history.since) || {};
    line.textContent = years.length
      ? `Since ${since.financial_year}: ${formatNumber(num(since.households_visited_year_by_year))} households visited ` +
        `(counted in each year they were visited), ${formatNumber(num(since.visits))} completed visits, ` +
        `${formatNumber(num(since.smoke_detectors_fitted))} smoke detectors fitted and ` +
        `${formatNumber(num(since.cards_distributed))} Commute Aware card holders.`
      : 'No earlier years: load their figures below to report since the launch.';
    const cells = (row) => [num(row.households_visited), num(row.visits), num(row.smoke_detectors_fitted), num(row.cards_distributed)];
    table.setRows(years.map((row) => ({
      attrs: { 'data-testid': 'history-row', 'data-year': row.financial_year, 'data-source': row.source },
      cells: [row.financial_year, SOURCE_LABELS[row.source] || row.source, ...cells(row).map(formatNumber)],
      cellAttrs: [null, null, ...cells(row).map((value) => ({ 'data-value': String(value) }))],
    })), years.length ? [{
      cells: [`Since ${since.financial_year}`, '', ...cells({ ...since, households_visited: since.households_visited_year_by_year }).map(formatNumber)],
      cellAttrs: [null, null, ...cells({ ...since, households_visited: since.households_visited_year_by_year })
        .map((value) => ({ 'data-value': String(value) }))],
    }] : [], 'No figures yet.');
  }
  return { element, update };
}

function readYear(params) {
  const text = params.get('year') || '';
  const year = /^\d{4}$/.test(text) ? Number(text) : NaN;
  return year >= 2000 && year <= 2100 ? year : financialYearStart();
}

const titleFor = (fyLabel) => `Safer Streets and Commute Aware — annual review ${fyLabel}`;

/** One figure of the year: <div><dt>text</dt><dd data-testid data-value>value.text</dd>[<dd>note</dd>]</div>. */
function summaryItem(text, value, testid, note) {
  return h('div', { class: 'figure' },
    h('dt', { class: 'figure-label' }, text),
    h('dd', { class: 'figure-value', 'data-testid': testid, 'data-value': String(value.raw) }, value.text),
    note ? h('dd', { class: 'figure-note' }, note) : null);
}

/** What the two programmes are, for readers of the printed report. */
function reportIntro() {
  return h('section', { class: 'report-intro', 'aria-labelledby': 'report-about' },
    h('h2', { id: 'report-about' }, 'About these programmes'),
    h('p', null, h('strong', null, 'Safer Streets'), ' is a multi-agency project of the Hertsmere Community Safety Partnership: ',
      'a team of officers visits vulnerable households to offer free crime prevention advice, free home fire safety checks ',
      'and smoke detectors fitted free of charge, advice on leading a healthier lifestyle, information on how to become more ',
      'involved in the local community, and free first aid training.'),
    h('p', null, h('strong', null, 'Commute Aware'), ' gives community safety advice to residents leaving the borough by train: ',
      'PCSOs hand out CSP-branded travel card holders carrying key messages — lock vehicles, secure windows and doors at home, ',
      'secure garden tools, keep personal belongings safe — as commuters enter the station.'));
}

function mount(root, params, ctx) {
  let year = readYear(params);
  let alive = true;
  if (params.get('year') !== String(year)) {
    // Put the year in the address so that the page can be bookmarked (no new history entry).
    window.history.replaceState(null, '', `#/report?year=${year}`);
  }
  let requestId = 0;

  const currentStart = financialYearStart();
  const yearSelect = h('select', { id: 'report-year', 'data-testid': 'report-year' });
  for (let y = Math.max(currentStart, year); y >= Math.min(FIRST_YEAR, year); y -= 1) {
    yearSelect.append(h('option', { value: String(y) }, `${financialYearLabel(y)} (April ${y} – March ${y + 1})`));
  }
  yearSelect.value = String(year);
  yearSelect.addEventListener('change', () => ctx.navigate('report', { year: yearSelect.value }));

  const printButton = h('button', { type: 'button', class: 'button', id: 'report-print', 'data-testid': 'report-print' }, 'Print');
  printButton.addEventListener('click', () => window.print());

  const title = h('h1', { tabindex: '-1', 'data-testid': 'report-title' }, titleFor(financialYearLabel(year)));
  const period = h('p', { class: 'report-period', 'data-testid': 'report-period' });
  const state = createStateArea('report-state');
  const summary = h('dl', { class: 'figures figures-report', 'data-testid': 'report-summary' });
  const referralLine = h('p', { class: 'report-summary-line', 'data-testid': 'referrals-summary' });
  const feedbackLine = h('p', { class: 'report-summary-line', 'data-testid': 'feedback-summary' });

  const panels = createPanelSet({}, 'month');
  const history = historySection(() => load());

  const body = h('div', { class: 'report-body', 'data-testid': 'report', hidden: true },
    reportIntro(),
    h('section', { 'aria-labelledby': 'report-summary-heading' },
      h('h2', { id: 'report-summary-heading' }, 'The year in figures'), summary, referralLine, feedbackLine),
    history.element,
    h('div', { class: 'panel-grid' }, panels.status.element, panels.outcomes.element),
    h('div', { class: 'panel-grid' }, panels.feedback.element, panels.feedbackWards.element),
    h('div', { class: 'panel-grid' }, panels.referrals.element),
    h('div', { class: 'panel-grid' }, panels.wards.element, panels.vulnerability.element),
    h('div', { class: 'panel-grid' }, panels.visitsSeries.element),
    h('div', { class: 'panel-grid' }, panels.stations.element, panels.cardsSeries.element),
    h('div', { class: 'panel-grid' }, panels.messages.element));

  root.classList.add('page-report');
  root.append(
    h('div', { class: 'report-controls no-print' },
      h('div', { class: 'field field-inline' }, h('label', { for: yearSelect.id }, 'Financial year'), yearSelect),
      printButton),
    h('header', { class: 'report-header' }, title, period),
    state.element,
    body);

  function render(report) {
    const stats = report.stats || {};
    const visits = stats.visits || {};
    const byStatus = visits.by_status || {};
    const outcomes = stats.outcomes || {};
    const households = stats.households || {};
    const commute = stats.commute_aware || {};
    const fy = report.financial_year || financialYearLabel(year);
    const n = (value) => ({ text: formatNumber(num(value)), raw: num(value) });

    title.textContent = titleFor(fy);
    document.title = `${titleFor(fy)} — Safer Streets dashboard`;
    period.textContent = `${formatDate(report.from, true)} to ${formatDate(report.to, true)} · Hertsmere Community Safety Partnership · ` +
      `produced ${formatDate(todayIso(), true)}`;

    setChildren(summary,
      summaryItem('Household visits', n(visits.total), 'visits-total'),
      summaryItem('Completed visits', n(byStatus.completed), 'visits-completed'),
      summaryItem('Households visited', typeof households.reached === 'number' ? n(households.reached) : { text: '—', raw: '' },
        'households-reached', 'any household, target or not, each once'),
      summaryItem('Target households visited', n(households.visited), 'households-visited',
        `of ${formatNumber(num(households.target))} target households`),
      summaryItem('Target households', n(households.target), 'households-target'),
      summaryItem('Household coverage', { text: formatPercent(num(households.coverage)), raw: num(households.coverage) }, 'coverage'),
      summaryItem(OUTCOME_LABELS.smoke_detectors_fitted, n(outcomes.smoke_detectors_fitted), 'smoke-detectors-fitted'),
      summaryItem('First aid training given', n(outcomes.first_aid_training), 'first-aid-training'),
      summaryItem('Commute Aware cards', n(commute.cards_distributed), 'cards-total',
        `in ${formatNumber(num(commute.sessions))} station sessions`),
      summaryItem('Visits with a referral', hasReferralFigures(stats.referrals) ? n(stats.referrals.visits) : { text: '—', raw: '' },
        'referred-visits', 'to partner services'));
    referralLine.textContent = referralSummary(stats.referrals);
    feedbackLine.textContent = `Residents' feedback: ${feedbackSummary(stats.answers)}`;

    updatePanelSet(panels, report, ` (${fy})`, 'month');
    history.update(report.history);

    body.dataset.year = String(year);
    body.hidden = false;
  }

  async function load() {
    const id = ++requestId;
    title.textContent = titleFor(financialYearLabel(year));
    period.textContent = '';
    body.hidden = true;
    state.set('loading', `Loading the ${financialYearLabel(year)} figures…`);
    try {
      const report = await get('/api/v1/report', { year });
      if (!alive || id !== requestId) return;
      state.set('none');
      render(report);
    } catch (error) {
      if (!alive || id !== requestId || isQuiet(error)) return;
      state.set('error', error.message, load);
    }
  }

  load();

  return {
    update(nextParams) {
      const next = readYear(nextParams);
      if (next === year) return;
      year = next;
      if (![...yearSelect.options].some((o) => o.value === String(year))) {
        yearSelect.append(h('option', { value: String(year) }, financialYearLabel(year)));
      }
      yearSelect.value = String(year);
      load();
    },
    unmount() {
      alive = false;
      for (const panel of Object.values(panels)) panel.destroy();
    },
  };
}

export default { key: 'report', title: 'Annual report', mount };
