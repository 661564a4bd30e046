import { periodSlots } from '../../common/period-slots';
import type { SeriesPoint } from '../ports';
import type { BillPlan, EndReason, Tariff } from './bill-plan';
import type { Cycle } from './bill-cycle';
import type { PercentileMethod } from './percentile';
import { SLOT_SEC, billedPercentile95, takenRank } from './percentile';
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
  /** How the slots were counted; absent on bills stored before issue 12 (bill-explanation.ts derives it). */
  slots?: SlotAccounting;
  emails: string[];
  generatedAtMs: number;
}

/**
 * The slot accounting stored with every bill, so a disputed bill explains itself (issue 12). It shows
 * the two rules a customer can question: a slot with no sample is ranked as 0 bytes (missing = zero),
 * and a bill for part of a cycle is the cycle's amount × billedSlots / cycleSlots (proration by slots).
 */
export interface SlotAccounting {
  /** 5-minute slots in the billed span: the samples per direction. */
  spanSlots: number;
  /** Slots with a sample of the subject. */
  presentSlots: number;
  /** Slots without one, ranked as 0 bytes. presentSlots + zeroFilledSlots = spanSlots. */
  zeroFilledSlots: number;
  /** presentSlots / spanSlots in percent, rounded down to 2 decimals: 100 only when no slot is missing. */
  coveragePercent: number;
  /** Slots in which any edge of the operator reported (tells an outage from a quiet subject). */
  edgeReportedSlots: number;
  /** Samples in one ranking: merge pools in and out (2 × spanSlots); separate ranks each direction (spanSlots). */
  rankedSamples: number;
  /** The highest floor(rankedSamples / 20) set aside. */
  droppedSamples: number;
  /** Position of the billed sample in the descending sort, from 1: droppedSamples + 1. */
  takenRank: number;
  /** Proration: the bill is the cycle's amount × billedSlots / cycleSlots (the same when the whole cycle is billed). */
  billedSlots: number;
  cycleSlots: number;
}

/** presentSlots / spanSlots in percent, rounded down to 2 decimals (integer arithmetic). */
export function coveragePercent(presentSlots: number, spanSlots: number): number {
  return spanSlots === 0 ? 0 : Math.floor((presentSlots * 10_000) / spanSlots) / 100;
}

/**
 * Slots of a span: every 5-minute slot that overlaps it (common/period-slots.ts, the rule the
 * collection gate uses too): a span starting or ending inside a slot includes that slot.
 */
export function spanSlots(span: BillSpan): { firstSlotSec: number; n: number } {
  return periodSlots(span);
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
  const coverageSlots = input.coverageSlots ?? reportedSlots;
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
    coverageSlots,
    subjectReportedSlots: reportedSlots,
    ...(p.in ? { p95InBps: bytesPerSlotToBps(p.in.valueBytes), p95OutBps: bytesPerSlotToBps(p.out!.valueBytes) } : {}),
    ...(p.merged ? { p95MergedBps: bytesPerSlotToBps(p.merged.valueBytes) } : {}),
    p95Bps: bytesPerSlotToBps(p.billedBytes),
    p95Bytes: p.billedBytes,
    charge: priceBill(tariff, p.billedBytes, n, cycleSlots),
    slots: {
      spanSlots: n,
      presentSlots: reportedSlots,
      zeroFilledSlots: n - reportedSlots,
      coveragePercent: coveragePercent(reportedSlots, n),
      edgeReportedSlots: coverageSlots,
      rankedSamples: ranked.n,
      droppedSamples: ranked.discarded,
      takenRank: takenRank(ranked),
      billedSlots: n,
      cycleSlots,
    },
    emails: input.plan.emails,
    generatedAtMs: input.generatedAtMs,
  };
}
