// dom.js — the dashboard's DOM toolkit: the shared one (common/dom.js, common/format.js,
// common/labels.js, the same files the tablet app loads) and the widgets only the dashboard
// uses (the <time> cell, the ward filter).
//
// Pages import from here; what both apps need goes in shared/web/ instead (served at
// /dashboard/common/).

import { h } from './common/dom.js';
import { formatDateTime } from './common/format.js';

export * from './common/dom.js';
export * from './common/format.js';
export * from './common/labels.js';

/** A <time> element for an RFC 3339 instant (or "Never"/"—" when there is none). */
export function timeElement(instant, empty = '—') {
  if (!instant) return h('span', { class: 'muted' }, empty);
  return h('time', { datetime: instant }, formatDateTime(instant));
}

/** A select of wards: first option "All wards" (value ""). */
export function wardSelect(id, wards, selected, allLabel = 'All wards') {
  const select = h('select', { id, name: 'ward' }, h('option', { value: '' }, allLabel));
  const names = [...wards];
  if (selected && !names.includes(selected)) names.push(selected);
  for (const ward of names) {
    select.append(h('option', { value: ward, selected: ward === selected }, ward));
  }
  select.value = selected || '';
  return select;
}
