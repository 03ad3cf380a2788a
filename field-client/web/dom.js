// dom.js — the tablet app's DOM toolkit: the shared one (common/dom.js, common/format.js,
// common/labels.js, the same files the dashboard loads) and the widgets only the tablet uses
// (big toggle buttons, field errors, the local-state badge).
//
// Pages import from here; what both apps need goes in shared/web/ instead (served at /app/common/).

import { h, setText, uniqueId } from './common/dom.js';
import { STATE_LABELS, label } from './common/labels.js';

export * from './common/dom.js';
export * from './common/format.js';
export * from './common/labels.js';

/** A small badge for a record's local state ("Waiting to sync"), or null. */
export function stateBadge(state) {
  if (!state || state === 'synced') return null;
  const text = label(STATE_LABELS, state);
  const rejected = state === 'rejected';
  return h('span', { class: `badge ${rejected ? 'badge-danger' : 'badge-pending'}`, 'data-testid': 'state-badge', 'data-value': state },
    h('span', { 'aria-hidden': 'true' }, rejected ? '⚠ ' : '⇅ '), text);
}

// ---------------------------------------------------------------------------------------------
// Widgets

/**
 * A big on/off toggle button (aria-pressed). onChange(pressed) runs after each press.
 * Returns {element, get(), set(pressed), setDisabled(disabled)}.
 */
export function toggleButton({ text, testid, pressed = false, onChange, extraClass = '' }) {
  const element = h('button', {
    type: 'button', class: `toggle ${extraClass}`.trim(), 'aria-pressed': pressed ? 'true' : 'false', 'data-testid': testid,
  }, h('span', { class: 'toggle-mark', 'aria-hidden': 'true' }), h('span', { class: 'toggle-text' }, text));
  let value = Boolean(pressed);
  const set = (next) => {
    value = Boolean(next);
    element.setAttribute('aria-pressed', value ? 'true' : 'false');
  };
  element.addEventListener('click', () => {
    if (element.disabled) return;
    set(!value);
    if (onChange) onChange(value);
  });
  return {
    element,
    get: () => value,
    set,
    setDisabled(disabled) { element.disabled = Boolean(disabled); },
  };
}

/**
 * The error message beside one field: <p class="field-error" id=… data-testid="field-error-<field>">.
 * control: the element that gets aria-invalid and aria-describedby (an input, or a group).
 */
export function fieldError(field, control, prefix = 'err') {
  const id = uniqueId(`${prefix}-${field}`);
  const element = h('p', { class: 'field-error', id, 'data-testid': `field-error-${field}`, 'data-field': field });
  if (control) {
    const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    control.setAttribute('aria-describedby', [...described, id].join(' '));
  }
  return {
    element,
    control,
    set(message) {
      const text = message || '';
      setText(element, text);
      if (control) {
        if (text) control.setAttribute('aria-invalid', 'true');
        else control.removeAttribute('aria-invalid');
      }
    },
    get: () => element.textContent,
  };
}

/**
 * Arrow keys in a radio group of buttons: Right/Down picks the next, Left/Up the previous
 * (wrapping round), then focuses it. choose(button) makes the choice.
 */
export function radioArrowKeys(buttons, choose) {
  buttons.forEach((button, index) => {
    button.addEventListener('keydown', (event) => {
      let step = 0;
      if (event.key === 'ArrowRight' || event.key === 'ArrowDown') step = 1;
      else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') step = -1;
      if (!step) return;
      event.preventDefault();
      const next = buttons[(index + step + buttons.length) % buttons.length];
      choose(next);
      next.focus();
    });
  });
}
