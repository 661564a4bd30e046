import type { Test } from 'tap';
import type { KeyValueStore } from '../../../common/kv/kv-store';
import { createKvSummaryStore } from '../../../hub/store/kv-summary-store';
import type { SummaryInput } from '../../../hub/store/summary-store';

const DAY0 = Date.UTC(2026, 10, 1) / 1000; // 2026-11-01T00:00Z

export function summary(subjectId: string, bucketStartSec: number, bytesIn: number, extra: Partial<SummaryInput> = {}): SummaryInput {
  return {
    subjectId, kind: subjectId.startsWith('ipg:') ? 'ip_group' : 'interface', bucketStartSec,
    bytesIn, bytesOut: bytesIn * 2, packetsIn: 10, packetsOut: 20, flowsIn: 1, flowsOut: 2, ...extra,
  };
}

/** The contract every SummaryStore over a KeyValueStore backend must pass (see hub/store/summary-store.ts). */
/** The same store, whose writes fail ("disk full") while `fail` is true. */
function failingWrites(kv: KeyValueStore): KeyValueStore & { fail: boolean } {
  const flaky = {
    fail: true,
    get: (k: string) => kv.get(k), getMany: (ks: string[]) => kv.getMany(ks), entries: (r: Parameters<KeyValueStore['entries']>[0]) => kv.entries(r), close: () => kv.close(),
    write: async (ops: Parameters<KeyValueStore['write']>[0]) => { if (flaky.fail) throw new Error('disk full'); await kv.write(ops); },
  };
  return flaky;
}

export function summaryStoreContract(t: Test, open: () => Promise<KeyValueStore>): void {
  t.test('add is additive; readSeries returns sorted points in [from, to) with only reported buckets', async (t) => {
    const kv = await open();
    const store = createKvSummaryStore(kv);
    await store.add('isp1', [summary('if:10.0.0.1/5', DAY0 + 600, 1000), summary('if:10.0.0.1/5', DAY0, 7)]);
    await store.add('isp1', [summary('if:10.0.0.1/5', DAY0 + 600, 24, { packetsIn: 1, flowsOut: 0 })]);
    const points = await store.readSeries('isp1', 'if:10.0.0.1/5', DAY0, DAY0 + 3600);
    t.same(points, [
      { bucketStartSec: DAY0, bytesIn: 7, bytesOut: 14, packetsIn: 10, packetsOut: 20, flowsIn: 1, flowsOut: 2 },
      { bucketStartSec: DAY0 + 600, bytesIn: 1024, bytesOut: 2048, packetsIn: 11, packetsOut: 40, flowsIn: 2, flowsOut: 2 },
    ]);
    t.same((await store.readSeries('isp1', 'if:10.0.0.1/5', DAY0 + 300, DAY0 + 600)), [], 'to is exclusive, empty slots absent');
    t.same(await store.readSeries('isp2', 'if:10.0.0.1/5', DAY0, DAY0 + 3600), [], 'operators are separate');
    t.same(await store.readSeries('isp1', 'if:10.0.0.1/50', DAY0, DAY0 + 3600), [], 'a subject id prefix of another does not leak');
    await kv.close();
  });

  t.test('a month spans day chunks; all-zero reports are present; big counters stay exact', async (t) => {
    const kv = await open();
    const store = createKvSummaryStore(kv);
    const big = 2 ** 52 + 3;
    const inputs: SummaryInput[] = [];
    for (let d = 0; d < 30; d++) inputs.push(summary('ipg:cust-a', DAY0 + d * 86400 + 86100, d === 29 ? big : d));
    await store.add('isp1', inputs);
    await store.add('isp1', [summary('ipg:cust-a', DAY0 + 30 * 86400, 0, { bytesOut: 0, packetsIn: 0, packetsOut: 0, flowsIn: 0, flowsOut: 0 })]);
    const month = await store.readSeries('isp1', 'ipg:cust-a', DAY0, DAY0 + 31 * 86400);
    t.equal(month.length, 31);
    t.equal(month[0].bytesIn, 0);
    t.equal(month[29].bytesIn, big);
    t.equal(month[29].bytesOut, big * 2);
    t.same(month[30], { bucketStartSec: DAY0 + 30 * 86400, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, flowsIn: 0, flowsOut: 0 });
    t.ok(month.every((p, i) => i === 0 || p.bucketStartSec > month[i - 1].bucketStartSec), 'sorted');
    const mid = await store.readSeries('isp1', 'ipg:cust-a', DAY0 + 86400 + 86100, DAY0 + 2 * 86400 + 86101);
    t.same(mid.map((p) => p.bucketStartSec), [DAY0 + 86400 + 86100, DAY0 + 2 * 86400 + 86100]);
    await kv.close();
  });

  t.test('listSubjects: sorted, kind, label, first and last seen', async (t) => {
    const kv = await open();
    const store = createKvSummaryStore(kv);
    await store.add('isp1', [summary('ipg:b', DAY0 + 300, 1), summary('if:2001:db8::1/7', DAY0 + 900, 1)]);
    await store.add('isp1', [summary('ipg:b', DAY0, 1), summary('ipg:b', DAY0 + 86400, 1)]);
    await store.add('isp2', [summary('ipg:other', DAY0, 1)]);
    t.same(await store.listSubjects('isp1'), [
      { subjectId: 'if:2001:db8::1/7', kind: 'interface', label: '2001:db8::1 ifIndex 7', firstSeenSec: DAY0 + 900, lastSeenSec: DAY0 + 900 },
      { subjectId: 'ipg:b', kind: 'ip_group', label: 'b', firstSeenSec: DAY0, lastSeenSec: DAY0 + 86400 },
    ]);
    await kv.close();
  });

  t.test('coverage counts slots any subject of the operator reported, within [from, to)', async (t) => {
    const kv = await open();
    const store = createKvSummaryStore(kv);
    await store.add('isp1', [summary('ipg:a', DAY0, 1), summary('ipg:b', DAY0, 1), summary('ipg:a', DAY0 + 300, 1)]);
    await store.add('isp1', [summary('ipg:c', DAY0 + 86400 + 600, 1)]);
    await store.add('isp2', [summary('ipg:a', DAY0 + 1200, 1)]);
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 2 * 86400), 3);
    t.equal(await store.reportedBucketCount('isp1', DAY0 + 1, DAY0 + 2 * 86400), 2, 'a slot starting before from is out');
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 300), 1);
    t.equal(await store.reportedBucketCount('isp2', DAY0, DAY0 + 86400), 1);
    await kv.close();
  });

  t.test('guard: undefined skips the write; its ops commit with the series; adds are serialized', async (t) => {
    const kv = await open();
    const store = createKvSummaryStore(kv);
    const marker = new TextEncoder().encode('1');
    const guarded = () => store.add('isp1', [summary('ipg:a', DAY0, 5)], async (given) => ((await kv.get('test-marker')) ? undefined : { ops: [{ type: 'put', key: 'test-marker', value: marker }], summaries: [...given] }));
    const results = await Promise.all([guarded(), guarded(), guarded()]);
    t.same(results.map((r) => r.applied), [true, false, false]);
    t.same(results.map((r) => r.stored), [1, 0, 0]);
    t.equal((await store.readSeries('isp1', 'ipg:a', DAY0, DAY0 + 300))[0].bytesIn, 5);
    // Unguarded concurrent adds to one chunk lose nothing.
    await Promise.all(Array.from({ length: 20 }, () => store.add('isp1', [summary('ipg:z', DAY0 + 300, 1)])));
    t.equal((await store.readSeries('isp1', 'ipg:z', DAY0, DAY0 + 600))[0].bytesIn, 20);
    await kv.close();
  });

  t.test('guard: sees the summaries given, writes only those it returns, with its ops in the same atomic write', async (t) => {
    const kv = await open();
    const store = createKvSummaryStore(kv);
    const given = [summary('ipg:a', DAY0, 1), summary('ipg:b', DAY0, 2), summary('ipg:c', DAY0 + 300, 3)];
    let seen: readonly SummaryInput[] = [];
    const marker = new TextEncoder().encode('m');
    const r = await store.add('isp1', given, async (summaries) => {
      seen = summaries;
      return { ops: [{ type: 'put', key: 'test-marker', value: marker }], summaries: summaries.filter((s) => s.subjectId !== 'ipg:b') };
    });
    t.same(r, { applied: true, stored: 2 });
    t.same(seen, given, 'the guard is given exactly the summaries of add()');
    t.same((await store.readSeries('isp1', 'ipg:a', DAY0, DAY0 + 600)).map((p) => p.bytesIn), [1]);
    t.same(await store.readSeries('isp1', 'ipg:b', DAY0, DAY0 + 600), [], 'a summary the guard left out is not written');
    t.same((await store.readSeries('isp1', 'ipg:c', DAY0, DAY0 + 600)).map((p) => p.bytesIn), [3]);
    t.same((await store.listSubjects('isp1')).map((s) => s.subjectId), ['ipg:a', 'ipg:c']);
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 600), 2);
    t.same(await kv.get('test-marker'), marker);
    // Only ops, no summaries: the ops are written, no series touched.
    const r2 = await store.add('isp1', [summary('ipg:d', DAY0, 9)], async () => ({ ops: [{ type: 'put', key: 'test-marker-2', value: marker }], summaries: [] }));
    t.same(r2, { applied: true, stored: 0 });
    t.same(await kv.get('test-marker-2'), marker);
    t.same(await store.readSeries('isp1', 'ipg:d', DAY0, DAY0 + 300), []);
    await kv.close();
  });

  t.test('guard: a failing write leaves neither the series nor the guard ops behind', async (t) => {
    const kv = await open();
    const flaky = failingWrites(kv);
    const store = createKvSummaryStore(flaky);
    const marker = new TextEncoder().encode('m');
    const guard = async (s: readonly SummaryInput[]) => ((await kv.get('test-marker')) ? undefined : { ops: [{ type: 'put' as const, key: 'test-marker', value: marker }], summaries: [...s] });
    await t.rejects(store.add('isp1', [summary('ipg:a', DAY0, 5)], guard), /disk full/);
    t.equal(await kv.get('test-marker'), undefined);
    t.same(await store.readSeries('isp1', 'ipg:a', DAY0, DAY0 + 300), []);
    flaky.fail = false;
    t.same(await store.add('isp1', [summary('ipg:a', DAY0, 5)], guard), { applied: true, stored: 1 });
    t.same(await store.add('isp1', [summary('ipg:a', DAY0, 5)], guard), { applied: false, stored: 0 });
    t.same((await store.readSeries('isp1', 'ipg:a', DAY0, DAY0 + 300)).map((p) => p.bytesIn), [5]);
    await kv.close();
  });

  t.test('purgeOperator removes one operator entirely, idempotently', async (t) => {
    const kv = await open();
    const store = createKvSummaryStore(kv);
    await store.add('isp1', [summary('ipg:a', DAY0, 1), summary('if:10.0.0.1/1', DAY0 + 86400, 1)]);
    await store.add('isp10', [summary('ipg:a', DAY0, 2)]);
    t.same(await store.purgeOperator('isp1'), { deletedKeys: 6 });
    t.same(await store.purgeOperator('isp1'), { deletedKeys: 0 });
    t.same(await store.listSubjects('isp1'), []);
    t.same(await store.readSeries('isp1', 'ipg:a', DAY0, DAY0 + 300), []);
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 2 * 86400), 0);
    t.same((await store.readSeries('isp10', 'ipg:a', DAY0, DAY0 + 300)).map((p) => p.bytesIn), [2], 'isp10 (same prefix) untouched');
    await kv.close();
  });

  t.test('a failing write rejects that add only; later adds still run', async (t) => {
    const kv = await open();
    const flaky = failingWrites(kv);
    const store = createKvSummaryStore(flaky);
    await t.rejects(store.add('isp1', [summary('ipg:a', DAY0, 5)]), /disk full/);
    flaky.fail = false;
    await store.add('isp1', [summary('ipg:a', DAY0, 6)]);
    t.same((await store.readSeries('isp1', 'ipg:a', DAY0, DAY0 + 300)).map((p) => p.bytesIn), [6], 'the failed add left nothing behind');
    await kv.close();
  });
}
