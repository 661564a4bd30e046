/**
 * Issue 13's yardstick: the loss-free rate of the edge against nfcapd (Debian's nfdump), same sender,
 * same machine, same run. Prints each one's loss-free datagrams/s, flow records/s, CPU-seconds per
 * 100k datagrams, and the ratio edge/nfcapd (target: ≥ 1.0 with 100,000 active subjects and
 * checkpoints running at the edge's default interval).
 *
 * Usage: tsx bench/nfcapd-vs-edge.ts [--seconds 8] [--subjects 100000] [--max-loss-pct 0.1]
 *        [--max-backlog-sec 1] [--recv-buffer-mb 32] [--checkpoint-ms <edge default, 5000>] [--start-rate 25000]
 *        [--precision 0.1] [--only edge|nfcapd] [--edge-cmd "VAR=x node --import tsx edge/main.ts"]
 *        [--nfcapd-dir /dev/shm] [--warmup-sec 2] [--warmup-rate 20000] [--netflow 5|9]
 *
 * - Sender: bench/udp-blaster.c, compiled here with the system gcc into a temp dir: paced sends of
 *   pre-built NetFlow v5 datagrams (30 records each, running sequence numbers), 44 per system call
 *   with UDP GSO (sendmmsg() of 64 where the kernel has no GSO). Its own ceiling is measured first
 *   (into a socket nobody reads) and printed; rates are capped at 90% of it, and a step where it fell
 *   short is marked SENDER-BOUND, so a collector's rate is never overstated. Why C and GSO: a Node
 *   sender (setInterval + socket.send, as in edge-pipeline-bench) tops out near the rates measured
 *   here, and even sendmmsg() reached only ~90-140k/s next to a reading nfcapd on this loaded 2-core
 *   box (each datagram walks the loopback stack in the sender's call); with GSO, ~600k/s.
 * - Traffic: NetFlow v5 by default; --netflow 9 sends v9 (one IPv4 template, in the first datagram and
 *   every 20th, as Cisco refreshes it; 30 records a datagram either way). Destinations spread over 100,000 IP groups (consecutive /26s of 10.0.0.0/8, as in
 *   edge-pipeline-bench), 8 input interfaces; flows ended 1 s before the step starts, so the edge's
 *   flow bounds accept them. Every step sends every group (3,334 distinct datagrams, repeated).
 * - nfcapd: `nfcapd -w <tmp> -p <port> -b 127.0.0.1 -B <bytes>` per step (nfdump 1.7: -B is SO_RCVBUF;
 *   no compression, Debian's default), stopped with SIGTERM (which flushes); stored flows counted
 *   with `nfdump -I -r <file>` (and its own "Ident: ... Flows:" stat line, printed at exit). Its files
 *   (~100 bytes a flow, gigabytes a step) go to the same temp dir as the edge's LevelDB and are
 *   removed after each step; --nfcapd-dir /dev/shm takes the disk out of nfcapd's figure.
 * - Edge: the real program as in production (`node --import tsx edge/main.ts`, or the command in
 *   /tmp/edge-entry.txt when present), its config file pointing at the step's UDP port, a LevelDB
 *   data dir in tmp kept across steps (the 100,000-group collection config is stored there before the
 *   first start, as the hub's retained config would be; a seeding step makes all subjects active),
 *   checkpoints every --checkpoint-ms (default: the edge's own default, FLOWBILL_EDGE_CHECKPOINT_INTERVAL_MS,
 *   as deployed; --checkpoint-ms 1000 for a stricter run), MQTT pointed at a closed port (the outbox accumulates, as with
 *   the hub unreachable). Received datagrams: the `packetsReceived` counter of its "edge stopped"
 *   log line at SIGTERM.
 * - Both collectors get the same receive buffer (run as root, net.core.rmem_max is raised to it and
 *   that is printed). After the sender stops, the step waits until the socket's queue is empty
 *   (/proc/net/udp rx_queue) and the collector is idle before SIGTERM; the kernel's drop count for
 *   the socket (/proc/net/udp drops) is printed too.
 * - WARM-UP: each step starts its collector afresh, sends --warmup-sec (2) of the same traffic at
 *   --warmup-rate (20,000/s), waits until the collector is idle, then sends the measured --seconds at
 *   the step's rate. What the warm-up sent is subtracted from what the collector counted, so a
 *   datagram lost in the warm-up counts against the step; CPU is counted from the measured send.
 *   Why: the edge runs on a JIT, and its first ~6,000 datagrams after a start run 5-10x slower (V8
 *   compiling the hot path, the first pass creating every subject's row). A router's export rate does
 *   not pause for that, so it is real, but once per start of a process that then runs for months;
 *   the figure this bench searches for is the rate a running collector keeps. --warmup-sec 0 gives
 *   the cold figure (each step a fresh process under full load from its first datagram).
 * - Loss-free: ≤ --max-loss-pct (0.1%) of the datagrams sent over a --seconds send (8 s: eight
 *   checkpoints) are missing, the collector was idle again within --max-backlog-sec (1 s) of the
 *   sender's end (so a queue that merely absorbs an 8 s overload does not count as keeping pace),
 *   and the sender kept up (sent ≥ 98% of rate × seconds; if not, with no loss, the collector is
 *   reported as "≥" the rate sent: sender-bound). 0.1% allows the odd kernel drop; every step prints
 *   its exact loss, backlog and kernel drops so a stricter reading is possible.
 * - Search: doubling from --start-rate, then bisection until the bracket is within --precision (10%);
 *   the two collectors alternate step by step (order swapped each round) so background load hits both.
 * - CPU: utime+stime of the collector's process (all threads, and children) from /proc, from the
 *   start of the send until it is idle again: startup and shutdown are not counted. The kernel's
 *   loopback delivery runs in the sender's system calls and is not counted for either.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { buildV5, type V5Flow } from '../edge/demo/netflow-v5-writer';
import { buildV9Datagram } from '../edge/demo/netflow-v9-writer';
import { openLevelKvStore } from '../common/kv/level-kv-store';
import { saveCollectionConfig } from '../edge/classify/collection-config-store';
import { loadEdgeConfig } from '../edge/config';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
const strArg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.dirname(benchDir);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RECORDS_PER_DATAGRAM = 30;

const seconds = arg('seconds', 8);
const subjects = arg('subjects', 100_000);
const maxLossPct = arg('max-loss-pct', 0.1);
const recvBufferBytes = arg('recv-buffer-mb', 32) * 1024 * 1024;
const checkpointMs = arg('checkpoint-ms', loadEdgeConfig({ env: { FLOWBILL_EDGE_ID: 'bench', FLOWBILL_TENANT_ID: 'bench' } }).checkpointIntervalMs);
const startRate = arg('start-rate', 25_000);
const precision = arg('precision', 0.1);
const maxBacklogSec = arg('max-backlog-sec', 1);
const only = strArg('only');
const warmupSec = arg('warmup-sec', 2);
const netflowVersion = arg('netflow', 5);
if (netflowVersion !== 5 && netflowVersion !== 9) throw new Error('--netflow must be 5 or 9');
/** v9: a template in the first datagram and every TEMPLATE_EVERY-th after it (Cisco refreshes every 20 packets by default). */
const TEMPLATE_EVERY = 20;
const warmupRate = arg('warmup-rate', 20_000);

function have(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Destination in IP group g (consecutive /26s of 10.0.0.0/8, the layout of edge-pipeline-bench). */
function groupAddress(g: number, host: number): [number, number, number, number] {
  const base = g * 64 + host;
  return [10, (base >>> 16) & 255, (base >>> 8) & 255, base & 255];
}

/** Every IP group gets a record: ceil(subjects / 30) distinct datagrams, length-prefixed for the blaster. */
function writeDatagrams(file: string): number {
  const nowMs = Date.now();
  const count = Math.max(64, Math.ceil(subjects / RECORDS_PER_DATAGRAM));
  const parts: Buffer[] = [];
  for (let d = 0; d < count; d++) {
    const flows: V5Flow[] = [];
    for (let r = 0; r < RECORDS_PER_DATAGRAM; r++) {
      const dst = groupAddress((d * RECORDS_PER_DATAGRAM + r) % Math.max(1, subjects), 1 + (r % 60));
      flows.push({ src: [198, 51, 100, r], dst, inputIf: 1 + (r % 8), outputIf: 9, packets: 10, bytes: 10_000, startMs: nowMs - 5000, endMs: nowMs - 1000, dstPort: 40_000 + (d % 20_000) });
    }
    const dg = netflowVersion === 5 ? buildV5(flows, { nowMs, sequence: 0 }) : buildV9Datagram({
      nowMs, bootMs: nowMs - 3_600_000, sequence: 0, sourceId: 0, withTemplate: d % TEMPLATE_EVERY === 0,
      flows: flows.map((f) => ({ src: Uint8Array.from(f.src), dst: Uint8Array.from(f.dst), inputIf: f.inputIf, outputIf: f.outputIf, packets: f.packets, bytes: f.bytes, startMs: f.startMs, endMs: f.endMs, srcPort: 443, dstPort: f.dstPort ?? 0, protocol: 6 })),
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(dg.length);
    parts.push(len, dg);
  }
  writeFileSync(file, Buffer.concat(parts));
  return count;
}

function raiseRmemMax(bytes: number): void {
  let current = 0;
  try { current = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim()); } catch { return; }
  if (current >= bytes) { console.log(`net.core.rmem_max = ${current} (enough for ${bytes})`); return; }
  if (process.getuid?.() !== 0) { console.log(`net.core.rmem_max = ${current}: not root, both collectors get less than asked (run as root or raise it)`); return; }
  try {
    execFileSync('sysctl', ['-w', `net.core.rmem_max=${bytes}`], { stdio: 'ignore' });
    console.log(`RAISED net.core.rmem_max ${current} -> ${bytes} (sysctl -w, as root)`);
  } catch (err) { console.log(`cannot raise net.core.rmem_max: ${(err as Error).message}`); }
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The IPv4 UDP socket bound to 127.0.0.1:port in /proc/net/udp: queued bytes and kernel drops. */
function udpSocketState(port: number): { rxQueue: number; drops: number } | undefined {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === hex) return { rxQueue: parseInt(f[4].split(':')[1], 16), drops: Number(f[12]) };
  }
  return undefined;
}

const clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU-seconds (user + system, all threads) of pid and its descendants. */
function treeCpuSec(rootPid: number): number {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
      procs.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch { /* gone */ }
  }
  let ticks = 0;
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop()!;
    ticks += procs.get(pid)?.ticks ?? 0;
    for (const [p, v] of procs) if (v.ppid === pid) todo.push(p);
  }
  return ticks / clkTck;
}

const closed = new WeakMap<ChildProcess, Promise<void>>();
const running = new Set<ChildProcess>();
// An interrupted bench leaves no collector or sender behind.
const tempDirs: string[] = [];
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

/** spawn, remembering when the child has exited AND its output is all read ('close'). */
function launch(cmd: string, args: string[], opts: Parameters<typeof spawn>[2]): ChildProcess {
  const child = spawn(cmd, args, opts);
  running.add(child);
  closed.set(child, new Promise((r) => child.once('close', () => { running.delete(child); r(); })));
  return child;
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  let t: NodeJS.Timeout | undefined;
  const done = await Promise.race([closed.get(child)!.then(() => true), new Promise<boolean>((r) => { t = setTimeout(() => r(false), ms); })]);
  clearTimeout(t);
  return done;
}

async function runBlaster(blaster: string, args: string[]): Promise<{ sent: number; elapsedSec: number; errors: number; gso: number }> {
  const child = launch(blaster, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  await waitExit(child, 600_000);
  return JSON.parse(out.trim()) as { sent: number; elapsedSec: number; errors: number; gso: number };
}

interface StepResult { sent: number; sentRate: number; received: number; cpuSec: number; kernelDrops: number; backlogSec: number; stopSec: number; note: string }

/** One collector under test: started fresh for each step, stopped with SIGTERM, counted after. */
interface Collector {
  name: 'nfcapd' | 'edge';
  start(port: number): Promise<ChildProcess>;
  /** Datagrams the collector got, after it exited (from what it stored or printed; 0 if it could not say); note: anything worth printing. */
  count(child: ChildProcess): { received: number; note: string };
}

/**
 * Waits until the socket's queue is empty AND the collector is idle (< 20% of a core over 250 ms),
 * i.e. has also worked off its own queues (the edge's queue between threads holds up to 64 MiB). A
 * collector still busy long after the sender stopped did not keep pace, whatever it eventually
 * counts; SIGTERM before then would drop what is queued. Returns the socket's last state and the
 * collector's CPU-seconds so far.
 */
async function waitIdle(pid: number, port: number): Promise<{ state: ReturnType<typeof udpSocketState>; cpuSec: number }> {
  let state = udpSocketState(port);
  let cpuPrev = treeCpuSec(pid);
  for (let i = 0; i < 120; i++) {
    await sleep(250);
    const cpuNow = treeCpuSec(pid);
    state = udpSocketState(port) ?? state;
    const idle = cpuNow - cpuPrev < 0.05;
    cpuPrev = cpuNow;
    if (idle && (!state || state.rxQueue === 0)) break;
  }
  return { state, cpuSec: cpuPrev };
}

async function runStep(c: Collector, blaster: string, datagramsFile: string, rate: number, warm = true): Promise<StepResult> {
  writeDatagrams(datagramsFile); // timestamps of now, for the edge's flow bounds
  const port = await freeUdpPort();
  const child = await c.start(port);
  // Warm-up (WARM-UP in the header): the same traffic at a low rate, then the measured send.
  let warmSent = 0;
  if (warmupSec > 0 && warm) {
    warmSent = (await runBlaster(blaster, [datagramsFile, '127.0.0.1', String(port), String(warmupRate), String(warmupSec)])).sent;
    await waitIdle(child.pid!, port);
  }
  const cpu0 = treeCpuSec(child.pid!);
  const { sent, elapsedSec } = await runBlaster(blaster, [datagramsFile, '127.0.0.1', String(port), String(rate), String(seconds)]);
  const sendEnd = performance.now();
  const { state, cpuSec: cpuNow } = await waitIdle(child.pid!, port);
  const backlogSec = (performance.now() - sendEnd) / 1000 - 0.25; // the last (idle) window is not backlog
  const cpuSec = cpuNow - cpu0;
  const stopStart = performance.now();
  child.kill('SIGTERM');
  let note = '';
  if (!(await waitExit(child, 60_000))) { child.kill('SIGKILL'); await waitExit(child, 5000); note = 'did not exit 60 s after SIGTERM: SIGKILL; '; }
  const stopSec = (performance.now() - stopStart) / 1000;
  const counted = c.count(child);
  // What the warm-up sent is taken off what was received: a datagram it lost counts against the step.
  return { sent, sentRate: Math.round(sent / elapsedSec), received: counted.received - warmSent, cpuSec, kernelDrops: state?.drops ?? -1, backlogSec, stopSec, note: note + counted.note };
}

function nfcapdCollector(workDir: string): Collector {
  const flowDir = path.join(strArg('nfcapd-dir') ?? workDir, `flowbill-bench-nfcapd-${process.pid}`);
  tempDirs.push(flowDir);
  let output = '';
  return {
    name: 'nfcapd',
    async start(port) {
      rmSync(flowDir, { recursive: true, force: true });
      mkdirSync(flowDir, { recursive: true });
      const child = launch('nfcapd', ['-w', flowDir, '-p', String(port), '-b', '127.0.0.1', '-B', String(recvBufferBytes)], { stdio: ['ignore', 'pipe', 'pipe'] });
      output = '';
      child.stdout!.on('data', (d) => { output += d; });
      child.stderr!.on('data', (d) => { output += d; });
      for (let i = 0; i < 100 && !udpSocketState(port); i++) await sleep(50);
      if (!udpSocketState(port)) throw new Error('nfcapd did not bind its port');
      return child;
    },
    count() {
      let stored = 0;
      for (const f of readdirSync(flowDir).filter((n) => n.startsWith('nfcapd.'))) {
        const info = execFileSync('nfdump', ['-I', '-r', path.join(flowDir, f)]).toString();
        stored += Number(/^Flows: (\d+)/m.exec(info)?.[1] ?? 0);
      }
      rmSync(flowDir, { recursive: true, force: true }); // ~100 bytes a flow: gigabytes per step
      const own = /Ident: .*? Flows: (\d+).*?Sequence Errors: (\d+)/.exec(output);
      const note = own ? `stat line: ${own[1]} flows, ${own[2]} sequence errors` : 'no stat line';
      return { received: stored / RECORDS_PER_DATAGRAM, note };
    },
  };
}

/**
 * The command that starts the edge (run in the repo): --edge-cmd "...", else the first line of
 * /tmp/edge-entry.txt that is not a # comment, else `node --import tsx edge/main.ts`. Leading
 * VAR=value words become environment, e.g. --edge-cmd "FLOWBILL_EDGE_THREADS=1 node --import tsx edge/main.ts".
 */
function edgeCommand(): { cmd: string; args: string[]; env: Record<string, string>; source: string } {
  const given = strArg('edge-cmd');
  const entry = given !== undefined ? '--edge-cmd' : '/tmp/edge-entry.txt';
  const line = given ?? (existsSync(entry) ? readFileSync(entry, 'utf8').split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#')) : undefined);
  const words = line?.split(/\s+/);
  if (!words) return { cmd: process.execPath, args: ['--import', 'tsx', 'edge/main.ts'], env: {}, source: 'edge/main.ts (no /tmp/edge-entry.txt)' };
  const env: Record<string, string> = {};
  while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) { const w = words.shift()!; env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1); }
  let cmd = words.shift()!;
  if (cmd === 'node') cmd = process.execPath;
  return { cmd, args: words, env, source: `${line} (from ${given !== undefined ? '--edge-cmd' : entry})` };
}

function edgeCollector(workDir: string): Collector {
  const dataDir = path.join(workDir, 'edge-data');
  const configFile = path.join(workDir, 'edge.json');
  const command = edgeCommand();
  let out = '';
  return {
    name: 'edge',
    async start(port) {
      writeFileSync(configFile, JSON.stringify({
        edgeId: 'bench', tenantId: 'bench', udpHost: '127.0.0.1', udpPort: port, udpRecvBufferBytes: recvBufferBytes,
        dataDir, checkpointIntervalMs: checkpointMs,
        sflowPort: -1, // no sFlow socket: 6343 may be taken, and nfcapd has none either
        mqttUrl: 'mqtt://127.0.0.1:1', // nothing listens: the edge runs as with the hub unreachable
      }));
      const child = launch(command.cmd, command.args, {
        cwd: repoDir, stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...command.env, LOG_LEVEL: 'info', FLOWBILL_EDGE_CONFIG: configFile },
      });
      out = '';
      const errLines: string[] = [];
      child.stderr!.on('data', (d) => { errLines.push(String(d)); });
      child.stdout!.on('data', (d) => { out += d; });
      for (let i = 0; i < 1200 && !out.includes('"msg":"edge started"'); i++) {
        if (child.exitCode !== null) throw new Error(`edge exited at start (${child.exitCode}): ${errLines.join('')}${out.slice(-2000)}`);
        await sleep(50);
      }
      if (!out.includes('"msg":"edge started"')) throw new Error(`edge did not start in 60 s: ${out.slice(-2000)}`);
      return child;
    },
    count(child) {
      const output = out;
      const lines = output.split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } });
      const stopped = lines.find((l) => l.msg === 'edge stopped');
      if (!stopped) return { received: 0, note: `no "edge stopped" line with its counters (exit ${child.exitCode ?? child.signalCode}): counted as all lost` };
      const c = stopped as Record<string, number>;
      const problems = ['unclassifiedFlows', 'flowsOutOfBounds', 'decodeErrors', 'internalErrors', 'storeWriteErrors', 'tableEvictions', 'datagramsDropped'].filter((k) => c[k]).map((k) => `${k} ${c[k]}`);
      return { received: c.packetsReceived, note: `flowsDecoded ${c.flowsDecoded}, outboxDepth ${c.outboxDepth}${problems.length ? `; ${problems.join(', ')}` : ''}` };
    },
  };
}

/** Stores the 100k-group collection config where the edge loads it at start (the hub's retained one otherwise). */
async function seedEdgeConfig(workDir: string): Promise<void> {
  const dataDir = path.join(workDir, 'edge-data');
  mkdirSync(dataDir, { recursive: true });
  const kv = await openLevelKvStore(path.join(dataDir, 'state'));
  const ipGroups = Array.from({ length: subjects }, (_, i) => ({ name: `g${i}`, prefixes: [`${groupAddress(i, 0).join('.')}/26`] }));
  await saveCollectionConfig(kv, { version: 1, collectionPaused: false, pauseReason: '', allInterfaces: true, interfaces: [], ipGroups });
  await kv.close();
}

interface Search { c: Collector; lo: number; hi: number; next: number; done: boolean; capped: boolean; best?: StepResult }

function fmtStep(name: string, rate: number, r: StepResult, pass: boolean): string {
  const lossPct = (100 * (r.sent - r.received)) / r.sent;
  return `${name.padEnd(6)} target ${String(rate).padStart(7)}/s: sent ${r.sent} (${r.sentRate}/s), received ${Math.round(r.received)}, loss ${lossPct.toFixed(3)}%, kernel drops ${r.kernelDrops}, busy ${r.backlogSec.toFixed(1)} s after the sender, stop ${r.stopSec.toFixed(1)} s, CPU ${r.cpuSec.toFixed(2)} s → ${pass ? 'PASS' : 'fail'} (${r.note})`;
}

async function main(): Promise<void> {
  console.log(`nfcapd vs edge, node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);
  const missing = ['nfcapd', 'nfdump', 'gcc'].filter((c) => !have(c));
  if (missing.length) { console.log(`skipped: ${missing.join(', ')} not installed (Debian: apt-get install nfdump gcc)`); return; }
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'flowbill-nfcapd-vs-edge-'));
  tempDirs.push(workDir);
  try {
    const blaster = path.join(workDir, 'udp-blaster');
    execFileSync('gcc', ['-O2', '-o', blaster, path.join(benchDir, 'udp-blaster.c')], { stdio: 'inherit' });
    raiseRmemMax(recvBufferBytes);
    const datagramsFile = path.join(workDir, 'datagrams.bin');
    const distinct = writeDatagrams(datagramsFile);
    const ceiling = await runBlaster(blaster, [datagramsFile, '--sink', '2']);
    const ceilingRate = Math.round(ceiling.sent / ceiling.elapsedSec);
    const cap = Math.floor((0.9 * ceilingRate) / 1000) * 1000;
    console.log(`sender (bench/udp-blaster.c, ${ceiling.gso ? 'UDP GSO sends of 44 datagrams' : 'sendmmsg batches of 64 (no UDP GSO here)'}): ceiling ${ceilingRate} datagrams/s into a socket nobody reads; rates capped at ${cap}/s`);
    console.log(`traffic: NetFlow v${netflowVersion}${netflowVersion === 9 ? ` (a template every ${TEMPLATE_EVERY} datagrams)` : ''}, ${RECORDS_PER_DATAGRAM} records a datagram, ${distinct} distinct datagrams over ${subjects} IP groups; ${seconds} s per step after a warm-up of ${warmupSec} s at ${warmupRate}/s (--warmup-sec 0: cold starts); loss-free = loss ≤ ${maxLossPct}%, idle again ≤ ${maxBacklogSec} s after the sender, and the sender kept up`);
    console.log(`both collectors: SO_RCVBUF ${recvBufferBytes} bytes, bound to 127.0.0.1; the edge checkpoints every ${checkpointMs} ms, MQTT unreachable`);

    const collectors: Collector[] = [];
    if (only !== 'edge') collectors.push(nfcapdCollector(workDir));
    if (only !== 'nfcapd') {
      await seedEdgeConfig(workDir);
      const edge = edgeCollector(workDir);
      console.log(`edge command: ${edgeCommand().source}`);
      // Seeding: every IP group gets traffic, so the steps start from a data dir with all subjects active.
      const t0 = performance.now();
      const seeding = await runStep(edge, blaster, datagramsFile, 10_000, false);
      console.log(`edge seeding step (${((performance.now() - t0) / 1000).toFixed(1)} s incl. start and stop): ${fmtStep('edge', 10_000, seeding, true).split(': ').slice(1).join(': ').replace(/ → PASS/, '')}`);
      collectors.push(edge);
    }
    const searches: Search[] = collectors.map((c) => ({ c, lo: 0, hi: Infinity, next: Math.min(startRate, cap), done: false, capped: false }));
    for (let round = 0; searches.some((s) => !s.done); round++) {
      const order = round % 2 === 0 ? searches : [...searches].reverse();
      for (const s of order) {
        if (s.done) continue;
        const rate = s.next;
        const r = await runStep(s.c, blaster, datagramsFile, rate);
        const lossPct = (100 * (r.sent - r.received)) / r.sent;
        const lossFree = lossPct <= maxLossPct && r.backlogSec <= maxBacklogSec;
        const keptUp = r.sent >= 0.98 * rate * seconds;
        const pass = lossFree && keptUp;
        console.log(fmtStep(s.c.name, rate, r, pass) + (lossFree && !keptUp ? ' SENDER-BOUND: the sender could not keep up' : ''));
        if (lossFree && !keptUp) { // the collector is faster than this machine can feed it
          if (r.sentRate > s.lo) { s.lo = r.sentRate; s.best = r; }
          s.done = true; s.capped = true;
          continue;
        }
        if (pass) { s.lo = rate; s.best = r; } else s.hi = rate;
        if (pass && s.hi === Infinity) {
          if (rate >= cap) { s.done = true; s.capped = true; continue; }
          s.next = Math.min(cap, rate * 2);
        } else if (s.lo === 0) {
          if (rate <= 1000) { s.done = true; continue; }
          s.next = Math.max(1000, Math.round(rate / 2000) * 1000);
        } else {
          if ((s.hi - s.lo) / s.lo <= precision) { s.done = true; continue; }
          s.next = Math.round((s.lo + s.hi) / 2000) * 1000;
          if (s.next <= s.lo || s.next >= s.hi) s.done = true;
        }
      }
    }
    console.log('');
    const rateOf: Record<string, number> = {};
    const cpuOf: Record<string, number> = {};
    for (const s of searches) {
      rateOf[s.c.name] = s.lo;
      const b = s.best;
      const cpuPer100k = b && b.received > 0 ? (b.cpuSec / b.received) * 100_000 : NaN;
      cpuOf[s.c.name] = cpuPer100k;
      console.log(`${s.c.name} loss-free: ${s.capped ? '≥ ' : ''}${s.lo} datagrams/s = ${s.lo * RECORDS_PER_DATAGRAM} flow records/s${s.capped ? ' (bound by the sender, not the collector)' : ''}; ${cpuPer100k.toFixed(2)} CPU-seconds per 100k datagrams at that rate; failed at ${Number.isFinite(s.hi) ? s.hi : '-'}`);
    }
    if (rateOf.edge !== undefined && rateOf.nfcapd) {
      console.log(`ratio edge/nfcapd: ${(rateOf.edge / rateOf.nfcapd).toFixed(2)} (target ≥ 1.0 with ${subjects} active subjects and checkpoints every ${checkpointMs} ms)`);
      // Less noisy than the rates on a shared machine: what a datagram costs each of them.
      console.log(`CPU per datagram edge/nfcapd: ${(cpuOf.edge / cpuOf.nfcapd).toFixed(1)}x`);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
