import t, { type Test } from 'tap';
import { createMqttSummaryPublisher } from '../../../edge/publish/mqtt-summary-publisher';
import { createOutbox } from '../../../edge/outbox/outbox';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { systemClock } from '../../../common/clock';
import { AckStatus, EdgeState, SubjectKind, edgeStatusCodec, edgeConfigCodec, emptyCounters, type EdgeConfig } from '../../../proto/codec';
import { edgeTopic } from '../../../common/topics';
import { startTestBroker } from '../helpers/test-broker';

const EDGE = 'e1';
const TENANT = 'op1';
const ackTopic = edgeTopic(TENANT, EDGE, 'ack');

async function setup(t: Test, over: { ackTimeoutMs?: number; maxInFlightBatches?: number } = {}) {
  const broker = await startTestBroker();
  const kv = createMemoryKvStore();
  const outbox = createOutbox({ kv, log: silentLogger, edgeId: EDGE, tenantId: TENANT, maxBytes: 1e9, batchMaxSummaries: 1 });
  await outbox.load();
  const configs: EdgeConfig[] = [];
  const makePublisher = () => createMqttSummaryPublisher({
    config: { edgeId: EDGE, tenantId: TENANT, mqttUrl: broker.url, mqttUsername: '', mqttPassword: '', heartbeatIntervalMs: 100_000, ackTimeoutMs: over.ackTimeoutMs ?? 60_000, maxInFlightBatches: over.maxInFlightBatches ?? 16 },
    outbox, kv, clock: systemClock, log: silentLogger,
    status: () => ({ counters: { ...emptyCounters(), outboxDepth: outbox.stats().depth }, exporters: [], configVersion: 0, collectionPaused: false }),
    onConfig: (c) => configs.push(c),
    reconnectPeriodMs: 100,
  });
  const publisher = makePublisher();
  t.teardown(async () => { await publisher.stop(); await broker.close(); });
  async function append(n: number) {
    const summaries = Array.from({ length: n }, (_, i) => ({
      subjectId: `if:192.0.2.1/${i + 1}`, subjectKind: SubjectKind.INTERFACE, bucketStartSec: 1_700_000_100, durationSec: 300,
      bytesIn: 100 * (i + 1), bytesOut: 0, packetsIn: 1, packetsOut: 0, flowsIn: 1, flowsOut: 0, revision: 0,
    }));
    const staged = outbox.stage(summaries, Date.now());
    await kv.write(staged.ops);
    staged.commit();
    return staged.seqs;
  }
  return { broker, kv, outbox, publisher, append, configs, makePublisher };
}

t.test('BIRTH on connect; batches stay in the outbox after PUBACK until the hub Acks', async (t) => {
  const { broker, outbox, publisher, append } = await setup(t);
  await publisher.start();
  const birth = await broker.waitFor(() => broker.on('/status')[0]);
  const status = edgeStatusCodec.decode(birth.payload);
  t.equal(status.state, EdgeState.BIRTH);
  t.equal(status.session, 1);
  t.ok(birth.retain, 'status is retained');
  const seqs = await append(3);
  await broker.waitFor(() => broker.batches().length === 3);
  await new Promise((r) => setTimeout(r, 200)); // PUBACKs are long done
  t.same([...outbox.seqs()], seqs, 'PUBACK alone deletes nothing');
  await broker.ack(ackTopic, EDGE, seqs[0], AckStatus.STORED);
  await broker.ack(ackTopic, EDGE, seqs[1], AckStatus.DUPLICATE);
  await broker.waitFor(() => outbox.stats().depth === 1);
  t.same([...outbox.seqs()], [seqs[2]]);
  t.equal(publisher.stats().batchesAcked, 2);
});

t.test('REJECTED is dropped and counted; malformed acks are counted, never thrown', async (t) => {
  const { broker, outbox, publisher, append } = await setup(t);
  await publisher.start();
  const [seq] = await append(1);
  await broker.waitFor(() => broker.batches().length === 1);
  await broker.publish(ackTopic, Buffer.from([0xff, 0xff, 0xff]));
  await broker.ack(ackTopic, 'other-edge', seq, AckStatus.STORED);
  await broker.ack(ackTopic, EDGE, seq, AckStatus.REJECTED, 'unknown subject');
  await broker.waitFor(() => outbox.stats().depth === 0);
  t.equal(publisher.stats().batchesRejected, 1);
  t.equal(publisher.stats().batchesAcked, 0);
  t.equal(publisher.stats().malformedAcks, 2);
});

t.test('unacked batches are resent after a reconnect, with a new session', async (t) => {
  const { broker, outbox, publisher, append } = await setup(t);
  await publisher.start();
  const seqs = await append(2);
  await broker.waitFor(() => broker.batches().length === 2);
  await broker.ack(ackTopic, EDGE, seqs[0]);
  await broker.waitFor(() => outbox.stats().depth === 1);
  broker.dropConnections();
  await broker.waitFor(() => broker.on('/status').length >= 2 && broker.batches().filter((b) => b.seq === seqs[1]).length >= 2);
  const births = broker.on('/status').map((p) => edgeStatusCodec.decode(p.payload)).filter((s) => s.state === EdgeState.BIRTH);
  t.same(births.map((b) => b.session), [1, 2], 'session counter incremented on reconnect');
  t.same(broker.batches().filter((b) => b.seq === seqs[0]).length, 1, 'acked batch not resent');
  await broker.ack(ackTopic, EDGE, seqs[1]);
  await broker.waitFor(() => outbox.stats().depth === 0);
  t.pass('acked after resend');
});

t.test('ack timeout resends; the in-flight window bounds unacked publishes', async (t) => {
  const { broker, outbox, publisher, append } = await setup(t, { ackTimeoutMs: 300, maxInFlightBatches: 2 });
  await publisher.start();
  const seqs = await append(4);
  await broker.waitFor(() => broker.batches().length >= 2);
  await new Promise((r) => setTimeout(r, 100));
  t.same(broker.batches().map((b) => b.seq), seqs.slice(0, 2), 'only the window is out');
  await broker.waitFor(() => broker.batches().filter((b) => b.seq === seqs[0]).length >= 2, 5000);
  t.pass('resent after the ack timeout');
  for (const s of seqs) await broker.ack(ackTopic, EDGE, s);
  await broker.waitFor(() => outbox.stats().depth === 0 || undefined);
  // Batches 3 and 4 go out once 1 and 2 are acked (they may be acked before being sent: fine).
  t.equal(outbox.stats().depth, 0);
});

t.test('config topic: valid configs delivered, garbage counted', async (t) => {
  const { broker, publisher, configs } = await setup(t);
  const cfgTopic = edgeTopic(TENANT, EDGE, 'config');
  await broker.publish(cfgTopic, edgeConfigCodec.encode({ version: 7, collectionPaused: true, pauseReason: 'trial over', allInterfaces: true, interfaces: [], ipGroups: [] }), true);
  await publisher.start();
  await broker.waitFor(() => configs.length === 1);
  t.match(configs[0], { version: 7, collectionPaused: true });
  await broker.publish(cfgTopic, Buffer.from([0x0a, 0xff]));
  await broker.waitFor(() => publisher.stats().malformedConfigs === 1);
  t.pass();
});

t.test('clean stop publishes OFFLINE retained', async (t) => {
  const { broker, publisher } = await setup(t);
  await publisher.start();
  await broker.waitFor(() => broker.on('/status').length === 1);
  await publisher.stop({ publishOffline: true });
  const last = broker.on('/status').at(-1)!;
  t.equal(edgeStatusCodec.decode(last.payload).state, EdgeState.OFFLINE);
  t.ok(last.retain);
});
