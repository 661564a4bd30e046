/**
 * Issue 11: the current-cycle preview is the bill's own rules applied to the slots so far (pure).
 */
import t from 'tap';
import { computeBill, samplesFromSeries } from '../../../hub/billing/bill';
import type { BillPlan } from '../../../hub/billing/bill-plan';
import { previewBill, previewSpan } from '../../../hub/billing/bill-preview';
import { bpsToBytesPerSlot } from '../../../hub/billing/rates';

const sec = (iso: string) => Date.parse(iso) / 1000;
const IF1 = 'if:10.0.0.1/1';

function plan(fromIso = '2026-10-20T00:00:00Z', method: 'merge' | 'separate' = 'merge'): BillPlan {
  return {
    operatorId: 'isp1', planId: 'p1', name: 'Gold', description: '', billingPeriod: 'monthly', generationDay: 1, emails: [],
    tariffs: [{ effectiveFromSec: 0, currency: 'USD', baseSpeedBps: 10_000_000, baseCostMinor: 50_000, additionalSpeedBps: 1_000_000, additionalCostMinor: 2_500, percentileMethod: method }],
    associations: [{ subjectId: IF1, fromSec: sec(fromIso) }],
    createdAtMs: 0, updatedAtMs: 0,
  };
}

/** n slots from startSec at bps in, bps/2 out; every 10th slot missing. */
function points(startSec: number, n: number, bps: (i: number) => number) {
  return Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 !== 9)
    .map((i) => ({ bucketStartSec: startSec + 300 * i, bytesIn: bpsToBytesPerSlot(bps(i)), bytesOut: bpsToBytesPerSlot(bps(i) / 2), packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1 }));
}

t.test('the span so far: cycle start, up to the slot now running', async (t) => {
  const p = plan();
  const where = previewSpan(p, IF1, sec('2026-11-10T12:02:30Z'))!;
  t.same(where.cycle, { startSec: sec('2026-11-01T00:00:00Z'), endSec: sec('2026-12-01T00:00:00Z') });
  t.same(where.span, { startSec: sec('2026-11-01T00:00:00Z'), endSec: sec('2026-11-10T12:00:00Z') }, 'the 12:00 slot is still filling');
  t.same(where.fullSpan, { startSec: sec('2026-11-01T00:00:00Z'), endSec: sec('2026-12-01T00:00:00Z') });
  t.equal(previewSpan(p, 'if:10.0.0.1/9', sec('2026-11-10T12:00:00Z')), undefined, 'a subject not in the plan has no preview');
  const joined = previewSpan(plan('2026-11-05T08:00:00Z'), IF1, sec('2026-11-10T12:00:00Z'))!;
  t.equal(joined.span.startSec, sec('2026-11-05T08:00:00Z'), 'joined mid-cycle: from the join');
});

t.test('95th, coverage and amount so far are exactly the bill of the same slots; the projection prices the rest at that 95th', async (t) => {
  for (const method of ['merge', 'separate'] as const) {
    const p = plan('2026-10-20T00:00:00Z', method);
    const nowSec = sec('2026-11-10T12:02:30Z');
    const where = previewSpan(p, IF1, nowSec)!;
    const n = (where.span.endSec - where.span.startSec) / 300;
    const samples = samplesFromSeries(where.span, points(where.span.startSec, n, (i) => 8_000_000 + (i % 97) * 100_000));
    const preview = previewBill({ plan: p, subjectId: IF1, ...where, samples, coverageSlots: n });
    const bill = computeBill({ plan: p, tariff: p.tariffs[0]!, cycle: where.cycle, span: where.span, subjectId: IF1, reason: 'cycle_end', samples, billNo: 1, generatedAtMs: 0 });
    t.equal(preview.p95Bps, bill.p95Bps, `${method}: the bill's 95th`);
    t.equal(preview.amountSoFarMinor, bill.charge.amountMinor, `${method}: the bill's amount for the slots so far`);
    t.equal(preview.slotsSoFar, n);
    t.equal(preview.slotsWithData, n - Math.floor(n / 10));
    t.equal(preview.coveragePercent, bill.slots!.coveragePercent);
    t.equal(preview.cycleSlots, 8640);
    t.equal(preview.projectedSlots, 8640, 'in the plan since before the cycle: the whole cycle');
    // 95th ≈ 17.x Mbps over 10 Mbps → blocks of 1 Mbps; the whole cycle at that price, not prorated
    t.equal(preview.projectedAmountMinor, 50_000 + preview.additionalBlocks * 2_500);
    t.equal(preview.additionalBlocks, Math.ceil((preview.p95Bps - 10_000_000) / 1_000_000));
    t.equal(preview.asOfSec, sec('2026-11-10T12:00:00Z'));
    if (method === 'separate') t.ok(preview.p95InBps! >= preview.p95OutBps!, 'separate: in and out shown');
  }
});

t.test('a subject that joined mid-cycle: the projection is prorated over its slots of the cycle', async (t) => {
  const p = plan('2026-11-16T00:00:00Z');
  const where = previewSpan(p, IF1, sec('2026-11-16T01:00:00Z'))!;
  const samples = samplesFromSeries(where.span, points(where.span.startSec, 12, () => 12_000_000));
  const preview = previewBill({ plan: p, subjectId: IF1, ...where, samples });
  t.equal(preview.slotsSoFar, 12);
  t.equal(preview.p95Bps, 12_000_000);
  t.equal(preview.projectedSlots, 15 * 288, '16–30 November');
  t.equal(preview.projectedAmountMinor, Math.round((55_000 * 15 * 288) / 8640), '2 blocks: 55,000 × 4320/8640');
  t.equal(preview.projectedAmountMinor, 27_500);
});

t.test('no whole slot yet: zeros, not NaN', async (t) => {
  const p = plan('2026-11-10T12:01:00Z');
  const where = previewSpan(p, IF1, sec('2026-11-10T12:03:00Z'))!;
  const samples = samplesFromSeries(where.span, []);
  const preview = previewBill({ plan: p, subjectId: IF1, ...where, samples });
  t.equal(preview.slotsSoFar, 0);
  t.equal(preview.p95Bps, 0);
  t.equal(preview.amountSoFarMinor, 0);
  t.equal(preview.coveragePercent, 0);
  t.ok(Number.isFinite(preview.projectedAmountMinor));
});
