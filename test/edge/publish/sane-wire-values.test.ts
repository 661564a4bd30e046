import t from 'tap';
import { edgeStatusCodec, emptyCounters, liveFlowsCodec, EdgeState } from '../../../proto/codec';
import { saneCounters, saneExporterStatus, saneLiveFlows, uint32SamplingRate, uint64Count } from '../../../edge/publish/sane-wire-values';

t.test('uint64 counters: finite, non-negative, safe integers', async (t) => {
  t.same([Infinity, -Infinity, NaN, -5, 2.6, 2 ** 60, 42].map(uint64Count), [Number.MAX_SAFE_INTEGER, 0, 0, 0, 3, Number.MAX_SAFE_INTEGER, 42]);
});

t.test('sampling_rate (uint32): round, clamp to [1, 2^32-1], non-finite → 1', async (t) => {
  t.same([1.5, 0.2, Infinity, NaN, -3, 2 ** 40, 1000.4].map(uint32SamplingRate), [2, 1, 1, 1, 1, 0xffffffff, 1000]);
});

t.test('a status that the codec refuses encodes once made sane', async (t) => {
  const exporter = { address: '192.0.2.1', netflowVersion: 9, packets: Infinity, flows: -1, sequenceGaps: NaN, lastSeenMs: 1.5, templates: 2 ** 33, samplingRate: 1.5, bytes: 2 ** 64, flowsOutOfBounds: 0 };
  const counters = { ...emptyCounters(), packetsReceived: Infinity, outboxBytes: -3, internalErrors: 0.5 };
  const raw = { edgeId: 'e1', tenantId: 'op1', state: EdgeState.ONLINE, session: 1, atMs: 1, softwareVersion: 'x', counters, exporters: [exporter], configVersion: 1, collectionPaused: false };
  t.throws(() => edgeStatusCodec.encode(raw), 'the codec stays strict');
  const bytes = edgeStatusCodec.encode({ ...raw, counters: saneCounters(counters), exporters: [saneExporterStatus(exporter)] });
  const back = edgeStatusCodec.decode(bytes);
  t.equal(back.exporters[0].samplingRate, 2);
  t.equal(back.exporters[0].packets, Number.MAX_SAFE_INTEGER);
  t.equal(back.counters.outboxBytes, 0);
  t.equal(back.counters.packetsReceived, Number.MAX_SAFE_INTEGER);
});

t.test('LiveFlows with an Infinity counter encodes once made sane', async (t) => {
  const live = { edgeId: 'e1', atMs: 5, windowSec: 0, talkers: [{ src: '198.51.100.1', dst: '203.0.113.1', protocol: 6, srcPort: 70000.5, dstPort: 443, bytes: Infinity, packets: NaN, bitsPerSec: Infinity, exporter: '192.0.2.1' }] };
  t.throws(() => liveFlowsCodec.encode(live));
  const back = liveFlowsCodec.decode(liveFlowsCodec.encode(saneLiveFlows(live)));
  t.match(back, { windowSec: 1, talkers: [{ bytes: Number.MAX_SAFE_INTEGER, packets: 0, srcPort: 70001 }] });
});
