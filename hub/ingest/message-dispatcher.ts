import { createOnceLogger, type Logger } from '../../common/logger';
import { parseEdgeTopic } from '../../common/topics';
import { edgeStatusCodec, liveFlowsCodec } from '../../proto/codec';
import type { EdgeStatusTracker } from '../edges/edge-status-tracker';
import type { LiveFlowsCache } from '../edges/live-flows-cache';
import type { Clock } from '../../common/clock';
import type { BatchIngestor, EdgeLookup } from './batch-ingestor';

/** The topics the hub's client subscribes to. */
export const HUB_SUBSCRIPTIONS = ['flowbill/v1/+/+/summaries', 'flowbill/v1/+/+/status', 'flowbill/v1/+/+/live'];

export interface MessageDispatcherDeps {
  ingestor: BatchIngestor;
  edges: EdgeLookup;
  status: EdgeStatusTracker;
  liveFlows: LiveFlowsCache;
  clock: Clock;
  log: Logger;
}

/**
 * Routes each MQTT message by topic kind: summaries to the ingestor, status to the tracker, live
 * flows to the cache. Status and live messages are trusted only from a registered, non-revoked
 * edge of the topic's tenant whose payload names the same edge; anything else is counted and
 * logged once. Never throws: one bad message cannot stop the hub's subscription.
 */
export function createMessageDispatcher(deps: MessageDispatcherDeps) {
  const once = createOnceLogger(deps.log);
  const counters = { statusIgnored: 0, liveIgnored: 0, malformed: 0 };

  async function knownEdge(tenantId: string, edgeId: string): Promise<boolean> {
    const edge = await deps.edges.getEdge(edgeId);
    return !!edge && !edge.revoked && edge.operatorId === tenantId;
  }

  return {
    counters: () => ({ ...counters }),
    async dispatch(topic: string, payload: Uint8Array, meta: { retained: boolean } = { retained: false }): Promise<void> {
      const t = parseEdgeTopic(topic);
      if (!t) { once.warnOnce(`topic:${topic}`, { topic }, 'message on an unknown topic'); return; }
      try {
        if (t.kind === 'summaries') {
          await deps.ingestor.handle(topic, payload);
          return;
        }
        if (t.kind === 'status') {
          if (payload.length === 0) return; // a cleared retained message
          const status = edgeStatusCodec.decode(payload);
          if (status.edgeId !== t.edgeId || !(await knownEdge(t.tenantId, t.edgeId))) {
            counters.statusIgnored++;
            once.warnOnce(`status:${topic}`, { topic, payloadEdgeId: status.edgeId }, 'status from an unknown edge or naming another edge: ignored');
            return;
          }
          deps.status.apply(status, { retained: meta.retained });
          return;
        }
        if (t.kind === 'live') {
          const flows = liveFlowsCodec.decode(payload);
          if (!(await knownEdge(t.tenantId, t.edgeId))) { counters.liveIgnored++; return; }
          deps.liveFlows.put(t.tenantId, t.edgeId, flows, deps.clock.nowMs());
        }
      } catch (err) {
        counters.malformed++;
        once.warnOnce(`malformed:${t.kind}:${t.edgeId}`, { topic, err: (err as Error).message }, 'malformed message');
      }
    },
  };
}
