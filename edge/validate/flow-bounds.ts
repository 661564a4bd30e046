/**
 * The sanity layer between decode and aggregate: every decoded flow is checked against explicit
 * bounds before any of its values is used for arithmetic, allocation or encoding.
 *
 * Why here and not in the decoders: the decoders turn bytes into numbers faithfully (an 8-byte
 * counter of 2^63 IS what the datagram says); whether a number is plausible traffic is one policy,
 * applied once to every version's output. Downstream code (split-flow, the buckets, the protobuf
 * encoders) may then rely on: finite safe integers well below 2^53, and times within a window of
 * now, so the number of buckets a flow touches and the buckets held at once are bounded.
 *
 * Bounds (edge/config.ts documents the keys):
 *   endMs      in [now - maxAge, now + maxFuture]  (a spoofed header time cannot open a bucket in 1970 or 2300)
 *   startMs    finite and <= endMs (the decoder already orders them; split-flow trims spans > 1 h)
 *   bytes      a safe integer in [0, maxBytesPerFlow]   (after sampling)
 *   packets    a safe integer in [0, maxPacketsPerFlow]
 *   sampling   finite, in [1, maxSamplingRate]; fractional is fine (RFC 5477: (interval+space)/interval)
 */
import type { FlowRecord } from '../decode/flow-record';

export interface FlowBounds {
  maxAgeMs: number;
  maxFutureMs: number;
  maxBytesPerFlow: number;
  maxPacketsPerFlow: number;
  maxSamplingRate: number;
}

export const OUT_OF_BOUNDS_REASONS = [
  'time-not-finite', 'time-too-old', 'time-in-future', 'bytes-out-of-range', 'packets-out-of-range', 'sampling-out-of-range',
] as const;
export type OutOfBoundsReason = (typeof OUT_OF_BOUNDS_REASONS)[number];

export function flowBoundsFromConfig(c: {
  maxFlowAgeSec: number; maxFlowFutureSec: number; maxBytesPerFlow: number; maxPacketsPerFlow: number; maxSamplingRate: number;
}): FlowBounds {
  return {
    maxAgeMs: c.maxFlowAgeSec * 1000, maxFutureMs: c.maxFlowFutureSec * 1000,
    maxBytesPerFlow: c.maxBytesPerFlow, maxPacketsPerFlow: c.maxPacketsPerFlow, maxSamplingRate: c.maxSamplingRate,
  };
}

/** Pure: the first bound `flow` breaks at `nowMs`, or undefined when it may be counted. */
export function outOfBoundsReason(flow: FlowRecord, nowMs: number, b: FlowBounds): OutOfBoundsReason | undefined {
  const { startMs, endMs } = flow;
  // Number.isFinite is false for NaN and ±Infinity; `<=` is false when either side is NaN.
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || !(startMs <= endMs)) return 'time-not-finite';
  if (endMs < nowMs - b.maxAgeMs) return 'time-too-old';
  if (endMs > nowMs + b.maxFutureMs) return 'time-in-future';
  const rate = flow.samplingRate;
  if (!Number.isFinite(rate) || !(rate >= 1) || rate > b.maxSamplingRate) return 'sampling-out-of-range';
  if (!Number.isSafeInteger(flow.bytes) || flow.bytes < 0 || flow.bytes > b.maxBytesPerFlow) return 'bytes-out-of-range';
  if (!Number.isSafeInteger(flow.packets) || flow.packets < 0 || flow.packets > b.maxPacketsPerFlow) return 'packets-out-of-range';
  return undefined;
}

/** Refusals counted per reason, and per exporter in a table as bounded as the decoder's exporters. */
export interface RefusalCounter {
  /** Counts one refusal; returns true the first time this reason is seen (log it then). */
  count(exporter: string, reason: OutOfBoundsReason): boolean;
  total(): number;
  byReason(): Record<OutOfBoundsReason, number>;
  ofExporter(exporter: string): number;
}

export function createRefusalCounter(maxExporters: number): RefusalCounter {
  const reasons = Object.fromEntries(OUT_OF_BOUNDS_REASONS.map((r) => [r, 0])) as Record<OutOfBoundsReason, number>;
  const perExporter = new Map<string, number>();
  let total = 0;
  return {
    count(exporter, reason) {
      total++;
      const n = perExporter.get(exporter);
      if (n !== undefined) perExporter.set(exporter, n + 1);
      else if (perExporter.size < maxExporters) perExporter.set(exporter, 1);
      // else: a spoofed flood of source addresses; the totals above still count it.
      return reasons[reason]++ === 0;
    },
    total: () => total,
    byReason: () => ({ ...reasons }),
    ofExporter: (exporter) => perExporter.get(exporter) ?? 0,
  };
}
