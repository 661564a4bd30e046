import t from 'tap';
import { createSflowDecoder } from '../../../edge/decode/sflow/create-sflow-decoder';
import { formatAgentAddress } from '../../../edge/decode/sflow/agent-address';
import { captureWarnings } from '../../helpers/capture-logger';
import { ip6, u32 } from './packet-builder';
import {
  counterSample, ethernet, expandedFlowSample, extendedGateway, extendedRouter, extendedSwitch, flowSample, ipv4Header,
  ipv6Header, mplsLabel, ports, rawHeader, sampledIpv4, sflowDatagram, xdrItem,
} from './sflow-builder';

const NOW = 1_700_000_000_000;
const ipText = (b: Uint8Array) => (b.length === 4 ? Array.from(b).join('.') : formatAgentAddress(b));

function tcpFrame(src: string, dst: string, srcPort: number, dstPort: number, ipLength = 1500): number[] {
  return [...ethernet(0x0800), ...ipv4Header(src, dst, 6, ipLength), ...ports(srcPort, dstPort)];
}

t.test('flow sample with an Ethernet/IPv4/TCP raw header: bytes = frame length x rate, packets = rate', async (t) => {
  const { log, warnings } = captureWarnings();
  const d = createSflowDecoder({ log });
  const dg = sflowDatagram({ agent: '192.0.2.1', sequence: 1 }, [
    flowSample({ sequence: 10, sourceIndex: 3, rate: 512, input: 3, output: 7 }, [
      rawHeader(1, 1518, tcpFrame('198.51.100.1', '203.0.113.9', 443, 50000)),
      extendedSwitch(10, 20),
    ]),
  ]);
  const recs = d.decode(dg, '10.0.0.1', NOW);
  t.equal(recs.length, 1);
  const r = recs[0];
  t.equal(r.exporter, '192.0.2.1', 'the agent address, not the UDP source');
  t.equal(ipText(r.srcIp), '198.51.100.1');
  t.equal(ipText(r.dstIp), '203.0.113.9');
  t.same([r.inputIf, r.outputIf, r.bytes, r.packets, r.samplingRate, r.protocol, r.srcPort, r.dstPort],
    [3, 7, 1518 * 512, 512, 512, 6, 443, 50000]);
  t.equal(r.startMs, NOW);
  t.equal(r.endMs, NOW);
  t.same(d.counters(), { packetsReceived: 1, flowsDecoded: 1, decodeErrors: 0, templateMisses: 0, pendingExpired: 0, sequenceGaps: 0, tableEvictions: 0 });
  const [e] = d.exporters();
  t.match(e, { address: '192.0.2.1', protocol: 'sflow', netflowVersion: 5, packets: 1, flows: 1, bytes: 1518 * 512, samplingRate: 512, templates: 0 });
  t.equal(warnings.length, 0);
});

t.test('agent address 0.0.0.0 falls back to the UDP source; IPv6 agents are written like Node writes them', async (t) => {
  const d = createSflowDecoder({ log: captureWarnings().log });
  const frame = rawHeader(1, 100, tcpFrame('198.51.100.1', '203.0.113.9', 1, 2, 86));
  const a = d.decode(sflowDatagram({ agent: '0.0.0.0', sequence: 1 }, [flowSample({ sequence: 1, sourceIndex: 1, rate: 1, input: 1, output: 2 }, [frame])]), '10.0.0.9', NOW);
  t.equal(a[0].exporter, '10.0.0.9');
  const b = d.decode(sflowDatagram({ agent: '2001:db8:0:0:1::1', sequence: 1 }, [flowSample({ sequence: 1, sourceIndex: 1, rate: 1, input: 1, output: 2 }, [frame])]), '10.0.0.9', NOW);
  t.equal(b[0].exporter, '2001:db8::1:0:0:1');
  t.equal(formatAgentAddress(Uint8Array.from(ip6('::ffff:c000:201'))), '192.0.2.1', 'IPv4-mapped → dotted, as normalizeExporterAddress does');
  t.equal(formatAgentAddress(Uint8Array.from(ip6('fe80::1'))), 'fe80::1');
  t.equal(formatAgentAddress(Uint8Array.from(ip6('1:0:0:2:0:0:0:3'))), '1:0:0:2::3', 'the longest run of zeros');
});

t.test('802.1Q, QinQ and an MPLS label stack are walked to the IP header; IPv6 with ports; ICMP type/code', async (t) => {
  const d = createSflowDecoder({ log: captureWarnings().log });
  const sample = (seq: number, header: number[]) => flowSample({ sequence: seq, sourceIndex: 1, rate: 1, input: 1, output: 2 }, [rawHeader(1, 200, header)]);
  const dot1q = [...ethernet(0x0800, [{ tpid: 0x8100, vlan: 100 }]), ...ipv4Header('10.1.1.1', '10.2.2.2', 17, 100), ...ports(53, 4000)];
  const qinq = [...ethernet(0x0800, [{ tpid: 0x88a8, vlan: 10 }, { tpid: 0x8100, vlan: 20 }]), ...ipv4Header('10.3.3.3', '10.4.4.4', 6, 100), ...ports(80, 5000)];
  const mpls = [...ethernet(0x8847), ...mplsLabel(100, false), ...mplsLabel(200, true), ...ipv4Header('10.5.5.5', '10.6.6.6', 6, 100), ...ports(22, 6000)];
  const mpls6 = [...ethernet(0x8847), ...mplsLabel(300, true), ...ipv6Header('2001:db8::1', '2001:db8::2', 17, 20), ...ports(123, 7000)];
  const v6 = [...ethernet(0x86dd), ...ipv6Header('2001:db8::a', '2001:db8::b', 6, 20), ...ports(8080, 9000)];
  const icmp = [...ethernet(0x0800), ...ipv4Header('10.7.7.7', '10.8.8.8', 1, 84), 8, 0, 0, 0];
  const rawV4 = [...ipv4Header('10.9.9.9', '10.10.10.10', 6, 100), ...ports(1, 2)];
  const recs = d.decode(sflowDatagram({ agent: '192.0.2.1', sequence: 1 }, [
    sample(1, dot1q), sample(2, qinq), sample(3, mpls), sample(4, mpls6), sample(5, v6), sample(6, icmp),
    flowSample({ sequence: 7, sourceIndex: 1, rate: 1, input: 1, output: 2 }, [rawHeader(11, 100, rawV4, 0)]),
  ]), '10.0.0.1', NOW);
  t.same(recs.map((r) => [ipText(r.srcIp), ipText(r.dstIp), r.protocol, r.srcPort, r.dstPort]), [
    ['10.1.1.1', '10.2.2.2', 17, 53, 4000],
    ['10.3.3.3', '10.4.4.4', 6, 80, 5000],
    ['10.5.5.5', '10.6.6.6', 6, 22, 6000],
    ['2001:db8::1', '2001:db8::2', 17, 123, 7000],
    ['2001:db8::a', '2001:db8::b', 6, 8080, 9000],
    ['10.7.7.7', '10.8.8.8', 1, 0, 8 * 256],
    ['10.9.9.9', '10.10.10.10', 6, 1, 2],
  ]);
  t.equal(d.counters().decodeErrors, 0);
});

t.test('expanded flow sample: input/output formats apart; discarded, multiple and unknown interfaces give 0', async (t) => {
  const d = createSflowDecoder({ log: captureWarnings().log });
  const frame = rawHeader(1, 1000, tcpFrame('198.51.100.1', '203.0.113.9', 1, 2));
  const recs = d.decode(sflowDatagram({ agent: '192.0.2.1', sequence: 1 }, [
    expandedFlowSample({ sequence: 1, sourceIndex: 70000, rate: 100, input: 70000, output: 80000 }, [frame, extendedRouter('10.0.0.254'), extendedGateway('10.0.0.254', 64500, 64501, 64502)]),
    expandedFlowSample({ sequence: 2, sourceIndex: 70000, rate: 100, input: 70000, outFormat: 1, output: 258 }, [frame]),
    flowSample({ sequence: 1, sourceIndex: 5, rate: 100, input: 5, outFormat: 2, output: 3 }, [frame]),
    flowSample({ sequence: 2, sourceIndex: 5, rate: 100, input: 0x3fffffff, output: 5 }, [frame]),
  ]), '10.0.0.1', NOW);
  t.same(recs.map((r) => [r.inputIf, r.outputIf, r.bytes]), [[70000, 80000, 100_000], [70000, 0, 100_000], [5, 0, 100_000], [0, 5, 100_000]]);
  t.equal(d.counters().decodeErrors, 0);
});

t.test('sampled IPv4 record when there is no raw header; non-IP frames are not flows', async (t) => {
  const d = createSflowDecoder({ log: captureWarnings().log });
  const arp = rawHeader(1, 64, [...ethernet(0x0806), ...Array(28).fill(0)]);
  const recs = d.decode(sflowDatagram({ agent: '192.0.2.1', sequence: 1 }, [
    flowSample({ sequence: 1, sourceIndex: 1, rate: 10, input: 1, output: 2 }, [sampledIpv4(576, 17, '10.0.0.1', '10.0.0.2', 1000, 2000)]),
    flowSample({ sequence: 2, sourceIndex: 1, rate: 10, input: 1, output: 2 }, [arp]),
  ]), '10.0.0.1', NOW);
  t.same(recs.map((r) => [ipText(r.srcIp), r.bytes, r.srcPort, r.dstPort]), [['10.0.0.1', 5760, 1000, 2000]]);
  t.equal(d.exporters()[0].samplesNotIp, 1);
});

t.test('unknown samples and records are skipped by their length', async (t) => {
  const d = createSflowDecoder({ log: captureWarnings().log });
  const frame = rawHeader(1, 100, tcpFrame('198.51.100.1', '203.0.113.9', 1, 2, 86));
  const recs = d.decode(sflowDatagram({ agent: '192.0.2.1', sequence: 1 }, [
    xdrItem((4413 << 12) | 7, [1, 2, 3, 4, 5, 6, 7, 8]), // a vendor sample
    flowSample({ sequence: 1, sourceIndex: 1, rate: 1, input: 1, output: 2 }, [xdrItem(2000, [9, 9, 9, 9]), frame, xdrItem((9 << 12) | 1, [])]),
  ]), '10.0.0.1', NOW);
  t.equal(recs.length, 1);
  t.equal(d.counters().decodeErrors, 0);
});

t.test('sequence numbers: lost flow samples per source are sequenceGaps, lost datagrams per sub-agent apart; drops are summed, not billed', async (t) => {
  const d = createSflowDecoder({ log: captureWarnings().log });
  const frame = rawHeader(1, 100, tcpFrame('198.51.100.1', '203.0.113.9', 1, 2, 86));
  const dg = (seq: number, samples: Array<[number, number, number]>, subAgent = 0) => sflowDatagram({ agent: '192.0.2.1', sequence: seq, subAgent },
    samples.map(([source, sampleSeq, drops]) => flowSample({ sequence: sampleSeq, sourceIndex: source, rate: 2, drops, input: source, output: 9 }, [frame])));
  d.decode(dg(1, [[1, 100, 5], [2, 500, 0]]), 'x', NOW);
  d.decode(dg(2, [[1, 101, 5], [2, 501, 0]]), 'x', NOW);
  // datagram 3 lost: it carried samples 102 (source 1) and 502 (source 2)
  d.decode(dg(4, [[1, 103, 12], [2, 503, 1]]), 'x', NOW);
  // another sub-agent numbers its own datagrams and sources
  d.decode(dg(70, [[1, 9, 0]], 1), 'x', NOW);
  d.decode(dg(71, [[1, 10, 0]], 1), 'x', NOW);
  const [e] = d.exporters();
  t.equal(d.counters().sequenceGaps, 2, 'two flow samples lost (one per source)');
  t.equal(e.sequenceGaps, 2);
  t.equal(e.datagramsLost, 1);
  t.equal(e.samplesDropped, 8, 'source 1: 5 → 12, source 2: 0 → 1; the first value is a baseline');
  t.equal(e.bytes, 8 * 200, 'drops add no bytes: 8 samples of 100 bytes x 2');
  // a restarted agent: counters start again, no gap counted, drops counted from 0
  d.decode(dg(1, [[1, 1, 3]]), 'x', NOW);
  t.equal(d.exporters()[0].sequenceGaps, 2);
  t.equal(d.exporters()[0].samplesDropped, 11);
});

t.test('counter samples: if_counters kept per agent and ifIndex, the last one wins; capped', async (t) => {
  const d = createSflowDecoder({ log: captureWarnings().log, maxIfCountersPerExporter: 2 });
  const c = (ifIndex: number, inOctets: number) => counterSample(1, ifIndex, { ifIndex, speed: 10_000_000_000, inOctets, outOctets: 2 * inOctets, inErrors: 1, outDiscards: 2 });
  d.decode(sflowDatagram({ agent: '192.0.2.1', sequence: 1 }, [c(1, 1000), c(2, 2000)]), 'x', NOW);
  d.decode(sflowDatagram({ agent: '192.0.2.1', sequence: 2 }, [c(1, 1500)]), 'x', NOW + 20_000);
  let [e] = d.exporters();
  t.same(e.ifCounters!.map((x) => [x.ifIndex, x.ifSpeed, x.inOctets, x.outOctets, x.inErrors, x.outDiscards, x.lastSeenMs]),
    [[1, 10_000_000_000, 1500, 3000, 1, 2, NOW + 20_000], [2, 10_000_000_000, 2000, 4000, 1, 2, NOW]]);
  d.decode(sflowDatagram({ agent: '192.0.2.1', sequence: 3 }, [c(3, 1)]), 'x', NOW + 30_000);
  [e] = d.exporters();
  t.same(e.ifCounters!.map((x) => x.ifIndex), [1, 3], 'the least recently updated (2) goes');
  t.equal(d.counters().tableEvictions, 1);
  t.equal(d.counters().flowsDecoded, 0);
});

t.test('tables are capped: agents, sources; idle agents expire', async (t) => {
  const d = createSflowDecoder({ log: captureWarnings().log, maxExporters: 2, maxSourcesPerExporter: 3, exporterIdleMs: 60_000 });
  const frame = rawHeader(1, 100, tcpFrame('198.51.100.1', '203.0.113.9', 1, 2, 86));
  for (let i = 0; i < 5; i++) {
    d.decode(sflowDatagram({ agent: `192.0.2.${i + 1}`, sequence: 1 }, [flowSample({ sequence: 1, sourceIndex: 1, rate: 1, input: 1, output: 2 }, [frame])]), 'x', NOW);
  }
  t.equal(d.exporters().length, 2);
  t.equal(d.counters().tableEvictions, 3);
  const samples = [];
  for (let s = 0; s < 10; s++) samples.push(flowSample({ sequence: 1, sourceIndex: s, rate: 1, input: 1, output: 2 }, [frame]));
  d.decode(sflowDatagram({ agent: '192.0.2.5', sequence: 2 }, samples), 'x', NOW);
  t.equal(d.counters().tableEvictions, 3 + 7);
  d.expire(NOW + 61_000);
  t.equal(d.exporters().length, 0);
});

t.test('malformed, truncated and huge lengths: counted, never thrown, what came before is kept', async (t) => {
  const { log } = captureWarnings();
  const d = createSflowDecoder({ log });
  const frame = rawHeader(1, 100, tcpFrame('198.51.100.1', '203.0.113.9', 1, 2, 86));
  const good = flowSample({ sequence: 1, sourceIndex: 1, rate: 1, input: 1, output: 2 }, [frame]);
  const whole = sflowDatagram({ agent: '192.0.2.1', sequence: 1 }, [good, good]);
  // every truncation of a good datagram
  for (let n = 0; n < whole.length; n++) t.doesNotThrow(() => d.decode(whole.subarray(0, n), 'x', NOW));
  // the header says 1000 samples; two are there
  const counted = sflowDatagram({ agent: '192.0.2.1', sequence: 2, count: 1000 }, [good, good]);
  const before = d.counters().decodeErrors;
  t.equal(d.decode(counted, 'x', NOW).length, 2);
  t.equal(d.counters().decodeErrors, before + 1);
  // a sample length of 2^32-1, a record length past the sample, a header length past the record
  const huge = sflowDatagram({ agent: '192.0.2.1', sequence: 3 }, [good, [...u32(1), ...u32(0xffffffff), 0, 0, 0, 0]]);
  t.equal(d.decode(huge, 'x', NOW).length, 1);
  const badRecord = sflowDatagram({ agent: '192.0.2.1', sequence: 4 }, [xdrItem(1, [...u32(1), ...u32(1), ...u32(1), ...u32(0), ...u32(0), ...u32(0), ...u32(0), ...u32(1), ...u32(1), ...u32(0x7fffffff)])]);
  t.equal(d.decode(badRecord, 'x', NOW).length, 0);
  const badHeader = sflowDatagram({ agent: '192.0.2.1', sequence: 5 }, [flowSample({ sequence: 2, sourceIndex: 1, rate: 1, input: 1, output: 2 }, [xdrItem(1, [...u32(1), ...u32(100), ...u32(0), ...u32(0xfffffff0)])])]);
  t.equal(d.decode(badHeader, 'x', NOW).length, 0);
  // a frame longer than any IP packet can make
  const longFrame = sflowDatagram({ agent: '192.0.2.1', sequence: 6 }, [flowSample({ sequence: 3, sourceIndex: 1, rate: 1, input: 1, output: 2 }, [rawHeader(1, 0xfffffff0, tcpFrame('198.51.100.1', '203.0.113.9', 1, 2))])]);
  const errorsBefore = d.counters().decodeErrors;
  t.equal(d.decode(longFrame, 'x', NOW).length, 0);
  t.equal(d.counters().decodeErrors, errorsBefore + 1);
  // wrong version, bad agent address type, a NetFlow datagram on the sFlow port
  t.equal(d.decode(Uint8Array.from([...u32(4), ...u32(1), 1, 2, 3, 4]), 'x', NOW).length, 0);
  t.equal(d.decode(Uint8Array.from([...u32(5), ...u32(3), ...Array(40).fill(0)]), 'x', NOW).length, 0);
  t.equal(d.decode(Uint8Array.from([0, 9, 0, 1, ...Array(40).fill(0)]), 'x', NOW).length, 0);
  // random bytes behind a valid header
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < 2000; i++) {
    const b = Uint8Array.from(whole);
    for (let k = 0; k < 6; k++) b[28 + (rnd() * 256 + rnd()) % (b.length - 28)] = rnd();
    t.doesNotThrow(() => d.decode(b, 'x', NOW));
  }
  t.ok(d.counters().decodeErrors > 5);
  for (const e of d.exporters()) t.ok(Number.isFinite(e.bytes));
});

t.test('decodeTransient gives the same records as decode (IPv4 and IPv6 in one datagram), reusing them', async (t) => {
  const a = createSflowDecoder({ log: captureWarnings().log });
  const b = createSflowDecoder({ log: captureWarnings().log });
  const v4 = rawHeader(1, 100, tcpFrame('198.51.100.1', '203.0.113.9', 1, 2, 86));
  const v6 = rawHeader(1, 120, [...ethernet(0x86dd), ...ipv6Header('2001:db8::a', '2001:db8::b', 6, 20), ...ports(8080, 9000)]);
  const dg = sflowDatagram({ agent: '192.0.2.1', sequence: 1 }, [
    flowSample({ sequence: 1, sourceIndex: 1, rate: 3, input: 1, output: 2 }, [v6]),
    flowSample({ sequence: 2, sourceIndex: 1, rate: 3, input: 1, output: 2 }, [v4]),
  ]);
  const plain = (r: ReturnType<typeof a.decode>[number]) => ({ ...r, srcIp: ipText(r.srcIp), dstIp: ipText(r.dstIp) });
  const expected = a.decode(dg, 'x', NOW).map(plain);
  t.same(b.decodeTransient!(dg, 'x', NOW).map(plain), expected);
  t.same(b.decodeTransient!(dg, 'x', NOW).map(plain), expected, 'again, into the reused records');
});
