/**
 * Issue 9, billing truth for third-party consumers. The hole: a read-only consumer could subscribe
 * only to `summaries`, the edges' raw input, which also carries what the hub refused (REJECTED,
 * deferred, oversized batches, refused summaries, re-sent identities with other counts), and could
 * not see acks: its totals diverged from the hub's. Now the hub republishes what it STORED on
 * flowbill/v1/<tenant>/<edge>/stored (StoredBatch), and the sum over distinct content identities
 * there equals the hub's series to the byte. Only the hub writes that topic.
 *
 * Against the real hub (every module, embedded aedes): an edge and a consumer provisioned through
 * the API, the edge's batches published with mqtt.js, the hub's totals read through the series API.
 */
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { createHubModules } from '../../hub/hub-modules';
import { ackCodec, AckStatus, storedBatchCodec, summaryBatchCodec, type Ack, type Summary } from '../../proto/codec';
import { encodeBatch, makeBatch, makeSummary } from '../hub/spine/ingest-fixtures';
import { grantedQos, startTestHub, waitForClose } from '../hub/spine/hub-harness';

const NOW_MS = Date.UTC(2026, 10, 3, 12);
const TRIAL_START_SEC = NOW_MS / 1000;
/** The n-th bucket after the NetFlow trial started (collection allowed from there). */
const B = (n: number) => TRIAL_START_SEC + 300 * n;
const COUNT_FIELDS = ['bytesIn', 'bytesOut', 'packetsIn', 'packetsOut', 'flowsIn', 'flowsOut'] as const;
type Counts = Record<(typeof COUNT_FIELDS)[number], number>;
const identity = (edgeId: string, s: Summary) => `${edgeId}|${s.bucketStartSec}|${s.revision}|${s.subjectId}`;

async function setup(t: Test) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-consumer-stream-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  // A small payload limit, so that an oversized batch is easy to make.
  const h = await startTestHub({ nowMs: NOW_MS, modules: createHubModules, config: { dataDir, ingestMaxPayloadBytes: 4096 } });
  t.teardown(() => h.close());
  for (const id of ['isp1', 'isp2']) {
    t.equal((await h.admin('POST', '/api/v1/operators', { operatorId: id, name: id })).status, 201);
    await h.admin('PUT', `/api/v1/operators/${id}/active-customers`, { count: 900 });
    t.equal((await h.admin('POST', `/api/v1/operators/${id}/addons/netflow/start-trial`)).status, 200);
  }
  h.clock.advanceMs(3 * 3_600_000); // buckets B(0)..B(35) have ended; B(-1) is before the trial
  const edgeA = (await h.admin('POST', '/api/v1/operators/isp1/edges', { name: 'pop-a' })).body;
  const edgeC = (await h.admin('POST', '/api/v1/operators/isp2/edges', { name: 'pop-c' })).body;
  const consumerA = (await h.admin('POST', '/api/v1/operators/isp1/consumers', { name: 'billing export' })).body.credentials;
  const consumerC = (await h.admin('POST', '/api/v1/operators/isp2/consumers', { name: 'isp2 export' })).body.credentials;

  /** A consumer as a billing system runs it: fixed client id, persistent session (clean=false), QoS 1. */
  async function connectConsumer(creds: { username: string; password: string }, opts: { clean?: boolean; suffix?: string } = {}): Promise<MqttClient> {
    const clientId = `${creds.username}-${opts.suffix ?? 'bill'}`;
    const c = await mqtt.connectAsync(h.mqttUrl, { username: creds.username, password: creds.password, clientId, clean: opts.clean ?? false, reconnectPeriod: 0 });
    t.teardown(() => c.end(true));
    return c;
  }

  /** The edge: publishes batches and collects its acks. */
  async function connectEdge(creds = edgeA.credentials) {
    const client = await h.connect(creds.username, creds.password);
    const base = `flowbill/v1/${creds.tenantId}/${creds.edgeId}`;
    const acks: Ack[] = [];
    let notify = () => {};
    client.on('message', (topic, payload) => { if (topic === `${base}/ack`) { acks.push(ackCodec.decode(payload)); notify(); } });
    await client.subscribeAsync(`${base}/ack`, { qos: 1 });
    const publish = (payload: Uint8Array) => client.publishAsync(`${base}/summaries`, Buffer.from(payload), { qos: 1 });
    /** Publishes and resolves with the ack of that seq (the n-th one, for a redelivery). */
    async function deliver(seq: number, summaries: Summary[], nth = 1): Promise<Ack> {
      await publish(encodeBatch(makeBatch(creds.edgeId, creds.tenantId, seq, summaries)));
      for (;;) {
        const got = acks.filter((a) => a.seq === seq);
        if (got.length >= nth) return got[nth - 1]!;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ack for seq ${seq}`)), 10_000);
          notify = () => { clearTimeout(timer); resolve(); };
        });
      }
    }
    return { client, base, acks, publish, deliver };
  }
  return { h, edgeA, edgeC, consumerA, consumerC, connectConsumer, connectEdge };
}

/** What a consumer gets on its subscriptions, decoded; `until` resolves once a predicate holds. */
function collectMessages(client: MqttClient) {
  const stored: { edgeId: string; summaries: Summary[] }[] = [];
  const raw: { edgeId: string; summaries: Summary[] }[] = [];
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  client.on('message', (topic, payload) => {
    const kind = topic.split('/').pop();
    if (kind === 'stored') stored.push(storedBatchCodec.decode(payload));
    if (kind === 'summaries') raw.push(summaryBatchCodec.decode(payload));
    for (const w of [...waiters]) if (w.check()) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  const until = (check: () => boolean, what: string) => (check() ? Promise.resolve() : new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumer never saw ${what}`)), 10_000);
    waiters.push({ check, resolve: () => { clearTimeout(timer); resolve(); } });
  }));
  return { stored, raw, until };
}

/** A consumer's totals: per subject and bucket, summed over DISTINCT content identities (first seen kept). */
function totalsOverIdentities(batches: { edgeId: string; summaries: Summary[] }[]) {
  const seen = new Map<string, Summary>();
  let conflicting = 0;
  for (const b of batches) {
    for (const s of b.summaries) {
      const id = identity(b.edgeId, s);
      const first = seen.get(id);
      if (!first) seen.set(id, s);
      else if (COUNT_FIELDS.some((f) => first[f] !== s[f])) conflicting++;
    }
  }
  const totals = new Map<string, Map<number, Counts>>();
  for (const s of seen.values()) {
    let bySubject = totals.get(s.subjectId);
    if (!bySubject) totals.set(s.subjectId, (bySubject = new Map()));
    const c = bySubject.get(s.bucketStartSec) ?? { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, flowsIn: 0, flowsOut: 0 };
    for (const f of COUNT_FIELDS) c[f] += s[f];
    bySubject.set(s.bucketStartSec, c);
  }
  return { totals, identities: new Set(seen.keys()), conflicting };
}

/** The hub's stored totals through the series API, in the same shape. */
async function hubTotals(h: Awaited<ReturnType<typeof startTestHub>>, operatorId: string, fromSec: number, toSec: number) {
  const totals = new Map<string, Map<number, Counts>>();
  for (const { subjectId } of (await h.admin('GET', `/api/v1/operators/${operatorId}/subjects`)).body.subjects as { subjectId: string }[]) {
    const res = await h.admin('GET', `/api/v1/operators/${operatorId}/subjects/${encodeURIComponent(subjectId)}/series?fromSec=${fromSec}&toSec=${toSec}`);
    const bySubject = new Map<number, Counts>();
    for (const p of res.body.points as (Counts & { bucketStartSec: number })[]) {
      bySubject.set(p.bucketStartSec, Object.fromEntries(COUNT_FIELDS.map((f) => [f, p[f]])) as Counts);
    }
    totals.set(subjectId, bySubject);
  }
  return totals;
}

const plain = (m: Map<string, Map<number, Counts>>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, Object.fromEntries([...v].sort(([a], [b]) => a - b))]));

t.test('a consumer of .../stored sums to the hub\'s stored totals to the byte; .../summaries also shows what the hub refused', async (t) => {
  const { h, edgeA, consumerA, connectConsumer, connectEdge } = await setup(t);
  const edgeId = edgeA.edge.edgeId as string;
  const consumer = await connectConsumer(consumerA);
  t.same((await consumer.subscribeAsync(['flowbill/v1/isp1/+/stored', 'flowbill/v1/isp1/+/summaries'], { qos: 1 })).map((g) => g.qos), [1, 1]);
  const seen = collectMessages(consumer);
  const edge = await connectEdge();
  const s = (id: string, bucket: number, bytesIn: number, extra: Partial<Summary> = {}) => makeSummary(id, bucket, bytesIn, { bytesOut: bytesIn * 3 + 1, packetsIn: 10, packetsOut: 20, flowsIn: 2, flowsOut: 3, ...extra });
  const a1 = s('ipg:a', B(1), 1_000_000);
  const b1 = s('if:192.0.2.1/7', B(1), 2_500_000);
  const refused: Summary[] = []; // what the hub must never count

  t.match(await edge.deliver(1, [a1, b1].sort((x, y) => (x.subjectId < y.subjectId ? -1 : 1))), { status: AckStatus.STORED });
  t.match(await edge.deliver(1, [a1, b1].sort((x, y) => (x.subjectId < y.subjectId ? -1 : 1)), 2), { status: AckStatus.DUPLICATE }, 'redelivered');

  // Partly refused: a bucket before the trial started (collection paused), an already stored summary, a new one.
  const paused = s('ipg:a', B(-1), 777);
  refused.push(paused);
  const c2 = s('ipg:c', B(2), 3_000_000);
  t.match(await edge.deliver(2, [paused, a1, c2]), { status: AckStatus.STORED, reason: /stored 1 of 3; 1 already stored; refused: .*before the NetFlow/ });

  // REJECTED: a seq two days ahead of the hub's clock; and a batch with only paused buckets.
  const implausible = s('ipg:d', B(3), 4_000_000);
  refused.push(implausible);
  t.match(await edge.deliver(h.clock.nowMs() + 2 * 86_400_000, [implausible]), { status: AckStatus.REJECTED, reason: /seq/ });
  const pausedOnly = s('ipg:d', B(-2), 5_000_000);
  refused.push(pausedOnly);
  t.match(await edge.deliver(5, [pausedOnly]), { status: AckStatus.REJECTED, reason: /before the NetFlow/ });

  // Oversized (above FLOWBILL_INGEST_MAX_PAYLOAD_BYTES): dropped before decoding, no ack.
  const big = Array.from({ length: 200 }, (_, i) => s(`ipg:big${String(i).padStart(2, '0')}`, B(4), 6_000_000 + i));
  refused.push(...big);
  t.ok(encodeBatch(makeBatch(edgeId, 'isp1', 6, big)).length > 4096, 'above the limit');
  await edge.publish(encodeBatch(makeBatch(edgeId, 'isp1', 6, big)));

  // Deferred: a bucket that has not ended by the hub's clock (beyond the 5 minutes of skew): no ack.
  const futureBucket = h.clock.nowMs() / 1000 + 300;
  const e = s('ipg:e', futureBucket, 7_000_000);
  await edge.publish(encodeBatch(makeBatch(edgeId, 'isp1', 7, [e])));

  // A rewound (or hostile) edge re-sends a stored identity with other counts: DUPLICATE, never counted.
  const forged = { ...a1, bytesIn: 1, bytesOut: 999_999_999_999 };
  refused.push(forged);
  t.match(await edge.deliver(8, [forged]), { status: AckStatus.DUPLICATE });
  t.equal(edge.acks.filter((a) => a.seq === 6 || a.seq === 7).length, 0, 'the oversized and the deferred batch were not acked (handled before seq 8)');

  // A later part of bucket B(1) (revision 1) adds to it.
  const a1r = s('ipg:a', B(1), 123_456, { revision: 1 });
  t.match(await edge.deliver(9, [a1r]), { status: AckStatus.STORED });

  // The hub's clock moves on: the deferred batch, redelivered, is stored now.
  h.clock.advanceMs(15 * 60_000);
  t.match(await edge.deliver(7, [e]), { status: AckStatus.STORED });

  // The last batch: once the consumer has its StoredBatch, it has every earlier one (one publisher, in order).
  const z = s('ipg:z', B(5), 42);
  t.match(await edge.deliver(10, [z]), { status: AckStatus.STORED });
  await seen.until(() => seen.stored.some((b) => b.summaries.some((x) => x.subjectId === 'ipg:z')), 'the last StoredBatch');
  await seen.until(() => seen.raw.some((b) => b.summaries.some((x) => x.subjectId === 'ipg:z')), 'the last SummaryBatch');

  const fromSec = B(-3);
  const toSec = futureBucket + 300;
  const hub = await hubTotals(h, 'isp1', fromSec, toSec);
  const onStored = totalsOverIdentities(seen.stored);
  const onSummaries = totalsOverIdentities(seen.raw);

  t.same(plain(onStored.totals), plain(hub), 'stored topic, summed over distinct identities = the hub\'s series, to the byte');
  t.equal(onStored.conflicting, 0, 'no identity ever carries two contents on the stored topic');
  t.same([...onStored.identities].sort(), [a1, b1, c2, a1r, e, z].map((x) => identity(edgeId, x)).sort(), 'exactly the identities the hub stored');
  const onStoredExactly = (r: Summary) => seen.stored.some((b) => b.summaries.some((x) => identity(b.edgeId, x) === identity(edgeId, r) && x.bytesIn === r.bytesIn));
  t.same(refused.filter(onStoredExactly), [], `none of the ${refused.length} refused, oversized or forged summaries is on stored`);
  t.equal(seen.stored.reduce((n, b) => n + b.summaries.length, 0), 6, 'each stored identity once (no crash here, so no repeat)');
  t.equal(seen.stored.filter((b) => b.summaries.some((x) => x.subjectId === 'ipg:e')).length, 1, 'the deferred batch: once, when it was stored');

  // The hole: the edges' raw input does not add up to the hub's totals.
  t.notSame(plain(onSummaries.totals), plain(hub), 'summaries, even deduplicated, is not billing truth');
  for (const r of [paused, implausible, pausedOnly, big[0]!]) {
    t.ok(onSummaries.identities.has(identity(edgeId, r)), `summaries shows the refused ${r.subjectId} @ ${r.bucketStartSec}`);
  }
  t.ok(onSummaries.conflicting > 0, 'and the forged re-send of a stored identity');
  const { counters } = (await h.admin('GET', '/api/v1/hub/counters')).body;
  t.match(counters.ingest, { storedBatchesPublished: 5, storedPublishErrors: 0, storedBatchesWaiting: 0, batchesOversized: 1, batchesDeferred: 1 });
});

t.test('a consumer with a persistent session gets the StoredBatches published while it was away', async (t) => {
  const { consumerA, connectConsumer, connectEdge } = await setup(t);
  const first = await connectConsumer(consumerA);
  await first.subscribeAsync('flowbill/v1/isp1/+/stored', { qos: 1 });
  await first.endAsync();
  const edge = await connectEdge();
  const a = makeSummary('ipg:a', B(1), 31_337);
  t.match(await edge.deliver(1, [a]), { status: AckStatus.STORED }, 'acked while the consumer is offline');
  const again = await connectConsumer(consumerA);
  const seen = collectMessages(again);
  await seen.until(() => seen.stored.length === 1, 'the StoredBatch queued for its session');
  t.same(seen.stored[0]!.summaries, [a]);
});

t.test('only the hub writes .../stored; a consumer reads only its own tenant\'s', async (t) => {
  const { h, edgeA, edgeC, consumerA, consumerC, connectConsumer, connectEdge } = await setup(t);
  const a = edgeA.edge.edgeId as string;
  const c = edgeC.edge.edgeId as string;
  const consumer = await connectConsumer(consumerA);
  t.same(await grantedQos(consumer, [
    'flowbill/v1/isp1/+/stored', `flowbill/v1/isp1/${a}/stored`, 'flowbill/v1/isp2/+/stored', `flowbill/v1/isp2/${c}/stored`, 'flowbill/v1/+/+/stored', 'flowbill/v1/isp1/+/+', '#',
  ]), [1, 1, 128, 128, 128, 128, 128], 'own tenant only');
  const other = await connectConsumer(consumerC);
  t.same(await grantedQos(other, ['flowbill/v1/isp1/+/stored', `flowbill/v1/isp1/${a}/stored`, 'flowbill/v1/isp2/+/stored']), [128, 128, 1], 'tenant B cannot read tenant A\'s');
  const seen = collectMessages(consumer);
  const seenByOther = collectMessages(other);

  const edge = await connectEdge();
  t.same(await grantedQos(edge.client, [`${edge.base}/stored`, 'flowbill/v1/isp1/+/stored']), [128, 128], 'an edge cannot read it');
  const forged = storedBatchCodec.encode({ edgeId: a, tenantId: 'isp1', storedSeq: 1, edgeSeq: 1, storedAtMs: h.clock.nowMs(), summaries: [makeSummary('ipg:forged', B(1), 10 ** 12)] });
  const closed = waitForClose(edge.client);
  edge.client.publish(`${edge.base}/stored`, Buffer.from(forged), { qos: 1 });
  await closed;
  t.pass('an edge that publishes on stored is disconnected');

  const probe = await connectConsumer(consumerA, { clean: true, suffix: 'probe' });
  const probeClosed = waitForClose(probe);
  probe.publish(`flowbill/v1/isp1/${a}/stored`, Buffer.from(forged), { qos: 1 });
  await probeClosed;
  t.pass('a consumer that publishes on stored is disconnected');
  t.ok(consumer.connected, 'the other session of that consumer stays');

  // What the consumer does get on stored is the hub's: the edge, reconnected, sends a real batch.
  const again = await connectEdge();
  const real = makeSummary('ipg:real', B(1), 5);
  t.match(await again.deliver(1, [real]), { status: AckStatus.STORED });
  await seen.until(() => seen.stored.length >= 1, 'the real StoredBatch');
  t.same(seen.stored.flatMap((b) => b.summaries), [real], 'nothing forged reached the consumer');
  t.same(seenByOther.stored, [], 'tenant B saw nothing of tenant A');
});
