import t from 'tap';
import { createOutbox } from '../../../edge/outbox/outbox';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger, type Logger } from '../../../common/logger';
import { summaryBatchCodec, SubjectKind, type Summary } from '../../../proto/codec';

function summaries(n: number, bucket = 1_700_000_100): Summary[] {
  return Array.from({ length: n }, (_, i) => ({
    subjectId: `if:192.0.2.1/${i}`, subjectKind: SubjectKind.INTERFACE, bucketStartSec: bucket, durationSec: 300,
    bytesIn: i, bytesOut: 0, packetsIn: 1, packetsOut: 0, flowsIn: 1, flowsOut: 0, revision: 0,
  }));
}

t.test('batches get strictly increasing seqs that survive a restart', async (t) => {
  const kv = createMemoryKvStore();
  const deps = { kv, log: silentLogger, edgeId: 'e1', tenantId: 'op1', maxBytes: 1e9, batchMaxSummaries: 2 };
  const o = createOutbox(deps);
  await o.load();
  const s = o.stage(summaries(5), 42);
  t.same(s.seqs, [1, 2, 3]);
  await kv.write(s.ops);
  s.commit();
  t.equal(o.stats().depth, 3);
  t.ok(await o.remove(1));
  t.notOk(await o.remove(1), 'second remove is a no-op');
  const batch = summaryBatchCodec.decode((await o.read(3))!);
  t.match(batch, { edgeId: 'e1', tenantId: 'op1', seq: 3, createdAtMs: 42, oldestUnackedSeq: 1 });
  t.equal(batch.summaries.length, 1);

  const o2 = createOutbox(deps);
  await o2.load();
  t.same([...o2.seqs()], [2, 3]);
  await o2.remove(2); await o2.remove(3);
  const s2 = o2.stage(summaries(1), 43);
  t.same(s2.seqs, [4], 'seq never reused even with an empty outbox');
  await kv.write(s2.ops); s2.commit();
  t.equal(summaryBatchCodec.decode((await o2.read(4))!).oldestUnackedSeq, 4);
});

t.test('an uncommitted stage (failed write) reuses nothing that was stored', async (t) => {
  const o = createOutbox({ kv: createMemoryKvStore(), log: silentLogger, edgeId: 'e1', tenantId: 'op1', maxBytes: 1e9, batchMaxSummaries: 10 });
  await o.load();
  o.stage(summaries(1), 1); // never written
  t.same(o.stage(summaries(1), 2).seqs, [1]);
});

t.test('bounded in bytes: the oldest are dropped, counted and logged loudly', async (t) => {
  const kv = createMemoryKvStore();
  const errors: unknown[] = [];
  const log: Logger = { ...silentLogger, error: (o: object | string) => { errors.push(o); }, child: () => log };
  const one = summaryBatchCodec.encode({ edgeId: 'e1', tenantId: 'op1', seq: 1, createdAtMs: 1, oldestUnackedSeq: 1, summaries: summaries(10) }).length;
  const o = createOutbox({ kv, log, edgeId: 'e1', tenantId: 'op1', maxBytes: one * 3 + 5, batchMaxSummaries: 10 });
  await o.load();
  let notified = 0;
  o.onAppend(() => notified++);
  for (let i = 0; i < 5; i++) { const s = o.stage(summaries(10), i); await kv.write(s.ops); s.commit(); }
  t.same([...o.seqs()], [3, 4, 5]);
  t.equal(o.stats().dropped, 2);
  t.ok(o.stats().bytes <= one * 3 + 5);
  t.equal(errors.length, 2, 'one loud line per dropping write');
  t.equal(notified, 5);
  t.equal(summaryBatchCodec.decode((await o.read(5))!).oldestUnackedSeq, 3, 'oldestUnacked moves past dropped batches');
  const onDisk = []; for await (const [k] of kv.entries({ gte: 'outbox/batch/', lt: 'outbox/batch/\uffff' })) onDisk.push(k);
  t.equal(onDisk.length, 3, 'dropped batches are gone from disk too');
});

t.test('an edge that lost its disk starts above every seq it used before (firstSeq from the clock)', async (t) => {
  const deps = { log: silentLogger, edgeId: 'e1', tenantId: 'op1', maxBytes: 1e9, batchMaxSummaries: 10 };
  const first = createOutbox({ ...deps, kv: createMemoryKvStore(), firstSeq: 1_000_000 });
  await first.load();
  t.same(first.stage(summaries(1), 1).seqs, [1_000_000]);
  // Same edge identity, new empty disk, later clock: its seqs cannot collide with the hub's markers.
  const kv = createMemoryKvStore();
  const reborn = createOutbox({ ...deps, kv, firstSeq: 2_000_000 });
  await reborn.load();
  const s = reborn.stage(summaries(1), 2);
  t.same(s.seqs, [2_000_000]);
  await kv.write(s.ops); s.commit();
  // A restart with state keeps counting from the stored seq, whatever the clock says now.
  const again = createOutbox({ ...deps, kv, firstSeq: 5 });
  await again.load();
  t.same(again.stage(summaries(1), 3).seqs, [2_000_001]);
});

t.test('a rewound disk state: the clock floor applies on every load, not only to a fresh store', async (t) => {
  const kv = createMemoryKvStore();
  const deps = { kv, log: silentLogger, edgeId: 'e1', tenantId: 'op1', maxBytes: 1e9, batchMaxSummaries: 10 };
  const o = createOutbox({ ...deps, firstSeq: 1_000 });
  await o.load();
  const s = o.stage(summaries(1), 1);
  t.same(s.seqs, [1_000]);
  await kv.write(s.ops); s.commit();
  // The disk kept next-seq 1001 and batch 1000, but the edge had sent up to ~5_000 before the rewind:
  // the clock (ms) at this start is above all of them.
  const again = createOutbox({ ...deps, firstSeq: 9_000 });
  await again.load();
  t.same(again.stage(summaries(1), 2).seqs, [9_000]);
  t.same([...again.seqs()], [1_000], 'stored batches still there');
  // A corrupt next-seq value does not stop the load: stored batches and the clock still bound it.
  await kv.write([{ type: 'put', key: 'outbox/next-seq', value: new TextEncoder().encode('"x') }]);
  const third = createOutbox({ ...deps, firstSeq: 500 });
  await third.load();
  t.same(third.stage(summaries(1), 3).seqs, [1_001]);
});

t.test('one invalid summary is dropped, counted and logged; every other summary goes out', async (t) => {
  const kv = createMemoryKvStore();
  const errors: unknown[] = [];
  const log: Logger = { ...silentLogger, error: (o: object | string) => { errors.push(o); }, child: () => log };
  const o = createOutbox({ kv, log, edgeId: 'e1', tenantId: 'op1', maxBytes: 1e9, batchMaxSummaries: 3 });
  await o.load();
  const list = summaries(8);
  list[1] = { ...list[1], bytesIn: 2 ** 50 + 1 };
  list[3] = { ...list[3], packetsOut: -1 };
  list[4] = { ...list[4], flowsIn: 1.5 };
  list[5] = { ...list[5], bytesOut: NaN };
  list[6] = { ...list[6], revision: 2 ** 32 };
  list[7] = { ...list[7], bytesIn: 2 ** 50 }; // the largest valid count
  const s = o.stage(list, 1);
  t.equal(s.invalidSummaries, 5);
  t.same(s.seqs, [1], 'three valid summaries: one batch');
  await kv.write(s.ops); s.commit();
  const batch = summaryBatchCodec.decode((await o.read(1))!);
  t.same(batch.summaries.map((x) => x.subjectId), ['if:192.0.2.1/0', 'if:192.0.2.1/2', 'if:192.0.2.1/7']);
  t.equal(o.stats().invalidDropped, 5);
  t.equal(errors.length, 1, 'one loud line per stage');
  t.match(errors[0], { invalidSummaries: 5 });
});
