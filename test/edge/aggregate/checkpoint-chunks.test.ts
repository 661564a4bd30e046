/**
 * Checkpoints in chunks of CHUNK_ROWS rows (bucket-aggregator.ts): only chunks with a changed row are
 * rewritten, a bucket loads back whole from its chunks, the unchunked key of older versions is
 * replaced in one write, and a failed write never leaves a leftover key next to its rewrite.
 */
import t from 'tap';
import { CHUNK_ROWS, createBucketAggregator } from '../../../edge/aggregate/bucket-aggregator';
import { aggregatorCheckpointOps, bucketChunkKey, bucketKey, encodeBucket, loadAggregatorState } from '../../../edge/aggregate/aggregator-checkpoint-store';
import { createClassifier, defaultCollectionConfig } from '../../../edge/classify/classifier';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { prefixRange, type KeyValueStore } from '../../../common/kv/kv-store';
import { flow } from '../helpers/flows';

const T0 = 1_700_000_100_000; // a bucket start
const S0 = T0 / 1000;
const classifier = createClassifier(defaultCollectionConfig()); // every interface: 2 subjects a flow

/** Flow i: exporter 10.x.y.z, interfaces 1 and 2 → subjects if:<exporter>/1 and /2 (2 rows each). */
function flowFor(i: number, bytes = 100) {
  const f = flow({ exporter: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, startMs: T0, endMs: T0 + 1000, bytes, packets: 1 });
  return f;
}

async function keys(kv: KeyValueStore): Promise<string[]> {
  const out: string[] = [];
  for await (const [k] of kv.entries(prefixRange('agg/bucket/'))) out.push(k);
  return out;
}

t.test('a bucket of 3 chunks: all written first, then only the chunk whose row changed; it loads back whole', async (t) => {
  const kv = createMemoryKvStore();
  const a = createBucketAggregator({ closeGraceSec: 60 });
  const flows = Math.ceil((CHUNK_ROWS * 2.5) / 2); // 2 rows per flow: rows fill 2.5 chunks
  for (let i = 0; i < flows; i++) { const f = flowFor(i); a.add(f, classifier.classify(f)); }
  const first = a.checkpoint();
  t.same(first.changed.map((c) => [c.chunk, c.rows]), [[0, CHUNK_ROWS], [1, CHUNK_ROWS], [2, flows * 2 - 2 * CHUNK_ROWS]]);
  await kv.write(aggregatorCheckpointOps(first));

  const f = flowFor(CHUNK_ROWS / 2 + 3, 7); // rows CHUNK_ROWS + 6 and + 7: chunk 1
  a.add(f, classifier.classify(f));
  const second = a.checkpoint();
  t.same(second.changed.map((c) => c.chunk), [1], 'only the changed chunk');
  await kv.write(aggregatorCheckpointOps(second));
  t.same(a.checkpoint().changed, [], 'nothing changed: nothing written');

  const rev = first.changed[0].revision;
  t.same(await keys(kv), [0, 1, 2].map((c) => bucketChunkKey(S0, rev, c)));
  const state = await loadAggregatorState(kv);
  t.equal(state.buckets.length, 1, 'one bucket object from three chunks');
  const b = createBucketAggregator({ closeGraceSec: 60 });
  b.restore(state.meta, state.buckets);
  t.same(b.totals(), a.totals(), 'same counts after restore');
  t.same(b.closeDue(T0 + 400_000), a.closeDue(T0 + 400_000), 'same summaries, same identity');
});

t.test('emitting a chunked bucket deletes all its chunks in the same write', async (t) => {
  const kv = createMemoryKvStore();
  const a = createBucketAggregator({ closeGraceSec: 0 });
  for (let i = 0; i < CHUNK_ROWS; i++) { const f = flowFor(i); a.add(f, classifier.classify(f)); } // 2 chunks
  await kv.write(aggregatorCheckpointOps(a.checkpoint()));
  t.equal((await keys(kv)).length, 2);
  const summaries = a.closeDue(T0 + 300_000);
  t.equal(summaries.length, CHUNK_ROWS * 2);
  await kv.write(aggregatorCheckpointOps(a.checkpoint()));
  t.same(await keys(kv), [], 'no chunk left behind (it would load and be sent again)');
});

t.test('an unchunked bucket of an older version: loads, and when rewritten its old key goes in the same write', async (t) => {
  const kv = createMemoryKvStore();
  const ids = ['if:192.0.2.1/1', 'if:192.0.2.1/2', 'if:192.0.2.1/2'];
  // A duplicate subject with a bad counter row: restore drops it, so the bucket must be rewritten.
  await kv.write([{ type: 'put', key: bucketKey(S0, 42), value: encodeBucket({ bucketStartSec: S0, revision: 42, rows: 3, kinds: Uint8Array.of(1, 1, 1), counts: Float64Array.of(10, 0, 1, 0, 1, 0, 0, 20, 0, 2, 0, 1, -1, 0, 0, 0, 0, 0), ids: new TextEncoder().encode(ids.join('\n')) }) }]);
  const state = await loadAggregatorState(kv);
  const a = createBucketAggregator({ closeGraceSec: 0 });
  const report = a.restore(state.meta, state.buckets);
  t.equal(report.droppedRows, 1);
  const cp = a.checkpoint();
  t.same(cp.changed.map((c) => [c.revision, c.chunk, c.rows]), [[42, 0, 2]], 'rewritten whole, as a chunk');
  const ops = aggregatorCheckpointOps(cp);
  t.ok(ops.some((o) => o.type === 'del' && o.key === bucketKey(S0, 42)), 'the unchunked key is deleted in the same write');
  await kv.write(ops);
  t.same(await keys(kv), [bucketChunkKey(S0, 42, 0)]);
  const again = await loadAggregatorState(kv);
  const b = createBucketAggregator({ closeGraceSec: 0 });
  b.restore(again.meta, again.buckets);
  t.same(b.totals(), { bytes: 30, packets: 3, flows: 2 });
});

t.test('a restored chunked bucket that shrank (dropped rows) deletes its leftover chunk keys; after a failed write too', async (t) => {
  const kv = createMemoryKvStore();
  const a = createBucketAggregator({ closeGraceSec: 60 });
  for (let i = 0; i < CHUNK_ROWS / 2; i++) { const f = flowFor(i); a.add(f, classifier.classify(f)); }
  const last = { ...flowFor(CHUNK_ROWS), outputIf: 0 }; // one subject: 1 row in the second chunk
  a.add(last, classifier.classify(last));
  const cp = a.checkpoint();
  await kv.write(aggregatorCheckpointOps(cp));
  const rev = cp.changed[0].revision;
  // Corrupt one row of chunk 0 (a negative counter): restore drops it and renumbers, 1 chunk left.
  const chunk0 = cp.changed[0];
  const counts = Float64Array.from(chunk0.counts); counts[0] = -5;
  await kv.write([{ type: 'put', key: bucketChunkKey(S0, rev, 0), value: encodeBucket({ ...chunk0, counts }) }]);

  const state = await loadAggregatorState(kv);
  const b = createBucketAggregator({ closeGraceSec: 60 });
  t.equal(b.restore(state.meta, state.buckets).droppedRows, 1);
  const failed = b.checkpoint();
  t.same(failed.changed.map((c) => c.chunk), [0], 'rewritten as one chunk');
  t.same(failed.removed.map((r) => [r.chunkFrom, r.chunkTo, r.unchunked]), [[1, 2, false]], 'chunk 1 is a leftover');
  // The write fails: the caller keeps `removed` and marks all dirty (create-edge.ts doFlush).
  b.markAllDirty();
  const retry = b.checkpoint();
  retry.removed = failed.removed.concat(retry.removed);
  await kv.write(aggregatorCheckpointOps(retry));
  t.same(await keys(kv), [bucketChunkKey(S0, rev, 0)], 'the leftover chunk is gone, not loaded twice');
  const again = await loadAggregatorState(kv);
  const c = createBucketAggregator({ closeGraceSec: 60 });
  c.restore(again.meta, again.buckets);
  t.same(c.totals(), b.totals());
});
