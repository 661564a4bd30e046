/**
 * Content identity (bucket-aggregator.ts, proto Summary.revision): (edge, bucketStartSec, revision,
 * subjectId) names one summary's content forever, even when the edge's disk state rewinds.
 */
import t from 'tap';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBucketAggregator, clockRevision, type BucketAggregator } from '../../../edge/aggregate/bucket-aggregator';
import { aggregatorCheckpointOps, bucketKey, encodeBucket, loadAggregatorState } from '../../../edge/aggregate/aggregator-checkpoint-store';
import { createOutbox, type Outbox } from '../../../edge/outbox/outbox';
import { createClassifier, defaultCollectionConfig } from '../../../edge/classify/classifier';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { openLevelKvStore } from '../../../common/kv/level-kv-store';
import { collect, prefixRange, type KeyValueStore } from '../../../common/kv/kv-store';
import { encodeJson } from '../../../common/kv/json-codec';
import { createManualClock, type Clock } from '../../../common/clock';
import { silentLogger, type Logger } from '../../../common/logger';
import { summaryBatchCodec, type Summary } from '../../../proto/codec';
import { flow } from '../helpers/flows';

const T0 = 1_700_000_100_000; // a bucket start
const S0 = T0 / 1000;
const classifier = createClassifier(defaultCollectionConfig());
const hitsOf = (inputIf: number, outputIf: number) => classifier.classify(flow({ inputIf, outputIf }));

t.test('summaries come grouped by (start, revision), each revision sorted by subject id, emitted once', async (t) => {
  const clock = createManualClock(T0 + 400_000);
  const agg = createBucketAggregator({ closeGraceSec: 0, clock });
  agg.closeDue(T0 + 400_000); // watermark S0+300: S0 is closed, S0+300 open
  // Interleave subjects and starts; ifIndexes chosen so numeric and string order differ (10 < 9).
  for (const [i, o] of [[10, 9], [2, 100], [33, 4]]) {
    agg.add(flow({ startMs: T0 + 1000, endMs: T0 + 2000, bytes: 1, inputIf: i, outputIf: o }), hitsOf(i, o)); // late S0
    agg.add(flow({ startMs: T0 + 301_000, endMs: T0 + 302_000, bytes: 1, inputIf: i, outputIf: o }), hitsOf(i, o)); // open S0+300
  }
  clock.advanceMs(1000);
  agg.add(flow({ startMs: T0 - 299_000, endMs: T0 - 298_000, bytes: 1, inputIf: 7, outputIf: 8 }), hitsOf(7, 8)); // late S0-300, a second later
  const out = agg.closeDue(T0 + 700_000);
  const keys = out.map((s) => [s.bucketStartSec, s.revision, s.subjectId] as const);
  const sorted = [...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
  t.same(keys, sorted, 'ordered by start, then revision, then subject (string order)');
  t.same(out.filter((s) => s.bucketStartSec === S0).map((s) => s.subjectId), [
    'if:192.0.2.1/10', 'if:192.0.2.1/100', 'if:192.0.2.1/2', 'if:192.0.2.1/33', 'if:192.0.2.1/4', 'if:192.0.2.1/9',
  ]);
  t.equal(new Set(keys.map((k) => k.join('|'))).size, keys.length, 'each identity once');
  t.same([...new Set(out.map((s) => s.bucketStartSec))], [S0 - 300, S0, S0 + 300]);
  t.same(agg.closeDue(T0 + 900_000), [], 'nothing twice');
});

t.test('restored buckets are sealed: later flows for the same start get a new revision, also for an open start', async (t) => {
  const kv = createMemoryKvStore();
  const clock = createManualClock(T0 + 10_000);
  const a = createBucketAggregator({ closeGraceSec: 60, clock });
  a.add(flow({ startMs: T0, endMs: T0 + 1000, bytes: 100 }), hitsOf(1, 2));
  await kv.write(aggregatorCheckpointOps(a.checkpoint()));
  const before = a.closeDue(T0 + 360_000); // what the first process would have sent

  clock.setMs(T0 + 20_000); // restart, bucket S0 still open
  const b = createBucketAggregator({ closeGraceSec: 60, clock });
  const state = await loadAggregatorState(kv);
  b.restore(state.meta, state.buckets);
  b.add(flow({ startMs: T0 + 5000, endMs: T0 + 6000, bytes: 7 }), hitsOf(1, 2));
  t.same(b.checkpoint().changed.map((s) => [s.bucketStartSec, s.revision]), [[S0, clockRevision(T0 + 20_000)]], 'only the new object is written; the restored one is untouched');
  const after = b.closeDue(T0 + 360_000);
  t.same(after.map((s) => [s.revision, s.subjectId, s.bytesIn, s.bytesOut]), [
    [clockRevision(T0 + 10_000), 'if:192.0.2.1/1', 100, 0],
    [clockRevision(T0 + 10_000), 'if:192.0.2.1/2', 0, 100],
    [clockRevision(T0 + 20_000), 'if:192.0.2.1/1', 7, 0],
    [clockRevision(T0 + 20_000), 'if:192.0.2.1/2', 0, 7],
  ]);
  t.same(after.slice(0, 2), before, 'the restored revision is re-sent with the same content');
});

t.test('a new object for a start never reuses a restored revision, even with the clock behind it', async (t) => {
  const kv = createMemoryKvStore();
  const future = createManualClock(T0 + 3_600_000); // the first process ran with a clock an hour ahead
  const a = createBucketAggregator({ closeGraceSec: 60, clock: future });
  a.add(flow({ startMs: T0, endMs: T0 + 1000, bytes: 1 }), hitsOf(1, 2));
  await kv.write(aggregatorCheckpointOps(a.checkpoint()));
  const b = createBucketAggregator({ closeGraceSec: 60, clock: createManualClock(T0 + 1000) });
  const state = await loadAggregatorState(kv);
  b.restore(state.meta, state.buckets);
  b.add(flow({ startMs: T0, endMs: T0 + 1000, bytes: 1 }), hitsOf(1, 2));
  t.same([...new Set(b.closeDue(T0 + 400_000).map((s) => s.revision))], [clockRevision(T0 + 3_600_000), clockRevision(T0 + 3_600_000) + 1]);
});

t.test('keys of older versions: open loads as revision 0, late as meta.nextRevision; migrated in one write', async (t) => {
  const kv = createMemoryKvStore();
  const pad = (n: number) => String(n).padStart(12, '0');
  await kv.write([
    { type: 'put', key: 'agg/meta', value: encodeJson({ closedBeforeSec: S0 + 300, nextRevision: 7 }) },
    { type: 'put', key: `agg/open/${pad(S0 + 300)}`, value: encodeJson([['if:192.0.2.1/1', 1, 10, 0, 1, 0, 1, 0]]) },
    { type: 'put', key: `agg/late/${pad(S0)}`, value: encodeJson([['if:192.0.2.1/1', 1, 3, 0, 1, 0, 1, 0]]) },
  ]);
  const clock = createManualClock(T0 + 400_000);
  const a = createBucketAggregator({ closeGraceSec: 0, clock });
  const state = await loadAggregatorState(kv);
  t.same(state.buckets.map((b) => [b.bucketStartSec, b.revision, b.legacy]), [[S0 + 300, 0, 'open'], [S0, 7, 'late']]);
  a.restore(state.meta, state.buckets);
  await kv.write(aggregatorCheckpointOps(a.checkpoint()));
  const keys = (await collect(kv, prefixRange('agg/'))).map(([k]) => k);
  t.same(keys, ['agg/bucket/' + pad(S0) + '/0000000007/000000', 'agg/bucket/' + pad(S0 + 300) + '/0000000000/000000', 'agg/meta'], 'rewritten under agg/bucket/ (as chunks), old keys deleted in the same write');
  const b = createBucketAggregator({ closeGraceSec: 0, clock });
  const again = await loadAggregatorState(kv);
  b.restore(again.meta, again.buckets);
  t.same(b.closeDue(T0 + 600_000).map((s) => [s.bucketStartSec, s.revision, s.bytesIn]), [[S0, 7, 3], [S0 + 300, 0, 10]]);
});

t.test('restore drops rows with invalid counters (older versions), keeps the rest, and skips a corrupt key', async (t) => {
  const kv = createMemoryKvStore();
  const errors: unknown[] = [];
  const log: Logger = { ...silentLogger, error: (o: object | string) => { errors.push(o); }, child: () => log };
  const ids = ['if:192.0.2.1/1', 'if:192.0.2.1/2', 'if:192.0.2.1/3', 'if:192.0.2.1/4', 'if:192.0.2.1/5', 'if:192.0.2.1/6'];
  const rows: number[][] = [
    [10, 0, 1, 0, 1, 0], // good
    [NaN, 0, 1, 0, 1, 0],
    [-1, 0, 1, 0, 1, 0],
    [1.5, 0, 1, 0, 1, 0],
    [2 ** 51, 0, 1, 0, 1, 0],
    [20, 0, 2, 0, 1, 0], // good
  ];
  const counts = Float64Array.from(rows.flat());
  const snap = { bucketStartSec: S0, revision: 42, rows: rows.length, kinds: new Uint8Array(rows.length).fill(1), counts, ids: new TextEncoder().encode(ids.join('\n')) };
  await kv.write([
    { type: 'put', key: 'agg/meta', value: encodeJson({ closedBeforeSec: 0 }) },
    { type: 'put', key: bucketKey(S0, 42), value: encodeBucket(snap) },
    { type: 'put', key: bucketKey(S0 + 300, 43), value: Uint8Array.of(1, 0, 0, 0, 200, 0, 0, 0) }, // truncated
    { type: 'put', key: bucketKey(S0 + 600, 44), value: encodeBucket({ ...snap, bucketStartSec: S0 + 600, revision: 44, rows: 1, counts: Float64Array.of(5, 0, 1, 0, 1, 0), ids: new TextEncoder().encode(ids[0]), kinds: Uint8Array.of(1) }) },
    { type: 'put', key: 'agg/open/garbage', value: Uint8Array.of(123) },
  ]);
  const state = await loadAggregatorState(kv, log);
  t.same(state.corruptKeys, [bucketKey(S0 + 300, 43), 'agg/open/garbage']);
  t.equal(errors.length, 2, 'one error line per corrupt key');
  const agg = createBucketAggregator({ closeGraceSec: 0, clock: createManualClock(T0) });
  const report = agg.restore(state.meta, state.buckets);
  t.match(report, { buckets: 2, rows: 3, droppedRows: 4, droppedBuckets: 0 });
  t.equal(report.problems.length, 4);
  t.match(report.problems[0], /bucket 1700000100 revision 42: row "if:192.0.2.1\/2" dropped/);
  t.equal(agg.stats().restoreDroppedRows, 4);
  // The sanitized bucket is rewritten (same revision, fewer rows), the clean one is not.
  t.same(agg.checkpoint().changed.map((s) => [s.bucketStartSec, s.revision, s.rows]), [[S0, 42, 2]]);
  const out = agg.closeDue(T0 + 1_200_000);
  t.same(out.map((s) => [s.bucketStartSec, s.subjectId, s.bytesIn]), [[S0, ids[0], 10], [S0, ids[5], 20], [S0 + 600, ids[0], 5]], 'the next close goes through');
});

/** What create-edge's flush does: close, stage, one atomic write, commit. */
async function flush(kv: KeyValueStore, agg: BucketAggregator, outbox: Outbox, nowMs: number): Promise<number[]> {
  const summaries = agg.closeDue(nowMs);
  const cp = agg.checkpoint();
  const staged = outbox.stage(summaries, nowMs);
  await kv.write([...staged.ops, ...aggregatorCheckpointOps(cp)]);
  staged.commit();
  return staged.seqs;
}

async function sent(outbox: Outbox, seqs: number[]): Promise<{ seq: number; summaries: Summary[] }[]> {
  const out = [];
  for (const seq of seqs) out.push({ seq, summaries: summaryBatchCodec.decode((await outbox.read(seq))!).summaries });
  return out;
}

t.test('LevelDB rewind: re-sent identities carry counts <= the original, flows after the restart get a new revision, no seq reused', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'flowbill-rewind-'));
  const live = path.join(dir, 'live');
  const old = path.join(dir, 'old');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const outboxDeps = (kv: KeyValueStore, clock: Clock) => ({ kv, log: silentLogger, edgeId: 'e1', tenantId: 'op1', maxBytes: 1e9, batchMaxSummaries: 2, firstSeq: clock.nowMs() });

  // First life: flows into S0 (still open), a checkpoint, then a copy of the disk state: the "older state".
  const clock = createManualClock(T0 + 30_000);
  let kv = await openLevelKvStore(live);
  let agg = createBucketAggregator({ closeGraceSec: 60, clock });
  let outbox = createOutbox(outboxDeps(kv, clock));
  await outbox.load();
  agg.restore((await loadAggregatorState(kv)).meta, []);
  for (let i = 1; i <= 3; i++) agg.add(flow({ startMs: T0 + i * 1000, endMs: T0 + i * 1000 + 500, bytes: 100 * i, inputIf: i, outputIf: 9 }), hitsOf(i, 9));
  t.same(await flush(kv, agg, outbox, clock.nowMs()), [], 'nothing due yet');
  await kv.close();
  cpSync(live, old, { recursive: true });
  kv = await openLevelKvStore(live);
  // ... more flows for S0 after that checkpoint, then S0 closes, goes out and is acked.
  clock.setMs(T0 + 40_000);
  agg.add(flow({ startMs: T0 + 35_000, endMs: T0 + 36_000, bytes: 5, inputIf: 1, outputIf: 9 }), hitsOf(1, 9));
  clock.setMs(T0 + 361_000);
  outbox = createOutbox(outboxDeps(kv, clock));
  await outbox.load();
  const firstSeqs = await flush(kv, agg, outbox, clock.nowMs());
  const firstSent = (await sent(outbox, firstSeqs)).flatMap((b) => b.summaries);
  t.equal(firstSent.length, 4, 'if/1..3 and if/9');
  for (const seq of firstSeqs) t.ok(await outbox.remove(seq), 'acked');
  await kv.close();

  // The disk rewinds to the copy (torn writes dropped after a disk-full) and the edge restarts later.
  clock.setMs(T0 + 400_000);
  kv = await openLevelKvStore(old);
  t.teardown(() => kv.close());
  agg = createBucketAggregator({ closeGraceSec: 60, clock });
  const state = await loadAggregatorState(kv);
  agg.restore(state.meta, state.buckets);
  outbox = createOutbox(outboxDeps(kv, clock));
  await outbox.load();
  agg.add(flow({ startMs: T0 + 10_000, endMs: T0 + 11_000, bytes: 1000, inputIf: 2, outputIf: 9 }), hitsOf(2, 9)); // late for S0, after the restart
  const secondSeqs = await flush(kv, agg, outbox, clock.nowMs());
  t.ok(Math.min(...secondSeqs) > Math.max(...firstSeqs), `seqs ${secondSeqs.join()} are above every seq used before the rewind (${firstSeqs.join()})`);
  const secondSent = (await sent(outbox, secondSeqs)).flatMap((b) => b.summaries);

  const identity = (s: Summary) => `${s.bucketStartSec}/${s.revision}/${s.subjectId}`;
  const original = new Map(firstSent.map((s) => [identity(s), s]));
  const firstRevisions = new Set(firstSent.map((s) => s.revision));
  const resent = secondSent.filter((s) => firstRevisions.has(s.revision));
  const fresh = secondSent.filter((s) => !firstRevisions.has(s.revision));
  t.equal(resent.length, 4, 'the restored revision went out again (the hub dedups it)');
  for (const s of resent) {
    const o = original.get(identity(s));
    t.ok(o, `${identity(s)} was sent before`);
    if (!o) continue;
    for (const k of ['bytesIn', 'bytesOut', 'packetsIn', 'packetsOut', 'flowsIn', 'flowsOut'] as const) t.ok(s[k] <= o[k], `${identity(s)} ${k} ${s[k]} <= ${o[k]}`);
  }
  t.same(fresh.map((s) => [s.bucketStartSec, s.revision, s.subjectId, s.bytesIn + s.bytesOut]), [
    [S0, clockRevision(T0 + 400_000), 'if:192.0.2.1/2', 1000],
    [S0, clockRevision(T0 + 400_000), 'if:192.0.2.1/9', 1000],
  ], 'the flow after the restart is a new identity with only its own bytes');
  t.ok(fresh.every((s) => !original.has(identity(s))));
  // What the hub stores after dedup: the original S0 plus the new revision, nothing twice.
  const stored = new Map([...firstSent, ...secondSent].map((s) => [identity(s), s] as const));
  for (const [k, s] of original) stored.set(k, s); // first delivery wins
  t.equal([...stored.values()].reduce((a, s) => a + s.bytesIn, 0), 100 + 200 + 300 + 5 + 1000);
});
