/**
 * Issue 8: hostile MQTT input cannot stop the hub. A real hub (createHub, embedded aedes broker on
 * 127.0.0.1, memory KV) gets, with a real edge's credentials (provisioned through the API):
 * malformed protobuf, oversize payloads, absurd batches (thousands of summaries, counts above 2^53,
 * future / past / unaligned buckets, wrong tenant or edge, seq 2^53-1, bizarre subject ids), and on
 * raw TCP sockets from other loopback addresses: a CONNECT announcing 200 MB, random bytes, 5,000
 * SUBSCRIBE filters, a 100,000-level topic, a partial CONNECT left hanging, QoS 3, bad passwords.
 * Then: HTTP health answers, valid batches from the fuzzed edge and from an untouched one are stored
 * to the byte, and the RSS grew by less than RSS_BOUND_MB.
 * Counts are small and the seed fixed; bench/fuzz-hub.ts runs the long version.
 */
import t from 'tap';
import { AckStatus, summaryBatchCodec, type Ack } from '../../proto/codec';
import { edgeTopic } from '../../common/topics';
import { startTestHub } from '../hub/spine/hub-harness';
import { createRng } from './datagram-mutator';
import { batch, edgeClient, hostileSummaryPayload, rawMqttCase, selfCheck, sendRaw, summary, BUCKET_SEC } from './hub-payloads';

const SEED = Number(process.env.FUZZ_SEED ?? 8);
const PAYLOADS = Number(process.env.FUZZ_HUB_PAYLOADS ?? 80);
const RAW_CASES = Number(process.env.FUZZ_HUB_RAW ?? 40);
/** RSS growth allowed over the whole run (the largest payload sent is 6 MiB; 20,000-summary batches are stored). */
const RSS_BOUND_MB = 256;

t.test(`hub survives ${PAYLOADS} hostile payloads and ${RAW_CASES} raw MQTT streams (seed ${SEED})`, async (t) => {
  selfCheck();
  const h = await startTestHub();
  t.teardown(() => h.close());
  const op = 'fuzzop';
  t.equal((await h.admin('POST', '/api/v1/operators', { operatorId: op, name: 'Fuzz ISP' })).status, 201);
  const victim = (await h.admin('POST', `/api/v1/operators/${op}/edges`, { name: 'victim' })).body.credentials;
  const bystander = (await h.admin('POST', `/api/v1/operators/${op}/edges`, { name: 'bystander' })).body.credentials;
  t.ok(victim?.username && bystander?.username, 'two edges provisioned through the API');

  const nowSec = Math.floor(h.clock.nowMs() / 1000);
  const bucket = Math.floor(nowSec / BUCKET_SEC) * BUCKET_SEC - 3600;
  const legitSubject = 'ipg:fuzz-legit';
  const rng = createRng(SEED);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sample = () => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); };

  const client = await edgeClient(h.mqttUrl, victim);
  const topic = edgeTopic(victim.tenantId, victim.edgeId, 'summaries');
  const outcomes = new Map<string, number>();
  for (let i = 0; i < PAYLOADS; i++) {
    const p = hostileSummaryPayload(rng, { edgeId: victim.edgeId, tenantId: victim.tenantId, nowSec, legitSubjectId: legitSubject }, { big: false });
    const how = await client.publish(topic, p.payload);
    outcomes.set(`${p.name}:${how}`, (outcomes.get(`${p.name}:${how}`) ?? 0) + 1);
    sample();
  }
  t.comment(`payload outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; client reconnects ${client.reconnects}`);

  const rawOutcomes = new Map<string, number>();
  await Promise.all(Array.from({ length: RAW_CASES }, async (_, i) => {
    const c = rawMqttCase(rng, victim);
    // Other hosts than the edge (127.0.0.1): an address lockout for bad logins must not hit it.
    const how = await sendRaw(Number(new URL(h.mqttUrl).port), c, { localAddress: `127.66.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`, holdMs: 800 });
    rawOutcomes.set(`${c.name}:${how}`, (rawOutcomes.get(`${c.name}:${how}`) ?? 0) + 1);
    sample();
  }));
  t.comment(`raw outcomes: ${[...rawOutcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`);

  // ---- the hub still serves
  const health = await fetch(`${h.httpUrl}/api/v1/health`);
  t.equal(health.status, 200, 'HTTP health answers 200 (MQTT client connected)');
  const counters = await h.admin('GET', '/api/v1/hub/counters');
  t.equal(counters.status, 200, 'counters answer');
  t.comment(`hub counters: ${JSON.stringify(counters.body.counters)}`);

  // ---- valid batches afterwards are stored to the byte: from the fuzzed edge (a seq like a real
  // edge's, which starts at its clock's milliseconds) and from an edge that was never touched.
  const seqVictim = h.clock.nowMs();
  const okVictim = await client.publish(topic, summaryBatchCodec.encode(batch(victim.edgeId, victim.tenantId, seqVictim, [summary(legitSubject, bucket, 123_456_789)])));
  t.equal(okVictim, 'puback', 'the fuzzed edge can still publish');
  const ackVictim = await client.waitAck(seqVictim).catch((err: Error) => ({ status: -1, reason: err.message }) as unknown as Ack);
  t.equal(ackVictim.status, AckStatus.STORED, `valid batch from the fuzzed edge STORED (${ackVictim.reason})`);

  const by = await edgeClient(h.mqttUrl, bystander);
  const seqBy = h.clock.nowMs() + 1;
  await by.publish(edgeTopic(bystander.tenantId, bystander.edgeId, 'summaries'), summaryBatchCodec.encode(batch(bystander.edgeId, bystander.tenantId, seqBy, [summary('ipg:fuzz-bystander', bucket, 987_654_321)])));
  const ackBy = await by.waitAck(seqBy).catch((err: Error) => ({ status: -1, reason: err.message }) as unknown as Ack);
  t.equal(ackBy.status, AckStatus.STORED, 'valid batch from an untouched edge STORED');
  await h.hub.services.ingestor.flushAcks?.();

  const totals = async (subjectId: string) => (await h.admin('GET', `/api/v1/operators/${op}/subjects/${encodeURIComponent(subjectId)}/series?fromSec=${bucket}&toSec=${bucket + BUCKET_SEC}`)).body?.totals;
  t.equal((await totals(legitSubject))?.bytesIn, 123_456_789, 'fuzzed edge: stored to the byte');
  t.equal((await totals('ipg:fuzz-bystander'))?.bytesIn, 987_654_321, 'untouched edge: stored to the byte');

  client.close();
  by.close();
  global.gc?.();
  const rssAfter = process.memoryUsage().rss;
  sample();
  const growthMb = (rssAfter - rssBefore) / 2 ** 20;
  t.comment(`RSS before ${(rssBefore / 2 ** 20).toFixed(0)} MiB, peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB, after ${(rssAfter / 2 ** 20).toFixed(0)} MiB`);
  t.ok(growthMb < RSS_BOUND_MB, `RSS grew ${growthMb.toFixed(0)} MiB < ${RSS_BOUND_MB} MiB`);
});
