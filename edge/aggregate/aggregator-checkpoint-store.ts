/**
 * Persistence of the aggregator's open and late buckets in the KeyValueStore:
 *   agg/meta                 {closedBeforeSec, nextRevision}
 *   agg/open/<bucketStart>   BucketRow[] (JSON)
 *   agg/late/<bucketStart>   BucketRow[] (JSON)
 * checkpointOps() only produces ops; the caller writes them in the same atomic write as the outbox
 * batches of the buckets that closed, so a closed bucket is either still open on disk or already in
 * the outbox: never both (counted twice) and never neither (lost).
 */
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { prefixRange } from '../../common/kv/kv-store';
import { encodeJson, decodeJson } from '../../common/kv/json-codec';
import type { AggregatorCheckpoint, AggregatorMeta, BucketRow, BucketSnapshot } from './bucket-aggregator';

const META_KEY = 'agg/meta';
const OPEN_PREFIX = 'agg/open/';
const LATE_PREFIX = 'agg/late/';

function bucketKey(bucketStartSec: number, late: boolean): string {
  return (late ? LATE_PREFIX : OPEN_PREFIX) + String(bucketStartSec).padStart(12, '0');
}

export function aggregatorCheckpointOps(cp: AggregatorCheckpoint): KvOp[] {
  const ops: KvOp[] = [];
  for (const r of cp.removed) ops.push({ type: 'del', key: bucketKey(r.bucketStartSec, r.late) });
  for (const b of cp.changed) ops.push({ type: 'put', key: bucketKey(b.bucketStartSec, b.late), value: encodeJson(b.rows) });
  ops.push({ type: 'put', key: META_KEY, value: encodeJson(cp.meta) });
  return ops;
}

export async function loadAggregatorState(kv: KeyValueStore): Promise<{ meta: AggregatorMeta; buckets: BucketSnapshot[] }> {
  const rawMeta = await kv.get(META_KEY);
  const meta: AggregatorMeta = rawMeta ? decodeJson<AggregatorMeta>(rawMeta) : { closedBeforeSec: 0, nextRevision: 1 };
  const buckets: BucketSnapshot[] = [];
  for (const [prefix, late] of [[OPEN_PREFIX, false], [LATE_PREFIX, true]] as const) {
    for await (const [key, value] of kv.entries(prefixRange(prefix))) {
      buckets.push({ bucketStartSec: Number(key.slice(prefix.length)), late, rows: decodeJson<BucketRow[]>(value) });
    }
  }
  return { meta, buckets };
}
