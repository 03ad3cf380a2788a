// api.js — the dashboard's client of the coordinator JSON API (docs/api.md), on the shared
// fetch of common/api.js.
//
// The CSRF token lives only in this module's memory (never in storage): every POST and DELETE
// sends it as X-CSRF-Token. A 401 from any call except the login itself hands control to the
// handler set with onUnauthorized (the app shows the sign-in form) and rejects with ApiError.

import { ApiError, send, verbs, isAbort } from './common/api.js';

export { ApiError, query } from './common/api.js';

let csrfToken = null;
let unauthorizedHandler = () => {};

const NOT_REACHABLE = 'Could not reach the server. Check the network connection and try again.';

export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' && token !== '' ? token : null;
}

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
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

/** send() with the CSRF token on every request that changes something. */
function sendWithToken(path, options = {}) {
  const method = options.method || 'GET';
  const headers = method !== 'GET' && method !== 'HEAD' && csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
  return send(path, { ...options, headers }, NOT_REACHABLE);
}

/**
 * Calls the API and resolves with the parsed JSON body (null for 204).
 * options: method, json (object body), text + contentType (raw body), signal,
 *          allow401 (true: a 401 is returned as an ApiError without signing out).
 * Rejects with ApiError for any non-2xx answer.
 */
export async function api(path, options = {}) {
  let { response, data } = await sendWithToken(path, options);

  // A stale CSRF token (e.g. the session was renewed in another tab): fetch the current one
  // and try once more.
  if (response.status === 403 && data && data.error === 'csrf' && (options.method || 'GET') !== 'GET') {
    const session = await sendWithToken('/api/v1/session');
    if (session.response.ok && session.data && session.data.csrf_token) {
      setCsrfToken(session.data.csrf_token);
      ({ response, data } = await sendWithToken(path, options));
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

export const { get, postJson, putJson, del } = verbs(api);

/** True for errors that the page should not report itself (signed out, or superseded). */
export function isQuiet(error) {
  return (error instanceof ApiError && error.status === 401) || isAbort(error);
}
