import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../../common/logger';
import type { MqttPublisher } from './mqtt-publisher';

export interface HubMqttClientDeps {
  url: string;
  username?: string;
  password?: string;
  /** Fixed id + persistent session: the broker queues QoS 1 summaries while the hub is away. */
  clientId: string;
  /**
   * MQTT 5 with this session expiry (external brokers; aedes speaks 3.1.1 only). Without it the session is
   * MQTT 3.1.1's and never expires, which a shared subscription cannot afford: Mosquitto keeps dealing a
   * dead member its share for as long as its session lives (README.md, "Several hubs").
   */
  sessionExpirySec?: number;
  log: Logger;
  /**
   * Called for every message; the broker gets our PUBACK only after it resolves, and no further
   * message is delivered meanwhile. It must therefore never wait for a PUBACK of its own publishes
   * (that PUBACK arrives on this same connection, behind the held message): start them, don't await.
   */
  onMessage(topic: string, payload: Uint8Array, meta: { retained: boolean }): Promise<void>;
}

/**
 * The hub's one MQTT client, the same code path for the embedded and an external broker.
 * PUBACK to the broker is held until onMessage resolved (mqtt.js handleMessage), so a message
 * that arrived while the hub crashed mid-ingest is redelivered from the broker's session; the
 * ingestor's content-identity dedup (hub/ingest/content-dedup.ts) makes that harmless. Messages are therefore handled one at a time.
 */
export function createHubMqttClient(deps: HubMqttClientDeps): MqttPublisher & {
  connect(filters: string[]): Promise<void>;
  close(): Promise<void>;
  connected(): boolean;
} {
  let client: MqttClient | undefined;
  return {
    async connect(filters) {
      const c = mqtt.connect(deps.url, {
        clientId: deps.clientId,
        username: deps.username,
        password: deps.password,
        clean: false,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        ...(deps.sessionExpirySec === undefined
          ? { protocolVersion: 4 as const }
          : { protocolVersion: 5 as const, properties: { sessionExpiryInterval: deps.sessionExpirySec } }),
      });
      client = c;
      c.handleMessage = (packet: IPublishPacket, callback) => {
        const payload = typeof packet.payload === 'string' ? new TextEncoder().encode(packet.payload) : new Uint8Array(packet.payload);
        deps.onMessage(packet.topic, payload, { retained: !!packet.retain }).then(() => callback(), (err) => {
          deps.log.error({ err, topic: packet.topic }, 'MQTT message handler failed');
          callback();
        });
      };
      c.on('error', (err) => deps.log.warn({ err: err.message }, 'hub MQTT client error'));
      c.on('offline', () => deps.log.warn({ url: deps.url }, 'hub MQTT client offline; reconnecting'));
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => { c.off('connect', onConnect); reject(err); };
        const onConnect = () => { c.off('error', onError); resolve(); };
        c.once('connect', onConnect);
        c.once('error', onError);
      });
      // mqtt.js re-subscribes by itself after a reconnect that found no session (resubscribe: true).
      try {
        await c.subscribeAsync(filters, { qos: 1 });
      } catch (err) {
        // mqtt.js rejects when any filter got SUBACK 0x80.
        await c.endAsync(true);
        throw new Error(`the broker refused the hub's subscriptions to ${filters.join(', ')} (${(err as Error).message}); with an external broker, its ACL must let the hub user subscribe to these filters and write flowbill/v1/+/+/{ack,config,stored}`);
      }
    },

    async publish(topic, payload, opts) {
      if (!client) throw new Error('hub MQTT client not started');
      // Fail fast rather than queue in memory while offline: callers (acks, config pushes) have
      // their own recovery (the edge resends; configs are re-pushed on start) and must not hang.
      if (!client.connected) throw new Error('hub MQTT client not connected');
      await client.publishAsync(topic, Buffer.from(payload), { qos: opts.qos, retain: !!opts.retain });
    },

    connected: () => !!client?.connected,

    async close() {
      const c = client;
      client = undefined;
      if (c) await c.endAsync();
    },
  };
}
