import { SAFE_ID } from '../../common/topics';
import { hubError } from '../errors';
import type { Principal } from '../http/principal';
import type { CustomerLoginVerifier } from '../ports-customer';
import type { LoginThrottle } from '../security/login-throttle';
import { createDummyPasswordCheck } from './dummy-password';
import type { IdentityStore } from './identity-store';
import { foldLoginName, tenantNamespace, type LoginClaim } from './login-names';
import { verifyPassword } from './password-hash';
import { MAX_PASSWORD_CHARS } from './password-policy';

export interface LoginAttempt {
  username: string;
  password: string;
  /** The organization (tenant): only its users and customers are considered. Absent: every account with that name. */
  operatorId?: string;
  /** The client's address, for the per-address limit. */
  address: string;
}

/** Names anyone can hold (operator users' and customers' rules); anything else cannot match and is not looked up. */
const LOGIN_NAME = /^[A-Za-z0-9_.@-]{1,128}$/;
const MAX_USERNAME_CHARS = 256;

/**
 * Who a username + password is: an operator user or super_admin, or a customer (hub/access).
 *
 * Accounts are found through login-names.ts. With an organization, only that tenant's namespace is
 * looked at. Without one (API clients, the provisioning CLI and the web UI by default), every account
 * with that name is, in every tenant and among super_admins, and the one whose password matches wins;
 * if several match, the login is refused with ORGANIZATION_REQUIRED (never one picked silently). So a
 * tenant creating a user named like another tenant's customer cannot take over or shadow that login.
 *
 * Before any password is checked, the throttle (hub/security/login-throttle.ts) may refuse the attempt
 * (TOO_MANY_ATTEMPTS, with retryAfterSec); attempts sharing a name or an address run one at a time, so
 * concurrency does not multiply the guesses. Every attempt it lets through costs at least one scrypt
 * verification: an unknown name runs a dummy one, a customer's check includes one (ports-customer.ts).
 * Several accounts with one name are checked in parallel, so they cost about one scrypt of wall time.
 */
export function createLoginAuthenticator(deps: { identity: IdentityStore; customers?: CustomerLoginVerifier; throttle: LoginThrottle; nowMs(): number }) {
  const dummyCheck = createDummyPasswordCheck();
  const names = deps.identity.loginNames;

  async function check(claim: LoginClaim, password: string): Promise<Principal | undefined> {
    const owner = claim.owner;
    if (owner.kind === 'user') {
      const user = await deps.identity.getUser(owner.userId);
      if (!user) return dummyCheck(password).then(() => undefined);
      if (!(await verifyPassword(password, user.passwordHash))) return undefined;
      // A disabled user fails like a wrong password (after the same scrypt cost): no hint to a guesser.
      if (user.disabledAtMs !== undefined) return undefined;
      return { userId: user.userId, username: user.username, role: user.role, operatorId: user.operatorId };
    }
    if (!deps.customers) return dummyCheck(password).then(() => undefined);
    const customer = await deps.customers.verify(owner.operatorId, owner.username, password);
    if (!customer) return undefined;
    // The tenant is part of the id: one customer name may exist in several tenants.
    return { userId: `customer:${customer.operatorId}/${customer.customerLogin}`, username: customer.customerLogin, role: 'customer', operatorId: customer.operatorId, customerLogin: customer.customerLogin };
  }

  return {
    /** The principal to start a session for; throws INVALID_CREDENTIALS, TOO_MANY_ATTEMPTS or ORGANIZATION_REQUIRED. */
    async authenticate(attempt: LoginAttempt): Promise<Principal> {
      const { username, password, operatorId, address } = attempt;
      if (username.length > MAX_USERNAME_CHARS || password.length > MAX_PASSWORD_CHARS) throw hubError('BAD_REQUEST', `username or password too long (at most ${MAX_USERNAME_CHARS} and ${MAX_PASSWORD_CHARS} characters)`);
      if (operatorId !== undefined && !SAFE_ID.test(operatorId)) throw hubError('VALIDATION_FAILED', 'operatorId: 1-64 of [A-Za-z0-9_-]', { field: 'operatorId' });

      let claims: LoginClaim[] = [];
      if (LOGIN_NAME.test(username)) {
        if (operatorId === undefined) claims = await names.find(username);
        else claims = [await names.get(tenantNamespace(operatorId), username)].filter((c): c is LoginClaim => c !== undefined);
      }
      // Throttle keys: one per account tried; a name nobody holds is counted under its own key the same way.
      const keyOf = (namespace: string) => `${namespace}/${foldLoginName(username)}`;
      const keys = claims.length > 0 ? claims.map((c) => keyOf(c.namespace)) : [keyOf(operatorId === undefined ? '*' : tenantNamespace(operatorId))];

      return deps.throttle.exclusive(keys, address, async () => {
        const admission = deps.throttle.admit(keys, address);
        if (!admission.ok) {
          const retryAfterSec = Math.max(1, Math.ceil((admission.untilMs - deps.nowMs()) / 1000));
          throw hubError('TOO_MANY_ATTEMPTS', `too many failed logins; try again in ${retryAfterSec} s`, { retryAfterSec });
        }
        const tried = claims.filter((c) => admission.open.includes(keyOf(c.namespace)));
        const results = tried.length > 0 ? await Promise.all(tried.map((c) => check(c, password))) : [await dummyCheck(password).then(() => undefined)];
        const matches = tried.flatMap((c, i) => (results[i] ? [{ key: keyOf(c.namespace), principal: results[i]! }] : []));

        if (matches.length === 1) {
          deps.throttle.succeeded(matches[0].key, address);
          return matches[0].principal;
        }
        if (matches.length > 1) {
          deps.throttle.ambiguous();
          throw hubError('ORGANIZATION_REQUIRED', 'this username and password match accounts of several organizations; log in with your organization (operatorId)');
        }
        deps.throttle.failed(admission.open, address);
        throw hubError('INVALID_CREDENTIALS', 'wrong username or password');
      });
    },
  };
}

export type LoginAuthenticator = ReturnType<typeof createLoginAuthenticator>;
