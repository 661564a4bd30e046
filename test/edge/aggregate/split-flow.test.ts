import t from 'tap';
import { splitFlow, apportion, singleBucketSec, checkFlowCounts, MAX_FLOW_SPAN_MS, MAX_TIME_MS } from '../../../edge/aggregate/split-flow';
import { bucketStartSecOfMs } from '../../../common/bucket';

// Deterministic PRNG so a failure can be replayed (mulberry32).
function rng(seed: number) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('a flow inside one bucket stays whole', async (t) => {
  const parts = splitFlow(1_700_000_100_000, 1_700_000_150_000, 999, 3);
  t.same(parts, [{ bucketStartSec: 1_700_000_100, bytes: 999, packets: 3, flows: 1 }]);
  t.equal(1_700_000_100 % 300, 0);
});

t.test('split in proportion to duration; flow count goes to the bucket of the end', async (t) => {
  // 100 s in bucket 0, 200 s in bucket 300.
  const parts = splitFlow(200_000, 500_000, 3000, 30);
  t.same(parts, [
    { bucketStartSec: 0, bytes: 1000, packets: 10, flows: 0 },
    { bucketStartSec: 300, bytes: 2000, packets: 20, flows: 1 },
  ]);
  // Ending exactly on a boundary: the last millisecond is in the earlier bucket.
  t.same(splitFlow(0, 300_000, 7, 1).map((p) => p.bucketStartSec), [0]);
  t.same(splitFlow(300_000, 300_000, 7, 1).map((p) => p.bucketStartSec), [300], 'zero-length at a boundary');
});

t.test('largest remainder: 10 bytes over 3 equal parts', async (t) => {
  t.same(apportion(10, [1, 1, 1]), [3, 3, 4]);
  t.same(apportion(2, [1, 1, 1]), [0, 1, 1]);
  t.same(apportion(0, [5, 7]), [0, 0]);
  t.same(apportion(2 ** 52, [299_999, 1]).reduce((a, b) => a + b), 2 ** 52, 'no float rounding on huge totals');
});

t.test('splitting conserves bytes, packets and flows exactly over many random flows', async (t) => {
  const rand = rng(42);
  let bytesIn = 0n, bytesOut = 0n;
  let packetsIn = 0, packetsOut = 0, flows = 0;
  for (let i = 0; i < 20_000; i++) {
    const startMs = 1_700_000_000_000 + Math.floor(rand() * 86_400_000);
    const endMs = startMs + Math.floor(rand() ** 3 * 3_000_000); // mostly short, some span 10 buckets
    const bytes = Math.floor(rand() * (rand() < 0.01 ? 2 ** 50 : 1e7));
    const packets = Math.floor(rand() * 1e4);
    bytesIn += BigInt(bytes); packetsIn += packets;
    const parts = splitFlow(startMs, endMs, bytes, packets);
    for (const p of parts) {
      bytesOut += BigInt(p.bytes); packetsOut += p.packets; flows += p.flows;
      if (p.bytes < 0 || !Number.isInteger(p.bytes) || p.bucketStartSec % 300 !== 0) t.fail(`bad part ${JSON.stringify(p)}`);
    }
    if (parts.at(-1)!.bucketStartSec !== bucketStartSecOfMs(endMs > startMs ? endMs - 1 : startMs)) t.fail('flow not counted at its end');
  }
  t.equal(bytesOut, bytesIn);
  t.equal(packetsOut, packetsIn);
  t.equal(flows, 20_000);
});

t.test('absurd durations are clamped but still conserve bytes', async (t) => {
  const parts = splitFlow(0, 10 * MAX_FLOW_SPAN_MS, 123_456_789, 1000);
  t.ok(parts.length <= MAX_FLOW_SPAN_MS / 300_000 + 1);
  t.equal(parts.reduce((a, p) => a + p.bytes, 0), 123_456_789);
});

t.test('issue 8: hostile values end in a RangeError at once, never a loop or an unbounded allocation', async (t) => {
  const now = 1_700_000_000_000;
  // IPFIX flowEndSeconds 2^62: the bucket index passed 2^53 and `b++` stopped advancing (2.4 GB RSS).
  t.throws(() => splitFlow(now, 2 ** 62 * 1000, 1000, 1), RangeError);
  t.throws(() => singleBucketSec(now, 2 ** 62 * 1000), RangeError);
  t.throws(() => splitFlow(-(2 ** 62), now, 1000, 1), RangeError);
  // 8-byte packet count × 8-byte sampling ≈ 1e37: `left--` was a no-op in apportion() (infinite loop).
  t.throws(() => splitFlow(now, now + 600_000, 1e37, 1), RangeError);
  t.throws(() => splitFlow(now, now + 600_000, 1, 1e37), RangeError);
  t.throws(() => apportion(1e37, [1, 1]), RangeError);
  t.throws(() => apportion(2 ** 53, [1, 1]), RangeError, 'just past safe');
  for (const bad of [NaN, Infinity, -Infinity]) {
    t.throws(() => splitFlow(now, bad, 1, 1), RangeError, `endMs ${bad}`);
    t.throws(() => splitFlow(bad, now, 1, 1), RangeError, `startMs ${bad}`);
    t.throws(() => singleBucketSec(bad, now), RangeError);
    t.throws(() => splitFlow(now, now + 1, bad, 1), RangeError, `bytes ${bad}`);
    t.throws(() => splitFlow(now, now + 1, 1, bad), RangeError, `packets ${bad}`);
  }
  t.throws(() => splitFlow(now, now + 1, -1, 1), RangeError, 'negative bytes');
  t.throws(() => splitFlow(now, now + 1, 1.5, 1), RangeError, 'fractional bytes');
  t.throws(() => apportion(10, [1, -1, 1]), RangeError, 'negative weight');
  t.throws(() => apportion(10, [0, 0]), RangeError, 'zero total weight');
  t.throws(() => apportion(10, [0.5, 1]), RangeError, 'fractional weight');
  t.throws(() => checkFlowCounts(2 ** 60, 1), RangeError);
  t.doesNotThrow(() => checkFlowCounts(Number.MAX_SAFE_INTEGER, 0));
});

t.test('the largest accepted values stay bounded: at most MAX_FLOW_SPAN/300 s + 1 buckets, exact sums', async (t) => {
  const max = Number.MAX_SAFE_INTEGER;
  const parts = splitFlow(MAX_TIME_MS - 10 * MAX_FLOW_SPAN_MS, MAX_TIME_MS, max, max);
  t.ok(parts.length <= MAX_FLOW_SPAN_MS / 300_000 + 1, `${parts.length} buckets`);
  t.equal(parts.reduce((a, p) => a + BigInt(p.bytes), 0n), BigInt(max));
  t.equal(parts.reduce((a, p) => a + BigInt(p.packets), 0n), BigInt(max));
  t.ok(splitFlow(-MAX_TIME_MS, -MAX_TIME_MS + 1_000_000, 10, 1).every((p) => Number.isSafeInteger(p.bucketStartSec)), 'negative times within range still work');
  // Fractional milliseconds (µs/ns IPFIX fields) are floored, not refused.
  t.same(splitFlow(299_000.5, 301_000.7, 8, 2), splitFlow(299_000, 301_000, 8, 2));
  t.same(splitFlow(299_000.5, 301_000.7, 8, 2).map((p) => [p.bucketStartSec, p.bytes]), [[0, 4], [300, 4]]);
  t.equal(singleBucketSec(299_999.9, 299_999.9), 0);
});
