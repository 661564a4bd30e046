import t from 'tap';
import type { KeyValueStore } from '../../../common/kv/kv-store';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { openLevelKvStore } from '../../../common/kv/level-kv-store';
import { createKvSeriesStore, STORED_PREFIX, STORED_SEQ_KEY } from '../../../hub/store/kv-series-store';
import { coverageLoadOps, seriesLoadOps } from '../../../hub/store/kv-summary-store';
import { addToSlot, decodeDayChunk, emptyCoverage, emptyDayChunk, encodeDayChunk, markCoverage, slotOf } from '../../../hub/store/day-chunk';
import type { SeriesStoreLimits } from '../../../hub/store/series-store';
import { seriesStoreContract } from './series-store.contract';
import { DAY0, guarded, seedSeries, summary } from './series-fixtures';

/** The same KV, whose writes fail ("disk full") while `fail` is true. */
function failingWrites(kv: KeyValueStore): KeyValueStore & { fail: boolean } {
  const flaky = {
    fail: false,
    get: (k: string) => kv.get(k), getMany: (ks: string[]) => kv.getMany(ks), entries: (r: Parameters<KeyValueStore['entries']>[0]) => kv.entries(r), close: () => kv.close(),
    write: async (ops: Parameters<KeyValueStore['write']>[0]) => { if (flaky.fail) throw new Error('disk full'); await kv.write(ops); },
  };
  return flaky;
}

const openOn = (kv: KeyValueStore, limits: SeriesStoreLimits) => Object.assign(createKvSeriesStore({ kv, limits }), { close: () => kv.close() });
const openFailing = async (limits: SeriesStoreLimits) => {
  const kv = failingWrites(createMemoryKvStore());
  return { store: openOn(kv, limits), setFailing: (on: boolean) => { kv.fail = on; } };
};

t.test('memory backend', async (t) => seriesStoreContract(t, async (limits) => openOn(createMemoryKvStore(), limits), { openFailing }));
t.test('LevelDB backend', async (t) => {
  let n = 0;
  const dir = t.testdir({});
  seriesStoreContract(t, async (limits) => openOn(await openLevelKvStore(`${dir}/db${n++}`), limits), {
    openFailing: async (limits) => {
      const kv = failingWrites(await openLevelKvStore(`${dir}/db${n++}`));
      return { store: openOn(kv, limits), setFailing: (on: boolean) => { kv.fail = on; } };
    },
  });
});

t.test('KV: a batch stored under the legacy (edge, seq) rule is a duplicate when redelivered with that seq', async (t) => {
  const kv = createMemoryKvStore();
  const store = createKvSeriesStore({ kv });
  const atMs = (DAY0 + 600) * 1000;
  await kv.write([{ type: 'put', key: `ingest-seen/e1/${String(42).padStart(16, '0')}`, value: new TextEncoder().encode(JSON.stringify({ atMs })) }]);
  const input = { operatorId: 'isp1', edgeId: 'e1', seq: 42, nowMs: atMs + 60_000, summaries: guarded([summary('ipg:a', DAY0, 1), summary('ipg:b', DAY0 + 300, 1)]) };
  t.match(await store.applyBatch(input), { outcome: 'duplicate', duplicates: 2, stored: [] });
  t.match(await store.applyBatch({ ...input, seq: 43 }), { outcome: 'applied' }, 'another seq: decided by content');
  // A later batch that reuses the seq carries a bucket that ended after the marker: not the legacy batch.
  t.match(await store.applyBatch({ ...input, summaries: guarded([summary('ipg:c', DAY0 + 900, 1)]) }), { outcome: 'applied' });
});

t.test('KV: after pruning, an older bucket is refused even when the caller\'s clock stepped back', async (t) => {
  const store = createKvSeriesStore({ kv: createMemoryKvStore(), limits: { dedupHorizonSec: 86_400 } });
  const later = (DAY0 + 5 * 86_400) * 1000;
  t.match(await store.applyBatch({ operatorId: 'isp1', edgeId: 'e1', seq: 1, nowMs: later, summaries: guarded([summary('ipg:a', DAY0 + 5 * 86_400 - 600, 1)]) }), { outcome: 'applied' });
  const back = await store.applyBatch({ operatorId: 'isp1', edgeId: 'e1', seq: 2, nowMs: (DAY0 + 86_400) * 1000, summaries: guarded([summary('ipg:b', DAY0 + 3600, 1)]) });
  t.match(back, { outcome: 'duplicate', tooOld: 1 });
});

t.test('KV: StoredBatches an older hub left waiting are listed, and storedSeq continues above them', async (t) => {
  const kv = createMemoryKvStore();
  const older = createKvSeriesStore({ kv });
  const first = await older.applyBatch({ operatorId: 'isp1', edgeId: 'e1', seq: 1, nowMs: (DAY0 + 600) * 1000, summaries: guarded([summary('ipg:a', DAY0, 1)]) });
  t.same((await kv.getMany([`${STORED_PREFIX}e1/${String(first.waiting!.storedSeq).padStart(16, '0')}`, STORED_SEQ_KEY])).map((v) => v !== undefined), [true, true], 'the earlier key layout');
  const restarted = createKvSeriesStore({ kv });
  t.same((await restarted.listWaitingStored()).map((w) => [w.edgeId, w.tenantId, w.storedSeq]), [['e1', 'isp1', first.waiting!.storedSeq]]);
  const next = await restarted.applyBatch({ operatorId: 'isp1', edgeId: 'e1', seq: 2, nowMs: (DAY0 + 900) * 1000, summaries: guarded([summary('ipg:a', DAY0 + 300, 1)]) });
  t.equal(next.waiting!.storedSeq, first.waiting!.storedSeq + 1);
});

t.test('day chunk: sparse and compact; foreign bytes are refused loudly', async (t) => {
  const chunk = emptyDayChunk();
  addToSlot(chunk, 287, { bytesIn: 1e12, bytesOut: 1, packetsIn: 2, packetsOut: 3, flowsIn: 4, flowsOut: 5 });
  const bytes = encodeDayChunk(chunk);
  t.ok(bytes.length < 60, `one slot is ${bytes.length} bytes`);
  t.same(decodeDayChunk(bytes).values.slice(287 * 6), Float64Array.from([1e12, 1, 2, 3, 4, 5]));
  t.throws(() => decodeDayChunk(bytes.subarray(0, bytes.length - 1)), /truncated/);
  t.throws(() => decodeDayChunk(Uint8Array.from([9, 0])), /unknown layout/);
});

t.test('bulk-load ops store what ingest would: same points, subjects and coverage', async (t) => {
  const day = Date.UTC(2026, 11, 1) / 1000;
  const inputs = [0, 1, 5, 287, 288 + 3].map((slot, i) => ({
    subjectId: 'if:10.0.0.1/7', kind: 'interface' as const, bucketStartSec: day + slot * 300,
    bytesIn: 2 ** 40 + i, bytesOut: i, packetsIn: 0, packetsOut: 300 + i, flowsIn: 1, flowsOut: 0,
  }));
  const viaIngest = createKvSeriesStore({ kv: createMemoryKvStore() });
  await seedSeries(viaIngest, 'op1', inputs);

  const kv = createMemoryKvStore();
  const days = [day, day + 86_400].map((dayStartSec) => ({ dayStartSec, chunk: emptyDayChunk() }));
  const bitmaps = days.map(({ dayStartSec }) => ({ dayStartSec, bitmap: emptyCoverage() }));
  for (const s of inputs) {
    const d = s.bucketStartSec < day + 86_400 ? 0 : 1;
    addToSlot(days[d]!.chunk, slotOf(s.bucketStartSec), s);
    markCoverage(bitmaps[d]!.bitmap, slotOf(s.bucketStartSec));
  }
  await kv.write([...seriesLoadOps('op1', 'if:10.0.0.1/7', 'interface', days), ...coverageLoadOps('op1', bitmaps)]);
  const loaded = createKvSeriesStore({ kv });

  for (const [from, to] of [[day, day + 2 * 86_400], [day + 300, day + 86_400 + 4 * 300], [day + 600, day + 900]] as const) {
    t.same(await loaded.readSeries('op1', 'if:10.0.0.1/7', from, to), await viaIngest.readSeries('op1', 'if:10.0.0.1/7', from, to), `[${from}, ${to})`);
    t.equal(await loaded.reportedBucketCount('op1', from, to), await viaIngest.reportedBucketCount('op1', from, to));
  }
  t.same(await loaded.listSubjects('op1'), await viaIngest.listSubjects('op1'));
  t.equal((await loaded.readSeries('op1', 'if:10.0.0.1/7', day, day + 86_400)).length, 4);
});

t.test('KV: long spans (iterated) and short ones (keys asked for) read the same points', async (t) => {
  const store = createKvSeriesStore({ kv: createMemoryKvStore() });
  const inputs = Array.from({ length: 3 * 288 }, (_, slot) => summary('ipg:cust', DAY0 + slot * 300, slot + 1)).filter((_, i) => i % 3 !== 0);
  await seedSeries(store, 'op1', inputs);
  const all = await store.readSeries('op1', 'ipg:cust', 0, DAY0 + 10_000 * 86_400);
  t.equal(all.length, inputs.length);
  t.same(all.filter((p) => p.bucketStartSec >= DAY0 + 400 * 300 && p.bucketStartSec < DAY0 + 700 * 300), await store.readSeries('op1', 'ipg:cust', DAY0 + 400 * 300, DAY0 + 700 * 300));
  const n = 120 * 288;
  const cols = { bytesIn: new Float64Array(n), bytesOut: new Float64Array(n), reported: new Uint8Array(n) };
  await store.readSlotColumns('op1', 'ipg:cust', DAY0 - 100 * 86_400, n, cols);
  t.equal(cols.reported.reduce((a, b) => a + b, 0), inputs.length);
});
