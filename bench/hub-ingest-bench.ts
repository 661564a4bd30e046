/**
 * Hub ingest into LevelDB: summaries stored per second through the whole ingest path (protobuf
 * decode, validation, content-dedup markers, day-chunk read-modify-write, one atomic batch per SummaryBatch),
 * and the time to read one subject's month (~30 day chunks by one range iteration).
 * Prints figures only; no assertions. `npm run bench -- hub-ingest`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BUCKET_SEC } from '../common/bucket';
import { createManualClock } from '../common/clock';
import { openLevelKvStore } from '../common/kv/level-kv-store';
import { silentLogger } from '../common/logger';
import { createBatchIngestor } from '../hub/ingest/batch-ingestor';
import { eachSpan } from '../hub/ports';
import { createKvSeriesStore } from '../hub/store/kv-series-store';
import { SubjectKind, summaryBatchCodec, type Summary } from '../proto/codec';

const SUBJECTS = Number(process.env.BENCH_SUBJECTS ?? 500);
const DAYS = Number(process.env.BENCH_DAYS ?? 3);
const MONTH_READS = 50;
const UNSORTED = process.env.BENCH_UNSORTED === '1';
const T0 = Date.UTC(2026, 9, 1) / 1000;

const dir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-hub-bench-'));
try {
  const kv = await openLevelKvStore(path.join(dir, 'db'));
  const store = createKvSeriesStore({ kv });
  // Inside the dedup horizon (40 days): the day after the last bucket.
  const clock = createManualClock((T0 + (DAYS + 1) * 86400) * 1000);
  const ingestor = createBatchIngestor({
    store, clock, log: silentLogger,
    edges: { getEdge: async (edgeId) => ({ edgeId, operatorId: 'isp1', revoked: false }) },
    policy: { collectionState: async () => ({ allowed: true }), collectionAllowedDuring: eachSpan(() => ({ allowed: true })) },
    publisher: { publish: async () => {} },
  });
  const topic = 'flowbill/v1/isp1/edge-bench/summaries';

  // One batch per 5-minute bucket with every subject, as an edge sends it.
  const buckets = DAYS * 288;
  const payloads: Uint8Array[] = [];
  for (let b = 0; b < buckets; b++) {
    const bucketStartSec = T0 + b * BUCKET_SEC;
    const summaries: Summary[] = [];
    for (let s = 0; s < SUBJECTS; s++) {
      summaries.push({
        subjectId: s % 5 === 0 ? `ipg:cust-${s}` : `if:10.0.${s >> 8}.${s & 255}/${s % 48}`, subjectKind: s % 5 === 0 ? SubjectKind.IP_GROUP : SubjectKind.INTERFACE,
        bucketStartSec, durationSec: BUCKET_SEC, bytesIn: 1e9 + s * 1000 + b, bytesOut: 2e8 + b, packetsIn: 1e6, packetsOut: 2e5, flowsIn: 5000, flowsOut: 1200, revision: 0,
      });
    }
    // The edge emits a bucket revision in ascending subject order (one range marker per batch);
    // BENCH_UNSORTED=1 keeps the old order, whose markers fall back to one point per subject.
    if (!UNSORTED) summaries.sort((x, y) => (x.subjectId < y.subjectId ? -1 : x.subjectId > y.subjectId ? 1 : 0));
    payloads.push(summaryBatchCodec.encode({ edgeId: 'edge-bench', tenantId: 'isp1', seq: b + 1, createdAtMs: 0, oldestUnackedSeq: b + 1, summaries }));
  }

  const t0 = performance.now();
  for (const p of payloads) await ingestor.handle(topic, p);
  const ingestMs = performance.now() - t0;
  const stored = ingestor.counters().summariesStored;
  console.log(`ingest: ${buckets} batches x ${SUBJECTS} summaries = ${stored} summaries in ${(ingestMs / 1000).toFixed(2)} s -> ${Math.round(stored / (ingestMs / 1000))} summaries/s, ${(ingestMs / buckets).toFixed(1)} ms per batch`);

  const t1 = performance.now();
  for (const p of payloads.slice(0, 50)) await ingestor.handle(topic, p);
  console.log(`redelivery (DUPLICATE, no data touched): ${((performance.now() - t1) / 50).toFixed(2)} ms per batch`);

  // A month of one subject: write 30 full days for it, then read it back repeatedly.
  const monthSubject = 'ipg:month-subject';
  for (let d = 0; d < 30; d++) {
    const summaries = Array.from({ length: 288 }, (_, i) => ({ subjectId: monthSubject, kind: 'ip_group' as const, bucketStartSec: T0 + d * 86400 + i * BUCKET_SEC, bytesIn: 123456789, bytesOut: 9876543, packetsIn: 1e5, packetsOut: 1e4, flowsIn: 100, flowsOut: 10, revision: 0, inRun: true }));
    // One bucket per summary: each its own one-item run. The day's end is "now" (inside the horizon).
    await store.applyBatch({ operatorId: 'isp1', edgeId: 'edge-month', seq: d + 1, nowMs: (T0 + (d + 1) * 86400) * 1000, summaries });
  }
  const times: number[] = [];
  let points = 0;
  for (let i = 0; i < MONTH_READS; i++) {
    const s = performance.now();
    points = (await store.readSeries('isp1', monthSubject, T0, T0 + 30 * 86400)).length;
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  console.log(`month read: ${points} points (30 day chunks), median ${times[Math.floor(times.length / 2)].toFixed(2)} ms, p90 ${times[Math.floor(times.length * 0.9)].toFixed(2)} ms over ${MONTH_READS} reads (DB holds ${SUBJECTS} other subjects x ${DAYS} days)`);
  const s2 = performance.now();
  const cov = await store.reportedBucketCount('isp1', T0, T0 + 30 * 86400);
  console.log(`coverage of a month: ${cov} slots in ${(performance.now() - s2).toFixed(2)} ms`);
  await kv.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
