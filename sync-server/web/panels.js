// panels.js — the chart-and-table panels shared by the overview and the annual report.
// Each function returns a panel from charts.js: {element, update(data), destroy()}.

import {
  formatNumber, formatPercent, formatDate, formatMonth,
  STATUSES, STATUS_LABELS, OUTCOMES, OUTCOME_LABELS, REFERRALS, REFERRAL_LABELS, SHARE_BASES, SHARE_BASIS_LABELS,
  partnerOptions, partnerLabel, MESSAGES, MESSAGE_LABELS, VULNERABILITIES, VULNERABILITY_LABELS,
} from './dom.js';
import { createChartPanel, barOptions, COLOURS, STATUS_COLOURS, SERIES_COLOURS } from './charts.js';
import { feedbackPanel, feedbackWardPanel, extraOutcomesOf } from './panel-feedback.js';

const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const sum = (values) => values.reduce((total, value) => total + num(value), 0);
const numberCell = (value) => ({ 'data-value': String(num(value)) });

function listPhrase(pairs) {
  return pairs.map(([name, value]) => `${name} ${formatNumber(num(value))}`).join(', ');
}

// ---------------------------------------------------------------------------------------------

/** data: stats.visits.by_status */
export function statusPanel({ headingLevel = 2, rangeText = '' } = {}) {
  return createChartPanel({
    title: 'Visits by status', headingLevel, testid: 'panel-status',
    chartOptions: barOptions({ yTitle: 'Visits' }),
    table: {
      caption: `Visits by status${rangeText}`, testid: 'status-table',
      columns: [{ label: 'Status' }, { label: 'Visits', numeric: true }],
    },
    toChart: (byStatus) => ({
      labels: STATUSES.map((s) => STATUS_LABELS[s]),
      datasets: [{
        label: 'Visits',
        data: STATUSES.map((s) => num(byStatus[s])),
        backgroundColor: STATUSES.map((s) => STATUS_COLOURS[s]),
        borderColor: '#1b1b1b', borderWidth: 1,
      }],
    }),
    describe: (byStatus) => `Bar chart of visits by status: ${
      listPhrase(STATUSES.map((s) => [STATUS_LABELS[s], byStatus[s]]))}; ${
      formatNumber(sum(STATUSES.map((s) => byStatus[s])))} visits in all.`,
    rows: (byStatus) => ({
      rows: STATUSES.map((s) => ({
        attrs: { 'data-testid': 'status-row', 'data-status': s },
        cells: [STATUS_LABELS[s], formatNumber(num(byStatus[s]))],
        cellAttrs: [null, numberCell(byStatus[s])],
      })),
      footRows: [{ cells: ['All visits', formatNumber(sum(STATUSES.map((s) => byStatus[s])))],
        cellAttrs: [null, { 'data-testid': 'status-total' }] }],
    }),
  });
}

/**
 * The outcome rows: the built-in outcomes, then the server's extra yes/no outcomes (protocol.md
 * §5.8) by their labels, each {key, label, count}.
 */
function outcomeRows({ outcomes, answers }) {
  return [
    ...OUTCOMES.map((o) => ({ key: o, label: OUTCOME_LABELS[o], count: outcomes[o] })),
    ...extraOutcomesOf(answers).map(([id, q]) => ({ key: id, label: q.label, count: q.answered })),
  ];
}

/** data: {outcomes: stats.outcomes, answers: stats.answers, completed: stats.visits.by_status.completed} */
export function outcomesPanel({ headingLevel = 2, rangeText = '' } = {}) {
  return createChartPanel({
    title: 'Outcomes of visits', headingLevel, testid: 'panel-outcomes',
    intro: 'How many visits gave each kind of help; for smoke detectors, how many were fitted.',
    size: 'tall',
    chartOptions: barOptions({ horizontal: true, xTitle: 'Visits (smoke detectors: number fitted)' }),
    table: {
      caption: `Outcomes of visits${rangeText}`, testid: 'outcomes-table',
      columns: [{ label: 'Outcome' }, { label: 'Number', numeric: true },
        { label: 'Share of completed visits', numeric: true }],
    },
    toChart: (data) => ({
      labels: outcomeRows(data).map((r) => r.label),
      datasets: [{
        label: 'Number',
        data: outcomeRows(data).map((r) => num(r.count)),
        backgroundColor: outcomeRows(data).map((r) => (r.key === 'smoke_detectors_fitted' ? COLOURS.vermilion : COLOURS.blue)),
        borderColor: '#1b1b1b', borderWidth: 1,
      }],
    }),
    describe: (data) => `Bar chart of visit outcomes: ${listPhrase(outcomeRows(data).map((r) => [r.label, r.count]))}.`,
    rows: (data) => ({
      rows: outcomeRows(data).map((r) => ({
        attrs: { 'data-testid': 'outcome-row', 'data-outcome': r.key },
        cells: [
          r.key === 'smoke_detectors_fitted' ? `${r.label} (number fitted)` : r.label,
          formatNumber(num(r.count)),
          r.key === 'smoke_detectors_fitted' || !num(data.completed) ? '—' : formatPercent(num(r.count) / num(data.completed)),
        ],
        cellAttrs: [null, numberCell(r.count), null],
      })),
    }),
  });
}

// ---------------------------------------------------------------------------------------------
// Referrals and consent to share (stats.referrals; absent from a server older than share_basis)

/** The rows of the referrals panel: each lawful basis, then the visits whose writer recorded none. */
export const BASIS_ROWS = [...SHARE_BASES, 'not_recorded'];
const BASIS_ROW_LABELS = { ...SHARE_BASIS_LABELS, not_recorded: 'Not recorded (older tablet)' };
const BASIS_COLOURS = {
  consent: COLOURS.blue, vital_interests: COLOURS.vermilion, safeguarding: COLOURS.purple, not_recorded: COLOURS.grey,
};
const NO_REFERRAL_FIGURES = 'No figures: this server does not count referrals by their basis for sharing.';

/** True when the answer carries the referral counts (a server that knows share_basis). */
export function hasReferralFigures(referrals) {
  return Boolean(referrals && typeof referrals === 'object' && referrals.by_share_basis &&
    typeof referrals.by_share_basis === 'object');
}

/**
 * One sentence on the referrals of a period, for the report's summary and the chart's text
 * description: "Of 5 visits with a referral, 4 recorded a lawful basis for sharing: …".
 */
export function referralSummary(referrals) {
  if (!hasReferralFigures(referrals)) return NO_REFERRAL_FIGURES;
  const total = num(referrals.visits);
  if (total === 0) return 'No visit in this period made a referral to a partner.';
  const byBasis = referrals.by_share_basis;
  const recorded = sum(SHARE_BASES.map((b) => byBasis[b]));
  const visitsWord = (n) => (n === 1 ? 'visit' : 'visits');
  return `Of ${formatNumber(total)} ${visitsWord(total)} with a referral to a partner, ${formatNumber(recorded)} ` +
    `recorded a lawful basis for sharing (${listPhrase(SHARE_BASES.map((b) => [BASIS_ROW_LABELS[b], byBasis[b]]))}); ` +
    `${formatNumber(num(byBasis.not_recorded))} came from older tablets that do not record one.`;
}

// Referrals per partner (stats.referrals.by_partner and sent_by_partner; absent from a server
// older than the referrals table).
const NO_PARTNER_FIGURES = 'No figures: this server does not count referrals by partner.';

/** True when the answer carries the per-partner counts. */
export function hasPartnerFigures(referrals) {
  return Boolean(referrals && typeof referrals === 'object' && referrals.by_partner &&
    typeof referrals.by_partner === 'object' && referrals.sent_by_partner && typeof referrals.sent_by_partner === 'object');
}

/** The partners to show: the built-in ones, the server's own, then any other the server counted. */
function partnersOf(referrals) {
  if (!hasPartnerFigures(referrals)) return [];
  const known = partnerOptions(referrals).map(([id]) => id);
  return [...known, ...Object.keys(referrals.by_partner).filter((p) => !known.includes(p)).sort()];
}

/** "Fire service 3 (2 passed on), …": one sentence on the referrals per partner. */
export function partnerSummary(referrals) {
  if (!hasPartnerFigures(referrals)) return NO_PARTNER_FIGURES;
  const partners = partnersOf(referrals);
  const total = sum(partners.map((p) => referrals.by_partner[p]));
  if (total === 0) return 'No referral to a partner in this period.';
  const sent = sum(partners.map((p) => referrals.sent_by_partner[p]));
  return `${formatNumber(total)} ${total === 1 ? 'referral' : 'referrals'} to partners, ${formatNumber(sent)} passed on: ` +
    `${partners.map((p) => `${partnerLabel(referrals, p)} ${formatNumber(num(referrals.by_partner[p]))} ` +
      `(${formatNumber(num(referrals.sent_by_partner[p]))} passed on)`).join(', ')}.`;
}

/** The per-partner part of the referrals panel: a stacked chart, its table and its text. */
function partnerPart({ headingLevel, rangeText }) {
  const unsent = (referrals, p) => num(referrals.by_partner[p]) - num(referrals.sent_by_partner[p]);
  return createChartPanel({
    title: 'Referrals by partner', headingLevel, testid: 'panel-referral-partners',
    intro: 'Each referral of a visit to a partner, and how many a coordinator has marked as passed on ' +
      '(the "Referrals to pass on" page). A visit referred to two partners counts once for each.',
    chartOptions: barOptions({ horizontal: true, stacked: true, legend: true, xTitle: 'Referrals' }),
    table: {
      caption: `Referrals by partner${rangeText}`, testid: 'referral-partners-table',
      columns: [{ label: 'Partner' }, { label: 'Referrals', numeric: true }, { label: 'Passed on', numeric: true },
        { label: 'Not yet passed on', numeric: true }],
    },
    toChart: (referrals) => ({
      labels: partnersOf(referrals).map((p) => partnerLabel(referrals, p)),
      datasets: [
        { label: 'Passed on', data: partnersOf(referrals).map((p) => num(referrals.sent_by_partner[p])),
          backgroundColor: COLOURS.blue, borderColor: '#1b1b1b', borderWidth: 1 },
        { label: 'Not yet passed on', data: partnersOf(referrals).map((p) => unsent(referrals, p)),
          backgroundColor: COLOURS.orange, borderColor: '#1b1b1b', borderWidth: 1 },
      ],
    }),
    describe: (referrals) => `Bar chart of referrals by partner, passed on and not yet. ${partnerSummary(referrals)}`,
    rows: (referrals) => {
      if (!hasPartnerFigures(referrals)) return { rows: [], emptyText: NO_PARTNER_FIGURES };
      const partners = partnersOf(referrals);
      const totals = [sum(partners.map((p) => referrals.by_partner[p])), sum(partners.map((p) => referrals.sent_by_partner[p]))];
      return {
        rows: partners.map((p) => ({
          attrs: { 'data-testid': 'partner-row', 'data-partner': p },
          cells: [partnerLabel(referrals, p), formatNumber(num(referrals.by_partner[p])), formatNumber(num(referrals.sent_by_partner[p])),
            formatNumber(unsent(referrals, p))],
          cellAttrs: [null, numberCell(referrals.by_partner[p]), numberCell(referrals.sent_by_partner[p]),
            numberCell(unsent(referrals, p))],
        })),
        footRows: [{ cells: ['All partners', formatNumber(totals[0]), formatNumber(totals[1]), formatNumber(totals[0] - totals[1])],
          cellAttrs: [null, { 'data-testid': 'partner-referrals-total', ...numberCell(totals[0]) }, numberCell(totals[1]),
            numberCell(totals[0] - totals[1])] }],
      };
    },
  });
}

/**
 * data: stats.referrals ({visits, by_share_basis, by_partner, sent_by_partner}), or undefined
 * from an older server. The panel: visits by basis for sharing, then referrals by partner.
 */
export function referralsPanel({ headingLevel = 2, rangeText = '' } = {}) {
  const byBasis = basisPart({ headingLevel, rangeText });
  const byPartner = partnerPart({ headingLevel: headingLevel + 1, rangeText });
  byBasis.element.append(byPartner.element);
  return {
    element: byBasis.element,
    update: (referrals) => { byBasis.update(referrals); byPartner.update(referrals); },
    destroy: () => { byBasis.destroy(); byPartner.destroy(); },
    /** Both tables' captions, ending with the range: " (2026-27)". */
    setRangeText: (text) => {
      byBasis.setCaption(`Referrals by basis for sharing${text}`);
      byPartner.setCaption(`Referrals by partner${text}`);
    },
  };
}

function basisPart({ headingLevel, rangeText }) {
  const partners = `${REFERRALS.map((r) => REFERRAL_LABELS[r].toLowerCase()).join(', ')} or a partner the partnership added`;
  const counted = (referrals) => (hasReferralFigures(referrals) ? BASIS_ROWS : []);
  return createChartPanel({
    title: 'Referrals and consent to share', headingLevel, testid: 'panel-referrals',
    intro: `Visits (of any status) that referred the household to a partner — ${partners} — by the ` +
      'lawful basis recorded for sharing its details. "Not recorded" counts visits written by a tablet ' +
      'that predates consent to share, which could not record a basis.',
    chartOptions: barOptions({ horizontal: true, xTitle: 'Visits with a referral' }),
    table: {
      caption: `Referrals by basis for sharing${rangeText}`, testid: 'referrals-table',
      columns: [{ label: 'Basis for sharing' }, { label: 'Visits', numeric: true },
        { label: 'Share of visits with a referral', numeric: true }],
    },
    toChart: (referrals) => ({
      labels: counted(referrals).map((b) => BASIS_ROW_LABELS[b]),
      datasets: [{
        label: 'Visits',
        data: counted(referrals).map((b) => num(referrals.by_share_basis[b])),
        backgroundColor: counted(referrals).map((b) => BASIS_COLOURS[b]),
        borderColor: '#1b1b1b', borderWidth: 1,
      }],
    }),
    describe: (referrals) => (hasReferralFigures(referrals)
      ? `Bar chart of visits with a referral by basis for sharing. ${referralSummary(referrals)}`
      : `Referrals and consent to share: ${NO_REFERRAL_FIGURES}`),
    rows: (referrals) => {
      if (!hasReferralFigures(referrals)) return { rows: [], emptyText: NO_REFERRAL_FIGURES };
      const total = num(referrals.visits);
      const byBasis = referrals.by_share_basis;
      return {
        rows: BASIS_ROWS.map((b) => ({
          attrs: { 'data-testid': 'referral-row', 'data-basis': b },
          cells: [BASIS_ROW_LABELS[b], formatNumber(num(byBasis[b])), total ? formatPercent(num(byBasis[b]) / total) : '—'],
          cellAttrs: [null, numberCell(byBasis[b]), null],
        })),
        footRows: [{ cells: ['Visits with a referral', formatNumber(total), total ? formatPercent(1) : '—'],
          cellAttrs: [null, { 'data-testid': 'referrals-total', ...numberCell(total) }, null] }],
      };
    },
  });
}

/** data: {coverage_by_ward, by_ward: stats.visits.by_ward, households: stats.households} */
export function wardPanel({ headingLevel = 2, rangeText = '' } = {}) {
  const wards = (data) => data.coverage_by_ward || [];
  return createChartPanel({
    title: 'Household coverage by ward', headingLevel, testid: 'panel-wards', size: 'ward', wide: true,
    intro: 'Target households, and how many of them had a completed visit in the period.',
    chartOptions: barOptions({ horizontal: true, legend: true, xTitle: 'Households' }),
    table: {
      caption: `Household coverage by ward${rangeText}`, testid: 'ward-table',
      columns: [{ label: 'Ward' }, { label: 'Target households', numeric: true },
        { label: 'Visited', numeric: true }, { label: 'Coverage', numeric: true },
        { label: 'Visits (all statuses)', numeric: true }],
    },
    toChart: (data) => ({
      labels: wards(data).map((w) => w.ward),
      datasets: [
        { label: 'Target', data: wards(data).map((w) => num(w.target)),
          backgroundColor: COLOURS.paleBlue, borderColor: COLOURS.blue, borderWidth: 1 },
        { label: 'Visited', data: wards(data).map((w) => num(w.visited)),
          backgroundColor: COLOURS.blue, borderColor: '#1b1b1b', borderWidth: 1 },
      ],
    }),
    describe: (data) => {
      const list = wards(data).filter((w) => num(w.target) > 0);
      const { households = {} } = data;
      let text = `Bar chart of target and visited households in ${wards(data).length} wards; overall ` +
        `${formatNumber(num(households.visited))} of ${formatNumber(num(households.target))} target households visited ` +
        `(${formatPercent(num(households.coverage))}).`;
      if (list.length > 0) {
        const sorted = [...list].sort((a, b) => num(b.coverage) - num(a.coverage));
        const top = sorted[0];
        const bottom = sorted[sorted.length - 1];
        text += ` Highest coverage: ${top.ward} (${formatPercent(num(top.coverage))}); lowest: ${bottom.ward} (${formatPercent(num(bottom.coverage))}).`;
      }
      return text;
    },
    rows: (data) => {
      const byWard = data.by_ward || {};
      const households = data.households || {};
      return {
        rows: wards(data).map((w) => ({
          attrs: { 'data-testid': 'ward-row', 'data-ward': w.ward },
          cells: [w.ward, formatNumber(num(w.target)), formatNumber(num(w.visited)),
            num(w.target) > 0 ? formatPercent(num(w.coverage)) : '—', formatNumber(num(byWard[w.ward]))],
          cellAttrs: [{ 'data-testid': 'ward-name' },
            { 'data-testid': 'ward-target', ...numberCell(w.target) },
            { 'data-testid': 'ward-visited', ...numberCell(w.visited) },
            { 'data-testid': 'ward-coverage', ...numberCell(w.coverage) },
            { 'data-testid': 'ward-visits', ...numberCell(byWard[w.ward]) }],
        })),
        footRows: [{
          cells: ['All wards', formatNumber(num(households.target)), formatNumber(num(households.visited)),
            formatPercent(num(households.coverage)), formatNumber(sum(Object.values(byWard)))],
        }],
        emptyText: 'No wards.',
      };
    },
  });
}

/** data: stats.commute_aware */
export function stationPanel({ headingLevel = 2, rangeText = '' } = {}) {
  const entries = (ca) => Object.entries((ca && ca.by_station) || {});
  return createChartPanel({
    title: 'Commute Aware cards by station', headingLevel, testid: 'panel-stations',
    chartOptions: barOptions({ yTitle: 'Cards distributed' }),
    table: {
      caption: `Commute Aware card holders distributed, by station${rangeText}`, testid: 'station-table',
      columns: [{ label: 'Station' }, { label: 'Cards distributed', numeric: true }],
    },
    toChart: (ca) => ({
      labels: entries(ca).map(([station]) => station),
      datasets: [{
        label: 'Cards',
        data: entries(ca).map(([, cards]) => num(cards)),
        backgroundColor: entries(ca).map((_, i) => SERIES_COLOURS[i % SERIES_COLOURS.length]),
        borderColor: '#1b1b1b', borderWidth: 1,
      }],
    }),
    describe: (ca) => `Bar chart of Commute Aware cards by station: ${listPhrase(entries(ca))}; ` +
      `${formatNumber(num(ca.cards_distributed))} cards in ${formatNumber(num(ca.sessions))} sessions.`,
    rows: (ca) => ({
      rows: entries(ca).map(([station, cards]) => ({
        attrs: { 'data-testid': 'station-row', 'data-station': station },
        cells: [station, formatNumber(num(cards))],
        cellAttrs: [null, numberCell(cards)],
      })),
      footRows: [{ cells: [`All stations (${formatNumber(num(ca.sessions))} sessions)`, formatNumber(num(ca.cards_distributed))] }],
      emptyText: 'No stations.',
    }),
  });
}

// ---------------------------------------------------------------------------------------------
// Time series: weeks (Monday dates, only weeks with activity) or months ("YYYY-MM", all listed)

function nextPeriod(key, period) {
  if (period === 'week') {
    const [y, m, d] = key.split('-').map(Number);
    const date = new Date(Date.UTC(y, m - 1, d + 7));
    return date.toISOString().slice(0, 10);
  }
  const [y, m] = key.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** The rows with the periods between them filled with empty rows (for an honest time axis). */
function fillPeriods(rows, field, period, empty) {
  if (rows.length < 2) return rows;
  const byKey = new Map(rows.map((row) => [row[field], row]));
  const last = rows[rows.length - 1][field];
  const filled = [];
  for (let key = rows[0][field], guard = 0; key <= last && guard < 2000; key = nextPeriod(key, period), guard += 1) {
    filled.push(byKey.get(key) || empty(key));
  }
  return filled;
}

function periodText(period, key, long = false) {
  return period === 'week' ? formatDate(key, long) : formatMonth(key, long);
}

/** data: visits_per_week or visits_per_month rows. */
export function visitsSeriesPanel({ period, headingLevel = 2, rangeText = '' }) {
  const field = period;
  const unit = period === 'week' ? 'week' : 'month';
  const filled = (rows) => fillPeriods(rows || [], field, period, (key) => ({ [field]: key }));
  const total = (row) => sum(STATUSES.map((s) => row[s]));
  return createChartPanel({
    title: `Visits per ${unit}`, headingLevel, testid: `panel-visits-${unit}`, wide: true,
    intro: period === 'week' ? 'Weeks start on Monday; weeks with no visits are left out of the table.' : null,
    chartOptions: barOptions({ stacked: true, legend: true, yTitle: 'Visits' }),
    table: {
      caption: `Visits per ${unit}, by status${rangeText}`, testid: `visits-${unit}-table`, scroll: period === 'week',
      columns: [{ label: period === 'week' ? 'Week beginning' : 'Month' },
        ...STATUSES.map((s) => ({ label: STATUS_LABELS[s], numeric: true })), { label: 'Total', numeric: true }],
    },
    toChart: (rows) => ({
      labels: filled(rows).map((row) => periodText(period, row[field])),
      datasets: STATUSES.map((s) => ({
        label: STATUS_LABELS[s], data: filled(rows).map((row) => num(row[s])),
        backgroundColor: STATUS_COLOURS[s], borderColor: '#ffffff', borderWidth: 1,
      })),
    }),
    describe: (rows) => {
      const list = rows || [];
      if (list.length === 0) return `Stacked bar chart of visits per ${unit}: no visits in this period.`;
      const busiest = list.reduce((best, row) => (total(row) > total(best) ? row : best), list[0]);
      return `Stacked bar chart of visits per ${unit} by status, from ${periodText(period, list[0][field])} to ` +
        `${periodText(period, list[list.length - 1][field])}: ${formatNumber(sum(list.map(total)))} visits in all; ` +
        `busiest ${unit}: ${periodText(period, busiest[field])} with ${formatNumber(total(busiest))}.`;
    },
    rows: (rows) => {
      const list = rows || [];
      return {
        rows: list.map((row) => ({
          attrs: { 'data-testid': `${unit}-row`, [`data-${unit}`]: row[field] },
          cells: [periodText(period, row[field], true), ...STATUSES.map((s) => formatNumber(num(row[s]))), formatNumber(total(row))],
          cellAttrs: [null, ...STATUSES.map((s) => ({ 'data-status': s, ...numberCell(row[s]) })), numberCell(total(row))],
        })),
        footRows: list.length ? [{ cells: ['Total', ...STATUSES.map((s) => formatNumber(sum(list.map((r) => r[s])))),
          formatNumber(sum(list.map(total)))] }] : [],
        emptyText: 'No visits in this period.',
      };
    },
  });
}

/** data: {rows: cards_per_week or cards_per_month, stations: [names in display order]} */
export function cardsSeriesPanel({ period, headingLevel = 2, rangeText = '' }) {
  const field = period;
  const unit = period === 'week' ? 'week' : 'month';
  const stationsOf = ({ rows, stations }) => {
    const names = [...(stations || [])];
    for (const row of rows || []) {
      for (const name of Object.keys(row.by_station || {})) if (!names.includes(name)) names.push(name);
    }
    return names;
  };
  const cards = (row, station) => num((row.by_station || {})[station]);
  const filled = (rows) => fillPeriods(rows || [], field, period, (key) => ({ [field]: key, total: 0, by_station: {} }));
  return createChartPanel({
    title: `Commute Aware cards per ${unit}`, headingLevel, testid: `panel-cards-${unit}`, wide: true,
    intro: period === 'week' ? 'Weeks start on Monday; weeks with no sessions are left out of the table.' : null,
    chartOptions: barOptions({ stacked: true, legend: true, yTitle: 'Cards distributed' }),
    table: {
      caption: `Commute Aware cards per ${unit}, by station${rangeText}`, testid: `cards-${unit}-table`,
      scroll: period === 'week', columns: [{ label: period === 'week' ? 'Week beginning' : 'Month' }],
    },
    toChart: (data) => ({
      labels: filled(data.rows).map((row) => periodText(period, row[field])),
      datasets: stationsOf(data).map((station, i) => ({
        label: station, data: filled(data.rows).map((row) => cards(row, station)),
        backgroundColor: SERIES_COLOURS[i % SERIES_COLOURS.length], borderColor: '#ffffff', borderWidth: 1,
      })),
    }),
    describe: (data) => {
      const list = data.rows || [];
      if (list.length === 0) return `Stacked bar chart of Commute Aware cards per ${unit}: none in this period.`;
      const stations = stationsOf(data);
      return `Stacked bar chart of Commute Aware cards per ${unit} by station, from ${periodText(period, list[0][field])} ` +
        `to ${periodText(period, list[list.length - 1][field])}: ${formatNumber(sum(list.map((r) => r.total)))} cards in all (` +
        `${listPhrase(stations.map((s) => [s, sum(list.map((r) => cards(r, s)))]))}).`;
    },
    rows: (data) => {
      const list = data.rows || [];
      const stations = stationsOf(data);
      return {
        columns: [{ label: period === 'week' ? 'Week beginning' : 'Month' },
          ...stations.map((s) => ({ label: s, numeric: true })), { label: 'Total', numeric: true }],
        rows: list.map((row) => ({
          attrs: { 'data-testid': `cards-${unit}-row`, [`data-${unit}`]: row[field] },
          cells: [periodText(period, row[field], true), ...stations.map((s) => formatNumber(cards(row, s))), formatNumber(num(row.total))],
          cellAttrs: [null, ...stations.map((s) => ({ 'data-station': s, ...numberCell(cards(row, s)) })), numberCell(row.total)],
        })),
        footRows: list.length ? [{ cells: ['Total', ...stations.map((s) => formatNumber(sum(list.map((r) => cards(r, s))))),
          formatNumber(sum(list.map((r) => r.total)))] }] : [],
        emptyText: 'No Commute Aware sessions in this period.',
      };
    },
  });
}


const GROUPS = [...VULNERABILITIES, 'none_recorded'];
const GROUP_LABELS = { ...VULNERABILITY_LABELS, none_recorded: 'None recorded' };
const NO_GROUP_FIGURES = 'this server does not count households by vulnerability.';

/**
 * data: stats.households. The households visited (reached) and their completed visits by the
 * vulnerabilities the register records for them now; a household counts under each of its groups.
 */
export function vulnerabilityPanel({ headingLevel = 2, rangeText = '' } = {}) {
  const counted = (households) => Boolean(households && households.by_vulnerability);
  const group = (households, g) => households.by_vulnerability[g] || {};
  return createChartPanel({
    title: 'Households visited by vulnerability', headingLevel, testid: 'panel-vulnerability',
    intro: 'Households with a completed visit in the period, and those visits, by the vulnerabilities the register ' +
      'records for the household now. A household with several counts under each, so the rows can add up to more ' +
      'than the households visited.',
    chartOptions: barOptions({ horizontal: true, xTitle: 'Households visited' }),
    table: {
      caption: `Households visited by vulnerability${rangeText}`, testid: 'vulnerability-table',
      columns: [{ label: 'Vulnerability' }, { label: 'Households visited', numeric: true },
        { label: 'Completed visits', numeric: true }],
    },
    toChart: (households) => ({
      labels: counted(households) ? GROUPS.map((g) => GROUP_LABELS[g]) : [],
      datasets: [{
        label: 'Households visited',
        data: counted(households) ? GROUPS.map((g) => num(group(households, g).households)) : [],
        backgroundColor: GROUPS.map((_, i) => SERIES_COLOURS[i % SERIES_COLOURS.length]),
        borderColor: '#1b1b1b', borderWidth: 1,
      }],
    }),
    describe: (households) => (counted(households)
      ? `Bar chart of households visited by vulnerability: ${listPhrase(GROUPS.map((g) => [GROUP_LABELS[g], group(households, g).households]))}.`
      : `Households visited by vulnerability: ${NO_GROUP_FIGURES}`),
    rows: (households) => {
      if (!counted(households)) return { rows: [], emptyText: NO_GROUP_FIGURES };
      return {
        rows: GROUPS.map((g) => ({
          attrs: { 'data-testid': 'vulnerability-row', 'data-group': g },
          cells: [GROUP_LABELS[g], formatNumber(num(group(households, g).households)),
            formatNumber(num(group(households, g).completed_visits))],
          cellAttrs: [null, numberCell(group(households, g).households), numberCell(group(households, g).completed_visits)],
        })),
        footRows: [{ cells: ['Households visited (each once)', formatNumber(num(households.reached)), ''],
          cellAttrs: [null, numberCell(households.reached), null] }],
      };
    },
  });
}

const NO_MESSAGE_FIGURES = 'this server does not count the messages given.';

/**
 * data: stats.commute_aware. Each message's sessions and card holders, overall and by station
 * (a session that gave several messages counts under each); "no figures" from an older server.
 */
export function messagesPanel({ headingLevel = 2, rangeText = '' } = {}) {
  const counted = (ca) => Boolean(ca && ca.messages && ca.messages_by_station);
  const stationsOf = (ca) => (counted(ca) ? Object.keys(ca.messages_by_station) : []);
  const cell = (counts, message, field) => num(((counts || {})[message] || {})[field]);
  return createChartPanel({
    title: 'Commute Aware messages given', headingLevel, testid: 'panel-messages',
    intro: 'The card holders carry the key messages. For each message: the station sessions that gave it, and ' +
      'the card holders those sessions handed out. A session that gave several messages counts under each.',
    chartOptions: barOptions({ horizontal: true, xTitle: 'Card holders' }),
    table: {
      caption: `Commute Aware messages given${rangeText}`, testid: 'messages-table',
      columns: [{ label: 'Message' }, { label: 'Sessions', numeric: true }, { label: 'Card holders', numeric: true }],
    },
    toChart: (ca) => ({
      labels: counted(ca) ? MESSAGES.map((m) => MESSAGE_LABELS[m]) : [],
      datasets: [{
        label: 'Card holders',
        data: counted(ca) ? MESSAGES.map((m) => cell(ca.messages, m, 'cards')) : [],
        backgroundColor: MESSAGES.map((_, i) => SERIES_COLOURS[i % SERIES_COLOURS.length]),
        borderColor: '#1b1b1b', borderWidth: 1,
      }],
    }),
    describe: (ca) => (counted(ca)
      ? `Bar chart of card holders by message: ${listPhrase(MESSAGES.map((m) => [MESSAGE_LABELS[m], cell(ca.messages, m, 'cards')]))}.`
      : `Commute Aware messages: ${NO_MESSAGE_FIGURES}`),
    rows: (ca) => {
      const stations = stationsOf(ca);
      const columns = [{ label: 'Message' }, { label: 'Sessions', numeric: true }, { label: 'Card holders', numeric: true },
        ...stations.map((s) => ({ label: `Card holders at ${s}`, numeric: true }))];
      if (!counted(ca)) return { columns, rows: [], emptyText: NO_MESSAGE_FIGURES };
      return {
        columns,
        rows: MESSAGES.map((m) => ({
          attrs: { 'data-testid': 'message-row', 'data-message': m },
          cells: [MESSAGE_LABELS[m], formatNumber(cell(ca.messages, m, 'sessions')), formatNumber(cell(ca.messages, m, 'cards')),
            ...stations.map((s) => formatNumber(cell(ca.messages_by_station[s], m, 'cards')))],
          cellAttrs: [null, numberCell(cell(ca.messages, m, 'sessions')), numberCell(cell(ca.messages, m, 'cards')),
            ...stations.map((s) => ({ 'data-station': s, ...numberCell(cell(ca.messages_by_station[s], m, 'cards')) }))],
        })),
      };
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The whole set, as the overview (by week) and the annual report (by month) show it

/** All eleven panels; options go to each (headingLevel, rangeText); period: 'week' or 'month'. */
export function createPanelSet(options, period) {
  return {
    status: statusPanel(options),
    outcomes: outcomesPanel(options),
    referrals: referralsPanel(options),
    wards: wardPanel(options),
    vulnerability: vulnerabilityPanel(options),
    stations: stationPanel(options),
    messages: messagesPanel(options),
    feedback: feedbackPanel(options),
    feedbackWards: feedbackWardPanel(options),
    visitsSeries: visitsSeriesPanel({ ...options, period }),
    cardsSeries: cardsSeriesPanel({ ...options, period }),
  };
}

/**
 * Every panel's caption and numbers from an overview or report answer (the period's series are
 * visits_per_<period> and cards_per_<period>). text: what the captions end with, e.g. " (2026-27)".
 */
export function updatePanelSet(panels, answer, text, period) {
  const stats = answer.stats || {};
  const visits = stats.visits || {};
  const byStatus = visits.by_status || {};
  const commute = stats.commute_aware || {};
  panels.status.setCaption(`Visits by status${text}`);
  panels.outcomes.setCaption(`Outcomes of visits${text}`);
  panels.referrals.setRangeText(text);
  panels.wards.setCaption(`Household coverage by ward${text}`);
  panels.vulnerability.setCaption(`Households visited by vulnerability${text}`);
  panels.stations.setCaption(`Commute Aware card holders distributed, by station${text}`);
  panels.messages.setCaption(`Commute Aware messages given${text}`);
  panels.feedback.setCaption(`Residents' feedback${text}`);
  panels.feedbackWards.setCaption(`Residents' feedback by ward${text}`);
  panels.visitsSeries.setCaption(`Visits per ${period}, by status${text}`);
  panels.cardsSeries.setCaption(`Commute Aware cards per ${period}, by station${text}`);

  panels.status.update(byStatus);
  panels.outcomes.update({ outcomes: stats.outcomes || {}, answers: stats.answers, completed: byStatus.completed });
  panels.referrals.update(stats.referrals);
  panels.wards.update({ coverage_by_ward: answer.coverage_by_ward || [], by_ward: visits.by_ward || {}, households: stats.households || {} });
  panels.vulnerability.update(stats.households);
  panels.stations.update(commute);
  panels.messages.update(commute);
  panels.feedback.update(stats.answers);
  panels.feedbackWards.update(stats.answers);
  panels.visitsSeries.update(answer[`visits_per_${period}`] || []);
  panels.cardsSeries.update({ rows: answer[`cards_per_${period}`] || [], stations: Object.keys(commute.by_station || {}) });
}
