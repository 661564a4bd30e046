import type { Context, Middleware } from 'koa';
import { hubError } from '../errors';
import { bearerToken } from './authenticate';
import { SESSION_COOKIE } from './session-cookie';

/** Methods that change nothing (RFC 9110 §9.2.1); every other method is guarded. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CsrfGuardOptions {
  /** config.publicUrl (FLOWBILL_PUBLIC_URL): the origin browsers see behind a reverse proxy. */
  publicUrl: string;
}

/**
 * Cross-site request forgery guard, mounted before the body parser and the routers. On every
 * state-changing request (any method but GET/HEAD/OPTIONS, on any path):
 *
 * 1. A body must be JSON: a request that sends a body, or declares a content type, other than
 *    `application/json` is refused (415 UNSUPPORTED_MEDIA_TYPE). An HTML form can only send
 *    urlencoded, multipart or text/plain; a cross-origin fetch with a JSON type needs a CORS preflight,
 *    which the hub never grants. (The body parser only parses JSON as well.)
 * 2. A request the session cookie would authenticate (a cookie and no "Authorization: Bearer") must
 *    carry Origin, or failing that Referer, naming the hub's own origin; else 403 CSRF_REJECTED.
 *    Without a cookie (login, enrollment by one-time token, scripts) an Origin or Referer that is
 *    present must match too: that stops login CSRF (a victim silently logged in as the attacker).
 *    Bearer clients (provisioning CLI, edges, API scripts) are exempt: a browser never attaches that
 *    header by itself, so a forged request cannot carry it.
 *
 * "The hub's own origin" is either of:
 * - the origin of config.publicUrl: what browsers see behind a TLS-terminating reverse proxy, which
 *   may rewrite Host and always makes the hub's hop plain HTTP;
 * - the origin the request was sent to, `<protocol>://<Host>`: the hub reached directly (a LAN
 *   address, a test on an ephemeral port). A browser sets Host to the server it sends to, so a forged
 *   request from another origin still shows its own Origin against the hub's Host. (With DNS
 *   rebinding the two agree, but then the browser sends no cookie of the hub's name for that host.)
 * The literal Origin "null" (sandboxed frames, opaque redirects) never matches.
 */
export function csrfGuard(opts: CsrfGuardOptions): Middleware {
  const publicOrigin = originOf(opts.publicUrl);
  if (publicOrigin === undefined) throw new Error(`config FLOWBILL_PUBLIC_URL=${opts.publicUrl}: expected an absolute http(s) URL`);
  return async (ctx, next) => {
    if (!SAFE_METHODS.has(ctx.method)) {
      assertJsonBody(ctx);
      assertSameOrigin(ctx, publicOrigin);
    }
    await next();
  };
}

function assertJsonBody(ctx: Context): void {
  const length = ctx.get('content-length');
  const sendsBody = ctx.get('transfer-encoding') !== '' || (length !== '' && length !== '0');
  const type = ctx.get('content-type').split(';')[0]!.trim().toLowerCase();
  if ((sendsBody || type !== '') && type !== 'application/json') {
    throw hubError('UNSUPPORTED_MEDIA_TYPE', `a ${ctx.method} body must be application/json${type ? `, not ${type}` : ''}`);
  }
}

function assertSameOrigin(ctx: Context, publicOrigin: string): void {
  if (bearerToken(ctx) !== undefined) return;
  const origin = ctx.get('origin');
  const referer = ctx.get('referer');
  const source = origin !== '' ? origin : referer !== '' ? originOf(referer) ?? 'invalid' : undefined;
  if (source === undefined) {
    if (ctx.cookies.get(SESSION_COOKIE) === undefined) return;
    throw hubError('CSRF_REJECTED', 'a request authenticated by the session cookie must carry Origin or Referer');
  }
  if (source === publicOrigin || source === originOf(`${ctx.protocol}://${ctx.host}`)) return;
  const shown = source === 'null' ? 'an opaque origin' : source.slice(0, 100);
  throw hubError('CSRF_REJECTED', `requests from ${shown} are refused: only the hub's own pages may change state`);
}

/** The serialized origin of an absolute http(s) URL (default port dropped, host lower-cased), or undefined. */
function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}
