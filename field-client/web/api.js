// api.js — the one place that calls fetch: the local JSON API of `field-client ui`
// (docs/tablet-app.md). Relative URLs only; the launch cookie `ss_app_<port>` goes with every
// request (same-origin credentials), and the browser's own Origin header with every write.
//
// A 423 (the app is PIN-locked) from any call hands over to the lock handler (the PIN screen)
// and, once the PIN has been given, sends the same request again: no save and no tap is lost
// because the tablet locked itself in the meantime.

/** An error answer (status 0: the local service could not be reached). */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
    /** [{field, message}] of a 400 answer, else []. */
    this.errors = body && Array.isArray(body.errors) ? body.errors.filter((e) => e && typeof e === 'object') : [];
  }
}

let lockHandler = null; // () => Promise that resolves once unlocked

/** handler() shows the PIN screen and resolves when the app is unlocked again. */
export function onLocked(handler) {
  lockHandler = handler;
}

/** "?q=…" from an object, leaving out null, undefined and empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const NOT_REACHABLE = 'The app’s service on this tablet is not answering. ' +
  'Check that field-client ui is still running, then try again.';

function errorMessage(status, body) {
  if (body && typeof body.error === 'string' && body.error !== '') return body.error;
  if (status === 400) return 'Some of the details are not valid.';
  if (status === 403) return 'This tablet is not allowed to do that.';
  if (status === 404) return 'Not found on this tablet.';
  if (status === 421) return 'This page was opened under the wrong address. Open the app from the address field-client ui printed.';
  if (status >= 500) return `The app’s service had a problem (status ${status}). Try again.`;
  return `The app’s service answered with status ${status}.`;
}

async function send(path, { method = 'GET', json, signal, background = false } = {}) {
  const headers = { Accept: 'application/json' };
  // A refresh the app makes by itself (after a sync) is not use: it must not hold off the PIN lock.
  if (background) headers['X-Background'] = '1';
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, {
      method, headers, body, signal, credentials: 'same-origin', cache: 'no-store',
    });
  } catch (error) {
    if (error && error.name === 'AbortError') throw error;
    throw new ApiError(0, NOT_REACHABLE, null);
  }
  let data = null;
  const type = response.headers.get('Content-Type') || '';
  try {
    if (type.includes('json')) data = await response.json();
    else await response.text();
  } catch (error) {
    if (error && error.name === 'AbortError') throw error;
    data = null;
  }
  return { response, data };
}

/**
 * Calls the API; resolves with the parsed JSON body (null when there is none) and rejects with
 * ApiError for any answer that is not 2xx. options: method, json, signal, noLockWait (true: a
 * 423 rejects instead of waiting for the PIN; used by the status poll and the unlock call),
 * background (true: the app's own refresh, which does not count as use for the PIN lock).
 */
export async function api(path, options = {}) {
  for (;;) {
    const { response, data } = await send(path, options);
    if (response.status === 423 && !options.noLockWait && lockHandler) {
      await lockHandler();
      if (options.signal && options.signal.aborted) throw new DOMException('Aborted', 'AbortError');
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, data), data);
    return data;
  }
}

export const get = (path, params, options = {}) => api(path + query(params), options);
export const postJson = (path, json, options = {}) => api(path, { ...options, method: 'POST', json });
export const putJson = (path, json, options = {}) => api(path, { ...options, method: 'PUT', json });
export const del = (path, options = {}) => api(path, { ...options, method: 'DELETE' });

/** "/api/visits/<id>" with the id encoded. */
export const path = (base, id, tail = '') => `${base}/${encodeURIComponent(id)}${tail}`;

export const isAbort = (error) => Boolean(error && error.name === 'AbortError');
