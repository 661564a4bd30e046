import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { sectionsOf } from '../../common/critical-sections';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { hubError } from '../errors';

/**
 * Login names: who may log in as what, and where a name must be unique. The one place that decides
 * it, for operator users (identity-store.ts) and customers (access-repository.ts).
 *
 * A name is unique within its namespace: one tenant (`op:<operatorId>`: that operator's users and its
 * customers), or the platform (`platform`: super_admins). Tenants never see each other's names:
 * LOGIN_TAKEN only ever means "taken in your own tenant". Names compare case-insensitively ("Joe" and
 * "joe" are one name), and keep the case they were created with.
 *
 * Key: login-name/<folded name>/<namespace> -> LoginClaim, so all namespaces holding a name are one
 * prefix scan (login without an organization) and one namespace's is one get.
 *
 * Claims are atomic: every commit on a store runs alone (one queue per KeyValueStore, see loginNamesOf)
 * and writes its claims together with the caller's own keys in one batch, so two concurrent creations
 * of one name cannot both win, and a claim never exists without the account it names (or vice versa).
 */
export type LoginNamespace = string;
export const PLATFORM_NAMESPACE: LoginNamespace = 'platform';
export const tenantNamespace = (operatorId: string): LoginNamespace => `op:${operatorId}`;
/** The namespace of an operator user: its tenant, or the platform for super_admins. */
export const userNamespace = (user: { role: string; operatorId?: string }): LoginNamespace =>
  user.role === 'super_admin' || !user.operatorId ? PLATFORM_NAMESPACE : tenantNamespace(user.operatorId);

/** Who holds a name: an operator user (by id), or a customer login (by tenant and username). */
export type LoginOwner = { kind: 'user'; userId: string } | { kind: 'customer'; operatorId: string; username: string };

export interface LoginClaim {
  namespace: LoginNamespace;
  /** As created (case kept). */
  name: string;
  owner: LoginOwner;
}

/** The comparison form of a name. Usernames are ASCII ([A-Za-z0-9_.@-]), where this is exact. */
export const foldLoginName = (name: string): string => name.toLowerCase();

const sameOwner = (a: LoginOwner, b: LoginOwner) =>
  a.kind === 'user' ? b.kind === 'user' && a.userId === b.userId : b.kind === 'customer' && a.operatorId === b.operatorId && a.username === b.username;

export function createLoginNames(kv: KeyValueStore) {
  const key = (namespace: LoginNamespace, name: string) => `login-name/${foldLoginName(name)}/${namespace}`;
  const read = async (k: string) => {
    const v = await kv.get(k);
    return v ? decodeJson<LoginClaim>(v) : undefined;
  };

  const queue = sectionsOf(kv).section('login-names'); // claims are atomic across hub processes on a shared store
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => queue.run(fn);

  return {
    /** The claim on this name (any case) in this namespace. */
    get: (namespace: LoginNamespace, name: string) => read(key(namespace, name)),

    /** Every claim on this name (any case), in every namespace. */
    async find(name: string): Promise<LoginClaim[]> {
      // Names never contain '/', so the trailing slash keeps "joe" from matching "joe.x".
      return (await collect(kv, prefixRange(`login-name/${foldLoginName(name)}/`))).map(([, v]) => decodeJson<LoginClaim>(v));
    },

    /**
     * Atomically: every claim must be free in its namespace or already held by the same owner (else
     * LOGIN_TAKEN, naming only that namespace's name), then the claims, the releases (only where the
     * releasing owner still holds the name) and `ops` are written in one batch.
     */
    commit: (change: { claim?: LoginClaim[]; release?: LoginClaim[]; ops?: KvOp[] }) => exclusive(async () => {
      const writes: KvOp[] = [];
      // Releases first: renaming "Joe" to "joe" releases and claims one key (the put comes after the del).
      const released = new Set<string>();
      for (const r of change.release ?? []) {
        const held = await read(key(r.namespace, r.name));
        if (held && sameOwner(held.owner, r.owner)) {
          writes.push({ type: 'del', key: key(r.namespace, r.name) });
          released.add(key(r.namespace, r.name));
        }
      }
      for (const c of change.claim ?? []) {
        const held = released.has(key(c.namespace, c.name)) ? undefined : await read(key(c.namespace, c.name));
        if (held && !sameOwner(held.owner, c.owner)) throw hubError('LOGIN_TAKEN', `username ${c.name} is taken`);
        if (!held || held.name !== c.name) writes.push({ type: 'put', key: key(c.namespace, c.name), value: encodeJson(c) });
      }
      writes.push(...(change.ops ?? []));
      if (writes.length > 0) await kv.write(writes);
    }),
  };
}

export type LoginNames = ReturnType<typeof createLoginNames>;

const perStore = new WeakMap<KeyValueStore, LoginNames>();

/**
 * The registry of this store. One per store, whoever asks (the identity store and the access
 * repository are created separately), because the atomicity of claims rests on its one queue.
 */
export function loginNamesOf(kv: KeyValueStore): LoginNames {
  let names = perStore.get(kv);
  if (!names) {
    names = createLoginNames(kv);
    perStore.set(kv, names);
  }
  return names;
}
