/**
 * A whole flowbill on this machine for end-to-end tests: the real hub (embedded aedes, LevelDB,
 * every module) and a real edge (UDP socket, LevelDB, MQTT), sharing one manual clock so a test can
 * close 5-minute buckets without waiting for them. Timers (MQTT keepalive, checkpoints) stay real.
 */
import { freeTcpPort } from '../helpers/free-ports';
import path from 'node:path';
import { createManualClock } from '../../common/clock';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import type { KeyValueStore } from '../../common/kv/kv-store';
import { silentLogger } from '../../common/logger';
import { loadEdgeConfig } from '../../edge/config';
import { createEdge, type Edge } from '../../edge/create-edge';
import { loadHubConfig } from '../../hub/config';
import { createHub } from '../../hub/create-hub';
import { createHubModules } from '../../hub/hub-modules';


export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function createStack(dir: string, opts: { startMs: number; operatorId: string; ipGroups: { name: string; prefixes: string[] }[]; /** the edge's live top-talker interval (default 0: off) and count */ liveIntervalMs?: number; liveTopN?: number }) {
  const clock = createManualClock(opts.startMs);
  const mqttPort = await freeTcpPort();
  const hubConfig = loadHubConfig({}, {
    httpPort: 0, mqttPort, adminPassword: 'admin-pw', dataDir: path.join(dir, 'hub'), jobsEnabled: false,
    publicMqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
  });
  let hubKv: KeyValueStore | undefined;
  let hub: ReturnType<typeof createHub> | undefined;
  let httpUrl = '';
  let token = '';

  async function api(method: string, route: string, body?: unknown): Promise<any> {
    const res = await fetch(`${httpUrl}/api/v1${route}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  async function startHub(): Promise<void> {
    hubKv = await openLevelKvStore(path.join(dir, 'hub-db'));
    hub = createHub({ config: hubConfig, kv: hubKv, clock, log: silentLogger, modules: createHubModules });
    httpUrl = (await hub.start()).httpUrl;
    token = (await api('POST', '/login', { username: 'admin', password: 'admin-pw' })).token;
  }
  async function stopHub(): Promise<void> {
    await hub?.stop();
    await hubKv?.close();
    hub = undefined;
  }

  await startHub();
  const op = opts.operatorId;
  await api('POST', '/operators', { operatorId: op, name: 'E2E ISP' });
  await api('PUT', `/operators/${op}/active-customers`, { count: 900 });
  await api('POST', `/operators/${op}/addons/netflow/start-trial`);
  for (const g of opts.ipGroups) await api('POST', `/operators/${op}/ip-groups`, g);
  const { credentials } = await api('POST', `/operators/${op}/edges`, { name: 'e2e-edge' });

  const edgeConfig = loadEdgeConfig({
    env: {},
    overrides: {
      edgeId: credentials.edgeId, tenantId: credentials.tenantId, mqttUrl: credentials.mqttUrl,
      mqttUsername: credentials.username, mqttPassword: credentials.password,
      udpHost: '127.0.0.1', udpPort: 0, sflowPort: 0, dataDir: path.join(dir, 'edge'),
      checkpointIntervalMs: 200, closeGraceSec: 60, heartbeatIntervalMs: 1000, ackTimeoutMs: 2000, liveIntervalMs: opts.liveIntervalMs ?? 0, ...(opts.liveTopN ? { liveTopN: opts.liveTopN } : {}),
    },
  });
  const edgeKv = await openLevelKvStore(path.join(dir, 'edge-db'));
  const edge: Edge = createEdge({ config: edgeConfig, clock, log: silentLogger, kv: edgeKv });
  const udpPort = (await edge.start()).udpPort!;
  // A brand-new edge classifies by IP group only once the hub's retained config has arrived.
  await waitFor('the edge to receive its collection config', async () => (edge.status().configVersion > 0 ? true : undefined), 15_000);

  /** Totals of a subject's series over [fromSec, toSec) through the hub's HTTP API. */
  async function subjectTotals(subjectId: string, fromSec: number, toSec: number) {
    const res = await api('GET', `/operators/${op}/subjects/${encodeURIComponent(subjectId)}/series?fromSec=${fromSec}&toSec=${toSec}`);
    return res.totals as { bytesIn: number; bytesOut: number; packetsIn: number; packetsOut: number; flowsIn: number; flowsOut: number };
  }

  return {
    clock, edge, udpPort, api, startHub, stopHub, subjectTotals,
    /** The running hub's base URL (http://127.0.0.1:<port>); it serves the web UI at "/". Changes when the hub restarts. */
    get httpUrl(): string { return httpUrl; },
    async close() {
      await edge.stop();
      await edgeKv.close();
      await stopHub();
    },
  };
}
