/**
 * Several hubs behind one Mosquitto: the hubs' MQTT clients (hub/broker/hub-mqtt-client.ts) share the
 * summaries through $share/<group>/... (hub/broker/hub-subscriptions.ts). What Mosquitto 2.0 does when a
 * member dies, as these tests pin down (hub/broker/README.md, "Several hubs"):
 * - it deals messages round robin over the members whose SESSION exists, connected or not: a killed
 *   hub keeps taking its share, queued in its session, until the session expires;
 * - a member back with the same client id before expiry gets what was in flight and queued for it;
 * - at expiry, what was in flight or queued for it is dropped, never handed to another member: the
 *   edge's outbox (it resends until the hub's application ack) recovers those batches.
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { silentLogger } from '../../../common/logger';
import { createHubMqttClient } from '../../../hub/broker/hub-mqtt-client';
import { sharedHubSubscriptions } from '../../../hub/broker/hub-subscriptions';
import { hasMosquitto, startMosquitto, startRelay } from '../../helpers/mosquitto';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { loadHubConfig } from '../../../hub/config';
import { createHub } from '../../../hub/create-hub';
import { ackCodec, AckStatus } from '../../../proto/codec';
import { encodeBatch, makeBatch, makeSummary } from './ingest-fixtures';

const skip = hasMosquitto ? false : 'mosquitto not installed';
const TOPIC = 'flowbill/v1/isp1/edge-0a0b0c0d0e0f/summaries';
const filters = sharedHubSubscriptions('flowbill-hubs');

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A hub's MQTT client that records what it handled; `hangAt` makes its n-th message hang (a crash mid-ingest). */
function hubClient(t: Test, url: string, clientId: string, handled: Map<string, string[]>, opts: { hangAt?: number; sessionExpirySec: number }) {
  const seen: string[] = [];
  const client = createHubMqttClient({
    url, clientId, sessionExpirySec: opts.sessionExpirySec, log: silentLogger,
    async onMessage(topic, payload) {
      if (topic !== TOPIC) return;
      const id = Buffer.from(payload).toString();
      seen.push(id);
      if (seen.length === opts.hangAt) return new Promise<void>(() => {});
      handled.set(id, [...(handled.get(id) ?? []), clientId]);
    },
  });
  t.teardown(() => client.close());
  return { client, seen };
}

async function publisher(t: Test, port: number) {
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'edge-publisher', reconnectPeriod: 0 });
  t.teardown(() => pub.end(true));
  return async (ids: number[]) => { for (const i of ids) await pub.publishAsync(TOPIC, String(i), { qos: 1 }); };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const handledOnce = (handled: Map<string, string[]>) => [...handled.values()].every((by) => by.length === 1);

t.test('two hubs share the summaries: each batch handled by one of them; status reaches both', { skip }, async (t) => {
  const { ports: [port] } = await startMosquitto(t, { lines: ['allow_anonymous true'] });
  const handled = new Map<string, string[]>();
  const a = hubClient(t, `mqtt://127.0.0.1:${port}`, 'hub-a', handled, { sessionExpirySec: 60 });
  const b = hubClient(t, `mqtt://127.0.0.1:${port}`, 'hub-b', handled, { sessionExpirySec: 60 });
  await a.client.connect(filters);
  await b.client.connect(filters);
  const publish = await publisher(t, port);
  await publish(range(0, 100));
  await until('100 batches handled', () => handled.size === 100);
  t.ok(handledOnce(handled), 'no batch handled twice');
  t.same([...handled.keys()].map(Number).sort((x, y) => x - y), range(0, 100));
  t.ok(a.seen.length > 0 && b.seen.length > 0, `both hubs took a share (a ${a.seen.length}, b ${b.seen.length})`);
  t.equal(a.seen.length + b.seen.length, 100, 'and no batch reached both');
});

t.test('a hub killed mid-ingest and back with the same client id within the session expiry gets its batches back', { skip }, async (t) => {
  const { ports: [port] } = await startMosquitto(t, { lines: ['allow_anonymous true'] });
  const relay = await startRelay(t, port);
  const handled = new Map<string, string[]>();
  const a = hubClient(t, `mqtt://127.0.0.1:${relay.port}`, 'hub-a', handled, { hangAt: 10, sessionExpirySec: 60 });
  const b = hubClient(t, `mqtt://127.0.0.1:${port}`, 'hub-b', handled, { sessionExpirySec: 60 });
  await a.client.connect(filters);
  await b.client.connect(filters);
  const publish = await publisher(t, port);
  await publish(range(0, 40));
  await until('hub a hangs on its 10th batch, hub b handled its 20', () => a.seen.length === 10 && [...handled.values()].filter((by) => by[0] === 'hub-b').length === 20);
  const inFlightAtKill = new Set(a.seen);
  relay.kill(); // the socket dies with no DISCONNECT: a killed process
  await publish(range(40, 60)); // round robin still deals hub a its share, into its session
  const restarted = hubClient(t, `mqtt://127.0.0.1:${port}`, 'hub-a', handled, { sessionExpirySec: 60 });
  await restarted.client.connect(filters);
  await publish(range(60, 100));
  await until('100 batches handled', () => handled.size === 100);
  // QoS 1 is at least once: a batch hub a handled whose PUBACK died with its socket comes back (the
  // store's dedup keeps it once). Only those may be handled twice; nothing else is.
  const twice = [...handled].filter(([, by]) => by.length > 1).map(([id]) => id);
  t.same(twice.filter((id) => !inFlightAtKill.has(id)), [], `handled twice only if hub a had it when killed (${twice.length} redelivered)`);
  t.ok(restarted.seen.includes(a.seen[9]), 'the batch hub a was ingesting when killed came back to it');
  t.equal(handled.get(a.seen[9])?.[0], 'hub-a');
  t.equal([...handled.values()].filter((by) => by[0] === 'hub-b').length, 50, 'hub b took only its own half throughout: nothing of hub a\'s moved to it');
});

t.test('a hub killed for good: after its session expires the others take everything; what it held comes back through the edge resending', { skip }, async (t) => {
  const { ports: [port] } = await startMosquitto(t, { lines: ['allow_anonymous true'] });
  const relay = await startRelay(t, port);
  const handled = new Map<string, string[]>();
  const a = hubClient(t, `mqtt://127.0.0.1:${relay.port}`, 'hub-a', handled, { hangAt: 10, sessionExpirySec: 1 });
  const b = hubClient(t, `mqtt://127.0.0.1:${port}`, 'hub-b', handled, { sessionExpirySec: 1 });
  await a.client.connect(filters);
  await b.client.connect(filters);
  const publish = await publisher(t, port);
  await publish(range(0, 40));
  await until('hub a hangs on its 10th batch, hub b handled its 20', () => a.seen.length === 10 && [...handled.values()].filter((by) => by[0] === 'hub-b').length === 20);
  relay.kill();
  await new Promise((r) => setTimeout(r, 2500)); // the session expiry (1 s) runs on the broker's clock, checked about once a second
  await publish(range(40, 100));
  await until('hub b handled the 60 published after hub a\'s session expired', () => range(40, 100).every((i) => handled.has(String(i))));
  t.ok(range(40, 100).every((i) => handled.get(String(i))?.[0] === 'hub-b'), 'all of them by hub b');
  const lost = range(0, 40).filter((i) => !handled.has(String(i)));
  t.same(lost.length, 20 - 9, 'mosquitto dropped what was in flight or queued for hub a (its half of the first 40, but the 9 it handled)');
  t.ok(lost.includes(Number(a.seen[9])), 'including the batch it was ingesting');
  // The edge never got an application ack for those: its outbox resends them, and they reach hub b.
  await publish(lost);
  await until('the resent batches handled', () => handled.size === 100);
  t.ok(handledOnce(handled), 'each batch handled exactly once across the hubs');
});

t.test('two hubs (createHub) on one store behind mosquitto: each batch ingested by one of them, acked once', { skip }, async (t) => {
  const { ports: [port] } = await startMosquitto(t, { lines: ['allow_anonymous true'] });
  const nowMs = Date.UTC(2026, 10, 3, 12);
  const kv = createMemoryKvStore(); // stands for the one database the hubs share (PostgreSQL in production)
  const hubs = ['hub-1', 'hub-2'].map((hubId) => createHub({
    config: loadHubConfig({}, { httpPort: 0, mqttPort: 0, externalMqttUrl: `mqtt://127.0.0.1:${port}`, hubId, adminPassword: 'admin-pw', jobsEnabled: false }),
    kv, clock: createManualClock(nowMs), log: silentLogger,
  }));
  await hubs[0].services.identity.createOperator('isp1', 'ISP 1', nowMs);
  const a = await hubs[0].services.edges.createEdge('isp1', 'pop-a');
  for (const hub of hubs) { await hub.start(); t.teardown(() => hub.stop()); }
  const edge = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `flowbill-edge-isp1-${a.edge.edgeId}`, reconnectPeriod: 0 });
  t.teardown(() => edge.end(true));
  const base = `flowbill/v1/isp1/${a.edge.edgeId}`;
  const acks: number[] = [];
  edge.on('message', (topic, payload) => { if (topic === `${base}/ack`) acks.push(ackCodec.decode(payload).status); });
  await edge.subscribeAsync(`${base}/ack`, { qos: 1 });
  const bucket = nowMs / 1000 - 3600;
  for (let seq = 1; seq <= 20; seq++) {
    await edge.publishAsync(`${base}/summaries`, Buffer.from(encodeBatch(makeBatch(a.edge.edgeId, 'isp1', seq, [makeSummary(`if:10.9.9.${seq}/1`, bucket, 1000 + seq)]))), { qos: 1 });
  }
  await until('20 acks', () => acks.length >= 20);
  await new Promise((r) => setTimeout(r, 200));
  t.same(acks, Array(20).fill(AckStatus.STORED), 'one STORED ack per batch, none twice');
  const stored = hubs.map((h) => h.services.ingestor.counters().batchesStored);
  t.equal(stored[0] + stored[1], 20, `the batches split between the hubs (${stored.join(' + ')})`);
  t.ok(stored[0] > 0 && stored[1] > 0, 'both took a share');
  const total = (await Promise.all(range(1, 21).map((seq) => hubs[1].services.seriesReader.readSeries('isp1', `if:10.9.9.${seq}/1`, bucket, bucket + 300))))
    .flat().reduce((sum, p) => sum + p.bytesIn, 0);
  t.equal(total, range(1, 21).reduce((sum, seq) => sum + 1000 + seq, 0), 'every byte stored once');
});
