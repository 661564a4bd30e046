/**
 * The threaded edge in this process (edge/threads/threaded-edge.ts with a real worker thread, an
 * in-memory store, no MQTT, no socket): datagrams handed to ingest() all reach the worker's edge
 * before its final checkpoint (clean stop drains the queue), a full queue drops and counts, and the
 * counts show in the worker's status (datagrams_dropped).
 */
import t from 'tap';
import { v5Datagrams } from './helpers/flows';
import { createThreadedEdge } from '../../edge/threads/threaded-edge';
import { loadEdgeConfig } from '../../edge/config';
import { silentLogger } from '../../common/logger';


// Timers that never fire on their own: batches go only when full or at stop() (deterministic).
const heldTimers = { setTimeout: () => ({}), clearTimeout: () => {} };

t.test('clean stop drains the queue: every datagram ingested before the final checkpoint', async (t) => {
  const config = loadEdgeConfig({ env: {}, overrides: { liveIntervalMs: 0, checkpointIntervalMs: 300_000 } });
  const edge = createThreadedEdge({ config, log: silentLogger, store: { kind: 'memory' }, publish: false, listenUdp: false, workerLogLevel: 'silent', timers: heldTimers });
  await edge.start();
  const list = v5Datagrams(500, Date.now());
  for (const d of list) edge.ingest(d, '192.0.2.7');
  t.ok(edge.receiverStats().batches >= 1, 'full batches already posted');
  const final = await edge.stop(); // the last, partial batch is still on this thread here
  t.equal(final.counters.packetsReceived, 500, 'every datagram reached the decoder');
  t.equal(final.counters.flowsDecoded, 500 * 30);
  t.equal(final.counters.datagramsDropped, 0);
  t.equal(final.exporters.length, 1);
  t.equal(final.exporters[0].address, '192.0.2.7', 'the exporter travelled with its datagrams');
});

t.test('the listener kind travels with each datagram: the sFlow port\'s datagrams reach the sFlow decoder', async (t) => {
  const config = loadEdgeConfig({ env: {}, overrides: { liveIntervalMs: 0, checkpointIntervalMs: 300_000 } });
  const edge = createThreadedEdge({ config, log: silentLogger, store: { kind: 'memory' }, publish: false, listenUdp: false, workerLogLevel: 'silent', timers: heldTimers });
  await edge.start();
  const [v5] = v5Datagrams(1, Date.now());
  edge.ingest(v5, '192.0.2.7', 'netflow');
  edge.ingest(v5, '192.0.2.8', 'sflow'); // a NetFlow v5 datagram on the sFlow port: not sFlow (u32 version 5), refused there
  const final = await edge.stop();
  t.equal(final.counters.packetsReceived, 2);
  t.equal(final.counters.flowsDecoded, 30, 'only the netflow one decoded');
  t.equal(final.counters.decodeErrors, 1, 'the sFlow decoder refused the other');
});

t.test('a full queue drops and counts; status and the final status carry datagrams_dropped', async (t) => {
  const config = loadEdgeConfig({ env: {}, overrides: { liveIntervalMs: 0, checkpointIntervalMs: 300_000, threadQueueBytes: 1024 * 1024 } });
  const edge = createThreadedEdge({ config, log: silentLogger, store: { kind: 'memory' }, publish: false, listenUdp: false, workerLogLevel: 'silent', timers: heldTimers, batchBytes: 128 * 1024 });
  await edge.start();
  const list = v5Datagrams(100, Date.now());
  // One synchronous burst: the worker cannot hand anything back meanwhile, so the 1 MiB bound holds.
  const total = 3000;
  for (let i = 0; i < total; i++) edge.ingest(list[i % list.length], '192.0.2.8');
  const r = edge.receiverStats();
  t.ok(r.dropped > 0, `dropped ${r.dropped}`);
  t.equal(r.datagrams + r.dropped, total, 'every datagram either queued or counted as dropped');
  t.ok(r.datagrams * 1472 <= 1024 * 1024, `queued ${r.datagrams} datagrams fit 1 MiB`);
  const live = await edge.status();
  t.equal(live.counters.datagramsDropped, r.dropped, 'status counter datagrams_dropped');
  const final = await edge.stop();
  t.equal(final.counters.packetsReceived, r.datagrams, 'what was queued was decoded');
  t.equal(final.counters.datagramsDropped, r.dropped);
});

t.test('after the worker hands buffers back, the queue accepts again (no leak of pooled buffers)', async (t) => {
  const config = loadEdgeConfig({ env: {}, overrides: { liveIntervalMs: 0, checkpointIntervalMs: 300_000, threadQueueBytes: 1024 * 1024 } });
  const edge = createThreadedEdge({ config, log: silentLogger, store: { kind: 'memory' }, publish: false, listenUdp: false, workerLogLevel: 'silent', timers: heldTimers, batchBytes: 128 * 1024 });
  await edge.start();
  const list = v5Datagrams(100, Date.now());
  let sent = 0;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 400; i++) { edge.ingest(list[i % list.length], '192.0.2.9'); sent++; }
    await edge.status(); // a round trip: every batch posted before it has been ingested and handed back
  }
  const final = await edge.stop();
  t.equal(final.counters.datagramsDropped, 0, '20 x 400 datagrams (8x the bound in all) with the worker keeping up: none dropped');
  t.equal(final.counters.packetsReceived, sent);
});
