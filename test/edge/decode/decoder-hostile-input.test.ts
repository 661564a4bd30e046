/**
 * Issue 8, decoder part: one hostile datagram must not crash the decoder, freeze it, or make it
 * produce non-finite numbers. Each case is the offending datagram inline, what decode() returns,
 * and the counter it moves.
 */
import t from 'tap';
import { captureWarnings } from '../../helpers/capture-logger';
import { readUint } from '../../../edge/decode/byte-reader';
import { createFlowDecoder } from '../../../edge/decode/create-flow-decoder';
import type { FlowRecord } from '../../../edge/decode/flow-record';
import {
  bytes, ip4, ipfixMessage, ipfixOptionsTemplate, ipfixTemplate, set, u16, u32, u64, v5Packet, v9OptionsTemplate,
  v9Packet, v9Template, varField,
} from './packet-builder';

function captureLogger() {
  const { log, warnings } = captureWarnings();
  const kinds = () => warnings.map((w) => w.obj.kind);
  return { log, warnings, kinds };
}

const T0 = 1_700_000_000;
const ff = (n: number) => Array<number>(n).fill(0xff);

function allFinite(records: readonly FlowRecord[]): boolean {
  return records.every((r) => [r.bytes, r.packets, r.samplingRate, r.startMs, r.endMs, r.inputIf, r.outputIf,
    r.srcPort, r.dstPort, r.protocol].every(Number.isFinite) && r.samplingRate >= 1);
}

t.test('readUint is finite for every length it can be called with', async (t) => {
  const view = new DataView(new Uint8Array(ff(64)).buffer);
  for (let length = 0; length <= 64; length++) {
    const v = readUint(view, 0, length);
    t.ok(Number.isFinite(v) && v >= 0 && v <= 2 ** 64, `length ${length}: ${v}`);
  }
  t.equal(readUint(view, 0, 0), 0);
  t.equal(readUint(view, 0, 8), 2 ** 64 - 1);
  t.equal(readUint(view, 0, 16), 2 ** 64 - 1, 'only the low-order 8 bytes of an over-long field');
});

t.test('issue 8 #1: IPFIX octetDeltaCount of 9..16 bytes is not read as a counter (was Infinity)', async (t) => {
  for (const length of [9, 12, 16]) {
    const { log, kinds } = captureLogger();
    const d = createFlowDecoder({ log });
    const msg = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 },
      set(2, ipfixTemplate(400, [[8, 4], [12, 4], [1, length], [2, 8]])),
      set(400, [...ip4('10.0.0.1'), ...ip4('10.0.0.2'), ...ff(length), ...u64(3)]));
    let out: FlowRecord[] = [];
    t.doesNotThrow(() => { out = d.decode(msg, '192.0.2.1', 0); });
    t.equal(out.length, 1, `length ${length}: the record is still decoded (field skipped by its length)`);
    t.equal(out[0].bytes, 0, 'no byte counter in a usable length');
    t.equal(out[0].packets, 3, 'the fields after it are read at the right offsets');
    t.ok(allFinite(out));
    t.equal(d.counters().decodeErrors, 1);
    t.same(kinds(), ['bad-field-length']);
    // the router refreshes the same template: counted once per template, not per refresh or record
    d.decode(msg, '192.0.2.1', 1);
    t.equal(d.counters().decodeErrors, 1);
  }
});

t.test('issue 8 #1: every role with an unusable length is skipped (ifIndex, ports, times, sampling, addresses)', async (t) => {
  const { log } = captureLogger();
  const d = createFlowDecoder({ log });
  const msg = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 },
    set(2, ipfixTemplate(400, [
      [8, 3], // IPv4 address in 3 bytes
      [12, 4],
      [10, 12], [14, 0], // ifIndex in 12 bytes, in 0 bytes
      [7, 9], [11, 0xffff], // ports: 9 bytes, variable length
      [152, 16], [153, 9], // milliseconds times
      [154, 4], // NTP microseconds must be 8
      [34, 16], // samplingInterval
      [1, 4], [2, 4],
    ])),
    set(400, [
      ...ff(3), ...ip4('10.0.0.2'), ...ff(12), ...ff(9), ...varField(ff(300)), ...ff(16), ...ff(9), ...ff(4), ...ff(16),
      ...u32(1000), ...u32(2),
    ]));
  const out = d.decode(msg, 'x', 0);
  t.equal(out.length, 1);
  t.match(out[0], { bytes: 1000, packets: 2, samplingRate: 1, inputIf: 0, outputIf: 0, srcPort: 0, dstPort: 0 });
  t.equal(out[0].srcIp.length, 4);
  t.same(Array.from(out[0].srcIp), [0, 0, 0, 0], 'a 3-byte address is not an address');
  t.equal(out[0].startMs, T0 * 1000, 'no usable time: the export time');
  t.ok(allFinite(out));
  t.equal(d.counters().decodeErrors, 1, 'one bad-field-length for the whole template');
});

t.test('issue 8 #1: NetFlow v9 IN_BYTES in 12 bytes and SAMPLING_INTERVAL in 10', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const out = d.decode(v9Packet({ uptimeMs: 1000, unixSecs: T0, sequence: 1, sourceId: 0 },
    set(0, v9Template(256, [[8, 4], [12, 4], [1, 12], [2, 4], [34, 10]])),
    set(256, [...ip4('10.0.0.1'), ...ip4('10.0.0.2'), ...ff(12), ...u32(5), ...ff(10)])), 'x', 0);
  t.equal(out.length, 1);
  t.match(out[0], { bytes: 0, packets: 5, samplingRate: 1 });
  t.equal(d.counters().decodeErrors, 1);
});

t.test('issue 8 #2: 8-byte counters times an 8-byte samplingInterval stay finite', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const msg = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 },
    set(2, ipfixTemplate(400, [[1, 8], [2, 8], [34, 8]])),
    set(400, [...ff(8), ...ff(8), ...ff(8)]));
  const out = d.decode(msg, 'x', 0);
  t.equal(out.length, 1);
  t.ok(allFinite(out), `bytes ${out[0].bytes}, rate ${out[0].samplingRate}`);
  t.ok(out[0].bytes > 1e37, 'huge but finite: the flow bounds layer refuses it');
  const [stats] = d.exporters();
  t.ok(Number.isFinite(stats.samplingRate) && stats.samplingRate >= 1);
  t.ok(Number.isFinite(stats.bytes));
});

t.test('issue 8 #2: sampling rates from options data are finite and >= 1, fractional kept', async (t) => {
  const { log, kinds } = captureLogger();
  const d = createFlowDecoder({ log });
  const out = d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 3 },
    // 309/310: population 5 out of a sample size 10 would be a rate of 0.5: refused and counted
    set(3, ipfixOptionsTemplate(500, 1, [[302, 4], [309, 4], [310, 4]])),
    set(500, [...u32(7), ...u32(10), ...u32(5)]),
    // 305/306 interval 2, space 1: 1.5 (RFC 5477), legal
    set(3, ipfixOptionsTemplate(501, 1, [[302, 4], [305, 4], [306, 4]])),
    set(501, [...u32(8), ...u32(2), ...u32(1)]),
    // 305/306 with 8-byte values at the top of the range
    set(3, ipfixOptionsTemplate(502, 1, [[302, 4], [305, 8], [306, 8]])),
    set(502, [...u32(9), ...u64(1), ...ff(8)]),
    set(2, ipfixTemplate(400, [[302, 4], [1, 4], [2, 4]])),
    set(400, [...u32(7), ...u32(100), ...u32(1), ...u32(8), ...u32(100), ...u32(2), ...u32(9), ...u32(100), ...u32(1)])), 'x', 0);
  t.same(out.map((r) => r.samplingRate).slice(0, 2), [1, 1.5], 'the bad rate is ignored (rate 1); 1.5 kept');
  t.same(out.map((r) => r.bytes).slice(0, 2), [100, 150]);
  t.ok(allFinite(out));
  t.ok(out[2].samplingRate > 1e19 && Number.isFinite(out[2].bytes));
  t.equal(d.counters().decodeErrors, 1);
  t.same(kinds(), ['bad-sampling-rate']);
  const [stats] = d.exporters();
  t.ok(Number.isFinite(stats.samplingRate) && stats.samplingRate >= 1);
});

t.test('issue 8 #2: a record whose own 309/310 give a rate below 1 is counted and decoded unsampled', async (t) => {
  const { log, kinds } = captureLogger();
  const d = createFlowDecoder({ log });
  const out = d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 3 },
    set(2, ipfixTemplate(400, [[309, 4], [310, 4], [1, 4], [2, 4]])),
    set(400, [...u32(100), ...u32(1), ...u32(500), ...u32(5)])), 'x', 0);
  t.match(out, [{ samplingRate: 1, bytes: 500, packets: 5 }]);
  t.same(kinds(), ['bad-sampling-rate']);
});

t.test('issue 8 #2: v5 header sampling interval 0 (mode bits only) is rate 1', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const out = d.decode(v5Packet({ uptimeMs: 1, unixSecs: T0, sequence: 0, sampling: 0xc000 },
    [{ src: '10.0.0.1', dst: '10.0.0.2', packets: 0xffffffff, bytes: 0xffffffff }]), 'x', 0);
  t.match(out, [{ samplingRate: 1, bytes: 0xffffffff }]);
  t.equal(d.exporters()[0].samplingRate, 1);
});

t.test('issue 8 #4: a field count the set cannot hold is refused before allocating for it', async (t) => {
  const { log, kinds } = captureLogger();
  const d = createFlowDecoder({ log });
  // template 400 claims 65535 fields in a 12-byte set
  const msg = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, set(2, [...u16(400), ...u16(0xffff), ...u16(1), ...u16(4)]));
  t.same(d.decode(msg, 'x', 0), []);
  t.same(kinds(), ['bad-template']);
  t.equal(d.exporters()[0].templates, 0);
  // same for an options template (scope count within the field count)
  const opt = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, set(3, [...u16(401), ...u16(0xffff), ...u16(1), ...u16(1), ...u16(4)]));
  t.same(d.decode(opt, 'x', 0), []);
  t.equal(d.counters().decodeErrors, 2);
});

t.test('issue 8 #4: a template of 16,000 fields decodes in bounded time; a record longer than any set is refused', async (t) => {
  const { log, kinds } = captureLogger();
  const d = createFlowDecoder({ log });
  const fields: Array<[number, number]> = Array.from({ length: 16_000 }, (_, i) => (i === 0 ? [1, 4] : [210, 0xffff]));
  const tplSet = set(2, ipfixTemplate(400, fields));
  const record = [...u32(77), ...Array(15_999).fill(0)]; // every variable field empty (length byte 0)
  const data = set(400, [...record, ...record]);
  t.ok(16 + tplSet.length <= 0xffff, 'the template fits one message');
  const started = process.hrtime.bigint();
  t.same(d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, tplSet), 'x', 0), []);
  const out = d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, data), 'x', 0);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.equal(out.length, 2);
  t.equal(out[0].bytes, 77);
  t.ok(ms < 1000, `${ms.toFixed(1)} ms`);

  // 8 + 2 x 65000 bytes per record: no set could ever carry one
  const huge = ipfixMessage({ exportSecs: T0, sequence: 1, domain: 1 }, set(2, ipfixTemplate(401, [[1, 8], [82, 65_000], [83, 65_000]])));
  t.same(d.decode(huge, 'x', 1), []);
  t.same(kinds(), ['bad-template']);
  t.equal(d.exporters()[0].templates, 1);
});

t.test('issue 8 #4: broken set and message lengths are errors, never loops or throws', async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ['v9 flowset length 0', v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 1, sourceId: 0 }, [...u16(256), ...u16(0), 1, 2, 3, 4])],
    ['v9 flowset length 2', v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 1, sourceId: 0 }, [...u16(0), ...u16(2), 1, 2, 3, 4])],
    ['v9 flowset longer than the datagram', v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 1, sourceId: 0 }, [...u16(0), ...u16(0xffff), ...u16(256), ...u16(1)])],
    ['v9 template count past its flowset', v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 1, sourceId: 0 }, set(0, [...u16(256), ...u16(0xffff), ...u16(1), ...u16(4)]))],
    ['v9 options scope length not a multiple of 4', v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 1, sourceId: 0 }, set(1, [...u16(300), ...u16(3), ...u16(4), 0, 1, 0, 4, 0, 34, 0, 4]))],
    ['v9 options lengths past the flowset', v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 1, sourceId: 0 }, set(1, [...u16(300), ...u16(0xfffc), ...u16(0xfffc)]))],
    ['IPFIX set length 3', ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, [...u16(2), ...u16(3), 0, 0, 0, 0])],
    ['IPFIX set length 0', ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 }, [...u16(400), ...u16(0)])],
    ['IPFIX message length 0', bytes(u16(10), u16(0), u32(T0), u32(0), u32(0), set(2, ipfixTemplate(400, [[1, 4]])))],
    ['IPFIX message length 65535 in a short datagram', bytes(u16(10), u16(0xffff), u32(T0), u32(0), u32(0), set(2, ipfixTemplate(400, [[1, 4]])))],
    ['IPFIX message length 17, garbage after', bytes(u16(10), u16(17), u32(T0), u32(0), u32(0), [0], ff(40))],
    ['IPFIX variable field of 65535 in a short set', ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 },
      set(2, ipfixTemplate(400, [[1, 4], [82, 0xffff]])), set(400, [...u32(1), 255, 0xff, 0xff, 1, 2, 3]))],
    ['IPFIX options scope count above the field count', ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 },
      set(3, [...u16(500), ...u16(1), ...u16(9), ...u16(34), ...u16(4)]))],
    ['v9 options template of one scope, lengths 0', v9Packet({ uptimeMs: 1, unixSecs: T0, sequence: 1, sourceId: 0 },
      set(1, v9OptionsTemplate(300, [[1, 0]], [[34, 0]])), set(300, [1, 2, 3, 4]))],
  ];
  for (const [name, datagram] of cases) {
    const { log, kinds } = captureLogger();
    const d = createFlowDecoder({ log });
    let out: FlowRecord[] = [];
    t.doesNotThrow(() => { out = d.decode(datagram, 'x', 0); }, name);
    t.ok(allFinite(out), name);
    t.ok(d.counters().decodeErrors >= 1, `${name}: counted (${kinds().join(', ')})`);
    t.notOk(kinds().includes('internal'), `${name}: no read escaped its bounds check`);
  }
});

/** Deterministic xorshift32, so a failure reproduces. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x;
  };
}

t.test('issue 8 #4: 20,000 mutated datagrams: no throw, no internal error, every number finite', async (t) => {
  const { log, kinds } = captureLogger();
  const d = createFlowDecoder({ log });
  const seeds: Uint8Array[] = [
    ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 },
      set(3, ipfixOptionsTemplate(500, 1, [[302, 4], [305, 4], [306, 4], [160, 8]])),
      set(500, [...u32(1), ...u32(1), ...u32(9), ...u64(T0 * 1000)]),
      set(2, ipfixTemplate(400, [[8, 4], [12, 4], [1, 8], [2, 8], [302, 4], [22, 4], [21, 4], [82, 0xffff], [315, 0xffff]])),
      set(400, [...ip4('10.0.0.1'), ...ip4('10.0.0.2'), ...u64(1000), ...u64(2), ...u32(1), ...u32(10), ...u32(20),
        ...varField([1, 2, 3]), ...varField(Array(60).fill(0x45))])),
    v9Packet({ uptimeMs: 100_000, unixSecs: T0, sequence: 1, sourceId: 3 },
      set(1, v9OptionsTemplate(300, [[1, 4]], [[48, 1], [50, 4]])), set(300, [...u32(0), 1, ...u32(100)], true),
      set(0, v9Template(256, [[8, 4], [12, 4], [1, 4], [2, 4], [48, 1], [22, 4], [21, 4], [10, 2], [14, 2]])),
      set(256, [...ip4('10.0.0.1'), ...ip4('10.0.0.2'), ...u32(1500), ...u32(1), 1, ...u32(90_000), ...u32(99_000), ...u16(1), ...u16(2)], true)),
    v5Packet({ uptimeMs: 1000, unixSecs: T0, sequence: 0, sampling: 0x4000 | 10 }, [{ src: '10.0.0.1', dst: '10.0.0.2', packets: 1, bytes: 100 }]),
  ];
  const next = prng(0x8badf00d);
  let records = 0;
  let bad = 0;
  for (let i = 0; i < 20_000; i++) {
    const src = seeds[i % seeds.length];
    const m = Uint8Array.from(src);
    const flips = 1 + (next() % 8);
    for (let f = 0; f < flips; f++) {
      const at = next() % m.length;
      const r = next() % 4;
      m[at] = r === 0 ? 0xff : r === 1 ? 0 : next() & 0xff;
    }
    const cut = next() % 5 === 0 ? m.subarray(0, next() % m.length) : m;
    const out = d.decode(cut, `198.51.100.${i % 50}`, i);
    records += out.length;
    if (!allFinite(out)) bad++;
  }
  t.equal(bad, 0, 'no record with a non-finite number or a rate below 1');
  t.ok(records > 0, `${records} records decoded`);
  t.notOk(kinds().includes('internal'), 'no exception reached the catch-all');
  for (const e of d.exporters()) t.ok(Number.isFinite(e.samplingRate) && e.samplingRate >= 1 && Number.isFinite(e.bytes));
});
