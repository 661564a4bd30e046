import type { SeriesPoint } from '../ports';
import type { BillPlan, EndReason, Tariff } from './bill-plan';
import type { Cycle } from './bill-cycle';
import type { PercentileMethod } from './percentile';
import { SLOT_SEC, billedPercentile95 } from './percentile';
import type { Charge } from './pricing';
import { priceBill } from './pricing';
import { bytesPerSlotToBps } from './rates';

export type BillReason = 'cycle_end' | EndReason;

/** The part of a cycle one subject's bill covers: [startSec, endSec), both inside the cycle. */
export interface BillSpan { startSec: number; endSec: number }

/** The 5-minute samples behind a bill: every slot of the span, 0 where nothing was reported. */
export interface BillSamples {
  firstSlotSec: number;
  bytesIn: Float64Array;
  bytesOut: Float64Array;
  /** 1 where the series had a point for this slot (the subject was reported), else 0. */
  reported: Uint8Array;
}

export interface Bill {
  operatorId: string;
  /** Sequential per operator, no gaps, never reused. */
  billNo: number;
  planId: string;
  planName: string;
  subjectId: string;
  reason: BillReason;
  cycleStartSec: number;
  cycleEndSec: number;
  spanStartSec: number;
  spanEndSec: number;
  tariff: Tariff;
  method: PercentileMethod;
  /** 5-minute slots in the span: the samples per direction. */
  n: number;
  /** Samples ranked (merge: 2n) and how many of the highest were discarded: floor(ranked/20). */
  rankedSamples: number;
  discardedSamples: number;
  /** separate: also the discarded count per direction (same for both). */
  /** Slots for which the operator's edges reported anything (coverage), and the subject's own points. */
  coverageSlots: number;
  subjectReportedSlots: number;
  p95InBps?: number;
  p95OutBps?: number;
  p95MergedBps?: number;
  /** The billed 95th: merged, or the higher of in and out. */
  p95Bps: number;
  p95Bytes: number;
  charge: Charge;
  emails: string[];
  generatedAtMs: number;
}

/** Slots of a span: a slot belongs to the span when it starts in [floor(start), floor(end)) on the 5-minute grid. */
export function spanSlots(span: BillSpan): { firstSlotSec: number; n: number } {
  const firstSlotSec = Math.floor(span.startSec / SLOT_SEC) * SLOT_SEC;
  const endSlotSec = Math.floor(span.endSec / SLOT_SEC) * SLOT_SEC;
  return { firstSlotSec, n: Math.max(0, (endSlotSec - firstSlotSec) / SLOT_SEC) };
}

/** Lays the series' points onto every slot of the span; slots without a point stay 0 bps. */
export function samplesFromSeries(span: BillSpan, points: SeriesPoint[]): BillSamples {
  const { firstSlotSec, n } = spanSlots(span);
  const s: BillSamples = { firstSlotSec, bytesIn: new Float64Array(n), bytesOut: new Float64Array(n), reported: new Uint8Array(n) };
  for (const p of points) {
    const i = (p.bucketStartSec - firstSlotSec) / SLOT_SEC;
    if (!Number.isInteger(i) || i < 0 || i >= n) continue; // outside the span or off the grid
    s.bytesIn[i] += p.bytesIn;
    s.bytesOut[i] += p.bytesOut;
    s.reported[i] = 1;
  }
  return s;
}

export interface BillInput {
  plan: Pick<BillPlan, 'operatorId' | 'planId' | 'name' | 'emails'>;
  tariff: Tariff;
  cycle: Cycle;
  span: BillSpan;
  subjectId: string;
  reason: BillReason;
  samples: BillSamples;
  /** From SeriesReader.reportedBucketCount; undefined → the subject's own reported slots. */
  coverageSlots?: number;
  billNo: number;
  generatedAtMs: number;
}

/** Pure: the bill for one subject and span, from its samples. */
export function computeBill(input: BillInput): Bill {
  const { samples, tariff } = input;
  const n = samples.bytesIn.length;
  const p = billedPercentile95(tariff.percentileMethod, samples.bytesIn, samples.bytesOut);
  const ranked = p.merged ?? p.in!;
  const cycleSlots = spanSlots(input.cycle).n;
  let reportedSlots = 0;
  for (let i = 0; i < n; i++) reportedSlots += samples.reported[i]!;
  return {
    operatorId: input.plan.operatorId,
    billNo: input.billNo,
    planId: input.plan.planId,
    planName: input.plan.name,
    subjectId: input.subjectId,
    reason: input.reason,
    cycleStartSec: input.cycle.startSec,
    cycleEndSec: input.cycle.endSec,
    spanStartSec: input.span.startSec,
    spanEndSec: input.span.endSec,
    tariff,
    method: tariff.percentileMethod,
    n,
    rankedSamples: ranked.n,
    discardedSamples: ranked.discarded,
    coverageSlots: input.coverageSlots ?? reportedSlots,
    subjectReportedSlots: reportedSlots,
    ...(p.in ? { p95InBps: bytesPerSlotToBps(p.in.valueBytes), p95OutBps: bytesPerSlotToBps(p.out!.valueBytes) } : {}),
    ...(p.merged ? { p95MergedBps: bytesPerSlotToBps(p.merged.valueBytes) } : {}),
    p95Bps: bytesPerSlotToBps(p.billedBytes),
    p95Bytes: p.billedBytes,
    charge: priceBill(tariff, p.billedBytes, n, cycleSlots),
    emails: input.plan.emails,
    generatedAtMs: input.generatedAtMs,
  };
}
