// api.js — the one place that talks to the coordinator JSON API (docs/api.md).
//
// The CSRF token lives only in this module's memory (never in storage): every POST and DELETE
// sends it as X-CSRF-Token. A 401 from any call except the login itself hands control to the
// handler set with onUnauthorized (the app shows the sign-in form) and rejects with ApiError.

let csrfToken = null;
let unauthorizedHandler = () => {};

/** An error answer from the API (status 0: the server could not be reached). */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' && token !== '' ? token : null;
}

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** "?from=…&to=…" from an object, leaving out null, undefined and empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function errorMessage(status, body) {
  if (body && typeof body.error === 'string' && body.error !== '') {
    if (status === 403 && body.error === 'csrf') {
      return 'The server refused the request (security check failed). Reload the page and try again.';
    }
    return body.error;
  }
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status >= 500) return `The server had a problem (status ${status}). Try again in a moment.`;
  return `The server answered with status ${status}.`;
}

async function send(path, { method = 'GET', json, text, contentType, signal } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (text !== undefined) {
    headers['Content-Type'] = contentType || 'text/plain';
    body = text;
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let response;
  try {
    response = await fetch(path, {
      method, headers, body, signal, credentials: 'same-origin', cache: 'no-store',
    });
  } catch (error) {
    if (error && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'Could not reach the server. Check the network connection and try again.', null);
  }

  let data = null;
  if (response.status !== 204) {
    const type = response.headers.get('Content-Type') || '';
    try {
      if (type.includes('json')) data = await response.json();
      else await response.text();
    } catch {
      data = null;
    }
  }
  return { response, data };
}

/**
 * Calls the API and resolves with the parsed JSON body (null for 204).
 * options: method, json (object body), text + contentType (raw body), signal,
 *          allow401 (true: a 401 is returned as an ApiError without signing out).
 * Rejects with ApiError for any non-2xx answer.
 */
export async function api(path, options = {}) {
  let { response, data } = await send(path, options);

  // A stale CSRF token (e.g. the session was renewed in another tab): fetch the current one
  // and try once more.
  if (response.status === 403 && data && data.error === 'csrf' && (options.method || 'GET') !== 'GET') {
    const session = await send('/api/v1/session');
    if (session.response.ok && session.data && session.data.csrf_token) {
      setCsrfToken(session.data.csrf_token);
      ({ response, data } = await send(path, options));
    }
  }

  if (response.status === 401 && !options.allow401) {
    setCsrfToken(null);
    unauthorizedHandler();
    throw new ApiError(401, 'Your session has ended. Please sign in again.', data);
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, data), data);
  return data;
}

export const get = (path, params, options = {}) => api(path + query(params), options);
export const postJson = (path, json, options = {}) => api(path, { ...options, method: 'POST', json });
export const del = (path, options = {}) => api(path, { ...options, method: 'DELETE' });

/** True for errors that the page should not report itself (signed out, or superseded). */
export function isQuiet(error) {
  return (error instanceof ApiError && error.status === 401) || (error && error.name === 'AbortError');
}
