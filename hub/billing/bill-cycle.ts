/**
 * Bill cycles: how often an operator bills its own customers (a bill plan's `billingPeriod` field in
 * the API). Not the operator's own invoice period with flowbill (hub/commerce/invoice-period.ts).
 * A cycle ends (and its bill is due) at 00:00 UTC of the plan's generation day;
 * the next cycle starts at that instant. Monthly plans have a boundary every month, quarterly plans
 * in January, April, July and October. All boundaries are 5-minute aligned.
 *
 * Day 29–31 clamps to the last day of short months (NOTES: JavaScript's Date and LibreNMS roll over
 * into the next month instead, so 31 February would become 3 March).
 */
export type BillCycle = 'monthly' | 'quarterly';

export interface Cycle { startSec: number; endSec: number }

const MONTHS_PER_CYCLE: Record<BillCycle, number> = { monthly: 1, quarterly: 3 };

export function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** 00:00 UTC of `day` in the month `monthIndex` (months since January 1970), clamped to the month's last day. */
export function boundarySec(monthIndex: number, day: number): number {
  const year = Math.floor(monthIndex / 12);
  const month0 = monthIndex - year * 12;
  const clamped = Math.min(day, daysInMonth(year, month0));
  return Date.UTC(year, month0, clamped) / 1000;
}

function cycleMonthAtOrBefore(billCycle: BillCycle, monthIndex: number): number {
  const step = MONTHS_PER_CYCLE[billCycle];
  return monthIndex - (((monthIndex % step) + step) % step);
}

/** The cycle [startSec, endSec) that contains the instant atSec. */
export function cycleContaining(billCycle: BillCycle, generationDay: number, atSec: number): Cycle {
  const d = new Date(atSec * 1000);
  const step = MONTHS_PER_CYCLE[billCycle];
  let m = cycleMonthAtOrBefore(billCycle, d.getUTCFullYear() * 12 + d.getUTCMonth());
  if (boundarySec(m, generationDay) > atSec) m -= step;
  return { startSec: boundarySec(m, generationDay), endSec: boundarySec(m + step, generationDay) };
}

/** Cycles overlapping [fromSec, toSec), in order. */
export function cyclesOverlapping(billCycle: BillCycle, generationDay: number, fromSec: number, toSec: number): Cycle[] {
  const out: Cycle[] = [];
  let c = cycleContaining(billCycle, generationDay, fromSec);
  while (c.startSec < toSec) {
    out.push(c);
    c = cycleContaining(billCycle, generationDay, c.endSec);
  }
  return out;
}
