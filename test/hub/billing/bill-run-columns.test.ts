import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { createBillingModule } from '../../../hub/billing/billing-module';
import type { SeriesReader } from '../../../hub/ports';
import { createKvSeriesStore } from '../../../hub/store/kv-series-store';
import type { SummaryInput } from '../../../hub/store/series-store';
import { withDerivedReads } from '../store/fake-series';
import { seedSeries } from '../store/series-fixtures';

// The bill run reads the real store through readSlotColumns (no point objects); the bills and
// their samples must be exactly those made from readSeries' points.
t.test('bills from the bulk column read equal bills from readSeries', async (t) => {
  const startSec = Date.UTC(2026, 10, 1) / 1000;
  const series = createKvSeriesStore({ kv: createMemoryKvStore() });
  const all: SummaryInput[] = [];
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const subjects = ['if:10.0.0.1/1', 'if:10.0.0.1/2', 'ipg:gold'];
  // A month and a bit, sparse, with a gap of days, starting a little before the plan.
  for (let slot = -20; slot < 31 * 288; slot++) {
    if (slot > 5 * 288 && slot < 8 * 288) continue;
    const batch = subjects.filter(() => rnd() > 0.1).map((subjectId) => ({
      subjectId, kind: subjectId.startsWith('if:') ? 'interface' as const : 'ip_group' as const, bucketStartSec: startSec + slot * 300,
      bytesIn: Math.floor(rnd() * 4e10), bytesOut: Math.floor(rnd() * 1e9), packetsIn: 5, packetsOut: 6, flowsIn: 7, flowsOut: 8,
    }));
    all.push(...batch);
  }
  await seedSeries(series, 'isp1', all);
  // The same store read through readSeries only (columns laid out from its points).
  const pointsOnly: SeriesReader = withDerivedReads({ readSeries: series.readSeries, listSubjects: series.listSubjects, reportedBucketCount: series.reportedBucketCount });

  const runWith = async (reader: SeriesReader) => {
    const clock = createManualClock(startSec * 1000 + 3_600_000 * 7.5); // plan starts mid-morning: a partial first slot
    const billing = createBillingModule({ kv: createMemoryKvStore(), clock, log: silentLogger, seriesReader: reader, startJobs: false, mailer: { send: async () => ({ id: 'x' }) }, renderPdf: async () => new Uint8Array(0) });
    for (const [i, method] of (['merge', 'separate'] as const).entries()) {
      await billing.service.createPlan('isp1', {
        name: `p${i}`, billingPeriod: 'monthly', generationDay: 1, currency: 'USD', baseSpeedBps: 1e8, baseCostMinor: 1000,
        additionalSpeedBps: 1e7, additionalCostMinor: 50, percentileMethod: method, emails: 'a@b.example', subjectIds: i === 0 ? subjects.slice(0, 2) : subjects.slice(2),
      });
    }
    clock.setMs(Date.UTC(2026, 11, 1, 0, 30));
    const result = await billing.runDueJobs(clock.nowMs());
    const bills = (await billing.store.listBills('isp1')).map(({ planId: _p, ...b }) => b).sort((a, b) => (a.subjectId < b.subjectId ? -1 : 1));
    const samples = await Promise.all((await billing.store.listBills('isp1')).sort((a, b) => (a.subjectId < b.subjectId ? -1 : 1)).map((b) => billing.store.getSamples('isp1', b.billNo)));
    return { result, bills: bills.map(({ billNo: _n, ...b }) => b), samples };
  };
  const viaColumns = await runWith(series);
  const viaPoints = await runWith(pointsOnly);
  t.equal(viaColumns.result.generated, 3);
  t.same(viaColumns.bills, viaPoints.bills);
  t.same(viaColumns.samples, viaPoints.samples);
  t.ok(viaColumns.bills.every((b) => b.subjectReportedSlots > 0 && b.p95Bytes > 0), 'the bills have data');
});

t.test('stored samples round-trip at every magnitude (varints across the 2^31 and 2^49 boundaries)', async (t) => {
  const { encodeSamples, decodeSamples } = await import('../../../hub/billing/sample-codec');
  const values = [0, 1, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32, 2 ** 35 - 1, 2 ** 49 + 3, 2 ** 53 - 1];
  const n = values.length * 2;
  const s = { firstSlotSec: 1_795_000_200, bytesIn: new Float64Array(n), bytesOut: new Float64Array(n), reported: new Uint8Array(n) };
  values.forEach((v, i) => { s.bytesIn[2 * i] = v; s.bytesOut[2 * i] = values[values.length - 1 - i]!; s.reported[2 * i] = 1; });
  s.bytesIn[n - 2] = 2 ** 53 - 2; // bytesIn is stored + 1
  t.same(decodeSamples(encodeSamples(s)), s);
});
