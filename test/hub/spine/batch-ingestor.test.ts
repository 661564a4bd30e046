import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { openLevelKvStore } from '../../../common/kv/level-kv-store';
import type { KeyValueStore } from '../../../common/kv/kv-store';
import { collect, prefixRange } from '../../../common/kv/kv-store';
import type { Logger } from '../../../common/logger';
import { silentLogger } from '../../../common/logger';
import { createBatchIngestor, type EdgeLookup, type IngestLimits } from '../../../hub/ingest/batch-ingestor';
import { createKvSeriesStore } from '../../../hub/store/kv-series-store';
import type { SeriesStoreLimits } from '../../../hub/store/series-store';
import { type CollectionPolicy, eachSpan } from '../../../hub/ports';
import { AckStatus, encodeBatch, makeBatch, makeSummary, recordingPublisher, T0_SEC } from './ingest-fixtures';

const TOPIC = 'flowbill/v1/isp1/edge-a/summaries';
const edges: EdgeLookup = {
  async getEdge(edgeId) {
    if (edgeId === 'edge-a') return { edgeId, operatorId: 'isp1', revoked: false };
    if (edgeId === 'edge-r') return { edgeId, operatorId: 'isp1', revoked: true };
    return undefined;
  },
};
const allowAll: CollectionPolicy = { async collectionState() { return { allowed: true }; }, collectionAllowedDuring: eachSpan(() => ({ allowed: true })) };

function setup(opts: { kv?: KeyValueStore; policy?: CollectionPolicy; log?: Logger; onPublish?: (topic: string) => void; limits?: Partial<IngestLimits & SeriesStoreLimits> } = {}) {
  const kv = opts.kv ?? createMemoryKvStore();
  const clock = createManualClock((T0_SEC + 86400) * 1000);
  const store = createKvSeriesStore({ kv, limits: opts.limits });
  const rec = recordingPublisher(opts.onPublish);
  const raw = createBatchIngestor({ store, edges, policy: opts.policy ?? allowAll, publisher: rec.publisher, clock, log: opts.log ?? silentLogger, limits: opts.limits });
  // STORED and DUPLICATE acks follow the StoredBatch republication in the background: handle() here
  // also waits for them, so the tests read the acks right after it.
  const ingestor: typeof raw = { ...raw, handle: async (topic, payload) => { const ack = await raw.handle(topic, payload); await raw.flushAcks(); return ack; } };
  return { kv, clock, store, ingestor, ...rec };
}

t.test('the same batch delivered twice is counted once and answered DUPLICATE', async (t) => {
  const { ingestor, store, acks } = setup();
  const payload = encodeBatch(makeBatch('edge-a', 'isp1', 7, [makeSummary('if:10.0.0.1/3', T0_SEC, 1000)]));
  await ingestor.handle(TOPIC, payload);
  await ingestor.handle(TOPIC, payload);
  t.same(acks().map((a) => [a.seq, a.status]), [[7, AckStatus.STORED], [7, AckStatus.DUPLICATE]]);
  t.same((await store.readSeries('isp1', 'if:10.0.0.1/3', T0_SEC, T0_SEC + 300)).map((p) => p.bytesIn), [1000]);
  t.equal(ingestor.counters().batchesDuplicate, 1);
});

t.test('concurrent deliveries of one batch still apply it once', async (t) => {
  const { ingestor, store, acks } = setup();
  const payload = encodeBatch(makeBatch('edge-a', 'isp1', 1, [makeSummary('ipg:x', T0_SEC, 5)]));
  await Promise.all([ingestor.handle(TOPIC, payload), ingestor.handle(TOPIC, payload), ingestor.handle(TOPIC, payload)]);
  t.same(acks().map((a) => a.status).sort(), [AckStatus.STORED, AckStatus.DUPLICATE, AckStatus.DUPLICATE]);
  t.equal((await store.readSeries('isp1', 'ipg:x', T0_SEC, T0_SEC + 300))[0].bytesIn, 5);
});

t.test('a revision in a later batch adds to the bucket', async (t) => {
  const { ingestor, store } = setup();
  await ingestor.handle(TOPIC, encodeBatch(makeBatch('edge-a', 'isp1', 1, [makeSummary('ipg:x', T0_SEC, 100)])));
  await ingestor.handle(TOPIC, encodeBatch(makeBatch('edge-a', 'isp1', 2, [makeSummary('ipg:x', T0_SEC, 23, { revision: 1 })])));
  t.equal((await store.readSeries('isp1', 'ipg:x', T0_SEC, T0_SEC + 300))[0].bytesIn, 123);
});

t.test('malformed protobuf: counted, logged once, no ack, no crash', async (t) => {
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (_o: object | string, msg?: string) => { warnings.push(String(msg)); }, child: () => log };
  const { ingestor, acks } = setup({ log });
  for (let i = 0; i < 3; i++) t.equal(await ingestor.handle(TOPIC, Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1])), undefined);
  t.equal(ingestor.counters().malformedBatches, 3);
  t.equal(warnings.length, 1);
  t.same(acks(), []);
  const ack = await ingestor.handle(TOPIC, encodeBatch(makeBatch('edge-a', 'isp1', 1, [makeSummary('ipg:x', T0_SEC, 1)])));
  t.equal(ack?.status, AckStatus.STORED, 'the next good batch is stored');
});

t.test('collection pause: buckets wholly after the pause instant are REJECTED, earlier ones stored', async (t) => {
  const pauseAtMs = (T0_SEC + 600) * 1000;
  const state = async (_op: string, fromMs: number) => (fromMs >= pauseAtMs ? { allowed: false, reason: 'trial ended' } : { allowed: true });
  const policy: CollectionPolicy = { collectionState: state, collectionAllowedDuring: eachSpan(state) };
  const { ingestor, store, acks } = setup({ policy });
  await ingestor.handle(TOPIC, encodeBatch(makeBatch('edge-a', 'isp1', 1, [0, 300, 600, 900].map((o) => makeSummary('ipg:x', T0_SEC + o, 10)))));
  t.same((await store.readSeries('isp1', 'ipg:x', T0_SEC, T0_SEC + 3600)).map((p) => p.bucketStartSec - T0_SEC), [0, 300]);
  t.equal(acks()[0].status, AckStatus.STORED);
  t.match(acks()[0].reason, /stored 2 of 4; refused: collection paused: trial ended \(2x\)/);
  await ingestor.handle(TOPIC, encodeBatch(makeBatch('edge-a', 'isp1', 2, [makeSummary('ipg:x', T0_SEC + 1200, 10)])));
  t.same([acks()[1].status, acks()[1].reason], [AckStatus.REJECTED, 'collection paused: trial ended']);
  t.equal(ingestor.counters().summariesRejected, 3);
});

t.test('validation: topic/payload/edge mismatches and bad summaries are REJECTED with a reason', async (t) => {
  const { ingestor, acks, store } = setup();
  const good = [makeSummary('ipg:x', T0_SEC, 1)];
  await ingestor.handle(TOPIC, encodeBatch(makeBatch('edge-b', 'isp1', 1, good)));
  await ingestor.handle('flowbill/v1/isp2/edge-a/summaries', encodeBatch(makeBatch('edge-a', 'isp2', 2, good)));
  await ingestor.handle('flowbill/v1/isp1/edge-r/summaries', encodeBatch(makeBatch('edge-r', 'isp1', 3, good)));
  await ingestor.handle('flowbill/v1/isp1/edge-z/summaries', encodeBatch(makeBatch('edge-z', 'isp1', 4, good)));
  await ingestor.handle(TOPIC, encodeBatch(makeBatch('edge-a', 'isp1', 5, [
    makeSummary('ipg:x', T0_SEC + 17, 1),
    makeSummary('ipg:x', T0_SEC, 1, { durationSec: 60 }),
    makeSummary('bogus', T0_SEC, 1),
    makeSummary('ipg:x', T0_SEC, 2 ** 51),
    makeSummary('ipg:x', 300, 1),
    makeSummary('ipg:x', T0_SEC, 1, { subjectKind: 1 }),
  ])));
  const got = acks().map((a) => [a.seq, a.status, a.reason]);
  t.match(got[0], [1, AckStatus.REJECTED, /payload names isp1\/edge-b/]);
  t.match(got[1], [2, AckStatus.REJECTED, /not the edge's operator/]);
  t.match(got[2], [3, AckStatus.REJECTED, 'edge revoked']);
  t.match(got[3], [4, AckStatus.REJECTED, 'unknown edge']);
  t.match(got[4], [5, AckStatus.REJECTED, /not aligned.*duration 60s.*invalid subject id.*counts out of range.*before 2000.*does not match/]);
  t.same(await store.listSubjects('isp1'), []);
});

t.test('a bucket in the future defers the batch: no ack, nothing stored, stored when resent later', async (t) => {
  const { ingestor, acks, store, clock } = setup();
  const future = T0_SEC + 86400 + 300; // ends 10 minutes after the hub's now; 5 minutes of skew allowed
  const payload = encodeBatch(makeBatch('edge-a', 'isp1', 1, [makeSummary('ipg:x', T0_SEC, 1), makeSummary('ipg:x', future, 2)]));
  t.equal(await ingestor.handle(TOPIC, payload), undefined);
  t.same(acks(), []);
  t.same(await store.listSubjects('isp1'), []);
  t.equal(ingestor.counters().batchesDeferred, 1);
  clock.advanceMs(600_000);
  t.equal((await ingestor.handle(TOPIC, payload))?.status, AckStatus.STORED);
  t.same((await store.readSeries('isp1', 'ipg:x', T0_SEC, future + 300)).map((p) => p.bytesIn), [1, 2]);
});

t.test('the ack is published only after the KV write completed', async (t) => {
  const inner = createMemoryKvStore();
  const events: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const slowKv: KeyValueStore = {
    get: (k) => inner.get(k), getMany: (ks) => inner.getMany(ks), entries: (r) => inner.entries(r), close: () => inner.close(),
    async write(ops) { events.push('write-start'); await gate; await inner.write(ops); events.push('write-done'); },
  };
  const { ingestor } = setup({ kv: slowKv, onPublish: (topic) => events.push(`publish ${topic.split('/').pop()}`) });
  const handled = ingestor.handle(TOPIC, encodeBatch(makeBatch('edge-a', 'isp1', 1, [makeSummary('ipg:x', T0_SEC, 1)])));
  await new Promise((r) => setTimeout(r, 20));
  t.same(events, ['write-start'], 'no ack while the write is pending');
  release();
  await handled;
  // The republished StoredBatch, then the ack; the outbox entry is deleted after the PUBACK.
  t.same(events.slice(0, 3), ['write-start', 'write-done', 'publish stored']);
  t.ok(events.indexOf('publish ack') > 2, 'the ack after the StoredBatch');
});

t.test('a failed KV write sends no ack; the resend is then stored', async (t) => {
  const inner = createMemoryKvStore();
  let fail = true;
  const kv: KeyValueStore = {
    get: (k) => inner.get(k), getMany: (ks) => inner.getMany(ks), entries: (r) => inner.entries(r), close: () => inner.close(),
    async write(ops) { if (fail) throw new Error('io error'); await inner.write(ops); },
  };
  const log: Logger = { ...silentLogger, child: () => log };
  const { ingestor, acks, store } = setup({ kv, log });
  const payload = encodeBatch(makeBatch('edge-a', 'isp1', 1, [makeSummary('ipg:x', T0_SEC, 9)]));
  t.equal(await ingestor.handle(TOPIC, payload), undefined);
  t.same(acks(), []);
  fail = false;
  t.equal((await ingestor.handle(TOPIC, payload))?.status, AckStatus.STORED);
  t.equal((await store.readSeries('isp1', 'ipg:x', T0_SEC, T0_SEC + 300))[0].bytesIn, 9);
  t.equal(ingestor.counters().storeErrors, 1);
});

t.test('a batch delivered before and after a hub restart over the same LevelDB is stored once', async (t) => {
  const dir = t.testdir({});
  const payload = encodeBatch(makeBatch('edge-a', 'isp1', 42, [makeSummary('if:192.0.2.1/1', T0_SEC, 777)]));
  const kv1 = await openLevelKvStore(`${dir}/db`);
  const first = setup({ kv: kv1 });
  t.equal((await first.ingestor.handle(TOPIC, payload))?.status, AckStatus.STORED);
  await kv1.close();
  const kv2 = await openLevelKvStore(`${dir}/db`);
  const second = setup({ kv: kv2 });
  t.equal((await second.ingestor.handle(TOPIC, payload))?.status, AckStatus.DUPLICATE);
  t.same((await second.store.readSeries('isp1', 'if:192.0.2.1/1', T0_SEC, T0_SEC + 300)).map((p) => p.bytesIn), [777]);
  await kv2.close();
});
