/**
 * Issue 8 on a real full disk: LevelDB (through the reopening store) on a 5 MB tmpfs, filled with a
 * filler file while flows keep arriving across bucket closes, then freed. The edge must recover
 * without a restart and the outbox must hold every ingested byte exactly once, in memory and on disk
 * (read back with a fresh LevelDB handle: no torn-write rewind). Needs root (mount); skipped with the
 * reason otherwise. No real timers: the clock is manual and flushes are called directly; the awaits
 * are LevelDB's real I/O.
 */
import t from 'tap';
import { outboxTotals } from './helpers/outbox-totals';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEdge } from '../../edge/create-edge';
import { loadEdgeConfig } from '../../edge/config';
import { createManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { createManualTimers } from '../../common/ticker';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import { openReopeningKvStore } from '../../common/kv/reopening-kv-store';
import { buildV5, type V5Flow } from '../../edge/demo/netflow-v5-writer';

const T0 = 1_700_000_100_000;
const MINUTE = 60_000;

function tryMount(): { dir?: string; reason?: string } {
  if (process.platform !== 'linux') return { reason: `tmpfs mount needs Linux (platform ${process.platform})` };
  if (process.getuid?.() !== 0) return { reason: 'not running as root: cannot mount a 5 MB tmpfs' };
  const dir = mkdtempSync(path.join(tmpdir(), 'flowbill-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=5m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    rmdirSync(dir);
    return { reason: `mount -t tmpfs not permitted here: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}` };
  }
}

const mounted = tryMount();
if (!mounted.dir) {
  t.plan(0, `skipped: ${mounted.reason}`);
} else {
  const dir = mounted.dir;
  t.teardown(() => {
    try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); }
    rmdirSync(dir);
  });


  /** Fill the filesystem to the last byte: ENOSPC ends the filler. */
  function fillDisk(file: string): number {
    const fd = openSync(file, 'w');
    const chunk = Buffer.alloc(64 * 1024, 0x55);
    let written = 0;
    try {
      for (;;) {
        const size = Math.max(1, Math.min(chunk.length, statfsSync(dir).bavail * statfsSync(dir).bsize || 1));
        written += writeSync(fd, chunk, 0, size);
      }
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOSPC') throw err;
    } finally {
      closeSync(fd);
    }
    return written;
  }

  t.test('real LevelDB on a full 5 MB tmpfs: stays up, recovers when space returns, byte totals exact', async (t) => {
    const config = loadEdgeConfig({ env: {}, overrides: { edgeId: 'e1', tenantId: 'op1', closeGraceSec: 60, liveIntervalMs: 0, checkpointIntervalMs: MINUTE, dataDir: dir } });
    const clock = createManualClock(T0 + 10_000);
    const location = path.join(dir, 'state');
    const kv = await openReopeningKvStore({ open: () => openLevelKvStore(location), log: silentLogger, clock, minBackoffMs: 1000, maxBackoffMs: 30_000 });
    const edge = createEdge({ config, clock, log: silentLogger, kv, listenUdp: false, publish: false, timers: createManualTimers() });
    await edge.start();

    let seq = 0;
    let ingested = 0;
    // 8 datagrams × 30 flows a minute over 240 interfaces: every checkpoint rewrites a few hundred buckets.
    async function minute(m: number) {
      const nowMs = clock.nowMs();
      for (let d = 0; d < 8; d++) {
        const flows: V5Flow[] = [];
        for (let r = 0; r < 30; r++) {
          const bytes = 1000 + m * 131 + d * 17 + r;
          ingested += bytes;
          flows.push({ src: [198, 51, 100, r], dst: [203, 0, 113, d], inputIf: 1 + d * 30 + r, outputIf: 1000 + r, packets: 2, bytes, startMs: nowMs - 2000, endMs: nowMs - 1000 });
        }
        edge.ingest(buildV5(flows, { nowMs, sequence: seq }), '192.0.2.1');
        seq += 30;
      }
      clock.advanceMs(MINUTE);
      await edge.flush();
    }

    for (let m = 0; m < 4; m++) await minute(m);
    const filler = path.join(dir, 'filler');
    const fillerBytes = fillDisk(filler);
    const errorsBefore = edge.status().counters.storeWriteErrors;
    for (let m = 4; m < 18; m++) await minute(m); // ~14 minutes full, across bucket closes
    const errorsWhileFull = edge.status().counters.storeWriteErrors - errorsBefore;
    const depthWhileFull = edge.status().counters.outboxDepth;
    rmSync(filler);
    for (let m = 18; m < 24; m++) await minute(m);
    clock.advanceMs(10 * MINUTE);
    await edge.flush();
    const inMemory = await outboxTotals(kv);
    const health = kv.health();
    await edge.stop();
    await kv.close();
    const fresh = await openLevelKvStore(location); // what a restart would find
    const onDisk = await outboxTotals(fresh);
    await fresh.close();

    t.comment(JSON.stringify({ fillerBytes, ingested, errorsWhileFull, depthWhileFull, inMemory, onDisk, health, lost: ingested - onDisk.bytesIn }));
    t.ok(errorsWhileFull > 0, `writes failed while the disk was full (${errorsWhileFull})`);
    t.equal(health.healthy, true, 'recovered without a restart');
    t.ok(health.reopens > 0, 'by reopening LevelDB');
    t.equal(inMemory.bytesIn, ingested, 'outbox bytes in == ingested: 0 lost, 0 twice');
    t.equal(inMemory.bytesOut, ingested);
    t.same(onDisk, inMemory, 'a fresh handle reads the same (no torn-write rewind)');
  });
}
