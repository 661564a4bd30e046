import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../common/clock';
import type { LoginResponse, MeResponse, OperatorsResponse, SessionResponse } from '../../common/api/session';
import { CodedError } from '../../common/coded-error';
import { hubError } from '../errors';
import { assertOperatorAccess, principalOf, requireRole } from '../http/principal';
import type { CustomerLoginVerifier } from '../ports-customer';
import type { LoginThrottle } from '../security/login-throttle';
import type { IdentityStore } from './identity-store';
import { createLoginAuthenticator } from './login-authenticator';
import { readBody } from '../http/request-body';

import { clearSessionCookie, setSessionCookie } from '../http/session-cookie';

/** throttle: brute-force limits of /login (hub/security/login-throttle.ts), shared with the hub's counters. */
interface Deps { identity: IdentityStore; clock: Clock; sessionTtlHours: number; customers?: CustomerLoginVerifier; throttle: LoginThrottle }

/**
 * Login issues an opaque session token, returned in the body (for API clients: "Authorization: Bearer")
 * and as an HttpOnly cookie (for the web UI). Customers' sessions carry their login, not a user id.
 * POST /login {username, password, operatorId?}: operatorId is the organization (tenant); see
 * login-authenticator.ts for how accounts are found without it. A throttled attempt answers 429
 * TOO_MANY_ATTEMPTS with Retry-After.
 */
export function createIdentityRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const logins = createLoginAuthenticator({ identity: deps.identity, customers: deps.customers, throttle: deps.throttle, nowMs: () => deps.clock.nowMs() });

  router.post('/login', async (ctx) => {
    const { username, password, operatorId } = readBody(ctx) as { username?: string; password?: string; operatorId?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string') throw hubError('BAD_REQUEST', 'username and password are required');
    if (operatorId !== undefined && operatorId !== null && typeof operatorId !== 'string') throw hubError('BAD_REQUEST', 'operatorId: a string');
    let principal;
    try {
      // An empty organization field (the web form) means none.
      principal = await logins.authenticate({ username, password, operatorId: operatorId || undefined, address: ctx.ip });
    } catch (err) {
      if (err instanceof CodedError && err.code === 'TOO_MANY_ATTEMPTS') ctx.set('Retry-After', String(err.details?.retryAfterSec));
      throw err;
    }
    const nowMs = deps.clock.nowMs();
    const token = randomBytes(24).toString('base64url');
    const expiresAtMs = nowMs + deps.sessionTtlHours * 3600_000;
    await deps.identity.putSession({ token, principal, expiresAtMs });
    setSessionCookie(ctx, token, expiresAtMs);
    ctx.body = { token, principal, expiresAtMs } satisfies LoginResponse;
  });

  router.post('/logout', async (ctx) => {
    const token = ctx.state.sessionToken as string | undefined;
    if (token) await deps.identity.deleteSession(token);
    clearSessionCookie(ctx);
    ctx.body = { ok: true };
  });

  router.get('/me', async (ctx) => {
    // mustChangePassword: set by http/require-password-change.ts; the web UI then shows only the change page.
    ctx.body = { principal: principalOf(ctx), mustChangePassword: ctx.state.mustChangePassword === true } satisfies MeResponse;
  });

  // "Is anyone logged in?" for a page that has just loaded: 200 either way (principal null when not),
  // so the web UI's first question is not a 401 in every browser console. /me stays the strict
  // "who am I" (401 without a session) for API clients and scripts.
  router.get('/session', async (ctx) => {
    const principal = (ctx.state.principal as SessionResponse['principal'] | undefined) ?? null;
    ctx.body = { principal, mustChangePassword: principal !== null && ctx.state.mustChangePassword === true } satisfies SessionResponse;
  });

  router.get('/operators', requireRole('super_admin', 'operator_admin', 'operator_readonly'), async (ctx) => {
    const p = principalOf(ctx);
    const all = await deps.identity.listOperators();
    ctx.body = { operators: p.role === 'super_admin' ? all : all.filter((o) => o.operatorId === p.operatorId) } satisfies OperatorsResponse;
  });

  router.post('/operators', requireRole('super_admin'), async (ctx) => {
    const { operatorId, name } = readBody(ctx) as { operatorId?: string; name?: string };
    if (typeof operatorId !== 'string' || typeof name !== 'string') throw hubError('BAD_REQUEST', 'operatorId and name are required');
    ctx.status = 201;
    ctx.body = { operator: await deps.identity.createOperator(operatorId, name, deps.clock.nowMs()) };
  });

  router.get('/operators/:operatorId', async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const op = await deps.identity.getOperator(ctx.params.operatorId);
    if (!op) throw hubError('NOT_FOUND', `no operator ${ctx.params.operatorId}`);
    ctx.body = { operator: op };
  });

  router.post('/operators/:operatorId/users', async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId, ['super_admin', 'operator_admin']);
    const { username, password, role } = readBody(ctx) as { username?: string; password?: string; role?: string };
    if (role !== 'operator_admin' && role !== 'operator_readonly') throw hubError('VALIDATION_FAILED', 'role must be operator_admin or operator_readonly');
    if (typeof username !== 'string' || typeof password !== 'string') throw hubError('BAD_REQUEST', 'username and password are required');
    if (!(await deps.identity.getOperator(ctx.params.operatorId))) throw hubError('NOT_FOUND', `no operator ${ctx.params.operatorId}`);
    // The name is claimed in this operator's namespace only: LOGIN_TAKEN never reveals another tenant's names.
    const user = await deps.identity.createUser({ username, password, role, operatorId: ctx.params.operatorId }, deps.clock.nowMs());
    ctx.status = 201;
    ctx.body = { user: { userId: user.userId, username: user.username, role: user.role, operatorId: user.operatorId } };
  });

  return router;
}
