/**
 * Issue 8, the long run for the hub: a REAL hub process (hub/main.ts: LevelDB, embedded broker,
 * every module) takes hostile MQTT traffic and keeps serving.
 *
 *   npx tsx bench/fuzz-hub.ts [--payloads 3000] [--raw 600] [--seed 1]
 *
 * With a real edge's credentials (provisioned through the API): --payloads hostile messages on its
 * summaries topic (test/fuzz/hub-payloads.ts: malformed protobuf, 8-64 MiB payloads, 100k-200k
 * summary batches, counts above 2^53, future/past buckets, wrong tenant/edge, seq 2^53-1 and 2^64-1,
 * bizarre subject ids, 200,000-deep protobuf groups); and --raw raw TCP streams from 127.66.x.y (a
 * CONNECT announcing 200 MB, random bytes, 5,000 SUBSCRIBE filters, 100,000-level topics, QoS 3,
 * slowloris, bad passwords), 20 at a time. Every second: the hub's VmRSS and GET /api/v1/health.
 * Afterwards a valid batch from the fuzzed edge and one from an untouched edge must be STORED and
 * show in the series API to the byte. Exit code 1 when the hub died, health failed at the end, a
 * batch was not stored exactly, or RSS ended above the bound printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { edgeTopic } from '../common/topics';
import { AckStatus, summaryBatchCodec, type Ack } from '../proto/codec';
import { batch, BUCKET_SEC, createRng, edgeClient, hostileSummaryPayload, rawMqttCase, selfCheck, sendRaw, summary } from '../test/fuzz/hub-payloads';
import { arg, mib, sleep, startHubProcess, setUpOperator, subjectTotals, type HubProcess } from './fuzz-stack';

const PAYLOADS = Number(arg('payloads', '3000'));
const RAW = Number(arg('raw', '600'));
const SEED = Number(arg('seed', '1'));
/** RSS the hub may end at, above its RSS right after setup. */
const RSS_BOUND_GROWTH = 512 * 2 ** 20;
const OPERATOR = 'fuzz';

const dir = mkdtempSync(path.join(os.tmpdir(), 'flowbill-fuzz-hub-'));
const t0 = Date.now();
let hub: HubProcess | undefined;

async function main(): Promise<number> {
  selfCheck();
  hub = await startHubProcess(dir);
  const [victim, bystander] = await setUpOperator(hub, OPERATOR, [], ['victim', 'bystander']);
  // Buckets that ended before the NetFlow trial started are refused (collection paused); the bucket
  // holding the trial start is accepted (the hub takes a bucket ending up to 300 s ahead of its clock).
  const bucket = Math.floor(Date.now() / 1000 / BUCKET_SEC) * BUCKET_SEC;
  const h = hub;
  const rssStart = h.child.sampleRss() ?? 0;
  let healthFailures = 0, healthChecks = 0, slowestHealthMs = 0;
  let stop = false;
  const watch = (async () => {
    while (!stop && !h.child.exited) {
      h.child.sampleRss();
      const s = Date.now();
      healthChecks++;
      try {
        const r = await h.api('GET', '/health');
        if (r.status !== 200) healthFailures++;
      } catch { healthFailures++; }
      slowestHealthMs = Math.max(slowestHealthMs, Date.now() - s);
      await sleep(1000);
    }
  })();

  const rng = createRng(SEED);
  const nowSec = Math.floor(Date.now() / 1000);
  const client = await edgeClient(h.mqttUrl, victim);
  const topic = edgeTopic(victim.tenantId, victim.edgeId, 'summaries');
  const outcomes = new Map<string, number>();
  const fuzzStart = Date.now();
  let bytesSent = 0;
  for (let i = 0; i < PAYLOADS && !h.child.exited; i++) {
    const p = hostileSummaryPayload(rng, { edgeId: victim.edgeId, tenantId: victim.tenantId, nowSec, legitSubjectId: 'ipg:fuzz-legit' }, { big: rng.chance(0.05) });
    bytesSent += p.payload.length;
    const how = await client.publish(topic, p.payload, 5000).catch(() => 'error' as const);
    const k = `${p.name.replace(/-\d+(MiB)?$/, '')}:${how}`;
    outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    if ((i + 1) % 500 === 0) console.log(`  ${i + 1} payloads (${mib(bytesSent)}), hub RSS ${mib(h.child.sampleRss())} (peak ${mib(h.child.peakRss)}), health failures ${healthFailures}`);
  }
  const payloadSec = (Date.now() - fuzzStart) / 1000;

  const rawOutcomes = new Map<string, number>();
  const rawStart = Date.now();
  for (let i = 0; i < RAW && !h.child.exited; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, RAW - i) }, async (_, j) => {
      const n = i + j;
      const c = rawMqttCase(rng, victim);
      const how = await sendRaw(h.mqttPort, c, { localAddress: `127.66.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`, holdMs: 2000 });
      rawOutcomes.set(`${c.name}:${how}`, (rawOutcomes.get(`${c.name}:${how}`) ?? 0) + 1);
    }));
  }
  const rawSec = (Date.now() - rawStart) / 1000;

  // ---- afterwards: still serving, and valid batches stored to the byte
  await sleep(2000);
  const health = await h.api('GET', '/health').catch(() => ({ status: 0, body: undefined }));
  const counters = await h.api('GET', '/hub/counters').catch(() => ({ status: 0, body: undefined }));
  const seqV = Date.now();
  await client.publish(topic, summaryBatchCodec.encode(batch(victim.edgeId, victim.tenantId, seqV, [summary('ipg:fuzz-legit', bucket, 123_456_789)])), 10_000);
  const ackV = await client.waitAck(seqV, 20_000).catch((err: Error) => ({ status: -1, reason: err.message }) as unknown as Ack);
  const by = await edgeClient(h.mqttUrl, bystander);
  const seqB = Date.now() + 1;
  await by.publish(edgeTopic(bystander.tenantId, bystander.edgeId, 'summaries'), summaryBatchCodec.encode(batch(bystander.edgeId, bystander.tenantId, seqB, [summary('ipg:fuzz-bystander', bucket, 987_654_321)])), 10_000);
  const ackB = await by.waitAck(seqB, 20_000).catch((err: Error) => ({ status: -1, reason: err.message }) as unknown as Ack);
  await sleep(500);
  const totV = await subjectTotals(h, OPERATOR, 'ipg:fuzz-legit', bucket, bucket + BUCKET_SEC).catch(() => undefined);
  const totB = await subjectTotals(h, OPERATOR, 'ipg:fuzz-bystander', bucket, bucket + BUCKET_SEC).catch(() => undefined);
  client.close();
  by.close();
  stop = true;
  await watch;
  const rssEnd = h.child.sampleRss() ?? 0;

  const alive = !h.child.exited;
  const storedV = ackV.status === AckStatus.STORED && totV?.bytesIn === 123_456_789;
  const storedB = ackB.status === AckStatus.STORED && totB?.bytesIn === 987_654_321;
  const rssOk = rssEnd - rssStart < RSS_BOUND_GROWTH;
  console.log('\n== fuzz-hub results');
  console.log(`hostile payloads      ${PAYLOADS} (${mib(bytesSent)}) in ${payloadSec.toFixed(1)} s, seed ${SEED}: ${[...outcomes].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`raw MQTT streams      ${RAW} in ${rawSec.toFixed(1)} s: ${[...rawOutcomes].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`client reconnects     ${client.reconnects} (the broker closed the fuzzing connection)`);
  console.log(`hub alive             ${alive}${alive ? '' : ` EXITED ${JSON.stringify(h.child.exited)}: ${h.child.stderrTail.slice(-3000)}`}`);
  console.log(`health                ${health.status} at the end; ${healthFailures} failed of ${healthChecks} checks during the run; slowest ${slowestHealthMs} ms`);
  console.log(`hub RSS               start ${mib(rssStart)}, peak ${mib(h.child.peakRss)}, end ${mib(rssEnd)} (bound: end < start + ${mib(RSS_BOUND_GROWTH)}): ${rssOk ? 'ok' : 'EXCEEDED'}`);
  console.log(`hub error log lines   ${h.child.errorCount}${h.child.errorLines.length ? `, first: ${h.child.errorLines[0].slice(0, 600)}` : ''}`);
  console.log(`valid batch, fuzzed edge    ack ${ackV.status} ${ackV.reason ?? ''}; API bytesIn ${totV?.bytesIn ?? 'nothing'} of 123456789: ${storedV ? 'EXACT' : 'MISMATCH'}`);
  console.log(`valid batch, untouched edge ack ${ackB.status}; API bytesIn ${totB?.bytesIn ?? 'nothing'} of 987654321: ${storedB ? 'EXACT' : 'MISMATCH'}`);
  if (counters.status === 200) console.log(`hub counters          ${JSON.stringify(counters.body.counters)}`);
  return alive && health.status === 200 && storedV && storedB && rssOk ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.log(`!! fuzz-hub failed: ${(err as Error).stack}`);
  if (hub) console.log(`hub stderr: ${hub.child.stderrTail.slice(-3000)}`);
} finally {
  await hub?.child.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  console.log(`(total ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
process.exit(code);
