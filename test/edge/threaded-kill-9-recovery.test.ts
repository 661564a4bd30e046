/**
 * The threaded edge (edge/threads/: the main thread reads UDP, a worker runs decode → checkpoints)
 * through the real program, `node --import tsx edge/main.ts` with FLOWBILL_EDGE_THREADS=2: datagrams
 * sent and SIGTERM at once, so the clean stop must drain the socket and the queue between the threads
 * into its final checkpoint, and a restart delivers them exactly. (kill -9 recovery in both thread
 * modes: kill-9-recovery.test.ts.)
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
import { AckStatus } from '../../proto/codec';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(path.join(ROOT, 'edge/decode/create-flow-decoder.ts'))) {
  t.plan(0, 'skipped: edge/decode/create-flow-decoder.ts (the decoder) does not exist yet');
  process.exit(0);
}

t.test('threaded edge: SIGTERM right after sending drains the queue into the final checkpoint; a restart delivers it exactly', async (t) => {
  const broker = await startTestBroker();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'flowbill-edge-drain-'));
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const baseEnv = {
    FLOWBILL_EDGE_ID: 'dr', FLOWBILL_EDGE_TENANT_ID: 'op1', FLOWBILL_EDGE_MQTT_URL: broker.url,
    FLOWBILL_EDGE_UDP_HOST: '127.0.0.1', FLOWBILL_EDGE_UDP_PORT: '0', FLOWBILL_EDGE_SFLOW_PORT: '0', FLOWBILL_EDGE_DATA_DIR: dataDir,
    FLOWBILL_EDGE_CHECKPOINT_INTERVAL_MS: '300000', FLOWBILL_EDGE_LIVE_INTERVAL_MS: '0', FLOWBILL_EDGE_ACK_TIMEOUT_MS: '2000', LOG_LEVEL: 'debug',
    FLOWBILL_EDGE_CONFIG: '', FLOWBILL_EDGE_THREADS: '2',
  };
  const prevBucketMs = Math.floor(Date.now() / 300_000) * 300_000 - 300_000;
  const list: Buffer[] = [];
  const bytesOf: number[] = [];
  for (let d = 0; d < 40; d++) {
    const flows: V5Flow[] = [];
    let bytes = 0;
    for (let r = 0; r < 30; r++) {
      const b = 7_000_000 + d * 30 + r;
      bytes += b;
      flows.push({ src: [198, 51, 100, r], dst: [203, 0, 113, d], inputIf: 1, outputIf: 2, packets: 1, bytes: b, startMs: prevBucketMs + 1000, endMs: prevBucketMs + 2000 });
    }
    list.push(buildV5(flows, { nowMs: Date.now(), sequence: d * 30 }));
    bytesOf.push(bytes);
  }

  // No checkpoint in between (every 300 s): only the clean stop's final checkpoint can save these.
  const first = startEdge({ ...baseEnv, FLOWBILL_EDGE_CLOSE_GRACE_SEC: '600' });
  children.push(first.proc);
  const listening = await first.waitLog((l) => l.msg === 'listening for NetFlow/IPFIX');
  await send(listening.port as number, list);
  first.proc.kill('SIGTERM');
  const stopped = await first.waitLog((l) => l.msg === 'edge stopped');
  await new Promise((r) => first.proc.once('exit', r));
  t.equal(first.proc.exitCode, 0, 'clean exit');
  const decoded = stopped.packetsReceived as number;
  t.equal(decoded, list.length, 'the reader had taken every datagram; all of them reached the worker before its final checkpoint');
  t.equal(stopped.datagramsDropped, 0);
  const expected = bytesOf.slice(0, decoded).reduce((a, b) => a + b, 0);

  const second = startEdge({ ...baseEnv, FLOWBILL_EDGE_CLOSE_GRACE_SEC: '0', FLOWBILL_EDGE_CHECKPOINT_INTERVAL_MS: '500' });
  children.push(second.proc);
  const ackTopic = edgeTopic('op1', 'dr', 'ack');
  const acked = new Set<number>();
  const ackLoop = setInterval(() => {
    for (const batch of broker.batches()) if (!acked.has(batch.seq)) { acked.add(batch.seq); void broker.ack(ackTopic, 'dr', batch.seq, AckStatus.STORED); }
  }, 50);
  t.teardown(() => clearInterval(ackLoop));
  const sums = () => {
    const unique = new Map(broker.batches().map((bt) => [bt.seq, bt]));
    let bytesIn = 0, flowsIn = 0;
    for (const bt of unique.values()) for (const s of bt.summaries) { bytesIn += s.bytesIn; flowsIn += s.flowsIn; }
    return { bytesIn, flowsIn };
  };
  await broker.waitFor(() => sums().bytesIn >= expected, 60_000);
  second.proc.kill('SIGTERM');
  await new Promise((r) => second.proc.once('exit', r));
  t.same(sums(), { bytesIn: expected, flowsIn: decoded * 30 }, 'exactly what was drained, once');
});
