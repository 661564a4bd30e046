import t from 'tap';
import { splitFlow, apportion, bucketStartSecOf, MAX_FLOW_SPAN_MS } from '../../../edge/aggregate/split-flow';

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
    if (parts.at(-1)!.bucketStartSec !== bucketStartSecOf(endMs > startMs ? endMs - 1 : startMs)) t.fail('flow not counted at its end');
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
