import t from 'tap';
import { billedPercentile95, mergedPercentile95, percentile95 } from '../../../hub/billing/percentile';
import { bpsToBytesPerSlot, bytesPerSlotToBps } from '../../../hub/billing/rates';

// The seed's worked example, verbatim (Mbps, 5-minute averages).
const inboundMbps = [0.139, 0.653, 0.201, 0.116, 0.084, 0.032, 0.047, 0.185, 0.198, 0.203, 0.276, 0.370, 0.971, 0.233, 0.218, 0.182, 0.169, 0.126, 0.131, 0.157];
const outboundMbps = [1.347, 1.435, 1.229, 0.523, 0.438, 0.231, 0.347, 0.689, 0.940, 1.248, 1.385, 1.427, 3.988, 1.265, 1.221, 1.013, 0.992, 0.874, 0.896, 1.002];
const toBytes = (mbps: number[]) => mbps.map((m) => bpsToBytesPerSlot(m * 1e6));

t.test('seed example, In & Out merge: 40 pooled samples, 2 discarded, 1.427 Mbps', async (t) => {
  const p = mergedPercentile95(toBytes(inboundMbps), toBytes(outboundMbps));
  t.equal(p.n, 40);
  t.equal(p.discarded, 2);
  t.equal(bytesPerSlotToBps(p.valueBytes), 1_427_000);
  const billed = billedPercentile95('merge', toBytes(inboundMbps), toBytes(outboundMbps));
  t.equal(bytesPerSlotToBps(billed.billedBytes), 1_427_000);
});

t.test('seed example, In & Out separate: 0.653 in, 1.435 out, billed 1.435 Mbps', async (t) => {
  const b = billedPercentile95('separate', toBytes(inboundMbps), toBytes(outboundMbps));
  t.equal(b.in!.n, 20);
  t.equal(b.in!.discarded, 1);
  t.equal(bytesPerSlotToBps(b.in!.valueBytes), 653_000);
  t.equal(bytesPerSlotToBps(b.out!.valueBytes), 1_435_000);
  t.equal(bytesPerSlotToBps(b.billedBytes), 1_435_000);
});

t.test('nearest rank: sort descending, discard floor(n/20), take the next', async (t) => {
  t.same(percentile95([]), { valueBytes: 0, n: 0, discarded: 0 });
  t.equal(percentile95([5]).valueBytes, 5, 'n=1 discards nothing');
  const nineteen = Array.from({ length: 19 }, (_, i) => i + 1);
  t.equal(percentile95(nineteen).valueBytes, 19, 'n=19: floor(19/20)=0 discarded, the maximum');
  const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
  t.equal(percentile95(twenty).valueBytes, 19, 'n=20: one discarded');
  t.equal(percentile95(Array(100).fill(0)).valueBytes, 0, 'idle link');
  const input = [3, 1, 2];
  percentile95(input);
  t.same(input, [3, 1, 2], 'input left untouched');
});

t.test('selection agrees with a full sort on random data, ties and sorted inputs', async (t) => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 200; round++) {
    const n = 1 + Math.floor(rnd() * 3000);
    const kind = round % 4;
    const xs = Array.from({ length: n }, (_, i) => kind === 0 ? Math.floor(rnd() * 1e9) : kind === 1 ? Math.floor(rnd() * 5) : kind === 2 ? i : n - i);
    const sorted = [...xs].sort((a, b) => b - a);
    t.equal(percentile95(xs).valueBytes, sorted[Math.floor(n / 20)], `round ${round} n=${n}`);
  }
});

t.test('merge is never above separate', async (t) => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 100; round++) {
    const n = 1 + Math.floor(rnd() * 500);
    const a = Array.from({ length: n }, () => Math.floor(rnd() * 1e6));
    const b = Array.from({ length: n }, () => Math.floor(rnd() * 3e6));
    t.ok(billedPercentile95('merge', a, b).billedBytes <= billedPercentile95('separate', a, b).billedBytes);
  }
});
