/**
 * Issue 8, disk full: the KV store's writes fail with ENOSPC for a while (fault-injecting adapter
 * under the reopening store), while known flows keep arriving across bucket closes. Totals are
 * compared to the byte: what the outbox holds against what was ingested.
 */
import t from 'tap';
import { outboxTotals } from './helpers/outbox-totals';
import { createEdge } from '../../edge/create-edge';
import { loadEdgeConfig } from '../../edge/config';
import { createManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { createManualTimers } from '../../common/ticker';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { createReopeningKvStore } from '../../common/kv/reopening-kv-store';
import { buildV5 } from '../../edge/demo/netflow-v5-writer';
import { createFaultyKv } from '../common/helpers/faulty-kv-store';

const T0 = 1_700_000_100_000; // a bucket start
const MINUTE = 60_000;
const config = loadEdgeConfig({ env: {}, overrides: { edgeId: 'e1', tenantId: 'op1', closeGraceSec: 60, liveIntervalMs: 0, checkpointIntervalMs: MINUTE } });

function datagram(nowMs: number, bytes: number, seq: number) {
  return buildV5([{ src: [198, 51, 100, 1], dst: [203, 0, 113, 9], inputIf: 1, outputIf: 2, packets: 3, bytes, startMs: nowMs - 2000, endMs: nowMs - 1000 }], { nowMs, sequence: seq });
}


function setup() {
  const backing = createMemoryKvStore();
  const faults = createFaultyKv(backing);
  const clock = createManualClock(T0 + 10_000);
  const timers = createManualTimers();
  // A process opens its own store; a restart opens a new one on the same "disk".
  const newKv = () => createReopeningKvStore({ open: async () => faults.handle(), log: silentLogger, clock, minBackoffMs: 1000, maxBackoffMs: 30_000 });
  const kv = newKv();
  const makeEdge = (store = kv) => createEdge({ config, clock, log: silentLogger, kv: store, listenUdp: false, publish: false, timers });
  let seq = 0;
  let ingested = 0;
  /** One minute: a datagram of `bytes`, then the checkpoint tick (through the injected timers). */
  async function minute(edge: ReturnType<typeof makeEdge>, bytes: number) {
    edge.ingest(datagram(clock.nowMs(), bytes, seq++), '192.0.2.1');
    ingested += bytes;
    clock.advanceMs(MINUTE);
    await timers.tick(MINUTE);
  }
  return { backing, faults, clock, timers, kv, newKv, makeEdge, minute, ingested: () => ingested };
}

t.test('disk full for 15 minutes, process stays up: 0 bytes lost, 0 counted twice', async (t) => {
  const s = setup();
  const edge = s.makeEdge();
  await edge.start();
  let bytesWhileFull = 0;
  for (let m = 0; m < 40; m++) {
    if (m === 7) s.faults.failWrites(true); // disk full across three bucket closes
    if (m === 22) s.faults.failWrites(false); // space is back
    const bytes = 1000 + m * 17;
    if (m >= 7 && m < 22) bytesWhileFull += bytes;
    await s.minute(edge, bytes);
    if (m === 21) {
      t.equal(edge.status().counters.outboxDepth, 1, 'only the bucket closed before the disk filled is in the outbox');
      t.ok(edge.status().counters.storeWriteErrors >= 3, `write errors counted (${edge.status().counters.storeWriteErrors})`);
      t.equal(s.kv.health().healthy, false);
    }
  }
  s.clock.advanceMs(10 * MINUTE);
  await edge.flush();
  const totals = await outboxTotals(s.backing);
  t.comment(JSON.stringify({ ingested: s.ingested(), bytesWhileFull, outbox: totals, storeWriteErrors: edge.status().counters.storeWriteErrors, health: s.kv.health() }));
  t.equal(totals.bytesIn, s.ingested(), 'bytes in: every ingested byte, once');
  t.equal(totals.bytesOut, s.ingested(), 'bytes out: every ingested byte, once');
  t.equal(s.kv.health().healthy, true, 'the store recovered without a restart');
  t.ok(s.kv.health().reopens >= 2, 'by reopening');
  t.equal(edge.status().counters.internalErrors, 0);
  await edge.stop();
  t.equal((await outboxTotals(s.backing)).bytesIn, s.ingested(), 'stop adds nothing more');
});

t.test('restart while the disk is full: the loss is what arrived while it was full, no more', async (t) => {
  const s = setup();
  const first = s.makeEdge();
  await first.start();
  let bytesBeforeFull = 0;
  for (let m = 0; m < 7; m++) { bytesBeforeFull += 2000 + m; await s.minute(first, 2000 + m); }
  s.faults.failWrites(true);
  const before = s.ingested();
  for (let m = 7; m < 16; m++) await s.minute(first, 3000 + m); // crosses a bucket close
  const receivedWhileFull = s.ingested() - before;
  // kill -9 while full: the first edge is simply abandoned (its timers with it).
  s.timers.clearAll();
  const second = s.makeEdge(s.newKv());
  await second.start(); // reads work on a full disk
  let afterRestart = 0;
  for (let m = 16; m < 20; m++) { afterRestart += 4000 + m; await s.minute(second, 4000 + m); } // still full
  s.faults.failWrites(false);
  for (let m = 20; m < 24; m++) { afterRestart += 4000 + m; await s.minute(second, 4000 + m); }
  s.clock.advanceMs(10 * MINUTE);
  await second.flush();
  const totals = await outboxTotals(s.backing);
  const lost = s.ingested() - totals.bytesIn;
  t.comment(JSON.stringify({ ingested: s.ingested(), bytesBeforeFull, receivedWhileFull, afterRestart, outboxBytesIn: totals.bytesIn, lost }));
  t.equal(totals.bytesOut, totals.bytesIn);
  t.ok(lost >= 0, 'nothing counted twice');
  t.ok(lost <= receivedWhileFull, `loss ${lost} bounded by what arrived while full before the restart (${receivedWhileFull})`);
  t.equal(lost, receivedWhileFull, 'here exactly that: the last good checkpoint was the minute before the disk filled');
  await second.stop();
});

t.test('SIGTERM while the disk is full: stop() rejects, the disk keeps the last good checkpoint', async (t) => {
  const s = setup();
  const edge = s.makeEdge();
  await edge.start();
  for (let m = 0; m < 3; m++) await s.minute(edge, 500 + m);
  const saved = s.ingested();
  s.faults.failWrites(true);
  for (let m = 3; m < 5; m++) await s.minute(edge, 700 + m);
  await t.rejects(edge.stop(), /final checkpoint failed/);
  s.faults.failWrites(false);
  const again = s.makeEdge(s.newKv());
  await again.start();
  s.clock.advanceMs(20 * MINUTE);
  await again.flush();
  t.equal((await outboxTotals(s.backing)).bytesIn, saved, 'exactly what the last good checkpoint held');
  await again.stop();
});
