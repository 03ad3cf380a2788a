// page-exports.js — #/exports?from=&to=: CSV downloads for the chosen range.
//   GET /api/v1/exports/visits.csv?from=&to=
//   GET /api/v1/exports/commute_sessions.csv?from=&to=
// Plain links: the browser sends the session cookie with them.

import { query } from './api.js';
import { h } from './dom.js';
import { createRangeControl, rangeFromParams, describeRange } from './ranges.js';

const EXPORTS = [
  {
    id: 'export-visits', path: '/api/v1/exports/visits.csv', title: 'Safer Streets visits',
    linkText: 'Download visits (CSV)',
    about: 'One row per visit, by visit date: status, household and ward, every outcome, smoke detectors fitted, referrals, notes and who recorded it.',
  },
  {
    id: 'export-sessions', path: '/api/v1/exports/commute_sessions.csv', title: 'Commute Aware sessions',
    linkText: 'Download Commute Aware sessions (CSV)',
    about: 'One row per station session, by start date: station, start and end, cards distributed, messages given and who recorded it.',
  },
];

function mount(root, params, ctx) {
  let range = rangeFromParams(params);
  const rangeControl = createRangeControl({
    idPrefix: 'exports-range', range,
    onChange: (next) => ctx.navigate('exports', next),
  });

  const items = EXPORTS.map((spec) => {
    const link = h('a', { id: spec.id, class: 'button download-link', download: true, 'data-testid': spec.id }, spec.linkText);
    const rangeNote = h('span', { class: 'range-note' });
    const element = h('li', { class: 'export-item' },
      h('h2', null, spec.title),
      h('p', null, spec.about),
      h('p', null, link, ' ', rangeNote));
    return { spec, link, rangeNote, element };
  });

  function render() {
    for (const item of items) {
      item.link.href = item.spec.path + query({ from: range.from, to: range.to });
      item.rangeNote.textContent = `Covers ${describeRange(range)}.`;
    }
  }

  root.append(
    h('h1', { tabindex: '-1' }, 'Exports'),
    h('p', null, 'Download the records as CSV files (UTF-8, one header row) to open in a spreadsheet. ',
      'Cells that a spreadsheet could mistake for a formula start with an apostrophe.'),
    rangeControl.element,
    h('ul', { class: 'export-list' }, items.map((item) => item.element)),
    h('p', { class: 'hint' }, 'The files hold personal data (addresses and officers’ notes): keep them on the partnership’s systems.'));
  render();

  return {
    update(nextParams) {
      range = rangeFromParams(nextParams);
      rangeControl.set(range);
      render();
    },
    unmount() {},
  };
}

export default { key: 'exports', title: 'Exports', mount };
