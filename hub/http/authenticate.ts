import type { Middleware } from 'koa';
import type { Clock } from '../../common/clock';
import type { IdentityStore } from '../identity/identity-store';

export const SESSION_COOKIE = 'fb_session';

/**
 * Resolves "Authorization: Bearer <token>" or the session cookie to ctx.state.principal.
 * Never rejects by itself: routes decide with requireRole / assertOperatorAccess.
 */
export function authenticate(identity: IdentityStore, clock: Clock): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const token = header.startsWith('Bearer ') ? header.slice(7) : ctx.cookies.get(SESSION_COOKIE);
    if (token) {
      const session = await identity.getSession(token);
      if (session && session.expiresAtMs > clock.nowMs()) {
        ctx.state.principal = session.principal;
        ctx.state.sessionToken = token;
      }
    }
    await next();
  };
}
