/**
 * The MQTT topic scheme, flowbill/v1/<tenant>/<edge>/<kind>. Tenant and edge ids are restricted
 * to [A-Za-z0-9_-] so they can never contain MQTT wildcards or separators.
 * Kinds: summaries (edge -> hub, raw input), ack (hub -> edge), status, config, live, and stored
 * (hub -> consumers: what the hub stored, the billing truth; proto/flowbill.proto StoredBatch).
 */
export const TOPIC_ROOT = 'flowbill/v1';
export type TopicKind = 'summaries' | 'ack' | 'status' | 'config' | 'live' | 'stored';
export const TOPIC_KINDS: readonly TopicKind[] = ['summaries', 'ack', 'status', 'config', 'live', 'stored'];
export const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function edgeTopic(tenantId: string, edgeId: string, kind: TopicKind): string {
  if (!SAFE_ID.test(tenantId) || !SAFE_ID.test(edgeId)) throw new Error(`unsafe tenant or edge id: ${tenantId}/${edgeId}`);
  return `${TOPIC_ROOT}/${tenantId}/${edgeId}/${kind}`;
}

export interface ParsedTopic { tenantId: string; edgeId: string; kind: TopicKind }

export function parseEdgeTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const [, , tenantId, edgeId, kind] = parts;
  if (!SAFE_ID.test(tenantId) || !SAFE_ID.test(edgeId)) return undefined;
  if (!TOPIC_KINDS.includes(kind as TopicKind)) return undefined;
  return { tenantId, edgeId, kind: kind as TopicKind };
}
