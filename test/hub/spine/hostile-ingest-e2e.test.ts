/**
 * Issue 8 end to end: a whole hub (embedded broker, real MQTT, default limits) receives an oversized
 * batch, a batch with too many summaries, poisoned and absurd batches, then valid ones, a redelivery
 * and a rewound re-send under new seqs; the stored series is compared to the byte.
 */
import t from 'tap';
import { ackCodec, AckStatus, type Ack, type Summary } from '../../../proto/codec';
import { encodeBatch, makeBatch, makeSummary } from './ingest-fixtures';
import { startTestHub } from './hub-harness';

const NOW_MS = Date.UTC(2026, 10, 3, 12);
const BUCKET = NOW_MS / 1000 - 3600;

t.test('oversized, absurd and poisoned batches over MQTT do not block or inflate the valid ones', async (t) => {
  const h = await startTestHub({ nowMs: NOW_MS });
  t.teardown(() => h.close());
  await h.admin('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'ISP 1' });
  const { edge, credentials } = (await h.admin('POST', '/api/v1/operators/isp1/edges', { name: 'pop-a' })).body;
  const edgeId: string = edge.edgeId;
  const base = `flowbill/v1/isp1/${edgeId}`;
  const client = await h.connect(credentials.username, credentials.password);
  const acks: Ack[] = [];
  client.on('message', (topic, payload) => { if (topic === `${base}/ack`) acks.push(ackCodec.decode(payload)); });
  await client.subscribeAsync(`${base}/ack`, { qos: 1 });
  const publish = (summaries: Summary[], seq: number, oldestUnackedSeq = seq) =>
    client.publishAsync(`${base}/summaries`, Buffer.from(encodeBatch(makeBatch(edgeId, 'isp1', seq, summaries, { oldestUnackedSeq }))), { qos: 1 });
  const counters = async () => (await h.admin('GET', '/api/v1/hub/counters')).body.counters.ingest;
  async function until(what: string, ok: () => boolean | Promise<boolean>) {
    for (let i = 0; i < 200; i++) { if (await ok()) return; await new Promise((r) => setTimeout(r, 25)); }
    throw new Error(`timed out waiting for ${what}`);
  }

  // Oversized: 38,000 summaries (~1.6 MB, above the 1.5 MiB default) are never decoded.
  const many = (n: number) => Array.from({ length: n }, (_, i) => makeSummary(`ipg:flood-${String(i).padStart(6, '0')}`, BUCKET, 1));
  const oversized = encodeBatch(makeBatch(edgeId, 'isp1', 100, many(38_000)));
  t.ok(oversized.length > 1536 * 1024, `${oversized.length} bytes`);
  await client.publishAsync(`${base}/summaries`, Buffer.from(oversized), { qos: 1 });
  // Too many: 10,001 summaries (~0.5 MB) are decoded but not stored.
  await publish(many(10_001), 101);
  await until('the two refusals', async () => { const c = await counters(); return c.batchesOversized === 1 && c.batchesTooManySummaries === 1; });
  t.same(acks, [], 'no ack for either: an edge keeps them until the limits are raised');

  // Poisoned and absurd: REJECTED with a reason, nothing stored.
  const max = Number.MAX_SAFE_INTEGER;
  await publish([makeSummary('ipg:cust-a', BUCKET, 1)], max, max);
  await publish([makeSummary('ipg:cust-a', BUCKET, 1)], 5, 9);
  await publish([makeSummary('ipg:cust-a', BUCKET, 2 ** 60), makeSummary('bogus', BUCKET, 1), makeSummary('ipg:cust-a', 300, 1), makeSummary('ipg:cust-a', BUCKET, 1, { durationSec: 1 })], 6);
  await until('three REJECTED acks', () => acks.length === 3);
  t.same(acks.map((a) => [a.seq, a.status]), [[max, AckStatus.REJECTED], [5, AckStatus.REJECTED], [6, AckStatus.REJECTED]]);
  t.match(acks[0]!.reason, /more than a day ahead/);
  t.match(acks[1]!.reason, /oldest_unacked_seq 9 is above seq 5/);
  t.match(acks[2]!.reason, /counts out of range.*invalid subject id.*before 2000.*duration 1s/);

  // Valid: two batches of one revision (sorted, as the edge cuts them), a second bucket, a late revision.
  const subjects = ['ipg:cust-a', 'ipg:cust-b', 'ipg:cust-c', 'ipg:cust-d', 'ipg:cust-e'];
  const bytes = (id: string, bucket: number) => 1_000_003 * (subjects.indexOf(id) + 1) + (bucket - BUCKET);
  const revision = (ids: string[], bucket: number, extra: Partial<Summary> = {}) => ids.map((id) => makeSummary(id, bucket, bytes(id, bucket), extra));
  await publish(revision(subjects.slice(0, 3), BUCKET), 7);
  await publish(revision(subjects.slice(3), BUCKET), 8);
  await publish(revision(subjects, BUCKET + 300), 9);
  await publish([makeSummary('ipg:cust-b', BUCKET, 777, { revision: 1 })], 10);
  // A redelivery of seq 8, then a rewound edge re-sending bucket BUCKET revision 0 (a subset, cut
  // elsewhere) under seqs it never used, and the poisoned seq again.
  await publish(revision(subjects.slice(3), BUCKET), 8);
  await publish(revision(['ipg:cust-b', 'ipg:cust-d'], BUCKET), 11);
  await publish(revision(['ipg:cust-e'], BUCKET), 12);
  await publish([makeSummary('ipg:cust-a', BUCKET + 300, 1)], max, max);
  await until('eight more acks', () => acks.length === 11);
  t.same(acks.slice(3).map((a) => [a.seq, a.status]), [
    [7, AckStatus.STORED], [8, AckStatus.STORED], [9, AckStatus.STORED], [10, AckStatus.STORED],
    [8, AckStatus.DUPLICATE], [11, AckStatus.DUPLICATE], [12, AckStatus.DUPLICATE], [max, AckStatus.REJECTED],
  ]);

  for (const id of subjects) {
    const res = await h.admin('GET', `/api/v1/operators/isp1/subjects/${encodeURIComponent(id)}/series?fromSec=${BUCKET}&toSec=${BUCKET + 600}`);
    const late = id === 'ipg:cust-b' ? 777 : 0;
    t.same(res.body.points.map((p: { bucketStartSec: number; bytesIn: number }) => [p.bucketStartSec, p.bytesIn]),
      [[BUCKET, bytes(id, BUCKET) + late], [BUCKET + 300, bytes(id, BUCKET + 300)]], `${id} to the byte`);
  }
  const subjectIds = (await h.admin('GET', '/api/v1/operators/isp1/subjects')).body.subjects.map((s: { subjectId: string }) => s.subjectId);
  t.same(subjectIds, subjects, 'nothing of the flood or the absurd batches was stored');
  t.match(await counters(), {
    batchesOversized: 1, batchesTooManySummaries: 1, batchesImplausibleSeq: 3, batchesRejected: 4,
    batchesStored: 4, batchesDuplicate: 3, summariesStored: 11, summariesDuplicate: 5,
  });
});
