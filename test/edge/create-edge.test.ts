import t from 'tap';
import { createEdge } from '../../edge/create-edge';
import { loadEdgeConfig } from '../../edge/config';
import { createManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { collect, prefixRange, type KeyValueStore } from '../../common/kv/kv-store';
import { summaryBatchCodec, type EdgeConfig } from '../../proto/codec';
import { buildV5 } from '../../edge/demo/netflow-v5-writer';

const T0 = 1_700_000_100_000; // bucket start
const config = loadEdgeConfig({ env: {}, overrides: { edgeId: 'e1', tenantId: 'op1', closeGraceSec: 60, liveIntervalMs: 0 } });

function datagram(nowMs: number, bytes: number, seq: number) {
  return buildV5([{ src: [198, 51, 100, 1], dst: [203, 0, 113, 9], inputIf: 1, outputIf: 2, packets: 3, bytes, startMs: nowMs - 2000, endMs: nowMs - 1000 }], { nowMs, sequence: seq });
}

async function outboxBytesIn(kv: KeyValueStore) {
  let total = 0;
  for (const [, v] of await collect(kv, prefixRange('outbox/batch/'))) for (const s of summaryBatchCodec.decode(v).summaries) total += s.bytesIn;
  return total;
}

t.test('datagrams → checkpoint → restart → close into the outbox, exact totals', async (t) => {
  const kv = createMemoryKvStore();
  const clock = createManualClock(T0 + 10_000);
  const edge = createEdge({ config, clock, log: silentLogger, kv, listenUdp: false, publish: false });
  await edge.start();
  edge.ingest(datagram(clock.nowMs(), 1000, 0), '192.0.2.1');
  await edge.flush();
  edge.ingest(datagram(clock.nowMs(), 555, 1), '192.0.2.1'); // after the checkpoint: lost by a "crash"
  await edge.stop();
  // stop() flushed too; simulate a crash instead by restarting from a store without the last flush:
  const kv2 = createMemoryKvStore();
  {
    const e = createEdge({ config, clock, log: silentLogger, kv: kv2, listenUdp: false, publish: false });
    await e.start();
    e.ingest(datagram(clock.nowMs(), 1000, 0), '192.0.2.1');
    await e.flush();
    e.ingest(datagram(clock.nowMs(), 555, 1), '192.0.2.1'); // never checkpointed
  }
  const restarted = createEdge({ config, clock, log: silentLogger, kv: kv2, listenUdp: false, publish: false });
  await restarted.start();
  clock.setMs(T0 + 300_000 + 60_000);
  await restarted.flush();
  t.equal(await outboxBytesIn(kv2), 1000, 'what was checkpointed, once');
  await restarted.flush();
  t.equal(await outboxBytesIn(kv2), 1000, 'a second flush adds nothing');
  t.equal(restarted.status().counters.outboxDepth, 1);
  // The cleanly stopped edge closes everything it saw.
  const again = createEdge({ config, clock, log: silentLogger, kv, listenUdp: false, publish: false });
  await again.start();
  await again.flush();
  t.equal(await outboxBytesIn(kv), 1555);
});

t.test('collection config: persisted, used after restart; paused stops aggregating and counts', async (t) => {
  const kv = createMemoryKvStore();
  const clock = createManualClock(T0 + 10_000);
  const edge = createEdge({ config, clock, log: silentLogger, kv, listenUdp: false, publish: false });
  await edge.start();
  const paused: EdgeConfig = { version: 3, collectionPaused: true, pauseReason: 'trial expired', allInterfaces: false, interfaces: [], ipGroups: [{ name: 'cust', prefixes: ['203.0.113.0/24'] }] };
  await edge.applyCollectionConfig(paused);
  edge.ingest(datagram(clock.nowMs(), 1000, 0), '192.0.2.1');
  t.equal(edge.status().pausedFlows, 1);
  await edge.stop();

  const restarted = createEdge({ config, clock, log: silentLogger, kv, listenUdp: false, publish: false });
  await restarted.start();
  t.match(restarted.status(), { configVersion: 3, collectionPaused: true });
  await restarted.applyCollectionConfig({ ...paused, version: 4, collectionPaused: false });
  restarted.ingest(datagram(clock.nowMs(), 700, 1), '192.0.2.1');
  clock.setMs(T0 + 400_000);
  await restarted.flush();
  const summaries = (await collect(kv, prefixRange('outbox/batch/'))).flatMap(([, v]) => summaryBatchCodec.decode(v).summaries);
  t.same(summaries.map((s) => [s.subjectId, s.bytesIn, s.bytesOut]), [['ipg:cust', 700, 0]], 'only the configured group; interfaces not listed');
});

t.test('unclassified flows are counted', async (t) => {
  const kv = createMemoryKvStore();
  const clock = createManualClock(T0 + 10_000);
  const edge = createEdge({ config, clock, log: silentLogger, kv, listenUdp: false, publish: false });
  await edge.start();
  await edge.applyCollectionConfig({ version: 1, collectionPaused: false, pauseReason: '', allInterfaces: false, interfaces: [], ipGroups: [] });
  edge.ingest(datagram(clock.nowMs(), 1000, 0), '192.0.2.1');
  t.equal(edge.status().counters.unclassifiedFlows, 1);
  t.equal(edge.status().counters.flowsDecoded, 1);
  await edge.stop();
});

t.test('a failed checkpoint write loses nothing: the closed buckets go out with the next flush', async (t) => {
  const inner = createMemoryKvStore();
  let failNext = false;
  const kv = { ...inner, async write(ops: Parameters<typeof inner.write>[0]) { if (failNext) { failNext = false; throw new Error('disk full'); } return inner.write(ops); } };
  const clock = createManualClock(T0 + 10_000);
  const edge = createEdge({ config, clock, log: silentLogger, kv, listenUdp: false, publish: false });
  await edge.start();
  edge.ingest(datagram(clock.nowMs(), 4321, 0), '192.0.2.1');
  clock.setMs(T0 + 400_000);
  failNext = true;
  await edge.flush();
  t.equal(await outboxBytesIn(inner), 0, 'nothing written');
  await edge.flush();
  t.equal(await outboxBytesIn(inner), 4321, 'written by the retry, once');
  await edge.flush();
  t.equal(await outboxBytesIn(inner), 4321);
  const restarted = createEdge({ config, clock, log: silentLogger, kv: inner, listenUdp: false, publish: false });
  await restarted.start();
  await restarted.flush();
  t.equal(await outboxBytesIn(inner), 4321, 'the closed bucket is not open on disk any more');
  await edge.stop();
});
