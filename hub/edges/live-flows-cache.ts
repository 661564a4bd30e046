import type { LiveFlows } from '../../proto/codec';

/**
 * The latest LiveFlows (top talkers, QoS 0, best effort) per edge, in memory only: it is a
 * "right now" view, never billing data. Keyed by the edge the topic names, grouped by operator.
 */
export function createLiveFlowsCache() {
  const byEdge = new Map<string, { operatorId: string; flows: LiveFlows; receivedAtMs: number }>();
  return {
    put(operatorId: string, edgeId: string, flows: LiveFlows, receivedAtMs: number): void {
      byEdge.set(edgeId, { operatorId, flows: { ...flows, edgeId }, receivedAtMs });
    },
    forOperator(operatorId: string): { edgeId: string; receivedAtMs: number; flows: LiveFlows }[] {
      return [...byEdge.entries()].filter(([, v]) => v.operatorId === operatorId).map(([edgeId, v]) => ({ edgeId, receivedAtMs: v.receivedAtMs, flows: v.flows }));
    },
    forget(edgeId: string): void {
      byEdge.delete(edgeId);
    },
  };
}

export type LiveFlowsCache = ReturnType<typeof createLiveFlowsCache>;
