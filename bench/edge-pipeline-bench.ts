/**
 * Edge pipeline figures (printed as plain lines, no assertions):
 *  1. records/s through classify + aggregate with 100,000 active subjects (IP groups), and RSS;
 *     plus the cost of one checkpoint (serialize + write to an in-memory KV) at that size.
 *  2. loss-free UDP datagrams/s on loopback through the real receiver + decoder + aggregator: a
 *     sender child process blasts NetFlow v5 datagrams (30 records each) at increasing rates and
 *     we compare datagrams sent with datagrams the decoder counted. Both edges, alternated, each in a
 *     fresh process: threads=1 (createEdge, the socket on the same thread) and threads=2 (the threaded
 *     edge, edge/threads/: this thread reads, a worker decodes and checkpoints); per step the CPU of the
 *     whole process and of the reading thread alone (/proc/self/task/<pid>/stat), and queue-full drops.
 *     The loss-free rate on a shared 2-core box measures the scheduler as much as the code: read the
 *     µs per datagram too, and send with --blaster (a C sender) since a Node sender tops out first.
 * Usage: tsx bench/edge-pipeline-bench.ts [--records 3000000] [--subjects 100000] [--seconds 2] [--recv-buffer-mb 32] [--udp-subjects 100000] [--checkpoint-ms 1000] [--udp-only] [--rates 10000,20000,...] [--threads 1,2] [--rounds 1] [--blaster /path/to/udp-blaster] [--reader-nice -5]
 * (internally re-invoked as `--sender <port> <rate> <seconds>` for the sender process)
 *
 * The receive buffer is what absorbs a GC pause or a checkpoint: Linux caps SO_RCVBUF at
 * net.core.rmem_max (often 4 MiB). Run as root, this bench RAISES net.core.rmem_max to the requested
 * size (sysctl -w, printed) so it measures the receiver and not the distribution's default; otherwise
 * it prints what the kernel granted. Deploy the edge with the same sysctl.
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import os from 'node:os';
import dgram from 'node:dgram';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClassifier, MAX_HITS } from '../edge/classify/classifier';
import { createBucketAggregator } from '../edge/aggregate/bucket-aggregator';
import { aggregatorCheckpointOps } from '../edge/aggregate/aggregator-checkpoint-store';
import { createEdge } from '../edge/create-edge';
import { createThreadedEdge } from '../edge/threads/threaded-edge';
import { setReaderNice } from '../edge/receive/reader-priority';
import { loadEdgeConfig } from '../edge/config';
import { buildV5, type V5Flow } from '../edge/demo/netflow-v5-writer';
import type { FlowRecord } from '../edge/decode/flow-record';
import { systemClock } from '../common/clock';
import { silentLogger } from '../common/logger';
import { createMemoryKvStore } from '../common/kv/memory-kv-store';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;

/** Destination address in IP group g of the bench's layout (consecutive /26s of 10.0.0.0/8). */
function groupAddress(g: number, host: number): [number, number, number, number] {
  const base = g * 64 + host;
  return [10, (base >>> 16) & 255, (base >>> 8) & 255, base & 255];
}

function benchIpGroups(subjects: number): { name: string; prefixes: string[] }[] {
  return Array.from({ length: subjects }, (_, i) => ({ name: `g${i}`, prefixes: [`${groupAddress(i, 0).join('.')}/26`] }));
}

/** The sender's datagrams: enough distinct ones that every IP group gets traffic (30 records each). */
function benchDatagrams(subjects: number): Buffer[] {
  const nowMs = Date.now();
  const datagrams: Buffer[] = [];
  // Enough distinct datagrams that every IP group gets traffic (30 records each).
  const count = Math.max(64, Math.ceil(subjects / 30));
  for (let d = 0; d < count; d++) {
    const flows: V5Flow[] = [];
    for (let r = 0; r < 30; r++) {
      const dst = subjects > 0 ? groupAddress((d * 30 + r) % subjects, 1 + (r % 60)) : [10, d & 255, r, 1] as [number, number, number, number];
      flows.push({ src: [198, 51, 100, r], dst, inputIf: 1 + (r % 8), outputIf: 9, packets: 10, bytes: 10_000, startMs: nowMs - 5000, endMs: nowMs - 1000 });
    }
    datagrams.push(buildV5(flows, { nowMs, sequence: d * 30 }));
  }
  return datagrams;
}

/** For a C sender (--blaster <binary>, e.g. gcc -O2 bench/udp-blaster.c): each datagram as a 2-byte big-endian length and its bytes. */
function writeDatagramsFile(file: string, subjects: number): void {
  const parts: Buffer[] = [];
  for (const d of benchDatagrams(subjects)) { const len = Buffer.alloc(2); len.writeUInt16BE(d.length); parts.push(len, d); }
  writeFileSync(file, Buffer.concat(parts));
}

async function sender(port: number, rate: number, seconds: number, subjects: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  const datagrams = benchDatagrams(subjects);
  let sent = 0;
  let inFlight = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsedSec = Number(process.hrtime.bigint() - start) / 1e9;
      if (elapsedSec >= seconds) { clearInterval(timer); resolve(); return; }
      const due = Math.floor(rate * elapsedSec);
      while (sent < due && inFlight < 4096) {
        inFlight++;
        socket.send(datagrams[sent % datagrams.length], port, '127.0.0.1', () => { inFlight--; });
        sent++;
      }
    }, 1);
  });
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  const elapsedSec = Number(process.hrtime.bigint() - start) / 1e9;
  socket.close();
  process.stdout.write(JSON.stringify({ sent, elapsedSec }) + '\n');
}

function benchClassifyAggregate(records: number, subjects: number): void {
  // 100k IP groups: consecutive /26s of 10.0.0.0/8, one group each.
  const ipGroups = benchIpGroups(subjects);
  let t0 = performance.now();
  const classifier = createClassifier({ version: 1, collectionPaused: false, pauseReason: '', allInterfaces: true, interfaces: [], ipGroups });
  console.log(`classifier build: ${subjects} IP groups in ${(performance.now() - t0).toFixed(0)} ms, config errors ${classifier.configErrors.length}`);
  const aggregator = createBucketAggregator({ closeGraceSec: 60 });
  const nowMs = Date.now();
  const pool: FlowRecord[] = [];
  for (let i = 0; i < 200_000; i++) {
    const g = i % subjects;
    const base = g * 64 + (i % 64);
    const dst = Uint8Array.of(10, (base >>> 16) & 255, (base >>> 8) & 255, base & 255);
    pool.push({
      exporter: `192.0.2.${1 + (i % 4)}`, observationDomain: 0, srcIp: Uint8Array.of(198, 51, 100, i & 255), dstIp: dst,
      inputIf: 1 + (i % 16), outputIf: 17 + (i % 16), bytes: 1500 * (1 + (i % 50)), packets: 1 + (i % 50), samplingRate: 1,
      startMs: nowMs - 20_000 - (i % 1000) * 100, endMs: nowMs - 1000, protocol: 6, srcPort: 443, dstPort: 40000 + (i % 20000),
    });
  }
  const rssBefore = process.memoryUsage().rss;
  const codes = new Int32Array(MAX_HITS);
  t0 = performance.now();
  for (let i = 0; i < records; i++) {
    const f = pool[i % pool.length];
    aggregator.addCoded(f, codes, classifier.classifyInto(f, codes));
  }
  const ms = performance.now() - t0;
  const st = aggregator.stats();
  const mem = process.memoryUsage();
  console.log(`classify+aggregate: ${records} records in ${ms.toFixed(0)} ms = ${Math.round(records / (ms / 1000))} records/s (3 subjects per record: 2 interfaces + 1 IP group)`);
  console.log(`active subjects: ${st.activeSubjects}, open buckets: ${st.openBuckets}`);
  console.log(`rss: ${mb(mem.rss)} (before aggregating ${mb(rssBefore)}; includes the bench's 200k-record input pool, see the fresh-process figure below), heapUsed: ${mb(mem.heapUsed)}`);
  const cpMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) { // every bucket dirty each time: the worst case (all subjects active in 5 s)
    aggregator.markAllDirty();
    t0 = performance.now();
    const ops = aggregatorCheckpointOps(aggregator.checkpoint());
    cpMs.push(performance.now() - t0);
    bytes = ops.reduce((a, op) => a + (op.type === 'put' ? op.value.length : 0), 0);
  }
  console.log(`checkpoint of ${st.activeSubjects} subjects (all dirty): ${cpMs.map((x) => x.toFixed(1)).join(' / ')} ms to serialize, ${mb(bytes)} written`);
  t0 = performance.now();
  const closed = aggregator.closeDue(nowMs + 3_600_000);
  console.log(`closing all buckets: ${closed.length} summaries in ${(performance.now() - t0).toFixed(0)} ms`);
}

function raiseRmemMax(bytes: number): void {
  let current = 0;
  try { current = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim()); } catch { return; }
  if (current >= bytes) { console.log(`net.core.rmem_max = ${current} (enough for ${bytes})`); return; }
  if (process.getuid?.() !== 0) { console.log(`net.core.rmem_max = ${current}: not root, the socket gets less than asked (run as root or raise it)`); return; }
  try {
    execFileSync('sysctl', ['-w', `net.core.rmem_max=${bytes}`], { stdio: 'ignore' });
    console.log(`RAISED net.core.rmem_max ${current} -> ${bytes} (sysctl -w, as root)`);
  } catch (err) { console.log(`cannot raise net.core.rmem_max: ${(err as Error).message}`); }
}

/**
 * RSS of the edge's own state at N active subjects, in a fresh process: the classifier for N IP
 * groups and the aggregator after every group (and 32 interfaces) got traffic, fed from ONE reused
 * flow record so the bench's input does not count (run as `--rss-probe <subjects>`).
 */
function rssProbe(subjects: number): void {
  const ipGroups = Array.from({ length: subjects }, (_, i) => {
    const base = i * 64;
    return { name: `g${i}`, prefixes: [`10.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/26`] };
  });
  const classifier = createClassifier({ version: 1, collectionPaused: false, pauseReason: '', allInterfaces: true, interfaces: [], ipGroups });
  ipGroups.length = 0;
  const aggregator = createBucketAggregator({ closeGraceSec: 60 });
  const codes = new Int32Array(MAX_HITS);
  const nowMs = Date.now();
  const f: FlowRecord = {
    exporter: '192.0.2.1', observationDomain: 0, srcIp: Uint8Array.of(198, 51, 100, 1), dstIp: new Uint8Array(4),
    inputIf: 1, outputIf: 17, bytes: 1500, packets: 1, samplingRate: 1, startMs: nowMs - 2000, endMs: nowMs - 1000, protocol: 6, srcPort: 443, dstPort: 40000,
  };
  for (let i = 0; i < subjects * 3; i++) {
    const base = (i % subjects) * 64 + (i % 64);
    f.dstIp[0] = 10; f.dstIp[1] = (base >>> 16) & 255; f.dstIp[2] = (base >>> 8) & 255; f.dstIp[3] = base & 255;
    f.inputIf = 1 + (i % 16); f.outputIf = 17 + (i % 16);
    aggregator.addCoded(f, codes, classifier.classifyInto(f, codes));
  }
  aggregatorCheckpointOps(aggregator.checkpoint()); // the checkpoint's copies are part of the steady state
  gc();
  process.stdout.write(JSON.stringify({ activeSubjects: aggregator.stats().activeSubjects, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed }) + '\n');
}

async function rssInChild(subjects: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--rss-probe', String(subjects)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await new Promise((r) => child.once('exit', r));
  const r = JSON.parse(out.trim()) as { activeSubjects: number; rss: number; heapUsed: number };
  console.log(`RSS with ${r.activeSubjects} active subjects (fresh process: node+tsx, classifier, aggregator, one checkpoint): ${mb(r.rss)}, heapUsed ${mb(r.heapUsed)}`);
}

/** utime + stime of one thread of this process in seconds (Linux /proc; the main thread's tid is the pid). */
function threadCpuSec(tid: number): number {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // fields 14, 15 (USER_HZ = 100 on Linux)
  } catch { return NaN; }
}

/** The edge under test, single-thread (createEdge, socket on this thread) or threaded (edge/threads/). */
interface UdpTarget { port: number; granted: number; received(): Promise<number>; dropped(): Promise<number>; stop(): Promise<void> }

async function startTarget(threads: number, config: ReturnType<typeof loadEdgeConfig>, subjects: number): Promise<UdpTarget> {
  const groups = { version: 1, collectionPaused: false, pauseReason: '', allInterfaces: true, interfaces: [], ipGroups: benchIpGroups(subjects) };
  if (threads === 1) {
    setReaderNice(config.readerNice, silentLogger); // the same boost for the one thread that reads (fair A/B)
    const edge = createEdge({ config, clock: systemClock, log: silentLogger, kv: createMemoryKvStore(), publish: false });
    if (subjects > 0) await edge.applyCollectionConfig(groups);
    const { udpPort, udpRecvBufferBytes } = await edge.start();
    return { port: udpPort!, granted: udpRecvBufferBytes ?? 0, received: async () => edge.status().counters.packetsReceived, dropped: async () => 0, stop: () => edge.stop() };
  }
  const edge = createThreadedEdge({ config, log: silentLogger, store: { kind: 'memory' }, publish: false, workerLogLevel: 'silent' });
  const { udpPort, udpRecvBufferBytes } = await edge.start();
  if (subjects > 0) await edge.applyCollectionConfig(groups);
  return {
    port: udpPort!, granted: udpRecvBufferBytes ?? 0,
    received: async () => (await edge.status()).counters.packetsReceived,
    dropped: async () => edge.receiverStats().dropped,
    stop: async () => { await edge.stop(); },
  };
}

/**
 * One mode's rate steps, in a fresh process (`--udp-child <threads>`), so neither mode inherits the
 * other's heap and GC; prints its lines and last a JSON line with the loss-free rate.
 */
async function benchUdpMode(threads: number, seconds: number, recvBufferBytes: number, subjects: number, checkpointIntervalMs: number): Promise<void> {
  const config = loadEdgeConfig({ env: {}, overrides: { udpHost: '127.0.0.1', udpPort: 0, sflowPort: -1, liveIntervalMs: 0, checkpointIntervalMs, udpRecvBufferBytes: recvBufferBytes, readerNice: arg('reader-nice', 0) } });
  const ratesArg = process.argv.indexOf('--rates');
  const rates = ratesArg > 0 ? process.argv[ratesArg + 1].split(',').map(Number) : [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 80_000, 100_000];
  const blasterArg = process.argv.indexOf('--blaster');
  const blaster = blasterArg > 0 ? process.argv[blasterArg + 1] : undefined;
  const datagramsFile = path.join(os.tmpdir(), `flowbill-bench-datagrams-${process.pid}.bin`);
  if (blaster !== undefined) writeDatagramsFile(datagramsFile, subjects);
  const target = await startTarget(threads, config, subjects);
  console.log(`udp threads=${threads}: receive buffer requested ${mb(config.udpRecvBufferBytes)}, granted ${mb(target.granted)} (Linux reports double); v5 datagrams of 30 records; ${seconds} s per step`);
  let bestRate = 0;
  for (const rate of rates) {
    const before = await target.received();
    const droppedBefore = await target.dropped();
    const cpuBefore = process.cpuUsage();
    const readerBefore = threadCpuSec(process.pid);
    // The longest stall of this thread's event loop is what the socket buffer has to absorb (checkpoint, GC).
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const child = blaster !== undefined
      ? spawn(blaster, [datagramsFile, '127.0.0.1', String(target.port), String(rate), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--sender', String(target.port), String(rate), String(seconds), String(subjects)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    await new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 500)); // drain the socket buffer and the queue between the threads
    const { sent, elapsedSec } = JSON.parse(out.trim()) as { sent: number; elapsedSec: number };
    const received = (await target.received()) - before;
    const queueDropped = (await target.dropped()) - droppedBefore;
    loopDelay.disable();
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSec = (cpu.user + cpu.system) / 1e6;
    const readerSec = threadCpuSec(process.pid) - readerBefore;
    const lossPct = (100 * (sent - received)) / sent;
    const sentRate = Math.round(sent / elapsedSec);
    console.log(`udp threads=${threads} target ${rate}/s: sent ${sent} (${sentRate}/s, ${sentRate * 30} flows/s), decoded ${received}, loss ${lossPct.toFixed(3)}%${threads === 2 ? ` (queue-full drops ${queueDropped})` : ''}; process CPU ${cpuSec.toFixed(2)} s (${(cpu.system / 1e6).toFixed(2)} s kernel) = ${(1e6 * cpuSec / Math.max(1, received)).toFixed(1)} µs per datagram; main (reader) thread ${readerSec.toFixed(2)} s = ${(1e6 * readerSec / Math.max(1, received)).toFixed(1)} µs per datagram; longest main-thread stall ${(loopDelay.max / 1e6).toFixed(0)} ms; load average ${os.loadavg()[0].toFixed(1)}`);
    if (received >= sent) bestRate = Math.max(bestRate, sentRate);
    else if (lossPct > 1) break;
  }
  await target.stop();
  if (blaster !== undefined) rmSync(datagramsFile, { force: true });
  process.stdout.write(JSON.stringify({ lossFree: bestRate }) + '\n');
}

async function benchUdp(seconds: number, recvBufferBytes: number, subjects: number, checkpointIntervalMs: number): Promise<void> {
  raiseRmemMax(recvBufferBytes);
  const threadsArg = process.argv.indexOf('--threads');
  const modes = threadsArg > 0 ? process.argv[threadsArg + 1].split(',').map(Number) : [1, 2];
  const rounds = arg('rounds', 1);
  console.log(`udp: ${subjects} IP groups configured (every one gets traffic), checkpoint every ${checkpointIntervalMs} ms; ${modes.map((m) => `threads=${m}`).join(' / ')} alternated, ${rounds} round(s), each in a fresh process`);
  const best = new Map<number, number[]>();
  const passOn = process.argv.slice(2).filter((a, i, all) => !['--threads', '--rounds'].includes(a) && !['--threads', '--rounds'].includes(all[i - 1]));
  for (let round = 1; round <= rounds; round++) {
    for (const threads of modes) {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--udp-child', String(threads), ...passOn], { stdio: ['ignore', 'pipe', 'inherit'] });
      let lossFree = 0;
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('{"lossFree"')) lossFree = (JSON.parse(line) as { lossFree: number }).lossFree;
        else console.log(line);
      });
      await new Promise((r) => child.once('exit', r));
      best.set(threads, [...(best.get(threads) ?? []), lossFree]);
      console.log(`udp loss-free, threads=${threads}, round ${round}: ${lossFree} datagrams/s = ${lossFree * 30} flow records/s through receiver+decoder+classifier+aggregator`);
    }
  }
  for (const [threads, list] of best) console.log(`udp loss-free summary threads=${threads}: ${list.join(', ')} datagrams/s (per round)`);
}

if (process.argv[2] === '--rss-probe') {
  rssProbe(Number(process.argv[3]));
} else if (process.argv[2] === '--udp-child') {
  await benchUdpMode(Number(process.argv[3]), arg('seconds', 2), arg('recv-buffer-mb', 32) * 1024 * 1024, arg('udp-subjects', 100_000), arg('checkpoint-ms', 1000));
} else if (process.argv[2] === '--sender') {
  await sender(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6] ?? 0));
} else {
  console.log(`edge pipeline bench, node ${process.version}`);
  if (!process.argv.includes('--udp-only')) {
    benchClassifyAggregate(arg('records', 3_000_000), arg('subjects', 100_000));
    await rssInChild(arg('subjects', 100_000));
  }
  await benchUdp(arg('seconds', 2), arg('recv-buffer-mb', 32) * 1024 * 1024, arg('udp-subjects', 100_000), arg('checkpoint-ms', 1000));
}
