import t from 'tap';
import { silentLogger } from '../../../common/logger';
import { createFlowDecoder } from '../../../edge/decode/create-flow-decoder';
import type { FlowRecord } from '../../../edge/decode/flow-record';
import { ipText, v5Packet } from './packet-builder';

const T0 = 1_700_000_000;

function plain(r: FlowRecord) {
  return { ...r, srcIp: ipText(r.srcIp), dstIp: ipText(r.dstIp) };
}

t.test('decodeTransient gives the same records and counters as decode, reusing its records', async (t) => {
  const a = createFlowDecoder({ log: silentLogger });
  const b = createFlowDecoder({ log: silentLogger });
  const packets = [
    v5Packet({ uptimeMs: 100_000, unixSecs: T0, sequence: 0, sampling: 0x4000 | 10 }, [
      { src: '10.0.0.1', dst: '192.0.2.7', inIf: 3, outIf: 4, packets: 5, bytes: 1500, firstMs: 90_000, lastMs: 99_000, srcPort: 443, dstPort: 5555, protocol: 6 },
      { src: '10.0.0.2', dst: '192.0.2.8', packets: 1, bytes: 40 },
      { src: '10.0.0.3', dst: '192.0.2.9', packets: 2, bytes: 80 },
    ]),
    v5Packet({ uptimeMs: 101_000, unixSecs: T0 + 1, sequence: 3 }, [
      { src: '10.9.0.1', dst: '203.0.113.5', inIf: 7, outIf: 8, packets: 9, bytes: 900, firstMs: 100_500, lastMs: 100_900, srcPort: 53, dstPort: 1234, protocol: 17 },
    ]),
  ];
  const first = b.decodeTransient!(packets[0], '198.51.100.1', 1);
  const firstRecord = first[0];
  t.same(first.map(plain), a.decode(packets[0], '198.51.100.1', 1).map(plain));
  const second = b.decodeTransient!(packets[1], '198.51.100.1', 2);
  t.same(second.map(plain), a.decode(packets[1], '198.51.100.1', 2).map(plain));
  t.equal(second.length, 1, 'a shorter datagram returns only its own records');
  t.equal(second[0], firstRecord, 'the records are reused (valid until the next call)');
  // Arrays are reused too, one per length below the longest so far (finishTransient: no reallocation
  // when sizes alternate), so a shorter result is another array than the longest one.
  t.equal(b.decodeTransient!(packets[1], '198.51.100.1', 2), second, 'the same length: the same array');
  a.decode(packets[1], '198.51.100.1', 2);
  t.equal(b.decodeTransient!(packets[0], '198.51.100.1', 2), first, 'the longest: the first array');
  a.decode(packets[0], '198.51.100.1', 2);
  t.same(b.counters(), a.counters());
  t.same(b.exporters(), a.exporters());
  const garbage = b.decodeTransient!(Uint8Array.of(0, 5, 0), '198.51.100.1', 3);
  t.equal(garbage.length, 0, 'a truncated datagram yields no records, not the previous ones');
  t.equal(b.counters().decodeErrors, 1);
});
