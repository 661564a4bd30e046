/**
 * The last collection config (proto EdgeConfig) received from the hub, persisted so a restarted
 * edge classifies (and pauses) exactly as before even while the hub is unreachable.
 */
import type { KeyValueStore } from '../../common/kv/kv-store';
import { edgeConfigCodec, type EdgeConfig as CollectionConfig } from '../../proto/codec';

const KEY = 'config/collection';

export async function loadCollectionConfig(kv: KeyValueStore): Promise<CollectionConfig | undefined> {
  const raw = await kv.get(KEY);
  return raw ? edgeConfigCodec.decode(raw) : undefined;
}

export async function saveCollectionConfig(kv: KeyValueStore, config: CollectionConfig): Promise<void> {
  await kv.write([{ type: 'put', key: KEY, value: edgeConfigCodec.encode(config) }]);
}
