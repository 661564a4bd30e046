import Router from '@koa/router';
import type { Logger } from '../../common/logger';
import type { PasswordChangeResponse } from '../../common/api/session';
import { hubError } from '../errors';
import { assertOperatorAccess, principalOf } from '../http/principal';
import { readBody } from '../http/request-body';
import type { IdentityStore } from './identity-store';
import { verifyPassword } from './password-hash';
import { assertNewPassword, oneTimePassword } from './password-policy';

interface Deps { identity: IdentityStore; log: Logger }

/**
 * Passwords of operator users and super_admins (customers' passwords are access-record data their
 * operator manages in hub/access):
 *   POST /api/v1/me/password {currentPassword, newPassword} → {ok, endedSessions}: the user's own
 *     change, which also lifts a forced change and ends the user's other sessions;
 *   POST /api/v1/operators/:op/users/:userId/password → {user, oneTimePassword}: an operator_admin
 *     (or super_admin) resets a user of that tenant to a generated one-time password, shown once in
 *     this answer; the user must change it at next login and every session of theirs ends.
 */
export function createPasswordRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/api/v1' });

  router.post('/me/password', async (ctx) => {
    const p = principalOf(ctx);
    if (p.role === 'customer') throw hubError('FORBIDDEN', 'a customer\'s password belongs to the access record; your operator changes it');
    const { currentPassword, newPassword } = readBody(ctx) as { currentPassword?: unknown; newPassword?: unknown };
    if (typeof currentPassword !== 'string') throw hubError('BAD_REQUEST', 'currentPassword is required');
    const user = await deps.identity.getUser(p.userId);
    if (!user) throw hubError('UNAUTHENTICATED', 'log in first');
    if (!(await verifyPassword(currentPassword, user.passwordHash))) throw hubError('CURRENT_PASSWORD_WRONG', 'the current password is wrong');
    assertNewPassword(newPassword, currentPassword);
    await deps.identity.setPassword(user.userId, newPassword, { mustChangePassword: false });
    const endedSessions = await deps.identity.deleteUserSessions(user.userId, ctx.state.sessionToken as string | undefined);
    deps.log.info({ userId: user.userId, username: user.username, endedSessions, wasForced: !!user.mustChangePassword }, 'password changed');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ok: true, endedSessions } satisfies PasswordChangeResponse;
  });

  router.post('/operators/:operatorId/users/:userId/password', async (ctx) => {
    const p = assertOperatorAccess(ctx, ctx.params.operatorId, ['super_admin', 'operator_admin']);
    const user = await deps.identity.getUser(ctx.params.userId);
    // Another tenant's user answers like a missing one, so user ids cannot be probed.
    if (!user || user.operatorId !== ctx.params.operatorId) throw hubError('NOT_FOUND', `no user ${ctx.params.userId} in operator ${ctx.params.operatorId}`);
    if (user.userId === p.userId) throw hubError('VALIDATION_FAILED', 'to change your own password use POST /api/v1/me/password');
    const password = oneTimePassword();
    await deps.identity.setPassword(user.userId, password, { mustChangePassword: true });
    const endedSessions = await deps.identity.deleteUserSessions(user.userId);
    deps.log.info({ userId: user.userId, username: user.username, byUserId: p.userId, endedSessions }, 'password reset to a one-time password');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      user: { userId: user.userId, username: user.username, role: user.role, operatorId: user.operatorId, mustChangePassword: true },
      oneTimePassword: password,
    };
  });

  return router;
}
