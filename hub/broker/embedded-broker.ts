import { Aedes, type AuthenticateError, type Client } from 'aedes';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../common/logger';
import { mayPublish, maySubscribe, type MqttIdentity } from '../edges/mqtt-acl';
import type { MqttAuthority } from '../edges/mqtt-authority';

export interface EmbeddedBrokerDeps {
  host: string;
  /** 0 picks an ephemeral port (tests); start() reports the real one. */
  port: number;
  authority: MqttAuthority;
  log: Logger;
}

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

const identityKey = (who: MqttIdentity) => (who.kind === 'edge' ? `edge:${who.edgeId}` : who.kind === 'consumer' ? `consumer:${who.username}` : 'hub');

/**
 * The embedded aedes broker. aedes stays generic; the hub's rules plug in through its hooks:
 * authenticate (MqttAuthority), authorizePublish / authorizeSubscribe (mqtt-acl.ts).
 * Also closes the live connections of a revoked edge (disconnectEdge), and refuses a client id
 * already held by ANOTHER identity: MQTT lets a new connection take over a client id and drop the
 * old one [MQTT-3.1.4-2], which would let one tenant's consumer knock an edge off the broker.
 * Note: aedes sends PUBACK before the hub stores anything; only the hub's Ack means "stored".
 */
export function createEmbeddedBroker(deps: EmbeddedBrokerDeps) {
  const identities = new WeakMap<Client, MqttIdentity>();
  const connected = new Map<string, Client>(); // client id -> client
  let broker: Aedes | undefined;
  let server: net.Server | undefined;

  return {
    async start(): Promise<{ port: number }> {
      broker = await Aedes.createBroker({
        authenticate(client, username, password, done) {
          deps.authority.authenticate(username, password?.toString('utf8')).then((who) => {
            if (!who) return done(authError('bad username or password', 4), false);
            const holder = connected.get(client.id);
            const holderWho = holder ? identities.get(holder) : undefined;
            if (holder && !holder.closed && holderWho && identityKey(holderWho) !== identityKey(who)) {
              return done(authError('client id in use by another identity', 2), false);
            }
            identities.set(client, who);
            done(null, true);
          }, () => done(authError('authentication failed', 3), false));
        },
        authorizePublish(client, packet, done) {
          if (!client) return done(null); // the broker's own publications
          const who = identities.get(client);
          if (who && mayPublish(who, packet.topic)) return done(null);
          deps.log.warn({ clientId: client.id, topic: packet.topic }, 'MQTT publish refused by ACL; closing the connection');
          done(new Error('publish not authorized'));
        },
        authorizeSubscribe(client, sub, done) {
          const who = identities.get(client);
          if (who && maySubscribe(who, sub.topic)) return done(null, sub);
          deps.log.warn({ clientId: client.id, topic: sub.topic }, 'MQTT subscription refused by ACL');
          done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3-2]
        },
      });
      broker.on('clientReady', (client) => { connected.set(client.id, client); });
      broker.on('clientDisconnect', (client) => { if (connected.get(client.id) === client) connected.delete(client.id); });
      const b = broker;
      server = net.createServer((socket) => b.handle(socket));
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(deps.port, deps.host, () => { server!.off('error', reject); resolve(); });
      });
      const port = (server.address() as AddressInfo).port;
      deps.log.info({ host: deps.host, port }, 'embedded MQTT broker listening');
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

    connectedClientCount: () => connected.size,

    async stop(): Promise<void> {
      const s = server;
      const b = broker;
      server = undefined;
      broker = undefined;
      if (b) await new Promise<void>((resolve) => b.close(() => resolve()));
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
      connected.clear();
    },
  };
}

export type EmbeddedBroker = ReturnType<typeof createEmbeddedBroker>;
