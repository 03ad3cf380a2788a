// api.js — the HTTP half of both apps' API clients: one fetch with JSON in and out, the
// error type, query strings. Each app's own api.js adds what its server asks for (the tablet:
// waiting out the PIN lock on 423; the dashboard: the CSRF token and signing out on 401) and its
// own words for errors.
//
// Relative URLs only, same-origin credentials, nothing cached.

/** An error answer (status 0: the server could not be reached). */
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

/** "?from=…&to=…" from an object, leaving out null, undefined and empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const isAbort = (error) => Boolean(error && error.name === 'AbortError');

/**
 * One request. options: method, json (object body) or text + contentType (raw body), signal,
 * headers (more request headers). Resolves with {response, data}: data is the parsed JSON body,
 * or null (204, not JSON, unreadable). Rejects with ApiError(0, unreachable) when the server
 * cannot be reached, and with the AbortError when signal aborts; never for an HTTP status.
 */
export async function send(path, { method = 'GET', json, text, contentType, signal, headers: extra } = {}, unreachable) {
  const headers = { Accept: 'application/json', ...extra };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (text !== undefined) {
    headers['Content-Type'] = contentType || 'text/plain';
    body = text;
  }
  let response;
  try {
    response = await fetch(path, {
      method, headers, body, signal, credentials: 'same-origin', cache: 'no-store',
    });
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ApiError(0, unreachable, null);
  }
  let data = null;
  if (response.status !== 204) {
    const type = response.headers.get('Content-Type') || '';
    try {
      if (type.includes('json')) data = await response.json();
      else await response.text();
    } catch (error) {
      if (isAbort(error)) throw error;
      data = null;
    }
  }
  return { response, data };
}

/** get, postJson, putJson and del on top of an app's api(path, options). */
export function verbs(api) {
  return {
    get: (path, params, options = {}) => api(path + query(params), options),
    postJson: (path, json, options = {}) => api(path, { ...options, method: 'POST', json }),
    putJson: (path, json, options = {}) => api(path, { ...options, method: 'PUT', json }),
    del: (path, options = {}) => api(path, { ...options, method: 'DELETE' }),
  };
}

/** "/api/visits/<id>" with the id encoded. */
export const path = (base, id, tail = '') => `${base}/${encodeURIComponent(id)}${tail}`;
