import { randomUUID } from 'node:crypto';
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { sectionsOf } from '../../common/critical-sections';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { hubError } from '../errors';
import type { AccessRecord, Client, CustomerLogin, Service, ServiceType } from './access-model';
import { ENTITY_ID, SERVICE_TYPES } from './access-model';
import type { RecordFields } from './record-input';
import type { SecretBox } from './secret-box';
import { loginNamesOf, tenantNamespace, type LoginClaim } from '../identity/login-names';

/**
 * AccessRepository: clients, services, access records and customer logins over the KeyValueStore port.
 *
 * Keys (ids never contain '/'):
 *   access/client/<op>/<clientId>          Client
 *   access/service/<op>/<serviceId>        Service
 *   access/record/<op>/<recordId>          AccessRecord
 *   access/service-record/<op>/<serviceId> recordId   (one record per service)
 *   access/login/<op>/<username>           CustomerLogin (older versions: access/login/<username>, moved at start)
 *
 * A customer login's username is claimed in its tenant's namespace of login names
 * (hub/identity/login-names.ts), shared with that operator's users and no one else's.
 * Every mutation runs alone (one queue per repository) and writes all its keys in one atomic batch,
 * together with its login-name claims, so a check ("is this username free?") and the write that
 * relies on it cannot interleave with another (operator users' creations included).
 */
export function createAccessRepository(deps: { kv: KeyValueStore; secrets: SecretBox }) {
  const { kv, secrets } = deps;
  const loginNames = loginNamesOf(kv);
  const K = {
    client: (op: string, id: string) => `access/client/${op}/${id}`,
    service: (op: string, id: string) => `access/service/${op}/${id}`,
    record: (op: string, id: string) => `access/record/${op}/${id}`,
    serviceRecord: (op: string, serviceId: string) => `access/service-record/${op}/${serviceId}`,
    login: (op: string, username: string) => `access/login/${op}/${username}`,
  };
  const claimOf = (operatorId: string, username: string): LoginClaim =>
    ({ namespace: tenantNamespace(operatorId), name: username, owner: { kind: 'customer', operatorId, username } });
  const getJson = async <T>(key: string): Promise<T | undefined> => {
    const v = await kv.get(key);
    return v ? decodeJson<T>(v) : undefined;
  };
  const listJson = async <T>(prefix: string): Promise<T[]> => (await collect(kv, prefixRange(prefix))).map(([, v]) => decodeJson<T>(v));
  const put = (key: string, value: unknown): KvOp => ({ type: 'put', key, value: encodeJson(value) });

  const queue = sectionsOf(deps.kv).section('access'); // across hub processes on a shared store
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => queue.run(fn);

  // The associated data ties a sealed password to its login (see secret-box.ts).
  const aad = (login: { operatorId: string; username: string }) => `flowbill/access-login/${login.operatorId}/${login.username}`;

  function checkId(field: string, id: unknown): string {
    if (typeof id !== 'string' || !ENTITY_ID.test(id)) throw hubError('VALIDATION_FAILED', `${field}: 1-64 of [A-Za-z0-9_.-]`, { field });
    return id;
  }
  function checkText(field: string, v: unknown, max: number, required: boolean): string | undefined {
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw hubError('VALIDATION_FAILED', `${field}: text of 1-${max} characters`, { field });
    return v.trim();
  }
  function checkEmail(v: unknown): string | undefined {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(v) || v.length > 254) throw hubError('VALIDATION_FAILED', 'email: not an e-mail address', { field: 'email' });
    return v;
  }
  function checkType(v: unknown): ServiceType {
    if (!SERVICE_TYPES.includes(v as ServiceType)) throw hubError('VALIDATION_FAILED', `type: one of ${SERVICE_TYPES.join(', ')}`, { field: 'type' });
    return v as ServiceType;
  }

  async function mustGet<T>(key: string, what: string): Promise<T> {
    const v = await getJson<T>(key);
    if (!v) throw hubError('NOT_FOUND', `no ${what}`);
    return v;
  }

  async function recordsOfLogin(operatorId: string, username: string): Promise<AccessRecord[]> {
    return (await listJson<AccessRecord>(`access/record/${operatorId}/`)).filter((r) => r.username === username);
  }

  /**
   * Ops that bind `username` to this client, applying the password change, and the login-name claim
   * they need. A username held by another client of this operator is LOGIN_TAKEN here, one held by an
   * operator user of this operator (or a case variant of another login) when the claim is committed;
   * the same client's login is reused. Other operators' names are not looked at.
   */
  async function loginOps(operatorId: string, clientId: string, username: string, fields: RecordFields, nowMs: number): Promise<{ ops: KvOp[]; claim: LoginClaim[] }> {
    const existing = await getJson<CustomerLogin>(K.login(operatorId, username));
    if (existing && existing.clientId !== clientId) throw hubError('LOGIN_TAKEN', `username ${username} is taken`);
    const claim = [claimOf(operatorId, username)];
    if (existing && fields.password === undefined && !fields.clearPassword) return { ops: [], claim };
    const login: CustomerLogin = existing ?? { username, operatorId, clientId, updatedAtMs: nowMs };
    if (fields.password !== undefined) login.password = secrets.seal(fields.password, aad(login));
    if (fields.clearPassword) delete login.password;
    login.updatedAtMs = nowMs;
    return { ops: [put(K.login(operatorId, username), login)], claim };
  }

  /** Deletes the login (and releases its name) when `exceptRecordId` was its last record. */
  async function orphanLoginOps(operatorId: string, username: string, exceptRecordId: string): Promise<{ ops: KvOp[]; release: LoginClaim[] }> {
    const others = (await recordsOfLogin(operatorId, username)).filter((r) => r.recordId !== exceptRecordId);
    return others.length === 0 ? { ops: [{ type: 'del', key: K.login(operatorId, username) }], release: [claimOf(operatorId, username)] } : { ops: [], release: [] };
  }

  const repo = {
    // ── clients ────────────────────────────────────────────────────────────────
    createClient: (operatorId: string, input: { clientId?: unknown; name?: unknown; email?: unknown }, nowMs: number) => exclusive(async () => {
      const clientId = input.clientId === undefined ? randomUUID() : checkId('clientId', input.clientId);
      const client: Client = { clientId, operatorId, name: checkText('name', input.name, 200, true)!, createdAtMs: nowMs, updatedAtMs: nowMs };
      const email = checkEmail(input.email);
      if (email) client.email = email;
      if (await kv.get(K.client(operatorId, clientId))) throw hubError('CONFLICT', `client ${clientId} exists`);
      await kv.write([put(K.client(operatorId, clientId), client)]);
      return client;
    }),
    updateClient: (operatorId: string, clientId: string, input: { name?: unknown; email?: unknown }, nowMs: number) => exclusive(async () => {
      const client = await mustGet<Client>(K.client(operatorId, clientId), `client ${clientId}`);
      if (input.name !== undefined) client.name = checkText('name', input.name, 200, true)!;
      if (input.email !== undefined) {
        const email = checkEmail(input.email);
        if (email) client.email = email; else delete client.email;
      }
      client.updatedAtMs = nowMs;
      await kv.write([put(K.client(operatorId, clientId), client)]);
      return client;
    }),
    getClient: (operatorId: string, clientId: string) => getJson<Client>(K.client(operatorId, clientId)),
    listClients: (operatorId: string) => listJson<Client>(`access/client/${operatorId}/`),
    deleteClient: (operatorId: string, clientId: string) => exclusive(async () => {
      await mustGet<Client>(K.client(operatorId, clientId), `client ${clientId}`);
      const services = (await repo.listServices(operatorId)).filter((s) => s.clientId === clientId);
      if (services.length > 0) throw hubError('CONFLICT', `client ${clientId} still has ${services.length} service(s)`);
      await kv.write([{ type: 'del', key: K.client(operatorId, clientId) }]);
    }),

    // ── services ───────────────────────────────────────────────────────────────
    createService: (operatorId: string, input: { serviceId?: unknown; clientId?: unknown; type?: unknown; label?: unknown }, nowMs: number) => exclusive(async () => {
      const serviceId = input.serviceId === undefined ? randomUUID() : checkId('serviceId', input.serviceId);
      const clientId = checkId('clientId', input.clientId);
      const service: Service = { serviceId, operatorId, clientId, type: checkType(input.type), label: checkText('label', input.label, 200, true)!, createdAtMs: nowMs, updatedAtMs: nowMs };
      await mustGet<Client>(K.client(operatorId, clientId), `client ${clientId}`);
      if (await kv.get(K.service(operatorId, serviceId))) throw hubError('CONFLICT', `service ${serviceId} exists`);
      await kv.write([put(K.service(operatorId, serviceId), service)]);
      return service;
    }),
    updateService: (operatorId: string, serviceId: string, input: { clientId?: unknown; type?: unknown; label?: unknown }, nowMs: number) => exclusive(async () => {
      const service = await mustGet<Service>(K.service(operatorId, serviceId), `service ${serviceId}`);
      // The record's login belongs to the service's client; moving the service would hand that login to another client.
      if (input.clientId !== undefined && input.clientId !== service.clientId) throw hubError('CONFLICT', 'a service cannot move to another client; create a new service');
      if (input.type !== undefined) service.type = checkType(input.type);
      if (input.label !== undefined) service.label = checkText('label', input.label, 200, true)!;
      service.updatedAtMs = nowMs;
      await kv.write([put(K.service(operatorId, serviceId), service)]);
      return service;
    }),
    getService: (operatorId: string, serviceId: string) => getJson<Service>(K.service(operatorId, serviceId)),
    listServices: (operatorId: string) => listJson<Service>(`access/service/${operatorId}/`),
    deleteService: (operatorId: string, serviceId: string) => exclusive(async () => {
      await mustGet<Service>(K.service(operatorId, serviceId), `service ${serviceId}`);
      if (await kv.get(K.serviceRecord(operatorId, serviceId))) throw hubError('CONFLICT', `service ${serviceId} still has an access record`);
      await kv.write([{ type: 'del', key: K.service(operatorId, serviceId) }]);
    }),

    // ── access records ─────────────────────────────────────────────────────────
    createRecord: (operatorId: string, serviceIdRaw: unknown, fields: RecordFields, nowMs: number) => exclusive(async () => {
      const serviceId = checkId('serviceId', serviceIdRaw);
      const service = await mustGet<Service>(K.service(operatorId, serviceId), `service ${serviceId}`);
      if (await kv.get(K.serviceRecord(operatorId, serviceId))) throw hubError('CONFLICT', `service ${serviceId} already has an access record`);
      if (fields.group == null && fields.ipAddress == null) throw hubError('VALIDATION_FAILED', 'group or ipAddress: give at least one', { field: 'group' });
      const record: AccessRecord = {
        recordId: randomUUID(), operatorId, serviceId, clientId: service.clientId,
        enabled: fields.enabled ?? true, username: fields.username!, notes: fields.notes ?? '',
        showPasswordInClientArea: fields.showPasswordInClientArea ?? false, createdAtMs: nowMs, updatedAtMs: nowMs,
      };
      if (fields.netflowUrl) record.netflowUrl = fields.netflowUrl;
      if (fields.group) record.group = fields.group;
      if (fields.ipAddress) record.ipAddress = fields.ipAddress;
      const { ops, claim } = await loginOps(operatorId, service.clientId, record.username, fields, nowMs);
      await loginNames.commit({ claim, ops: [...ops, put(K.record(operatorId, record.recordId), record), put(K.serviceRecord(operatorId, serviceId), record.recordId)] });
      return record;
    }),
    updateRecord: (operatorId: string, recordId: string, fields: RecordFields, nowMs: number) => exclusive(async () => {
      const record = await mustGet<AccessRecord>(K.record(operatorId, recordId), `access record ${recordId}`);
      const oldUsername = record.username;
      if (fields.enabled !== undefined) record.enabled = fields.enabled;
      if (fields.showPasswordInClientArea !== undefined) record.showPasswordInClientArea = fields.showPasswordInClientArea;
      if (fields.notes !== undefined) record.notes = fields.notes;
      if (fields.netflowUrl !== undefined) { if (fields.netflowUrl) record.netflowUrl = fields.netflowUrl; else delete record.netflowUrl; }
      if (fields.group !== undefined) { if (fields.group) record.group = fields.group; else delete record.group; }
      if (fields.ipAddress !== undefined) { if (fields.ipAddress) record.ipAddress = fields.ipAddress; else delete record.ipAddress; }
      if (record.group === undefined && record.ipAddress === undefined) throw hubError('VALIDATION_FAILED', 'group or ipAddress: give at least one', { field: 'group' });
      if (fields.username !== undefined) record.username = fields.username;
      record.updatedAtMs = nowMs;
      if (oldUsername !== record.username && fields.password === undefined && !fields.clearPassword && !(await getJson(K.login(operatorId, record.username)))) {
        // Renaming to a fresh login keeps the password the customer already has.
        const carried = await repo.revealPassword(operatorId, oldUsername);
        if (carried !== undefined) fields = { ...fields, password: carried };
      }
      const { ops, claim } = await loginOps(operatorId, record.clientId, record.username, fields, nowMs);
      const orphan = oldUsername !== record.username ? await orphanLoginOps(operatorId, oldUsername, recordId) : { ops: [], release: [] };
      await loginNames.commit({ claim, release: orphan.release, ops: [...orphan.ops, ...ops, put(K.record(operatorId, recordId), record)] });
      return record;
    }),
    getRecord: (operatorId: string, recordId: string) => getJson<AccessRecord>(K.record(operatorId, recordId)),
    async getRecordOfService(operatorId: string, serviceId: string): Promise<AccessRecord | undefined> {
      const recordId = await getJson<string>(K.serviceRecord(operatorId, serviceId));
      return recordId ? getJson<AccessRecord>(K.record(operatorId, recordId)) : undefined;
    },
    listRecords: (operatorId: string) => listJson<AccessRecord>(`access/record/${operatorId}/`),
    recordsOfLogin,
    deleteRecord: (operatorId: string, recordId: string) => exclusive(async () => {
      const record = await mustGet<AccessRecord>(K.record(operatorId, recordId), `access record ${recordId}`);
      const orphan = await orphanLoginOps(operatorId, record.username, recordId);
      await loginNames.commit({ release: orphan.release, ops: [
        ...orphan.ops,
        { type: 'del', key: K.record(operatorId, recordId) },
        { type: 'del', key: K.serviceRecord(operatorId, record.serviceId) },
      ] });
    }),

    // ── logins ─────────────────────────────────────────────────────────────────
    getLogin: (operatorId: string, username: string) => getJson<CustomerLogin>(K.login(operatorId, username)),
    async hasPassword(operatorId: string, username: string): Promise<boolean> {
      return (await repo.getLogin(operatorId, username))?.password !== undefined;
    },
    /** The plaintext password, for the welcome mail and the client area only; undefined if none is stored. */
    async revealPassword(operatorId: string, username: string): Promise<string | undefined> {
      const login = await repo.getLogin(operatorId, username);
      return login?.password ? secrets.open(login.password, aad(login)) : undefined;
    },
    /**
     * Moves logins stored by older versions under access/login/<username> (one namespace for every
     * tenant) to access/login/<op>/<username> and claims each name in its tenant. Idempotent; run at
     * start, before HTTP listens. A name that now collides within its tenant (a case variant of another
     * login or of an operator user) is left where it was and returned: it cannot log in until renamed.
     */
    migrateLegacyLogins: () => exclusive(async (): Promise<{ migrated: number; conflicts: string[] }> => {
      const out = { migrated: 0, conflicts: [] as string[] };
      for (const [key, value] of await collect(kv, prefixRange('access/login/'))) {
        if (key.slice('access/login/'.length).includes('/')) continue; // already per tenant
        const login = decodeJson<CustomerLogin>(value);
        try {
          await loginNames.commit({ claim: [claimOf(login.operatorId, login.username)], ops: [put(K.login(login.operatorId, login.username), login), { type: 'del', key }] });
          out.migrated++;
        } catch (err) {
          if ((err as { code?: string }).code !== 'LOGIN_TAKEN') throw err;
          out.conflicts.push(`${tenantNamespace(login.operatorId)}/${login.username}`);
        }
      }
      return out;
    }),
    /**
     * Re-seals every stored customer password that is not sealed under the current key (after a key
     * rotation, or a v1 value from before key ids), in the repository's queue so no write interleaves.
     * Idempotent. A value no key opens is counted and left as it is: that customer cannot log in until
     * the operator sets a new password (or restores the key).
     */
    resealSecrets: () => exclusive(async (): Promise<ResealReport> => {
      const report: ResealReport = { resealed: 0, legacyZeroKey: 0, alreadyCurrent: 0, unopenableUsernames: [], kidsStillInUse: [] };
      const stillInUse = new Set<string>();
      let ops: KvOp[] = [];
      for (const [key, value] of await collect(kv, prefixRange('access/login/'))) {
        const login = decodeJson<CustomerLogin>(value);
        if (!login.password) continue;
        if (!secrets.needsResealing(login.password)) { report.alreadyCurrent++; continue; }
        try {
          const { plaintext, legacyZeroKey } = secrets.openForResealing(login.password, aad(login));
          login.password = secrets.seal(plaintext, aad(login));
          ops.push(put(key, login));
          report.resealed++;
          if (legacyZeroKey) report.legacyZeroKey++;
        } catch {
          report.unopenableUsernames.push(login.username);
          if (login.password.v === 2) stillInUse.add(login.password.kid);
        }
        if (ops.length >= 500) { await kv.write(ops); ops = []; }
      }
      if (ops.length > 0) await kv.write(ops);
      report.kidsStillInUse = [...stillInUse];
      return report;
    }),
  };
  return repo;
}

/** What AccessRepository.resealSecrets did. */
export interface ResealReport {
  /** Values re-sealed under the current key... */
  resealed: number;
  /** ...of which this many were v1 values under the public all-zero key of old installs. */
  legacyZeroKey: number;
  alreadyCurrent: number;
  /** Logins whose stored password no key opens (left unchanged). */
  unopenableUsernames: string[];
  /** Key ids other than the current one still named by stored values (only unopenable ones). */
  kidsStillInUse: string[];
}

export type AccessRepository = ReturnType<typeof createAccessRepository>;
