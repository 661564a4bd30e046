import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logger';
import { createEdgeStatusTracker } from '../../../hub/edges/edge-status-tracker';
import { createLiveFlowsCache } from '../../../hub/edges/live-flows-cache';
import type { BatchIngestor, EdgeLookup } from '../../../hub/ingest/batch-ingestor';
import { createMessageDispatcher } from '../../../hub/ingest/message-dispatcher';
import { EdgeState, edgeStatusCodec, emptyCounters, liveFlowsCodec, type EdgeStatus } from '../../../proto/codec';

function setup() {
  const clock = createManualClock(1_000_000);
  const status = createEdgeStatusTracker({ clock });
  const liveFlows = createLiveFlowsCache();
  const handled: string[] = [];
  const ingestor = { handle: async (topic: string) => { handled.push(topic); return undefined; } } as unknown as BatchIngestor;
  const edges: EdgeLookup = { getEdge: async (id) => (id === 'e1' ? { edgeId: 'e1', operatorId: 'isp1', revoked: false } : id === 'e2' ? { edgeId: 'e2', operatorId: 'isp1', revoked: true } : undefined) };
  const d = createMessageDispatcher({ ingestor, edges, status, liveFlows, clock, log: silentLogger });
  const st = (edgeId: string, session: number, atMs = 500_000): Uint8Array => edgeStatusCodec.encode({
    edgeId, tenantId: 'isp1', state: EdgeState.ONLINE, session, atMs, softwareVersion: 'x', counters: emptyCounters(), exporters: [], configVersion: 0, collectionPaused: false,
  } as EdgeStatus);
  return { d, status, liveFlows, handled, st, clock };
}

t.test('routes by kind; trusts status and live only from the registered edge the topic names', async (t) => {
  const { d, status, liveFlows, handled, st } = setup();
  await d.dispatch('flowbill/v1/isp1/e1/summaries', new Uint8Array());
  t.same(handled, ['flowbill/v1/isp1/e1/summaries']);
  await d.dispatch('flowbill/v1/isp1/e1/status', st('e9', 1)); // payload names another edge
  await d.dispatch('flowbill/v1/isp2/e1/status', st('e1', 1)); // wrong tenant
  await d.dispatch('flowbill/v1/isp1/e2/status', st('e2', 1)); // revoked
  t.equal(d.counters().statusIgnored, 3);
  t.equal(status.view('e1').state, 'unknown');
  await d.dispatch('flowbill/v1/isp1/e1/status', st('e1', 1), { retained: true });
  t.match(status.view('e1'), { state: 'online', lastSeenMs: 500_000 }, 'a retained replay keeps the edge timestamp');
  await d.dispatch('flowbill/v1/isp1/e1/status', Uint8Array.from([0xff, 0xff]));
  t.equal(d.counters().malformed, 1);
  await d.dispatch('flowbill/v1/isp1/e1/status', new Uint8Array()); // cleared retained message
  await d.dispatch('flowbill/v1/isp1/e1/live', liveFlowsCodec.encode({ edgeId: 'e1', atMs: 1, windowSec: 10, talkers: [] }));
  await d.dispatch('flowbill/v1/isp1/e2/live', liveFlowsCodec.encode({ edgeId: 'e2', atMs: 1, windowSec: 10, talkers: [] }));
  t.same(liveFlows.forOperator('isp1').map((e) => e.edgeId), ['e1']);
  await d.dispatch('not/a/flowbill/topic', new Uint8Array());
  t.pass('unknown topics are ignored');
});
