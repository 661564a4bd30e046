import { createHash, randomUUID } from 'node:crypto';
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { sectionsOf } from '../../common/critical-sections';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { SAFE_ID } from '../../common/topics';
import { hubError } from '../errors';
import type { Principal, Role } from '../http/principal';
import { hashPassword } from './password-hash';
import { loginNamesOf, userNamespace, PLATFORM_NAMESPACE, tenantNamespace, type LoginClaim } from './login-names';

export interface Operator { operatorId: string; name: string; createdAtMs: number }
export interface User { userId: string; username: string; role: Role; operatorId?: string; passwordHash: string; createdAtMs: number;
  /** The password was generated or reset by someone else: the user must set their own before anything else. */
  mustChangePassword?: boolean;
  /** Set while the user is disabled (user-admin-routes.ts): login refuses them; absent = enabled. */
  disabledAtMs?: number }
export interface Session { token: string; principal: Principal; expiresAtMs: number }
/** What is stored of a session: never its token. */
export interface StoredSession { principal: Principal; expiresAtMs: number }

/** session/<hex SHA-256 of the token>: a leaked copy of the store holds no usable token. */
const SESSION_KEY = /^session\/[0-9a-f]{64}$/;
const sessionKey = (token: string) => `session/${createHash('sha256').update(token).digest('hex')}`;

/**
 * IdentityStore: operators (tenants), their users, and login sessions.
 * Keys: op/<operatorId>, user/<userId>, session/<sha256(token)>. Usernames are claimed in login-names.ts
 * (unique per tenant, or among super_admins), which is also how login finds a user by name; the key
 * username/<username> -> userId of older versions is moved there at start (migrateLegacyLogins).
 */
export function createIdentityStore(kv: KeyValueStore) {
  const getJson = async <T>(key: string): Promise<T | undefined> => {
    const v = await kv.get(key);
    return v ? decodeJson<T>(v) : undefined;
  };
  const loginNames = loginNamesOf(kv);
  return {
    /** Where identity's read-modify-writes serialize (across hub processes on a shared store). */
    sections: sectionsOf(kv),
    /** The login-name registry of this store (shared with customer logins). */
    loginNames,
    async createOperator(operatorId: string, name: string, nowMs: number): Promise<Operator> {
      if (!SAFE_ID.test(operatorId)) throw hubError('VALIDATION_FAILED', 'operatorId must be 1-64 of [A-Za-z0-9_-]');
      if (await kv.get(`op/${operatorId}`)) throw hubError('CONFLICT', `operator ${operatorId} exists`);
      const op: Operator = { operatorId, name, createdAtMs: nowMs };
      await kv.write([{ type: 'put', key: `op/${operatorId}`, value: encodeJson(op) }]);
      return op;
    },
    getOperator: (operatorId: string) => getJson<Operator>(`op/${operatorId}`),
    async listOperators(): Promise<Operator[]> {
      return (await collect(kv, prefixRange('op/'))).map(([, v]) => decodeJson<Operator>(v));
    },
    async createUser(input: { username: string; password: string; role: Role; operatorId?: string; mustChangePassword?: boolean }, nowMs: number): Promise<User> {
      if (!/^[A-Za-z0-9_.@-]{1,128}$/.test(input.username)) throw hubError('VALIDATION_FAILED', 'username: 1-128 of [A-Za-z0-9_.@-]');
      if (input.password.length < 4) throw hubError('VALIDATION_FAILED', 'password: at least 4 characters');
      if (input.role !== 'super_admin' && !input.operatorId) throw hubError('VALIDATION_FAILED', 'operator users need an operatorId');
      // A cheap early refusal before scrypt; the claim in commit() below is what decides.
      if (await loginNames.get(userNamespace(input), input.username)) throw hubError('LOGIN_TAKEN', `username ${input.username} is taken`);
      const user: User = {
        userId: randomUUID(), username: input.username, role: input.role, operatorId: input.operatorId,
        passwordHash: await hashPassword(input.password), createdAtMs: nowMs,
        ...(input.mustChangePassword ? { mustChangePassword: true } : {}),
      };
      await loginNames.commit({
        claim: [{ namespace: userNamespace(user), name: user.username, owner: { kind: 'user', userId: user.userId } }],
        ops: [{ type: 'put', key: `user/${user.userId}`, value: encodeJson(user) }],
      });
      return user;
    },
    getUser: (userId: string) => getJson<User>(`user/${userId}`),
    /** The user with this name (any case) among one tenant's users, or among super_admins without an operatorId. */
    async findUserByName(username: string, operatorId?: string): Promise<User | undefined> {
      const claim = await loginNames.get(operatorId === undefined ? PLATFORM_NAMESPACE : tenantNamespace(operatorId), username);
      return claim?.owner.kind === 'user' ? getJson<User>(`user/${claim.owner.userId}`) : undefined;
    },
    /**
     * Moves the username/<name> keys of older versions (one global namespace) into login-names, each
     * in its user's namespace. Idempotent. A name that now collides (only possible when two users of one
     * tenant differ in case alone) is left where it was and returned: that user cannot log in until renamed.
     */
    async migrateLegacyLogins(): Promise<{ migrated: number; conflicts: string[] }> {
      const out = { migrated: 0, conflicts: [] as string[] };
      for (const [key, value] of await collect(kv, prefixRange('username/'))) {
        const user = await getJson<User>(`user/${decodeJson<string>(value)}`);
        if (!user) { await kv.write([{ type: 'del', key }]); continue; }
        const claim: LoginClaim = { namespace: userNamespace(user), name: user.username, owner: { kind: 'user', userId: user.userId } };
        try {
          await loginNames.commit({ claim: [claim], ops: [{ type: 'del', key }] });
          out.migrated++;
        } catch (err) {
          if ((err as { code?: string }).code !== 'LOGIN_TAKEN') throw err;
          out.conflicts.push(`${claim.namespace}/${user.username}`);
        }
      }
      return out;
    },
    async listUsers(operatorId: string): Promise<User[]> {
      return (await collect(kv, prefixRange('user/'))).map(([, v]) => decodeJson<User>(v)).filter((u) => u.operatorId === operatorId);
    },
    /** Stores the session under the SHA-256 of its token; the token itself is never stored. */
    async putSession(session: Session): Promise<void> {
      const stored: StoredSession = { principal: session.principal, expiresAtMs: session.expiresAtMs };
      await kv.write([{ type: 'put', key: sessionKey(session.token), value: encodeJson(stored) }]);
    },
    /**
     * The session of a presented token. With nowMs, an expired session is deleted as it is met and
     * not returned (callers that pass no nowMs check expiresAtMs themselves).
     */
    async getSession(token: string, nowMs?: number): Promise<StoredSession | undefined> {
      const key = sessionKey(token);
      const session = await getJson<StoredSession>(key);
      if (!session || nowMs === undefined || session.expiresAtMs > nowMs) return session;
      await kv.write([{ type: 'del', key }]);
      return undefined;
    },
    async deleteSession(token: string): Promise<void> {
      await kv.write([{ type: 'del', key: sessionKey(token) }]);
    },
    /**
     * Deletes every session expired at nowMs, and every record left under the old key shape
     * session/<plaintext token> (from before tokens were hashed: those users log in again).
     * Returns how many were deleted.
     */
    async purgeExpiredSessions(nowMs: number): Promise<number> {
      const dels: KvOp[] = [];
      for await (const [key, value] of kv.entries(prefixRange('session/'))) {
        if (!SESSION_KEY.test(key) || decodeJson<StoredSession>(value).expiresAtMs <= nowMs) dels.push({ type: 'del', key });
      }
      if (dels.length) await kv.write(dels);
      return dels.length;
    },
    /** Replaces a user's password (scrypt-hashed, never kept in clear) and sets or clears the forced change. */
    async setPassword(userId: string, password: string, opts: { mustChangePassword: boolean }): Promise<User> {
      const user = await getJson<User>(`user/${userId}`);
      if (!user) throw hubError('NOT_FOUND', `no user ${userId}`);
      const { mustChangePassword: _old, ...rest } = user;
      const updated: User = { ...rest, passwordHash: await hashPassword(password), ...(opts.mustChangePassword ? { mustChangePassword: true } : {}) };
      await kv.write([{ type: 'put', key: `user/${userId}`, value: encodeJson(updated) }]);
      return updated;
    },
    /** Disables (at nowMs) or enables a user; the caller ends a disabled user's sessions (deleteUserSessions). */
    async setUserEnabled(userId: string, enabled: boolean, nowMs: number): Promise<User> {
      const user = await getJson<User>(`user/${userId}`);
      if (!user) throw hubError('NOT_FOUND', `no user ${userId}`);
      const { disabledAtMs: _was, ...rest } = user;
      const updated: User = enabled ? rest : { ...rest, disabledAtMs: user.disabledAtMs ?? nowMs };
      await kv.write([{ type: 'put', key: `user/${userId}`, value: encodeJson(updated) }]);
      return updated;
    },
    /**
     * Ends every session of a user (after a password change or reset) except the one under `keepToken`.
     * A scan of session/: changes are rare, and it needs no per-user index kept in step with expiry.
     */
    async deleteUserSessions(userId: string, keepToken?: string): Promise<number> {
      const keepKey = keepToken === undefined ? undefined : sessionKey(keepToken);
      const dels: KvOp[] = [];
      for await (const [key, value] of kv.entries(prefixRange('session/'))) {
        if (key !== keepKey && decodeJson<Session>(value).principal.userId === userId) dels.push({ type: 'del', key });
      }
      if (dels.length) await kv.write(dels);
      return dels.length;
    },
  };
}

export type IdentityStore = ReturnType<typeof createIdentityStore>;
