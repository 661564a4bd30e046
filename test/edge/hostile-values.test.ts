/**
 * Issue 8, hostile values: one bad value must not stop the edge. Ticks run on injected manual
 * timers (no sleeping); MQTT goes to a real aedes broker.
 */
import t from 'tap';
import { createEdge } from '../../edge/create-edge';
import { loadEdgeConfig } from '../../edge/config';
import { createFlowDecoder } from '../../edge/decode/create-flow-decoder';
import type { FlowDecoder } from '../../edge/decode/flow-decoder';
import { systemClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { createManualTimers } from '../../common/ticker';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { edgeTopic } from '../../common/topics';
import { AckStatus, EdgeState, edgeStatusCodec, liveFlowsCodec } from '../../proto/codec';
import { buildV5 } from '../../edge/demo/netflow-v5-writer';
import { createOutbox } from '../../edge/outbox/outbox';
import { createMqttSummaryPublisher } from '../../edge/publish/mqtt-summary-publisher';
import { startTestBroker } from './helpers/test-broker';
import { createFaultyKv } from '../common/helpers/faulty-kv-store';

/** The real decoder, with exporters() reporting hostile numbers and decode throwing on a marker. */
function hostileDecoder(): FlowDecoder {
  const real = createFlowDecoder({ log: silentLogger });
  const d = Object.create(real) as FlowDecoder;
  d.exporters = () => real.exporters().map((e) => ({ ...e, samplingRate: 1.5, packets: Infinity, bytes: -1 }));
  const boom = (datagram: Uint8Array) => { if (datagram.length === 3) throw new TypeError('decoder bug'); };
  d.decode = (dg, ex, now) => { boom(dg); return real.decode(dg, ex, now); };
  if (real.decodeTransient) d.decodeTransient = (dg, ex, now) => { boom(dg); return real.decodeTransient!(dg, ex, now); };
  d.expire = () => { throw new Error('expire bug'); };
  return d;
}

t.test('throwing ingest, throwing tick, sampling 1.5 and Infinity counters: counted, heartbeat and live still go out', async (t) => {
  const broker = await startTestBroker();
  const timers = createManualTimers();
  const config = loadEdgeConfig({ env: {}, overrides: { edgeId: 'h1', tenantId: 'op1', mqttUrl: broker.url, heartbeatIntervalMs: 1000, liveIntervalMs: 1000, checkpointIntervalMs: 1000, closeGraceSec: 0 } });
  const edge = createEdge({ config, clock: systemClock, log: silentLogger, kv: createMemoryKvStore(), listenUdp: false, decoder: hostileDecoder(), timers });
  t.teardown(async () => { await edge.stop(); await broker.close(); });
  await edge.start();
  await broker.waitFor(() => broker.on('/status').length >= 1); // BIRTH: encoded with the hostile exporter list (empty yet)
  t.doesNotThrow(() => edge.ingest(new Uint8Array(3), '192.0.2.1'), 'ingest never throws');
  const nowMs = Date.now();
  edge.ingest(buildV5([{ src: [198, 51, 100, 7], dst: [203, 0, 113, 9], inputIf: 1, outputIf: 2, packets: 9, bytes: 9000, startMs: nowMs - 10, endMs: nowMs }], { nowMs, sequence: 0 }), '192.0.2.1');
  await timers.tick(5000); // decoder-expire throws every 5 s; heartbeat and live every second
  const online = await broker.waitFor(() => broker.on('/status').map((p) => edgeStatusCodec.decode(p.payload)).find((s) => s.state === EdgeState.ONLINE && s.exporters.length === 1));
  t.match(online.exporters[0], { samplingRate: 2, packets: Number.MAX_SAFE_INTEGER, bytes: 0 });
  t.ok(online.counters.internalErrors >= 1, 'the status carries internal_errors');
  const live = await broker.waitFor(() => broker.on('/live').map((p) => liveFlowsCodec.decode(p.payload)).find((l) => l.talkers.length > 0));
  t.equal(live.talkers[0].bytes, 9000);
  t.equal(edge.status().counters.internalErrors, 2, 'one ingest throw + one decoder-expire throw');
  t.equal(edge.status().counters.flowsDecoded, 1, 'the next datagram after the throw was decoded');
});

t.test('REJECTED is counted in the edge status every time and logged at error with the reason (rate-limited)', async (t) => {
  const broker = await startTestBroker();
  const errors: string[] = [];
  const log = { ...silentLogger, error: (_o: object | string, m?: string) => { errors.push(String(m)); }, child: () => log };
  const config = loadEdgeConfig({ env: {}, overrides: { edgeId: 'r1', tenantId: 'op1', mqttUrl: broker.url, liveIntervalMs: 0, closeGraceSec: 0 } });
  const edge = createEdge({ config, clock: systemClock, log, kv: createMemoryKvStore(), listenUdp: false, timers: createManualTimers() });
  t.teardown(async () => { await edge.stop(); await broker.close(); });
  await edge.start();
  const prevBucketMs = Math.floor(Date.now() / 300_000) * 300_000 - 300_000;
  for (let i = 0; i < 2; i++) {
    edge.ingest(buildV5([{ src: [198, 51, 100, 7], dst: [203, 0, 113, 9], inputIf: 1, outputIf: 2, packets: 1, bytes: 100, startMs: prevBucketMs + 1000, endMs: prevBucketMs + 2000 }], { nowMs: Date.now(), sequence: i }), '192.0.2.1');
    await edge.flush();
    const batch = await broker.waitFor(() => broker.batches()[i]);
    await broker.ack(edgeTopic('op1', 'r1', 'ack'), 'r1', batch.seq, AckStatus.REJECTED, `unknown subject ${i}`);
    await broker.waitFor(() => edge.status().counters.batchesRejected === i + 1);
  }
  t.equal(edge.status().counters.outboxDepth, 0);
  // Both counted above; the log line is rate-limited (one per 10 s, the rest summed into the next).
  t.same(errors.filter((m) => /REJECTED/.test(m)).map((m) => /unknown subject \d/.exec(m)?.[0]), ['unknown subject 0']);
});

t.test('the delete after an Ack fails (disk full): no crash; after a restart the batch is resent, DUPLICATE removes it', async (t) => {
  const broker = await startTestBroker();
  t.teardown(() => broker.close());
  const faults = createFaultyKv(createMemoryKvStore());
  const EDGE = 'd1';
  const ackTopic = edgeTopic('op1', EDGE, 'ack');
  async function boot(timers = createManualTimers()) {
    const kv = faults.handle();
    const outbox = createOutbox({ kv, log: silentLogger, edgeId: EDGE, tenantId: 'op1', maxBytes: 1e9, batchMaxSummaries: 10 });
    await outbox.load();
    const publisher = createMqttSummaryPublisher({
      config: { edgeId: EDGE, tenantId: 'op1', mqttUrl: broker.url, mqttUsername: '', mqttPassword: '', heartbeatIntervalMs: 1000, ackTimeoutMs: 60_000, maxInFlightBatches: 4 },
      outbox, kv, clock: systemClock, log: silentLogger, timers,
      status: () => ({ counters: {} as never, exporters: [], configVersion: 0, collectionPaused: false }),
      onConfig: () => {}, reconnectPeriodMs: 100,
    });
    return { kv, outbox, publisher, timers };
  }
  const a = await boot();
  const staged = a.outbox.stage([{ subjectId: 'if:192.0.2.1/1', subjectKind: 1, bucketStartSec: 1_700_000_100, durationSec: 300, bytesIn: 5, bytesOut: 0, packetsIn: 1, packetsOut: 0, flowsIn: 1, flowsOut: 0, revision: 0 }], Date.now());
  await a.kv.write(staged.ops);
  staged.commit();
  await a.publisher.start();
  const [seq] = staged.seqs;
  await broker.waitFor(() => broker.batches().length === 1);
  faults.onlyFail((ops) => ops.every((op) => op.type === 'del'));
  faults.failWrites(true);
  await broker.ack(ackTopic, EDGE, seq, AckStatus.STORED);
  await broker.waitFor(() => a.publisher.stats().ackRemoveErrors === 1);
  await a.timers.tick(3000); // retry ticks while the disk is still full: still no crash
  t.equal(a.publisher.stats().internalErrors, 0);
  t.equal((await collect(faults.backing, prefixRange('outbox/batch/'))).length, 1, 'the acked batch is still on disk');
  await a.publisher.stop();
  // Restart with space back: the batch goes out again and the hub's DUPLICATE removes it.
  faults.failWrites(false);
  const b = await boot();
  t.teardown(() => b.publisher.stop());
  await b.publisher.start();
  await broker.waitFor(() => broker.batches().length === 2);
  t.equal(broker.batches()[1].seq, seq, 'resent with the same seq');
  await broker.ack(ackTopic, EDGE, seq, AckStatus.DUPLICATE);
  await broker.waitFor(() => b.outbox.stats().depth === 0);
  for (let i = 0; i < 50 && (await collect(faults.backing, prefixRange('outbox/batch/'))).length > 0; i++) await new Promise((r) => setImmediate(r));
  t.equal((await collect(faults.backing, prefixRange('outbox/batch/'))).length, 0, 'gone from disk');
});
