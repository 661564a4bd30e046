/**
 * Issue 9, billing truth for consumers, at the ingestor: what the hub stored is republished on
 * flowbill/v1/<tenant>/<edge>/stored (StoredBatch) through a transactional outbox, before the ack.
 * test/security/consumer-stream.test.ts proves it against the real hub and broker.
 */
import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { collect, prefixRange, type KeyValueStore } from '../../../common/kv/kv-store';
import { openLevelKvStore } from '../../../common/kv/level-kv-store';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger, type Logger } from '../../../common/logger';
import type { MqttPublisher } from '../../../hub/broker/mqtt-publisher';
import { createBatchIngestor, type EdgeLookup } from '../../../hub/ingest/batch-ingestor';
import { RETRY_INTERVAL_MS } from '../../../hub/ingest/stored-republisher';
import { type CollectionPolicy, eachSpan } from '../../../hub/ports';
import { createKvSeriesStore, STORED_PREFIX } from '../../../hub/store/kv-series-store';
import { ackCodec, storedBatchCodec, type Summary } from '../../../proto/codec';
import { AckStatus, encodeBatch, makeBatch, makeSummary, T0_SEC } from './ingest-fixtures';

const TOPIC = 'flowbill/v1/isp1/edge-a/summaries';
const STORED = 'flowbill/v1/isp1/edge-a/stored';
const edges: EdgeLookup = {
  async getEdge(edgeId) { return edgeId === 'edge-a' || edgeId === 'edge-b' ? { edgeId, operatorId: 'isp1', revoked: false } : undefined; },
};
// Buckets from T0_SEC + 600 on are paused: a refusal inside a stored batch.
const pausedFrom = async (_op: string, fromMs: number) => (fromMs >= (T0_SEC + 600) * 1000 ? { allowed: false, reason: 'trial ended' } : { allowed: true });
const policy: CollectionPolicy = { collectionState: pausedFrom, collectionAllowedDuring: eachSpan(pausedFrom) };

/** A publisher that records every publish, and fails those whose topic matches `failing` while it is set. */
function flakyPublisher() {
  const published: { topic: string; payload: Uint8Array; qos: number; retain: boolean }[] = [];
  const state = { failing: undefined as RegExp | undefined };
  const publisher: MqttPublisher = {
    async publish(topic, payload, opts) {
      if (state.failing?.test(topic)) throw new Error('hub MQTT client not connected');
      published.push({ topic, payload, qos: opts.qos, retain: !!opts.retain });
    },
  };
  return {
    publisher, published, state,
    kinds: () => published.map((p) => p.topic.split('/').pop()),
    acks: () => published.filter((p) => p.topic.endsWith('/ack')).map((p) => ackCodec.decode(p.payload)),
    stored: () => published.filter((p) => p.topic.endsWith('/stored')).map((p) => storedBatchCodec.decode(p.payload)),
  };
}

function setup(opts: { kv?: KeyValueStore; log?: Logger } = {}) {
  const kv = opts.kv ?? createMemoryKvStore();
  const clock = createManualClock((T0_SEC + 86_400) * 1000);
  const store = createKvSeriesStore({ kv });
  const pub = flakyPublisher();
  const ingestor = createBatchIngestor({ store, edges, policy, publisher: pub.publisher, clock, log: opts.log ?? silentLogger });
  /** One delivery, and everything it started (republication, ack) finished. */
  const deliver = async (seq: number, summaries: Summary[], edgeId = 'edge-a') => {
    const ack = await ingestor.handle(`flowbill/v1/isp1/${edgeId}/summaries`, encodeBatch(makeBatch(edgeId, 'isp1', seq, summaries)));
    await ingestor.flushAcks();
    return ack;
  };
  const waitingKeys = async () => (await collect(kv, prefixRange(STORED_PREFIX))).map(([k]) => k);
  return { kv, clock, store, ingestor, deliver, waitingKeys, ...pub };
}

const a0 = makeSummary('ipg:a', T0_SEC, 1000);
const b0 = makeSummary('ipg:b', T0_SEC, 2000);

t.test('a StoredBatch carries exactly what was applied, on .../stored (QoS 1, not retained), before the ack', async (t) => {
  const { deliver, published, kinds, stored, acks, waitingKeys, ingestor } = setup();
  await deliver(1, [a0]);
  const c300 = makeSummary('ipg:c', T0_SEC + 300, 3000, { revision: 7 });
  // a0 again (already applied), c300 new, a paused bucket, an invalid summary.
  const ack = await deliver(2, [a0, makeSummary('ipg:c', T0_SEC + 900, 5), c300, makeSummary('ipg:c', T0_SEC + 17, 9)].sort((x, y) => x.bucketStartSec - y.bucketStartSec));
  t.match(ack, { status: AckStatus.STORED, reason: /stored 1 of 4; 1 already stored; refused/ });
  t.same(kinds(), ['stored', 'ack', 'stored', 'ack'], 'each StoredBatch before its ack');
  t.same(published.filter((p) => p.topic.endsWith('/stored')).map((p) => [p.topic, p.qos, p.retain]), [[STORED, 1, false], [STORED, 1, false]]);
  const [s1, s2] = stored();
  t.match(s1, { edgeId: 'edge-a', tenantId: 'isp1', edgeSeq: 1, storedAtMs: (T0_SEC + 86_400) * 1000 });
  t.same(s1!.summaries, [a0]);
  t.same(s2!.summaries, [c300], 'only the applied summary: no duplicate, no refusal');
  t.ok(s2!.storedSeq > s1!.storedSeq, 'stored_seq increases');
  t.same(acks().map((a) => a.status), [AckStatus.STORED, AckStatus.STORED]);
  t.same(await waitingKeys(), [], 'the outbox entries were deleted after the broker took them');
  t.match(ingestor.counters(), { storedBatchesPublished: 2, storedPublishErrors: 0, storedBatchesWaiting: 0 });

  t.equal((await deliver(3, [a0, c300]))?.status, AckStatus.DUPLICATE);
  t.equal(stored().length, 2, 'a pure redelivery republishes nothing: its summaries are in earlier StoredBatches');
  t.equal((await deliver(4, [makeSummary('ipg:a', T0_SEC + 1200, 1)]))?.status, AckStatus.REJECTED);
  t.equal(stored().length, 2, 'nothing for a REJECTED batch');
});

t.test('a rewound or hostile edge re-sending an identity with other counts changes nothing on .../stored', async (t) => {
  const { deliver, stored, store } = setup();
  await deliver(1, [a0, b0]);
  t.equal((await deliver(99, [{ ...a0, bytesIn: 1 }, { ...b0, bytesIn: 10 ** 12 }]))?.status, AckStatus.DUPLICATE);
  t.same(stored().flatMap((s) => s.summaries), [a0, b0], 'the stored topic keeps what the hub stored');
  t.same((await store.readSeries('isp1', 'ipg:b', T0_SEC, T0_SEC + 300)).map((p) => p.bytesIn), [2000]);
});

t.test('a failed republish withholds the ack; the redelivery (DUPLICATE) republishes, then acks', async (t) => {
  const lines: { obj: object | string; msg?: string }[] = [];
  const log: Logger = { ...silentLogger, warn: (obj, msg) => { lines.push({ obj, msg }); }, child: () => log };
  const { deliver, state, kinds, stored, acks, waitingKeys, ingestor, store } = setup({ log });
  state.failing = /\/stored$/;
  t.equal((await deliver(1, [a0]))?.status, AckStatus.STORED, 'handle() reports what it stored ...');
  t.same(kinds(), [], '... but no ack went out: the StoredBatch could not be published');
  t.same((await store.readSeries('isp1', 'ipg:a', T0_SEC, T0_SEC + 300)).map((p) => p.bytesIn), [1000], 'stored');
  t.equal((await waitingKeys()).length, 1, 'kept in the outbox');
  await deliver(1, [a0]);
  t.same(kinds(), [], 'still down: still no ack');
  t.match(ingestor.counters(), { storedPublishErrors: 2, storedBatchesWaiting: 1, storedBatchesPublished: 0 });
  t.equal(lines.filter((l) => /republish a StoredBatch/.test(String(l.msg))).length, 1, 'one log line (rate-limited), every failure counted');

  state.failing = undefined;
  t.equal((await deliver(1, [a0]))?.status, AckStatus.DUPLICATE);
  t.same(kinds(), ['stored', 'ack']);
  t.same(stored()[0]!.summaries, [a0]);
  t.same(acks().map((a) => a.status), [AckStatus.DUPLICATE]);
  t.same(await waitingKeys(), []);
});

t.test('an edge whose republish failed is retried on any later delivery (it may never resend)', async (t) => {
  const { deliver, state, stored, clock, waitingKeys } = setup();
  state.failing = /edge-a\/stored$/;
  await deliver(1, [a0]);
  state.failing = undefined;
  clock.advanceMs(RETRY_INTERVAL_MS - 1);
  await deliver(1, [makeSummary('ipg:x', T0_SEC, 1)], 'edge-b');
  t.same(stored().map((s) => s.edgeId), ['edge-b'], 'not before the retry interval');
  clock.advanceMs(1);
  await deliver(2, [makeSummary('ipg:y', T0_SEC, 1)], 'edge-b');
  t.same(stored().map((s) => s.edgeId).sort(), ['edge-a', 'edge-b', 'edge-b']);
  t.same(await waitingKeys(), []);
});

t.test('a crash between the commit and the republish: the next start republishes the same bytes', async (t) => {
  const dir = t.testdir({});
  const kv1 = await openLevelKvStore(`${dir}/db`);
  const first = setup({ kv: kv1 });
  first.state.failing = /\/stored$/; // the process dies before the broker took the StoredBatch
  await first.deliver(5, [a0, b0]);
  t.same(first.kinds(), []);
  const [waitingKey] = await first.waitingKeys();
  const committed = await kv1.get(waitingKey!);
  await kv1.close();

  const kv2 = await openLevelKvStore(`${dir}/db`);
  t.teardown(() => kv2.close());
  const second = setup({ kv: kv2 });
  t.equal(await second.ingestor.resumeRepublish(), 1);
  await second.ingestor.flushAcks();
  t.same(second.kinds(), ['stored']);
  t.same(Buffer.from(second.published[0]!.payload), Buffer.from(committed!), 'byte-identical to what was committed');
  t.same(second.stored()[0]!.summaries, [a0, b0]);
  t.same(await second.waitingKeys(), []);
  await second.deliver(6, [makeSummary('ipg:a', T0_SEC + 300, 1)]);
  t.ok(second.stored()[1]!.storedSeq > second.stored()[0]!.storedSeq, 'stored_seq goes on after the restart');
  t.equal((await second.deliver(5, [a0, b0]))?.status, AckStatus.DUPLICATE, 'the edge\'s resend is a DUPLICATE');
  t.equal(second.stored().length, 2, 'and adds nothing to .../stored');
});
