import type { Context, Middleware } from 'koa';
import { hubError } from '../errors';

export type Role = 'super_admin' | 'operator_admin' | 'operator_readonly' | 'customer';

/** Who is calling. Operators' users and customers always carry their operatorId (tenant). */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  operatorId?: string;
  /** For role 'customer': the login shared by the customer's access records. */
  customerLogin?: string;
}

export function principalOf(ctx: Context): Principal {
  const p = ctx.state.principal as Principal | undefined;
  if (!p) throw hubError('UNAUTHENTICATED', 'log in first');
  return p;
}

/** Allow only these roles. */
export function requireRole(...roles: Role[]): Middleware {
  return async (ctx, next) => {
    const p = principalOf(ctx);
    if (!roles.includes(p.role)) throw hubError('FORBIDDEN', `this needs role ${roles.join(' or ')}`);
    await next();
  };
}

/**
 * Tenant guard for routes under /operators/:operatorId: super_admin sees every operator; anyone else
 * only their own. Another operator's data answers 404, not 403, so ids cannot be probed.
 */
export function assertOperatorAccess(ctx: Context, operatorId: string, roles: Role[] = ['super_admin', 'operator_admin', 'operator_readonly']): Principal {
  const p = principalOf(ctx);
  if (!roles.includes(p.role)) throw hubError('FORBIDDEN', `this needs role ${roles.join(' or ')}`);
  if (p.role !== 'super_admin' && p.operatorId !== operatorId) throw hubError('NOT_FOUND', `no operator ${operatorId}`);
  return p;
}

/** Roles allowed to change an operator's data. */
export const OPERATOR_WRITERS: Role[] = ['super_admin', 'operator_admin'];
export const OPERATOR_READERS: Role[] = ['super_admin', 'operator_admin', 'operator_readonly'];
