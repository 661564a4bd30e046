/**
 * Issue 8: the aggregator's state is bounded whatever the exporters send, and nothing it refuses
 * goes uncounted.
 */
import t from 'tap';
import { createBucketAggregator } from '../../../edge/aggregate/bucket-aggregator';
import type { SubjectHit } from '../../../edge/classify/classifier';
import { subjectKeyOf } from '../../../edge/classify/subject-keys';
import { MAX_SUMMARY_COUNT } from '../../../proto/summary-limits';
import { SubjectKind } from '../../../proto/codec';
import { createManualClock } from '../../../common/clock';
import { flow } from '../helpers/flows';

const T0 = 1_700_000_100_000; // a bucket start
const clock = createManualClock(T0);

function hit(subjectId: string, direction: 0 | 1 = 0): SubjectHit {
  return { subjectId, subjectKey: subjectKeyOf(subjectId, SubjectKind.IP_GROUP), kind: SubjectKind.IP_GROUP, direction };
}

t.test('maxOpenBuckets: a hit for a new bucket beyond it is refused and counted, never silently', async (t) => {
  const agg = createBucketAggregator({ closeGraceSec: 60, clock, maxOpenBuckets: 4 });
  const h = [hit('ipg:bounds-a')];
  for (let i = 0; i < 10; i++) agg.add(flow({ startMs: T0 + i * 300_000, endMs: T0 + i * 300_000 + 1, bytes: 100 }), h);
  const st = agg.stats();
  t.equal(st.openBuckets + st.lateBuckets, 4);
  t.equal(st.refusedHits, 6);
  t.same(st.refusedHitsByReason, { buckets: 6, subjects: 0, rows: 0, counterLimit: 0 });
  t.equal(st.refusedBytes, 600);
  t.equal(agg.totals().bytes, 400, 'the first four buckets counted');
  // Existing buckets keep counting.
  agg.add(flow({ startMs: T0, endMs: T0 + 1, bytes: 1 }), h);
  t.equal(agg.totals().bytes, 401);
  // Closing frees room.
  agg.closeDue(T0 + 20 * 300_000);
  agg.add(flow({ startMs: T0 + 30 * 300_000, endMs: T0 + 30 * 300_000 + 1, bytes: 5 }), h);
  t.equal(agg.totals().bytes, 5);
  t.equal(agg.stats().refusedHits, 6);
});

t.test('maxSubjects and maxBucketRows', async (t) => {
  const agg = createBucketAggregator({ closeGraceSec: 60, clock, maxSubjects: 3, maxBucketRows: 5 });
  for (let i = 0; i < 5; i++) agg.add(flow({ startMs: T0, endMs: T0 + 1, bytes: 10 }), [hit(`ipg:bounds-s${i}`)]);
  let st = agg.stats();
  t.equal(st.activeSubjects, 3);
  t.same(st.refusedHitsByReason, { buckets: 0, subjects: 2, rows: 0, counterLimit: 0 });
  // Known subjects in other buckets: rows grow up to maxBucketRows.
  for (let b = 1; b < 4; b++) for (let i = 0; i < 3; i++) agg.add(flow({ startMs: T0 + b * 300_000, endMs: T0 + b * 300_000 + 1, bytes: 1 }), [hit(`ipg:bounds-s${i}`)]);
  st = agg.stats();
  t.equal(st.bucketRows, 5);
  t.same(st.refusedHitsByReason, { buckets: 0, subjects: 2, rows: 7, counterLimit: 0 });
  t.equal(st.refusedHits, 9);
  // Rows and subjects are released when their buckets close.
  agg.closeDue(T0 + 10 * 300_000);
  st = agg.stats();
  t.equal(st.bucketRows, 0);
  t.equal(st.activeSubjects, 0);
  agg.add(flow({ startMs: T0 + 20 * 300_000, endMs: T0 + 20 * 300_000 + 1, bytes: 1 }), [hit('ipg:bounds-s4')]);
  t.equal(agg.stats().activeSubjects, 1);
});

t.test('a counter never passes 2^50 (the hub would refuse the summary): the hit that would is refused', async (t) => {
  const agg = createBucketAggregator({ closeGraceSec: 0, clock });
  const h = [hit('ipg:bounds-big', 0), hit('ipg:bounds-big-2', 1)];
  const big = 2 ** 49;
  agg.add(flow({ startMs: T0, endMs: T0 + 1, bytes: big, packets: 1 }), h);
  agg.add(flow({ startMs: T0, endMs: T0 + 1, bytes: big, packets: 1 }), h);
  t.equal(agg.stats().refusedHits, 0, 'exactly 2^50 is allowed');
  agg.add(flow({ startMs: T0, endMs: T0 + 1, bytes: 1, packets: 1 }), h);
  t.same(agg.stats().refusedHitsByReason, { buckets: 0, subjects: 0, rows: 0, counterLimit: 2 });
  agg.add(flow({ startMs: T0 + 300_000, endMs: T0 + 300_001, bytes: MAX_SUMMARY_COUNT + 1, packets: 1 }), h);
  t.equal(agg.stats().refusedHitsByReason.counterLimit, 4, 'a single flow above 2^50 makes no row');
  const out = agg.closeDue(T0 + 600_000);
  t.same(out.map((s) => [s.subjectId, s.bytesIn, s.bytesOut, s.packetsIn, s.packetsOut]), [
    ['ipg:bounds-big', MAX_SUMMARY_COUNT, 0, 2, 0],
    ['ipg:bounds-big-2', 0, MAX_SUMMARY_COUNT, 0, 2],
  ]);
});

t.test('flows split-flow refuses are counted as invalid and change nothing', async (t) => {
  const agg = createBucketAggregator({ closeGraceSec: 0, clock });
  const h = [hit('ipg:bounds-inv')];
  agg.add(flow({ startMs: T0, endMs: 2 ** 62 * 1000, bytes: 1 }), h);
  agg.add(flow({ startMs: T0, endMs: T0 + 600_000, bytes: 1e37 }), h);
  agg.add(flow({ startMs: T0, endMs: T0 + 1, packets: 1e37 }), h); // one-bucket fast path
  agg.add(flow({ startMs: NaN, endMs: T0 }), h);
  agg.add(flow({ startMs: T0, endMs: T0 + 1, bytes: -5 }), h);
  const st = agg.stats();
  t.equal(st.invalidFlows, 5);
  t.equal(st.openBuckets + st.lateBuckets, 0, 'no bucket was even created');
  t.same(agg.totals(), { bytes: 0, packets: 0, flows: 0 });
});

t.test('a bucket allocates for its own rows, not for every known subject (random-time flood)', async (t) => {
  // 50,000 known subjects, then one flow each into 400 buckets with the highest subject keys: the
  // old layout allocated a rowOf index of every known subject per bucket (400 × 50k × 4 B = 80 MB).
  const ids = Array.from({ length: 50_000 }, (_, i) => `ipg:bounds-flood-${i}`);
  for (const id of ids) subjectKeyOf(id, SubjectKind.IP_GROUP);
  const agg = createBucketAggregator({ closeGraceSec: 60, clock, maxOpenBuckets: 400 });
  const before = process.memoryUsage().arrayBuffers;
  for (let b = 0; b < 400; b++) {
    agg.add(flow({ startMs: T0 - b * 300_000, endMs: T0 - b * 300_000 + 1, bytes: 1 }), [hit(ids[49_999 - b])]);
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  t.equal(agg.stats().openBuckets + agg.stats().lateBuckets, 400);
  t.ok(grown < 8 * 1024 * 1024, `typed arrays grew by ${(grown / 1024 / 1024).toFixed(1)} MiB for 400 one-row buckets`);
  // And a bucket still finds every one of many rows.
  const many = createBucketAggregator({ closeGraceSec: 60, clock });
  for (let i = 0; i < ids.length; i++) many.add(flow({ startMs: T0, endMs: T0 + 1, bytes: i + 1 }), [hit(ids[(i * 7919) % ids.length])]);
  for (let i = 0; i < ids.length; i++) many.add(flow({ startMs: T0, endMs: T0 + 1, bytes: 1 }), [hit(ids[i])]);
  t.equal(many.stats().bucketRows, ids.length);
  t.equal(many.totals().bytes, (ids.length * (ids.length + 1)) / 2 + ids.length);
});
