/**
 * The contract every SeriesStore backend must pass (hub/store/series-store.ts states it): memory and
 * LevelDB (kv-series-store.test.ts), PostgreSQL (pg/). Each case opens a fresh, empty store with
 * SERIES_CONTRACT_LIMITS.
 *
 * Atomicity needs a store whose commits can be made to fail: a backend passes `openFailing` (the KV
 * backend wraps a KV whose writes throw); the cases then check that a failed applyBatch left no dedup
 * record (the same batch applies afterwards), no point, no coverage, no subject and no outbox entry.
 */
import type { Test } from 'tap';
import { storedBatchCodec } from '../../../proto/codec';
import type { ApplyBatchInput, IngestSummary, SeriesStore, SeriesStoreLimits, WaitingStored } from '../../../hub/store/series-store';
import { DAY0, guarded, summary } from './series-fixtures';

export const SERIES_CONTRACT_LIMITS: Readonly<SeriesStoreLimits> = Object.freeze({ dedupHorizonSec: 10 * 86_400, maxRevisionSubjects: 16, maxClockSkewSec: 300 });

export type OpenedSeriesStore = SeriesStore & { close?(): Promise<void> };

export interface SeriesStoreContractOptions {
  /** A fresh store whose commits throw while setFailing(true) (e.g. "disk full"). */
  openFailing?: (limits: SeriesStoreLimits) => Promise<{ store: OpenedSeriesStore; setFailing(on: boolean): void }>;
}

/** One day after DAY0: every DAY0 bucket is inside the contract's horizon. */
const NOW_MS = (DAY0 + 86_400) * 1000;

function batch(edgeId: string, seq: number, summaries: readonly IngestSummary[], extra: Partial<ApplyBatchInput> = {}): ApplyBatchInput {
  return { operatorId: 'isp1', edgeId, seq, nowMs: NOW_MS, summaries: guarded(summaries), ...extra };
}

const bytesIn = async (store: SeriesStore, subjectId: string, fromSec = DAY0, toSec = DAY0 + 86_400, operatorId = 'isp1') =>
  (await store.readSeries(operatorId, subjectId, fromSec, toSec)).map((p) => p.bytesIn);

/** A run of subjects ipg:s1.. as the edge emits one bucket revision: consecutive, ascending. */
const run = (from: number, to: number, bucketStartSec = DAY0, bytes = 10, revision = 0) =>
  Array.from({ length: to - from + 1 }, (_, i) => summary(`ipg:s${String(from + i).padStart(2, '0')}`, bucketStartSec, bytes, { revision }));

export function seriesStoreContract(t: Test, open: (limits: SeriesStoreLimits) => Promise<OpenedSeriesStore>, options: SeriesStoreContractOptions = {}): void {
  const withStore = (name: string, fn: (t: Test, store: OpenedSeriesStore) => Promise<void>) =>
    t.test(name, async (t) => {
      const store = await open(SERIES_CONTRACT_LIMITS);
      try { await fn(t, store); } finally { await store.close?.(); }
    });

  withStore('applyBatch stores a batch once; the same batch again is a duplicate', async (t, store) => {
    const input = batch('e1', 100, [summary('ipg:a', DAY0, 5), summary('if:10.0.0.1/3', DAY0 + 300, 7)]);
    const first = await store.applyBatch(input);
    t.equal(first.outcome, 'applied');
    t.same(first.stored.map((s) => s.subjectId), ['ipg:a', 'if:10.0.0.1/3'], 'stored in input order');
    t.match(first, { duplicates: 0, tooOld: 0, overSubjectLimit: 0 });
    t.equal(first.refused.size, 0);
    t.ok(first.waiting, 'an applied call leaves an outbox entry');
    const again = await store.applyBatch(input);
    t.match(again, { outcome: 'duplicate', stored: [], duplicates: 2, tooOld: 0, overSubjectLimit: 0, markersPruned: 0 });
    t.equal(again.waiting, undefined, 'nothing written, nothing waiting');
    t.same(await bytesIn(store, 'ipg:a'), [5]);
    t.same(await bytesIn(store, 'if:10.0.0.1/3'), [7]);
    t.equal((await store.listWaitingStored()).length, 1);
  });

  withStore('the seq plays no part: the same content under another seq is a duplicate; new content under a reused seq is stored', async (t, store) => {
    await store.applyBatch(batch('e1', 100, [summary('ipg:a', DAY0, 5)]));
    t.match(await store.applyBatch(batch('e1', 999, [summary('ipg:a', DAY0, 5)])), { outcome: 'duplicate', duplicates: 1 });
    t.match(await store.applyBatch(batch('e1', 100, [summary('ipg:a', DAY0 + 300, 6)])), { outcome: 'applied', duplicates: 0 });
    t.same(await bytesIn(store, 'ipg:a'), [5, 6]);
  });

  withStore('identity is (edge, bucket, revision, subject): another revision or another edge adds', async (t, store) => {
    await store.applyBatch(batch('e1', 1, [summary('ipg:a', DAY0, 5)]));
    t.match(await store.applyBatch(batch('e1', 2, [summary('ipg:a', DAY0, 3, { revision: 1 })])), { outcome: 'applied' });
    t.match(await store.applyBatch(batch('e2', 1, [summary('ipg:a', DAY0, 2)])), { outcome: 'applied' });
    t.match(await store.applyBatch(batch('e1', 1, [summary('ipg:a', DAY0, 5)], { operatorId: 'isp2' })), { outcome: 'duplicate' }, 'the edge, not the operator, is in the identity');
    t.same(await bytesIn(store, 'ipg:a'), [10]);
  });

  withStore('overlapping runs: a run recorded as a range covers every subject inside it, whatever the batch boundaries', async (t, store) => {
    const a = await store.applyBatch(batch('e1', 1, run(1, 5)));
    t.equal(a.stored.length, 5);
    // The edge re-cut the revision differently: s04..s08, then s02 alone (covered by s01..s05).
    const b = await store.applyBatch(batch('e1', 2, run(4, 8)));
    t.same(b.stored.map((s) => s.subjectId), ['ipg:s06', 'ipg:s07', 'ipg:s08']);
    t.equal(b.duplicates, 2);
    t.match(await store.applyBatch(batch('e1', 3, run(2, 2))), { outcome: 'duplicate', duplicates: 1 });
    // A group that is not one sorted run records points only: s12 and s10 given out of order.
    const c = await store.applyBatch(batch('e1', 4, [summary('ipg:s12', DAY0, 1), summary('ipg:s10', DAY0, 1)]));
    t.equal(c.stored.length, 2);
    t.match(await store.applyBatch(batch('e1', 5, [summary('ipg:s11', DAY0, 1)])), { outcome: 'applied' }, 's11 was not covered by the points s10 and s12');
    for (let i = 1; i <= 8; i++) t.same(await bytesIn(store, `ipg:s${String(i).padStart(2, '0')}`), [10], `s${i} once`);
  });

  withStore('a subject repeated inside a group that is not a run is refused, the first one stored', async (t, store) => {
    const r = await store.applyBatch(batch('e1', 1, [summary('ipg:b', DAY0, 1), summary('ipg:a', DAY0, 2), summary('ipg:b', DAY0, 4)]));
    t.same(r.stored.map((s) => s.bytesIn), [1, 2]);
    t.equal([...r.refused.values()].reduce((a, b) => a + b, 0), 1);
    t.equal(r.overSubjectLimit, 0);
    t.same(await bytesIn(store, 'ipg:b'), [1]);
  });

  withStore('concurrent redelivery: the same batch five times at once is stored once', async (t, store) => {
    const input = batch('e1', 7, run(1, 3));
    const results = await Promise.all(Array.from({ length: 5 }, () => store.applyBatch(input)));
    t.same(results.map((r) => r.outcome).sort(), ['applied', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
    t.same(results.map((r) => r.stored.length).sort(), [0, 0, 0, 0, 3]);
    for (const id of ['ipg:s01', 'ipg:s02', 'ipg:s03']) t.same(await bytesIn(store, id), [10]);
    t.equal((await store.listWaitingStored()).length, 1, 'one outbox entry');
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 300), 1);
  });

  withStore('concurrent batches of different edges into one bucket lose no addition', async (t, store) => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.applyBatch(batch(`e${i}`, 1, [summary('ipg:z', DAY0 + 300, 1), summary('ipg:y', DAY0 + 300, 2)]))));
    t.same(await bytesIn(store, 'ipg:z'), [12]);
    t.same(await bytesIn(store, 'ipg:y'), [24]);
    t.same((await store.listWaitingStored()).map((w) => w.storedSeq).length, 12);
  });

  withStore('horizon: buckets older than now - dedupHorizonSec are refused as too old, the rest stored', async (t, store) => {
    const nowMs = (DAY0 + 20 * 86_400) * 1000;
    const old = DAY0 + 20 * 86_400 - SERIES_CONTRACT_LIMITS.dedupHorizonSec - 300;
    const edge = DAY0 + 20 * 86_400 - SERIES_CONTRACT_LIMITS.dedupHorizonSec;
    const r = await store.applyBatch(batch('e1', 1, [summary('ipg:a', old, 1), summary('ipg:a', edge, 2), summary('ipg:b', old, 3)], { nowMs }));
    t.match(r, { outcome: 'applied', tooOld: 2, duplicates: 0, overSubjectLimit: 0 });
    t.same(r.stored.map((s) => s.bytesIn), [2], 'the bucket at exactly now - horizon is still in');
    t.equal([...r.refused.values()].reduce((a, b) => a + b, 0), 2);
    t.ok([...r.refused.keys()].some((k) => /horizon/.test(k)), 'the reason names the horizon');
    t.same(await bytesIn(store, 'ipg:a', 0, DAY0 + 30 * 86_400), [2]);
    t.same(await bytesIn(store, 'ipg:b', 0, DAY0 + 30 * 86_400), []);
    const allOld = await store.applyBatch(batch('e1', 2, [summary('ipg:c', old, 1)], { nowMs }));
    t.match(allOld, { outcome: 'duplicate', stored: [], duplicates: 0, tooOld: 1 }, 'nothing written: duplicate outcome with no duplicates');
    t.same(await store.listSubjects('isp1').then((l) => l.map((s) => s.subjectId)), ['ipg:a']);
  });

  withStore('subject limit: at most maxRevisionSubjects subjects per (edge, bucket, revision), ever', async (t, store) => {
    const max = SERIES_CONTRACT_LIMITS.maxRevisionSubjects;
    const r = await store.applyBatch(batch('e1', 1, run(1, max + 2)));
    t.match(r, { outcome: 'applied', overSubjectLimit: 2, duplicates: 0, tooOld: 0 });
    t.equal(r.stored.length, max);
    t.ok([...r.refused.keys()].some((k) => k.includes(`${max} subjects`)));
    // The refused ones were not recorded: resent, they are refused again, not duplicates.
    const again = await store.applyBatch(batch('e1', 2, run(1, max + 2)));
    t.match(again, { outcome: 'duplicate', duplicates: max, overSubjectLimit: 2 });
    t.match(await store.applyBatch(batch('e1', 3, run(1, 2, DAY0, 10, 1))), { outcome: 'applied', overSubjectLimit: 0 }, 'another revision has its own limit');
    t.match(await store.applyBatch(batch('e2', 1, run(1, max))), { outcome: 'applied', overSubjectLimit: 0 }, 'another edge has its own limit');
  });

  withStore('readSeries: sorted points in [from, to), all-zero reports present, big counters exact, operators and subjects apart', async (t, store) => {
    const big = 2 ** 52 + 3;
    await store.applyBatch(batch('e1', 1, [summary('if:10.0.0.1/5', DAY0 + 600, 1000), summary('if:10.0.0.1/5', DAY0, 7)]));
    await store.applyBatch(batch('e2', 1, [summary('if:10.0.0.1/5', DAY0 + 600, 24, { packetsIn: 1, flowsOut: 0 })]));
    t.same(await store.readSeries('isp1', 'if:10.0.0.1/5', DAY0, DAY0 + 3600), [
      { bucketStartSec: DAY0, bytesIn: 7, bytesOut: 14, packetsIn: 10, packetsOut: 20, flowsIn: 1, flowsOut: 2 },
      { bucketStartSec: DAY0 + 600, bytesIn: 1024, bytesOut: 2048, packetsIn: 11, packetsOut: 40, flowsIn: 2, flowsOut: 2 },
    ]);
    t.same(await store.readSeries('isp1', 'if:10.0.0.1/5', DAY0 + 300, DAY0 + 600), [], 'to is exclusive, empty slots absent');
    t.same(await store.readSeries('isp2', 'if:10.0.0.1/5', DAY0, DAY0 + 3600), [], 'operators are separate');
    t.same(await store.readSeries('isp1', 'if:10.0.0.1/50', DAY0, DAY0 + 3600), [], 'a subject id prefix of another does not leak');
    t.same(await store.readSeries('isp1', 'if:10.0.0.1/5', DAY0 + 10, DAY0 + 10), [], 'empty span');

    // A week across day boundaries (the bill's read), one zero report, one huge counter.
    const weekNow = (DAY0 + 8 * 86_400) * 1000;
    await store.applyBatch(batch('e3', 1, Array.from({ length: 7 }, (_, d) => summary('ipg:cust-a', DAY0 + d * 86_400 + 86_100, d === 6 ? big : d)), { nowMs: weekNow }));
    await store.applyBatch(batch('e3', 2, [summary('ipg:cust-a', DAY0 + 7 * 86_400, 0, { bytesOut: 0, packetsIn: 0, packetsOut: 0, flowsIn: 0, flowsOut: 0 })], { nowMs: weekNow }));
    const week = await store.readSeries('isp1', 'ipg:cust-a', DAY0, DAY0 + 8 * 86_400);
    t.equal(week.length, 8);
    t.equal(week[6]!.bytesIn, big);
    t.equal(week[6]!.bytesOut, big * 2);
    t.same(week[7], { bucketStartSec: DAY0 + 7 * 86_400, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, flowsIn: 0, flowsOut: 0 });
    t.ok(week.every((p, i) => i === 0 || p.bucketStartSec > week[i - 1]!.bucketStartSec), 'sorted');
    t.same((await store.readSeries('isp1', 'ipg:cust-a', DAY0 + 86_400 + 86_100, DAY0 + 2 * 86_400 + 86_101)).map((p) => p.bucketStartSec), [DAY0 + 86_400 + 86_100, DAY0 + 2 * 86_400 + 86_100]);
  });

  withStore('listSubjects: sorted by id, with kind, label, first and last seen', async (t, store) => {
    await store.applyBatch(batch('e1', 1, [summary('ipg:b', DAY0 + 300, 1), summary('if:2001:db8::1/7', DAY0 + 900, 1)]));
    await store.applyBatch(batch('e1', 2, [summary('ipg:b', DAY0, 1), summary('ipg:b', DAY0 + 86_400, 1)], { nowMs: NOW_MS + 86_400_000 }));
    await store.applyBatch(batch('e1', 3, [summary('ipg:other', DAY0, 1)], { operatorId: 'isp2' }));
    t.same(await store.listSubjects('isp1'), [
      { subjectId: 'if:2001:db8::1/7', kind: 'interface', label: '2001:db8::1 ifIndex 7', firstSeenSec: DAY0 + 900, lastSeenSec: DAY0 + 900 },
      { subjectId: 'ipg:b', kind: 'ip_group', label: 'b', firstSeenSec: DAY0, lastSeenSec: DAY0 + 86_400 },
    ]);
    t.same(await store.listSubjects('nobody'), []);
  });

  withStore('reportedBucketCount: slots any subject of the operator reported, within [from, to)', async (t, store) => {
    await store.applyBatch(batch('e1', 1, [summary('ipg:a', DAY0, 1), summary('ipg:b', DAY0, 1), summary('ipg:a', DAY0 + 300, 1)]));
    await store.applyBatch(batch('e1', 2, [summary('ipg:c', DAY0 + 86_400 + 600, 1)], { nowMs: NOW_MS + 86_400_000 }));
    await store.applyBatch(batch('e2', 1, [summary('ipg:a', DAY0 + 1200, 1)], { operatorId: 'isp2' }));
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 2 * 86_400), 3);
    t.equal(await store.reportedBucketCount('isp1', DAY0 + 1, DAY0 + 2 * 86_400), 2, 'a slot starting before from is out');
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 300), 1);
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0), 0);
    t.equal(await store.reportedBucketCount('isp2', DAY0, DAY0 + 86_400), 1);
  });

  withStore('readSlotColumns adds exactly what readSeries returns, laid onto the span', async (t, store) => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const days = 3;
    for (let d = 0; d < days; d++) {
      const inputs: IngestSummary[] = [];
      for (let slot = 0; slot < 288; slot++) {
        if (rnd() < 0.3) continue; // sparse, and some days start with gaps
        inputs.push(summary('ipg:cust', DAY0 + d * 86_400 + slot * 300, Math.floor(rnd() * 2 ** 45), { bytesOut: rnd() < 0.1 ? 0 : Math.floor(rnd() * 1e6) }));
      }
      await store.applyBatch(batch('e1', d + 1, inputs, { nowMs: (DAY0 + (d + 1) * 86_400) * 1000 }));
      await store.applyBatch(batch('e2', d + 1, inputs.slice(0, 20), { nowMs: (DAY0 + (d + 1) * 86_400) * 1000 })); // another edge adds
    }
    for (const [first, n] of [[DAY0, days * 288], [DAY0 - 86_400, 5 * 288], [DAY0 + 100 * 300, 288], [DAY0 + 287 * 300, 2], [DAY0 + 5 * 300, 0], [DAY0 - 150 * 86_400, 200 * 288]] as const) {
      const cols = { bytesIn: new Float64Array(n), bytesOut: new Float64Array(n), reported: new Uint8Array(n) };
      await store.readSlotColumns('isp1', 'ipg:cust', first, n, cols);
      const want = { bytesIn: new Float64Array(n), bytesOut: new Float64Array(n), reported: new Uint8Array(n) };
      for (const p of await store.readSeries('isp1', 'ipg:cust', first, first + n * 300)) {
        const i = (p.bucketStartSec - first) / 300;
        want.bytesIn[i]! += p.bytesIn; want.bytesOut[i]! += p.bytesOut; want.reported[i] = 1;
      }
      t.same(cols, want, `${n} slots from ${first}`);
    }
    const into = { bytesIn: Float64Array.from([1, 1]), bytesOut: new Float64Array(2), reported: new Uint8Array(2) };
    await store.readSlotColumns('isp1', 'nobody', DAY0, 2, into);
    t.same([...into.bytesIn], [1, 1], 'adds into the caller\'s columns; no data, nothing added');
  });

  withStore('outbox: each applied call leaves one StoredBatch of exactly what it stored; listing sorted; deleting idempotent', async (t, store) => {
    const a = await store.applyBatch(batch('e2', 50, [summary('ipg:a', DAY0, 5), summary('ipg:b', DAY0, 6)]));
    const dup = await store.applyBatch(batch('e2', 51, [summary('ipg:a', DAY0, 5), summary('ipg:c', DAY0, 7)]));
    const b = await store.applyBatch(batch('e1', 9, [summary('ipg:a', DAY0 + 300, 1)]));
    t.ok(a.waiting && dup.waiting && b.waiting);
    t.ok(a.waiting!.storedSeq < dup.waiting!.storedSeq && dup.waiting!.storedSeq < b.waiting!.storedSeq, 'storedSeq increases');
    const decoded = storedBatchCodec.decode(dup.waiting!.payload);
    t.match(decoded, { edgeId: 'e2', tenantId: 'isp1', storedSeq: dup.waiting!.storedSeq, edgeSeq: 51, storedAtMs: NOW_MS });
    t.same(decoded.summaries.map((s) => [s.subjectId, s.bytesIn, s.durationSec]), [['ipg:c', 7, 300]], 'only what was added, not the duplicate');
    const listed = await store.listWaitingStored();
    t.same(listed.map((w) => [w.edgeId, w.storedSeq]), [['e1', b.waiting!.storedSeq], ['e2', a.waiting!.storedSeq], ['e2', dup.waiting!.storedSeq]]);
    const plain = (w: WaitingStored) => ({ ...w, payload: [...w.payload] });
    t.same(plain(listed[1]!), plain(a.waiting!), 'listed as returned: same bytes');
    await store.deleteWaitingStored([{ edgeId: 'e2', storedSeq: a.waiting!.storedSeq }]);
    await store.deleteWaitingStored([{ edgeId: 'e2', storedSeq: a.waiting!.storedSeq }, { edgeId: 'nobody', storedSeq: 1 }]);
    await store.deleteWaitingStored([]);
    t.same((await store.listWaitingStored()).map((w) => w.storedSeq), [b.waiting!.storedSeq, dup.waiting!.storedSeq]);
  });

  withStore('outbox: listWaitingStored(edgeId) lists only that edge\'s entries, by storedSeq (an edge id that prefixes another is apart)', async (t, store) => {
    const e1a = await store.applyBatch(batch('e1', 1, [summary('ipg:a', DAY0, 1)]));
    const other = await store.applyBatch(batch('e1-x', 1, [summary('ipg:a', DAY0, 2)]));
    const e1b = await store.applyBatch(batch('e1', 2, [summary('ipg:b', DAY0, 3)]));
    await store.applyBatch(batch('e10', 1, [summary('ipg:a', DAY0, 4)]));
    const ids = (ws: WaitingStored[]) => ws.map((w) => [w.edgeId, w.storedSeq]);
    t.same(ids(await store.listWaitingStored('e1')), [['e1', e1a.waiting!.storedSeq], ['e1', e1b.waiting!.storedSeq]]);
    t.same(ids(await store.listWaitingStored('e1-x')), [['e1-x', other.waiting!.storedSeq]]);
    t.same(await store.listWaitingStored('nobody'), []);
    const plain = (w: WaitingStored) => ({ ...w, payload: [...w.payload] });
    t.same(plain((await store.listWaitingStored('e1'))[1]!), plain(e1b.waiting!), 'same entry, same bytes as the full listing');
    await store.deleteWaitingStored([e1a.waiting!]);
    t.same(ids(await store.listWaitingStored('e1')), [['e1', e1b.waiting!.storedSeq]]);
    t.equal((await store.listWaitingStored()).length, 3, 'the unfiltered listing still has every edge');
  });

  withStore('purgeOperator removes one operator entirely, idempotently, and leaves others alone', async (t, store) => {
    await store.applyBatch(batch('e1', 1, [summary('ipg:a', DAY0, 1), summary('if:10.0.0.1/1', DAY0 + 86_400, 1)], { nowMs: NOW_MS + 86_400_000 }));
    await store.applyBatch(batch('e9', 1, [summary('ipg:a', DAY0, 2)], { operatorId: 'isp10' }));
    t.ok((await store.purgeOperator('isp1')).deleted > 0);
    t.same(await store.purgeOperator('isp1'), { deleted: 0 });
    t.same(await store.listSubjects('isp1'), []);
    t.same(await store.readSeries('isp1', 'ipg:a', DAY0, DAY0 + 300), []);
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 2 * 86_400), 0);
    t.same(await bytesIn(store, 'ipg:a', DAY0, DAY0 + 300, 'isp10'), [2], 'isp10 (same prefix) untouched');
    t.equal(await store.reportedBucketCount('isp10', DAY0, DAY0 + 300), 1);
  });

  const { openFailing } = options;
  if (openFailing) {
    t.test('atomicity: a failed commit leaves no dedup record, no series and no outbox entry; the resend applies', async (t) => {
      const { store, setFailing } = await openFailing(SERIES_CONTRACT_LIMITS);
      try {
        const input = batch('e1', 1, [...run(1, 3), summary('if:10.0.0.1/1', DAY0 + 300, 4)]);
        setFailing(true);
        await t.rejects(store.applyBatch(input));
        const concurrent = await Promise.allSettled([store.applyBatch(input), store.applyBatch(input)]);
        t.same(concurrent.map((r) => r.status), ['rejected', 'rejected'], 'concurrent ones fail too');
        setFailing(false);
        t.same(await bytesIn(store, 'ipg:s01'), []);
        t.same(await store.listSubjects('isp1'), []);
        t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 86_400), 0);
        t.same(await store.listWaitingStored(), []);
        const r = await store.applyBatch(input);
        t.match(r, { outcome: 'applied', duplicates: 0 }, 'no dedup record was left: the resend is applied, not a duplicate');
        t.equal(r.stored.length, 4);
        t.match(await store.applyBatch(input), { outcome: 'duplicate', duplicates: 4 });
        t.same(await bytesIn(store, 'ipg:s01'), [10]);
        t.equal((await store.listWaitingStored()).length, 1);
        // A failure between two good calls costs only that call.
        setFailing(true);
        await t.rejects(store.applyBatch(batch('e1', 2, [summary('ipg:x', DAY0, 1)])));
        setFailing(false);
        t.match(await store.applyBatch(batch('e1', 3, [summary('ipg:y', DAY0, 2)])), { outcome: 'applied' });
        t.same(await bytesIn(store, 'ipg:x'), []);
        t.same(await bytesIn(store, 'ipg:y'), [2]);
      } finally {
        await store.close?.();
      }
    });
  }
}
