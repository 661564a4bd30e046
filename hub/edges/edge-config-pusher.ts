import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { createSerialQueue } from '../../common/serial-queue';
import { edgeTopic } from '../../common/topics';
import { edgeConfigCodec, type EdgeConfig } from '../../proto/codec';
import type { MqttPublisher } from '../broker/mqtt-publisher';
import type { CollectionPolicy, EdgeConfigPusher } from '../ports';
import type { CollectionConfigStore } from './collection-config-store';
import type { EdgeRecord, EdgeRegistry } from './edge-registry';

export interface EdgeConfigPusherDeps {
  registry: EdgeRegistry;
  configs: CollectionConfigStore;
  policy: CollectionPolicy;
  publisher: MqttPublisher;
  clock: Clock;
  log: Logger;
}

function sameContent(a: EdgeConfig, b: EdgeConfig): boolean {
  return JSON.stringify({ ...a, version: 0 }) === JSON.stringify({ ...b, version: 0 });
}

/**
 * Builds each operator's EdgeConfig (groups, interface selection, collection pause from the
 * CollectionPolicy) and publishes it RETAINED on every live edge's config topic, so an edge that
 * connects later still gets it. The version increments only when the content changed, so a
 * re-push after a hub restart (aedes keeps retained messages in memory) is not a new version.
 * Pushes are serialized so versions never go backwards on the wire.
 */
export function createEdgeConfigPusher(deps: EdgeConfigPusherDeps): EdgeConfigPusher & {
  buildConfig(operatorId: string): Promise<EdgeConfig>;
  pushToEdge(edge: EdgeRecord): Promise<void>;
  clearEdge(edge: EdgeRecord): Promise<void>;
  pushAll(): Promise<void>;
} {
  const queue = createSerialQueue();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => queue.run(fn);

  async function buildConfig(operatorId: string): Promise<EdgeConfig> {
    const [groups, selection, state, last] = await Promise.all([
      deps.configs.listGroups(operatorId),
      deps.configs.getSelection(operatorId),
      deps.policy.collectionState(operatorId, deps.clock.nowMs()),
      deps.configs.getLastConfig(operatorId),
    ]);
    const config: EdgeConfig = {
      version: last?.version ?? 0,
      collectionPaused: !state.allowed,
      pauseReason: state.allowed ? '' : (state.reason ?? 'collection paused'),
      allInterfaces: selection.allInterfaces,
      interfaces: selection.interfaces,
      ipGroups: groups,
    };
    if (!last || !sameContent(last, config)) {
      config.version = (last?.version ?? 0) + 1;
      await deps.configs.putLastConfig(operatorId, config);
    }
    return config;
  }

  async function publish(edge: EdgeRecord, config: EdgeConfig): Promise<void> {
    await deps.publisher.publish(edgeTopic(edge.operatorId, edge.edgeId, 'config'), edgeConfigCodec.encode(config), { qos: 1, retain: true });
  }

  const pushConfigs = (operatorId: string) => serialized(async () => {
    const config = await buildConfig(operatorId);
    const edges = (await deps.registry.listEdges(operatorId)).filter((e) => !e.revoked);
    await Promise.all(edges.map((e) => publish(e, config)));
    deps.log.debug({ operatorId, version: config.version, edges: edges.length }, 'edge config pushed');
  });

  return {
    pushConfigs,
    buildConfig: (operatorId) => serialized(() => buildConfig(operatorId)),
    pushToEdge: (edge) => serialized(async () => publish(edge, await buildConfig(edge.operatorId))),
    /** A revoked edge's retained config is removed from the broker (empty retained payload). */
    clearEdge: (edge) => deps.publisher.publish(edgeTopic(edge.operatorId, edge.edgeId, 'config'), new Uint8Array(0), { qos: 1, retain: true }),
    async pushAll() {
      const operators = new Set((await deps.registry.listAllEdges()).filter((e) => !e.revoked).map((e) => e.operatorId));
      for (const operatorId of operators) {
        try {
          await pushConfigs(operatorId);
        } catch (err) {
          deps.log.warn({ err, operatorId }, 'config push failed; it is retried on the next change or restart');
        }
      }
    },
  };
}
