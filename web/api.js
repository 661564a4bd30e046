// @ts-check
// The one way pages talk to the hub: JSON over fetch, session in the HttpOnly cookie fb_session.
// Every failure becomes an ApiError carrying the hub's {error:{code,message}} so pages can show it as is.

/**
 * @typedef {object} ApiOptions
 * @property {string} [method] GET unless given
 * @property {unknown} [body] sent as JSON
 * @property {Record<string, unknown>} [query] added to the URL (see apiUrl)
 */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status; 0 when the hub did not answer
   * @param {string} code the hub's error code (hub/errors.ts), or HTTP_<status> / NETWORK / NOT_JSON
   * @param {string} message
   * @param {string} path the URL called
   */
  constructor(status, code, message, path) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.path = path;
  }

  /** The route does not exist on this hub (yet): pages show "not available" instead of an error. */
  get notAvailable() {
    if (this.status === 405 || this.status === 501) return true;
    return this.status === 404 && this.code === 'NOT_FOUND' && /^no route for /.test(this.message);
  }
}

/**
 * Resolve "/operators/x/bills" to "/api/v1/operators/x/bills"; full "/api/..." paths stay as they are.
 * @param {string} path
 * @param {Record<string, unknown>} [query] empty, null and undefined values are left out
 * @returns {string}
 */
export function apiUrl(path, query) {
  let url = path.startsWith('/api/') ? path : `/api/v1${path}`;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  return url;
}

/**
 * Call the hub. Resolves to the parsed JSON body; rejects with ApiError. A 401 outside /login also
 * fires "flowbill:unauthenticated" on window, which the app shell answers with the login page.
 * The result is `any`: give the variable the route's shape from common/api (JSDoc type), so a page
 * reads only fields the hub's route promises (see common/api/index.ts).
 * @param {string} path
 * @param {ApiOptions} [options]
 * @returns {Promise<any>}
 */
export async function api(path, { method = 'GET', body, query } = {}) {
  const url = apiUrl(path, query);
  let res;
  try {
    res = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `the hub did not answer (${err instanceof Error && err.message ? err.message : 'network error'})`, url);
  }
  const type = res.headers.get('content-type') || '';
  let data;
  if (type.includes('json')) {
    try { data = await res.json(); } catch { data = undefined; }
  } else if (res.status !== 204) {
    await res.text().catch(() => '');
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : { code: `HTTP_${res.status}`, message: res.statusText || 'request failed' };
    const err = new ApiError(res.status, e.code || `HTTP_${res.status}`, e.message || 'request failed', url);
    if (res.status === 401 && !url.endsWith('/login') && typeof window !== 'undefined') {
      window.dispatchEvent(new CustomEvent('flowbill:unauthenticated', { detail: err }));
    }
    throw err;
  }
  if (data === undefined && res.status !== 204 && !type.includes('json')) {
    throw new ApiError(res.status, 'NOT_JSON', `expected JSON from ${url}, got ${type || 'no content type'}`, url);
  }
  return data ?? {};
}
