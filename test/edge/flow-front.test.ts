import t from 'tap';
import { createFlowFront, type FlowSink } from '../../edge/flow-front';
import { loadEdgeConfig } from '../../edge/config';
import { silentLogger } from '../../common/logger';
import { buildV5, type V5Flow } from '../../edge/demo/netflow-v5-writer';
import { SubjectKind, type EdgeConfig as CollectionConfig } from '../../proto/codec';
import { DIRECTION_IN, DIRECTION_OUT, subjectHitOf } from '../../edge/classify/classifier';
import { ipGroupSubjectId } from '../../common/subject-id';
import { captureWarnings } from '../helpers/capture-logger';

// The flow front alone (no aggregator, no store): what it hands its sink and what it counts.
const NOW = 1_700_000_100_000;
const config = loadEdgeConfig({ env: {}, overrides: { edgeId: 'e1', tenantId: 'op1', liveIntervalMs: 1000 } });

const webGroup: CollectionConfig = {
  version: 3, collectionPaused: false, pauseReason: '', allInterfaces: false, interfaces: [],
  ipGroups: [{ name: 'web', prefixes: ['203.0.113.0/24'] }],
};

function v5(flows: Array<Partial<V5Flow>>, sequence = 0): Buffer {
  return buildV5(flows.map((f) => ({
    src: [198, 51, 100, 1], dst: [203, 0, 113, 9], inputIf: 1, outputIf: 2, packets: 3, bytes: 1000,
    startMs: NOW - 2000, endMs: NOW - 1000, ...f,
  })), { nowMs: NOW, sequence });
}

/** Copies what it is given: the front's records and hit codes are reused after addCoded() returns. */
function recordingSink() {
  const added: Array<{ dst: string; bytes: number; exporter: string; hits: Array<{ subjectId: string; kind: number; direction: number }> }> = [];
  const sink: FlowSink = {
    addCoded(flow, codes, n) {
      const hits = Array.from(codes.subarray(0, n), subjectHitOf);
      added.push({
        dst: flow.dstIp.join('.'), bytes: flow.bytes, exporter: flow.exporter,
        hits: hits.map((h) => ({ subjectId: h.subjectId, kind: h.kind, direction: h.direction })),
      });
    },
  };
  return { sink, added };
}

t.test('a v5 datagram in: classified flows and their hits go to the sink, the rest is counted', async (t) => {
  const { sink, added } = recordingSink();
  const front = createFlowFront({ config, log: silentLogger, sink, startMs: NOW - 1000 });
  t.same(front.useCollection(webGroup), { ipGroupCount: 1 });
  t.equal(front.collection(), webGroup);
  front.ingest(v5([{ dst: [203, 0, 113, 9], bytes: 1000 }, { src: [203, 0, 113, 7], dst: [192, 0, 2, 50], bytes: 700 }, { dst: [192, 0, 2, 200], bytes: 5 }]), '192.0.2.1', 'netflow', NOW);
  t.same(added, [
    { dst: '203.0.113.9', bytes: 1000, exporter: '192.0.2.1', hits: [{ subjectId: ipGroupSubjectId('web'), kind: SubjectKind.IP_GROUP, direction: DIRECTION_IN }] },
    { dst: '192.0.2.50', bytes: 700, exporter: '192.0.2.1', hits: [{ subjectId: ipGroupSubjectId('web'), kind: SubjectKind.IP_GROUP, direction: DIRECTION_OUT }] },
  ]);
  const s = front.status();
  t.match(s, {
    packetsReceived: 1, flowsDecoded: 3, decodeErrors: 0, unclassifiedFlows: 1, pausedFlows: 0, flowsOutOfBounds: 0,
    configVersion: 3, collectionPaused: false,
  });
  t.match(s.exporters, [{ address: '192.0.2.1', netflowVersion: 5, packets: 1, flows: 3, protocol: 'netflow', flowsOutOfBounds: 0 }]);
  // Top talkers saw every record that passed the bounds (live view on), classified or not.
  const live = front.takeTalkers(NOW, 10);
  t.equal(live.talkers.length, 3);
  t.equal(live.talkers[0].bytes, 1000);
});

t.test('paused: flows are counted in pausedFlows and never reach the sink', async (t) => {
  const { sink, added } = recordingSink();
  const front = createFlowFront({ config, log: silentLogger, sink, startMs: NOW });
  front.useCollection({ ...webGroup, version: 4, collectionPaused: true, pauseReason: 'unpaid' });
  front.ingest(v5([{}, {}]), '192.0.2.1', 'netflow', NOW);
  t.same(added, []);
  t.match(front.status(), { pausedFlows: 2, flowsDecoded: 2, unclassifiedFlows: 0, collectionPaused: true, configVersion: 4 });
  front.useCollection({ ...webGroup, version: 5 });
  front.ingest(v5([{}], 2), '192.0.2.1', 'netflow', NOW);
  t.equal(added.length, 1, 'resumed');
  t.match(front.status(), { pausedFlows: 2, collectionPaused: false });
});

t.test('out-of-bounds flows: counted per exporter, warned once per exporter and reason, not sunk', async (t) => {
  const { log, warnings } = captureWarnings();
  const { sink, added } = recordingSink();
  const front = createFlowFront({ config, log, sink, startMs: NOW });
  front.useCollection(webGroup);
  const old = { startMs: NOW - 3 * 86_400_000, endMs: NOW - 2 * 86_400_000 }; // beyond maxFlowAgeSec (1 day)
  front.ingest(v5([old, {}, old]), '192.0.2.1', 'netflow', NOW);
  front.ingest(v5([old], 3), '192.0.2.1', 'netflow', NOW);
  front.ingest(v5([{}]), '192.0.2.2', 'netflow', NOW);
  t.equal(added.length, 2);
  const s = front.status();
  t.equal(s.flowsOutOfBounds, 3);
  t.same(s.exporters.map((e) => [e.address, e.flowsOutOfBounds]), [['192.0.2.1', 3], ['192.0.2.2', 0]]);
  t.equal(warnings.filter((w) => w.msg?.startsWith('flow refused by the sanity bounds: time-too-old')).length, 1);
});

t.test('status() is plain data: it survives structuredClone (postMessage) unchanged', async (t) => {
  const { sink } = recordingSink();
  const front = createFlowFront({ config, log: silentLogger, sink, startMs: NOW });
  front.useCollection(webGroup);
  front.ingest(v5([{}, { endMs: NOW + 86_400_000 }]), '192.0.2.1', 'netflow', NOW);
  front.ingest(Uint8Array.of(0, 5, 0, 1), '192.0.2.9', 'sflow', NOW); // garbage on the sFlow port: a decode error
  front.expire(NOW + 60_000);
  const s = front.status();
  t.equal(s.decodeErrors, 1);
  t.equal(s.flowsOutOfBounds, 1);
  t.ok(s.exporters.length >= 1);
  t.strictSame(structuredClone(s), s);
});
