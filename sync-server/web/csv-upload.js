// csv-upload.js — a form that sends one CSV file to the server, all or nothing, and lists the
// problems line by line when the server refuses it (400 {error, problems: [{line, message}]}).

import { api, isQuiet } from './api.js';
import { h, formatNumber, setChildren } from './dom.js';

/**
 * spec: {idPrefix, label, hint (nodes), path, submitText, busyText, maxBytes, refusedTitle,
 *        failedTitle, done(answer, file) → text of the success message,
 *        more(answer) → nodes shown after it (optional), onDone()}
 * Returns the <form> and its result area, to be placed by the page.
 */
export function csvUploadForm(spec) {
  const fileInput = h('input', {
    type: 'file', id: `${spec.idPrefix}-file`, name: 'file', accept: '.csv,text/csv',
    'aria-describedby': `${spec.idPrefix}-hint`, 'data-testid': `${spec.idPrefix}-file`,
  });
  const submit = h('button', { type: 'submit', class: 'button', 'data-testid': `${spec.idPrefix}-submit` }, spec.submitText);
  const result = h('div', { class: 'import-result', 'data-testid': `${spec.idPrefix}-result` });
  const form = h('form', { class: 'import-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: fileInput.id }, spec.label),
      h('p', { class: 'hint', id: `${spec.idPrefix}-hint` }, ...spec.hint),
      fileInput),
    submit);

  function showError(title, message, problems = []) {
    const shown = problems.slice(0, 500);
    setChildren(result, h('div', { class: 'message message-error', role: 'alert', 'data-testid': `${spec.idPrefix}-problems` },
      h('h3', null, title),
      message ? h('p', null, message) : null,
      shown.length ? h('ul', { class: 'problem-list' }, shown.map((problem) => h('li', { 'data-testid': `${spec.idPrefix}-problem` },
        problem.line !== undefined && problem.line !== null ? `Line ${problem.line}: ${problem.message}` : String(problem.message)))) : null,
      problems.length > shown.length ? h('p', null, `…and ${formatNumber(problems.length - shown.length)} more problems.`) : null));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    result.replaceChildren();
    const refused = spec.refusedTitle || 'Nothing was changed';
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      showError('No file chosen', 'Choose a CSV file.');
      fileInput.focus();
      return;
    }
    if (file.size > spec.maxBytes) {
      const size = spec.maxBytes >= 1024 * 1024 ? `${formatNumber(spec.maxBytes / 1024 / 1024)} MiB` : `${formatNumber(spec.maxBytes / 1024)} KiB`;
      showError(refused, `The file is larger than ${size}. Split it into smaller files.`);
      return;
    }
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      showError(refused, 'The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8” and try again.');
      return;
    }
    submit.disabled = true;
    submit.textContent = spec.busyText;
    setChildren(result, h('p', { class: 'state state-loading', role: 'status' }, `${spec.busyText} ${file.name}`));
    try {
      const answer = await api(spec.path, { method: 'POST', text, contentType: 'text/csv' });
      setChildren(result, h('div', { class: 'message message-success', role: 'status', 'data-testid': `${spec.idPrefix}-success` },
        h('p', null, spec.done(answer, file))));
      if (spec.more) result.append(...[spec.more(answer)].flat().filter(Boolean));
      form.reset();
      spec.onDone();
    } catch (error) {
      if (isQuiet(error)) return;
      const problems = error.body && Array.isArray(error.body.problems) ? error.body.problems : [];
      if (error.status === 400) {
        showError(refused, problems.length ? 'Fix these problems in the file and send it again:' : error.message, problems);
      } else {
        showError(spec.failedTitle || 'It failed', `${error.message} ${refused}.`);
      }
    } finally {
      submit.disabled = false;
      submit.textContent = spec.submitText;
    }
  });

  return { form, result };
}
