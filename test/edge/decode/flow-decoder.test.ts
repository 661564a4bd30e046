import t from 'tap';
import type { Logger } from '../../../common/logger';
import { createFlowDecoder } from '../../../edge/decode/create-flow-decoder';
import {
  bytes, ip4, ip6, ipfixMessage, ipfixOptionsTemplate, ipfixTemplate, ipText, set, u16, u32, u64, u8,
  v5Packet, v9OptionsTemplate, v9Packet, v9Template, varField,
} from './packet-builder';

function captureLogger() {
  const warnings: Array<{ obj: unknown; msg?: string }> = [];
  const log: Logger = {
    debug() {}, info() {}, error() {},
    warn(obj, msg) { warnings.push({ obj, msg }); },
    child() { return log; },
  };
  return { log, warnings };
}

const T0 = 1_700_000_000; // unix seconds used as export time

t.test('NetFlow v5: records, header sampling, uptime-relative times, sequence counts records', async (t) => {
  const { log } = captureLogger();
  const d = createFlowDecoder({ log });
  // sampling field: mode 01 (top 2 bits), interval 10 (low 14 bits)
  const p1 = v5Packet({ uptimeMs: 100_000, unixSecs: T0, sequence: 1000, sampling: 0x4000 | 10 }, [
    { src: '10.0.0.1', dst: '192.0.2.7', inIf: 3, outIf: 4, packets: 5, bytes: 1500, firstMs: 90_000, lastMs: 99_000, srcPort: 443, dstPort: 5555, protocol: 6 },
    { src: '10.0.0.2', dst: '192.0.2.8', packets: 1, bytes: 40 },
  ]);
  const out = d.decode(p1, '198.51.100.1', 1);
  t.equal(out.length, 2);
  const r = out[0];
  t.equal(ipText(r.srcIp), '10.0.0.1');
  t.equal(ipText(r.dstIp), '192.0.2.7');
  t.same([r.inputIf, r.outputIf, r.protocol, r.srcPort, r.dstPort], [3, 4, 6, 443, 5555]);
  t.equal(r.samplingRate, 10);
  t.equal(r.bytes, 15_000, 'bytes multiplied by the header sampling interval');
  t.equal(r.packets, 50);
  t.equal(r.startMs, T0 * 1000 - 10_000);
  t.equal(r.endMs, T0 * 1000 - 1000);
  t.equal(r.observationDomain, 0);

  // v5 sequence counts flow records: 1000 + 2 = 1002 expected; 1005 means 3 records lost.
  d.decode(v5Packet({ uptimeMs: 101_000, unixSecs: T0 + 1, sequence: 1005 }, [{ src: '10.0.0.3', dst: '192.0.2.9', packets: 1, bytes: 60 }]), '198.51.100.1', 2);
  t.equal(d.counters().sequenceGaps, 3);
  const [stats] = d.exporters();
  t.match(stats, { address: '198.51.100.1', netflowVersion: 5, packets: 2, flows: 3, bytes: 15_000 + 400 + 60, sequenceGaps: 3, lastSeenMs: 2, samplingRate: 1 });
});

t.test('NetFlow v5: a count larger than the datagram decodes what is there and counts an error', async (t) => {
  const { log, warnings } = captureLogger();
  const d = createFlowDecoder({ log });
  const full = v5Packet({ uptimeMs: 1, unixSecs: T0, sequence: 0, count: 3 }, [
    { src: '10.0.0.1', dst: '10.0.0.2', packets: 1, bytes: 100 },
    { src: '10.0.0.1', dst: '10.0.0.2', packets: 1, bytes: 100 },
  ]);
  const out = d.decode(full.subarray(0, full.length - 10), 'x', 0);
  t.equal(out.length, 1);
  t.equal(d.counters().decodeErrors, 1);
  t.equal(warnings.length, 1);
});

const V9_TEMPLATE_256: Array<[number, number]> = [
  [8, 4], [12, 4], [10, 2], [14, 2], [2, 4], [1, 4], [22, 4], [21, 4], [7, 2], [11, 2], [4, 1],
];
function v9Record(src: string, dst: string, packets: number, octets: number, firstMs: number, lastMs: number): number[] {
  return [...ip4(src), ...ip4(dst), ...u16(1), ...u16(2), ...u32(packets), ...u32(octets), ...u32(firstMs), ...u32(lastMs), ...u16(1234), ...u16(80), ...u8(6)];
}

t.test('NetFlow v9: template then data, padding, times relative to sysUptime', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const h = { uptimeMs: 50_000, unixSecs: T0, sourceId: 7 };
  const datagram = v9Packet({ ...h, sequence: 1 },
    set(0, v9Template(256, V9_TEMPLATE_256)),
    set(256, [...v9Record('10.1.1.1', '10.2.2.2', 3, 3000, 40_000, 49_000), ...v9Record('10.1.1.3', '10.2.2.4', 1, 52, 49_500, 49_500)], true));
  const out = d.decode(datagram, '192.0.2.1', 5);
  t.equal(out.length, 2, 'the 2 padding bytes are not a record');
  t.match(out[0], { observationDomain: 7, inputIf: 1, outputIf: 2, packets: 3, bytes: 3000, srcPort: 1234, dstPort: 80, protocol: 6, samplingRate: 1 });
  t.equal(out[0].startMs, T0 * 1000 - 10_000);
  t.equal(out[0].endMs, T0 * 1000 - 1000);
  t.equal(d.counters().decodeErrors, 0);
  t.equal(d.exporters()[0].templates, 1);
});

t.test('NetFlow v9: the header count is a hint (softflowd writes a wrong one)', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const datagram = v9Packet({ uptimeMs: 1000, unixSecs: T0, sequence: 1, sourceId: 0, count: 1 },
    set(0, v9Template(256, V9_TEMPLATE_256)),
    set(256, v9Record('10.1.1.1', '10.2.2.2', 1, 100, 1000, 1000)),
    set(256, v9Record('10.1.1.1', '10.2.2.2', 2, 200, 1000, 1000)));
  const out = d.decode(datagram, 'a', 0);
  t.equal(out.length, 2);
  t.equal(out.reduce((s, r) => s + r.bytes, 0), 300);
});

t.test('NetFlow v9: sysUptime wrap between a flow start and the export', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  // first switched 0xFFFFFF00 just before the wrap; header uptime 0x100 just after it: 512 ms old.
  const datagram = v9Packet({ uptimeMs: 0x100, unixSecs: T0, sequence: 1, sourceId: 0 },
    set(0, v9Template(256, V9_TEMPLATE_256)),
    set(256, v9Record('10.1.1.1', '10.2.2.2', 1, 100, 0xffffff00, 0x80)));
  const [r] = d.decode(datagram, 'a', 0);
  t.equal(r.startMs, T0 * 1000 - 512);
  t.equal(r.endMs, T0 * 1000 - 128);
});

t.test('data before its template is held, decoded by the call that brings the template, else expired', async (t) => {
  const { log } = captureLogger();
  const d = createFlowDecoder({ log, pendingHoldMs: 30_000 });
  const h = { uptimeMs: 10_000, unixSecs: T0, sourceId: 1 };
  const early = d.decode(v9Packet({ ...h, sequence: 1 }, set(256, v9Record('10.1.1.1', '10.2.2.2', 1, 111, 9000, 9000))), 'r1', 1000);
  t.same(early, []);
  t.equal(d.counters().templateMisses, 1);
  // a second domain's data with the same template id must wait for *its* template
  d.decode(v9Packet({ ...h, sourceId: 2, sequence: 1 }, set(256, v9Record('10.9.9.9', '10.2.2.2', 1, 999, 9000, 9000))), 'r1', 1000);
  const later = d.decode(v9Packet({ ...h, sequence: 2 }, set(0, v9Template(256, V9_TEMPLATE_256)),
    set(256, v9Record('10.1.1.2', '10.2.2.2', 1, 222, 9000, 9000))), 'r1', 2000);
  t.same(later.map((r) => r.bytes).sort(), [111, 222], 'held set decoded with the template, plus the new data');
  t.equal(d.counters().flowsDecoded, 2);
  d.expire(1000 + 30_000);
  t.equal(d.counters().pendingExpired, 0, 'not older than the hold time yet');
  d.expire(1000 + 30_001);
  t.equal(d.counters().pendingExpired, 1, 'domain 2 set expired');
  // and it is gone: its template arriving later decodes nothing old
  const none = d.decode(v9Packet({ ...h, sourceId: 2, sequence: 2 }, set(0, v9Template(256, V9_TEMPLATE_256))), 'r1', 40_000);
  t.same(none, []);
});

t.test('held data is bounded per exporter: the oldest is dropped and counted', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log, maxPendingPerExporter: 2 });
  const h = { uptimeMs: 10_000, unixSecs: T0, sourceId: 1 };
  for (let i = 0; i < 3; i++) {
    d.decode(v9Packet({ ...h, sequence: i + 1 }, set(256, v9Record('10.1.1.1', '10.2.2.2', 1, 100 + i, 9000, 9000))), 'r1', i);
  }
  t.equal(d.counters().pendingExpired, 1);
  const out = d.decode(v9Packet({ ...h, sequence: 4 }, set(0, v9Template(256, V9_TEMPLATE_256))), 'r1', 10);
  t.same(out.map((r) => r.bytes), [101, 102]);
});

t.test('v9 template refreshed with a new definition after a router restart replaces the old', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const h = { uptimeMs: 10_000, unixSecs: T0, sourceId: 0 };
  d.decode(v9Packet({ ...h, sequence: 1 }, set(0, v9Template(256, V9_TEMPLATE_256))), 'r', 0);
  // after the restart template 256 is: bytes (8), packets (8), IPv6 src/dst
  const out = d.decode(v9Packet({ ...h, sequence: 0 }, set(0, v9Template(256, [[1, 8], [2, 8], [27, 16], [28, 16]])),
    set(256, [...u64(5_000_000_000), ...u64(7), ...ip6('2001:db8::1'), ...ip6('2001:db8::2')])), 'r', 1);
  t.equal(out.length, 1);
  t.equal(out[0].bytes, 5_000_000_000);
  t.equal(ipText(out[0].srcIp), '2001:db8:0:0:0:0:0:1');
  t.equal(d.exporters()[0].templates, 1);
  t.equal(d.counters().sequenceGaps, 0, 'sequence reset on restart is not a gap');
});

t.test('v9 options data sets the sampling rate per sampler id (48 / 50)', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const h = { uptimeMs: 10_000, unixSecs: T0, sourceId: 0 };
  const out = d.decode(v9Packet({ ...h, sequence: 1 },
    // scope: system (type 1, 4 bytes) — scope types are not field types, 1 must not be read as bytes
    set(1, v9OptionsTemplate(300, [[1, 4]], [[48, 1], [49, 1], [50, 4]]), true),
    set(300, [...u32(0xdeadbeef), 1, 2, ...u32(100), ...u32(0), 2, 2, ...u32(1000)], true),
    set(0, v9Template(256, [...V9_TEMPLATE_256, [48, 1]])),
    set(256, [...v9Record('10.1.1.1', '10.2.2.2', 2, 200, 9000, 9000), 1, ...v9Record('10.1.1.1', '10.2.2.2', 3, 300, 9000, 9000), 2], true)), 'r', 0);
  t.same(out.map((r) => [r.samplingRate, r.packets, r.bytes]), [[100, 200, 20_000], [1000, 3000, 300_000]]);
  t.equal(d.exporters()[0].samplingRate, 1000);
});

t.test('IPFIX: variable-length and enterprise fields are skipped by their length; reduced-size and 8-byte counters', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const fields: Array<[number, number] | [number, number, number]> = [
    [8, 4], [12, 4],
    [82, 0xffff], // interfaceName, variable length
    [1000, 0xffff, 9], // Cisco enterprise field, variable length
    [1001, 6, 2636], // Juniper enterprise field, fixed 6 bytes
    [1, 4], // octetDeltaCount (unsigned64) in 4 bytes: reduced-size encoding
    [2, 8],
    [7, 2], [11, 2], [4, 1], [10, 4], [14, 4], [152, 8], [153, 8],
  ];
  const msg = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 42 },
    set(2, ipfixTemplate(400, fields)),
    set(400, [
      ...ip4('10.0.0.1'), ...ip4('10.0.0.2'), ...varField([...Buffer.from('Gi0/0/1')]), ...varField(Array(300).fill(7)),
      ...[1, 2, 3, 4, 5, 6], ...u32(1234), ...u64(12), ...u16(53), ...u16(5353), 17, ...u32(10), ...u32(20),
      ...u64(T0 * 1000 - 5000), ...u64(T0 * 1000 - 1000),
      ...ip4('10.0.0.3'), ...ip4('10.0.0.4'), ...varField([], true), ...varField([1]),
      ...[0, 0, 0, 0, 0, 0], ...u32(99), ...u64(1), ...u16(1), ...u16(2), 6, ...u32(11), ...u32(21),
      ...u64(T0 * 1000), ...u64(T0 * 1000),
    ]));
  const out = d.decode(msg, '2001:db8::9', 0);
  t.equal(d.counters().decodeErrors, 0);
  t.equal(out.length, 2);
  t.match(out[0], { observationDomain: 42, bytes: 1234, packets: 12, srcPort: 53, dstPort: 5353, protocol: 17, inputIf: 10, outputIf: 20 });
  t.equal(out[0].startMs, T0 * 1000 - 5000);
  t.equal(out[0].endMs, T0 * 1000 - 1000);
  t.equal(ipText(out[0].srcIp), '10.0.0.1');
  t.match(out[1], { bytes: 99, packets: 1, inputIf: 11, outputIf: 21 });
  t.equal(ipText(out[1].dstIp), '10.0.0.4');
});

t.test('IPFIX: a variable-length field running past the set is an error, not a crash', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const msg = ipfixMessage({ exportSecs: T0, sequence: 0, domain: 1 },
    set(2, ipfixTemplate(400, [[1, 4], [82, 0xffff]])),
    set(400, [...u32(10), 200, 1, 2, 3]));
  t.same(d.decode(msg, 'x', 0), []);
  t.equal(d.counters().decodeErrors, 1);
});

t.test('IPFIX withdrawal: field count 0 removes a template; id 2 withdraws all', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const h = { exportSecs: T0, domain: 1 };
  d.decode(ipfixMessage({ ...h, sequence: 0 }, set(2, [...ipfixTemplate(400, [[1, 4]]), ...ipfixTemplate(401, [[2, 4]])])), 'x', 0);
  t.equal(d.exporters()[0].templates, 2);
  d.decode(ipfixMessage({ ...h, sequence: 0 }, set(2, [...u16(400), ...u16(0)])), 'x', 0);
  t.equal(d.exporters()[0].templates, 1);
  t.same(d.decode(ipfixMessage({ ...h, sequence: 0 }, set(400, u32(5))), 'x', 0), []);
  t.equal(d.counters().templateMisses, 1, 'data for a withdrawn template is a miss');
  d.decode(ipfixMessage({ ...h, sequence: 0 }, set(2, [...u16(2), ...u16(0)])), 'x', 0);
  t.equal(d.exporters()[0].templates, 0);
  t.equal(d.counters().decodeErrors, 0);
});

t.test('IPFIX options sampling: packet interval/space (305/306) keyed by selector id (302)', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const out = d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 3 },
    set(3, ipfixOptionsTemplate(500, 1, [[302, 8], [305, 4], [306, 4]])),
    set(500, [...u64(5), ...u32(1), ...u32(99), ...u64(6), ...u32(2), ...u32(1)]),
    set(2, ipfixTemplate(400, [[302, 8], [1, 8], [2, 8]])),
    set(400, [...u64(5), ...u64(100), ...u64(1), ...u64(6), ...u64(100), ...u64(2)])), 'x', 0);
  t.same(out.map((r) => [r.samplingRate, r.bytes, r.packets]), [[100, 10_000, 100], [1.5, 150, 3]]);
});

t.test('IPFIX relative times 21/22 use systemInitTimeMilliseconds (160) from options data', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const initMs = T0 * 1000 - 3_600_000;
  const out = d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 0 },
    set(3, ipfixOptionsTemplate(500, 1, [[149, 4], [160, 8]])),
    set(500, [...u32(0), ...u64(initMs)]),
    set(2, ipfixTemplate(400, [[1, 4], [2, 4], [22, 4], [21, 4]])),
    set(400, [...u32(1), ...u32(1), ...u32(1000), ...u32(2000)])), 'x', 0);
  t.equal(out[0].startMs, initMs + 1000);
  t.equal(out[0].endMs, initMs + 2000);
});

t.test('IPFIX: physical interfaces 252/253 when 10/14 are absent; IPv6 addresses', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const [r] = d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 0 },
    set(2, ipfixTemplate(400, [[27, 16], [28, 16], [252, 4], [253, 4], [1, 4], [2, 4]])),
    set(400, [...ip6('2001:db8::1'), ...ip6('2001:db8::2'), ...u32(1342177291), ...u32(7), ...u32(10), ...u32(1)])), 'x', 0);
  t.equal(r.inputIf, 1342177291);
  t.equal(r.outputIf, 7);
  t.equal(ipText(r.dstIp), '2001:db8:0:0:0:0:0:2');
});

t.test('IPFIX sequence counts data records modulo 2^32', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const tpl = set(2, ipfixTemplate(400, [[1, 4]]));
  d.decode(ipfixMessage({ exportSecs: T0, sequence: 0xfffffffe, domain: 0 }, tpl, set(400, [...u32(1), ...u32(2), ...u32(3)])), 'x', 0);
  d.decode(ipfixMessage({ exportSecs: T0, sequence: 1, domain: 0 }, set(400, u32(4))), 'x', 0); // 0xfffffffe + 3 = 1 mod 2^32
  t.equal(d.counters().sequenceGaps, 0);
  d.decode(ipfixMessage({ exportSecs: T0, sequence: 7, domain: 0 }, set(400, u32(4))), 'x', 0);
  t.equal(d.counters().sequenceGaps, 5);
  d.decode(ipfixMessage({ exportSecs: T0, sequence: 2, domain: 0 }, set(400, u32(4))), 'x', 0); // late, inside the gap
  t.equal(d.counters().sequenceGaps, 4, 'a late datagram gives its records back');
});

t.test('malformed input is counted and logged once per (exporter, kind), never thrown', async (t) => {
  const { log, warnings } = captureLogger();
  const d = createFlowDecoder({ log });
  const garbage: Uint8Array[] = [
    bytes([]), bytes([0, 9]), bytes(u16(7), Array(40).fill(1)), bytes(u16(9), Array(10).fill(0)),
    bytes(u16(10), u16(100), Array(30).fill(0xff)), bytes(u16(5), u16(30), Array(30).fill(0)),
  ];
  for (let i = 0; i < 200; i++) {
    const random = Uint8Array.from({ length: 1 + (i * 37) % 300 }, (_, k) => (k * 131 + i * 17) & 0xff);
    random[0] = 0; random[1] = [5, 9, 10][i % 3];
    garbage.push(random);
  }
  for (const g of garbage) t.doesNotThrow(() => d.decode(g, '203.0.113.5', 0));
  for (const g of garbage) d.decode(g, '203.0.113.5', 0);
  const errors = d.counters().decodeErrors;
  t.ok(errors >= garbage.length, `decodeErrors counted (${errors})`);
  const keys = warnings.map((w) => (w.obj as { kind: string }).kind);
  t.equal(new Set(keys).size, keys.length, 'one log line per kind');

  // a bad set length after a good set: the good records are kept
  const d2 = createFlowDecoder({ log: captureLogger().log });
  const msg = v9Packet({ uptimeMs: 1000, unixSecs: T0, sequence: 1, sourceId: 0 },
    set(0, v9Template(256, V9_TEMPLATE_256)), set(256, v9Record('10.1.1.1', '10.2.2.2', 1, 100, 1000, 1000)), [...u16(256), ...u16(2), 0, 0, 0, 0]);
  t.equal(d2.decode(msg, 'x', 0).length, 1);
  t.equal(d2.counters().decodeErrors, 1);
});

t.test('IPFIX packet-sampling records: dataLinkFrameSection parsed for addresses, ports and IP length', async (t) => {
  const d = createFlowDecoder({ log: captureLogger().log });
  const frame = [
    ...Array(12).fill(0xaa), ...u16(0x8100), ...u16(100), ...u16(0x0800), // Ethernet + one VLAN tag
    0x45, 0, ...u16(1400), ...u16(1), 0, 0, 64, 17, 0, 0, ...ip4('198.51.100.1'), ...ip4('203.0.113.9'), // IPv4
    ...u16(5000), ...u16(53), ...u16(1380), 0, 0, // UDP
  ];
  const [r] = d.decode(ipfixMessage({ exportSecs: T0, sequence: 0, domain: 0 },
    set(2, ipfixTemplate(400, [[10, 4], [312, 2], [315, 0xffff]])),
    set(400, [...u32(7), ...u16(1418), ...varField(frame)])), 'x', 0);
  t.match(r, { inputIf: 7, packets: 1, bytes: 1400, protocol: 17, srcPort: 5000, dstPort: 53 });
  t.equal(ipText(r.srcIp), '198.51.100.1');
  t.equal(ipText(r.dstIp), '203.0.113.9');
});
