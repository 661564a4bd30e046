/**
 * End to end through the real program: `node --import tsx edge/main.ts` as a child process, v5
 * datagrams built here, a real aedes broker playing the hub (acks every batch). kill -9 after a
 * checkpoint, restart, and the bytes that reach the broker must equal, to the byte, what was sent
 * before that checkpoint: nothing lost, nothing twice.
 */
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestBroker } from './helpers/test-broker';
import { send, startEdge } from './helpers/edge-process';
import { buildV5, type V5Flow } from '../../edge/demo/netflow-v5-writer';
import { edgeTopic } from '../../common/topics';
import { AckStatus, EdgeState, edgeStatusCodec } from '../../proto/codec';
import { clockRevision } from '../../edge/aggregate/bucket-aggregator';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(path.join(ROOT, 'edge/decode/create-flow-decoder.ts'))) {
  t.plan(0, 'skipped: edge/decode/create-flow-decoder.ts (the decoder) does not exist yet');
  process.exit(0);
}

// Both ways the edge can run: one thread, and the default reader + worker (edge/threads/).
for (const threads of ['1', '2'] as const) t.test(`FLOWBILL_EDGE_THREADS=${threads}: kill -9 after a checkpoint, restart delivers exactly the checkpointed bytes`, async (t) => {
  const broker = await startTestBroker();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'flowbill-edge-kill9-'));
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const baseEnv = {
    FLOWBILL_EDGE_ID: 'k9', FLOWBILL_EDGE_TENANT_ID: 'op1', FLOWBILL_EDGE_MQTT_URL: broker.url,
    FLOWBILL_EDGE_UDP_HOST: '127.0.0.1', FLOWBILL_EDGE_UDP_PORT: '0', FLOWBILL_EDGE_SFLOW_PORT: '0', FLOWBILL_EDGE_DATA_DIR: dataDir,
    FLOWBILL_EDGE_CHECKPOINT_INTERVAL_MS: '1000', FLOWBILL_EDGE_LIVE_INTERVAL_MS: '0', FLOWBILL_EDGE_ACK_TIMEOUT_MS: '2000', LOG_LEVEL: 'debug',
    FLOWBILL_EDGE_CONFIG: '', FLOWBILL_EDGE_THREADS: threads,
  };

  // Flows in the previous 5-minute bucket: still open with a 600 s grace, closed at once with 0.
  const nowMs = Date.now();
  const prevBucketMs = Math.floor(nowMs / 300_000) * 300_000 - 300_000;
  let seq = 0;
  function datagrams(count: number, bytesBase: number): { list: Buffer[]; bytes: number } {
    const list: Buffer[] = [];
    let bytes = 0;
    for (let d = 0; d < count; d++) {
      const flows: V5Flow[] = [];
      for (let r = 0; r < 30; r++) {
        const b = bytesBase + d * 30 + r;
        bytes += b;
        flows.push({ src: [198, 51, 100, r], dst: [203, 0, 113, d], inputIf: 1, outputIf: 2, packets: 1 + r, bytes: b, startMs: prevBucketMs + 1000 + r, endMs: prevBucketMs + 2000 + r });
      }
      list.push(buildV5(flows, { nowMs: Date.now(), sequence: seq }));
      seq += 30;
    }
    return { list, bytes };
  }

  const first = startEdge({ ...baseEnv, FLOWBILL_EDGE_CLOSE_GRACE_SEC: '600' });
  children.push(first.proc);
  const listening = await first.waitLog((l) => l.msg === 'listening for NetFlow/IPFIX');
  t.equal(listening.threads ?? 1, Number(threads), `the edge listens with ${threads} thread(s)`);
  const a = datagrams(20, 1_000_000);
  await send(listening.port as number, a.list);
  // Interface subjects: each flow counts in on ifIndex 1 and out on ifIndex 2, hence 2×.
  await first.waitLog((l) => l.msg === 'checkpoint written' && l.openBytes === 2 * a.bytes);
  const b = datagrams(5, 5_000_000);
  await send(listening.port as number, b.list); // after the checkpoint: lost by design
  await new Promise((r) => setTimeout(r, 50));
  const killedAtMs = Date.now();
  first.proc.kill('SIGKILL');
  await new Promise((r) => first.proc.once('exit', r));
  t.equal(first.proc.signalCode, 'SIGKILL');
  t.equal(broker.batches().length, 0, 'nothing closed before the kill');

  const second = startEdge({ ...baseEnv, FLOWBILL_EDGE_CLOSE_GRACE_SEC: '0' });
  children.push(second.proc);
  const ackTopic = edgeTopic('op1', 'k9', 'ack');
  const acked = new Set<number>();
  const ackLoop = setInterval(() => {
    for (const batch of broker.batches()) if (!acked.has(batch.seq)) { acked.add(batch.seq); void broker.ack(ackTopic, 'k9', batch.seq, AckStatus.STORED); }
  }, 50);
  t.teardown(() => clearInterval(ackLoop));
  const sums = () => {
    const unique = new Map(broker.batches().map((bt) => [bt.seq, bt]));
    let bytesIn = 0, bytesOut = 0, flowsIn = 0;
    for (const bt of unique.values()) for (const s of bt.summaries) { bytesIn += s.bytesIn; bytesOut += s.bytesOut; flowsIn += s.flowsIn; }
    return { bytesIn, bytesOut, flowsIn };
  };
  try {
    await broker.waitFor(() => sums().bytesIn >= a.bytes, 60_000);
  } catch (err) {
    t.comment(JSON.stringify({ sums: sums(), expected: a.bytes, batches: broker.batches().length, log: second.lines.filter((l) => l.msg !== 'checkpoint written' || (l.closedSummaries as number) > 0) }));
    throw err;
  }
  await new Promise((r) => setTimeout(r, 2500)); // more checkpoints: nothing else may arrive
  t.same(sums(), { bytesIn: a.bytes, bytesOut: a.bytes, flowsIn: 20 * 30 }, 'exactly the checkpointed bytes, once');
  // One bucket object, created by the first process and restored (sealed) by the second: one
  // revision, stamped from the first process's clock when the first flow arrived.
  const revisions = new Set(broker.batches().flatMap((bt) => bt.summaries.map((s) => s.revision)));
  t.equal(revisions.size, 1, `one revision (got ${[...revisions].join()})`);
  const [revision] = revisions;
  t.ok(revision >= clockRevision(nowMs) && revision <= clockRevision(killedAtMs), `revision ${revision} is the first process's clock second at creation`);
  t.ok(broker.batches().every((bt) => bt.summaries.every((s) => s.bucketStartSec === prevBucketMs / 1000)));

  second.proc.kill('SIGTERM');
  await new Promise((r) => second.proc.once('exit', r));
  t.equal(second.proc.exitCode, 0, 'clean exit on SIGTERM');
  const statuses = broker.on('/status').map((p) => edgeStatusCodec.decode(p.payload));
  t.equal(statuses.at(-1)?.state, EdgeState.OFFLINE, 'OFFLINE published on shutdown');
  // Each process (and each reconnect) gets a higher session; the restarted one continues the count.
  const births = broker.on('/status').map((p) => ({ s: edgeStatusCodec.decode(p.payload), client: p.clientId })).filter((x) => x.s.state === EdgeState.BIRTH).map((x) => x.s.session);
  t.equal(births[0], 1, `first BIRTH is session 1 (births: ${births.join()})`);
  t.ok(births.length >= 2 && births.every((v, i) => i === 0 || v > births[i - 1]), `sessions strictly increase across the restart (births: ${births.join()})`);
});
