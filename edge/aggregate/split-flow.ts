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
 * the later bucket). BigInt because total*w can pass 2^53 (TB-sized flows × 300,000 ms).
 */
export function apportion(total: number, weights: readonly number[]): number[] {
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

export function splitFlow(startMs: number, endMs: number, bytes: number, packets: number): FlowPart[] {
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
    return [{ bucketStartSec: firstBucket * BUCKET_SEC, bytes, packets, flows: 1 }];
  }
  const weights: number[] = [];
  for (let b = firstBucket; b <= lastBucket; b++) {
    const from = Math.max(startMs, b * BUCKET_MS);
    const to = Math.min(endMs, (b + 1) * BUCKET_MS);
    weights.push(to - from);
  }
  const byteShares = apportion(bytes, weights);
  const packetShares = apportion(packets, weights);
  const parts: FlowPart[] = [];
  for (let i = 0; i < weights.length; i++) {
    parts.push({ bucketStartSec: (firstBucket + i) * BUCKET_SEC, bytes: byteShares[i], packets: packetShares[i], flows: i === weights.length - 1 ? 1 : 0 });
  }
  return parts;
}
