// format.js — numbers, dates and times as both apps show them (en-GB, the browser's local time).
// No DOM here: Node can import this file as it is.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

const pad2 = (n) => String(n).padStart(2, '0');

/** A Date, an RFC 3339 instant or a date string → a valid Date, or null. */
function toDate(instant) {
  if (!instant) return null;
  const date = instant instanceof Date ? instant : new Date(instant);
  return Number.isNaN(date.getTime()) ? null : date;
}

const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** 1234 → "1,234"; anything but a finite number → "—". */
export function formatNumber(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toLocaleString('en-GB') : '—';
}

/** 0.3333 → "33.3%". */
export function formatPercent(ratio) {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toLocaleString('en-GB', { maximumFractionDigits: 1 })}%`;
}

/**
 * A date → "26 Nov 2026" ("26 November 2026" when long).
 * "2026-11-26" (a local date already) is shown as it is, with no time-zone arithmetic; an
 * instant (RFC 3339 string or Date) is shown as its date in the browser's time zone.
 * Nothing → "—"; something unreadable → itself.
 */
export function formatDate(value, long = false) {
  const months = long ? MONTHS_LONG : MONTHS;
  const match = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  if (match) return `${Number(match[3])} ${months[Number(match[2]) - 1]} ${match[1]}`;
  const date = toDate(value);
  if (!date) return value ? String(value) : '—';
  return `${date.getDate()} ${months[date.getMonth()]} ${date.getFullYear()}`;
}

/** "2026-04" → "Apr 2026" ("April 2026" when long). */
export function formatMonth(isoMonth, long = false) {
  const match = /^(\d{4})-(\d{2})$/.exec(isoMonth || '');
  if (!match) return isoMonth ? String(isoMonth) : '—';
  return `${(long ? MONTHS_LONG : MONTHS)[Number(match[2]) - 1]} ${match[1]}`;
}

/** An instant → "26 Nov 2026, 09:41" in the browser's local time. */
export function formatDateTime(instant) {
  const date = toDate(instant);
  if (!date) return instant ? String(instant) : '—';
  return `${formatDate(date)}, ${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

/**
 * A wall-clock time with no zone ("2026-12-01T18:30", as agreed with a resident) → "1 Dec 2026,
 * 18:30", as it is, with no time-zone arithmetic. Anything else → itself ("—" for nothing).
 */
export function formatLocalTime(value) {
  const match = typeof value === 'string' ? /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/.exec(value) : null;
  if (!match) return value ? String(value) : '—';
  return `${formatDate(match[1])}, ${match[2]}`;
}

/** A Date → "09:41:07". */
export function formatTime(date) {
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/** An instant → "today 09:41", "26 Nov 09:41", or "26 Nov 2025 09:41" (another year). */
export function formatWhen(instant, now = new Date()) {
  const date = toDate(instant);
  if (!date) return instant ? String(instant) : '—';
  const time = `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
  if (sameDay(date, now)) return `today ${time}`;
  const day = `${date.getDate()} ${MONTHS[date.getMonth()]}`;
  return date.getFullYear() === now.getFullYear() ? `${day} ${time}` : `${day} ${date.getFullYear()} ${time}`;
}

/** An instant → the value of an <input type="datetime-local"> ("2026-11-26T09:41"), local time. */
export function toLocalInput(instant) {
  const date = toDate(instant);
  if (!date) return '';
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}` +
    `T${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

/** A datetime-local value (local time) → RFC 3339 in UTC, or null when empty or invalid. */
export function fromLocalInput(value) {
  if (!value) return null;
  const date = new Date(value); // "YYYY-MM-DDTHH:MM" without a zone is local time
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export const nowIso = () => new Date().toISOString();

/** plural(3, 'visit', 'visits') → "3 visits" (the count as formatNumber writes it). */
export function plural(count, one, many) {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}

/** Length in Unicode code points, as protocol.md §9.14 counts (notes ≤ 2000, address ≤ 200). */
export function codePoints(text) {
  return Array.from(String(text)).length;
}
