/**
 * Top talkers sample records at high rates (issue 13): exact below `exactRecords` per window, then
 * about 1 in `stride` records tracked with weight `stride` (edge/aggregate/top-talkers.ts). Fixed
 * seeds, so every run draws the same gaps.
 */
import t from 'tap';
import { createTopTalkers, samplingStride, MAX_STRIDE } from '../../edge/aggregate/top-talkers';
import type { FlowRecord } from '../../edge/decode/flow-record';
import { liveFlowsCodec } from '../../proto/codec';
import { saneLiveFlows } from '../../edge/publish/sane-wire-values';
import { flow } from './helpers/flows';

const pool: FlowRecord[] = [];
/** Flow number i of a pool: distinct source port and address per i (IPv4 keys, the typed-array path). Reused records: add() keeps copies. */
function pooled(i: number, bytes: number): FlowRecord {
  const f = (pool[i] ??= flow({ src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, srcPort: 1 + (i % 60_000), packets: 1 }));
  f.bytes = bytes;
  return f;
}

/** A cheap deterministic sequence for the traffic itself (not the sampler's). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

t.test('the stride rule', async (t) => {
  const E = 1000;
  t.equal(samplingStride(0, E, 1), 1);
  t.equal(samplingStride(E - 1, E, 1), 1, 'exact below exactRecords');
  t.equal(samplingStride(E, E, 1), 2, 'then 2');
  t.equal(samplingStride(2 * E - 1, E, 1), 2);
  t.equal(samplingStride(2 * E, E, 1), 4, 'doubles as the records seen double');
  t.equal(samplingStride(20 * E, E, 1), 32);
  t.equal(samplingStride(E * 10_000, E, 1), MAX_STRIDE, 'capped');
  t.equal(samplingStride(0, E, 16), 16, 'a window starts at its start stride');
  t.equal(samplingStride(8 * E, E, 4), 16, 'and follows the rule once it is above');
  t.equal(samplingStride(0, E, 4096), MAX_STRIDE);
});

t.test('below exactRecords: every record counted, as before sampling', async (t) => {
  const tt = createTopTalkers({ startMs: 0, exactRecords: 5000, seed: 7 });
  const truth = new Map<number, number>();
  const next = lcg(1);
  for (let r = 0; r < 4999; r++) {
    const i = Math.floor(next() * 300), bytes = 1 + Math.floor(next() * 1500);
    tt.add(pooled(i, bytes));
    truth.set(i, (truth.get(i) ?? 0) + bytes);
  }
  t.same(tt.sampling(), { seenRecords: 4999, trackedRecords: 4999, stride: 1 });
  const out = tt.take(5000, 1000);
  t.notOk('samplingOneIn' in out, 'no samplingOneIn when every record was counted');
  // Biggest first, ties in first-seen order (the sort is stable over insertion order).
  const firstSeen = [...truth.keys()];
  const expected = [...truth.entries()].sort((a, b) => b[1] - a[1] || firstSeen.indexOf(a[0]) - firstSeen.indexOf(b[0]));
  t.same(out.talkers.map((x) => [x.srcPort - 1, x.bytes]), expected);
});

t.test('20x exactRecords: elephants on top, estimates within a few %, bounded work', async (t) => {
  // Relative standard deviation of an elephant (8% of the records) here: about 1.2%.
  const E = 65_536, total = 20 * E;
  const tt = createTopTalkers({ startMs: 0, exactRecords: E, seed: 12345 });
  const elephants = 5;
  const truth = new Map<number, number>();
  const next = lcg(99);
  for (let r = 0; r < total; r++) {
    // 40% of the records from 5 elephants (bigger records too), the rest from 50,000 mice.
    const elephant = next() < 0.4;
    const i = elephant ? Math.floor(next() * elephants) : elephants + Math.floor(next() * 50_000);
    const bytes = elephant ? 1000 + Math.floor(next() * 500) : 40 + Math.floor(next() * 200);
    tt.add(pooled(i, bytes));
    truth.set(i, (truth.get(i) ?? 0) + bytes);
  }
  const s = tt.sampling();
  t.equal(s.seenRecords, total);
  t.equal(s.stride, 32, '20x exactRecords: stride 32');
  // E exact, then about E/2 per doubling (2, 4, 8, 16, 32 over E..20E): about 2.9 E here, not 20 E.
  t.ok(s.trackedRecords < 3.2 * E, `tracked ${s.trackedRecords} of ${total}`);
  const out = tt.take(5000, elephants);
  t.equal(out.samplingOneIn, 32);
  t.same(out.talkers.map((x) => x.srcPort - 1).sort(), [0, 1, 2, 3, 4], 'the elephants are the top 5');
  for (const x of out.talkers) {
    const real = truth.get(x.srcPort - 1)!;
    const err = Math.abs(x.bytes - real) / real;
    t.ok(err < 0.05, `elephant ${x.srcPort - 1}: ${x.bytes} vs ${real} (${(err * 100).toFixed(2)}%)`);
    t.ok(Number.isInteger(x.bytes) && Number.isInteger(x.packets) && Number.isInteger(x.bitsPerSec), 'whole numbers');
  }
});

t.test('the stride carries over halved and decays to 1 over quiet windows', async (t) => {
  const E = 1000;
  const tt = createTopTalkers({ startMs: 0, exactRecords: E, seed: 3 });
  for (let r = 0; r < 20 * E; r++) tt.add(pooled(r % 50, 100));
  t.equal(tt.sampling().stride, 32);
  t.equal(tt.take(1000, 10).samplingOneIn, 32);
  t.equal(tt.sampling().stride, 16, 'the next window starts at half the last stride');
  // Steady heavy traffic: sampled from the window's first record.
  for (let r = 0; r < 20 * E; r++) tt.add(pooled(r % 50, 100));
  t.ok(tt.sampling().trackedRecords < 2 * E, `tracked ${tt.sampling().trackedRecords}: sampled from the start`);
  t.equal(tt.take(2000, 10).samplingOneIn, 32);
  // Quiet windows: 32 -> 16 -> 8 -> 4 -> 2 -> 1.
  const strides: number[] = [];
  for (let w = 0; w < 6; w++) {
    strides.push(tt.sampling().stride);
    for (let r = 0; r < 100; r++) tt.add(pooled(r % 5, 100));
    tt.take(3000 + w * 1000, 10);
  }
  t.same(strides, [16, 8, 4, 2, 1, 1]);
  for (let r = 0; r < 100; r++) tt.add(pooled(r % 5, 100));
  const quiet = tt.take(10_000, 10);
  t.notOk('samplingOneIn' in quiet, 'exact again');
  t.same(quiet.talkers.map((x) => x.bytes), [2000, 2000, 2000, 2000, 2000]);
});

t.test('periodic traffic (30 records per datagram) is not aliased', async (t) => {
  const E = 65_536, datagrams = Math.ceil((20 * E) / 30);
  const tt = createTopTalkers({ startMs: 0, exactRecords: E, seed: 2024 });
  // The same 30 flows in the same order in every datagram: a fixed gap of 32 would land on 15 of
  // them and never on the others.
  for (let d = 0; d < datagrams; d++) for (let r = 0; r < 30; r++) tt.add(pooled(r, 1000 + r));
  t.equal(tt.sampling().stride, 32);
  const out = tt.take(5000, 30);
  t.equal(out.talkers.length, 30, 'every position seen');
  for (const x of out.talkers) {
    const r = x.srcPort - 1;
    const real = datagrams * (1000 + r);
    const err = Math.abs(x.bytes - real) / real;
    t.ok(err < 0.05, `position ${r}: ${x.bytes} vs ${real} (${(err * 100).toFixed(2)}%)`);
  }
});

t.test('LiveFlows carries sampling_one_in through the wire', async (t) => {
  const live = { edgeId: 'e1', atMs: 1_700_000_000_000, windowSec: 5, samplingOneIn: 32, talkers: [] };
  t.equal(liveFlowsCodec.decode(liveFlowsCodec.encode(saneLiveFlows(live))).samplingOneIn, 32);
  const exact = liveFlowsCodec.decode(liveFlowsCodec.encode(saneLiveFlows({ ...live, samplingOneIn: undefined })));
  t.equal(exact.samplingOneIn, 0, 'absent: 0 (every record counted)');
});
