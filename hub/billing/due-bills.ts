import type { BillReason, BillSpan } from './bill';
import { spanSlots } from './bill';
import type { BillPlan } from './bill-plan';
import type { Cycle } from './bill-cycle';
import { cyclesOverlapping } from './bill-cycle';

export interface DueBill {
  operatorId: string;
  planId: string;
  subjectId: string;
  cycle: Cycle;
  span: BillSpan;
  reason: BillReason;
  /** When the bill falls due: the cycle's end plus the grace for late summaries, or the removal instant. */
  dueAtSec: number;
}

/** Longest cycle (a quarter) plus slack: how far before the last run a due bill's cycle can start. */
const LOOKBACK_SEC = 100 * 86_400;

/**
 * Pure: the bills of one plan that fell due in (afterSec, nowSec]. Each association of a subject is
 * cut at the cycle boundaries; the piece that ends with the cycle is due at the cycle's end + grace
 * (edges deliver a bucket's summary a little after it closes), a piece cut short by removal is due
 * at the removal instant. Pieces with no whole 5-minute slot are not billed.
 * The caller persists nowSec as the next afterSec only after every returned bill is stored, so a hub
 * that was down catches up exactly once (and the per-span idempotency key guards the rest).
 */
export function dueBills(plan: BillPlan, afterSec: number, nowSec: number, graceSec: number): DueBill[] {
  const out: DueBill[] = [];
  for (const a of plan.associations) {
    const toSec = a.toSec ?? Infinity;
    const fromSec = Math.max(a.fromSec, afterSec - graceSec - LOOKBACK_SEC);
    const untilSec = Math.min(toSec, nowSec);
    if (untilSec <= fromSec) continue;
    for (const cycle of cyclesOverlapping(plan.billingPeriod, plan.generationDay, fromSec, untilSec)) {
      const span = { startSec: Math.max(cycle.startSec, a.fromSec), endSec: Math.min(cycle.endSec, toSec) };
      if (spanSlots(span).n === 0) continue;
      const endsWithCycle = span.endSec === cycle.endSec;
      const dueAtSec = endsWithCycle ? cycle.endSec + graceSec : span.endSec;
      if (dueAtSec <= afterSec || dueAtSec > nowSec) continue;
      out.push({
        operatorId: plan.operatorId, planId: plan.planId, subjectId: a.subjectId, cycle, span,
        reason: endsWithCycle ? 'cycle_end' : (a.endReason ?? 'subject_removed'), dueAtSec,
      });
    }
  }
  return out.sort((x, y) => x.dueAtSec - y.dueAtSec);
}
