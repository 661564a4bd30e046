import { parseEdgeTopic, SAFE_ID, TOPIC_ROOT, type TopicKind } from '../../common/topics';

/** Who is on the other end of an MQTT connection, as the hub's access rules see it. */
export type MqttIdentity =
  | { kind: 'edge'; edgeId: string; operatorId: string }
  | { kind: 'consumer'; username: string; operatorId: string }
  | { kind: 'hub' };

/** The client id of the hub's own MQTT client (create-hub.ts). */
export const HUB_CLIENT_ID = 'flowbill-hub';
const CLIENT_ID_SUFFIX = /^[A-Za-z0-9_.-]{1,64}$/;

export const EDGE_PUBLISHES: readonly TopicKind[] = ['summaries', 'status', 'live'];
export const EDGE_SUBSCRIBES: readonly TopicKind[] = ['ack', 'config'];
// `stored` (what the hub stored: the billing truth) is written by the hub alone: an edge may neither
// publish it (it would forge billing data) nor read it; consumers read it.
export const CONSUMER_SUBSCRIBES: readonly TopicKind[] = ['summaries', 'status', 'live', 'stored'];

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
 * flowbill/v1/<its tenant>/<edge or +>/{summaries,status,live,stored}; '#' and a '+' in the tenant or
 * kind level would reach past its tenant or into acks/configs, so they are refused.
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

/**
 * Client ids are bound to the credential, so nobody can take over (or squat, while it is offline)
 * another identity's session: MQTT lets a CONNECT with a known client id take over that session and
 * drop its holder [MQTT-3.1.4-2]. Allowed:
 * - an edge: `<edgeId>`, `<edgeId>-<suffix>`, or `flowbill-edge-<tenant>-<edgeId>` (what the edge agent
 *   sends, edge/publish/mqtt-summary-publisher.ts);
 * - a consumer: `<username>` or `<username>-<suffix>`;
 * - the hub: exactly `flowbill-hub`.
 * <suffix> is 1-64 of [A-Za-z0-9_.-]. Usernames (edge-<hex>, consumer-<hex>) have a fixed shape, so
 * no identity's id can be another's `<username>-<suffix>`. A zero-length client id (the broker assigns a
 * unique one, clean session only [MQTT-3.1.3-6/7]) is decided by the broker, not here.
 */
export function mayUseClientId(who: MqttIdentity, clientId: string): boolean {
  if (who.kind === 'hub') return clientId === HUB_CLIENT_ID;
  const own = who.kind === 'edge' ? who.edgeId : who.username;
  if (clientId === own) return true;
  if (who.kind === 'edge' && clientId === `flowbill-edge-${who.operatorId}-${who.edgeId}`) return true;
  return clientId.startsWith(`${own}-`) && CLIENT_ID_SUFFIX.test(clientId.slice(own.length + 1));
}
