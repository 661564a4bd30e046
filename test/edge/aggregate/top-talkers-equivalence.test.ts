/**
 * The typed-array top talkers (top-talkers.ts) give what the string-keyed Map version gave, kept
 * here verbatim as the reference: random windows of flows drawn from a small pool (so keys repeat),
 * IPv4 and IPv6, odd values (protocol or port outside 0..65535, fractional, NaN, addresses of other
 * lengths: the Map fallback), several exporters, small maxKeys (the cap), takes at random points,
 * and the decoder's reused address views (the talkers must keep copies).
 */
import t from 'tap';
import fc from 'fast-check';
import { createTopTalkers } from '../../../edge/aggregate/top-talkers';
import type { FlowRecord } from '../../../edge/decode/flow-record';
import type { Talker } from '../../../proto/codec';
import { formatIpBytes } from '../../../common/ip-prefix';

interface Entry { flow: Pick<FlowRecord, 'exporter' | 'srcIp' | 'dstIp' | 'protocol' | 'srcPort' | 'dstPort'>; bytes: number; packets: number }
function ipKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}
function referenceTopTalkers(opts: { startMs: number; maxKeys?: number }) {
  const maxKeys = opts.maxKeys ?? 50_000;
  let windowStartMs = opts.startMs;
  let entries = new Map<string, Entry>();
  return {
    add(flow: FlowRecord) {
      const key = `${flow.exporter}|${ipKey(flow.srcIp)}|${ipKey(flow.dstIp)}|${flow.protocol}|${flow.srcPort}|${flow.dstPort}`;
      const e = entries.get(key);
      if (e) { e.bytes += flow.bytes; e.packets += flow.packets; return; }
      if (entries.size >= maxKeys) return;
      entries.set(key, {
        flow: { exporter: flow.exporter, srcIp: flow.srcIp.slice(), dstIp: flow.dstIp.slice(), protocol: flow.protocol, srcPort: flow.srcPort, dstPort: flow.dstPort },
        bytes: flow.bytes, packets: flow.packets,
      });
    },
    take(nowMs: number, n: number): { windowSec: number; talkers: Talker[] } {
      const windowSec = Math.max(1, Math.round((nowMs - windowStartMs) / 1000));
      const top = [...entries.values()].sort((a, b) => b.bytes - a.bytes).slice(0, n);
      entries = new Map();
      windowStartMs = nowMs;
      return {
        windowSec,
        talkers: top.map((e) => ({
          src: formatIpBytes(e.flow.srcIp), dst: formatIpBytes(e.flow.dstIp), protocol: e.flow.protocol,
          srcPort: e.flow.srcPort, dstPort: e.flow.dstPort, bytes: e.bytes, packets: e.packets,
          bitsPerSec: Math.round((e.bytes * 8) / windowSec), exporter: e.flow.exporter,
        })),
      };
    },
  };
}

const addrArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }) },
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 20 }) },
);
const smallArb = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0, max: 65535 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 65536, 1.5, NaN, 2 ** 31, -(2 ** 31)) },
);
const flowArb = fc.record({
  exporter: fc.constantFrom('192.0.2.1', '192.0.2.2', '2001:db8::7'),
  srcIp: addrArb, dstIp: addrArb, protocol: smallArb, srcPort: smallArb, dstPort: smallArb,
});
const stepArb = fc.oneof(
  { weight: 12, arbitrary: fc.record({ pick: fc.nat(), bytes: fc.integer({ min: 0, max: 2 ** 40 }), packets: fc.integer({ min: 0, max: 2 ** 30 }) }) },
  { weight: 1, arbitrary: fc.record({ takeAfterMs: fc.integer({ min: 0, max: 20_000 }), n: fc.integer({ min: 0, max: 40 }) }) },
);

t.test('same talkers, totals and order as the string-keyed Map version', async (t) => {
  let takes = 0;
  fc.assert(fc.property(
    fc.array(flowArb, { minLength: 1, maxLength: 40 }),
    fc.array(stepArb, { minLength: 1, maxLength: 400 }),
    fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 500, max: 3000 })),
    (pool, steps, maxKeys) => {
      const fast = createTopTalkers({ startMs: 1000, maxKeys });
      const ref = referenceTopTalkers({ startMs: 1000, maxKeys });
      let now = 1000;
      const compare = (n: number) => {
        takes++;
        const a = fast.take(now, n), b = ref.take(now, n);
        if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`take(${now}, ${n}):\n${JSON.stringify(a)}\n!=\n${JSON.stringify(b)}`);
      };
      for (const s of steps) {
        if ('pick' in s) {
          const p = pool[s.pick % pool.length];
          // A fresh view over a buffer that is overwritten afterwards, as the transient decoder does.
          const buf = new Uint8Array(p.srcIp.length + p.dstIp.length);
          buf.set(p.srcIp); buf.set(p.dstIp, p.srcIp.length);
          const f: FlowRecord = {
            exporter: p.exporter, observationDomain: 0, srcIp: buf.subarray(0, p.srcIp.length), dstIp: buf.subarray(p.srcIp.length),
            inputIf: 1, outputIf: 2, bytes: s.bytes, packets: s.packets, samplingRate: 1, startMs: 0, endMs: 0,
            protocol: p.protocol, srcPort: p.srcPort, dstPort: p.dstPort,
          };
          fast.add(f); ref.add(f);
          buf.fill(0xee);
        } else {
          now += s.takeAfterMs;
          compare(s.n);
        }
      }
      now += 5000;
      compare(1_000_000);
    },
  ), { numRuns: 300, seed: 13 });
  t.ok(takes >= 300, `${takes} windows compared`);
});

t.test('many distinct keys: the table grows to maxKeys and the cap holds', async (t) => {
  const fast = createTopTalkers({ startMs: 0, maxKeys: 5000 });
  const ref = referenceTopTalkers({ startMs: 0, maxKeys: 5000 });
  for (let i = 0; i < 12_000; i++) {
    const f: FlowRecord = {
      exporter: `192.0.2.${i % 3}`, observationDomain: 0, srcIp: Uint8Array.of(10, 0, (i >> 8) & 255, i & 255), dstIp: Uint8Array.of(10, 1, 0, i % 7),
      inputIf: 0, outputIf: 0, bytes: (i * 7919) % 100_000, packets: 1, samplingRate: 1, startMs: 0, endMs: 0, protocol: 17, srcPort: i % 1000, dstPort: 53,
    };
    fast.add(f); ref.add(f);
    if (i % 3 === 0) { fast.add(f); ref.add(f); }
  }
  const a = fast.take(5000, 6000), b = ref.take(5000, 6000);
  t.equal(a.talkers.length, 5000);
  t.same(a, b);
});
