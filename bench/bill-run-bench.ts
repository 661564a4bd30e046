/**
 * A bill run for BENCH_SUBJECTS subjects (default 10,000) over a 31-day month of 5-minute samples
 * (8928 slots per direction). Prints figures only, no assertions. Target: under 30 s on this 2-core
 * machine. Two runs, each with bills stored in LevelDB:
 *   A. series from a synthetic in-memory SeriesReader (16 prebuilt months shared by the subjects):
 *      the billing module's own cost;
 *   B. series from the REAL store (hub/store day chunks over LevelDB), loaded first with whole day
 *      chunks in large atomic batches (seriesLoadOps; load time printed, not part of the run;
 *      BENCH_REAL=0 skips B, BENCH_SYNTHETIC=0 skips A).
 *
 * Measured: runDueJobs → for every subject read the month, lay out the slots, 95th (merge), price,
 * and store bill + samples + number + key atomically. Report mails are stubbed in that figure (a
 * month's pdfmake report takes about a second: mails drain after the bills, see the PDF figure).
 * `npm run bench -- bill-run`, or BENCH_SUBJECTS=1000 npx tsx bench/bill-run-bench.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Level } from 'level';
import { BUCKET_SEC } from '../common/bucket';
import { createManualClock } from '../common/clock';
import { openLevelKvStore } from '../common/kv/level-kv-store';
import type { KeyValueStore, KvOp } from '../common/kv/kv-store';
import { silentLogger } from '../common/logger';
import { interfaceSubjectId } from '../common/subject-id';
import { createBillingModule } from '../hub/billing/billing-module';
import { renderBillPdf } from '../hub/billing/bill-pdf';
import { coverageLoadOps, createKvSummaryStore, seriesLoadOps } from '../hub/store/kv-summary-store';
import { addToSlot, emptyDayChunk, type DayChunk } from '../hub/store/day-chunk';
import type { SeriesPoint, SeriesReader } from '../hub/ports';

const SUBJECTS = Number(process.env.BENCH_SUBJECTS ?? 10_000);
const PLANS = 10;
const MONTH_START_SEC = Date.UTC(2026, 11, 1) / 1000; // December 2026: 31 days
const SLOTS = 31 * 288;
const OP = 'isp1';


function subjectIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => interfaceSubjectId(`10.${(i >> 8) & 255}.${i & 255}.1`, 1 + (i % 48)));
}

/** A month of one subject: diurnal shape, noise, 3% bursts; deterministic per seed. */
function monthOf(seedIn: number): { bucketStartSec: number; bytesIn: number; bytesOut: number }[] {
  let seed = seedIn;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const rateBps = 1e6 + rnd() * 5e8;
  const out = new Array(SLOTS);
  for (let s = 0; s < SLOTS; s++) {
    const day = (s % 288) / 288;
    const f = 0.3 + 0.7 * Math.sin(Math.PI * day) ** 2 + (rnd() < 0.03 ? 2 : 0) + rnd() * 0.2;
    out[s] = { bucketStartSec: MONTH_START_SEC + s * BUCKET_SEC, bytesIn: Math.round((rateBps * f * BUCKET_SEC) / 8), bytesOut: Math.round((rateBps * 0.3 * f * BUCKET_SEC) / 8) };
  }
  return out;
}

async function billRun(label: string, seriesReader: SeriesReader, subjects: string[], kv: KeyValueStore): Promise<void> {
  const clock = createManualClock(MONTH_START_SEC * 1000); // plans made as December begins
  let firstMailMs: number | undefined;
  const billing = createBillingModule({
    kv, clock, log: silentLogger, seriesReader, startJobs: false,
    // The first mail marks the end of bill generation: runDue drains the mails after every bill is stored.
    mailer: { send: async () => { firstMailMs ??= performance.now(); return { id: 'stub' }; } },
    renderPdf: async () => new Uint8Array(0),
  });
  const perPlan = Math.ceil(subjects.length / PLANS);
  for (let p = 0; p < PLANS; p++) {
    const ids = subjects.slice(p * perPlan, (p + 1) * perPlan);
    if (ids.length === 0) continue;
    await billing.service.createPlan(OP, {
      name: `plan ${p}`, billingPeriod: 'monthly', generationDay: 1, currency: 'USD', baseSpeedBps: 100_000_000,
      baseCostMinor: 100_000, additionalSpeedBps: 10_000_000, additionalCostMinor: 5_000, percentileMethod: p % 2 ? 'separate' : 'merge',
      emails: 'billing@customer.example', subjectIds: ids,
    });
  }
  clock.setMs(Date.UTC(2027, 0, 1, 0, 20));
  const memBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  let t0 = performance.now();
  const result = await billing.runDueJobs(clock.nowMs());
  const runSec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // CPU seconds of this process (all its threads, LevelDB's included): the figure to trust when
  // other work shares the machine and stretches the wall-clock time.
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  const bills = await billing.store.listBills(OP, { limit: 3 });
  const genSec = ((firstMailMs ?? performance.now()) - t0) / 1000;
  console.log(`[${label}] bill run: ${result.generated} bills (${result.failed} failed), ${SLOTS} slots each, in ${runSec.toFixed(2)} s ` +
    `(${((runSec * 1000) / Math.max(1, result.generated)).toFixed(2)} ms per bill; target < 30 s for 10,000), ${cpuSec.toFixed(1)} CPU-s, load ${os.loadavg()[0]!.toFixed(1)}, rss +${((process.memoryUsage().rss - memBefore) / 2 ** 20).toFixed(0)} MiB; ` +
    `of which bills computed and stored ${genSec.toFixed(2)} s, then ${result.mailed} stub mails drained ${(runSec - genSec).toFixed(2)} s`);
  const b0 = bills[0];
  if (b0) console.log(`[${label}] sample bill: no. ${b0.billNo} ${b0.subjectId} n=${b0.n} discarded=${b0.discardedSamples} 95th=${Math.round(b0.p95Bps)} bps amount=${b0.charge.amountMinor} ${b0.charge.currency}`);
  t0 = performance.now();
  const again = await billing.runDueJobs(clock.nowMs());
  console.log(`[${label}] second run at the same instant: ${again.generated} new bills in ${((performance.now() - t0) / 1000).toFixed(2)} s (idempotent)`);
  if (label === 'A synthetic reader') {
    // The report mails: time a few real pdfmake reports of a month.
    const PDFS = 3;
    t0 = performance.now();
    let bytes = 0;
    for (const b of bills.slice(0, PDFS)) {
      const { bill, samples } = await billing.service.billDetails(OP, b.billNo);
      bytes += (await renderBillPdf(bill, samples)).length;
    }
    const k = Math.max(1, Math.min(PDFS, bills.length));
    const pdfSec = (performance.now() - t0) / 1000 / k;
    console.log(`PDF report of a month: ${pdfSec.toFixed(2)} s each (${Math.round(bytes / k / 1024)} KiB); mailing ${result.generated} reports after the run ≈ ${((pdfSec * result.generated) / 60).toFixed(0)} min on one core`);
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-bill-bench-'));
try {
  const subjects = subjectIds(SUBJECTS);

  // A: synthetic reader
  const indexOf = new Map(subjects.map((id, i) => [id, i]));
  const months = Array.from({ length: 16 }, (_, i) => monthOf(1000 + i));
  // Prebuilt points, handed out as they are for the whole month: A measures the billing module,
  // not the cost of making points.
  const monthPoints: SeriesPoint[][] = months.map((m) => m.map((p) => ({ bucketStartSec: p.bucketStartSec, bytesIn: p.bytesIn, bytesOut: p.bytesOut, packetsIn: 1000, packetsOut: 800, flowsIn: 10, flowsOut: 9 })));
  const synthetic: SeriesReader = {
    async readSeries(_op, subjectId, fromSec, toSec) {
      const m = monthPoints[(indexOf.get(subjectId) ?? 0) % 16] ?? monthPoints[0]!;
      return fromSec <= m[0]!.bucketStartSec && toSec > m[m.length - 1]!.bucketStartSec ? m : m.filter((p) => p.bucketStartSec >= fromSec && p.bucketStartSec < toSec);
    },
    async listSubjects() { return []; },
    async reportedBucketCount(_op, fromSec, toSec) { return Math.max(0, (toSec - fromSec) / BUCKET_SEC); },
    async readSlotColumns(op, subjectId, firstSlotSec, n, into) {
      for (const p of await synthetic.readSeries(op, subjectId, firstSlotSec, firstSlotSec + n * BUCKET_SEC)) {
        const i = (p.bucketStartSec - firstSlotSec) / BUCKET_SEC;
        into.bytesIn[i]! += p.bytesIn;
        into.bytesOut[i]! += p.bytesOut;
        into.reported[i] = 1;
      }
    },
  };
  if (process.env.BENCH_SYNTHETIC !== '0') {
    const kvA = await openLevelKvStore(path.join(dir, 'db-a'));
    await billRun('A synthetic reader', synthetic, subjects, kvA);
    await kvA.close();
  }

  // B: the real series store
  if (process.env.BENCH_REAL !== '0') {
    const kv = await openLevelKvStore(path.join(dir, 'db-b'));
    const series = createKvSummaryStore(kv);
    // Load: whole day chunks written in large atomic batches through the store's bulk-load ops
    // (the same key layout and encoding add() writes; ingest's per-summary path would take minutes).
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const monthDays = months.map((m) => {
      const days: { dayStartSec: number; chunk: DayChunk }[] = [];
      for (let d = 0; d < SLOTS / 288; d++) {
        const chunk = emptyDayChunk();
        for (let slot = 0; slot < 288; slot++) {
          const p = m[d * 288 + slot]!;
          addToSlot(chunk, slot, { bytesIn: p.bytesIn, bytesOut: p.bytesOut, packetsIn: 1000, packetsOut: 800, flowsIn: 10, flowsOut: 9 });
        }
        days.push({ dayStartSec: MONTH_START_SEC + d * 86_400, chunk });
      }
      return days;
    });
    const SUBJECTS_PER_WRITE = 50;
    for (let s = 0; s < subjects.length; s += SUBJECTS_PER_WRITE) {
      const ops: KvOp[] = [];
      for (let i = s; i < Math.min(subjects.length, s + SUBJECTS_PER_WRITE); i++) ops.push(...seriesLoadOps(OP, subjects[i]!, 'interface', monthDays[i % 16]!));
      await kv.write(ops);
    }
    const fullDay = new Uint8Array(36).fill(255);
    await kv.write(coverageLoadOps(OP, monthDays[0]!.map((d) => ({ dayStartSec: d.dayStartSec, bitmap: fullDay }))));
    const loadCpu = process.cpuUsage(cpu0);
    console.log(`[B real store] data load: ${SUBJECTS} subjects × ${SLOTS} slots (${SUBJECTS * 31} day chunks, ${SUBJECTS_PER_WRITE} subjects per atomic write) in ${((performance.now() - t0) / 1000).toFixed(1)} s, ` +
      `${((loadCpu.user + loadCpu.system) / 1e6).toFixed(1)} CPU-s (setup, not timed in the run)`);
    // The reader alone: one subject-month per call, as the bill run asks it.
    const READS = Math.min(500, subjects.length);
    const r0 = performance.now();
    let points = 0;
    for (let i = 0; i < READS; i++) points += (await series.readSeries(OP, subjects[(i * 7919) % subjects.length]!, MONTH_START_SEC, MONTH_START_SEC + SLOTS * BUCKET_SEC)).length;
    console.log(`[B real store] readSeries of a subject-month: ${((performance.now() - r0) / READS).toFixed(2)} ms each (${READS} reads, ${points / READS} points each)`);
    const c0 = performance.now();
    for (let i = 0; i < READS; i++) {
      const cols = { bytesIn: new Float64Array(SLOTS), bytesOut: new Float64Array(SLOTS), reported: new Uint8Array(SLOTS) };
      await series.readSlotColumns!(OP, subjects[(i * 7919) % subjects.length]!, MONTH_START_SEC, SLOTS, cols);
    }
    console.log(`[B real store] readSlotColumns of a subject-month (the bill run's read): ${((performance.now() - c0) / READS).toFixed(2)} ms each`);
    // A hub's series arrive over a month, so LevelDB has long compacted them when the bills are
    // made. The bulk load just wrote ~2 GB at once: let its level-0 compactions finish first, or
    // the run would measure LevelDB's write stalls on a backlog (printed, not part of the run).
    await kv.close();
    const s0 = performance.now();
    const raw = new Level<string, Uint8Array>(path.join(dir, 'db-b'), { keyEncoding: 'utf8', valueEncoding: 'view' });
    await raw.open();
    // classic-level (under level) has getProperty; level's types do not declare it.
    const level0 = () => (raw as unknown as { getProperty(p: string): string }).getProperty('leveldb.num-files-at-level0');
    const l0Before = level0();
    while (Number(level0()) > 2 && performance.now() - s0 < 60_000) await new Promise((r) => setTimeout(r, 200));
    console.log(`[B real store] settle: level-0 files ${l0Before} -> ${level0()} in ${((performance.now() - s0) / 1000).toFixed(1)} s`);
    await raw.close();
    const kvRun = await openLevelKvStore(path.join(dir, 'db-b'));
    // bills in the same LevelDB as the series, as in the hub
    await billRun('B real store', createKvSummaryStore(kvRun), subjects, kvRun);
    await kvRun.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
