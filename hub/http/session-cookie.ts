import type { Context, Middleware } from 'koa';

/** The web UI's session cookie (its value is the session token; the hub stores only its SHA-256). */
export const SESSION_COOKIE = 'fb_session';

/** FLOWBILL_COOKIE_SECURE: on, off, or auto (on when FLOWBILL_PUBLIC_URL is https). */
export type CookieSecureMode = 'auto' | 'on' | 'off';

/** Whether the session cookie carries `Secure` under this mode and public URL. */
export function sessionCookieSecure(mode: CookieSecureMode, publicUrl: string): boolean {
  if (mode === 'on') return true;
  if (mode === 'off') return false;
  return /^https:/i.test(publicUrl);
}

const SECURE_STATE = 'sessionCookieSecure';

/**
 * Installs the hub's cookie policy for this request (create-hub mounts it once, from config), so the
 * routes that set the cookie need no config of their own. Without it (unit tests of one router) the
 * cookie is Secure exactly when the request itself came over TLS.
 */
export function sessionCookiePolicy(opts: { secure: boolean }): Middleware {
  return async (ctx, next) => {
    ctx.state[SECURE_STATE] = opts.secure;
    await next();
  };
}

function attributes(ctx: Context, expires: Date) {
  const secure = typeof ctx.state[SECURE_STATE] === 'boolean' ? (ctx.state[SECURE_STATE] as boolean) : ctx.secure;
  // The `cookies` package refuses a Secure cookie on a plain-HTTP hop ("Cannot send secure cookie over
  // unencrypted connection"). Behind a TLS-terminating proxy the hub's own hop is plain HTTP while the
  // browser's is https: the configured policy, not the last hop, decides.
  if (secure) ctx.cookies.secure = true;
  // SameSite=Strict: no cross-site request carries the session; HttpOnly: no script reads it.
  return { httpOnly: true, sameSite: 'strict' as const, path: '/', secure, expires, overwrite: true };
}

/** Sets the session cookie, expiring with the session. */
export function setSessionCookie(ctx: Context, token: string, expiresAtMs: number): void {
  ctx.cookies.set(SESSION_COOKIE, token, attributes(ctx, new Date(expiresAtMs)));
}

/** Clears the session cookie (same name, path and attributes, expired). */
export function clearSessionCookie(ctx: Context): void {
  ctx.cookies.set(SESSION_COOKIE, '', attributes(ctx, new Date(0)));
}
