import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../common/clock';
import { hubError } from '../errors';
import type { Principal } from '../http/principal';
import { assertOperatorAccess, principalOf, requireRole } from '../http/principal';
import type { CustomerLoginVerifier } from '../ports-customer';
import type { IdentityStore } from './identity-store';
import { verifyPassword } from './password-hash';
import { readBody } from '../http/request-body';

import { SESSION_COOKIE } from '../http/authenticate';

interface Deps { identity: IdentityStore; clock: Clock; sessionTtlHours: number; customers?: CustomerLoginVerifier }

/**
 * Login issues an opaque session token, returned in the body (for API clients: "Authorization: Bearer")
 * and as an HttpOnly cookie (for the web UI). Customers' sessions carry their login, not a user id.
 */
export function createIdentityRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/api/v1' });

  router.post('/login', async (ctx) => {
    const { username, password } = readBody(ctx) as { username?: string; password?: string };
    if (typeof username !== 'string' || typeof password !== 'string') throw hubError('BAD_REQUEST', 'username and password are required');
    const nowMs = deps.clock.nowMs();
    let principal: Principal | undefined;
    const user = await deps.identity.findUserByName(username);
    if (user && (await verifyPassword(password, user.passwordHash))) {
      principal = { userId: user.userId, username: user.username, role: user.role, operatorId: user.operatorId };
    } else if (!user && deps.customers) {
      const customer = await deps.customers.verify(username, password);
      if (customer) principal = { userId: `customer:${customer.customerLogin}`, username, role: 'customer', operatorId: customer.operatorId, customerLogin: customer.customerLogin };
    }
    if (!principal) throw hubError('INVALID_CREDENTIALS', 'wrong username or password');
    const token = randomBytes(24).toString('base64url');
    const expiresAtMs = nowMs + deps.sessionTtlHours * 3600_000;
    await deps.identity.putSession({ token, principal, expiresAtMs });
    ctx.cookies.set(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', expires: new Date(expiresAtMs) });
    ctx.body = { token, principal, expiresAtMs };
  });

  router.post('/logout', async (ctx) => {
    const token = ctx.state.sessionToken as string | undefined;
    if (token) await deps.identity.deleteSession(token);
    ctx.cookies.set(SESSION_COOKIE, '', { expires: new Date(0) });
    ctx.body = { ok: true };
  });

  router.get('/me', async (ctx) => {
    ctx.body = { principal: principalOf(ctx) };
  });

  router.get('/operators', requireRole('super_admin', 'operator_admin', 'operator_readonly'), async (ctx) => {
    const p = principalOf(ctx);
    const all = await deps.identity.listOperators();
    ctx.body = { operators: p.role === 'super_admin' ? all : all.filter((o) => o.operatorId === p.operatorId) };
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
    const user = await deps.identity.createUser({ username, password, role, operatorId: ctx.params.operatorId }, deps.clock.nowMs());
    ctx.status = 201;
    ctx.body = { user: { userId: user.userId, username: user.username, role: user.role, operatorId: user.operatorId } };
  });

  return router;
}
