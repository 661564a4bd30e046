import type { Context, Middleware } from 'koa';
import type { Clock } from '../../common/clock';
import type { IdentityStore } from '../identity/identity-store';
import { SESSION_COOKIE } from './session-cookie';

export { SESSION_COOKIE };

/** The token of "Authorization: Bearer <token>", or undefined. When present it wins over the cookie. */
export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  return header.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/**
 * Resolves "Authorization: Bearer <token>" or the session cookie to ctx.state.principal, and says
 * which one in ctx.state.authVia ('bearer' | 'cookie'). An expired session is deleted as it is met.
 * Never rejects by itself: routes decide with requireRole / assertOperatorAccess.
 */
export function authenticate(identity: IdentityStore, clock: Clock): Middleware {
  return async (ctx, next) => {
    const bearer = bearerToken(ctx);
    const token = bearer ?? ctx.cookies.get(SESSION_COOKIE);
    if (token) {
      const session = await identity.getSession(token, clock.nowMs());
      if (session) {
        ctx.state.principal = session.principal;
        ctx.state.sessionToken = token;
        ctx.state.authVia = bearer !== undefined ? 'bearer' : 'cookie';
      }
    }
    await next();
  };
}
