import { Aedes, type AuthenticateError, type Client } from 'aedes';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { systemClock, type Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { mayPublish, mayUseClientId, maySubscribe, type MqttIdentity } from '../edges/mqtt-acl';
import { HUB_MQTT_USERNAME, type MqttAuthority } from '../edges/mqtt-authority';
import { addressKey, createAuthLockout, type AuthLockoutRules } from '../security/auth-lockout';
import { guardConnection, realTimers, type GuardedConnection, type Timers } from './guarded-connection';
import { createRateLimitedLog } from '../../common/rate-limited-log';

export interface BrokerLimits {
  /** Largest remaining length of a packet from an authenticated edge or consumer (config.mqttMaxPacketBytes). */
  maxPacketBytes: number;
  /** Largest packet before authentication, i.e. the CONNECT (config.mqttMaxConnectBytes). */
  maxConnectBytes: number;
  /** A socket that has not authenticated within this time is closed (config.mqttConnectTimeoutMs). */
  connectTimeoutMs: number;
}

export const DEFAULT_BROKER_LIMITS: Readonly<BrokerLimits> = { maxPacketBytes: 2 * 1024 * 1024, maxConnectBytes: 64 * 1024, connectTimeoutMs: 10_000 };
export const DEFAULT_LOCKOUT_RULES: Readonly<AuthLockoutRules> = { maxFailures: 10, failureWindowMs: 5 * 60_000, lockoutMs: 15 * 60_000, maxTrackedKeys: 10_000 };
/** MQTT 3.1.1 §2.2.3: the largest remaining length. The hub's own client (retained configs) gets it. */
const MQTT_MAX_REMAINING_LENGTH = 268_435_455;

export interface EmbeddedBrokerDeps {
  host: string;
  /** 0 picks an ephemeral port (tests); start() reports the real one. */
  port: number;
  authority: MqttAuthority;
  log: Logger;
  /** Lockout windows and log rate limits run on it. */
  clock?: Clock;
  limits?: Partial<BrokerLimits>;
  lockout?: Partial<AuthLockoutRules>;
  /** The connect deadline's timer (tests may inject one). */
  timers?: Timers;
  /** At most one WARN line per source and kind of refusal within this time (default 60 s). */
  logIntervalMs?: number;
}

export interface BrokerCounters {
  /** Sockets closed because they had not authenticated within connectTimeoutMs. */
  connectTimeouts: number;
  /** Sockets closed because a packet before authentication announced more than maxConnectBytes. */
  connectPacketsTooLarge: number;
  /** Connections closed because a packet announced more than maxPacketBytes. */
  packetsTooLarge: number;
  /** Connections closed because a fixed header's remaining length was malformed (§2.2.3). */
  malformedPackets: number;
  /** CONNECTs refused for a bad username or password. */
  authFailures: number;
  /** Usernames or addresses locked (each lock counts once). */
  authLockouts: number;
  /** CONNECTs refused, password unchecked, because the username or address was locked. */
  authRefusedLocked: number;
  /** CONNECTs refused (0x02) because the client id is not bound to the credential. */
  clientIdsRejected: number;
  /** Topic filters refused (SUBACK 0x80). */
  subscriptionsRefused: number;
  /** Publishes refused (the connection is closed). */
  publishesRefused: number;
}

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

const identityKey = (who: MqttIdentity) => (who.kind === 'edge' ? `edge:${who.edgeId}` : who.kind === 'consumer' ? `consumer:${who.username}` : 'hub');
/** Attacker-chosen strings go into logs shortened. */
const clip = (s: string | undefined, n = 100) => (s === undefined ? undefined : s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);

/**
 * The embedded aedes broker. aedes stays generic; the hub's rules plug in through its hooks:
 * authenticate (MqttAuthority + lockout + client-id binding), authorizePublish / authorizeSubscribe
 * (mqtt-acl.ts). Before aedes sees a byte, each socket goes through guardConnection: packet size
 * limits (aedes 1.x / mqtt-packet have none) and the connect deadline.
 * - Client ids are bound to credentials (mayUseClientId): nobody can take over or squat another
 *   identity's session [MQTT-3.1.4-2]; a refused id gets CONNACK 0x02. A zero-length client id
 *   (aedes assigns a unique one) is allowed.
 * - Failed logins are counted per username and per address and lock them for a while
 *   (hub/security/auth-lockout.ts); a locked attempt gets CONNACK 0x05 without its password being checked.
 * - Refusals are counted every time and logged at most once per source per logIntervalMs; all
 *   refused filters of one SUBSCRIBE make one line.
 * Also closes the live connections of a revoked edge (disconnectEdge).
 * Note: aedes sends PUBACK before the hub stores anything; only the hub's Ack means "stored".
 */
export function createEmbeddedBroker(deps: EmbeddedBrokerDeps) {
  const clock = deps.clock ?? systemClock;
  const limits: BrokerLimits = { ...DEFAULT_BROKER_LIMITS, ...deps.limits };
  const lockout = createAuthLockout({ ...DEFAULT_LOCKOUT_RULES, ...deps.lockout }, clock);
  const lockoutRules = { ...DEFAULT_LOCKOUT_RULES, ...deps.lockout };
  const refusals = createRateLimitedLog({ log: deps.log, clock, intervalMs: deps.logIntervalMs ?? 60_000 });
  const counters: BrokerCounters = {
    connectTimeouts: 0, connectPacketsTooLarge: 0, packetsTooLarge: 0, malformedPackets: 0, authFailures: 0, authLockouts: 0,
    authRefusedLocked: 0, clientIdsRejected: 0, subscriptionsRefused: 0, publishesRefused: 0,
  };
  const identities = new WeakMap<Client, MqttIdentity>();
  const guards = new WeakMap<Duplex, GuardedConnection>();
  const assignedIds = new WeakSet<Client>(); // CONNECTs with a zero-length client id
  const connected = new Map<string, Client>(); // client id -> client
  const sockets = new Set<net.Socket>();
  let broker: Aedes | undefined;
  let server: net.Server | undefined;

  const remoteOf = (client: Client) => guards.get(client.conn as unknown as Duplex)?.remoteAddress ?? 'unknown';

  // All filters of one SUBSCRIBE are authorized in one synchronous loop (aedes runParallel), so
  // refusals gathered until the next microtask belong to one packet.
  const pendingSubRefusals = new Map<Client, { count: number; examples: string[] }>();
  function flushSubRefusals() {
    for (const [client, p] of pendingSubRefusals) {
      const who = identities.get(client);
      refusals.warn(`subscribe:${who ? identityKey(who) : client.id}`, { clientId: clip(client.id), refused: p.count, examples: p.examples }, 'MQTT subscriptions refused by ACL', p.count);
    }
    pendingSubRefusals.clear();
  }
  function refuseSubscription(client: Client, topic: string) {
    counters.subscriptionsRefused++;
    let p = pendingSubRefusals.get(client);
    if (!p) {
      if (pendingSubRefusals.size === 0) queueMicrotask(flushSubRefusals);
      p = { count: 0, examples: [] };
      pendingSubRefusals.set(client, p);
    }
    p.count++;
    if (p.examples.length < 3) p.examples.push(clip(topic)!);
  }

  function onSocket(socket: net.Socket, b: Aedes) {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const guard = guardConnection(socket, limits, deps.timers ?? realTimers, (why, authenticated) => {
      const remoteAddress = socket.remoteAddress ?? 'unknown';
      const source = addressKey(remoteAddress);
      if (why.kind === 'connect-timeout') {
        counters.connectTimeouts++;
        refusals.warn(`timeout:${source}`, { remoteAddress, connectTimeoutMs: limits.connectTimeoutMs }, 'MQTT socket closed: no successful CONNECT in time');
      } else if (why.kind === 'malformed-length') {
        counters.malformedPackets++;
        refusals.warn(`malformed:${source}`, { remoteAddress, packetType: why.packetType }, 'MQTT socket closed: malformed remaining length');
      } else {
        if (authenticated) counters.packetsTooLarge++;
        else counters.connectPacketsTooLarge++;
        refusals.warn(`too-large:${source}`, { remoteAddress, packetType: why.packetType, announcedBytes: why.remainingLength, limitBytes: why.limitBytes, authenticated },
          'MQTT socket closed: packet larger than the limit');
      }
    });
    guards.set(guard.conn, guard);
    b.handle(guard.conn as unknown as net.Socket);
  }

  return {
    async start(): Promise<{ port: number }> {
      broker = await Aedes.createBroker({
        // Backstop only: guardConnection closes sockets that have not authenticated in time.
        connectTimeout: limits.connectTimeoutMs * 2,
        preConnect(client, packet, done) {
          if (packet.clientId === '') assignedIds.add(client);
          done(null, true);
        },
        authenticate(client, username, password, done) {
          const guard = guards.get(client.conn as unknown as Duplex);
          const remoteAddress = remoteOf(client);
          const user = username ?? '';
          const lock = lockout.check(user, remoteAddress);
          // The hub's own client is never locked out (else an attacker could keep the hub from
          // (re)connecting): its secret is 32 random bytes per process and is checked without scrypt.
          if (lock.locked && user !== HUB_MQTT_USERNAME) {
            counters.authRefusedLocked++;
            return done(authError('temporarily locked after repeated failed logins', 5), false);
          }
          deps.authority.authenticate(username, password?.toString('utf8')).then((who) => {
            if (!who) {
              counters.authFailures++;
              for (const locked of lockout.recordFailure(user, remoteAddress)) {
                counters.authLockouts++;
                deps.log.warn({ scope: locked.scope, [locked.scope]: clip(locked.key), remoteAddress, untilMs: locked.untilMs, maxFailures: lockoutRules.maxFailures, windowMs: lockoutRules.failureWindowMs },
                  `MQTT logins for this ${locked.scope} locked after repeated failures`);
              }
              refusals.warn(`auth:${addressKey(remoteAddress)}`, { username: clip(user), remoteAddress }, 'MQTT login refused: bad username or password');
              return done(authError('bad username or password', 4), false);
            }
            if (!assignedIds.has(client) && !mayUseClientId(who, client.id)) {
              counters.clientIdsRejected++;
              refusals.warn(`client-id:${identityKey(who)}`, { clientId: clip(client.id), identity: identityKey(who), remoteAddress },
                'MQTT client id refused: it must be bound to the credential (<username> or <username>-<suffix>)');
              return done(authError('client id not allowed for this identity', 2), false);
            }
            // Defense in depth (ids are bound to credentials): never let another identity take over.
            const holder = connected.get(client.id);
            const holderWho = holder ? identities.get(holder) : undefined;
            if (holder && !holder.closed && holderWho && identityKey(holderWho) !== identityKey(who)) {
              counters.clientIdsRejected++;
              return done(authError('client id in use by another identity', 2), false);
            }
            lockout.recordSuccess(user, remoteAddress);
            guard?.authenticated(who.kind === 'hub' ? MQTT_MAX_REMAINING_LENGTH : limits.maxPacketBytes);
            identities.set(client, who);
            done(null, true);
          }, () => done(authError('authentication failed', 3), false));
        },
        authorizePublish(client, packet, done) {
          if (!client) return done(null); // the broker's own publications
          const who = identities.get(client);
          if (who && mayPublish(who, packet.topic)) return done(null);
          counters.publishesRefused++;
          refusals.warn(`publish:${who ? identityKey(who) : client.id}`, { clientId: clip(client.id), topic: clip(packet.topic) }, 'MQTT publish refused by ACL; closing the connection');
          done(new Error('publish not authorized'));
        },
        authorizeSubscribe(client, sub, done) {
          const who = identities.get(client);
          if (who && maySubscribe(who, sub.topic)) return done(null, sub);
          refuseSubscription(client, sub.topic);
          done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3-2]
        },
      });
      broker.on('clientReady', (client) => { connected.set(client.id, client); });
      broker.on('clientDisconnect', (client) => { if (connected.get(client.id) === client) connected.delete(client.id); });
      const b = broker;
      server = net.createServer((socket) => onSocket(socket, b));
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(deps.port, deps.host, () => { server!.off('error', reject); resolve(); });
      });
      const port = (server.address() as AddressInfo).port;
      deps.log.info({ host: deps.host, port, ...limits }, 'embedded MQTT broker listening');
      return { port };
    },

    /** Closes every live connection of this edge (it was revoked). Returns how many were closed. */
    disconnectEdge(edgeId: string): number {
      let n = 0;
      for (const client of [...connected.values()]) {
        const who = identities.get(client);
        if (who?.kind === 'edge' && who.edgeId === edgeId) { client.close(); n++; }
      }
      if (n) deps.log.info({ edgeId, connections: n }, 'revoked edge disconnected');
      return n;
    },

    /** Closes every live connection of this consumer (it was revoked). Returns how many were closed. */
    disconnectConsumer(username: string): number {
      let n = 0;
      for (const client of [...connected.values()]) {
        const who = identities.get(client);
        if (who?.kind === 'consumer' && who.username === username) { client.close(); n++; }
      }
      if (n) deps.log.info({ username, connections: n }, 'revoked consumer disconnected');
      return n;
    },

    connectedClientCount: () => connected.size,

    /** Refusal counters since start, plus gauges: connected clients, open sockets, locked usernames/addresses. */
    counters: (): BrokerCounters & { clientsConnected: number; socketsOpen: number; lockedNow: number } => ({
      ...counters, clientsConnected: connected.size, socketsOpen: sockets.size, lockedNow: lockout.lockedCount(),
    }),

    async stop(): Promise<void> {
      const s = server;
      const b = broker;
      server = undefined;
      broker = undefined;
      if (b) await new Promise<void>((resolve) => b.close(() => resolve()));
      // Sockets that never authenticated are not aedes clients with an id; close them too.
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
      connected.clear();
    },
  };
}

export type EmbeddedBroker = ReturnType<typeof createEmbeddedBroker>;
