/**
 * The 95th percentile exactly as the seed defines it (NOTES, "Billing"):
 * samples are 5-minute byte counts; sort descending, discard the top floor(n/20), the highest
 * remaining sample is the 95th (nearest rank). Work stays in integer bytes per slot; conversion to
 * bits per second (bytes*8/300) happens once, for display and pricing, in rates.ts.
 */

import { BUCKET_SEC } from '../../common/bucket';

/** A billing slot (one sample) is one 5-minute bucket (common/bucket.ts). */
export const SLOT_SEC = BUCKET_SEC;

export interface Percentile95 {
  /** Bytes in the 5-minute slot that is the 95th percentile. */
  valueBytes: number;
  /** How many samples were ranked. */
  n: number;
  /** How many of the highest were discarded: floor(n/20). */
  discarded: number;
}

export type PercentileMethod = 'merge' | 'separate';

export interface BilledPercentile {
  method: PercentileMethod;
  /** merge: in and out pooled (2n samples). separate: undefined. */
  merged?: Percentile95;
  /** separate: each direction on its own. merge: undefined. */
  in?: Percentile95;
  out?: Percentile95;
  /** The figure that is billed, in bytes per slot. */
  billedBytes: number;
}

/**
 * Where the 95th sits in the descending sort, counted from 1 at the top: the first sample after the
 * floor(n/20) discarded ones (a bill states it so a reader can find it in the sorted samples).
 * 0 when there was nothing to rank.
 */
export function takenRank(p: Pick<Percentile95, 'n' | 'discarded'>): number {
  return p.n === 0 ? 0 : p.discarded + 1;
}

/** 95th: sort descending, drop floor(n/20), take the next. Does not modify `samples`. */
export function percentile95(samples: ArrayLike<number>): Percentile95 {
  const work = scratchOf(samples.length);
  if (samples instanceof Float64Array) work.set(samples);
  else for (let i = 0; i < samples.length; i++) work[i] = samples[i]!;
  return percentile95InPlace(work);
}

// One work buffer reused by every call (selection is synchronous, so never shared between two
// calls): a bill run ranks 10,000 months of 8928-17,856 samples, and a fresh 140 KB array per bill
// is garbage the collector has to chase.
let scratch = new Float64Array(0);
function scratchOf(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * 31 * 288));
  return scratch.subarray(0, n);
}

/** Same, reordering `work` (a buffer the caller owns) instead of copying it. */
function percentile95InPlace(work: Float64Array): Percentile95 {
  const n = work.length;
  const discarded = Math.floor(n / 20);
  if (n === 0) return { valueBytes: 0, n: 0, discarded: 0 };
  // Descending rank `discarded` (0-based) = ascending index n-1-discarded. Selection instead of a
  // full sort: same answer, linear time (a month is 8928 samples per direction, ×10,000 subjects).
  return { valueBytes: selectKth(work, n - 1 - discarded), n, discarded };
}

/**
 * "In & Out merge": the in and out samples pooled into one set of 2n, then the rule.
 * This is not in+out summed per slot (what LibreNMS/Cacti call "aggregate"). Never above separate.
 */
export function mergedPercentile95(bytesIn: ArrayLike<number>, bytesOut: ArrayLike<number>): Percentile95 {
  const pooled = scratchOf(bytesIn.length + bytesOut.length);
  pooled.set(bytesIn as ArrayLike<number>, 0);
  pooled.set(bytesOut as ArrayLike<number>, bytesIn.length);
  return percentile95InPlace(pooled);
}

/** The figure a plan bills: merge → pooled 95th; separate → the higher of the in and out 95ths. */
export function billedPercentile95(method: PercentileMethod, bytesIn: ArrayLike<number>, bytesOut: ArrayLike<number>): BilledPercentile {
  if (method === 'merge') {
    const merged = mergedPercentile95(bytesIn, bytesOut);
    return { method, merged, billedBytes: merged.valueBytes };
  }
  const pin = percentile95(bytesIn);
  const pout = percentile95(bytesOut);
  return { method, in: pin, out: pout, billedBytes: Math.max(pin.valueBytes, pout.valueBytes) };
}

/** Hoare-style quickselect (median of three): the value that would sit at index k of the ascending sort. */
function selectKth(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as pivot, so sorted and constant inputs (idle links: all zeros) stay linear
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) { swap(a, i, j); i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!; a[i] = a[j]!; a[j] = t;
}
