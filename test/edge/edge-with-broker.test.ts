/** createEdge wired to a real aedes broker: batches, acks, heartbeat counters, live flows, config. */
import t from 'tap';
import { createEdge } from '../../edge/create-edge';
import { loadEdgeConfig } from '../../edge/config';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { edgeTopic } from '../../common/topics';
import { AckStatus, EdgeState, edgeConfigCodec, edgeStatusCodec, liveFlowsCodec } from '../../proto/codec';
import { buildV5 } from '../../edge/demo/netflow-v5-writer';
import { startTestBroker } from './helpers/test-broker';

t.test('edge ↔ broker: summaries acked out of the outbox, ONLINE heartbeat with counters, live top talkers, pushed config', async (t) => {
  const broker = await startTestBroker();
  const config = loadEdgeConfig({ env: {}, overrides: {
    edgeId: 'e2', tenantId: 'op1', mqttUrl: broker.url, udpHost: '127.0.0.1', udpPort: 0, sflowPort: 0,
    heartbeatIntervalMs: 200, liveIntervalMs: 200, checkpointIntervalMs: 200, closeGraceSec: 0,
  } });
  const edge = createEdge({ config, clock: systemClock, log: silentLogger, kv: createMemoryKvStore(), listenUdp: false });
  t.teardown(async () => { await edge.stop(); await broker.close(); });
  await edge.start();
  const nowMs = Date.now();
  const prevBucketMs = Math.floor(nowMs / 300_000) * 300_000 - 300_000; // closes at the next flush (grace 0)
  edge.ingest(buildV5([
    { src: [198, 51, 100, 7], dst: [203, 0, 113, 9], inputIf: 1, outputIf: 2, packets: 9, bytes: 90_000, startMs: prevBucketMs + 1000, endMs: prevBucketMs + 2000 },
    { src: [198, 51, 100, 8], dst: [203, 0, 113, 9], inputIf: 1, outputIf: 2, packets: 1, bytes: 100, startMs: prevBucketMs + 1000, endMs: prevBucketMs + 2000 },
  ], { nowMs, sequence: 0 }), '192.0.2.1');

  const batch = await broker.waitFor(() => broker.batches()[0]);
  t.same(batch.summaries.map((s) => [s.subjectId, s.bytesIn, s.bytesOut]).sort(), [['if:192.0.2.1/1', 90_100, 0], ['if:192.0.2.1/2', 0, 90_100]]);
  t.equal(edge.status().counters.outboxDepth, 1, 'kept until the hub acks');
  await broker.ack(edgeTopic('op1', 'e2', 'ack'), 'e2', batch.seq, AckStatus.STORED);
  await broker.waitFor(() => edge.status().counters.outboxDepth === 0);

  const online = await broker.waitFor(() => broker.on('/status').map((p) => edgeStatusCodec.decode(p.payload)).find((s) => s.state === EdgeState.ONLINE && s.counters.batchesAcked === 1));
  t.match(online, { edgeId: 'e2', tenantId: 'op1', session: 1, counters: { packetsReceived: 1, flowsDecoded: 2 } });
  t.equal(online.exporters[0]?.address, '192.0.2.1');

  // Live flows are best effort: a window that ended before the MQTT connection was up is gone.
  edge.ingest(buildV5([
    { src: [198, 51, 100, 7], dst: [203, 0, 113, 9], inputIf: 1, outputIf: 2, packets: 9, bytes: 90_000, startMs: nowMs, endMs: nowMs + 1 },
  ], { nowMs, sequence: 2 }), '192.0.2.1');
  const live = await broker.waitFor(() => broker.on('/live').map((p) => liveFlowsCodec.decode(p.payload)).find((l) => l.talkers.length > 0));
  t.match(live.talkers[0], { src: '198.51.100.7', dst: '203.0.113.9', bytes: 90_000 });
  t.equal(broker.on('/live')[0].qos, 0, 'live flows are QoS 0');

  await broker.publish(edgeTopic('op1', 'e2', 'config'), edgeConfigCodec.encode({ version: 5, collectionPaused: true, pauseReason: 'trial', allInterfaces: true, interfaces: [], ipGroups: [] }), true);
  await broker.waitFor(() => edge.status().collectionPaused);
  edge.ingest(buildV5([{ src: [1, 1, 1, 1], dst: [2, 2, 2, 2], inputIf: 1, outputIf: 2, packets: 1, bytes: 1, startMs: nowMs, endMs: nowMs }], { nowMs, sequence: 3 }), '192.0.2.1');
  t.equal(edge.status().pausedFlows, 1);
  const paused = await broker.waitFor(() => broker.on('/status').map((p) => edgeStatusCodec.decode(p.payload)).find((s) => s.configVersion === 5));
  t.equal(paused.collectionPaused, true, 'heartbeat reports the pause');
});
