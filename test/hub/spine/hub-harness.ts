import mqtt, { type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import { createManualClock } from '../../../common/clock';
import type { KeyValueStore } from '../../../common/kv/kv-store';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger, type Logger } from '../../../common/logger';
import type { Timers } from '../../../common/ticker';
import { loadHubConfig, type HubConfig } from '../../../hub/config';
import { createHub } from '../../../hub/create-hub';
import type { HubContext, HubModules } from '../../../hub/create-hub';

/** A whole hub on ephemeral ports (HTTP and embedded MQTT on 127.0.0.1), memory KV unless given. */
export async function startTestHub(opts: { kv?: KeyValueStore; nowMs?: number; modules?: (ctx: HubContext) => HubModules; config?: Partial<HubConfig>; log?: Logger; timers?: Timers } = {}) {
  const kv = opts.kv ?? createMemoryKvStore();
  const clock = createManualClock(opts.nowMs ?? Date.UTC(2026, 10, 3, 12));
  const config = loadHubConfig({}, { httpPort: 0, mqttPort: 0, adminPassword: 'admin-pw', dataDir: '/nonexistent', jobsEnabled: false, ...opts.config });
  const hub = createHub({ config, kv, clock, log: opts.log ?? silentLogger, modules: opts.modules, timers: opts.timers });
  const { httpUrl, mqttUrl } = await hub.start();
  const clients: MqttClient[] = [];

  async function api(method: string, path: string, body?: unknown, token?: string) {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${httpUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  }
  const adminToken = (await api('POST', '/api/v1/login', { username: 'admin', password: 'admin-pw' })).body.token as string;

  /**
   * Connects an mqtt.js client (no reconnects); rejects with the CONNACK error when refused.
   * The default client id is `<username>-t<random>`: the broker binds client ids to the credential.
   */
  async function connect(username: string, password: string, clientId = `${username}-t${randomBytes(4).toString('hex')}`): Promise<MqttClient> {
    const c = await mqtt.connectAsync(mqttUrl, { username, password, clientId, reconnectPeriod: 0, connectTimeout: 5000 });
    clients.push(c);
    return c;
  }

  return {
    hub, kv, clock, httpUrl, mqttUrl, api, adminToken, connect,
    admin: (method: string, path: string, body?: unknown) => api(method, path, body, adminToken),
    async close() {
      for (const c of clients) c.end(true);
      await hub.stop();
    },
  };
}

/** Resolves with the next message on a topic, or rejects after timeoutMs. */
export function nextMessage(client: MqttClient, topic: string, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.off('message', onMessage); reject(new Error(`no message on ${topic} within ${timeoutMs} ms`)); }, timeoutMs);
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(payload);
    };
    client.on('message', onMessage);
  });
}

export function waitForClose(client: MqttClient, timeoutMs = 10_000): Promise<void> {
  if (client.disconnected || !client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connection was not closed')), timeoutMs);
    client.once('close', () => { clearTimeout(timer); resolve(); });
  });
}

/** The SUBACK return codes for these filters (mqtt.js rejects when any is 0x80; the packet still says which). */
export async function grantedQos(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet;
    if (!packet?.granted) throw err;
    return packet.granted;
  }
}
