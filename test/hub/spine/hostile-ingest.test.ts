/**
 * Issue 8 (hostile input) at the ingestor: content-identity dedup instead of (edge, seq), seq
 * plausibility, the dedup horizon and its pruning, and the size limits.
 */
import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { collect, prefixRange, type KeyValueStore } from '../../../common/kv/kv-store';
import { encodeJson } from '../../../common/kv/json-codec';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger, type Logger } from '../../../common/logger';
import { createBatchIngestor, type EdgeLookup, type IngestLimits } from '../../../hub/ingest/batch-ingestor';
import { decodeMarker, revisionKey } from '../../../hub/ingest/content-dedup';
import { PRUNE_INTERVAL_MS } from '../../../hub/store/kv-dedup-guard';
import { type CollectionPolicy, eachSpan } from '../../../hub/ports';
import { createKvSeriesStore } from '../../../hub/store/kv-series-store';
import type { SeriesStoreLimits } from '../../../hub/store/series-store';
import type { Summary } from '../../../proto/codec';
import { AckStatus, encodeBatch, makeBatch, makeSummary, recordingPublisher, T0_SEC } from './ingest-fixtures';

const TOPIC = 'flowbill/v1/isp1/edge-a/summaries';
const DAY = 86_400;
const edges: EdgeLookup = { async getEdge(edgeId) { return edgeId === 'edge-a' ? { edgeId, operatorId: 'isp1', revoked: false } : undefined; } };
const allowAll: CollectionPolicy = { async collectionState() { return { allowed: true }; }, collectionAllowedDuring: eachSpan(() => ({ allowed: true })) };

function setup(opts: { kv?: KeyValueStore; limits?: Partial<IngestLimits & SeriesStoreLimits>; log?: Logger; nowSec?: number } = {}) {
  const kv = opts.kv ?? createMemoryKvStore();
  const clock = createManualClock((opts.nowSec ?? T0_SEC + DAY) * 1000);
  const store = createKvSeriesStore({ kv, limits: opts.limits });
  const rec = recordingPublisher();
  const raw = createBatchIngestor({ store, edges, policy: allowAll, publisher: rec.publisher, clock, log: opts.log ?? silentLogger, limits: opts.limits });
  // STORED and DUPLICATE acks follow the StoredBatch republication in the background (and its outbox
  // entry is deleted after it): handle() here also waits for them.
  const ingestor: typeof raw = { ...raw, handle: async (topic, payload) => { const ack = await raw.handle(topic, payload); await raw.flushAcks(); return ack; } };
  const send = async (seq: number, summaries: Summary[], extra: Parameters<typeof makeBatch>[4] = {}) => ingestor.handle(TOPIC, encodeBatch(makeBatch('edge-a', 'isp1', seq, summaries, extra)));
  const bytesIn = async (subjectId: string, bucket = T0_SEC) => (await store.readSeries('isp1', subjectId, bucket, bucket + 300)).map((p) => p.bytesIn);
  const snapshot = async () => collect(kv, {});
  return { kv, clock, store, ingestor, send, bytesIn, snapshot, ...rec };
}

/** Subjects s00..s(n-1), ascending in JS string order, as the edge emits a revision. */
const subjects = (n: number) => Array.from({ length: n }, (_, i) => `ipg:s${String(i).padStart(2, '0')}`);
const rev = (ids: string[], bytes: (id: string) => number, extra: Partial<Summary> = {}) => ids.map((id) => makeSummary(id, T0_SEC, bytes(id), extra));
const original = (id: string) => 1000 + Number(id.slice(-2));

t.test('redelivery of the same batch: DUPLICATE, and the KV is byte for byte unchanged', async (t) => {
  const { send, snapshot, acks, ingestor } = setup();
  const batch = rev(subjects(5), original);
  t.equal((await send(7, batch))?.status, AckStatus.STORED);
  const before = await snapshot();
  t.equal((await send(7, batch))?.status, AckStatus.DUPLICATE);
  t.equal((await send(8, batch))?.status, AckStatus.DUPLICATE, 'the same content under another seq is a duplicate too');
  t.same(await snapshot(), before, 'no write at all');
  t.same(acks().map((a) => a.reason), ['', '', '']);
  t.match(ingestor.counters(), { batchesStored: 1, batchesDuplicate: 2, summariesStored: 5, summariesDuplicate: 10 });
});

t.test('a rewound edge re-sends a revision under new seqs, as a subset with other batch boundaries: nothing is counted twice', async (t) => {
  const { send, bytesIn, acks } = setup();
  const all = subjects(20);
  await send(10, rev(all.slice(0, 10), original));
  await send(11, rev(all.slice(10, 20), original));
  // After the rewind: s03, s11 and s16 were lost, the rest is re-emitted with counts <= the original,
  // cut into batches at other places, under seqs the hub never saw.
  const subset = all.filter((id) => !['ipg:s03', 'ipg:s11', 'ipg:s16'].includes(id));
  const smaller = (id: string) => original(id) - 7;
  t.equal((await send(9_001, rev(subset.slice(0, 4), smaller)))?.status, AckStatus.DUPLICATE);
  t.equal((await send(9_002, rev(subset.slice(4, 13), smaller)))?.status, AckStatus.DUPLICATE, 'a run spanning the two original batches');
  t.equal((await send(9_003, rev(subset.slice(13), smaller)))?.status, AckStatus.DUPLICATE);
  for (const id of all) t.same(await bytesIn(id), [original(id)], `${id} counted once, with the original counts`);
  t.same(acks().map((a) => a.status), [AckStatus.STORED, AckStatus.STORED, AckStatus.DUPLICATE, AckStatus.DUPLICATE, AckStatus.DUPLICATE]);
});

t.test('new subjects of the same revision in a gap between applied ranges are applied', async (t) => {
  const { send, bytesIn, kv, ingestor } = setup();
  const all = subjects(15);
  await send(1, rev(all.slice(0, 5), original)); // s00..s04
  await send(3, rev(all.slice(10, 15), original)); // s10..s14; the batch with s05..s09 is late
  t.same(decodeMarker((await kv.get(revisionKey('edge-a', T0_SEC, 0)))!), { n: 10, r: ['ipg:s00', 'ipg:s04', 'ipg:s10', 'ipg:s14'] });
  t.equal((await send(2, rev(all.slice(5, 10), original)))?.status, AckStatus.STORED);
  for (const id of all) t.same(await bytesIn(id), [original(id)], id);
  t.same(decodeMarker((await kv.get(revisionKey('edge-a', T0_SEC, 0)))!), { n: 15, r: ['ipg:s00', 'ipg:s04', 'ipg:s05', 'ipg:s09', 'ipg:s10', 'ipg:s14'] },
    'three runs: the hub cannot know that nothing lies between s04 and s05');
  // Mixed: a batch overlapping applied subjects and bringing one of another revision.
  const ack = await send(4, [...rev(all.slice(12, 15), original), makeSummary('ipg:s13', T0_SEC, 5, { revision: 1 })]);
  t.match(ack, { status: AckStatus.STORED, reason: 'stored 1 of 4; 3 already stored' });
  t.same(await bytesIn('ipg:s13'), [original('ipg:s13') + 5], 'revision 1 adds');
  t.match(ingestor.counters(), { summariesStored: 16, summariesDuplicate: 3 });
});

t.test('a poisoned seq 2^53-1 is REJECTED and does not block later batches', async (t) => {
  const errors: unknown[] = [];
  const log: Logger = { ...silentLogger, error: (o: object | string) => { errors.push(o); }, child: () => log };
  const { send, bytesIn, acks, ingestor, clock } = setup({ log });
  const max = Number.MAX_SAFE_INTEGER;
  await send(max, [makeSummary('ipg:x', T0_SEC, 1)], { oldestUnackedSeq: max });
  await send(max + 2, [makeSummary('ipg:x', T0_SEC, 1)], { oldestUnackedSeq: 1 });
  await send(5, [makeSummary('ipg:x', T0_SEC, 1)], { oldestUnackedSeq: 6 });
  await send(0, [makeSummary('ipg:x', T0_SEC, 1)], { oldestUnackedSeq: 0 });
  await send(3, [makeSummary('ipg:x', T0_SEC, 1)], { oldestUnackedSeq: 0 });
  const got = acks().map((a) => [a.status, a.reason]);
  t.match(got, [
    [AckStatus.REJECTED, /more than a day ahead/],
    [AckStatus.REJECTED, /not a safe positive integer/],
    [AckStatus.REJECTED, /oldest_unacked_seq 6 is above seq 5/],
    [AckStatus.REJECTED, /seq 0 is not a safe positive integer/],
    [AckStatus.REJECTED, /oldest_unacked_seq 0 is not a safe positive integer/],
  ]);
  // Every REJECTED is counted (below); the error line is rate-limited per edge, so an edge's
  // credentials cannot flood the hub's log: the first at once, the rest summed into the next line.
  t.equal(errors.length, 1, 'the first REJECTED is an error log line at once');
  t.match(errors[0], { edgeId: 'edge-a', seq: max, reason: /more than a day ahead/ });
  clock.advanceMs(60_000);
  await send(7, [makeSummary('ipg:x', T0_SEC, 1)], { oldestUnackedSeq: 8 });
  t.equal(errors.length, 2, 'a minute later the next REJECTED is logged again');
  t.match(errors[1], { edgeId: 'edge-a', seq: 7, suppressedSinceLastLine: 4 }, 'with the number counted in between');
  // A seq numbered from a clock a little ahead (an hour) is plausible, and does not make later, smaller seqs duplicates.
  const nowMs = clock.nowMs();
  t.equal((await send(nowMs + 3_600_000, [makeSummary('ipg:x', T0_SEC, 100)]))?.status, AckStatus.STORED);
  t.equal((await send(2, [makeSummary('ipg:y', T0_SEC, 7)], { oldestUnackedSeq: 1 }))?.status, AckStatus.STORED);
  t.equal((await send(3, [makeSummary('ipg:x', T0_SEC + 300, 9)], { oldestUnackedSeq: 1 }))?.status, AckStatus.STORED);
  t.same(await bytesIn('ipg:x'), [100]);
  t.same(await bytesIn('ipg:y'), [7]);
  t.same(await bytesIn('ipg:x', T0_SEC + 300), [9]);
  t.match(ingestor.counters(), { batchesImplausibleSeq: 6, batchesRejected: 6, summariesRejected: 6, batchesStored: 3 });
});

t.test('an unsorted group falls back to exact points', async (t) => {
  const { send, kv, bytesIn } = setup();
  t.equal((await send(1, rev(['ipg:s05', 'ipg:s01', 'ipg:s03'], original)))?.status, AckStatus.STORED);
  t.same(decodeMarker((await kv.get(revisionKey('edge-a', T0_SEC, 0)))!).r, ['ipg:s01', 'ipg:s01', 'ipg:s03', 'ipg:s03', 'ipg:s05', 'ipg:s05']);
  t.equal((await send(2, rev(['ipg:s02', 'ipg:s04'], original)))?.status, AckStatus.STORED, 'subjects between the points are new');
  t.equal((await send(3, rev(['ipg:s03', 'ipg:s01'], original)))?.status, AckStatus.DUPLICATE);
  // A group cut in two by another bucket's group is not one run either.
  const other = T0_SEC + 300;
  t.equal((await send(4, [makeSummary('ipg:a', other, 1), makeSummary('ipg:b', T0_SEC, 1), makeSummary('ipg:z', other, 1)]))?.status, AckStatus.STORED);
  t.same(decodeMarker((await kv.get(revisionKey('edge-a', other, 0)))!).r, ['ipg:a', 'ipg:a', 'ipg:z', 'ipg:z']);
  t.equal((await send(5, [makeSummary('ipg:m', other, 1)]))?.status, AckStatus.STORED, 'ipg:m between the two points was never applied');
  const repeated = await send(6, [makeSummary('ipg:q', T0_SEC, 1), makeSummary('ipg:p', T0_SEC, 1), makeSummary('ipg:q', T0_SEC, 2)]);
  t.match(repeated, { status: AckStatus.STORED, reason: /stored 2 of 3; refused: subject repeated within bucket/ });
  t.same(await bytesIn('ipg:q'), [1]);
  for (const id of ['ipg:s01', 'ipg:s02', 'ipg:s03', 'ipg:s04', 'ipg:s05']) t.same(await bytesIn(id), [original(id)], id);
});

t.test('dedup horizon: older buckets are refused with a reason; markers are pruned at most hourly, safely', async (t) => {
  const horizon = 10 * DAY;
  const { send, kv, clock, acks, ingestor, bytesIn } = setup({ limits: { dedupHorizonSec: horizon } });
  const now = () => Math.floor(clock.nowMs() / 1000);
  const bucketAgo = (sec: number) => Math.floor((now() - sec) / 300) * 300;
  const oldBucket = bucketAgo(horizon + 300);
  const ack = await send(1, [makeSummary('ipg:x', oldBucket, 1)]);
  t.match(ack, { status: AckStatus.REJECTED, reason: 'bucket older than the dedup horizon (10 days): it can no longer be deduplicated' });
  t.equal(ingestor.counters().summariesTooOld, 1);

  const b1 = bucketAgo(horizon - 600); // leaves the horizon in 10 minutes
  const b2 = bucketAgo(3 * DAY);
  await send(2, [makeSummary('ipg:x', b1, 1), makeSummary('ipg:x', b2, 1)]); // the first write also prunes (nothing due)
  await kv.write([{ type: 'put', key: 'ingest-low/edge-a', value: new TextEncoder().encode(String(Number.MAX_SAFE_INTEGER)) }]);
  const markers = async () => (await collect(kv, prefixRange('ingest-rev/edge-a/'))).map(([k]) => Number(k.split('/')[2]));
  t.same(await markers(), [b1, b2]);

  clock.advanceMs(PRUNE_INTERVAL_MS / 2);
  const b3 = bucketAgo(DAY);
  t.equal((await send(3, [makeSummary('ipg:y', b3, 1)]))?.status, AckStatus.STORED);
  t.same(await markers(), [b1, b2, b3], 'b1 is past the horizon, but the last prune was half an hour ago');
  t.equal((await send(4, [makeSummary('ipg:x', b1, 1)]))?.status, AckStatus.REJECTED, 'b1 itself is refused already');
  clock.advanceMs(PRUNE_INTERVAL_MS / 2);
  await send(5, [makeSummary('ipg:y', b3 + 300, 1)]);
  t.same(await markers(), [b2, b3, b3 + 300], 'pruned an hour after the last prune');
  t.equal(await kv.get('ingest-low/edge-a'), undefined, 'the legacy watermark is deleted');
  const pruned = Number(new TextDecoder().decode((await kv.get('ingest-pruned/edge-a'))!));
  t.equal(pruned, now() - horizon);
  t.equal(ingestor.counters().markersPruned, 1);

  // The hub's clock steps back an hour: b1 is inside the horizon again, but its marker is gone.
  clock.advanceMs(-PRUNE_INTERVAL_MS);
  t.match(await send(6, [makeSummary('ipg:x', b1, 1)]), { status: AckStatus.REJECTED, reason: /older than the dedup horizon/ });
  t.same(await bytesIn('ipg:x', b1), [1], 'counted once');
  t.equal(ingestor.counters().summariesTooOld, 3);
  t.equal(acks().length, 6);
});

t.test('limits: payload bytes (before decoding), summaries per batch, subjects per revision; counted, logged once', async (t) => {
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (_o: object | string, msg?: string) => { warnings.push(String(msg)); }, child: () => log };
  const { ingestor, send, acks, bytesIn } = setup({ log, limits: { maxPayloadBytes: 4096, maxBatchSummaries: 50, maxRevisionSubjects: 30 } });
  const big = Uint8Array.from(encodeBatch(makeBatch('edge-a', 'isp1', 1, rev(subjects(99).map((s) => s + 'x'.repeat(40)), () => 1))));
  t.ok(big.length > 4096);
  t.equal(await ingestor.handle(TOPIC, big), undefined);
  t.equal(await ingestor.handle(TOPIC, big), undefined);
  t.equal(await send(2, rev(subjects(51), original)), undefined);
  t.same(acks(), [], 'no ack: the edge keeps them until the limits allow them');
  t.match(ingestor.counters(), { batchesOversized: 2, batchesTooManySummaries: 1 });
  t.equal(warnings.filter((w) => /FLOWBILL_INGEST_MAX_PAYLOAD_BYTES/.test(w)).length, 1);
  t.equal(warnings.filter((w) => /FLOWBILL_INGEST_MAX_BATCH_SUMMARIES/.test(w)).length, 1);

  const all = subjects(40);
  t.equal((await send(3, rev(all.slice(0, 25), original)))?.status, AckStatus.STORED);
  t.match(await send(4, rev(all.slice(25, 40), original)), { status: AckStatus.STORED, reason: 'stored 5 of 15; refused: more than 30 subjects in bucket 1793577600 revision 0 (10x)' });
  t.match(await send(5, rev(all.slice(35, 40), original)), { status: AckStatus.REJECTED, reason: /more than 30 subjects/ });
  t.same(await bytesIn('ipg:s29'), [original('ipg:s29')]);
  t.same(await bytesIn('ipg:s30'), []);
  t.match(ingestor.counters(), { summariesOverSubjectLimit: 15, summariesStored: 30 });
});

t.test('legacy (edge, seq) markers: an old batch redelivered is a DUPLICATE; a reused seq with newer buckets is stored', async (t) => {
  const kv = createMemoryKvStore();
  const { send, bytesIn } = setup({ kv });
  const storedAtMs = (T0_SEC + 400) * 1000;
  await kv.write([{ type: 'put', key: `ingest-seen/edge-a/${String(12).padStart(16, '0')}`, value: encodeJson({ atMs: storedAtMs, stored: 1 }) }]);
  t.equal((await send(12, [makeSummary('ipg:x', T0_SEC, 5)]))?.status, AckStatus.DUPLICATE, 'stored under the old rule');
  t.same(await bytesIn('ipg:x'), []);
  t.equal((await send(12, [makeSummary('ipg:x', T0_SEC + 3600, 5)]))?.status, AckStatus.STORED, 'its buckets ended after the marker: another batch');
  t.same(await bytesIn('ipg:x', T0_SEC + 3600), [5]);
});
