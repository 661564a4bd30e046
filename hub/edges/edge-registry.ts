import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../common/clock';
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { sectionsOf } from '../../common/critical-sections';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { SAFE_ID } from '../../common/topics';
import { hubError } from '../errors';
import { hashPassword, randomSecret, verifyPassword } from '../identity/password-hash';
import type { MqttIdentity } from './mqtt-acl';

export interface EdgeRecord {
  edgeId: string;
  operatorId: string;
  name: string;
  /** scrypt hash of the MQTT password (hub/identity/password-hash.ts); the password itself is shown once. */
  secretHash: string;
  revoked: boolean;
  createdAtMs: number;
  credentialsIssuedAtMs: number;
  revokedAtMs?: number;
}

export interface ConsumerRecord { username: string; operatorId: string; name: string; secretHash: string; createdAtMs: number }

/** What an edge (or a consumer) needs to connect; the password is returned only at issue time. */
export interface MqttCredentials { edgeId?: string; tenantId: string; mqttUrl: string; username: string; password: string }

/**
 * New MQTT credentials were stored (an edge created, enrolled or rotated; a consumer created), with the
 * password in clear: the one moment the hub has it, so an external broker can be told (hub/broker/dynamic-security.ts).
 */
export type CredentialsIssued =
  | { kind: 'edge'; edge: EdgeRecord; password: string }
  | { kind: 'consumer'; consumer: ConsumerRecord; password: string };

export type EdgeView = Omit<EdgeRecord, 'secretHash'>;
export const edgeView = ({ secretHash: _secretHash, ...rest }: EdgeRecord): EdgeView => rest;

/**
 * Keys:
 *   edges/<edgeId>                       EdgeRecord (the MQTT username is the edgeId)
 *   edges-name/<operatorId>/<enc name>   edgeId of the live (non-revoked) edge with that name
 *   edges-token/<sha256 of token>        {operatorId, expiresAtMs}: one-time enrollment token
 *   mqtt-consumers/<username>            ConsumerRecord
 * Tokens are stored hashed: reading the database does not let anyone enroll.
 */
const NAME = /^[^\u0000-\u001f]{1,128}$/;
const edgeKey = (edgeId: string) => `edges/${edgeId}`;
const nameKey = (operatorId: string, name: string) => `edges-name/${operatorId}/${encodeURIComponent(name)}`;
const tokenKey = (token: string) => `edges-token/${createHash('sha256').update(token).digest('hex')}`;
const consumerKey = (username: string) => `mqtt-consumers/${username}`;

export interface EdgeRegistryDeps {
  kv: KeyValueStore;
  clock: Clock;
  /** Handed to edges in their credentials (config.publicMqttUrl). */
  publicMqttUrl: string;
  /**
   * Operations written in the same atomic write as a revocation (the edge record already revoked):
   * hub/edges/subject-management.ts records there which interfaces stop being managed with it.
   */
  revocationOps?(edge: EdgeRecord): Promise<KvOp[]>;
}

/**
 * EdgeRegistry: edges and read-only consumers of each operator, with their MQTT credentials.
 * Mutations are serialized, so "create by name" is idempotent even under concurrent calls.
 * Listeners registered with onRevoked run after the revocation is stored (the broker closes the
 * edge's live connections there); onCredentialsIssued and onConsumerRevoked likewise after their write.
 * A listener's error fails the call, the write stays: repeating the call (rotate, revoke) repeats the listeners.
 */
export function createEdgeRegistry(deps: EdgeRegistryDeps) {
  const { kv, clock } = deps;
  const revokedListeners: ((edge: EdgeRecord) => void | Promise<void>)[] = [];
  const issuedListeners: ((issued: CredentialsIssued) => void | Promise<void>)[] = [];
  const consumerRevokedListeners: ((consumer: ConsumerRecord) => void | Promise<void>)[] = [];
  const issued = async (event: CredentialsIssued) => { for (const listener of issuedListeners) await listener(event); };
  const queue = sectionsOf(deps.kv).section('edges'); // create-by-name stays idempotent across hub processes
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => queue.run(fn);
  const getJson = async <T>(key: string): Promise<T | undefined> => {
    const v = await kv.get(key);
    return v ? decodeJson<T>(v) : undefined;
  };
  const credentialsOf = (edge: EdgeRecord, password: string): MqttCredentials => ({
    edgeId: edge.edgeId, tenantId: edge.operatorId, mqttUrl: deps.publicMqttUrl, username: edge.edgeId, password,
  });

  async function createOrRotateByName(operatorId: string, name: string, extraOps: { type: 'del'; key: string }[] = []) {
    if (!SAFE_ID.test(operatorId)) throw hubError('VALIDATION_FAILED', 'operatorId must be 1-64 of [A-Za-z0-9_-]');
    if (typeof name !== 'string' || !NAME.test(name.trim())) throw hubError('VALIDATION_FAILED', 'name: 1-128 printable characters');
    const cleanName = name.trim();
    const nowMs = clock.nowMs();
    const password = randomSecret();
    const secretHash = await hashPassword(password);
    const existingId = await getJson<string>(nameKey(operatorId, cleanName));
    const existing = existingId ? await getJson<EdgeRecord>(edgeKey(existingId)) : undefined;
    // Re-creating an existing name (a re-run provisioning script) returns that edge with fresh
    // credentials. A revoked edge stays revoked: the name then gets a new edge.
    const edge: EdgeRecord = existing && !existing.revoked
      ? { ...existing, secretHash, credentialsIssuedAtMs: nowMs }
      : { edgeId: `edge-${randomBytes(6).toString('hex')}`, operatorId, name: cleanName, secretHash, revoked: false, createdAtMs: nowMs, credentialsIssuedAtMs: nowMs };
    await kv.write([
      { type: 'put', key: edgeKey(edge.edgeId), value: encodeJson(edge) },
      { type: 'put', key: nameKey(operatorId, cleanName), value: encodeJson(edge.edgeId) },
      ...extraOps,
    ]);
    await issued({ kind: 'edge', edge, password });
    return { edge: edgeView(edge), credentials: credentialsOf(edge, password), created: !(existing && !existing.revoked) };
  }

  async function ownedEdge(operatorId: string, edgeId: string): Promise<EdgeRecord> {
    const edge = SAFE_ID.test(edgeId) ? await getJson<EdgeRecord>(edgeKey(edgeId)) : undefined;
    if (!edge || edge.operatorId !== operatorId) throw hubError('NOT_FOUND', `no edge ${edgeId}`);
    return edge;
  }

  return {
    /** Creates an edge, or rotates the credentials of the operator's live edge with that name. */
    createEdge: (operatorId: string, name: string) => serialized(() => createOrRotateByName(operatorId, name)),

    async createEnrollmentToken(operatorId: string, ttlHours = 24): Promise<{ token: string; expiresAtMs: number }> {
      if (!Number.isFinite(ttlHours) || ttlHours <= 0 || ttlHours > 24 * 30) throw hubError('VALIDATION_FAILED', 'ttlHours: more than 0, at most 720');
      const token = `fbe_${randomSecret(24)}`;
      const expiresAtMs = clock.nowMs() + Math.round(ttlHours * 3600_000);
      await kv.write([{ type: 'put', key: tokenKey(token), value: encodeJson({ operatorId, expiresAtMs }) }]);
      return { token, expiresAtMs };
    },

    /** Redeems a one-time token: the token is deleted in the same atomic write that stores the edge. */
    enroll: (token: string, name: string) => serialized(async () => {
      if (typeof token !== 'string' || token.length > 200) throw hubError('ENROLLMENT_TOKEN_INVALID', 'invalid or expired enrollment token');
      const stored = await getJson<{ operatorId: string; expiresAtMs: number }>(tokenKey(token));
      if (!stored || stored.expiresAtMs <= clock.nowMs()) throw hubError('ENROLLMENT_TOKEN_INVALID', 'invalid or expired enrollment token');
      return createOrRotateByName(stored.operatorId, name, [{ type: 'del', key: tokenKey(token) }]);
    }),

    rotate: (operatorId: string, edgeId: string) => serialized(async () => {
      const edge = await ownedEdge(operatorId, edgeId);
      if (edge.revoked) throw hubError('EDGE_REVOKED', `edge ${edgeId} is revoked`);
      const password = randomSecret();
      const updated: EdgeRecord = { ...edge, secretHash: await hashPassword(password), credentialsIssuedAtMs: clock.nowMs() };
      await kv.write([{ type: 'put', key: edgeKey(edgeId), value: encodeJson(updated) }]);
      await issued({ kind: 'edge', edge: updated, password });
      return { edge: edgeView(updated), credentials: credentialsOf(updated, password) };
    }),

    revoke: (operatorId: string, edgeId: string) => serialized(async () => {
      const edge = await ownedEdge(operatorId, edgeId);
      const updated: EdgeRecord = edge.revoked ? edge : { ...edge, revoked: true, revokedAtMs: clock.nowMs() };
      if (!edge.revoked) {
        const pointer = await getJson<string>(nameKey(operatorId, edge.name));
        await kv.write([
          { type: 'put', key: edgeKey(edgeId), value: encodeJson(updated) },
          ...(pointer === edgeId ? [{ type: 'del' as const, key: nameKey(operatorId, edge.name) }] : []),
          ...((await deps.revocationOps?.(updated)) ?? []),
        ]);
      }
      for (const listener of revokedListeners) await listener(updated);
      return edgeView(updated);
    }),

    getEdge: (edgeId: string) => (SAFE_ID.test(edgeId) ? getJson<EdgeRecord>(edgeKey(edgeId)) : Promise.resolve(undefined)),

    async listEdges(operatorId: string): Promise<EdgeRecord[]> {
      return (await collect(kv, prefixRange('edges/'))).map(([, v]) => decodeJson<EdgeRecord>(v)).filter((e) => e.operatorId === operatorId);
    },

    async listAllEdges(): Promise<EdgeRecord[]> {
      return (await collect(kv, prefixRange('edges/'))).map(([, v]) => decodeJson<EdgeRecord>(v));
    },

    async createConsumer(operatorId: string, name: string): Promise<{ consumer: Omit<ConsumerRecord, 'secretHash'>; credentials: MqttCredentials }> {
      if (typeof name !== 'string' || !NAME.test(name.trim())) throw hubError('VALIDATION_FAILED', 'name: 1-128 printable characters');
      const password = randomSecret();
      const record: ConsumerRecord = { username: `consumer-${randomBytes(6).toString('hex')}`, operatorId, name: name.trim(), secretHash: await hashPassword(password), createdAtMs: clock.nowMs() };
      await kv.write([{ type: 'put', key: consumerKey(record.username), value: encodeJson(record) }]);
      await issued({ kind: 'consumer', consumer: record, password });
      const { secretHash: _h, ...consumer } = record;
      return { consumer, credentials: { tenantId: operatorId, mqttUrl: deps.publicMqttUrl, username: record.username, password } };
    },

    /** The operator's read-only consumers, without their password hashes. */
    async listConsumers(operatorId: string): Promise<Omit<ConsumerRecord, 'secretHash'>[]> {
      return (await collect(kv, prefixRange('mqtt-consumers/'))).map(([, v]) => decodeJson<ConsumerRecord>(v))
        .filter((c) => c.operatorId === operatorId).map(({ secretHash: _h, ...c }) => c);
    },

    /**
     * Revokes a consumer: its record is deleted, so verifyMqtt refuses its next CONNECT (the caller
     * closes live connections). Another tenant's consumer answers NOT_FOUND like a missing one.
     */
    async revokeConsumer(operatorId: string, username: string): Promise<Omit<ConsumerRecord, 'secretHash'>> {
      const c = username.startsWith('consumer-') && SAFE_ID.test(username) ? await getJson<ConsumerRecord>(consumerKey(username)) : undefined;
      if (!c || c.operatorId !== operatorId) throw hubError('NOT_FOUND', `no consumer ${username}`);
      await kv.write([{ type: 'del', key: consumerKey(username) }]);
      for (const listener of consumerRevokedListeners) await listener(c);
      const { secretHash: _h, ...consumer } = c;
      return consumer;
    },

    /** MQTT CONNECT check: a live edge or a consumer with the right password, else undefined. */
    async verifyMqtt(username: string, password: string): Promise<MqttIdentity | undefined> {
      if (!SAFE_ID.test(username)) return undefined;
      if (username.startsWith('consumer-')) {
        const c = await getJson<ConsumerRecord>(consumerKey(username));
        return c && (await verifyPassword(password, c.secretHash)) ? { kind: 'consumer', username, operatorId: c.operatorId } : undefined;
      }
      const edge = await getJson<EdgeRecord>(edgeKey(username));
      if (!edge || edge.revoked || !(await verifyPassword(password, edge.secretHash))) return undefined;
      return { kind: 'edge', edgeId: edge.edgeId, operatorId: edge.operatorId };
    },

    onRevoked(listener: (edge: EdgeRecord) => void | Promise<void>): void {
      revokedListeners.push(listener);
    },

    onCredentialsIssued(listener: (issued: CredentialsIssued) => void | Promise<void>): void {
      issuedListeners.push(listener);
    },

    onConsumerRevoked(listener: (consumer: ConsumerRecord) => void | Promise<void>): void {
      consumerRevokedListeners.push(listener);
    },

    /** Every consumer of every operator (the broker's reconciliation at start), without password hashes. */
    async listAllConsumers(): Promise<Omit<ConsumerRecord, 'secretHash'>[]> {
      return (await collect(kv, prefixRange('mqtt-consumers/'))).map(([, v]) => decodeJson<ConsumerRecord>(v)).map(({ secretHash: _h, ...c }) => c);
    },
  };
}

export type EdgeRegistry = ReturnType<typeof createEdgeRegistry>;
