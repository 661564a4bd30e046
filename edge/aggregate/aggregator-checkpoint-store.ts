/**
 * Persistence of the aggregator's open and late buckets in the KeyValueStore:
 *   agg/meta                 {closedBeforeSec, nextRevision}
 *   agg/open/<bucketStart>   one bucket, binary (encodeBucket below; JSON rows of older versions still load)
 *   agg/late/<bucketStart>   same, for late data waiting to go out as a revision
 * checkpointOps() only produces ops; the caller writes them in the same atomic write as the outbox
 * batches of the buckets that closed, so a closed bucket is either still open on disk or already in
 * the outbox: never both (counted twice) and never neither (lost).
 */
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { prefixRange } from '../../common/kv/kv-store';
import { encodeJson, decodeJson } from '../../common/kv/json-codec';
import { COUNTERS_PER_ROW, uninitialized, type AggregatorCheckpoint, type AggregatorMeta, type BucketSnapshot } from './bucket-aggregator';

const META_KEY = 'agg/meta';
const OPEN_PREFIX = 'agg/open/';
const LATE_PREFIX = 'agg/late/';

function bucketKey(bucketStartSec: number, late: boolean): string {
  return (late ? LATE_PREFIX : OPEN_PREFIX) + String(bucketStartSec).padStart(12, '0');
}

/** Rows written by versions before the binary layout: [subjectId, kind, bytesIn, bytesOut, packetsIn, packetsOut, flowsIn, flowsOut]. */
type LegacyBucketRow = [string, number, number, number, number, number, number, number];

const FORMAT_BINARY_V1 = 1;
const HEADER_BYTES = 16;
const utf8Encoder = new TextEncoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Binary bucket: [0] format 1, [4..8) row count u32 LE, [8..12) id bytes u32 LE, then the counters
 * (rows × 6 float64, host order = little-endian on every platform the edge ships on), the kinds
 * (one byte per row) and the subject ids as UTF-8 joined by "\n" (ids never hold one: common/subject-id).
 * Three copies of typed arrays: ~10x faster than JSON rows at 100k subjects, so the checkpoint no
 * longer blocks the event loop (and so the UDP socket) for hundreds of ms.
 */
export function encodeBucket(b: BucketSnapshot): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('binary bucket layout assumes a little-endian host');
  const rows = b.rows;
  const countBytes = rows * COUNTERS_PER_ROW * 8;
  const out = uninitialized(HEADER_BYTES + countBytes + rows + b.ids.length);
  out.fill(0, 0, HEADER_BYTES);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = FORMAT_BINARY_V1;
  view.setUint32(4, rows, true);
  view.setUint32(8, b.ids.length, true);
  out.set(new Uint8Array(b.counts.buffer, b.counts.byteOffset, countBytes), HEADER_BYTES);
  out.set(b.kinds.subarray(0, rows), HEADER_BYTES + countBytes);
  out.set(b.ids, HEADER_BYTES + countBytes + rows);
  return out;
}

export function decodeBucket(bucketStartSec: number, late: boolean, value: Uint8Array): BucketSnapshot {
  if (value[0] !== FORMAT_BINARY_V1) {
    const rows = decodeJson<LegacyBucketRow[]>(value);
    const counts = new Float64Array(rows.length * COUNTERS_PER_ROW);
    rows.forEach((r, i) => { for (let k = 0; k < COUNTERS_PER_ROW; k++) counts[i * COUNTERS_PER_ROW + k] = r[2 + k] as number; });
    return { bucketStartSec, late, rows: rows.length, kinds: Uint8Array.from(rows, (r) => r[1]), counts, ids: utf8Encoder.encode(rows.map((r) => r[0]).join('\n')) };
  }
  if (!LITTLE_ENDIAN) throw new Error('binary bucket layout assumes a little-endian host');
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const rows = view.getUint32(4, true);
  const idBytes = view.getUint32(8, true);
  const countsEnd = HEADER_BYTES + rows * COUNTERS_PER_ROW * 8;
  if (value.length !== countsEnd + rows + idBytes) throw new Error(`aggregator bucket ${bucketStartSec}: corrupt value (${value.length} bytes for ${rows} rows)`);
  // Copies (Uint8Array#slice, not Buffer#slice): LevelDB buffers need not be 8-byte aligned.
  const slice = (from: number, to: number) => Uint8Array.prototype.slice.call(value, from, to);
  return { bucketStartSec, late, rows, counts: new Float64Array(slice(HEADER_BYTES, countsEnd).buffer), kinds: slice(countsEnd, countsEnd + rows), ids: slice(countsEnd + rows, value.length) };
}

export function aggregatorCheckpointOps(cp: AggregatorCheckpoint): KvOp[] {
  const ops: KvOp[] = [];
  for (const r of cp.removed) ops.push({ type: 'del', key: bucketKey(r.bucketStartSec, r.late) });
  for (const b of cp.changed) ops.push({ type: 'put', key: bucketKey(b.bucketStartSec, b.late), value: encodeBucket(b) });
  ops.push({ type: 'put', key: META_KEY, value: encodeJson(cp.meta) });
  return ops;
}

export async function loadAggregatorState(kv: KeyValueStore): Promise<{ meta: AggregatorMeta; buckets: BucketSnapshot[] }> {
  const rawMeta = await kv.get(META_KEY);
  const meta: AggregatorMeta = rawMeta ? decodeJson<AggregatorMeta>(rawMeta) : { closedBeforeSec: 0, nextRevision: 1 };
  const buckets: BucketSnapshot[] = [];
  for (const [prefix, late] of [[OPEN_PREFIX, false], [LATE_PREFIX, true]] as const) {
    for await (const [key, value] of kv.entries(prefixRange(prefix))) {
      buckets.push(decodeBucket(Number(key.slice(prefix.length)), late, value));
    }
  }
  return { meta, buckets };
}
