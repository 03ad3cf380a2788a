// panel-feedback.js — "Residents' feedback": the answers to the server's questions
// (protocol.md §5.8, stats.answers) for the overview and the annual report. Each function
// returns a panel from charts.js: {element, update(data), destroy(), setCaption()}.
// Labels come from the questions themselves; a server older than questions sends no answers.

import { formatNumber } from './dom.js';
import { createChartPanel, barOptions, SERIES_COLOURS } from './charts.js';

const SCALE = [1, 2, 3, 4, 5];
const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const numberCell = (value) => ({ 'data-value': String(num(value)) });
const NO_FEEDBACK_FIGURES = 'No figures: this server does not ask residents for feedback.';

const entriesOf = (answers, kind) => Object.entries(answers || {}).filter(([, q]) => q && q.kind === kind);
/** The scale questions of stats.answers, as [id, counts] in the server's order of ids. */
export const scalesOf = (answers) => entriesOf(answers, 'scale');
/** The extra yes/no outcomes of stats.answers, as [id, counts]. */
export const extraOutcomesOf = (answers) => entriesOf(answers, 'yes_no');
const textsOf = (answers) => entriesOf(answers, 'text');

/** "3.9" (one decimal), or "—" when nobody answered. */
export function formatMean(count) {
  return count && num(count.answered) > 0 && typeof count.mean === 'number' ? count.mean.toFixed(1) : '—';
}

/** One sentence on a scale question: "How safe …? 12 answered, mean 3.9 (1: 0, 2: 1, …)". */
function scaleSentence(question) {
  const counts = question.counts || {};
  return `${question.label}: ${formatNumber(num(question.answered))} answered, mean ${formatMean(question)} ` +
    `(${SCALE.map((v) => `${v}: ${formatNumber(num(counts[v]))}`).join(', ')})`;
}

/** One sentence on all feedback of a period, for the chart's description and the report's summary. */
export function feedbackSummary(answers) {
  if (!answers) return NO_FEEDBACK_FIGURES;
  const parts = scalesOf(answers).map(([, q]) => scaleSentence(q));
  for (const [, q] of textsOf(answers)) parts.push(`${q.label}: given on ${formatNumber(num(q.answered))} visits`);
  return parts.length > 0 ? `${parts.join('. ')}.` : 'No feedback questions are configured.';
}

/**
 * data: stats.answers (undefined from an older server). Per scale question, how many residents
 * gave each answer from 1 to 5, how many answered and the mean; then each text question's count.
 */
export function feedbackPanel({ headingLevel = 2, rangeText = '' } = {}) {
  return createChartPanel({
    title: "Residents' feedback", headingLevel, testid: 'panel-feedback', wide: true,
    intro: 'The questions asked at the door: how many residents gave each answer from 1 (not at all) to 5 (very), ' +
      'how many answered and the mean; and how many visits recorded a feedback text.',
    chartOptions: barOptions({ horizontal: true, stacked: true, legend: true, xTitle: 'Residents answering' }),
    table: {
      caption: `Residents' feedback${rangeText}`, testid: 'feedback-table',
      columns: [{ label: 'Question' }, ...SCALE.map((v) => ({ label: `Answered ${v}`, numeric: true })),
        { label: 'Answered', numeric: true }, { label: 'Mean (1–5)', numeric: true }],
    },
    toChart: (answers) => ({
      labels: scalesOf(answers).map(([, q]) => q.label),
      datasets: SCALE.map((v, i) => ({
        label: String(v),
        data: scalesOf(answers).map(([, q]) => num((q.counts || {})[v])),
        backgroundColor: SERIES_COLOURS[i], borderColor: '#1b1b1b', borderWidth: 1,
      })),
    }),
    describe: (answers) => `Stacked bar chart of residents' answers from 1 to 5. ${feedbackSummary(answers)}`,
    rows: (answers) => {
      if (!answers) return { rows: [], emptyText: NO_FEEDBACK_FIGURES };
      const scaleRows = scalesOf(answers).map(([id, q]) => ({
        attrs: { 'data-testid': 'feedback-row', 'data-question': id },
        cells: [q.label, ...SCALE.map((v) => formatNumber(num((q.counts || {})[v]))), formatNumber(num(q.answered)),
          formatMean(q)],
        cellAttrs: [null, ...SCALE.map((v) => numberCell((q.counts || {})[v])), numberCell(q.answered),
          { 'data-testid': 'feedback-mean', 'data-value': String(num(q.mean)) }],
      }));
      const textRows = textsOf(answers).map(([id, q]) => ({
        attrs: { 'data-testid': 'feedback-row', 'data-question': id },
        cells: [`${q.label} (visits with a text)`, '', '', '', '', '', formatNumber(num(q.answered)), '—'],
        cellAttrs: [null, null, null, null, null, null, numberCell(q.answered), null],
      }));
      return { rows: [...scaleRows, ...textRows], emptyText: 'No feedback questions are configured.' };
    },
  });
}

/**
 * data: stats.answers. The mean answer of each scale question per ward (the wards with an
 * answer), with how many answered, as a grouped chart and its table.
 */
export function feedbackWardPanel({ headingLevel = 2, rangeText = '' } = {}) {
  const wardsOf = (answers) => [...new Set(scalesOf(answers).flatMap(([, q]) => Object.keys(q.by_ward || {})))].sort();
  const wardCount = (q, ward) => (q.by_ward || {})[ward] || { answered: 0 };
  return createChartPanel({
    title: "Residents' feedback by ward", headingLevel, testid: 'panel-feedback-wards', wide: true,
    intro: 'The mean answer (1 to 5) to each question in each ward where residents answered, and how many did.',
    chartOptions: { ...barOptions({ legend: true, integer: false, yTitle: 'Mean answer (1–5)' }) },
    table: {
      caption: `Residents' feedback by ward${rangeText}`, testid: 'feedback-ward-table',
      columns: [{ label: 'Ward' }],
    },
    toChart: (answers) => ({
      labels: wardsOf(answers),
      datasets: scalesOf(answers).map(([, q], i) => ({
        label: q.label,
        data: wardsOf(answers).map((w) => num(wardCount(q, w).mean)),
        backgroundColor: SERIES_COLOURS[i % SERIES_COLOURS.length], borderColor: '#1b1b1b', borderWidth: 1,
      })),
    }),
    describe: (answers) => `Bar chart of the mean answer by ward: ${wardsOf(answers).map((w) => `${w}: ${
      scalesOf(answers).map(([, q]) => `${q.label} ${formatMean(wardCount(q, w))}`).join(', ')}`).join('; ') || 'no answers'}.`,
    rows: (answers) => {
      const scales = scalesOf(answers);
      const columns = [{ label: 'Ward' }, ...scales.flatMap(([, q]) => [
        { label: `${q.label}: mean`, numeric: true }, { label: `${q.label}: answered`, numeric: true }])];
      if (!answers) return { columns, rows: [], emptyText: NO_FEEDBACK_FIGURES };
      return {
        columns,
        rows: wardsOf(answers).map((w) => ({
          attrs: { 'data-testid': 'feedback-ward-row', 'data-ward': w },
          cells: [w, ...scales.flatMap(([, q]) => [formatMean(wardCount(q, w)), formatNumber(num(wardCount(q, w).answered))])],
          cellAttrs: [null, ...scales.flatMap(([id, q]) => [
            { 'data-question': id, 'data-value': String(num(wardCount(q, w).mean)) }, numberCell(wardCount(q, w).answered)])],
        })),
        emptyText: 'No answers in this period.',
      };
    },
  });
}
