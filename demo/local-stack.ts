/**
 * `npm start`'s local stack (started by demo/main.ts once the hub is up): set up a demo operator
 * through the hub's own HTTP API (as a person would), provision one edge for it, run that edge in
 * this process, and optionally a demo exporter sending NetFlow v9 to it. Everything is idempotent
 * across restarts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, type Clock } from '../common/clock';
import { openLevelKvStore } from '../common/kv/level-kv-store';
import type { Logger } from '../common/logger';
import type { Timers } from '../common/ticker';
import { loadEdgeConfig } from '../edge/config';
import { createEdge, type Edge } from '../edge/create-edge';
import { createDemoExporter, DEMO_IP_GROUPS } from '../edge/demo/demo-exporter';

export interface LocalStackOptions {
  httpUrl: string;
  mqttUrl: string;
  /** The super_admin's password (FLOWBILL_ADMIN_PASSWORD, or the demo's); a one-time one cannot set anything up. */
  adminPassword: string | undefined;
  /** Where the local edge keeps its LevelDB and its provisioned config. */
  edgeDataDir: string;
  udpPort: number;
  demo: boolean;
  log: Logger;
  /**
   * The hub's clock. The edge and the demo run on it too: under FLOWBILL_CLOCK the hub's time is not
   * the system's, and an edge on the system clock stamped buckets hours away from the hub's trial
   * (refused as before the trial, or deferred as in the future). Default: the system clock.
   */
  clock?: Clock;
  /** The edge's and the demo's interval timers (tests drive them with the clock). Default: the process's. */
  timers?: Timers;
  /** The edge's sFlow port (default 6343; 0 picks a free one, -1 none). */
  sflowPort?: number;
}

const OPERATOR = 'demo';

/** Small client of the hub API; an error answer whose code is in `tolerated` is not a failure. */
function apiClient(httpUrl: string) {
  let token = '';
  async function call(method: string, route: string, body?: unknown, tolerated: string[] = []): Promise<any> {
    const res = await fetch(`${httpUrl}/api/v1${route}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (!res.ok && !tolerated.includes(json.error?.code ?? '')) {
      throw new Error(`${method} ${route}: ${res.status} ${json.error?.code ?? ''} ${json.error?.message ?? ''}`);
    }
    return json;
  }
  return {
    call,
    async login(username: string, password: string) { token = (await call('POST', '/login', { username, password })).token; },
  };
}

/** edge: the in-process edge, for its status (tests wait for its outbox to drain). */
export async function startLocalStack(opts: LocalStackOptions): Promise<{ edge: Edge; stop(): Promise<void> }> {
  const { log } = opts;
  const api = apiClient(opts.httpUrl);
  if (opts.adminPassword === undefined) throw new Error('the local stack sets the demo up as admin and needs its password (FLOWBILL_ADMIN_PASSWORD, or the demo\'s): a one-time one cannot set anything up');
  await api.login('admin', opts.adminPassword);
  await api.call('POST', '/operators', { operatorId: OPERATOR, name: 'Demo ISP' }, ['CONFLICT']);
  await api.call('POST', `/operators/${OPERATOR}/users`, { username: 'noc', password: 'flowbill', role: 'operator_admin' }, ['LOGIN_TAKEN']);
  // Mid tier (NetFlow-eligible), then the add-on's trial: without it the hub pauses collection.
  await api.call('PUT', `/operators/${OPERATOR}/active-customers`, { count: 800 });
  await api.call('POST', `/operators/${OPERATOR}/addons/netflow/start-trial`, undefined, ['TRIAL_ALREADY_USED', 'ADDON_ALREADY_ACTIVE']);
  for (const group of DEMO_IP_GROUPS) await api.call('POST', `/operators/${OPERATOR}/ip-groups`, group, ['CONFLICT']);

  // Provision the edge once; later starts reuse its credentials.
  await mkdir(opts.edgeDataDir, { recursive: true });
  const credentialsFile = path.join(opts.edgeDataDir, 'credentials.json');
  let credentials: { edgeId: string; tenantId: string; username: string; password: string };
  try {
    credentials = JSON.parse(await readFile(credentialsFile, 'utf8'));
  } catch {
    credentials = (await api.call('POST', `/operators/${OPERATOR}/edges`, { name: 'local-edge' })).credentials;
    await writeFile(credentialsFile, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  }

  const config = loadEdgeConfig({
    env: {},
    overrides: {
      edgeId: credentials.edgeId, tenantId: credentials.tenantId, mqttUrl: opts.mqttUrl,
      mqttUsername: credentials.username, mqttPassword: credentials.password,
      udpHost: '127.0.0.1', udpPort: opts.udpPort, dataDir: opts.edgeDataDir,
      ...(opts.sflowPort === undefined ? {} : { sflowPort: opts.sflowPort }),
      // The demo closes buckets soon after their end so the first ones show within a minute or two.
      ...(opts.demo ? { closeGraceSec: 10 } : {}),
    },
  });
  const kv = await openLevelKvStore(path.join(opts.edgeDataDir, 'state'));
  const clock = opts.clock ?? systemClock;
  const edge = createEdge({ config, clock, timers: opts.timers, log: log.child({ component: 'edge' }), kv });
  const udpPort = (await edge.start()).udpPort ?? opts.udpPort;
  log.info({ edgeId: config.edgeId, udpPort }, `local edge listening for NetFlow/IPFIX on udp 127.0.0.1:${udpPort}`);

  const demo = opts.demo ? createDemoExporter({ host: '127.0.0.1', port: udpPort, clock, timers: opts.timers, log: log.child({ component: 'demo' }) }) : undefined;
  if (demo) await demo.start();
  const adminLogin = opts.demo && !process.env.FLOWBILL_ADMIN_PASSWORD ? `admin / ${opts.adminPassword}` : 'admin / <FLOWBILL_ADMIN_PASSWORD>';
  log.info(`log in at ${opts.httpUrl} as noc / flowbill (operator "demo") or ${adminLogin}`);

  return {
    edge,
    async stop() {
      if (demo) await demo.stop();
      await edge.stop();
      await kv.close();
    },
  };
}
