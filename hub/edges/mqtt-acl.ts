import { parseEdgeTopic, SAFE_ID, TOPIC_ROOT, type TopicKind } from '../../common/topics';

/** Who is on the other end of an MQTT connection, as the hub's access rules see it. */
export type MqttIdentity =
  | { kind: 'edge'; edgeId: string; operatorId: string }
  | { kind: 'consumer'; username: string; operatorId: string }
  | { kind: 'hub' };

const EDGE_PUBLISHES: readonly TopicKind[] = ['summaries', 'status', 'live'];
const EDGE_SUBSCRIBES: readonly TopicKind[] = ['ack', 'config'];
const CONSUMER_SUBSCRIBES: readonly TopicKind[] = ['summaries', 'status', 'live'];

/**
 * An edge publishes only flowbill/v1/<its tenant>/<its edge>/{summaries,status,live}.
 * Consumers are read-only. The hub's own client may do anything.
 * (Exact topics only: the publish topic of an MQTT PUBLISH never holds wildcards [MQTT-3.3.2-2].)
 */
export function mayPublish(who: MqttIdentity, topic: string): boolean {
  if (who.kind === 'hub') return true;
  if (who.kind === 'consumer') return false;
  const t = parseEdgeTopic(topic);
  return !!t && t.tenantId === who.operatorId && t.edgeId === who.edgeId && EDGE_PUBLISHES.includes(t.kind);
}

/**
 * An edge subscribes only to its own ack and config, with no wildcards. A consumer subscribes to
 * flowbill/v1/<its tenant>/<edge or +>/{summaries,status,live}; '#' and a '+' in the tenant or kind
 * level would reach past its tenant or into acks/configs, so they are refused.
 */
export function maySubscribe(who: MqttIdentity, filter: string): boolean {
  if (who.kind === 'hub') return true;
  if (who.kind === 'edge') {
    const t = parseEdgeTopic(filter);
    return !!t && t.tenantId === who.operatorId && t.edgeId === who.edgeId && EDGE_SUBSCRIBES.includes(t.kind);
  }
  const parts = filter.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return false;
  const [, , tenantId, edgeLevel, kind] = parts;
  return tenantId === who.operatorId && (edgeLevel === '+' || SAFE_ID.test(edgeLevel)) && CONSUMER_SUBSCRIBES.includes(kind as TopicKind);
}
