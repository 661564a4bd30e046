import { Level } from 'level';
import type { KeyValueStore, KvOp, KvRange } from './kv-store';

/** LevelDB-backed KeyValueStore (classic-level). `write` is a LevelDB batch, hence atomic. */
export async function openLevelKvStore(location: string): Promise<KeyValueStore> {
  const db = new Level<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  return {
    async get(key) { return (await db.get(key)) ?? undefined; },
    async getMany(keys) { return (await db.getMany(keys)).map((v) => v ?? undefined); },
    async write(ops: KvOp[]) {
      if (ops.length === 0) return;
      await db.batch(ops.map((op) => (op.type === 'put' ? { type: 'put' as const, key: op.key, value: op.value } : { type: 'del' as const, key: op.key })));
    },
    async *entries(range: KvRange) {
      const opts: Record<string, unknown> = { reverse: range.reverse ?? false, limit: range.limit ?? -1 };
      if (range.gte !== undefined) opts.gte = range.gte;
      if (range.lt !== undefined) opts.lt = range.lt;
      for await (const entry of db.iterator(opts)) yield entry as [string, Uint8Array];
    },
    async close() { await db.close(); },
  };
}
