import type { Logger } from '../../common/logger';
import type { EdgeRegistry } from '../edges/edge-registry';
import { createDynamicSecurity, createDynsecControl } from './dynamic-security';

/**
 * Keeps an external Mosquitto's dynamic-security plugin in step with the edge registry
 * (FLOWBILL_MQTT_DYNSEC=on): credentials issued (edge created, enrolled, rotated; consumer created)
 * are pushed with their ACLs, revoked ones deleted (which also disconnects them). The listeners are
 * registered at once, so credentials issued before start() are pushed too (the control connection
 * opens on first use). start() gives the hubs' user its role before the hub subscribes, and removes
 * from the broker what was revoked while it could not be told.
 */
export function syncCredentialsToBroker(deps: {
  registry: Pick<EdgeRegistry, 'onCredentialsIssued' | 'onRevoked' | 'onConsumerRevoked' | 'listAllEdges' | 'listAllConsumers'>;
  /** FLOWBILL_MQTT_URL, whose user is a dynsec admin; the hubs connect as that user. */
  url: string;
  hubId: string;
  shareGroup: string;
  log: Logger;
}) {
  const control = createDynsecControl({ url: deps.url, clientId: `${deps.hubId}-dynsec`, log: deps.log });
  const dynsec = createDynamicSecurity({ control, shareGroup: deps.shareGroup, log: deps.log });
  deps.registry.onCredentialsIssued((issued) => (issued.kind === 'edge' ? dynsec.putEdge(issued.edge, issued.password) : dynsec.putConsumer(issued.consumer, issued.password)));
  deps.registry.onRevoked((edge) => dynsec.removeEdge(edge.edgeId));
  deps.registry.onConsumerRevoked((consumer) => dynsec.removeConsumer(consumer.username));

  return {
    dynsec,
    async start(): Promise<void> {
      const hubUsername = decodeURIComponent(new URL(deps.url).username);
      if (!hubUsername) throw new Error('config FLOWBILL_MQTT_DYNSEC=on: FLOWBILL_MQTT_URL must carry the dynsec admin user the hubs connect as (mqtt://user:password@host:port)');
      await dynsec.ensureHub(hubUsername);
      const edgeIds = (await deps.registry.listAllEdges()).filter((e) => !e.revoked).map((e) => e.edgeId);
      const consumerUsernames = (await deps.registry.listAllConsumers()).map((c) => c.username);
      const { removed, missing } = await dynsec.reconcile({ edgeIds, consumerUsernames });
      if (removed.length) deps.log.warn({ removed: removed.slice(0, 20) }, `removed ${removed.length} revoked identit(ies) from the broker's dynamic-security`);
      // The hub keeps password hashes only: such an identity cannot log in until its credentials are rotated.
      if (missing.length) deps.log.warn({ missing: missing.slice(0, 20) }, `${missing.length} live edge(s)/consumer(s) unknown to the broker's dynamic-security: rotate their credentials`);
    },
    close: () => control.close(),
  };
}
