/**
 * Demo exporter: realistic NetFlow v9 traffic so a newcomer sees data within a minute.
 *   tsx edge/demo/demo-exporter.ts --port 2055 [--host 127.0.0.1] [--exporters 3]
 *
 * Each "router" sends from its own loopback address (127.0.0.1, .2, .3: Linux routes all of
 * 127/8 to lo) so the edge sees several exporters; if binding fails, they share one socket and
 * differ only by source id. Per router: uplink ifIndex 1, customer ports 10-12. Customers own
 * documentation prefixes (198.51.100.0/25, 198.51.100.128/25, 203.0.113.0/24). Rates follow a
 * day curve (low at 04:00 UTC, peak at 16:00) with noise; downloads dominate as on real access
 * networks. The template is sent first and again every 10 s (exporters resend templates).
 */
import dgram from 'node:dgram';
import { pathToFileURL } from 'node:url';
import type { Clock } from '../../common/clock';
import { systemClock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { silentLogger, createLogger } from '../../common/logger';
import { systemTimers, type Timers } from '../../common/ticker';
import { buildV9Datagram, V9_MAX_RECORDS, type V9Flow } from './netflow-v9-writer';

export interface DemoCustomer { name: string; prefix: [number, number, number]; hostBase: number; hostCount: number; ifIndex: number; peakBitsPerSec: number }

export const DEMO_CUSTOMERS: DemoCustomer[] = [
  { name: 'cust-a', prefix: [198, 51, 100], hostBase: 1, hostCount: 126, ifIndex: 10, peakBitsPerSec: 80e6 },
  { name: 'cust-b', prefix: [198, 51, 100], hostBase: 129, hostCount: 126, ifIndex: 11, peakBitsPerSec: 30e6 },
  { name: 'cust-c', prefix: [203, 0, 113], hostBase: 1, hostCount: 254, ifIndex: 12, peakBitsPerSec: 150e6 },
];
/** IP groups matching DEMO_CUSTOMERS, for a demo collection config. */
export const DEMO_IP_GROUPS = [
  { name: 'cust-a', prefixes: ['198.51.100.0/25'] },
  { name: 'cust-b', prefixes: ['198.51.100.128/25'] },
  { name: 'cust-c', prefixes: ['203.0.113.0/24'] },
];
const UPLINK_IF = 1;

export interface DemoExporterOptions {
  host: string;
  port: number;
  clock?: Clock;
  /** The send interval's timer; tests pass manual timers and move them with the clock. */
  timers?: Timers;
  log?: Logger;
  /** Number of simulated routers (1-8). */
  exporters?: number;
  intervalMs?: number;
  /** Flow records per router per tick. */
  flowsPerTick?: number;
  /** Random seed for reproducible traffic. */
  seed?: number;
}

export interface DemoExporterStats { packets: number; flows: number; bytes: number; exporters: string[] }

export interface DemoExporter {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Build and send one tick of traffic now. */
  tick(): Promise<void>;
  stats(): DemoExporterStats;
}

/** Day curve in [0.2, 1]: trough at 04:00 UTC, peak at 16:00 UTC. */
export function diurnalFactor(nowMs: number): number {
  const hour = (nowMs / 3_600_000) % 24;
  return 0.6 - 0.4 * Math.cos((2 * Math.PI * (hour - 4)) / 24);
}

function mulberry32(seed: number): () => number {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function createDemoExporter(opts: DemoExporterOptions): DemoExporter {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? silentLogger;
  const intervalMs = opts.intervalMs ?? 1000;
  const flowsPerTick = opts.flowsPerTick ?? 40;
  const rand = mulberry32(opts.seed ?? 1);
  const routerCount = Math.min(8, Math.max(1, opts.exporters ?? 3));
  const routers = Array.from({ length: routerCount }, (_, i) => ({
    address: `127.0.0.${i + 1}`, sourceId: i + 1, sequence: 0, packetsSinceTemplate: Infinity, lastTemplateMs: -Infinity,
    bootMs: clock.nowMs() - 3_600_000 * (5 + i), socket: undefined as dgram.Socket | undefined,
  }));
  let shared: dgram.Socket | undefined;
  const timers = opts.timers ?? systemTimers;
  let timer: unknown;
  /**
   * No flow starts before the exporter did. A real router's first export can carry flows that began
   * earlier, but the demo's are invented: backdating them into the 5-minute slot before `npm start`
   * put a few bytes in a slot before the add-on's trial began, which the hub rightly refused
   * (a REJECTED batch in a first run's log).
   */
  let startedMs = -Infinity;
  const stats: DemoExporterStats = { packets: 0, flows: 0, bytes: 0, exporters: [] };

  function ip4(a: number, b: number, c: number, d: number): Uint8Array { return Uint8Array.of(a, b, c, d); }

  function flowsFor(nowMs: number): V9Flow[] {
    const flows: V9Flow[] = [];
    const factor = diurnalFactor(nowMs) * (0.9 + 0.2 * rand());
    const share = 1 / routerCount;
    for (let i = 0; i < flowsPerTick; i++) {
      const cust = DEMO_CUSTOMERS[Math.floor(rand() * DEMO_CUSTOMERS.length)];
      const download = rand() < 0.8;
      // Bytes per tick for this customer on this router, spread over its flows.
      const custBytesPerTick = (cust.peakBitsPerSec / 8) * factor * share * (intervalMs / 1000) * (download ? 0.8 : 0.2);
      const bytes = Math.max(64, Math.round((custBytesPerTick / (flowsPerTick / DEMO_CUSTOMERS.length)) * (0.3 + 1.4 * rand())));
      const packets = Math.max(1, Math.round(bytes / (download ? 1300 : 400)));
      const host = ip4(cust.prefix[0], cust.prefix[1], cust.prefix[2], cust.hostBase + Math.floor(rand() * cust.hostCount));
      const remote = ip4(1 + Math.floor(rand() * 222), Math.floor(rand() * 256), Math.floor(rand() * 256), 1 + Math.floor(rand() * 254));
      const endMs = Math.max(startedMs, nowMs - Math.floor(rand() * 500));
      const durationMs = Math.min(Math.floor(rand() * 10_000), endMs - startedMs);
      const service = [443, 443, 443, 80, 53, 1935, 3478][Math.floor(rand() * 7)];
      flows.push(download
        ? { src: remote, dst: host, inputIf: UPLINK_IF, outputIf: cust.ifIndex, packets, bytes, startMs: endMs - durationMs, endMs, srcPort: service, dstPort: 32768 + Math.floor(rand() * 28000), protocol: service === 53 || service === 3478 ? 17 : 6 }
        : { src: host, dst: remote, inputIf: cust.ifIndex, outputIf: UPLINK_IF, packets, bytes, startMs: endMs - durationMs, endMs, srcPort: 32768 + Math.floor(rand() * 28000), dstPort: service, protocol: service === 53 || service === 3478 ? 17 : 6 });
    }
    return flows;
  }

  function sendOn(socket: dgram.Socket, datagram: Buffer): Promise<void> {
    return new Promise((resolve) => socket.send(datagram, opts.port, opts.host, (err) => {
      if (err) log.warn({ err: err.message }, 'demo exporter send failed');
      resolve();
    }));
  }

  async function tick(): Promise<void> {
    const nowMs = clock.nowMs();
    for (const router of routers) {
      const socket = router.socket ?? shared;
      if (!socket) continue;
      const flows = flowsFor(nowMs);
      for (let i = 0; i < flows.length; i += V9_MAX_RECORDS) {
        const chunk = flows.slice(i, i + V9_MAX_RECORDS);
        const withTemplate = nowMs - router.lastTemplateMs >= 10_000;
        if (withTemplate) router.lastTemplateMs = nowMs;
        const datagram = buildV9Datagram({ nowMs, bootMs: router.bootMs, sequence: router.sequence++, sourceId: router.sourceId, withTemplate, flows: chunk });
        await sendOn(socket, datagram);
        stats.packets++;
        stats.flows += chunk.length;
        for (const f of chunk) stats.bytes += f.bytes;
      }
    }
  }

  async function bindTo(address: string | undefined): Promise<dgram.Socket> {
    const socket = dgram.createSocket(opts.host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: 0 }, () => { socket.off('error', reject); resolve(); });
    });
    socket.on('error', (err) => log.warn({ err: err.message }, 'demo exporter socket error'));
    return socket;
  }

  return {
    async start() {
      const loopbackTarget = opts.host === '127.0.0.1' || opts.host === 'localhost';
      for (const router of routers) {
        if (!loopbackTarget) break;
        try { router.socket = await bindTo(router.address); } catch { router.socket = undefined; }
      }
      if (routers.some((r) => !r.socket)) shared = await bindTo(undefined);
      stats.exporters = routers.map((r) => (r.socket ? r.address : `shared socket, source id ${r.sourceId}`));
      log.info({ target: `${opts.host}:${opts.port}`, exporters: stats.exporters }, 'demo exporter sending NetFlow v9');
      startedMs = clock.nowMs();
      await tick();
      timer = timers.setInterval(() => { void tick(); }, intervalMs);
    },
    async stop() {
      if (timer !== undefined) timers.clearInterval(timer);
      timer = undefined;
      for (const s of [...routers.map((r) => r.socket), shared]) if (s) await new Promise<void>((r) => s.close(() => r()));
      for (const r of routers) r.socket = undefined;
      shared = undefined;
    },
    tick,
    stats: () => ({ ...stats, exporters: [...stats.exporters] }),
  };
}

// CLI: tsx edge/demo/demo-exporter.ts --port 2055 [--host 127.0.0.1] [--exporters 3]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
  const log = createLogger('flowbill-demo-exporter');
  const demo = createDemoExporter({ host: arg('host', '127.0.0.1'), port: Number(arg('port', '2055')), exporters: Number(arg('exporters', '3')), log });
  await demo.start();
  setInterval(() => log.info(demo.stats(), 'demo exporter totals'), 60_000).unref();
  const stop = () => { void demo.stop().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
