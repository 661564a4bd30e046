import type { Middleware } from 'koa';
import { hubError } from '../errors';
import type { IdentityStore } from '../identity/identity-store';
import type { Principal } from './principal';

/**
 * What a session may still do while its user must change the password (a generated one-time
 * password, or a reset by the operator's admin): see who it is, log out, set the new password.
 * Logging in is open to anyone anyway.
 */
const ALLOWED_WHILE_CHANGE_REQUIRED = new Set(['GET /api/v1/me', 'GET /api/v1/session', 'POST /api/v1/logout', 'POST /api/v1/me/password', 'POST /api/v1/login']);

/**
 * Mounted right after authenticate: for an operator user or super_admin, reads the user record and,
 * when it says mustChangePassword, answers every other /api route 403 PASSWORD_CHANGE_REQUIRED. The
 * flag is read per request (not copied into the session) so a reset or a change applies at once to
 * every session. Sets ctx.state.mustChangePassword for /me. Customers' passwords live in access
 * records and are never forced here; the web UI's static files stay reachable.
 */
export function requirePasswordChange(identity: IdentityStore): Middleware {
  return async (ctx, next) => {
    const p = ctx.state.principal as Principal | undefined;
    // Routers match case-insensitively and tolerate a trailing slash: compare a normalised path, and
    // treat anything that is not a GET of the web UI's files as API (deny unless listed).
    const path = ctx.path.toLowerCase().replace(/\/{2,}/g, '/').replace(/(.)\/+$/, '$1');
    const route = `${ctx.method} ${path}`;
    const webFile = (ctx.method === 'GET' || ctx.method === 'HEAD') && !path.startsWith('/api');
    if (p && p.role !== 'customer' && !webFile) {
      const user = await identity.getUser(p.userId);
      if (user?.mustChangePassword) {
        ctx.state.mustChangePassword = true;
        if (!ALLOWED_WHILE_CHANGE_REQUIRED.has(route)) {
          throw hubError('PASSWORD_CHANGE_REQUIRED', 'change your password first (POST /api/v1/me/password)');
        }
      }
    }
    await next();
  };
}
