import type { KeyValueStore, KvOp, KvRange } from './kv-store';

/** In-memory KeyValueStore for unit tests; passes the same contract suite as LevelDB. */
export function createMemoryKvStore(): KeyValueStore {
  const map = new Map<string, Uint8Array>();
  let sortedKeys: string[] | null = null;
  const keys = () => (sortedKeys ??= [...map.keys()].sort());
  return {
    async get(key) { return map.get(key); },
    async getMany(ks) { return ks.map((k) => map.get(k)); },
    async write(ops: KvOp[]) {
      for (const op of ops) {
        if (op.type === 'put') { if (!map.has(op.key)) sortedKeys = null; map.set(op.key, op.value.slice()); }
        else if (map.delete(op.key)) sortedKeys = null;
      }
    },
    async *entries(range: KvRange) {
      let selected = keys().filter((k) => (range.gte === undefined || k >= range.gte) && (range.lt === undefined || k < range.lt));
      if (range.reverse) selected = selected.reverse();
      if (range.limit !== undefined) selected = selected.slice(0, range.limit);
      const snapshot = selected.map((k) => [k, map.get(k)!] as [string, Uint8Array]);
      yield* snapshot;
    },
    async close() {},
  };
}
