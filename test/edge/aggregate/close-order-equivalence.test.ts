/**
 * closeDue orders a revision's rows by subject rank (subject-order.ts) instead of a string sort: its
 * output must be exactly what the string-sorting summariesOf gave (CONTENT IDENTITY (c)). The old
 * summariesOf is kept below verbatim as the reference; it runs on the aggregator's full checkpoint
 * taken just before each close. Random contents: subjects from all the edge's id shapes, several
 * starts (open, late), restarts (restored, sealed revisions next to new ones for the same start),
 * subjects made between closes (the order is merged again), and buckets that hold nearly every
 * known subject (summariesOf walks all ranks) next to ones that hold a few (it sorts their ranks).
 */
import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { createBucketAggregator, COUNTERS_PER_ROW, type AggregatorCheckpoint, type BucketAggregator } from '../../../edge/aggregate/bucket-aggregator';
import { aggregatorCheckpointOps, loadAggregatorState } from '../../../edge/aggregate/aggregator-checkpoint-store';
import { hitCode, subjectKeyOf } from '../../../edge/classify/subject-keys';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { createManualClock } from '../../../common/clock';
import { BUCKET_SEC, bucketStartSecOfMs } from '../../../common/bucket';
import type { Summary, SubjectKind } from '../../../proto/codec';
import { flow } from '../helpers/flows';
import { subjectIdArb } from './subject-id-arbs';

const T0 = 1_700_000_100_000; // a bucket start
const GRACE_SEC = 60;

interface RefBucket { startSec: number; revision: number; rows: number; counts: Float64Array; slotOfRow: Int32Array }

/** The reference: bucket-aggregator.ts summariesOf before issue 13's subject ranks, verbatim. */
function referenceSummaries(bucket: RefBucket, subjectIds: string[], subjectKinds: number[], out: Summary[]): void {
  // --- verbatim from edge/aggregate/bucket-aggregator.ts (799578f) ---
  function summariesOf(bucket: RefBucket, out: Summary[]): void {
    const c = bucket.counts;
    const rows = bucket.rows;
    const ids: string[] = new Array(rows);
    const order: number[] = new Array(rows);
    for (let row = 0; row < rows; row++) { ids[row] = subjectIds[bucket.slotOfRow[row]]; order[row] = row; }
    order.sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0)); // CONTENT IDENTITY (c)
    for (const row of order) {
      const slot = bucket.slotOfRow[row];
      const o = row * COUNTERS_PER_ROW;
      out.push({
        subjectId: ids[row], subjectKind: subjectKinds[slot] as SubjectKind, bucketStartSec: bucket.startSec, durationSec: BUCKET_SEC,
        bytesIn: c[o], bytesOut: c[o + 1], packetsIn: c[o + 2], packetsOut: c[o + 3], flowsIn: c[o + 4], flowsOut: c[o + 5],
        revision: bucket.revision,
      });
    }
  }
  // --- end verbatim ---
  summariesOf(bucket, out);
}

/** Every held bucket's rows as a full checkpoint (markAllDirty) gives them, in row order. */
function heldBuckets(cp: AggregatorCheckpoint, subjectIds: string[], subjectKinds: number[]): RefBucket[] {
  const byIdentity = new Map<string, { startSec: number; revision: number; chunks: AggregatorCheckpoint['changed'] }>();
  for (const chunk of cp.changed) {
    const identity = `${chunk.bucketStartSec}/${chunk.revision}`;
    let entry = byIdentity.get(identity);
    if (!entry) byIdentity.set(identity, entry = { startSec: chunk.bucketStartSec, revision: chunk.revision, chunks: [] });
    entry.chunks.push(chunk);
  }
  const decoder = new TextDecoder();
  return [...byIdentity.values()].map(({ startSec, revision, chunks }) => {
    chunks.sort((a, b) => a.chunk - b.chunk);
    const rows = chunks.reduce((n, c) => n + c.rows, 0);
    const counts = new Float64Array(rows * COUNTERS_PER_ROW);
    const slotOfRow = new Int32Array(rows);
    let row = 0;
    for (const chunk of chunks) {
      const ids = decoder.decode(chunk.ids).split('\n');
      counts.set(chunk.counts.subarray(0, chunk.rows * COUNTERS_PER_ROW), row * COUNTERS_PER_ROW);
      for (let i = 0; i < chunk.rows; i++, row++) {
        const slot = subjectKeyOf(ids[i], chunk.kinds[i]);
        subjectIds[slot] = ids[i];
        subjectKinds[slot] = chunk.kinds[i];
        slotOfRow[row] = slot;
      }
    }
    return { startSec, revision, rows, counts, slotOfRow };
  });
}

/** Every subject id this file made a key for (the process-wide table holds only these). */
const allIds: string[] = [];
const kindOf = (id: string) => (id.startsWith('if:') ? 1 : 2);
function keyOf(id: string): number {
  const before = allIds.length;
  const key = subjectKeyOf(id, kindOf(id));
  if (key >= before) allIds.push(id);
  return key;
}

type Step =
  | { op: 'add'; id: number; direction: 0 | 1; bucket: number; bytes: number }
  | { op: 'addAll'; bucket: number } // a row for every known subject: summariesOf walks all ranks
  | { op: 'newIds'; ids: string[]; bucket: number } // subjects made between closes: the order is merged again
  | { op: 'close'; advanceMs: number }
  | { op: 'restart' };

const bucketArb = fc.integer({ min: -2, max: 1 }); // buckets relative to the clock's: late ones and the open one
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ op: fc.constant('add' as const), id: fc.nat(), direction: fc.constantFrom(0 as const, 1 as const), bucket: bucketArb, bytes: fc.integer({ min: 0, max: 2 ** 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('addAll' as const), bucket: bucketArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('newIds' as const), ids: fc.array(subjectIdArb, { maxLength: 30 }), bucket: bucketArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('close' as const), advanceMs: fc.integer({ min: 0, max: 700_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const) }) },
);

t.test('closeDue gives exactly the string-sorting implementation\'s summaries, in its order', async (t) => {
  let closes = 0, summaries = 0;
  await fc.assert(fc.asyncProperty(fc.array(subjectIdArb, { minLength: 1, maxLength: 40 }), fc.array(stepArb, { maxLength: 40 }), async (firstIds, steps) => {
    const clock = createManualClock(T0 + 1000);
    const kv = createMemoryKvStore();
    let agg: BucketAggregator = createBucketAggregator({ closeGraceSec: GRACE_SEC, clock });
    let closedBeforeSec = 0; // the reference's own watermark (bucket-aggregator.ts closing rule)
    let pool = [...new Set(firstIds)];
    for (const id of pool) keyOf(id);
    const add = (id: string, direction: 0 | 1, bucket: number, bytes: number) => {
      const startMs = (bucketStartSecOfMs(clock.nowMs()) + bucket * BUCKET_SEC) * 1000 + 1000;
      agg.addCoded(flow({ startMs, endMs: startMs + 1000, bytes, packets: 1 + (bytes % 7) }), Int32Array.of(hitCode(keyOf(id), direction)), 1);
    };
    const closeAndCompare = () => {
      const subjectIds: string[] = [], subjectKinds: number[] = [];
      agg.markAllDirty();
      const held = heldBuckets(agg.checkpoint(), subjectIds, subjectKinds);
      const nowMs = clock.nowMs();
      closedBeforeSec = Math.max(closedBeforeSec, bucketStartSecOfMs(nowMs - GRACE_SEC * 1000));
      const due = held.filter((b) => b.startSec < closedBeforeSec).sort((x, y) => x.startSec - y.startSec || x.revision - y.revision);
      const expected: Summary[] = [];
      for (const b of due) referenceSummaries(b, subjectIds, subjectKinds, expected);
      const got = agg.closeDue(nowMs);
      closes++; summaries += got.length;
      if (isDeepStrictEqual(got, expected)) return true;
      t.same(got, expected); // the difference, for the log
      return false;
    };
    for (const step of steps) {
      if (step.op === 'add') add(pool[step.id % pool.length], step.direction, step.bucket, step.bytes);
      else if (step.op === 'addAll') for (const id of allIds) add(id, 0, step.bucket, 1);
      else if (step.op === 'newIds') { for (const id of step.ids) add(id, 1, step.bucket, 3); pool = [...new Set([...pool, ...step.ids])]; }
      else if (step.op === 'close') { clock.advanceMs(step.advanceMs); if (!closeAndCompare()) return false; }
      else {
        // A restart: everything held is written and loaded back (sealed); new flows get new revisions.
        agg.markAllDirty();
        await kv.write(aggregatorCheckpointOps(agg.checkpoint()));
        clock.advanceMs(1000);
        agg = createBucketAggregator({ closeGraceSec: GRACE_SEC, clock });
        const state = await loadAggregatorState(kv);
        agg.restore(state.meta, state.buckets);
      }
    }
    clock.advanceMs(1_000_000);
    return closeAndCompare();
  }), { numRuns: 150, seed: 13 });
  t.ok(summaries > 1000, `${closes} closes, ${summaries} summaries compared`);
});

t.test('100k subjects in one bucket (the issue\'s size): the same summaries as the string sort', async (t) => {
  const clock = createManualClock(T0 + 1000);
  const agg = createBucketAggregator({ closeGraceSec: GRACE_SEC, clock });
  const codes = new Int32Array(1);
  for (let i = 0; i < 100_000; i++) {
    codes[0] = hitCode(keyOf(`ipg:issue13-${(i * 7919) % 100_000}`), i & 1);
    agg.addCoded(flow({ startMs: T0 + 1000, endMs: T0 + 2000, bytes: i, packets: 1 }), codes, 1);
  }
  const subjectIds: string[] = [], subjectKinds: number[] = [];
  agg.markAllDirty();
  const [bucket] = heldBuckets(agg.checkpoint(), subjectIds, subjectKinds);
  const expected: Summary[] = [];
  referenceSummaries(bucket, subjectIds, subjectKinds, expected);
  const got = agg.closeDue(T0 + 400_000);
  t.equal(got.length, 100_000);
  // One comparison, not 100k assertions.
  t.ok(isDeepStrictEqual(got, expected), 'identical, in the same order');
});
