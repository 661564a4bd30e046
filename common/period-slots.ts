/**
 * Which 5-minute slots belong to a period of time: THE rule shared by the hub's collection gate
 * (hub/commerce/netflow-addon.ts: may a bucket be stored for the add-on's trial or paid period?)
 * and the bill's span (hub/billing/bill.ts: which samples does a bill rank and prorate?), so the two
 * can never disagree (issue 12: a bucket straddling an activation instant was refused by the gate
 * while the bill counted its slot as a zero sample).
 *
 * Rule: a slot [s, s + 300) belongs to a period [startSec, endSec) iff it OVERLAPS it:
 *   s < endSec  and  s + 300 > startSec.
 * So the slot in which a period starts (an activation at 12:02:30 → the 12:00 slot) and the slot in
 * which it ends (a trial expiring, a subject removed at 12:02:30 → the 12:00 slot) both belong to it.
 * Why overlap and not "starts inside": the edge collects from the instant the hub allows it and stops
 * at the instant the hub pauses it, so such a slot holds only traffic of the period; refusing or
 * leaving it out would lose up to 5 minutes of paid traffic at each end. Periods whose bounds are
 * slot-aligned (billing cycles start at 00:00 UTC) are unaffected.
 */
import { BUCKET_SEC, bucketStartSecOf } from './bucket';

/** A period of time in Unix seconds, [startSec, endSec); bounds need not be slot-aligned or integers. */
export interface PeriodSec { startSec: number; endSec: number }

/** Do two periods overlap (share any instant)? An empty period [t, t) overlaps nothing. */
export function overlaps(a: PeriodSec, b: PeriodSec): boolean {
  return a.endSec > a.startSec && b.endSec > b.startSec && a.startSec < b.endSec && a.endSec > b.startSec;
}

/**
 * Does the slot starting at slotStartSec (a multiple of 300) belong to the period? It overlaps it.
 * The collection gate asks exactly this of each bucket: overlaps(bucket, collection window).
 */
export function slotInPeriod(slotStartSec: number, period: PeriodSec): boolean {
  return overlaps({ startSec: slotStartSec, endSec: slotStartSec + BUCKET_SEC }, period);
}

/**
 * Every slot that belongs to the period (slotInPeriod), as the first slot and a count:
 * from the slot containing startSec to the last slot starting before endSec.
 */
export function periodSlots(period: PeriodSec): { firstSlotSec: number; n: number } {
  const firstSlotSec = bucketStartSecOf(period.startSec);
  if (!(period.endSec > period.startSec)) return { firstSlotSec, n: 0 };
  const endSlotSec = Math.ceil(period.endSec / BUCKET_SEC) * BUCKET_SEC; // exclusive
  return { firstSlotSec, n: (endSlotSec - firstSlotSec) / BUCKET_SEC };
}
