/** Live flows' filters (exporter, IP group subject, address as CIDR or substring) and breakdowns (protocol, top ports). */
import t from 'tap';
import { queryLiveFlows, readLiveFilter, servicePort } from '../../../hub/edges/live-flows-query';

const talker = (src: string, dst: string, protocol: number, srcPort: number, dstPort: number, bitsPerSec: number, exporter = '192.0.2.1') =>
  ({ src, dst, protocol, srcPort, dstPort, bytes: bitsPerSec / 8, packets: 10, bitsPerSec, exporter });
const entries = [
  { edgeId: 'e1', receivedAtMs: 1000, flows: { edgeId: 'e1', atMs: 1000, windowSec: 5, talkers: [
    talker('198.51.100.7', '10.1.0.20', 6, 443, 40001, 8_000_000),
    talker('10.1.0.21', '203.0.113.9', 6, 40002, 22, 2_000_000),
    talker('198.51.100.8', '10.2.0.10', 17, 53, 53001, 1_000_000, '192.0.2.2'),
  ] } },
  { edgeId: 'e2', receivedAtMs: 1000, flows: { edgeId: 'e2', atMs: 1000, windowSec: 5, talkers: [
    talker('2001:db8::1', '2001:db8:1::5', 58, 0, 0, 500_000, '2001:db8::ff'),
    talker('198.51.100.7', '10.1.3.3', 6, 443, 40100, 4_000_000, '192.0.2.2'),
  ] } },
];
const groups = [{ name: 'cust-a', prefixes: ['10.1.0.0/16'] }, { name: 'cust-b', prefixes: ['10.2.0.0-10.2.0.255'] }];

t.test('no filter: all talkers across edges by rate, protocol and port breakdowns', async (t) => {
  const r = queryLiveFlows(entries, {}, groups);
  t.equal(r.matched, 5);
  t.same(r.talkers.map((x) => x.bitsPerSec), [8_000_000, 4_000_000, 2_000_000, 1_000_000, 500_000]);
  t.same(r.byProtocol.map((p) => [p.name, p.bitsPerSec, p.flows]), [['TCP', 14_000_000, 3], ['UDP', 1_000_000, 1], ['ICMPv6', 500_000, 1]]);
  t.same(r.topPorts.map((p) => [p.protocol, p.port, p.name, p.bitsPerSec]), [[6, 443, 'https', 12_000_000], [6, 22, 'ssh', 2_000_000], [17, 53, 'dns', 1_000_000]]);
  t.same(r.exporters, ['192.0.2.1', '192.0.2.2', '2001:db8::ff']);
  t.same(r.subjects.map((s) => s.subjectId), ['ipg:cust-a', 'ipg:cust-b']);
  t.equal(r.totalBitsPerSec, 15_500_000);
});

t.test('filters combine: exporter, subject (IP group prefixes and ranges), address CIDR / substring', async (t) => {
  t.equal(queryLiveFlows(entries, { exporter: '192.0.2.2' }, groups).matched, 2);
  t.same(queryLiveFlows(entries, { subject: 'ipg:cust-a' }, groups).talkers.map((x) => x.bitsPerSec), [8_000_000, 4_000_000, 2_000_000]);
  t.same(queryLiveFlows(entries, { subject: 'ipg:cust-b' }, groups).talkers.map((x) => x.dst), ['10.2.0.10'], 'range entry');
  t.same(queryLiveFlows(entries, { address: '10.1.0.0/24' }, groups).talkers.map((x) => x.bitsPerSec), [8_000_000, 2_000_000], 'CIDR');
  t.same(queryLiveFlows(entries, { address: '2001:db8:1::/48' }, groups).talkers.map((x) => x.protocol), [58], 'IPv6 CIDR');
  t.same(queryLiveFlows(entries, { address: '203.0.113.9' }, groups).talkers.map((x) => x.dstPort), [22], 'one address');
  t.equal(queryLiveFlows(entries, { address: '198.51.100' }, groups).matched, 3, 'substring when it is not an address');
  t.equal(queryLiveFlows(entries, { exporter: '192.0.2.2', subject: 'ipg:cust-a' }, groups).matched, 1, 'AND');
  const byAddr = queryLiveFlows(entries, { address: '10.1.0.0/16' }, groups);
  t.same(byAddr.byProtocol.map((p) => p.name), ['TCP'], 'breakdowns follow the filter');
});

t.test('bad filters are clear errors', async (t) => {
  t.throws(() => queryLiveFlows(entries, { subject: 'if:192.0.2.1/5' }, groups), { code: 'BAD_REQUEST' });
  t.throws(() => queryLiveFlows(entries, { subject: 'ipg:nope' }, groups), { code: 'NOT_FOUND' });
  t.throws(() => readLiveFilter({ address: ['a', 'b'] }), { code: 'BAD_REQUEST', message: /^address/ });
  t.same(readLiveFilter({ exporter: '', address: ' 10.0.0.0/8 ' }), { exporter: undefined, subject: undefined, address: '10.0.0.0/8' });
});

t.test('service port is the lower non-zero port', async (t) => {
  t.equal(servicePort({ srcPort: 40000, dstPort: 443 }), 443);
  t.equal(servicePort({ srcPort: 0, dstPort: 0 }), 0);
  t.equal(servicePort({ srcPort: 0, dstPort: 8080 }), 8080);
});
