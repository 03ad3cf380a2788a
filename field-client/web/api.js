// api.js — the tablet app's client of the local JSON API of `field-client ui`
// (docs/tablet-app.md), on the shared fetch of common/api.js. The launch cookie `ss_app_<port>`
// goes with every request (same-origin credentials), and the browser's own Origin header with
// every write.
//
// A 423 (the app is PIN-locked) from any call hands over to the lock handler (the PIN screen)
// and, once the PIN has been given, sends the same request again: no save and no tap is lost
// because the tablet locked itself in the meantime.

import { ApiError, send, verbs } from './common/api.js';

export { ApiError, query, path, isAbort } from './common/api.js';

let lockHandler = null; // () => Promise that resolves once unlocked

/** handler() shows the PIN screen and resolves when the app is unlocked again. */
export function onLocked(handler) {
  lockHandler = handler;
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

/**
 * Calls the API; resolves with the parsed JSON body (null when there is none) and rejects with
 * ApiError for any answer that is not 2xx. options: method, json, signal, noLockWait (true: a
 * 423 rejects instead of waiting for the PIN; used by the status poll and the unlock call),
 * background (true: the app's own refresh, which does not count as use for the PIN lock).
 */
export async function api(path, options = {}) {
  // A refresh the app makes by itself (after a sync) is not use: it must not hold off the PIN lock.
  const headers = options.background ? { 'X-Background': '1' } : {};
  for (;;) {
    const { response, data } = await send(path, { ...options, headers }, NOT_REACHABLE);
    if (response.status === 423 && !options.noLockWait && lockHandler) {
      await lockHandler();
      if (options.signal && options.signal.aborted) throw new DOMException('Aborted', 'AbortError');
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, data), data);
    return data;
  }
}

export const { get, postJson, putJson, del } = verbs(api);
