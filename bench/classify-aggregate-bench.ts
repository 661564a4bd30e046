/**
 * The worker thread's per-record cost, without sockets (printed as plain lines, no assertions):
 *  1. classify + aggregate: records/s and ns per record through createClassifier + the bucket
 *     aggregator, 100,000 IP groups + 2 interfaces per record (3 hits), a fixed clock so the share of
 *     flows that cross a bucket boundary is the same every run (--cross-pct, default 10).
 *  2. ingest: decode v5 → validate → classify → aggregate (→ top talkers with --live) through
 *     createEdge().ingest() with 30-record datagrams, the path the worker runs per datagram.
 * Usage: tsx bench/classify-aggregate-bench.ts [--records 3000000] [--subjects 100000] [--cross-pct 10]
 *        [--only classify|ingest] [--live] [--rounds 3] [--exporter-per-record]
 * Repeatable counts for A/B on a shared machine: run it under
 *   valgrind --tool=callgrind node --import tsx bench/classify-aggregate-bench.ts --only classify --records N
 * for two values of N; (Ir(N2) - Ir(N1)) / (N2 - N1) is the instructions per record.
 */
import { createClassifier, MAX_HITS } from '../edge/classify/classifier';
import { createBucketAggregator } from '../edge/aggregate/bucket-aggregator';
import { createEdge } from '../edge/create-edge';
import { loadEdgeConfig } from '../edge/config';
import { buildV5, type V5Flow } from '../edge/demo/netflow-v5-writer';
import type { FlowRecord } from '../edge/decode/flow-record';
import { BUCKET_MS } from '../common/bucket';
import { silentLogger } from '../common/logger';
import { createMemoryKvStore } from '../common/kv/memory-kv-store';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
const only = (() => { const i = process.argv.indexOf('--only'); return i > 0 ? process.argv[i + 1] : ''; })();
const records = arg('records', 3_000_000);
const subjects = arg('subjects', 100_000);
const crossPct = arg('cross-pct', 10);
const rounds = arg('rounds', 3);
const live = process.argv.includes('--live');

// 170 s into a bucket: flows end 1 s ago; the crossing ones start in the previous bucket.
const nowMs = Math.floor(Date.UTC(2026, 0, 1) / BUCKET_MS) * BUCKET_MS + 170_000;

function groupAddress(g: number, host: number): [number, number, number, number] {
  const base = g * 64 + host;
  return [10, (base >>> 16) & 255, (base >>> 8) & 255, base & 255];
}
const ipGroups = Array.from({ length: subjects }, (_, i) => ({ name: `g${i}`, prefixes: [`${groupAddress(i, 0).join('.')}/26`] }));
const collection = { version: 1, collectionPaused: false, pauseReason: '', allInterfaces: true, interfaces: [], ipGroups };

// One string object per exporter, as the decoder hands them out (one per datagram).
const exporters = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'];
/**
 * Record i of the bench's traffic: group i % subjects, 16 input and 16 output interfaces, 4 exporters;
 * by default the exporter changes every 30 records (a v5 datagram), --exporter-per-record alternates it.
 */
const exporterPerRecord = process.argv.includes('--exporter-per-record');
function flowOf(i: number): V5Flow & { exporter: string } {
  const cross = (i * 7919) % 100 < crossPct;
  return {
    exporter: exporters[(exporterPerRecord ? i : Math.floor(i / 30)) % 4],
    src: [198, 51, 100, i & 255], dst: groupAddress(i % subjects, 1 + (i % 60)),
    inputIf: 1 + (i % 16), outputIf: 17 + (i % 16), packets: 1 + (i % 50), bytes: 1500 * (1 + (i % 50)),
    startMs: cross ? nowMs - 180_000 - (i % 100) * 100 : nowMs - 20_000 - (i % 1000) * 100, endMs: nowMs - 1000,
    dstPort: 40000 + (i % 20000),
  };
}

function report(name: string, n: number, ms: number[]): void {
  const best = Math.min(...ms);
  console.log(`${name}: ${n} records, best of ${ms.length} ${best.toFixed(0)} ms = ${Math.round(n / (best / 1000))} records/s, ${((best * 1e6) / n).toFixed(0)} ns/record (rounds: ${ms.map((x) => x.toFixed(0)).join(' / ')} ms)`);
}

function benchClassifyAggregate(): void {
  const classifier = createClassifier(collection);
  const pool: FlowRecord[] = [];
  for (let i = 0; i < Math.min(records, 200_000); i++) {
    const v = flowOf(i);
    pool.push({
      exporter: v.exporter, observationDomain: 0, srcIp: Uint8Array.from(v.src), dstIp: Uint8Array.from(v.dst),
      inputIf: v.inputIf, outputIf: v.outputIf, bytes: v.bytes, packets: v.packets, samplingRate: 1,
      startMs: v.startMs, endMs: v.endMs, protocol: 6, srcPort: 443, dstPort: v.dstPort!,
    });
  }
  const times: number[] = [];
  let totals = { bytes: 0, packets: 0, flows: 0 };
  let activeSubjects = 0;
  for (let r = 0; r < rounds; r++) {
    const aggregator = createBucketAggregator({ closeGraceSec: 60, clock: { nowMs: () => nowMs } });
    const codes = new Int32Array(MAX_HITS);
    const t0 = performance.now();
    for (let i = 0; i < records; i++) {
      const f = pool[i % pool.length];
      aggregator.addCoded(f, codes, classifier.classifyInto(f, codes));
    }
    times.push(performance.now() - t0);
    totals = aggregator.totals();
    activeSubjects = aggregator.stats().activeSubjects;
  }
  report(`classify+aggregate (${subjects} IP groups, ${crossPct}% crossing a bucket)`, records, times);
  console.log(`  totals: ${totals.bytes} bytes, ${totals.packets} packets, ${totals.flows} flows; ${activeSubjects} active subjects`);
}

async function benchIngest(): Promise<void> {
  const datagrams: { d: Buffer; exporter: string }[] = [];
  const count = Math.max(64, Math.ceil(Math.min(records, 200_000) / 30));
  for (let d = 0; d < count; d++) {
    const flows: V5Flow[] = [];
    for (let r = 0; r < 30; r++) flows.push(flowOf(d * 30 + r));
    datagrams.push({ d: buildV5(flows, { nowMs, sequence: d * 30 }), exporter: exporters[d % 4] });
  }
  const times: number[] = [];
  const n = Math.ceil(records / 30);
  let flowsDecoded = 0;
  for (let r = 0; r < rounds; r++) {
    const config = loadEdgeConfig({ env: {}, overrides: { liveIntervalMs: live ? 5000 : 0 } });
    const edge = createEdge({ config, clock: { nowMs: () => nowMs }, log: silentLogger, kv: createMemoryKvStore(), publish: false, listenUdp: false });
    await edge.applyCollectionConfig(collection);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) { const x = datagrams[i % datagrams.length]; edge.ingest(x.d, x.exporter); }
    times.push(performance.now() - t0);
    flowsDecoded = edge.status().counters.flowsDecoded;
  }
  report(`decode v5+validate+classify+aggregate${live ? '+top talkers' : ''} (edge.ingest, 30-record datagrams)`, n * 30, times);
  console.log(`  flows decoded in the last round: ${flowsDecoded}`);
}

console.log(`classify/aggregate bench, node ${process.version}`);
if (only !== 'ingest') benchClassifyAggregate();
if (only !== 'classify') await benchIngest();
