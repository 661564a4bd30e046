/**
 * Spreading one flow over 5-minute buckets, pure integer arithmetic.
 *
 * A flow covering [startMs, endMs] is split in proportion to the milliseconds it overlaps each
 * bucket (largest-remainder method, Hamilton), so the parts sum to the flow's exact bytes and
 * packets: nothing is lost or invented by rounding. The flow COUNT (1) goes to the bucket holding
 * the flow's last millisecond: a flow record is "reported" when it ends.
 * A zero-length flow (startMs == endMs) falls entirely into the bucket of startMs.
 *
 * Total functions (defense in depth behind edge/validate/flow-bounds.ts): every export here either
 * returns in time and memory bounded by MAX_FLOW_SPAN_MS / BUCKET_MS + 1 buckets, or throws a RangeError
 * naming the bad argument. Rules: times must be finite and within ±MAX_TIME_MS (so a bucket index is a
 * safe integer and `b++` advances; an IPFIX end of 2^62 ms once made it a no-op and grew memory to
 * 2.4 GB); fractional milliseconds are floored; bytes and packets must be safe integers >= 0 (a total
 * of ~1e37 once made `left--` a no-op in apportion(): an infinite loop). The aggregator catches the
 * RangeError and counts the flow as refused.
 */
import { BUCKET_MS, BUCKET_SEC } from '../../common/bucket';

/** Flows claiming to span more than this are clamped to their last hour (garbage start times). */
export const MAX_FLOW_SPAN_MS = 3600 * 1000;

/** Times beyond ±2^52 ms (year ~142,000) are refused: the arithmetic below stays exact. */
export const MAX_TIME_MS = 2 ** 52;

function checkTimeMs(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms > MAX_TIME_MS || ms < -MAX_TIME_MS) throw new RangeError(`split-flow: ${name} ${ms} is not a time within ±2^52 ms`);
  return Math.floor(ms);
}

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`split-flow: ${name} ${n} is not a safe non-negative integer`);
}

/** Throws a RangeError unless bytes and packets are safe integers >= 0 (what splitFlow checks). */
export function checkFlowCounts(bytes: number, packets: number): void {
  checkCount('bytes', bytes);
  checkCount('packets', packets);
}

export interface FlowPart {
  bucketStartSec: number;
  bytes: number;
  packets: number;
  flows: number;
}

/**
 * Largest remainder: shares of `total` in proportion to `weights` (non-negative, sum > 0), each
 * floor(total*w/W), then the leftover units go one each to the largest fractional parts (ties to
 * the later bucket). Number arithmetic when total*W stays below 2^53 (every product and remainder
 * is then an exact integer), else BigInt (apportionBig: TB-sized flows × 300,000 ms).
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  checkCount('total', total);
  let W = 0;
  for (const w of weights) { checkCount('weight', w); W += w; }
  if (!(W > 0) || !Number.isSafeInteger(W)) throw new RangeError(`split-flow: weights sum to ${W}, expected a positive safe integer`);
  if (total * W > Number.MAX_SAFE_INTEGER) return apportionBig(total, weights);
  const shares = new Float64Array(weights.length);
  const remainders = new Float64Array(weights.length);
  apportionExact(total, W, weights, weights.length, shares, remainders);
  return Array.from(shares);
}

/**
 * apportion() for total * W <= 2^53 - 1 (the caller checks): shares[i] = floor(total*w[i]/W), then the
 * leftover units one each to the largest remainders, ties to the later index: the same integers as
 * apportionBig, because total*w[i] <= total*W is exact in a double, and so are q*W and the remainder.
 */
function apportionExact(total: number, W: number, weights: ArrayLike<number>, n: number, shares: Float64Array, remainders: Float64Array): void {
  let given = 0;
  for (let i = 0; i < n; i++) {
    const num = total * weights[i];
    let q = Math.floor(num / W); // the quotient is rounded: correct it by the exact remainder
    let r = num - q * W;
    if (r < 0) { q--; r += W; } else if (r >= W) { q++; r -= W; }
    shares[i] = q;
    remainders[i] = r;
    given += q;
  }
  // 0 <= left < n: each remainder is below W, so the leftover is below n units.
  let left = total - given;
  if (left < 0 || left >= n) throw new RangeError(`split-flow: apportion(${total}) left ${left} units unassigned`);
  // The `left` largest remainders, ties to the later index (what sorting them would pick). n <= 14.
  while (left > 0) {
    let best = -1;
    for (let i = n - 1; i >= 0; i--) if (remainders[i] >= 0 && (best < 0 || remainders[i] > remainders[best])) best = i;
    shares[best]++;
    remainders[best] = -1; // taken
    left--;
  }
}

/** apportion() in BigInt for any safe-integer total (the reference the Number path must equal). */
export function apportionBig(total: number, weights: readonly number[]): number[] {
  checkCount('total', total);
  let W = 0;
  for (const w of weights) { checkCount('weight', w); W += w; }
  if (!(W > 0) || !Number.isSafeInteger(W)) throw new RangeError(`split-flow: weights sum to ${W}, expected a positive safe integer`);
  const bigTotal = BigInt(total);
  const bigW = BigInt(W);
  const shares: number[] = new Array(weights.length);
  const remainders: bigint[] = new Array(weights.length);
  let given = 0;
  for (let i = 0; i < weights.length; i++) {
    const num = bigTotal * BigInt(weights[i]);
    const share = num / bigW;
    shares[i] = Number(share);
    remainders[i] = num - share * bigW;
    given += shares[i];
  }
  // Exact (safe-integer total and shares), so 0 <= left < weights.length; the k bound makes the
  // loop finite even if that ever stopped being true.
  let left = total - given;
  if (left > 0) {
    const order = weights.map((_, i) => i).sort((a, b) => (remainders[b] > remainders[a] ? 1 : remainders[b] < remainders[a] ? -1 : b - a));
    for (let k = 0; left > 0 && k < order.length; k++, left--) shares[order[k]]++;
  }
  if (left !== 0) throw new RangeError(`split-flow: apportion(${total}) left ${left} units unassigned`);
  return shares;
}

/** The bucket of a flow that lies in one bucket (same rule as splitFlow), else undefined. */
export function singleBucketSec(startMs: number, endMs: number): number | undefined {
  startMs = checkTimeMs('startMs', startMs);
  endMs = checkTimeMs('endMs', endMs);
  if (endMs < startMs) endMs = startMs;
  const lastMs = endMs > startMs ? endMs - 1 : startMs;
  const first = Math.floor(startMs / BUCKET_MS);
  return first === Math.floor(lastMs / BUCKET_MS) ? first * BUCKET_SEC : undefined;
}

/** Most buckets one flow can touch: MAX_FLOW_SPAN_MS of them, plus one for a start inside a bucket. */
export const MAX_FLOW_PARTS = MAX_FLOW_SPAN_MS / BUCKET_MS + 1;

/** Reusable output of splitFlowInto: part i is (bucketStartSec[i], bytes[i], packets[i]); the flow count is on the last. */
export interface FlowParts {
  bucketStartSec: Float64Array;
  bytes: Float64Array;
  packets: Float64Array;
}

export function createFlowParts(): FlowParts {
  return { bucketStartSec: new Float64Array(MAX_FLOW_PARTS), bytes: new Float64Array(MAX_FLOW_PARTS), packets: new Float64Array(MAX_FLOW_PARTS) };
}

// Scratch for splitFlowInto (single-threaded, never held across calls).
const scratchWeights = new Float64Array(MAX_FLOW_PARTS);
const scratchRemainders = new Float64Array(MAX_FLOW_PARTS);

/**
 * splitFlow without allocating: writes the parts into `out` and returns how many (1 ..
 * MAX_FLOW_PARTS). Same rules, same numbers, same RangeErrors as splitFlow.
 */
export function splitFlowInto(startMs: number, endMs: number, bytes: number, packets: number, out: FlowParts): number {
  startMs = checkTimeMs('startMs', startMs);
  endMs = checkTimeMs('endMs', endMs);
  checkFlowCounts(bytes, packets);
  if (endMs < startMs) endMs = startMs;
  if (endMs - startMs > MAX_FLOW_SPAN_MS) startMs = endMs - MAX_FLOW_SPAN_MS;
  // The last millisecond the flow covers: [startMs, endMs) unless it has no duration.
  const lastMs = endMs > startMs ? endMs - 1 : startMs;
  const firstBucket = Math.floor(startMs / BUCKET_MS);
  const lastBucket = Math.floor(lastMs / BUCKET_MS);
  if (firstBucket === lastBucket) {
    out.bucketStartSec[0] = firstBucket * BUCKET_SEC; out.bytes[0] = bytes; out.packets[0] = packets;
    return 1;
  }
  const n = lastBucket - firstBucket + 1;
  let W = 0;
  for (let i = 0; i < n; i++) {
    const b = firstBucket + i;
    const w = Math.min(endMs, (b + 1) * BUCKET_MS) - Math.max(startMs, b * BUCKET_MS);
    scratchWeights[i] = w;
    W += w;
    out.bucketStartSec[i] = b * BUCKET_SEC;
  }
  // W = endMs - startMs <= MAX_FLOW_SPAN_MS, a positive integer.
  if (bytes * W <= Number.MAX_SAFE_INTEGER) apportionExact(bytes, W, scratchWeights, n, out.bytes, scratchRemainders);
  else out.bytes.set(apportionBig(bytes, Array.from(scratchWeights.subarray(0, n))));
  if (packets * W <= Number.MAX_SAFE_INTEGER) apportionExact(packets, W, scratchWeights, n, out.packets, scratchRemainders);
  else out.packets.set(apportionBig(packets, Array.from(scratchWeights.subarray(0, n))));
  return n;
}

export function splitFlow(startMs: number, endMs: number, bytes: number, packets: number): FlowPart[] {
  const out = createFlowParts();
  const n = splitFlowInto(startMs, endMs, bytes, packets, out);
  const parts: FlowPart[] = [];
  for (let i = 0; i < n; i++) {
    parts.push({ bucketStartSec: out.bucketStartSec[i], bytes: out.bytes[i], packets: out.packets[i], flows: i === n - 1 ? 1 : 0 });
  }
  return parts;
}
