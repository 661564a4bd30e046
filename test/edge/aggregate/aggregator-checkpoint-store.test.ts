import t from 'tap';
import { createBucketAggregator } from '../../../edge/aggregate/bucket-aggregator';
import { aggregatorCheckpointOps, loadAggregatorState } from '../../../edge/aggregate/aggregator-checkpoint-store';
import { createClassifier, defaultCollectionConfig } from '../../../edge/classify/classifier';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { encodeJson } from '../../../common/kv/json-codec';
import { flow } from '../helpers/flows';

const T0 = 1_700_000_100_000; // a bucket start
const classifier = createClassifier(defaultCollectionConfig());

t.test('binary buckets round trip: IPv6 exporters, rows added after a checkpoint, counters above 2^32', async (t) => {
  const kv = createMemoryKvStore();
  const a = createBucketAggregator({ closeGraceSec: 60 });
  const big = 6_000_000_000_123;
  a.add(flow({ exporter: '2001:db8::1', startMs: T0, endMs: T0 + 1000, bytes: big, packets: 7 }), classifier.classify(flow({ exporter: '2001:db8::1' })));
  await kv.write(aggregatorCheckpointOps(a.checkpoint()));
  a.add(flow({ exporter: '192.0.2.9', inputIf: 3, outputIf: 0, startMs: T0, endMs: T0 + 1000, bytes: 5, packets: 1 }), classifier.classify(flow({ exporter: '192.0.2.9', inputIf: 3, outputIf: 0 })));
  await kv.write(aggregatorCheckpointOps(a.checkpoint()));

  const b = createBucketAggregator({ closeGraceSec: 60 });
  const state = await loadAggregatorState(kv);
  b.restore(state.meta, state.buckets);
  const rows = (x: typeof a) => x.closeDue(T0 + 400_000).map((s) => [s.subjectId, s.subjectKind, s.bytesIn, s.bytesOut, s.packetsIn, s.flowsOut]);
  t.same(rows(b), [ // one revision, subjects in ascending string order
    ['if:192.0.2.9/3', 1, 5, 0, 1, 0],
    ['if:2001:db8::1/1', 1, big, 0, 7, 0],
    ['if:2001:db8::1/2', 1, 0, big, 0, 1],
  ]);
  t.same(rows(b), [], 'closed once');
});

t.test('buckets written as JSON rows by earlier versions still load', async (t) => {
  const kv = createMemoryKvStore();
  await kv.write([
    { type: 'put', key: 'agg/meta', value: encodeJson({ closedBeforeSec: 0, nextRevision: 3 }) },
    { type: 'put', key: 'agg/open/00' + String(T0 / 1000), value: encodeJson([['if:192.0.2.1/1', 1, 10, 20, 1, 2, 1, 0]]) },
  ]);
  const a = createBucketAggregator({ closeGraceSec: 0 });
  const state = await loadAggregatorState(kv);
  a.restore(state.meta, state.buckets);
  t.same(a.totals(), { bytes: 30, packets: 3, flows: 1 });
  t.same(a.closeDue(T0 + 300_000).map((s) => [s.subjectId, s.bytesIn, s.bytesOut, s.packetsIn, s.packetsOut, s.flowsIn, s.flowsOut]), [['if:192.0.2.1/1', 10, 20, 1, 2, 1, 0]]);
});
