/**
 * Issue 10's proof, all real processes: three hub programs (`hub/main.ts`, FLOWBILL_HUB_STORE=postgres)
 * on one PostgreSQL, behind one Mosquitto (dynamic-security, summaries through a shared
 * subscription), two edge programs (`edge/main.ts`) fed by softflowd from known captures. One hub is
 * killed with SIGKILL while the edges deliver; the totals every remaining hub reports equal the
 * captures to the byte (nothing lost, nothing counted twice), edge status is the same on every hub,
 * and bills made at once on different hubs get one gapless numbering.
 *
 * Time: the hubs run on FLOWBILL_CLOCK = two hours ago (a bucket boundary), set to one instant on all
 * three, the captures are stamped within that bucket after the trial started, and the edges run on the system clock, so for them
 * the bucket is long closed: its flows go out at the next checkpoint as a late revision.
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stackDir } from '../helpers/stack-dir';
import { freeTcpPort, freeUdpPort } from '../helpers/free-ports';
import { startPostgres, postgresSkipReason } from '../helpers/postgres';
import { dynsecPlugin, hasMosquitto, startMosquitto } from '../helpers/mosquitto';
import { writePcap } from '../helpers/pcap-writer';
import { runSoftflowd, softflowdAvailable } from '../helpers/softflowd';
import { expectedFor, traffic } from './helpers/known-traffic';
import { waitFor } from './stack';

const repo = path.resolve(import.meta.dirname, '../..');
const skip = !softflowdAvailable() ? 'softflowd is not installed'
  : !hasMosquitto || !dynsecPlugin ? 'mosquitto with its dynamic-security plugin is not installed'
    : postgresSkipReason() ?? false;

const GROUPS = [{ name: 'cust-a', prefixes: ['10.1.0.0/16'] }, { name: 'cust-b', prefixes: ['10.2.0.0/24', '10.2.1.10-10.2.1.20'] }];
const inA = (ip: string) => ip.startsWith('10.1.');
const inB = (ip: string) => ip.startsWith('10.2.0.') || ip === '10.2.1.15';

interface Proc { child: ChildProcess; out: string[] }

/** A program of this repo under tsx; its stdout lines kept (pino JSON), stderr too. */
function program(t: Test, entry: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: repo, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  child.stdout!.on('data', (d) => out.push(String(d)));
  child.stderr!.on('data', (d) => out.push(String(d)));
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return { child, out };
}

async function waitForLine(p: Proc, what: RegExp, label: string, timeoutMs = 90_000): Promise<string> {
  return waitFor(label, async () => {
    if (p.child.exitCode !== null) throw new Error(`${label}: exited ${p.child.exitCode}: ${p.out.join('').slice(-3000)}`);
    return p.out.join('').split('\n').find((l) => what.test(l));
  }, timeoutMs);
}

type Api = (method: string, route: string, body?: unknown) => Promise<any>;

async function apiOf(httpUrl: string, username: string, password: string): Promise<Api> {
  const call = async (method: string, route: string, body: unknown, token?: string) => {
    const res = await fetch(`${httpUrl}/api/v1${route}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    const json = res.status === 204 ? {} : await res.json();
    if (!res.ok) throw new Error(`${method} ${route} on ${httpUrl}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const { token } = await call('POST', '/login', { username, password });
  return (method, route, body) => call(method, route, body, token);
}

t.test('three hubs, one PostgreSQL, one mosquitto, two edges: kill -9 a hub mid-ingest, totals exact to the byte', { skip, timeout: 420_000 }, async (t) => {
  const dir = stackDir(t);
  const pgServer = (await startPostgres(t))!;
  const admin = { username: 'flowbill-hub', password: randomBytes(12).toString('hex') };
  const { ports: [edgePort, hubPort] } = await startMosquitto(t, {
    listeners: [{ lines: ['use_username_as_clientid true'] }, {}],
    lines: ['allow_anonymous false'],
    dynsecAdmin: admin,
  });
  const startMs = Math.floor((Date.now() - 2 * 3600_000) / 300_000) * 300_000;
  const secretKey = randomBytes(32).toString('hex');
  const hubEnv = (n: number, httpPort: number): Record<string, string> => ({
    FLOWBILL_HUB_STORE: 'postgres', FLOWBILL_PG_URL: pgServer.url, FLOWBILL_PG_MAX_CONNECTIONS: '8',
    FLOWBILL_MQTT_URL: `mqtt://${admin.username}:${admin.password}@127.0.0.1:${hubPort}`, FLOWBILL_MQTT_DYNSEC: 'on',
    FLOWBILL_PUBLIC_MQTT_URL: `mqtt://127.0.0.1:${edgePort}`, FLOWBILL_MQTT_SESSION_EXPIRY_SEC: '5',
    FLOWBILL_HUB_ID: `hub-${n}`, FLOWBILL_HTTP_HOST: '127.0.0.1', FLOWBILL_HTTP_PORT: String(httpPort),
    FLOWBILL_HUB_DATA_DIR: path.join(dir, `hub-${n}`), FLOWBILL_ADMIN_PASSWORD: 'admin-pw', FLOWBILL_SECRET_KEY: secretKey,
    FLOWBILL_CLOCK: new Date(startMs).toISOString(), FLOWBILL_CLOCK_CONTROL: 'on', FLOWBILL_JOBS: 'off',
  });
  const hubs: { proc: Proc; url: string }[] = [];
  for (const n of [1, 2, 3]) {
    const port = await freeTcpPort();
    const proc = program(t, 'hub/main.ts', hubEnv(n, port));
    hubs.push({ proc, url: `http://127.0.0.1:${port}` });
  }
  await Promise.all(hubs.map((h, i) => waitForLine(h.proc, /flowbill hub ready/, `hub ${i + 1} ready`)));
  const api = await Promise.all(hubs.map((h) => apiOf(h.url, 'admin', 'admin-pw')));
  // FLOWBILL_CLOCK starts each hub's time when that process starts, seconds apart under load: set all
  // three to one instant, or a hub still "before the trial" would push its edges a paused config.
  await Promise.all(api.map((a) => a('POST', '/hub/clock', { toIso: new Date(startMs + 60_000).toISOString() })));

  // The operator and its edges, set up through hub 1; the broker learns the edges' credentials (dynsec).
  await api[0]('POST', '/operators', { operatorId: 'isp1', name: 'Scale ISP' });
  await api[0]('PUT', '/operators/isp1/active-customers', { count: 900 });
  await api[0]('POST', '/operators/isp1/addons/netflow/start-trial');
  for (const g of GROUPS) await api[1]('POST', '/operators/isp1/ip-groups', g); // any hub serves the API
  const edges: { proc: Proc; udpPort: number; edgeId: string }[] = [];
  for (const name of ['pop-a', 'pop-b']) {
    const { credentials } = await api[2]('POST', '/operators/isp1/edges', { name });
    const udpPort = await freeUdpPort();
    const edgeDir = path.join(dir, name);
    mkdirSync(edgeDir, { recursive: true });
    writeFileSync(path.join(edgeDir, 'edge.json'), JSON.stringify({
      edgeId: credentials.edgeId, tenantId: credentials.tenantId, mqttUrl: credentials.mqttUrl,
      mqttUsername: credentials.username, mqttPassword: credentials.password,
      udpHost: '127.0.0.1', udpPort, sflowPort: -1, dataDir: path.join(edgeDir, 'data'),
      checkpointIntervalMs: 200, closeGraceSec: 60, heartbeatIntervalMs: 1000, ackTimeoutMs: 2000, liveIntervalMs: 0,
    }));
    const proc = program(t, 'edge/main.ts', { FLOWBILL_EDGE_CONFIG: path.join(edgeDir, 'edge.json') });
    edges.push({ proc, udpPort, edgeId: credentials.edgeId });
  }
  await Promise.all(edges.map((e) => waitForLine(e.proc, /"edge started"/, `edge ${e.edgeId} started`)));
  // Every hub sees both edges online with the IP groups' config (status topics are not shared).
  for (const [i, a] of api.entries()) {
    await waitFor(`hub ${i + 1} sees both edges with the config`, async () => {
      const { edges: list } = await a('GET', '/operators/isp1/edges');
      return list.length === 2 && list.every((e: any) => e.status.online && e.status.configVersion > 0) ? true : undefined;
    });
  }

  // Round 1 through both edges; hub 2 is killed while round 2 is in flight.
  const base = startMs + 90_000; // after the trial started (startMs + 60 s), within the first bucket
  const captures = [
    { edge: 0, version: 9 as const, packets: traffic(base, 60_000, 4, 7) },
    { edge: 1, version: 5 as const, packets: traffic(base + 10_000, 60_000, 4, 8) },
    { edge: 0, version: 5 as const, packets: traffic(base + 70_000, 60_000, 4, 9) },
    { edge: 1, version: 9 as const, packets: traffic(base + 80_000, 60_000, 4, 10) },
  ];
  const send = async (i: number) => {
    const c = captures[i];
    const file = path.join(dir, `capture-${i}.pcap`);
    writePcap(file, c.packets);
    const r = await runSoftflowd({ pcapPath: file, target: `127.0.0.1:${edges[c.edge].udpPort}`, version: c.version });
    t.equal(r.exitCode, 0, `softflowd ${i} done`);
  };
  await Promise.all([send(0), send(1)]);
  await new Promise((r) => setTimeout(r, 300));
  hubs[1].proc.child.kill('SIGKILL');
  t.pass('hub 2 killed with SIGKILL');
  await Promise.all([send(2), send(3)]);

  const all = captures.flatMap((c) => c.packets);
  const fromSec = startMs / 1000 - 300;
  const toSec = startMs / 1000 + 3600;
  for (const [subject, expected] of [['ipg:cust-a', expectedFor(all, inA)], ['ipg:cust-b', expectedFor(all, inB)]] as const) {
    for (const i of [0, 2]) {
      let last: unknown;
      const got = await waitFor(`${subject} on hub ${i + 1}`, async () => {
        const { totals } = await api[i]('GET', `/operators/isp1/subjects/${encodeURIComponent(subject)}/series?fromSec=${fromSec}&toSec=${toSec}`);
        last = totals;
        return totals.bytesIn + totals.bytesOut >= expected.bytesIn + expected.bytesOut ? totals : undefined;
      }, 120_000).catch(async (err: Error) => {
        const { edges: list } = await api[i]('GET', '/operators/isp1/edges');
        throw new Error(`${err.message}; expected ${JSON.stringify(expected)}, last ${JSON.stringify(last)}; edges ${JSON.stringify(list.map((e: any) => ({ id: e.edgeId, online: e.status.online, paused: e.status.collectionPaused, configVersion: e.status.configVersion, counters: e.status.counters })))}; edge A log tail ${edges[0].proc.out.join('').slice(-2500)}`);
      });
      t.same({ bytesIn: got.bytesIn, bytesOut: got.bytesOut, packetsIn: got.packetsIn, packetsOut: got.packetsOut }, expected, `${subject} on hub ${i + 1}: exact to the byte`);
    }
  }
  // Nothing is pending at the edges, and nothing arrives later to double a count.
  for (const e of edges) {
    await waitFor(`edge ${e.edgeId} outbox drained`, async () => {
      const { edges: list } = await api[0]('GET', '/operators/isp1/edges');
      const s = list.find((x: any) => x.edgeId === e.edgeId)?.status;
      return s?.counters && s.counters.outboxDepth === 0 ? true : undefined;
    }, 60_000);
  }
  await new Promise((r) => setTimeout(r, 3000));
  const again = await api[2]('GET', `/operators/isp1/subjects/${encodeURIComponent('ipg:cust-a')}/series?fromSec=${fromSec}&toSec=${toSec}`);
  t.equal(again.totals.bytesIn, expectedFor(all, inA).bytesIn, 'still exact after the edges drained: no late duplicate');

  // Consumers' truth: every StoredBatch committed, hub 2's included, has gone out (the shared outbox is empty).
  const db = new pg.Pool({ connectionString: pgServer.url, max: 1 });
  t.teardown(() => db.end());
  await waitFor('the StoredBatch outbox empty', async () => {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM series_stored_outbox');
    return rows[0].n === '0' ? true : undefined;
  }, 90_000);
  t.pass('no StoredBatch left waiting, a killed hub\'s included');

  // Bills made at once from both surviving hubs: one per subject, numbers 1..n without a gap. The
  // plan is made now, then both hubs' clocks move an hour on, so a bill may end (900 s grace).
  const { plan } = await api[0]('POST', '/operators/isp1/bill-plans', {
    name: 'Transit 95th', billingPeriod: 'monthly', generationDay: 1, emails: 'billing@isp.example', currency: 'USD',
    baseSpeedBps: 100_000_000, baseCostMinor: 50_000, additionalSpeedBps: 10_000_000, additionalCostMinor: 4_000,
    percentileMethod: 'merge', subjectIds: ['ipg:cust-a', 'ipg:cust-b'],
  });
  for (const i of [0, 2]) await api[i]('POST', '/hub/clock', { advanceMs: 3600_000 });
  // Each subject asked twice, from two hubs at once: one makes the bill, the other finds nothing left to bill.
  const made = await Promise.allSettled(['ipg:cust-a', 'ipg:cust-b', 'ipg:cust-a', 'ipg:cust-b'].map((s, i) =>
    api[i % 2 === 0 ? 0 : 2]('POST', `/operators/isp1/bill-plans/${plan.planId}/subjects/${encodeURIComponent(s)}/generate-now`, {})));
  t.equal(made.filter((r) => r.status === 'fulfilled').length, 2, 'two bills made');
  for (const r of made) if (r.status === 'rejected') t.match(String(r.reason), /nothing to bill yet/, 'the other request of a subject found it billed');
  const { bills } = await api[2]('GET', '/operators/isp1/bills');
  t.same(bills.map((b: any) => b.billNo).sort((a: number, b: number) => a - b), [1, 2], 'one bill per subject, numbered 1 and 2 across two hubs');
  t.same(new Set(bills.map((b: any) => b.subjectId)), new Set(['ipg:cust-a', 'ipg:cust-b']));
});
