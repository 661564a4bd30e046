/**
 * sFlow through the edge's composition root: ingest(kind 'sflow') picks the sFlow decoder, the flows
 * reach the buckets, and the status message (counters of both decoders, sFlow exporters with their
 * protocol, loss, drops and interface counters) encodes on the wire and decodes unchanged.
 */
import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { loadEdgeConfig } from '../../../edge/config';
import { createEdge } from '../../../edge/create-edge';
import { buildV5 } from '../../../edge/demo/netflow-v5-writer';
import { saneExporterStatus } from '../../../edge/publish/sane-wire-values';
import { edgeStatusCodec, EdgeState, emptyCounters } from '../../../proto/codec';
import { outboxTotals } from '../helpers/outbox-totals';
import { counterSample, ethernet, flowSample, ipv4Header, ports, rawHeader, sflowDatagram } from './sflow-builder';

const T0 = 1_700_000_100_000;

t.test('config: sflowPort defaults to 6343, 0 is ephemeral, -1 is off, anything else fails', async (t) => {
  t.equal(loadEdgeConfig({ env: {} }).sflowPort, 6343);
  t.equal(loadEdgeConfig({ env: { FLOWBILL_EDGE_SFLOW_PORT: '-1' } }).sflowPort, -1);
  t.equal(loadEdgeConfig({ env: { FLOWBILL_EDGE_SFLOW_PORT: '0' } }).sflowPort, 0);
  t.throws(() => loadEdgeConfig({ env: { FLOWBILL_EDGE_SFLOW_PORT: '70000' } }), /FLOWBILL_EDGE_SFLOW_PORT/);
});

t.test('ingest kind sflow: flows billed, status carries both decoders and encodes', async (t) => {
  const kv = createMemoryKvStore();
  const clock = createManualClock(T0 + 10_000);
  const config = loadEdgeConfig({ env: {}, overrides: { closeGraceSec: 60, liveIntervalMs: 0 } });
  const edge = createEdge({ config, clock, log: silentLogger, kv, listenUdp: false, publish: false });
  await edge.start();
  const frame = [...ethernet(0x0800), ...ipv4Header('198.51.100.1', '203.0.113.9', 6, 1000), ...ports(443, 50000)];
  edge.ingest(sflowDatagram({ agent: '192.0.2.1', sequence: 1 }, [
    flowSample({ sequence: 1, sourceIndex: 3, rate: 100, drops: 0, input: 3, output: 7 }, [rawHeader(1, 1018, frame)]),
    counterSample(1, 3, { ifIndex: 3, speed: 1e9, inOctets: 123456, outOctets: 654321, inErrors: 2 }),
  ]), '10.9.9.9', 'sflow');
  edge.ingest(sflowDatagram({ agent: '192.0.2.1', sequence: 3 }, [
    flowSample({ sequence: 3, sourceIndex: 3, rate: 100, drops: 4, input: 3, output: 7 }, [rawHeader(1, 1018, frame)]),
  ]), '10.9.9.9', 'sflow');
  // A NetFlow v5 datagram on the NetFlow path, and an sFlow one mistakenly sent to it: counted, not decoded.
  edge.ingest(buildV5([{ src: [198, 51, 100, 1], dst: [203, 0, 113, 9], inputIf: 1, outputIf: 2, packets: 3, bytes: 500, startMs: T0, endMs: T0 + 1000 }], { nowMs: T0 + 5000, sequence: 0 }), '192.0.2.50');
  edge.ingest(sflowDatagram({ agent: '192.0.2.1', sequence: 4 }, []), '10.9.9.9');

  const s = edge.status();
  t.equal(s.counters.packetsReceived, 4);
  t.equal(s.counters.flowsDecoded, 3);
  t.equal(s.counters.sequenceGaps, 1, 'sample 2 of source 3 lost');
  t.equal(s.counters.decodeErrors, 1, 'the sFlow datagram on the NetFlow path');
  const sflow = s.exporters.find((e) => e.protocol === 'sflow')!;
  t.match(sflow, { address: '192.0.2.1', netflowVersion: 5, flows: 2, bytes: 2 * 101_800, samplingRate: 100, sequenceGaps: 1, datagramsLost: 1, samplesDropped: 4 });
  t.match(sflow.ifCounters, [{ ifIndex: 3, ifSpeed: 1e9, inOctets: 123456, outOctets: 654321, inErrors: 2 }]);
  t.match(s.exporters.find((e) => e.address === '192.0.2.50'), { protocol: 'netflow', netflowVersion: 5 });

  const wire = edgeStatusCodec.decode(edgeStatusCodec.encode({
    edgeId: 'e1', tenantId: 'op1', state: EdgeState.ONLINE, session: 1, atMs: T0, softwareVersion: 'x',
    counters: { ...emptyCounters(), ...s.counters }, exporters: s.exporters.map(saneExporterStatus), configVersion: 0, collectionPaused: false,
  }));
  t.same(wire.exporters.find((e) => e.protocol === 'sflow'), saneExporterStatus(sflow), 'the status message carries the sFlow fields');

  clock.setMs(T0 + 300_000 + 61_000);
  await edge.flush();
  const totals = await outboxTotals(kv);
  // default collection: every interface; sFlow flows on if 3 (in) and 7 (out), the v5 one on 1 and 2
  t.equal(totals.bytesIn, 2 * 101_800 + 500);
  t.equal(totals.bytesOut, 2 * 101_800 + 500);
  await edge.stop();
});
