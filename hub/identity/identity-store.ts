import { randomUUID } from 'node:crypto';
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { SAFE_ID } from '../../common/topics';
import { hubError } from '../errors';
import type { Principal, Role } from '../http/principal';
import { hashPassword } from './password-hash';

export interface Operator { operatorId: string; name: string; createdAtMs: number }
export interface User { userId: string; username: string; role: Role; operatorId?: string; passwordHash: string; createdAtMs: number;
  /** The password was generated or reset by someone else: the user must set their own before anything else. */
  mustChangePassword?: boolean }
export interface Session { token: string; principal: Principal; expiresAtMs: number }

/**
 * IdentityStore: operators (tenants), their users, and login sessions.
 * Keys: op/<operatorId>, user/<userId>, username/<username> -> userId, session/<token>.
 */
export function createIdentityStore(kv: KeyValueStore) {
  const getJson = async <T>(key: string): Promise<T | undefined> => {
    const v = await kv.get(key);
    return v ? decodeJson<T>(v) : undefined;
  };
  return {
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
      if (await kv.get(`username/${input.username}`)) throw hubError('LOGIN_TAKEN', `username ${input.username} is taken`);
      const user: User = {
        userId: randomUUID(), username: input.username, role: input.role, operatorId: input.operatorId,
        passwordHash: await hashPassword(input.password), createdAtMs: nowMs,
        ...(input.mustChangePassword ? { mustChangePassword: true } : {}),
      };
      await kv.write([
        { type: 'put', key: `user/${user.userId}`, value: encodeJson(user) },
        { type: 'put', key: `username/${user.username}`, value: encodeJson(user.userId) },
      ]);
      return user;
    },
    getUser: (userId: string) => getJson<User>(`user/${userId}`),
    async findUserByName(username: string): Promise<User | undefined> {
      const id = await getJson<string>(`username/${username}`);
      return id ? getJson<User>(`user/${id}`) : undefined;
    },
    async isUsernameTaken(username: string): Promise<boolean> {
      return (await kv.get(`username/${username}`)) !== undefined;
    },
    async listUsers(operatorId: string): Promise<User[]> {
      return (await collect(kv, prefixRange('user/'))).map(([, v]) => decodeJson<User>(v)).filter((u) => u.operatorId === operatorId);
    },
    async putSession(session: Session): Promise<void> {
      await kv.write([{ type: 'put', key: `session/${session.token}`, value: encodeJson(session) }]);
    },
    getSession: (token: string) => getJson<Session>(`session/${token}`),
    async deleteSession(token: string): Promise<void> {
      await kv.write([{ type: 'del', key: `session/${token}` }]);
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
    /**
     * Ends every session of a user (after a password change or reset) except the one under `keepToken`.
     * A scan of session/: changes are rare, and it needs no per-user index kept in step with expiry.
     */
    async deleteUserSessions(userId: string, keepToken?: string): Promise<number> {
      const keepKey = keepToken === undefined ? undefined : `session/${keepToken}`;
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
