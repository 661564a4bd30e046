/**
 * The split-flow fast paths (Number arithmetic instead of BigInt when total × span < 2^53, and
 * splitFlowInto's reused typed arrays) give exactly what the BigInt reference gives: the original
 * splitFlow, kept here verbatim on apportionBig.
 */
import t from 'tap';
import fc from 'fast-check';
import { apportion, apportionBig, splitFlow, splitFlowInto, createFlowParts, MAX_FLOW_SPAN_MS, type FlowPart } from '../../../edge/aggregate/split-flow';
import { BUCKET_MS, BUCKET_SEC } from '../../../common/bucket';

function referenceSplitFlow(startMs: number, endMs: number, bytes: number, packets: number): FlowPart[] {
  startMs = Math.floor(startMs); endMs = Math.floor(endMs);
  if (endMs < startMs) endMs = startMs;
  if (endMs - startMs > MAX_FLOW_SPAN_MS) startMs = endMs - MAX_FLOW_SPAN_MS;
  const lastMs = endMs > startMs ? endMs - 1 : startMs;
  const firstBucket = Math.floor(startMs / BUCKET_MS);
  const lastBucket = Math.floor(lastMs / BUCKET_MS);
  if (firstBucket === lastBucket) return [{ bucketStartSec: firstBucket * BUCKET_SEC, bytes, packets, flows: 1 }];
  const weights: number[] = [];
  for (let b = firstBucket; b <= lastBucket; b++) weights.push(Math.min(endMs, (b + 1) * BUCKET_MS) - Math.max(startMs, b * BUCKET_MS));
  const byteShares = apportionBig(bytes, weights);
  const packetShares = apportionBig(packets, weights);
  return weights.map((_, i) => ({ bucketStartSec: (firstBucket + i) * BUCKET_SEC, bytes: byteShares[i], packets: packetShares[i], flows: i === weights.length - 1 ? 1 : 0 }));
}

// Counts from tiny to 2^53 - 1, biased to the boundary where the Number path hands over to BigInt.
const countArb = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: 0, max: 2 ** 32 }),
  fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: 1, max: MAX_FLOW_SPAN_MS + 1 }).map((span) => Math.floor(Number.MAX_SAFE_INTEGER / span)),
);
const flowArb = fc.record({
  startMs: fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }),
  spanMs: fc.oneof(fc.integer({ min: 0, max: 2 * BUCKET_MS }), fc.integer({ min: 0, max: 2 * MAX_FLOW_SPAN_MS })),
  bytes: countArb,
  packets: countArb,
});

t.test('splitFlow and splitFlowInto equal the BigInt reference on random flows', async (t) => {
  const out = createFlowParts();
  let runs = 0;
  fc.assert(fc.property(flowArb, ({ startMs, spanMs, bytes, packets }) => {
    runs++;
    const expected = referenceSplitFlow(startMs, startMs + spanMs, bytes, packets);
    const got = splitFlow(startMs, startMs + spanMs, bytes, packets);
    if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`splitFlow ${JSON.stringify(got)} != ${JSON.stringify(expected)}`);
    const n = splitFlowInto(startMs, startMs + spanMs, bytes, packets, out);
    if (n !== expected.length) throw new Error(`splitFlowInto: ${n} parts, expected ${expected.length}`);
    for (let i = 0; i < n; i++) {
      const e = expected[i];
      if (out.bucketStartSec[i] !== e.bucketStartSec || out.bytes[i] !== e.bytes || out.packets[i] !== e.packets) throw new Error(`splitFlowInto part ${i} differs`);
    }
  }), { numRuns: 5000, seed: 13 });
  t.equal(runs, 5000);
});

t.test('apportion (Number path when exact) equals apportionBig', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 0, max: 400_000 }), { minLength: 1, maxLength: 14 }).filter((w) => w.some((x) => x > 0)),
    countArb,
    (weights, total) => {
      const a = apportion(total, weights);
      const b = apportionBig(total, weights);
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${JSON.stringify(a)} != ${JSON.stringify(b)}`);
    },
  ), { numRuns: 5000, seed: 7 });
  // Ties go to the later part; equal remainders everywhere.
  t.same(apportion(2, [1, 1, 1]), apportionBig(2, [1, 1, 1]));
  t.same(apportion(Math.floor(Number.MAX_SAFE_INTEGER / 3), [1, 1, 1]), apportionBig(Math.floor(Number.MAX_SAFE_INTEGER / 3), [1, 1, 1]));
});

t.test("the aggregator's own one-bucket fast path (addCoded) counts what the reference split says", async (t) => {
  // addCoded decides "one bucket" with its own arithmetic on unfloored times (bucket numbers, not
  // seconds); where it declines, split-flow decides. Fractional and boundary times are the risk.
  const { createBucketAggregator } = await import('../../../edge/aggregate/bucket-aggregator');
  const { subjectKeyOf, hitCode } = await import('../../../edge/classify/subject-keys');
  const code = hitCode(subjectKeyOf('ipg:fast-path', 2), 0);
  const boundary = 1_700_000_100_000; // a bucket start
  const timeArb = fc.oneof(
    fc.integer({ min: boundary - 2 * BUCKET_MS, max: boundary + 2 * BUCKET_MS }),
    fc.integer({ min: boundary - 3, max: boundary + 3 }).chain((ms) => fc.constantFrom(ms, ms + 0.25, ms + 0.5, ms - 0.75)),
  );
  // Within a summary's limit (2^50): above it the aggregator refuses the hit, which is tested elsewhere.
  const summaryCountArb = countArb.map((n) => n % (2 ** 50 + 1));
  let runs = 0;
  fc.assert(fc.property(timeArb, timeArb, summaryCountArb, summaryCountArb, (a, b, bytes, packets) => {
    runs++;
    const [startMs, endMs] = a <= b ? [a, b] : [b, a];
    const agg = createBucketAggregator({ closeGraceSec: 60, clock: { nowMs: () => 0 } });
    agg.addCoded({ exporter: 'x', observationDomain: 0, srcIp: new Uint8Array(4), dstIp: new Uint8Array(4), inputIf: 0, outputIf: 0, bytes, packets, samplingRate: 1, startMs, endMs, protocol: 6, srcPort: 1, dstPort: 2 }, Int32Array.of(code), 1);
    const got = agg.closeDue(8_000_000_000_000).map((s) => ({ bucketStartSec: s.bucketStartSec, bytes: s.bytesIn, packets: s.packetsIn, flows: s.flowsIn }));
    const expected = referenceSplitFlow(startMs, endMs, bytes, packets);
    if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`${startMs}..${endMs}: ${JSON.stringify(got)} != ${JSON.stringify(expected)}`);
  }), { numRuns: 3000, seed: 29 });
  t.equal(runs, 3000);
});
