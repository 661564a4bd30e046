import t from 'tap';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { openLevelKvStore } from '../../../common/kv/level-kv-store';
import { summaryStoreContract } from './summary-store.contract';
import { decodeDayChunk, emptyDayChunk, addToSlot, encodeDayChunk, emptyCoverage, markCoverage, slotOf } from '../../../hub/store/day-chunk';
import { coverageLoadOps, createKvSummaryStore, seriesLoadOps } from '../../../hub/store/kv-summary-store';

t.test('memory backend', async (t) => summaryStoreContract(t, async () => createMemoryKvStore()));
t.test('LevelDB backend', async (t) => {
  let n = 0;
  const dir = t.testdir({});
  summaryStoreContract(t, () => openLevelKvStore(`${dir}/db${n++}`));
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

t.test('bulk-load ops store what add() would: same points, subjects and coverage', async (t) => {
  const day = Date.UTC(2026, 11, 1) / 1000;
  const inputs = [0, 1, 5, 287, 288 + 3].map((slot, i) => ({
    subjectId: 'if:10.0.0.1/7', kind: 'interface' as const, bucketStartSec: day + slot * 300,
    bytesIn: 2 ** 40 + i, bytesOut: i, packetsIn: 0, packetsOut: 300 + i, flowsIn: 1, flowsOut: 0,
  }));
  const viaAdd = createKvSummaryStore(createMemoryKvStore());
  await viaAdd.add('op1', inputs);

  const kv = createMemoryKvStore();
  const days = [day, day + 86_400].map((dayStartSec) => ({ dayStartSec, chunk: emptyDayChunk() }));
  const bitmaps = days.map(({ dayStartSec }) => ({ dayStartSec, bitmap: emptyCoverage() }));
  for (const s of inputs) {
    const d = s.bucketStartSec < day + 86_400 ? 0 : 1;
    addToSlot(days[d]!.chunk, slotOf(s.bucketStartSec), s);
    markCoverage(bitmaps[d]!.bitmap, slotOf(s.bucketStartSec));
  }
  await kv.write([...seriesLoadOps('op1', 'if:10.0.0.1/7', 'interface', days), ...coverageLoadOps('op1', bitmaps)]);
  const loaded = createKvSummaryStore(kv);

  for (const [from, to] of [[day, day + 2 * 86_400], [day + 300, day + 86_400 + 4 * 300], [day + 600, day + 900]] as const) {
    t.same(await loaded.readSeries('op1', 'if:10.0.0.1/7', from, to), await viaAdd.readSeries('op1', 'if:10.0.0.1/7', from, to), `[${from}, ${to})`);
    t.equal(await loaded.reportedBucketCount('op1', from, to), await viaAdd.reportedBucketCount('op1', from, to));
  }
  t.same(await loaded.listSubjects('op1'), await viaAdd.listSubjects('op1'));
  t.equal((await loaded.readSeries('op1', 'if:10.0.0.1/7', day, day + 86_400)).length, 4);
});

t.test('readSlotColumns adds exactly what readSeries returns, laid onto the span', async (t) => {
  const day = Date.UTC(2026, 11, 1) / 1000;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const inputs = [];
  for (let slot = 0; slot < 3 * 288; slot++) {
    if (rnd() < 0.3) continue; // sparse, and some days start with gaps
    inputs.push({
      subjectId: 'ipg:cust', kind: 'ip_group' as const, bucketStartSec: day + slot * 300,
      bytesIn: Math.floor(rnd() * 2 ** 45), bytesOut: rnd() < 0.1 ? 0 : Math.floor(rnd() * 1e6), packetsIn: Math.floor(rnd() * 2 ** 33), packetsOut: 127, flowsIn: 128, flowsOut: 0,
    });
  }
  for (const backend of ['memory', 'LevelDB'] as const) {
    const kv = backend === 'memory' ? createMemoryKvStore() : await openLevelKvStore(`${t.testdir({})}/db`);
    const store = createKvSummaryStore(kv);
    await store.add('op1', inputs);
    await store.add('op1', inputs.slice(0, 50)); // revisions add
    for (const [first, n] of [[day, 3 * 288], [day - 86_400, 5 * 288], [day + 100 * 300, 288], [day + 287 * 300, 2], [day + 5 * 300, 0], [day - 150 * 86_400, 200 * 288], [day + 300, 120 * 288]] as const) {
      const cols = { bytesIn: new Float64Array(n), bytesOut: new Float64Array(n), reported: new Uint8Array(n) };
      await store.readSlotColumns!('op1', 'ipg:cust', first, n, cols);
      const want = { bytesIn: new Float64Array(n), bytesOut: new Float64Array(n), reported: new Uint8Array(n) };
      for (const p of await store.readSeries('op1', 'ipg:cust', first, first + n * 300)) {
        const i = (p.bucketStartSec - first) / 300;
        want.bytesIn[i] += p.bytesIn; want.bytesOut[i] += p.bytesOut; want.reported[i] = 1;
      }
      t.same(cols, want, `${backend}: ${n} slots from ${first}`);
    }
    // Long spans (iterated) and short ones (keys asked for) return the same points.
    const all = await store.readSeries('op1', 'ipg:cust', 0, day + 10_000 * 86_400);
    t.equal(all.length, inputs.length);
    t.same(all.filter((p) => p.bucketStartSec >= day + 400 * 300 && p.bucketStartSec < day + 700 * 300), await store.readSeries('op1', 'ipg:cust', day + 400 * 300, day + 700 * 300));
    await kv.close();
  }
});
