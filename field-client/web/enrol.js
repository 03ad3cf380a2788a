// enrol.js — "Enrol this tablet": shown instead of the app while the tablet is not enrolled
// (GET /api/status says "enrolled": false), and after a wipe when the officer asks for it.
//
//   POST /api/enrol {"server", "code", "pin"} → 200 {device_id, user_id, role}; 400 {field}
//   (a bad address, code or PIN); 404 / 410 {code: "unknown" | "used" | "expired"} (the
//   server's words); 429 (too many tries); 502 (the server cannot be reached or verified).
//
// The coordinator's dashboard shows a QR code and, beside it, the server address and a short
// code. The camera reads the QR code where the browser can (BarcodeDetector); typing the two
// is always there. The token the code fetches never reaches this page; the PIN chosen here
// encrypts the tablet's store and is asked at every start.

import { api, ApiError } from './api.js';
import { h, setText, fieldError, announce } from './dom.js';

const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 10;
const PIN_MIN = 6;
const PIN_MAX = 128;

/** "abcde fghjk" → "ABCDEFGHJK"; null unless it is 10 characters of the code alphabet. */
export function normaliseCode(typed) {
  const code = String(typed || '').replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== CODE_LENGTH) return null;
  return [...code].every((c) => CODE_ALPHABET.includes(c)) ? code : null;
}

/** What a QR code holds, "safer-streets:enrol?server=…&code=…" → {server, code}; null otherwise. */
export function parsePayload(text) {
  const value = String(text || '').trim();
  if (!value.startsWith('safer-streets:enrol?')) return null;
  const params = new URLSearchParams(value.slice('safer-streets:enrol?'.length));
  const server = params.get('server') || '';
  const code = params.get('code') || '';
  if (!/^wss?:\/\//.test(server) || !normaliseCode(code)) return null;
  return { server, code };
}

/** The checks the service would make, said in the officer's words: [{field, message}]. */
function check({ server, code, pin, pinAgain }) {
  const errors = [];
  if (!/^wss?:\/\/[^\s/]+/.test(server)) {
    errors.push({ field: 'server', message: 'Type the server address shown beside the QR code, starting wss://.' });
  }
  if (!normaliseCode(code)) {
    errors.push({ field: 'code', message: 'The code is 10 letters and digits, like ABCDE-FGHJK.' });
  }
  if (pin.length < PIN_MIN || pin.length > PIN_MAX) {
    errors.push({ field: 'pin', message: `Choose a PIN of at least ${PIN_MIN} digits.` });
  } else if (pin !== pinAgain) {
    errors.push({ field: 'pin_again', message: 'The two PINs are not the same. Type it again.' });
  }
  return errors;
}

/** The camera and BarcodeDetector, where the browser has both; `onFound({server, code})`. */
function createScanner(onFound, onProblem) {
  const supported = typeof window.BarcodeDetector === 'function' && navigator.mediaDevices &&
    typeof navigator.mediaDevices.getUserMedia === 'function';
  const video = h('video', { class: 'enrol-video', muted: true, playsinline: true, 'aria-hidden': 'true', hidden: true });
  let stream = null;
  let timer = null;

  function stop() {
    clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
  }

  async function start() {
    try {
      const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      timer = setInterval(async () => {
        try {
          for (const found of await detector.detect(video)) {
            const payload = parsePayload(found.rawValue);
            if (payload) {
              stop();
              onFound(payload);
              return;
            }
          }
        } catch {
          // a frame that could not be read: the next one may
        }
      }, 300);
    } catch {
      stop();
      onProblem('The camera could not be used. Type the server address and the code instead.');
    }
  }

  const button = h('button', { type: 'button', class: 'button button-big', 'data-testid': 'enrol-scan', onclick: start },
    'Scan the QR code');
  return { supported, button, video, stop };
}

/**
 * Mounts the enrolment page in `container`; `onEnrolled({device_id, user_id, role})` once the
 * tablet is enrolled. Returns {unmount()}.
 */
export function mountEnrolment(container, { onEnrolled }) {
  const input = (id, attrs) => h('input', { id, autocomplete: 'off', spellcheck: 'false', ...attrs });
  const serverInput = input('enrol-server', {
    type: 'url', inputmode: 'url', placeholder: 'wss://sync.example.org:8443', 'data-testid': 'enrol-server',
  });
  const codeInput = input('enrol-code', {
    type: 'text', autocapitalize: 'characters', placeholder: 'ABCDE-FGHJK', maxlength: '64', class: 'enrol-code',
    'data-testid': 'enrol-code',
  });
  const pinInput = input('enrol-pin', { type: 'password', inputmode: 'numeric', 'data-testid': 'enrol-pin' });
  const pinAgainInput = input('enrol-pin-again', { type: 'password', inputmode: 'numeric', 'data-testid': 'enrol-pin-again' });
  const errors = {
    server: fieldError('server', serverInput),
    code: fieldError('code', codeInput),
    pin: fieldError('pin', pinInput),
    pin_again: fieldError('pin_again', pinAgainInput),
  };
  const inputs = { server: serverInput, code: codeInput, pin: pinInput, pin_again: pinAgainInput };
  const problem = h('div', { class: 'message message-error', role: 'alert', 'data-testid': 'enrol-problem', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button button-big', 'data-testid': 'enrol-submit' }, 'Enrol this tablet');

  function showProblem(message) {
    setText(problem, message || '');
    problem.hidden = !message;
  }

  const scanner = createScanner(({ server, code }) => {
    serverInput.value = server;
    codeInput.value = code;
    announce('Code read. Now choose a PIN.');
    pinInput.focus();
  }, showProblem);

  const field = (id, labelText, control, hint) => h('div', { class: 'field' },
    h('label', { for: id }, labelText),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    control,
    errors[Object.keys(inputs).find((name) => inputs[name] === control)].element);

  const form = h('form', { class: 'enrol-form', novalidate: true },
    h('fieldset', null,
      h('legend', null, '1. The code from your coordinator'),
      scanner.supported ? h('p', null, scanner.button) : null,
      scanner.video,
      h('p', { class: 'hint' }, scanner.supported
        ? 'Or type what the dashboard shows beside the QR code:'
        : 'Type what the dashboard shows beside the QR code (this browser cannot read QR codes):'),
      field('enrol-server', 'Server address', serverInput),
      field('enrol-code', 'Enrolment code', codeInput, 'Ten letters and digits. It works once, for a few minutes.')),
    h('fieldset', null,
      h('legend', null, '2. Choose a PIN'),
      h('p', { class: 'hint' }, 'The PIN locks this tablet and encrypts everything on it. You will enter it every ' +
        'time the app starts. Too many wrong PINs erase the tablet.'),
      field('enrol-pin', 'PIN (at least 6 digits)', pinInput),
      field('enrol-pin-again', 'The same PIN again', pinAgainInput)),
    problem,
    submit);

  function show(list) {
    for (const [name, display] of Object.entries(errors)) {
      const found = list.find((error) => error.field === name);
      display.set(found ? found.message : '');
    }
    const first = list.find((error) => inputs[error.field]);
    if (first) inputs[first.field].focus();
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    showProblem('');
    // A whole QR payload typed or pasted into either box is as good as the two parts.
    const pasted = parsePayload(codeInput.value) || parsePayload(serverInput.value);
    if (pasted) {
      serverInput.value = pasted.server;
      codeInput.value = pasted.code;
    }
    const values = {
      server: serverInput.value.trim(), code: codeInput.value, pin: pinInput.value, pinAgain: pinAgainInput.value,
    };
    const problems = check(values);
    show(problems);
    if (problems.length) return;
    busy = true;
    submit.disabled = true;
    setText(submit, 'Enrolling…');
    try {
      const enrolled = await api('/api/enrol', {
        method: 'POST', noLockWait: true, json: { server: values.server, code: values.code, pin: values.pin },
      });
      scanner.stop();
      announce(`This tablet is enrolled for ${enrolled.user_id}.`);
      onEnrolled(enrolled);
    } catch (failure) {
      const body = failure instanceof ApiError && failure.body ? failure.body : {};
      if (body.field && errors[body.field]) {
        show([{ field: body.field, message: failure.message }]);
      } else {
        showProblem(failure.message);
      }
      pinInput.value = '';
      pinAgainInput.value = '';
    } finally {
      busy = false;
      submit.disabled = false;
      setText(submit, 'Enrol this tablet');
    }
  });

  const page = h('div', { class: 'page page-enrol', 'data-testid': 'enrol-page' },
    h('h1', { tabindex: '-1' }, 'Enrol this tablet'),
    h('p', null, 'Ask your coordinator to open "Enrol a device" on the dashboard for you. It shows a QR code and a ' +
      'short code.'),
    form);
  container.replaceChildren(page);
  page.querySelector('h1').focus();
  return { unmount: () => scanner.stop() };
}
