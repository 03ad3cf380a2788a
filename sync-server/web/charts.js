// charts.js — accessible data tables and Chart.js panels (a chart with its numbers in a table).
//
// Every chart canvas has role="img" and an aria-label that summarises it; the same numbers are
// in an HTML table with a caption beside it. Charts are created once and then updated in place
// with chart.update(). Without Chart.js (vendor file missing) the tables still work.

import { h, uniqueId } from './dom.js';

// Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
export const COLOURS = {
  blue: '#0072B2', orange: '#E69F00', green: '#009E73', purple: '#CC79A7',
  sky: '#56B4E9', vermilion: '#D55E00', black: '#000000', paleBlue: '#B9D7F0',
  grey: '#767676', // for "not recorded": 4.5:1 on white
};
export const STATUS_COLOURS = {
  completed: COLOURS.blue, no_answer: COLOURS.orange, declined: COLOURS.purple, rescheduled: COLOURS.green,
};
export const SERIES_COLOURS = [COLOURS.blue, COLOURS.orange, COLOURS.green, COLOURS.purple,
  COLOURS.sky, COLOURS.vermilion, COLOURS.black];

const liveCharts = new Set();
const PRINT_WIDTH = 680; // CSS pixels across an A4 page inside its margins

export function chartsAvailable() {
  return typeof window.Chart === 'function';
}

/** Sets Chart.js defaults for this dashboard (dark text, no motion if the user asks for none). */
export function setupCharts() {
  if (!chartsAvailable()) return;
  const { defaults } = window.Chart;
  defaults.color = '#1b1b1b';
  defaults.borderColor = '#c9ced6';
  defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
  defaults.font.size = 13;
  defaults.maintainAspectRatio = false;
  defaults.plugins.legend.labels.boxWidth = 14;
  if (window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches) {
    defaults.animation = false;
  }
  // Printed pages are narrower than the screen: redraw charts at the paper's width.
  window.addEventListener('beforeprint', () => {
    for (const chart of liveCharts) chart.resize(PRINT_WIDTH, chart.canvas.parentNode.clientHeight || 320);
  });
  window.addEventListener('afterprint', () => { for (const chart of liveCharts) chart.resize(); });
}

/**
 * A data table with a caption. columns: [{label, numeric}] — the first column is a row header.
 * setRows(rows, footRows, emptyText): rows are {cells: [text|Node], attrs: {...}, cellAttrs: [...]}.
 * setColumns(columns) replaces the header row (for tables whose columns follow the data).
 */
export function createTable({ caption, columns: initialColumns, testid, scroll = false }) {
  let columns = initialColumns;
  const captionId = uniqueId('caption');
  const captionElement = h('caption', { id: captionId }, caption);
  const thead = h('thead');
  const tbody = h('tbody');
  const tfoot = h('tfoot');
  const table = h('table', { class: 'data-table', 'data-testid': testid }, captionElement, thead, tbody, tfoot);
  const element = h('div', {
    class: scroll ? 'table-wrap table-scroll' : 'table-wrap',
    // A scrolling box must be reachable by keyboard to be scrolled.
    tabindex: scroll ? '0' : null, role: scroll ? 'region' : null,
    'aria-labelledby': scroll ? captionId : null,
  }, table);

  function setColumns(next) {
    columns = next;
    thead.replaceChildren(h('tr', null, columns.map((column) => h('th', {
      scope: 'col', class: column.numeric ? 'num' : null,
    }, column.label))));
  }
  setColumns(columns);

  function makeRow(row, cellTag) {
    return h('tr', row.attrs || null, row.cells.map((cell, index) => {
      const numeric = columns[index] && columns[index].numeric;
      const attrs = { class: numeric ? 'num' : null, ...(row.cellAttrs ? row.cellAttrs[index] : null) };
      if (index === 0) return h('th', { scope: 'row', ...attrs }, cell);
      return h(cellTag, attrs, cell);
    }));
  }

  function setRows(rows, footRows = [], emptyText = 'Nothing to show.') {
    tbody.replaceChildren();
    if (rows.length === 0) {
      tbody.append(h('tr', { class: 'empty-row' }, h('td', { colspan: String(columns.length) }, emptyText)));
    } else {
      for (const row of rows) tbody.append(makeRow(row, 'td'));
    }
    tfoot.replaceChildren(...footRows.map((row) => makeRow(row, 'td')));
  }

  function setCaption(text) {
    captionElement.textContent = text;
  }

  return { element, table, setRows, setCaption, setColumns };
}

/**
 * A titled panel: chart (canvas role="img") above its table.
 * spec: {title, headingLevel, size: 'normal'|'tall'|'wide', chartType, chartOptions,
 *        toChart(data) → {labels, datasets}, describe(data) → string,
 *        table: {caption, columns, testid, scroll}, rows(data) → {rows, footRows, emptyText},
 *        testid}
 */
export function createChartPanel(spec) {
  const headingId = uniqueId('panel-title');
  const canvas = h('canvas', { role: 'img', 'aria-label': `${spec.title}: loading`, 'data-testid': `${spec.testid}-chart` },
    h('p', null, 'The numbers in this chart are in the table that follows.'));
  const chartBox = h('div', { class: `chart-box chart-${spec.size || 'normal'}` }, canvas);
  const table = createTable(spec.table);
  const element = h('section', {
    class: `panel ${spec.wide ? 'panel-wide' : ''}`, 'aria-labelledby': headingId, 'data-testid': spec.testid,
  },
  h(`h${spec.headingLevel || 2}`, { id: headingId }, spec.title),
  spec.intro ? h('p', { class: 'panel-intro' }, spec.intro) : null,
  chartsAvailable() ? chartBox : h('p', { class: 'muted' }, 'Charts are unavailable; the figures are in the table.'),
  table.element);

  let chart = null;

  function update(data) {
    const { labels, datasets } = spec.toChart(data);
    canvas.setAttribute('aria-label', spec.describe(data));
    const { rows, footRows, emptyText, columns } = spec.rows(data);
    if (columns) table.setColumns(columns);
    table.setRows(rows, footRows, emptyText);
    if (!chartsAvailable()) return;

    if (!chart) {
      chart = new window.Chart(canvas, {
        type: spec.chartType || 'bar',
        data: { labels, datasets },
        options: spec.chartOptions || {},
      });
      liveCharts.add(chart);
      return;
    }
    chart.data.labels = labels;
    const old = chart.data.datasets;
    const sameShape = old.length === datasets.length && old.every((ds, i) => ds.label === datasets[i].label);
    if (sameShape) {
      // Keep the dataset objects so that Chart.js animates from the old values.
      datasets.forEach((ds, i) => Object.assign(old[i], ds));
    } else {
      chart.data.datasets = datasets;
    }
    chart.update();
  }

  function destroy() {
    if (chart) {
      liveCharts.delete(chart);
      chart.destroy();
      chart = null;
    }
  }

  return { element, update, destroy, setCaption: table.setCaption };
}

// ---------------------------------------------------------------------------------------------
// Option presets

export function barOptions({ horizontal = false, stacked = false, legend = false, integer = true, xTitle, yTitle } = {}) {
  const valueAxis = {
    beginAtZero: true, stacked,
    ticks: integer ? { precision: 0 } : {},
    title: { display: Boolean(horizontal ? xTitle : yTitle), text: horizontal ? xTitle : yTitle },
  };
  const categoryAxis = {
    stacked, grid: { display: false },
    title: { display: Boolean(horizontal ? yTitle : xTitle), text: horizontal ? yTitle : xTitle },
  };
  return {
    indexAxis: horizontal ? 'y' : 'x',
    responsive: true,
    maintainAspectRatio: false,
    scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
    plugins: {
      legend: { display: legend, position: 'bottom' },
      tooltip: {
        callbacks: {
          label: (item) => `${item.dataset.label ? `${item.dataset.label}: ` : ''}${Number(item.raw).toLocaleString('en-GB')}`,
        },
      },
    },
  };
}
