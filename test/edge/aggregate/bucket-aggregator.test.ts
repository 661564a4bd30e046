import t from 'tap';
import { createBucketAggregator, clockRevision } from '../../../edge/aggregate/bucket-aggregator';
import { createManualClock } from '../../../common/clock';
import { aggregatorCheckpointOps, loadAggregatorState } from '../../../edge/aggregate/aggregator-checkpoint-store';
import { createClassifier, defaultCollectionConfig } from '../../../edge/classify/classifier';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { flow } from '../helpers/flows';

const T0 = 1_700_000_100_000; // a bucket start (1_700_000_100 % 300 == 0)
const classifier = createClassifier(defaultCollectionConfig());
/** The revision a bucket object created at T0 gets: seconds since 2020-01-01. */
const R0 = clockRevision(T0);

t.test('bucket closes at end + grace, not before; summaries per subject and direction', async (t) => {
  const agg = createBucketAggregator({ closeGraceSec: 60, clock: createManualClock(T0) });
  agg.add(flow({ startMs: T0 + 1000, endMs: T0 + 2000, bytes: 500, packets: 5 }), classifier.classify(flow({ inputIf: 1, outputIf: 2 })));
  agg.add(flow({ startMs: T0 + 3000, endMs: T0 + 4000, bytes: 100, packets: 1, inputIf: 2, outputIf: 1 }), classifier.classify(flow({ inputIf: 2, outputIf: 1 })));
  t.same(agg.closeDue(T0 + 300_000 + 59_999), [], 'still in grace');
  const out = agg.closeDue(T0 + 360_000);
  t.same(out.map((s) => [s.subjectId, s.bytesIn, s.bytesOut, s.packetsIn, s.packetsOut, s.flowsIn, s.flowsOut, s.revision, s.bucketStartSec, s.durationSec]), [
    ['if:192.0.2.1/1', 500, 100, 5, 1, 1, 1, R0, T0 / 1000, 300],
    ['if:192.0.2.1/2', 100, 500, 1, 5, 1, 1, R0, T0 / 1000, 300],
  ]);
  t.same(agg.closeDue(T0 + 900_000), [], 'closed once');
});

t.test('flows for a closed bucket become an additive revision with a fresh revision number', async (t) => {
  const clock = createManualClock(T0);
  const agg = createBucketAggregator({ closeGraceSec: 0, clock });
  const hits = classifier.classify(flow());
  agg.add(flow({ startMs: T0, endMs: T0 + 1000, bytes: 10 }), hits);
  t.same(agg.closeDue(T0 + 300_000).map((s) => s.revision), [R0, R0], 'stamped when the bucket object was created');
  clock.setMs(T0 + 300_500);
  agg.add(flow({ startMs: T0 + 5000, endMs: T0 + 6000, bytes: 7 }), classifier.classify(flow()));
  t.equal(agg.stats().lateFlows, 1);
  const rev1 = agg.closeDue(T0 + 301_000);
  t.same(rev1.map((s) => [s.bucketStartSec, s.bytesIn + s.bytesOut, s.revision]), [[T0 / 1000, 7, R0 + 300], [T0 / 1000, 7, R0 + 300]], 'the clock term: seconds since 2020');
  // Same clock second again: lastRevisionUsedForThisStart + 1.
  agg.add(flow({ startMs: T0 + 5000, endMs: T0 + 6000, bytes: 3 }), classifier.classify(flow()));
  t.same(agg.closeDue(T0 + 302_000).map((s) => s.revision), [R0 + 301, R0 + 301], 'never the same revision twice');
  agg.add(flow({ startMs: T0 + 5000, endMs: T0 + 6000, bytes: 3 }), classifier.classify(flow()));
  t.same(agg.closeDue(T0 + 302_000).map((s) => s.revision), [R0 + 302, R0 + 302], 'not even within one clock second');
});

t.test('a flow spanning a closed and an open bucket: the closed part is a revision, the rest stays open', async (t) => {
  const agg = createBucketAggregator({ closeGraceSec: 0, clock: createManualClock(T0 + 300_000) });
  agg.closeDue(T0 + 300_000); // closes everything before T0+300s
  agg.add(flow({ startMs: T0 + 200_000, endMs: T0 + 400_000, bytes: 1000, inputIf: 1, outputIf: 0 }), classifier.classify(flow({ inputIf: 1, outputIf: 0 })));
  const late = agg.closeDue(T0 + 300_500);
  t.same(late.map((s) => [s.bucketStartSec, s.bytesIn, s.flowsIn, s.revision]), [[T0 / 1000, 500, 0, R0 + 300]]);
  const rest = agg.closeDue(T0 + 600_000);
  t.same(rest.map((s) => [s.bucketStartSec, s.bytesIn, s.flowsIn, s.revision]), [[T0 / 1000 + 300, 500, 1, R0 + 300]], 'revisions are per start: both objects made in one second');
});

t.test('checkpoint + restore: same totals, closed buckets stay closed, restored buckets keep their revision and are sealed', async (t) => {
  const kv = createMemoryKvStore();
  const clock = createManualClock(T0);
  const a = createBucketAggregator({ closeGraceSec: 0, clock });
  a.add(flow({ startMs: T0, endMs: T0 + 1, bytes: 11 }), classifier.classify(flow()));
  a.closeDue(T0 + 300_000);
  clock.setMs(T0 + 300_000);
  a.add(flow({ startMs: T0 + 1, endMs: T0 + 2, bytes: 5 }), classifier.classify(flow())); // late
  a.add(flow({ startMs: T0 + 300_001, endMs: T0 + 300_002, bytes: 13 }), classifier.classify(flow())); // open
  await kv.write(aggregatorCheckpointOps(a.checkpoint()));
  t.same(a.checkpoint().changed, [], 'nothing dirty after a checkpoint');

  const b = createBucketAggregator({ closeGraceSec: 0, clock });
  const state = await loadAggregatorState(kv);
  t.same(b.restore(state.meta, state.buckets), { buckets: 2, rows: 4, droppedRows: 0, droppedBuckets: 0, problems: [] });
  t.same(b.totals(), a.totals());
  clock.setMs(T0 + 310_000); // the restart
  b.add(flow({ startMs: T0 + 2, endMs: T0 + 3, bytes: 1 }), classifier.classify(flow()));
  t.equal(b.stats().lateFlows, 1, 'bucket closed before the restart is still closed');
  const out = b.closeDue(T0 + 600_000);
  // The restored late bucket (5 bytes, revision R0+300) is sealed: the 1 byte after the restart is a
  // new object with a new revision. Ordered by start, revision, subject.
  t.same(out.map((s) => [s.bucketStartSec - T0 / 1000, s.bytesIn, s.revision]), [
    [0, 5, R0 + 300], [0, 0, R0 + 300], [0, 1, R0 + 310], [0, 0, R0 + 310], [300, 13, R0 + 300], [300, 0, R0 + 300],
  ]);
  // Removal of the emitted buckets reaches the store.
  await kv.write(aggregatorCheckpointOps(b.checkpoint()));
  const after = await loadAggregatorState(kv);
  t.same(after.buckets, []);
  t.same(after.meta, { closedBeforeSec: T0 / 1000 + 600 });
});
