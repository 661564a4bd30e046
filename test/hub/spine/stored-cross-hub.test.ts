/**
 * Issue 10: StoredBatch republication when several hubs share one store (PostgreSQL in production).
 * The outbox is shared, so a hub that committed a batch and died before publishing its StoredBatch
 * leaves the entry for the others. Rule: an edge is acked (STORED or DUPLICATE) only after every
 * StoredBatch of that edge committed so far, by any hub, is with the broker.
 *
 * Two ingestors on one store are two hubs. Hub A "dies" after its commit: its publisher refuses
 * everything (nothing of A reaches the broker) and A is never used again.
 */
import t from 'tap';
import type { Test } from 'tap';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { createManualTimers, createSafeTicker } from '../../../common/ticker';
import type { MqttPublisher } from '../../../hub/broker/mqtt-publisher';
import { createBatchIngestor, type EdgeLookup } from '../../../hub/ingest/batch-ingestor';
import { STORED_SWEEP_INTERVAL_MS } from '../../../hub/ingest/stored-republisher';
import { type CollectionPolicy, eachSpan } from '../../../hub/ports';
import { createKvSeriesStore } from '../../../hub/store/kv-series-store';
import { migrate } from '../../../hub/store/pg/migrations';
import { createPgPool } from '../../../hub/store/pg/pg-pool';
import { createPgSeriesStore } from '../../../hub/store/pg/pg-series-store';
import type { SeriesStore } from '../../../hub/store/series-store';
import { ackCodec, storedBatchCodec, type Summary } from '../../../proto/codec';
import { startPostgres } from '../../helpers/postgres';
import { AckStatus, encodeBatch, makeBatch, makeSummary, T0_SEC } from './ingest-fixtures';

const edges: EdgeLookup = {
  async getEdge(edgeId) { return edgeId.startsWith('edge-') ? { edgeId, operatorId: 'isp1', revoked: false } : undefined; },
};
const allowAll: CollectionPolicy = {
  collectionState: async () => ({ allowed: true }), collectionAllowedDuring: eachSpan(() => ({ allowed: true })),
};

/** Records what reached the broker; `dead` refuses every publish (the hub's process is gone). */
function broker() {
  const published: { topic: string; payload: Uint8Array }[] = [];
  const state = { dead: false };
  const publisher: MqttPublisher = {
    async publish(topic, payload) {
      if (state.dead) throw new Error('hub process gone');
      published.push({ topic, payload });
    },
  };
  return {
    publisher, published, state,
    kinds: () => published.map((p) => `${p.topic.split('/')[3]}:${p.topic.split('/').pop()}`),
    stored: () => published.filter((p) => p.topic.endsWith('/stored')).map((p) => storedBatchCodec.decode(p.payload)),
    acks: () => published.filter((p) => p.topic.endsWith('/ack')).map((p) => ackCodec.decode(p.payload)),
  };
}

/** One hub: an ingestor on the shared store, its own broker view and clock. */
function hub(store: SeriesStore) {
  const clock = createManualClock((T0_SEC + 86_400) * 1000);
  const b = broker();
  const ingestor = createBatchIngestor({ store, edges, policy: allowAll, publisher: b.publisher, clock, log: silentLogger });
  const deliver = async (seq: number, summaries: Summary[], edgeId = 'edge-a') => {
    const ack = await ingestor.handle(`flowbill/v1/isp1/${edgeId}/summaries`, encodeBatch(makeBatch(edgeId, 'isp1', seq, summaries)));
    await ingestor.flushAcks();
    return ack;
  };
  return { ingestor, deliver, clock, ...b };
}

const a0 = makeSummary('ipg:a', T0_SEC, 1000);
const b0 = makeSummary('ipg:b', T0_SEC, 2000);

/** The cases, on any store two hubs can share; `second` is the store hub B uses (another pool on PostgreSQL). */
function crossHubCases(t: Test, open: () => Promise<{ first: SeriesStore; second: SeriesStore }>) {
  t.test('hub A commits and dies before publishing; the resend reaches hub B: B publishes A\'s StoredBatch, then acks DUPLICATE', async (t) => {
    const { first, second } = await open();
    const hubA = hub(first);
    const hubB = hub(second);
    // B is up and has already handled a delivery (an earlier hub loaded the outbox once, at its start).
    t.equal((await hubB.deliver(1, [makeSummary('ipg:x', T0_SEC, 1)], 'edge-b'))?.status, AckStatus.STORED);
    hubA.state.dead = true;
    t.equal((await hubA.deliver(7, [a0, b0]))?.status, AckStatus.STORED, 'A committed');
    t.same(hubA.published, [], 'and nothing of A reached the broker');
    const [committed] = await first.listWaitingStored('edge-a');
    t.ok(committed, 'A\'s StoredBatch waits in the shared outbox');

    t.equal((await hubB.deliver(7, [a0, b0]))?.status, AckStatus.DUPLICATE);
    t.same(hubB.kinds(), ['edge-b:stored', 'edge-b:ack', 'edge-a:stored', 'edge-a:ack'], 'A\'s StoredBatch before the ack');
    t.same(Buffer.from(hubB.published[2]!.payload), Buffer.from(committed!.payload), 'byte-identical to what A committed');
    t.same(hubB.stored()[1]!.summaries, [a0, b0]);
    t.same(hubB.acks().map((a) => [a.edgeId, a.seq, a.status]), [['edge-b', 1, AckStatus.STORED], ['edge-a', 7, AckStatus.DUPLICATE]]);
    t.same(await second.listWaitingStored(), [], 'deleted once the broker took it');
    t.match(hubB.ingestor.counters(), { storedBatchesPublished: 2, storedPublishErrors: 0, storedBatchesWaiting: 0 });
  });

  t.test('a STORED ack of hub B also waits for A\'s earlier StoredBatch of that edge, published first (storedSeq order)', async (t) => {
    const { first, second } = await open();
    const hubA = hub(first);
    const hubB = hub(second);
    await hubB.deliver(1, [makeSummary('ipg:x', T0_SEC, 1)], 'edge-b');
    hubA.state.dead = true;
    await hubA.deliver(7, [a0]);
    t.equal((await hubB.deliver(8, [b0]))?.status, AckStatus.STORED);
    t.same(hubB.kinds().slice(2), ['edge-a:stored', 'edge-a:stored', 'edge-a:ack']);
    t.same(hubB.stored().slice(1).map((s) => [s.edgeSeq, s.summaries.map((x) => x.subjectId)]), [[7, ['ipg:a']], [8, ['ipg:b']]]);
    t.same(await second.listWaitingStored(), []);
  });

  t.test('an edge that stays silent: hub B\'s sweep publishes A\'s leftover once it was waiting at two sweeps in a row', async (t) => {
    const { first, second } = await open();
    const hubA = hub(first);
    const hubB = hub(second);
    await hubB.deliver(1, [makeSummary('ipg:x', T0_SEC, 1)], 'edge-b');
    const timers = createManualTimers();
    const ticker = createSafeTicker({ log: silentLogger, timers });
    t.teardown(() => ticker.stopAll());
    ticker.every('stored-sweep', STORED_SWEEP_INTERVAL_MS, () => hubB.ingestor.sweepStored());
    hubA.state.dead = true;
    await hubA.deliver(7, [a0, b0]);

    await timers.tick(STORED_SWEEP_INTERVAL_MS);
    await hubB.ingestor.flushAcks();
    t.same(hubB.kinds(), ['edge-b:stored', 'edge-b:ack'], 'first sweep: seen, left to the hub that committed it');
    await timers.tick(STORED_SWEEP_INTERVAL_MS);
    await hubB.ingestor.flushAcks();
    t.same(hubB.kinds().slice(2), ['edge-a:stored'], 'second sweep: published, no ack (no delivery asked for one)');
    t.same(hubB.stored()[1]!.summaries, [a0, b0]);
    t.same(await second.listWaitingStored(), []);
    await timers.tick(STORED_SWEEP_INTERVAL_MS);
    await hubB.ingestor.flushAcks();
    t.equal(hubB.stored().length, 2, 'published once');
    t.equal(ticker.errors.count(), 0);
  });
}

t.test('memory store shared by two ingestors', async (t) => {
  crossHubCases(t, async () => {
    const store = createKvSeriesStore({ kv: createMemoryKvStore() });
    return { first: store, second: store };
  });

  t.test('a StoredBatch whose delete is still running is not published again by the next flush of its edge', async (t) => {
    const inner = createKvSeriesStore({ kv: createMemoryKvStore() });
    let releaseDeletes!: () => void;
    const deletesHeld = new Promise<void>((r) => { releaseDeletes = r; });
    const store: SeriesStore = { ...inner, deleteWaitingStored: async (entries) => { await deletesHeld; await inner.deleteWaitingStored(entries); } };
    const h = hub(store);
    const first = h.ingestor.handle('flowbill/v1/isp1/edge-a/summaries', encodeBatch(makeBatch('edge-a', 'isp1', 1, [a0])));
    await first;
    // Acks are published without waiting for the delete; wait for the first one to be out.
    while (h.acks().length < 1) await new Promise((r) => setImmediate(r));
    await h.ingestor.handle('flowbill/v1/isp1/edge-a/summaries', encodeBatch(makeBatch('edge-a', 'isp1', 2, [b0])));
    while (h.acks().length < 2) await new Promise((r) => setImmediate(r));
    t.same(h.kinds(), ['edge-a:stored', 'edge-a:ack', 'edge-a:stored', 'edge-a:ack'], 'seq 1\'s StoredBatch once, though still in the store');
    releaseDeletes();
    await h.ingestor.flushAcks();
    t.same(await inner.listWaitingStored(), []);
  });
});

t.test('PostgreSQL store: two hubs, two pools, one database', async (t) => {
  const server = await startPostgres(t);
  if (!server) return t.pass('skipped: no PostgreSQL on this machine');
  const admin = await createPgPool(server.url, { maxConnections: 1 });
  t.teardown(() => admin.end());
  let n = 0;
  crossHubCases(t, async () => {
    // A fresh database per case: the outbox listing of one case must not see another's entries.
    const name = `cross_hub_${n++}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = server.url.replace(/\/[^/]+$/, `/${name}`);
    const poolA = await createPgPool(url, { maxConnections: 2 });
    const poolB = await createPgPool(url, { maxConnections: 2 });
    t.teardown(async () => { await poolA.end(); await poolB.end(); });
    await migrate(poolA);
    return { first: createPgSeriesStore({ pool: poolA }), second: createPgSeriesStore({ pool: poolB }) };
  });
});
