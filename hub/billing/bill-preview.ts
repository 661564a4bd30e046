import type { BillPreview } from '../../common/api/bills';
import { bucketStartSecOf } from '../../common/bucket';
import type { BillSamples, BillSpan } from './bill';
import { computeBill, spanSlots } from './bill';
import type { BillPlan } from './bill-plan';
import { tariffForCycle } from './bill-plan';
import type { Cycle } from './bill-cycle';
import { cycleContaining } from './bill-cycle';
import { priceBill } from './pricing';

/**
 * The part of the current cycle the subject's next bill will cover, and how far it has run: from the
 * later of the cycle's start and the subject's (current) association start, to the start of the slot
 * now running (a slot still filling is not "so far"). undefined when no association of the subject is
 * open. Pure.
 */
export function previewSpan(plan: BillPlan, subjectId: string, nowSec: number): { cycle: Cycle; span: BillSpan; fullSpan: BillSpan } | undefined {
  const a = plan.associations.find((x) => x.subjectId === subjectId && x.toSec === undefined);
  if (!a) return undefined;
  const cycle = cycleContaining(plan.billingPeriod, plan.generationDay, nowSec);
  const startSec = Math.max(cycle.startSec, a.fromSec);
  const asOfSec = Math.max(startSec, bucketStartSecOf(nowSec));
  return { cycle, span: { startSec, endSec: asOfSec }, fullSpan: { startSec, endSec: cycle.endSec } };
}

/**
 * Pure: the current cycle so far for one subject, with the same rules a bill uses (computeBill:
 * the 95th of hub/billing/percentile.ts, pricing.ts's blocks and proration, bill.ts's slot counting),
 * and a projection: the price the next regular bill would have IF the rest of the cycle stays at the
 * 95th so far (the cycle's price at that 95th, prorated over the slots from spanStartSec to the cycle's
 * end). `samples` are the span's slots (previewSpan(...).span), as the bill run reads them.
 */
export function previewBill(input: {
  plan: BillPlan; subjectId: string; cycle: Cycle; span: BillSpan; fullSpan: BillSpan; samples: BillSamples; coverageSlots?: number;
}): BillPreview {
  const { plan, cycle, span } = input;
  const tariff = tariffForCycle(plan, cycle);
  const soFar = computeBill({
    plan, tariff, cycle, span, subjectId: input.subjectId, reason: 'cycle_end', samples: input.samples,
    coverageSlots: input.coverageSlots, billNo: 0, generatedAtMs: 0,
  });
  const projectedSlots = spanSlots(input.fullSpan).n;
  const cycleSlots = spanSlots(cycle).n;
  const projected = priceBill(tariff, soFar.p95Bytes, projectedSlots, cycleSlots);
  return {
    planId: plan.planId,
    planName: plan.name,
    subjectId: input.subjectId,
    cycleStartSec: cycle.startSec,
    cycleEndSec: cycle.endSec,
    spanStartSec: span.startSec,
    asOfSec: span.endSec,
    method: tariff.percentileMethod,
    p95Bps: soFar.p95Bps,
    ...(soFar.p95InBps !== undefined ? { p95InBps: soFar.p95InBps, p95OutBps: soFar.p95OutBps } : {}),
    slotsSoFar: soFar.n,
    slotsWithData: soFar.subjectReportedSlots,
    coveragePercent: soFar.slots!.coveragePercent,
    // No whole slot yet: nothing to bill so far (priceBill would prorate 0/n to 0 anyway).
    amountSoFarMinor: soFar.n === 0 ? 0 : soFar.charge.amountMinor,
    projectedAmountMinor: projected.amountMinor,
    projectedSlots,
    cycleSlots,
    additionalBlocks: projected.additionalBlocks,
    currency: tariff.currency,
  };
}
