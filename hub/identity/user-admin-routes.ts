import Router from '@koa/router';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import type { OperatorUserView, UpdateUserResponse, UsersResponse } from '../../common/api/users';
import { hubError } from '../errors';
import { assertOperatorAccess, OPERATOR_READERS, OPERATOR_WRITERS } from '../http/principal';
import { readBody } from '../http/request-body';
import type { IdentityStore, User } from './identity-store';

interface Deps { identity: IdentityStore; clock: Clock; log: Logger }

export const userView = (u: User): OperatorUserView => ({
  userId: u.userId, username: u.username, role: u.role, operatorId: u.operatorId, createdAtMs: u.createdAtMs,
  enabled: u.disabledAtMs === undefined, ...(u.disabledAtMs === undefined ? {} : { disabledAtMs: u.disabledAtMs }),
  mustChangePassword: u.mustChangePassword === true,
});

/**
 * An operator's users, as its operator_admin (or super_admin) manages them (issue 11):
 *   GET   /api/v1/operators/:op/users → {users}: every role of the tenant may read the list;
 *   PATCH /api/v1/operators/:op/users/:userId {enabled} → {user, endedSessions}: disabling ends every
 *     session of the user at once and login refuses them until enabled again.
 * Rules: nobody disables themselves (a locked-out admin cannot undo it), and the tenant keeps at least
 * one enabled operator_admin (else only a super_admin could manage it again). Creation and password
 * resets are in identity-routes.ts and password-routes.ts.
 */
export function createUserAdminRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/api/v1/operators/:operatorId/users' });
  // The last-admin check reads then writes: two admins disabling each other at once must not both pass.
  const queue = deps.identity.sections.section('user-admin');

  router.get('/', async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId, OPERATOR_READERS);
    if (!(await deps.identity.getOperator(ctx.params.operatorId))) throw hubError('NOT_FOUND', `no operator ${ctx.params.operatorId}`);
    const users = (await deps.identity.listUsers(ctx.params.operatorId)).sort((a, b) => a.username.localeCompare(b.username));
    ctx.body = { users: users.map(userView) } satisfies UsersResponse;
  });

  router.patch('/:userId', async (ctx) => {
    const { operatorId, userId } = ctx.params;
    const p = assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    const { enabled } = readBody(ctx) as { enabled?: unknown };
    if (typeof enabled !== 'boolean') throw hubError('VALIDATION_FAILED', 'enabled: true or false', { field: 'enabled' });
    ctx.body = await queue.run(async (): Promise<UpdateUserResponse> => {
      const user = await deps.identity.getUser(userId);
      // Another tenant's user answers like a missing one, so user ids cannot be probed.
      if (!user || user.operatorId !== operatorId) throw hubError('NOT_FOUND', `no user ${userId} in operator ${operatorId}`);
      if (!enabled && user.userId === p.userId) throw hubError('VALIDATION_FAILED', 'you cannot disable yourself; another operator_admin can', { field: 'enabled' });
      if (!enabled && user.disabledAtMs === undefined && user.role === 'operator_admin') {
        const admins = (await deps.identity.listUsers(operatorId)).filter((u) => u.role === 'operator_admin' && u.disabledAtMs === undefined);
        if (admins.length <= 1) {
          throw hubError('CONFLICT', `${user.username} is the last enabled operator_admin of ${operatorId}: add or enable another operator_admin first`, { field: 'enabled' });
        }
      }
      const updated = await deps.identity.setUserEnabled(userId, enabled, deps.clock.nowMs());
      const endedSessions = enabled ? 0 : await deps.identity.deleteUserSessions(userId);
      if (enabled !== (user.disabledAtMs === undefined)) {
        deps.log.info({ operatorId, userId, username: user.username, byUserId: p.userId, endedSessions }, enabled ? 'user enabled' : 'user disabled');
      }
      return { user: userView(updated), endedSessions };
    });
  });

  return router;
}
