/**
 * Interface names from NetFlow v9 / IPFIX options data (IE 82 interfaceName, IE 83 interfaceDescription):
 * keyed by the v9 "Interface" scope or IE 10, bounded to 64 printable characters, capped per exporter
 * and in all with counted refusals, and carried in the edge's ExporterStatus (proto field 15).
 * No capture in ../shared/interop carries IE 82/83 (checked: akvorado-netflow, pmacct), so the
 * datagrams are built the way Cisco IOS-XE's "option interface-table" sends them.
 */
import t from 'tap';
import { silentLogger } from '../../common/logger';
import { cleanInterfaceName, interfaceNameFromBytes } from '../../common/interface-name';
import { createFlowDecoder } from '../../edge/decode/create-flow-decoder';
import { saneExporterStatus } from '../../edge/publish/sane-wire-values';
import { edgeStatusCodec } from '../../proto/codec';
import { ipfixMessage, ipfixOptionsTemplate, set, u32, v9OptionsTemplate, v9Packet, varField } from './decode/packet-builder';

const text = (s: string, length?: number) => {
  const b = [...Buffer.from(s, 'utf8')];
  return length === undefined ? b : [...b, ...Array(Math.max(0, length - b.length)).fill(0)].slice(0, length);
};
const EXPORTER = '192.0.2.1';

/** v9 options: scope Interface (type 2, 4 bytes), options IF_NAME 82 (16 bytes) and IF_DESC 83 (32 bytes), NUL-padded. */
function v9Names(records: Array<[number, string, string]>, sequence = 1) {
  return v9Packet({ uptimeMs: 1000, unixSecs: 1_700_000_000, sequence, sourceId: 0 },
    set(1, v9OptionsTemplate(300, [[2, 4]], [[82, 16], [83, 32]]), true),
    set(300, records.flatMap(([ifIndex, name, descr]) => [...u32(ifIndex), ...text(name, 16), ...text(descr, 32)]), true));
}

t.test('v9 options data with the Interface scope gives ifName and ifDescr per ifIndex', async (t) => {
  const d = createFlowDecoder({ log: silentLogger });
  const out = d.decode(v9Names([[1, 'Gi0/0/0', 'Uplink to transit A'], [2, 'Gi0/0/1', '']]), EXPORTER, 1_700_000_000_000);
  t.equal(out.length, 0, 'options records are no flows');
  t.same(d.exporters()[0].interfaceNames, [
    { ifIndex: 1, name: 'Gi0/0/0', description: 'Uplink to transit A' },
    { ifIndex: 2, name: 'Gi0/0/1', description: '' },
  ]);
  // A refresh renames in place.
  d.decode(v9Names([[1, 'Gi0/0/0', 'Transit B'], [2, 'Gi0/0/1', '']], 2), EXPORTER, 1_700_000_001_000);
  t.equal(d.exporters()[0].interfaceNames?.[0].description, 'Transit B');
  t.equal(d.counters().decodeErrors, 0);
});

t.test('IPFIX options keyed by scope IE 10 with variable-length names (RFC 7011 §7)', async (t) => {
  const d = createFlowDecoder({ log: silentLogger });
  const msg = ipfixMessage({ exportSecs: 1_700_000_000, sequence: 0, domain: 7 },
    set(3, ipfixOptionsTemplate(400, 1, [[10, 4], [82, 0xffff], [83, 0xffff]]), true),
    set(400, [...u32(17), ...varField(text('xe-0/0/1')), ...varField(text('core link'))], true));
  d.decode(msg, EXPORTER, 1_700_000_000_000);
  t.same(d.exporters()[0].interfaceNames, [{ ifIndex: 17, name: 'xe-0/0/1', description: 'core link' }]);
});

t.test('options data without a name or without an ifIndex keeps no names', async (t) => {
  const d = createFlowDecoder({ log: silentLogger });
  // Sampling options (34 interval) only, and names with the System scope (1) instead of Interface.
  d.decode(v9Packet({ uptimeMs: 1, unixSecs: 1_700_000_000, sequence: 1, sourceId: 0 },
    set(1, v9OptionsTemplate(301, [[1, 4]], [[82, 8]]), true),
    set(301, [...u32(0), ...text('eth0', 8)], true)), EXPORTER, 1_700_000_000_000);
  t.same(d.exporters()[0].interfaceNames, []);
});

t.test('names are bounded: controls dropped, 64 characters at most, invalid UTF-8 replaced then dropped', async (t) => {
  t.equal(cleanInterfaceName('Gi0/1\u0007\u001b[31m\u202e evil'), 'Gi0/1[31m evil');
  t.equal([...cleanInterfaceName('x'.repeat(300))].length, 64);
  t.equal(interfaceNameFromBytes(Uint8Array.from([0x47, 0x69, 0xff, 0xfe, 0x31, 0, 0x41])), 'Gi1', 'stops at NUL; bad bytes gone');
  const d = createFlowDecoder({ log: silentLogger });
  d.decode(v9Packet({ uptimeMs: 1, unixSecs: 1_700_000_000, sequence: 1, sourceId: 0 },
    set(1, v9OptionsTemplate(302, [[2, 4]], [[82, 200]]), true),
    set(302, [...u32(5), ...text('é'.repeat(100), 200)], true)), EXPORTER, 1_700_000_000_000);
  const [n] = d.exporters()[0].interfaceNames ?? [];
  t.equal([...n.name].length, 64);
  t.ok(/^é+$/.test(n.name), 'cut on a code point, not a byte');
});

t.test('per-exporter and total caps refuse new interfaces and count them; a forgotten exporter frees its share', async (t) => {
  const d = createFlowDecoder({ log: silentLogger, maxInterfaceNamesPerExporter: 3, maxInterfaceNames: 5, exporterIdleMs: 1000 });
  const many = (n: number, base = 0) => Array.from({ length: n }, (_, i): [number, string, string] => [base + i, `if${base + i}`, '']);
  d.decode(v9Names(many(10)), '192.0.2.1', 1_700_000_000_000);
  t.equal(d.exporters()[0].interfaceNames?.length, 3);
  t.equal(d.counters().tableEvictions, 7, 'each refused name counted');
  d.decode(v9Names(many(3, 100)), '192.0.2.2', 1_700_000_000_000);
  t.equal(d.exporters().find((e) => e.address === '192.0.2.2')?.interfaceNames?.length, 2, 'total cap 5');
  // Known names are still updated when the table is full.
  d.decode(v9Names([[0, 'renamed', '']], 2), '192.0.2.1', 1_700_000_000_500);
  t.equal(d.exporters().find((e) => e.address === '192.0.2.1')?.interfaceNames?.[0].name, 'renamed');
  d.expire(1_700_000_001_200); // 192.0.2.2 idle for 1.2 s
  d.decode(v9Names(many(2, 200)), '192.0.2.3', 1_700_000_001_200);
  t.equal(d.exporters().find((e) => e.address === '192.0.2.3')?.interfaceNames?.length, 2);
});

t.test('names travel in ExporterStatus field 15 and stay bounded through the wire sanitizer', async (t) => {
  const d = createFlowDecoder({ log: silentLogger });
  d.decode(v9Names([[1, 'Gi0/0/0', 'Uplink']]), EXPORTER, 1_700_000_000_000);
  const e = d.exporters()[0];
  const status = saneExporterStatus({
    address: e.address, netflowVersion: 9, packets: 1, flows: 0, sequenceGaps: 0, lastSeenMs: 0, templates: 1, samplingRate: 1,
    bytes: 0, flowsOutOfBounds: 0, protocol: 'netflow', interfaceNames: e.interfaceNames,
  });
  const msg = {
    edgeId: 'e', tenantId: 'op', state: 2, session: 1, atMs: 1, softwareVersion: 'x', configVersion: 0, collectionPaused: false,
    counters: {} as never, exporters: [status],
  };
  const back = edgeStatusCodec.decode(edgeStatusCodec.encode(msg as never));
  t.same(back.exporters[0].interfaceNames, [{ ifIndex: 1, name: 'Gi0/0/0', description: 'Uplink' }]);
});
