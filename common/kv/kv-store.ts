/**
 * KeyValueStore: the one storage port every repository in edge and hub is built on.
 *
 * Contract (test/common/kv-store.contract.ts runs it against every backend):
 * - keys are strings ordered by their UTF-8 bytes, as LevelDB and PostgreSQL's bytea order them (the
 *   memory store sorts by UTF-16 code units: the same order except above U+FFFF, which no key uses);
 * - values are bytes; repositories pick their own codec (json-codec.ts, or a binary layout);
 * - `write` applies all its operations atomically: after a crash either all or none are visible;
 * - `entries` iterates in key order (or reverse) over [gte, lt), a snapshot at call time.
 */
export type KvOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

export interface KvRange {
  gte?: string;
  lt?: string;
  reverse?: boolean;
  limit?: number;
}

export interface KeyValueStore {
  get(key: string): Promise<Uint8Array | undefined>;
  getMany(keys: string[]): Promise<(Uint8Array | undefined)[]>;
  write(ops: KvOp[]): Promise<void>;
  entries(range: KvRange): AsyncIterable<[string, Uint8Array]>;
  close(): Promise<void>;
  /** Optional: backends that count their failures (reopening-kv-store.ts) report them here. */
  health?(): KvHealth;
}

/** Failure counts of a store since it was created; writeErrors is the status counter store_write_errors. */
export interface KvHealth {
  writeErrors: number;
  readErrors: number;
  reopens: number;
  /** false while writes are failing (from the first failure until a write succeeds again). */
  healthy: boolean;
}

/** The range covering every key that starts with `prefix`. */
export function prefixRange(prefix: string, extra: Omit<KvRange, 'gte' | 'lt'> = {}): KvRange {
  return { ...extra, gte: prefix, lt: prefix + '\uffff' };
}

export async function put(store: KeyValueStore, key: string, value: Uint8Array): Promise<void> {
  await store.write([{ type: 'put', key, value }]);
}

export async function collect(store: KeyValueStore, range: KvRange): Promise<[string, Uint8Array][]> {
  const out: [string, Uint8Array][] = [];
  for await (const e of store.entries(range)) out.push(e);
  return out;
}
