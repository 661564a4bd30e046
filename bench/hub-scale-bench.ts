/**
 * Issue 10's scale-out bench: ingest into PostgreSQL with 1, 2 and 3 real hub processes (hub/main.ts,
 * FLOWBILL_HUB_STORE=postgres) behind one Mosquitto (dynamic-security, shared subscription), fed by
 * simulated edges catching up a backlog: E MQTT connections with the edges' own credentials, each
 * publishing its backlog as SummaryBatches (QoS 1, seqs increasing, up to W unacked in flight, resent
 * when not acked within the resend timeout) until every batch got a STORED or DUPLICATE ack.
 * Prints figures only (no assertions), but never a rate for data that did not arrive exactly once:
 * each round ends with SQL sums of the series against what was sent (OK / MISMATCH).
 *
 * `npm run bench -- scale`, or `npx tsx bench/hub-scale-bench.ts [flags]`:
 *   --edges E            simulated edges (100; the issue's catch-up of 1,000 edges: --edges 1000)
 *   --hours N            backlog per edge, in hours of 5-minute buckets (24: a day, 288 buckets)
 *   --subjects S         subjects (interfaces) per edge and bucket (2)
 *   --batch-summaries N  most summaries per batch (1000, the edge's FLOWBILL_EDGE_BATCH_MAX_SUMMARIES)
 *   --per-bucket         one batch per bucket, as a real edge's outbox holds a backlog (one stage per
 *                        checkpoint); default: the backlog packed into batches of --batch-summaries
 *   --window W           unacked batches per edge in flight (4)
 *   --resend-ms N        resend a batch not acked within this (10000)
 *   --hubs 1,2,3         rounds (hub process counts)
 *   --broker-max-inflight N  mosquitto's max_inflight_messages (unset: its default)
 *   --stall-ms N         give up after N ms without an ack (120000, or twice --resend-ms if longer)
 *   --hub-cpu-prof DIR   run the hubs with node --cpu-prof into DIR (open the .cpuprofile in Chrome DevTools)
 *
 * Set-up: one throwaway PostgreSQL and Mosquitto (the test helpers the e2e uses), one database for
 * every round: the operator, its trial and the E edges are provisioned once through round 1's hub API
 * (each edge's credentials pushed to the broker by dynsec, as in production), and between rounds the
 * hubs are stopped and the series tables truncated. Time: round 1's hub starts on FLOWBILL_CLOCK just
 * before the backlog's day, starts the trial, then every hub's clock moves a day on (POST
 * /api/v1/hub/clock); later rounds start their hubs on that later instant. Each edge reports its own
 * interfaces (no series row is shared by two edges, as with POPs' interfaces).
 * CPU: /proc utime+stime of the hub processes, and of the postmaster and its children (exited ones
 * through the postmaster's cutime/cstime), over the ingest window.
 *
 * Resends: a hub handles one message at a time (its PUBACK is held until the batch is stored), so when
 * the hubs' queue is longer than --resend-ms every waiting batch is sent again, and each resend is
 * decoded, validated and taken to the store again before the store finds it a duplicate. With
 * mosquitto's default in-flight window the acks of a round come nearly all at its end (the "acks:"
 * line; --broker-max-inflight 1 spreads them). The table's resends column shows it; for a pure ingest
 * rate give a resend timeout above the round's length (e.g. --resend-ms 600000).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import type { Test } from 'tap';
import { BUCKET_SEC } from '../common/bucket';
import { edgeTopic } from '../common/topics';
import { AckStatus, SubjectKind, ackCodec, summaryBatchCodec, type Summary } from '../proto/codec';
import { freeTcpPort } from '../test/helpers/free-ports';
import { dynsecPlugin, hasMosquitto, startMosquitto } from '../test/helpers/mosquitto';
import { postgresSkipReason, startPostgres } from '../test/helpers/postgres';
import { stackDir } from '../test/helpers/stack-dir';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number, got ${process.argv[i + 1]}`);
  return v;
}
const hubCountsArg = process.argv.indexOf('--hubs');
const HUB_COUNTS = hubCountsArg < 0 ? [1, 2, 3] : process.argv[hubCountsArg + 1]!.split(',').map(Number);
if (!HUB_COUNTS.every((n) => Number.isInteger(n) && n >= 1 && n <= 8)) throw new Error('--hubs: expected hub counts 1-8, e.g. 1,2,3');
// Defaults keep the whole bench near 1-2 minutes on the 2-core box (hub starts under tsx ~10 s each round,
// provisioning ~0.1-0.3 s per edge: scrypt and the dynsec push behind the registry's lock); flags go bigger.
const EDGES = flag('edges', 100);
const HOURS = flag('hours', 24);
const SUBJECTS = flag('subjects', 2);
const BATCH_MAX = flag('batch-summaries', 1000);
const PER_BUCKET = process.argv.includes('--per-bucket');
const WINDOW = flag('window', 4);
const RESEND_MS = flag('resend-ms', 10_000);
// Gives up after this long without any ack. The hubs' acks can all come at the end of their queue
// (--broker-max-inflight), so a long round without resends needs a long one.
const STALL_MS = flag('stall-ms', Math.max(120_000, 2 * RESEND_MS));
/** An hour of buckets before the measured backlog, sent first by a few edges to warm each round's fresh hubs. */
const WARMUP_BUCKETS = 12;
const BROKER_INFLIGHT = process.argv.includes('--broker-max-inflight') ? flag('broker-max-inflight', 20) : undefined;
const profArg = process.argv.indexOf('--hub-cpu-prof');
const HUB_CPU_PROF = profArg < 0 ? undefined : path.resolve(process.argv[profArg + 1]!);
const BUCKETS = Math.round((HOURS * 3600) / BUCKET_SEC);
const OPERATOR = 'benchisp';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// ---- teardown (the test helpers want a tap-like host) ----
const teardowns: (() => unknown)[] = [];
const host = { teardown: (fn: () => unknown) => { teardowns.push(fn); }, comment: (...m: unknown[]) => console.log('#', ...m) } as unknown as Test;
async function tearDown(): Promise<void> {
  while (teardowns.length) {
    try { await teardowns.pop()!(); } catch (err) { console.log(`teardown: ${(err as Error).message}`); }
  }
}
process.on('SIGINT', () => { void tearDown().then(() => process.exit(130)); });

// ---- /proc CPU ----
function procTicks(pid: number): { self: number; children: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch { return undefined; }
}
const cpuSecOf = (pids: number[]) => pids.reduce((a, p) => a + (procTicks(p)?.self ?? 0), 0) / CLK_TCK;
/** A process and its live children (their own time), plus its reaped children (cutime/cstime). */
function treeCpuSec(rootPid: number): number {
  const root = procTicks(rootPid);
  if (!root) return 0;
  let ticks = root.self + root.children;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const p = procTicks(Number(d));
    if (p && p.ppid === rootPid) ticks += p.self + p.children;
  }
  return ticks / CLK_TCK;
}
function pidByCmdline(fragment: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(fragment)) return Number(d); } catch { /* gone */ }
  }
  return undefined;
}

// ---- hub processes ----
interface Hub { child: ChildProcess; url: string; out: string[]; n: number }

function startHub(n: number, env: Record<string, string>): Promise<Hub> {
  return freeTcpPort().then((port) => {
    const prof = HUB_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', HUB_CPU_PROF] : [];
    const child = spawn(process.execPath, [...prof, '--import', 'tsx', 'hub/main.ts'], {
      cwd: repo, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'info', ...env, FLOWBILL_HUB_ID: `bench-hub-${n}`, FLOWBILL_HUB_DATA_DIR: path.join(env.FLOWBILL_HUB_DATA_DIR!, `hub-${n}`), FLOWBILL_HTTP_HOST: '127.0.0.1', FLOWBILL_HTTP_PORT: String(port) },
    });
    const out: string[] = [];
    const keep = (d: Buffer) => { out.push(String(d)); if (out.length > 200) out.splice(0, out.length - 200); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    host.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    return { child, url: `http://127.0.0.1:${port}`, out, n };
  });
}

async function waitFor<T>(label: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out: ${label}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function hubReady(h: Hub): Promise<void> {
  await waitFor(`hub ${h.n} ready`, () => {
    if (h.child.exitCode !== null) throw new Error(`hub ${h.n} exited ${h.child.exitCode}: ${h.out.join('').slice(-3000)}`);
    return h.out.join('').includes('flowbill hub ready') ? true : undefined;
  });
}

async function stopHub(h: Hub): Promise<void> {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  const exited = new Promise((r) => h.child.once('exit', r));
  h.child.kill('SIGTERM');
  const timer = setTimeout(() => h.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

type Api = (method: string, route: string, body?: unknown) => Promise<any>;
async function apiOf(url: string): Promise<Api> {
  const call = async (method: string, route: string, body: unknown, token?: string) => {
    const res = await fetch(`${url}/api/v1${route}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    const json = res.status === 204 ? {} : await res.json();
    if (!res.ok) throw new Error(`${method} ${route} on ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const { token } = await call('POST', '/login', { username: 'admin', password: 'admin-pw' });
  return (method, route, body) => call(method, route, body, token);
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; await fn(items[i]!, i); }
  }));
}

// ---- simulated edges ----
interface Credentials { edgeId: string; tenantId: string; username: string; password: string }
interface SimEdge { cred: Credentials; client: MqttClient; index: number }

/** The counters of edge `e`, subject `s`, bucket `b`: distinct, so a lost or doubled summary shows in the sums. */
const bytesInOf = (e: number, s: number, b: number) => 1_000_000 + e * 10_007 + s * 101 + b * 7;
const bytesOutOf = (e: number, s: number, b: number) => 200_000 + e * 13 + s * 3 + b;

/** Edge e's backlog: `buckets` buckets from dayStartSec, S interfaces of its own exporter, seqs from firstSeq. */
function backlogOf(cred: Credentials, e: number, dayStartSec: number, firstSeq: number, buckets: number): Uint8Array[] {
  const exporter = `10.${(e >> 8) & 255}.${e & 255}.1`;
  const perBucket: Summary[][] = [];
  for (let b = 0; b < buckets; b++) {
    const bucket: Summary[] = [];
    for (let s = 0; s < SUBJECTS; s++) {
      bucket.push({
        subjectId: `if:${exporter}/${s + 1}`, subjectKind: SubjectKind.INTERFACE, bucketStartSec: dayStartSec + b * BUCKET_SEC, durationSec: BUCKET_SEC,
        bytesIn: bytesInOf(e, s, b), bytesOut: bytesOutOf(e, s, b), packetsIn: 1000, packetsOut: 200, flowsIn: 10, flowsOut: 2, revision: 0,
      });
    }
    bucket.sort((x, y) => (x.subjectId < y.subjectId ? -1 : x.subjectId > y.subjectId ? 1 : 0)); // the edge's order within a bucket
    perBucket.push(bucket);
  }
  const groups = PER_BUCKET ? perBucket : [perBucket.flat()];
  const batches: Summary[][] = [];
  for (const g of groups) for (let i = 0; i < g.length; i += BATCH_MAX) batches.push(g.slice(i, i + BATCH_MAX));
  return batches.map((summaries, i) => summaryBatchCodec.encode({
    edgeId: cred.edgeId, tenantId: cred.tenantId, seq: firstSeq + i, createdAtMs: 0, oldestUnackedSeq: firstSeq + i, summaries,
  }));
}

async function connectEdges(creds: Credentials[], edgePort: number): Promise<SimEdge[]> {
  const edges: SimEdge[] = new Array(creds.length);
  await inParallel(creds, 50, async (cred, index) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${edgePort}`, {
      clientId: cred.username, username: cred.username, password: cred.password, clean: true, reconnectPeriod: 1000, connectTimeout: 30_000, protocolVersion: 4,
    });
    client.setMaxListeners(0);
    await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
    await client.subscribeAsync(edgeTopic(cred.tenantId, cred.edgeId, 'ack'), { qos: 1 });
    edges[index] = { cred, client, index };
  });
  host.teardown(() => Promise.all(edges.filter(Boolean).map((e) => e.client.endAsync(true))));
  return edges;
}

interface CatchUp { ackAtSec: number[]; wallSec: number; batches: number; summaries: number; resends: number; rejected: number; duplicateAcks: number; sentBytesIn: number; sentBytesOut: number }

/** Every edge publishes its backlog with up to WINDOW unacked, resending after RESEND_MS, until all are acked. */
async function catchUp(edges: SimEdge[], dayStartSec: number, firstSeq: number, buckets = BUCKETS): Promise<CatchUp> {
  let sentBytesIn = 0;
  let sentBytesOut = 0;
  for (const e of edges) {
    for (let s = 0; s < SUBJECTS; s++) for (let b = 0; b < buckets; b++) { sentBytesIn += bytesInOf(e.index, s, b); sentBytesOut += bytesOutOf(e.index, s, b); }
  }
  const backlogs = edges.map((e) => backlogOf(e.cred, e.index, dayStartSec, firstSeq, buckets));
  const totalBatches = backlogs.reduce((a, b) => a + b.length, 0);
  let acked = 0;
  const ackAt: number[] = [];
  let resends = 0;
  let rejected = 0;
  let duplicateAcks = 0;
  let t0 = 0;
  let lastAckAt = performance.now();
  let lastReport = performance.now();
  const done = new Promise<number>((resolve, reject) => {
    const resendTimer = setInterval(() => {
      const now = performance.now();
      if (now - lastReport >= 10_000) { lastReport = now; console.log(`  ... ${acked}/${totalBatches} batches acked after ${((now - t0) / 1000).toFixed(0)} s, ${resends} resends`); }
      // A bench that cannot finish says so instead of resending forever.
      if (now - lastAckAt > STALL_MS) { clearInterval(resendTimer); reject(new Error(`no ack for ${STALL_MS / 1000} s (${acked}/${totalBatches} acked)`)); return; }
      for (const s of states) {
        for (const [seq, sentAt] of s.inFlight) {
          if (now - sentAt < RESEND_MS) continue;
          s.inFlight.set(seq, now);
          resends++;
          s.edge.client.publish(s.topic, Buffer.from(s.backlog[seq - firstSeq]!), { qos: 1 });
        }
      }
    }, 500);
    const finish = () => { clearInterval(resendTimer); resolve(performance.now()); };
    const states = edges.map((edge, i) => {
      const state = { edge, backlog: backlogs[i]!, next: 0, inFlight: new Map<number, number>(), topic: edgeTopic(edge.cred.tenantId, edge.cred.edgeId, 'summaries') };
      const fill = () => {
        while (state.inFlight.size < WINDOW && state.next < state.backlog.length) {
          const seq = firstSeq + state.next;
          state.inFlight.set(seq, performance.now());
          edge.client.publish(state.topic, Buffer.from(state.backlog[state.next++]!), { qos: 1 });
        }
      };
      edge.client.removeAllListeners('message');
      edge.client.on('message', (_topic, payload) => {
        const ack = ackCodec.decode(new Uint8Array(payload));
        if (!state.inFlight.has(ack.seq)) return; // an ack of a resend already acked
        if (ack.status === AckStatus.REJECTED) {
          rejected++;
          if (rejected <= 3) console.log(`  REJECTED ${edge.cred.edgeId} seq ${ack.seq}: ${ack.reason}`);
        } else if (ack.status === AckStatus.DUPLICATE) duplicateAcks++;
        state.inFlight.delete(ack.seq);
        acked++;
        lastAckAt = performance.now();
        ackAt.push((lastAckAt - t0) / 1000);
        if (acked === totalBatches) finish();
        else fill();
      });
      return { ...state, fill };
    });
    t0 = performance.now();
    for (const s of states) s.fill();
  });
  const t1 = await done;
  return { ackAtSec: ackAt, wallSec: (t1 - t0) / 1000, batches: totalBatches, summaries: edges.length * buckets * SUBJECTS, resends, rejected, duplicateAcks, sentBytesIn, sentBytesOut };
}

// ---- the bench ----
interface Row { hubs: number; summaries: number; wallSec: number; rate: number; hubCpu: number; pgCpu: number; brokerCpu: number; simCpu: number; ok: boolean; resends: number }

async function main(): Promise<void> {
  const skip = !hasMosquitto || !dynsecPlugin ? 'mosquitto with its dynamic-security plugin is not installed' : postgresSkipReason();
  if (skip) { console.log(`hub-scale: skipped: ${skip}`); return; }
  const batchesPerEdge = PER_BUCKET ? BUCKETS * Math.ceil(SUBJECTS / BATCH_MAX) : Math.ceil((BUCKETS * SUBJECTS) / BATCH_MAX);
  console.log(`hub-scale: ${EDGES} edges x ${BUCKETS} buckets x ${SUBJECTS} subjects = ${EDGES * BUCKETS * SUBJECTS} summaries per round, `
    + `${batchesPerEdge} batch(es) per edge (${PER_BUCKET ? 'one per bucket' : `packed, up to ${BATCH_MAX} summaries`}), window ${WINDOW}, resend after ${RESEND_MS} ms; rounds: ${HUB_COUNTS.join(', ')} hub(s)`);

  const dir = stackDir(host, 'flowbill-scale-bench-');
  const pgServer = (await startPostgres(host))!;
  const db = new pg.Client({ connectionString: pgServer.url });
  await db.connect();
  host.teardown(() => db.end());
  const { rows: [v] } = await db.query("SELECT version() AS version, current_setting('shared_buffers') AS sb, current_setting('data_directory') AS data");
  const postmasterPid = Number(readFileSync(path.join(v.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const admin = { username: 'flowbill-hub', password: randomBytes(12).toString('hex') };
  const { ports: [edgePort, hubPort], dir: brokerDir } = await startMosquitto(host, {
    listeners: [{ lines: ['use_username_as_clientid true'] }, {}],
    lines: ['allow_anonymous false', 'max_queued_messages 100000', ...(BROKER_INFLIGHT ? [`max_inflight_messages ${BROKER_INFLIGHT}`] : [])],
    dynsecAdmin: admin,
  });
  const brokerPid = pidByCmdline(`${brokerDir}/mosquitto.conf`);
  const mosquittoVersion = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0]!.trim();
  console.log(`PostgreSQL: ${String(v.version).split(',')[0]} (test helper's cluster: shared_buffers ${v.sb}, fsync off); ${mosquittoVersion} with dynamic-security; node ${process.version}`);

  // The hubs' clock: just before the warm-up hour (trial start), then just after the backlog's day.
  // Each round first warms its fresh hubs (JIT, pools, caches) with an hour of a few edges' buckets
  // before the backlog's day; the measured day starts after it, and the checks count only its buckets.
  const daySec = 86_400;
  const warmupStartSec = Math.floor(Date.now() / 1000 / daySec) * daySec - 2 * daySec;
  const dayStartSec = warmupStartSec + WARMUP_BUCKETS * BUCKET_SEC;
  const beforeMs = (warmupStartSec - 60) * 1000;
  const advanceMs = (daySec + WARMUP_BUCKETS * BUCKET_SEC + 660) * 1000;
  const secretKey = randomBytes(32).toString('hex');
  const hubEnv = (clockMs: number): Record<string, string> => ({
    FLOWBILL_HUB_STORE: 'postgres', FLOWBILL_PG_URL: pgServer.url, FLOWBILL_PG_MAX_CONNECTIONS: '8',
    FLOWBILL_MQTT_URL: `mqtt://${admin.username}:${admin.password}@127.0.0.1:${hubPort}`, FLOWBILL_MQTT_DYNSEC: 'on',
    FLOWBILL_PUBLIC_MQTT_URL: `mqtt://127.0.0.1:${edgePort}`, FLOWBILL_MQTT_SESSION_EXPIRY_SEC: '5',
    FLOWBILL_HUB_DATA_DIR: path.join(dir, 'hub-data'), FLOWBILL_ADMIN_PASSWORD: 'admin-pw', FLOWBILL_SECRET_KEY: secretKey,
    FLOWBILL_CLOCK: new Date(clockMs).toISOString(), FLOWBILL_CLOCK_CONTROL: 'on', FLOWBILL_JOBS: 'off',
  });

  let edges: SimEdge[] = [];
  let nextSeq = 1;
  const rows: Row[] = [];
  for (const [round, hubCount] of HUB_COUNTS.entries()) {
    const hubs = await Promise.all(Array.from({ length: hubCount }, (_, i) => startHub(i + 1, hubEnv(round === 0 ? beforeMs : beforeMs + advanceMs))));
    const th = performance.now();
    await Promise.all(hubs.map(hubReady));
    console.log(`${hubCount} hub process(es) started in ${((performance.now() - th) / 1000).toFixed(1)} s`);
    if (round === 0) {
      const tp = performance.now();
      const api = await apiOf(hubs[0]!.url);
      await api('POST', '/operators', { operatorId: OPERATOR, name: 'Scale bench ISP' });
      await api('PUT', `/operators/${OPERATOR}/active-customers`, { count: 900 });
      await api('POST', `/operators/${OPERATOR}/addons/netflow/start-trial`);
      const creds: Credentials[] = new Array(EDGES);
      await inParallel(Array.from({ length: EDGES }, (_, i) => i), 4, async (i) => {
        const { credentials } = await api('POST', `/operators/${OPERATOR}/edges`, { name: `pop-${i}` });
        creds[i] = credentials;
      });
      for (const h of hubs) await (await apiOf(h.url))('POST', '/hub/clock', { advanceMs });
      console.log(`provisioned ${EDGES} edges through the API (credentials pushed to mosquitto) in ${((performance.now() - tp) / 1000).toFixed(1)} s`);
      const tc = performance.now();
      edges = await connectEdges(creds, edgePort);
      console.log(`${EDGES} edge connections up in ${((performance.now() - tc) / 1000).toFixed(1)} s`);
    }

    const warmEdges = edges.slice(0, Math.min(edges.length, 20 * hubCount));
    const warm = await catchUp(warmEdges, warmupStartSec, nextSeq, WARMUP_BUCKETS);
    nextSeq += 10_000;
    console.log(`  warm-up: ${warm.summaries} summaries from ${warmEdges.length} edges in ${warm.wallSec.toFixed(2)} s (not counted)`);
    const hubPids = hubs.map((h) => h.child.pid!);
    const cpu0 = { hub: cpuSecOf(hubPids), pg: treeCpuSec(postmasterPid), broker: brokerPid ? cpuSecOf([brokerPid]) : 0, sim: process.cpuUsage() };
    const r = await catchUp(edges, dayStartSec, nextSeq).catch((err: Error) => {
      for (const h of hubs) console.log(`hub ${h.n} log tail:\n${h.out.join('').slice(-2000)}`);
      throw err;
    });
    const cpu1 = { hub: cpuSecOf(hubPids), pg: treeCpuSec(postmasterPid), broker: brokerPid ? cpuSecOf([brokerPid]) : 0, sim: process.cpuUsage(cpu0.sim) };
    nextSeq += batchesPerEdge + 10_000;

    const { rows: [sum] } = await db.query('SELECT count(*)::bigint AS n, coalesce(sum(bytes_in), 0)::bigint AS bin, coalesce(sum(bytes_out), 0)::bigint AS bout FROM series WHERE operator_id = $1 AND bucket_start >= $2', [OPERATOR, dayStartSec]);
    // When the acks came: all at the end means the edges waited for the whole queue (and resent).
    const pct = (q: number) => r.ackAtSec[Math.min(r.ackAtSec.length - 1, Math.floor(q * r.ackAtSec.length))]!.toFixed(2);
    console.log(`  acks: 10% by ${pct(0.1)} s, 50% by ${pct(0.5)} s, 90% by ${pct(0.9)} s`);
    const ok = Number(sum.n) === r.summaries && Number(sum.bin) === r.sentBytesIn && Number(sum.bout) === r.sentBytesOut && r.rejected === 0;
    const per100k = (cpuSec: number) => (cpuSec / r.summaries) * 100_000;
    const row: Row = {
      hubs: hubCount, summaries: r.summaries, wallSec: r.wallSec, rate: r.summaries / r.wallSec, ok, resends: r.resends,
      hubCpu: per100k(cpu1.hub - cpu0.hub), pgCpu: per100k(cpu1.pg - cpu0.pg), brokerCpu: per100k(cpu1.broker - cpu0.broker),
      simCpu: per100k((cpu1.sim.user + cpu1.sim.system) / 1e6),
    };
    rows.push(row);
    console.log(`${hubCount} hub(s): ${r.batches} batches, ${r.summaries} summaries in ${r.wallSec.toFixed(2)} s; ${r.resends} resends, ${r.duplicateAcks} DUPLICATE acks, ${r.rejected} REJECTED; `
      + `series ${sum.n} rows, bytes in ${sum.bin}/${r.sentBytesIn}, out ${sum.bout}/${r.sentBytesOut}: ${ok ? 'OK' : 'MISMATCH'}`);

    // How the shared subscription dealt the batches (and resends) out: each hub's ingest counters.
    const split = await Promise.all(hubs.map(async (h) => {
      const { counters } = await (await apiOf(h.url))('GET', '/hub/counters');
      return `hub ${h.n} ${counters.ingest.batchesReceived} received/${counters.ingest.summariesStored} summaries stored`;
    }));
    console.log(`  incl. warm-up: ${split.join("; ")}`);
    await Promise.all(hubs.map(stopHub));
    await db.query('TRUNCATE series, series_subjects, series_coverage, series_applied, series_applied_revisions, series_stored_outbox');
  }

  const one = rows.find((r) => r.hubs === 1);
  const cols = ['hubs', 'summaries', 'wall s', 'summaries/s', 'per hub', 'scaling vs 1 hub', 'hub CPU s/100k', 'pg CPU s/100k', 'broker CPU s/100k', 'edge sim CPU s/100k', 'resends', 'check'];
  const table = rows.map((r) => [
    String(r.hubs), String(r.summaries), r.wallSec.toFixed(2), r.ok ? String(Math.round(r.rate)) : '(not counted)', r.ok ? String(Math.round(r.rate / r.hubs)) : '-',
    one?.ok && r.ok ? `${(r.rate / one.rate).toFixed(2)}x` : '-', r.hubCpu.toFixed(2), r.pgCpu.toFixed(2), r.brokerCpu.toFixed(2), r.simCpu.toFixed(2), String(r.resends), r.ok ? 'OK' : 'MISMATCH',
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...table.map((t) => t[i]!.length)));
  console.log(`\n${cols.map((c, i) => c.padStart(widths[i]!)).join(' | ')}`);
  for (const t of table) console.log(t.map((c, i) => c.padStart(widths[i]!)).join(' | '));
  console.log(`(${(await import('node:os')).cpus().length} cores shared by the hubs, PostgreSQL, mosquitto and the edge simulator)`);
  const readme = path.join(repo, 'README.md');
  const level = existsSync(readme) ? /hub ingest into LevelDB \| ([\d,]+) summaries\/s/.exec(readFileSync(readme, 'utf8'))?.[1] : undefined;
  console.log(`single-process LevelDB ingest for comparison (in-process, no broker): ${level ? `${level} summaries/s as README.md's figures table records it; ` : ''}measure with \`npm run bench -- hub-ingest\` (bench/hub-ingest-bench.ts)`);
}

try {
  await main();
} finally {
  await tearDown();
}
