import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../common/logger';
import { edgeTopic, SAFE_ID, TOPIC_ROOT, type TopicKind } from '../../common/topics';
import { hubError } from '../errors';
import { CONSUMER_SUBSCRIBES, EDGE_PUBLISHES, EDGE_SUBSCRIBES } from '../edges/mqtt-acl';
import { sharedHubSubscriptions } from './hub-subscriptions';

/**
 * Mosquitto's dynamic-security plugin, driven over its control topic: the hub pushes each edge's and
 * consumer's credentials and ACLs when they are issued or revoked, so no password file is edited by
 * hand. The rules are mqtt-acl.ts's, the embedded broker's, written as dynsec roles (one per identity).
 * Protocol: https://mosquitto.org/documentation/dynamic-security/ (a JSON {commands:[...]} published on
 * $CONTROL/dynamic-security/v1, answered by {responses:[...]} on .../response, in order, each command
 * carrying back its correlationData).
 */
export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

export type DynsecAclType = 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribeLiteral' | 'unsubscribePattern';
export interface DynsecAcl { acltype: DynsecAclType; topic: string; allow: boolean }
export interface DynsecCommand { command: string; [field: string]: unknown }
export interface DynsecResponse { command: string; error?: string; data?: unknown; correlationData?: string }

/** What the hub itself publishes; it subscribes to HUB_SUBSCRIPTIONS (summaries through the share group). */
const HUB_PUBLISHES: readonly TopicKind[] = ['ack', 'config', 'stored'];
export const HUB_ROLE = 'flowbill-hub';
export const edgeRole = (edgeId: string) => `flowbill-edge-${edgeId}`;
export const consumerRole = (username: string) => `flowbill-consumer-${username}`;

/**
 * An edge publishes flowbill/v1/<its tenant>/<its edge>/{summaries,status,live} and subscribes, with
 * no wildcard, to its own {ack,config} (mqtt-acl.ts mayPublish / maySubscribe). Everything else falls to
 * dynsec's defaults: publishing and subscribing denied. `stored` is never granted (it would forge billing).
 */
export function edgeAcls(operatorId: string, edgeId: string): DynsecAcl[] {
  return [
    ...EDGE_PUBLISHES.map((kind): DynsecAcl => ({ acltype: 'publishClientSend', topic: edgeTopic(operatorId, edgeId, kind), allow: true })),
    ...EDGE_SUBSCRIBES.map((kind): DynsecAcl => ({ acltype: 'subscribeLiteral', topic: edgeTopic(operatorId, edgeId, kind), allow: true })),
  ];
}

/**
 * A consumer subscribes to flowbill/v1/<its tenant>/<edge or +>/{summaries,status,live,stored}, never
 * publishes. subscribePattern matches a filter's own wildcards only against the same or wider ones in
 * the pattern, so `+` in the tenant level, or `#`, is refused, as maySubscribe does.
 */
export function consumerAcls(operatorId: string): DynsecAcl[] {
  if (!SAFE_ID.test(operatorId)) throw new Error(`unsafe tenant id: ${operatorId}`);
  return CONSUMER_SUBSCRIBES.map((kind): DynsecAcl => ({ acltype: 'subscribePattern', topic: `${TOPIC_ROOT}/${operatorId}/+/${kind}`, allow: true }));
}

/**
 * The hubs' role. Mosquitto 2.0 checks a shared subscription's ACL on the whole filter, `$share/<group>/`
 * included (checked against 2.0.11), so the share group is part of the rule.
 */
export function hubAcls(shareGroup: string): DynsecAcl[] {
  return [
    ...sharedHubSubscriptions(shareGroup).map((filter): DynsecAcl => ({ acltype: 'subscribeLiteral', topic: filter, allow: true })),
    ...HUB_PUBLISHES.map((kind): DynsecAcl => ({ acltype: 'publishClientSend', topic: `${TOPIC_ROOT}/+/+/${kind}`, allow: true })),
  ];
}

/** One request/response round over the control topic. Rejects on timeout or when not connected. */
export interface DynsecControl {
  send(commands: DynsecCommand[]): Promise<DynsecResponse[]>;
  close(): Promise<void>;
}

export interface DynsecControlDeps {
  /** The external broker's URL with a dynsec admin's credentials (FLOWBILL_MQTT_URL). */
  url: string;
  /** Unique per hub: every admin connection receives every response, so ids are prefixed with it. */
  clientId: string;
  timeoutMs?: number;
  log: Logger;
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
}

/**
 * Its own connection (clean session), not the hub's ingest client: that one holds each message's
 * PUBACK until the message is handled, so a response queued behind ingest would wait on it.
 * Connects on first use, so credentials issued before the hub started are pushed too.
 */
export function createDynsecControl(deps: DynsecControlDeps): DynsecControl {
  const timeoutMs = deps.timeoutMs ?? 5000;
  const timers = deps.timers ?? { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  const pending = new Map<string, { resolve(r: DynsecResponse[]): void }>();
  let seq = 0;
  let ready: Promise<MqttClient> | undefined;

  const connect = async (): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(deps.url, { clientId: deps.clientId, clean: true, reconnectPeriod: 1000, connectTimeout: timeoutMs, protocolVersion: 5 });
    c.on('error', (err) => deps.log.warn({ err: err.message }, 'dynamic-security control connection error'));
    c.on('message', (topic, payload) => {
      if (topic !== DYNSEC_RESPONSE_TOPIC) return;
      let responses: DynsecResponse[];
      try { responses = (JSON.parse(payload.toString()) as { responses: DynsecResponse[] }).responses; } catch { return; }
      const id = responses?.[0]?.correlationData?.split('#')[0];
      const waiter = id === undefined ? undefined : pending.get(id);
      if (waiter) { pending.delete(id!); waiter.resolve(responses); }
    });
    try {
      await c.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 1 });
    } catch (err) {
      await c.endAsync(true);
      throw new Error(`the broker refused the dynamic-security response topic (${(err as Error).message}): the user of FLOWBILL_MQTT_URL must be a dynsec admin`);
    }
    return c;
  };

  return {
    async send(commands) {
      if (!ready) ready = connect().catch((err) => { ready = undefined; throw err; });
      const c = await ready;
      // Reconnecting (dynsec disconnects a client whose roles change, the hubs' admin included): wait a moment.
      if (!c.connected) {
        await new Promise<void>((resolve, reject) => {
          const timer = timers.setTimeout(() => { c.off('connect', onConnect); reject(new Error('dynamic-security control connection is down')); }, timeoutMs);
          const onConnect = () => { timers.clearTimeout(timer); resolve(); };
          c.once('connect', onConnect);
        });
      }
      const id = `${deps.clientId}:${++seq}`;
      const tagged = commands.map((cmd, i) => ({ ...cmd, correlationData: `${id}#${i}` }));
      return new Promise<DynsecResponse[]>((resolve, reject) => {
        const timer = timers.setTimeout(() => {
          pending.delete(id);
          reject(new Error(`no answer from the broker's dynamic-security plugin within ${timeoutMs} ms (is the plugin loaded?)`));
        }, timeoutMs);
        pending.set(id, { resolve: (r) => { timers.clearTimeout(timer); resolve(r); } });
        c.publishAsync(DYNSEC_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 }).catch((err: Error) => {
          timers.clearTimeout(timer);
          pending.delete(id);
          reject(err);
        });
      });
    },
    async close() {
      const r = ready;
      ready = undefined;
      if (r) await (await r.catch(() => undefined))?.endAsync();
    },
  };
}

/** Errors that mean "already so": each operation is written to be repeated (a retried rotate or revoke). */
const EXISTS = new Set(['Role already exists', 'Client already exists', 'ACL with this topic already exists']);
const GONE = new Set(['Client not found', 'Role not found']);

/**
 * BrokerCredentials: the broker side of the edge registry's credential events. Every method is
 * idempotent. A failure is a BROKER_UNAVAILABLE error: the registry's write stands (the hub's own
 * state is the truth), and repeating the operation (rotate, revoke) pushes again; reconcile() at start
 * removes from the broker what the registry no longer has.
 */
export function createDynamicSecurity(deps: { control: DynsecControl; shareGroup: string; log: Logger }) {
  async function run(what: string, commands: DynsecCommand[], tolerated: Set<string>): Promise<DynsecResponse[]> {
    let responses: DynsecResponse[];
    try {
      responses = await deps.control.send(commands);
    } catch (err) {
      throw hubError('BROKER_UNAVAILABLE', `${what}: the MQTT broker was not updated (${(err as Error).message}); the hub's change is stored, repeat the operation`);
    }
    const failed = responses.filter((r) => r.error !== undefined && !tolerated.has(r.error));
    if (failed.length) throw hubError('BROKER_UNAVAILABLE', `${what}: the broker refused ${failed.map((r) => `${r.command} (${r.error})`).join(', ')}`);
    return responses;
  }

  async function putClient(what: string, username: string, password: string, role: string, acls: DynsecAcl[]): Promise<void> {
    const [, created] = await run(what, [
      { command: 'createRole', rolename: role, acls },
      { command: 'createClient', username, password, roles: [{ rolename: role }] },
    ], EXISTS);
    // An existing client (a rotation, a re-run provisioning): a new password. (Not addClientRole again:
    // 2.0.11 answers "Internal error" for a role the client already has.)
    if (created.error === 'Client already exists') await run(what, [{ command: 'setClientPassword', username, password }], EXISTS);
    deps.log.info({ username, rotated: created.error === 'Client already exists' }, 'broker credentials pushed (dynamic-security)');
  }

  async function removeClient(what: string, username: string, role: string): Promise<void> {
    // deleteClient disconnects the client's live connections ("disconnected by administrative action").
    await run(what, [{ command: 'deleteClient', username }, { command: 'deleteRole', rolename: role }], GONE);
    deps.log.info({ username }, 'broker credentials deleted (dynamic-security)');
  }

  return {
    putEdge: (edge: { edgeId: string; operatorId: string }, password: string) =>
      putClient(`edge ${edge.edgeId}`, edge.edgeId, password, edgeRole(edge.edgeId), edgeAcls(edge.operatorId, edge.edgeId)),
    removeEdge: (edgeId: string) => removeClient(`edge ${edgeId}`, edgeId, edgeRole(edgeId)),
    putConsumer: (consumer: { username: string; operatorId: string }, password: string) =>
      putClient(`consumer ${consumer.username}`, consumer.username, password, consumerRole(consumer.username), consumerAcls(consumer.operatorId)),
    removeConsumer: (username: string) => removeClient(`consumer ${username}`, username, consumerRole(username)),

    /**
     * The hubs' role, given to the admin user the hubs connect as; before the hub subscribes. Changing a
     * client's roles makes dynsec disconnect that client's connections (checked against 2.0.11), this
     * control connection among them, and the answer is lost: so check first, change only what is
     * missing (the first hub's first start), then check again once reconnected.
     */
    async ensureHub(hubUsername: string): Promise<void> {
      const acls = hubAcls(deps.shareGroup);
      const complete = async () => {
        const [client, role] = await run('hub role', [{ command: 'getClient', username: hubUsername }, { command: 'getRole', rolename: HUB_ROLE }], GONE);
        const roles = (client.data as { client?: { roles?: { rolename: string }[] } } | undefined)?.client?.roles ?? [];
        const have = (role.data as { role?: { acls?: DynsecAcl[] } } | undefined)?.role?.acls ?? [];
        if (client.error) throw hubError('BROKER_UNAVAILABLE', `hub role: the broker's dynamic-security has no client ${hubUsername} (the user of FLOWBILL_MQTT_URL)`);
        return roles.some((r) => r.rolename === HUB_ROLE) && acls.every((a) => have.some((h) => h.acltype === a.acltype && h.topic === a.topic && h.allow === a.allow));
      };
      if (await complete()) return;
      await deps.control.send([
        { command: 'createRole', rolename: HUB_ROLE, acls },
        // a role made by an older hub, or for another share group, gains what is missing
        ...acls.map((acl) => ({ command: 'addRoleACL', rolename: HUB_ROLE, ...acl })),
        { command: 'addClientRole', username: hubUsername, rolename: HUB_ROLE },
      ]).catch(() => undefined); // answered, or lost to the disconnection: complete() decides
      if (!(await complete())) throw hubError('BROKER_UNAVAILABLE', `hub role: could not give ${hubUsername} the role ${HUB_ROLE} on the broker`);
    },

    /**
     * Deletes from the broker the edges and consumers the registry no longer has live (revoked while
     * the broker was unreachable). Live identities unknown to the broker cannot be added (the hub keeps
     * only password hashes): they are returned, to be rotated.
     */
    async reconcile(live: { edgeIds: string[]; consumerUsernames: string[] }): Promise<{ removed: string[]; missing: string[] }> {
      const [list] = await run('reconcile', [{ command: 'listClients', count: -1, offset: 0 }], new Set());
      const onBroker = new Set(((list.data as { clients?: unknown[] } | undefined)?.clients ?? []).map((c) => (typeof c === 'string' ? c : (c as { username: string }).username)));
      const wanted = new Set([...live.edgeIds, ...live.consumerUsernames]);
      const ours = (u: string) => /^(edge|consumer)-[0-9a-f]+$/.test(u);
      const removed = [...onBroker].filter((u) => ours(u) && !wanted.has(u));
      for (const u of removed) {
        if (u.startsWith('edge-')) await removeClient(`edge ${u}`, u, edgeRole(u));
        else await removeClient(`consumer ${u}`, u, consumerRole(u));
      }
      return { removed, missing: [...wanted].filter((u) => !onBroker.has(u)) };
    },
  };
}

export type DynamicSecurity = ReturnType<typeof createDynamicSecurity>;
