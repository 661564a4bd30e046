/**
 * Bucket aggregator: bytes / packets / flows per (5-minute bucket, subject, direction). Pure: time
 * comes in as arguments, no timers or I/O; the checkpoint store persists its snapshots.
 *
 * Closing rule: bucket [b, b+300) closes when nowMs >= (b + 300 + closeGraceSec) * 1000. Closing is
 * recorded as a watermark `closedBeforeSec` (every bucket starting below it is closed), which only
 * grows and is persisted, so a restart never reopens or re-reports a closed bucket.
 *
 * Late flows (for a closed bucket) are collected apart and reported at the next closeDue() as a
 * revision: Summary.revision > 0, counts additive (proto/flowbill.proto). Revision numbers come from
 * one persisted per-edge counter, so (subject, bucket, revision) is unique forever without keeping a
 * per-bucket counter for every bucket that might ever receive a straggler.
 */
import type { FlowRecord } from '../decode/flow-record';
import type { Summary, SubjectKind } from '../../proto/codec';
import { BUCKET_SEC, splitFlow, bucketStartSecOf, singleBucketSec } from './split-flow';
import type { SubjectHit } from '../classify/classifier';
import { subjectKeyOf } from '../classify/subject-keys';

/** Counters per row, in this order: [bytesIn, bytesOut, packetsIn, packetsOut, flowsIn, flowsOut]. */
export const COUNTERS_PER_ROW = 6;

/**
 * Serialized bucket, column-wise: row i is the i-th subject id of `ids`, kinds[i], counts[6i .. 6i+5].
 * `ids` holds the subject ids as UTF-8 joined by "\n" (an id never contains one: common/subject-id).
 */
export interface BucketSnapshot {
  bucketStartSec: number;
  /** true: late data for a closed bucket, waiting to go out as a revision. */
  late: boolean;
  rows: number;
  kinds: Uint8Array;
  counts: Float64Array;
  ids: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * Copies for checkpoints come from malloc without zero-fill (the copy overwrites every byte):
 * a fresh zeroed 5 MB typed array costs ~15 ms of page faults here on every checkpoint, while freed
 * malloc memory is reused (~0.3 ms). A plain Uint8Array view at offset 0, so it can back a Float64Array.
 */
export function uninitialized(bytes: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(bytes);
  return new Uint8Array(b.buffer, b.byteOffset, bytes);
}
const NEWLINE = 10;

export interface AggregatorMeta {
  closedBeforeSec: number;
  nextRevision: number;
}

export interface AggregatorCheckpoint {
  meta: AggregatorMeta;
  /** Buckets changed since the last checkpoint (full content). */
  changed: BucketSnapshot[];
  /** Buckets that no longer exist in memory since the last checkpoint (closed or flushed). */
  removed: { bucketStartSec: number; late: boolean }[];
}

export interface BucketAggregatorOptions {
  closeGraceSec: number;
}

export interface AggregatorStats {
  openBuckets: number;
  lateBuckets: number;
  activeSubjects: number;
  lateFlows: number;
}

export interface BucketAggregator {
  /** Count one classified flow for its subjects. */
  add(flow: FlowRecord, hits: readonly SubjectHit[]): void;
  /**
   * Remove every bucket due at nowMs (revision 0) and every late bucket (next revision) and return
   * their summaries. The caller must persist them together with checkpoint() in one atomic write.
   */
  closeDue(nowMs: number): Summary[];
  /** What changed since the previous checkpoint(); call right after closeDue() for the same write. */
  checkpoint(): AggregatorCheckpoint;
  /** After a failed write: the next checkpoint() returns everything in memory. */
  markAllDirty(): void;
  /** Load state written by checkpoints (at start, before any add). */
  restore(meta: AggregatorMeta, buckets: BucketSnapshot[]): void;
  stats(): AggregatorStats;
  /** Sum over open and late buckets, for logs and tests. */
  totals(): { bytes: number; packets: number; flows: number };
}

function bucketKey(bucketStartSec: number, late: boolean): string {
  return `${late ? 'late' : 'open'}:${bucketStartSec}`;
}

/**
 * One bucket, struct-of-arrays: a row per subject that has counts in it, found through the subject's
 * slot (rowOf[slot] = row + 1, 0 = none). 52 bytes per row and no object per subject: at 100k
 * subjects this is what keeps RSS down and makes a checkpoint a copy of two typed arrays.
 */
interface Bucket {
  rowOf: Int32Array;
  rows: number;
  slotOfRow: Int32Array;
  counts: Float64Array;
  kinds: Uint8Array;
  // Rows are only ever appended, so the UTF-8 id column is built once per row, at the checkpoint
  // after the row appeared: idBytes[0, idLength) holds rows [0, idRows).
  idBytes: Uint8Array;
  idLength: number;
  idRows: number;
}

function newBucket(slotCount: number): Bucket {
  return {
    rowOf: new Int32Array(Math.max(64, slotCount)), rows: 0, slotOfRow: new Int32Array(64), counts: new Float64Array(64 * COUNTERS_PER_ROW),
    kinds: new Uint8Array(64), idBytes: new Uint8Array(1024), idLength: 0, idRows: 0,
  };
}

function newRow(b: Bucket, slot: number): number {
  if (slot >= b.rowOf.length) {
    const rowOf = new Int32Array(Math.max(slot + 1, b.rowOf.length * 2)); rowOf.set(b.rowOf); b.rowOf = rowOf;
  }
  const row = b.rows++;
  if (row === b.slotOfRow.length) {
    const slots = new Int32Array(row * 2); slots.set(b.slotOfRow); b.slotOfRow = slots;
    const counts = new Float64Array(row * 2 * COUNTERS_PER_ROW); counts.set(b.counts); b.counts = counts;
    const kinds = new Uint8Array(row * 2); kinds.set(b.kinds); b.kinds = kinds;
  }
  b.slotOfRow[row] = slot;
  b.rowOf[slot] = row + 1;
  return row;
}

export function createBucketAggregator(opts: BucketAggregatorOptions): BucketAggregator {
  const graceMs = opts.closeGraceSec * 1000;
  let closedBeforeSec = 0;
  let nextRevision = 1;
  let lateFlows = 0;
  // A subject's slot is its process-wide subject key (classify/subject-keys.ts), so a hit finds its
  // row through two typed-array reads and no string hashing.
  const subjectIds: string[] = [];
  const subjectKinds: number[] = [];
  const open = new Map<number, Bucket>();
  const late = new Map<number, Bucket>();
  const dirty = new Set<string>();
  const removed = new Map<string, { bucketStartSec: number; late: boolean }>();

  function known(slot: number, subjectId: string, kind: SubjectKind): number {
    if (subjectIds[slot] === undefined) {
      while (subjectIds.length < slot) { subjectIds.push(undefined!); subjectKinds.push(0); } // keep the arrays packed
      subjectIds[slot] = subjectId;
      subjectKinds[slot] = kind;
    }
    return slot;
  }

  // Hot path cache: nearly every flow lands in the current open bucket, so skip the map lookups and
  // the dirty-key bookkeeping when it is the same bucket as last time (reset by anything that drops
  // buckets or clears the dirty set).
  let cachedStartSec = -1;
  let cachedLate = false;
  let cachedBucket: Bucket | undefined;

  function bucketFor(bucketStartSec: number, isLate: boolean): Bucket {
    if (cachedBucket && bucketStartSec === cachedStartSec && isLate === cachedLate) return cachedBucket;
    const maps = isLate ? late : open;
    let bucket = maps.get(bucketStartSec);
    if (!bucket) { bucket = newBucket(subjectIds.length); maps.set(bucketStartSec, bucket); }
    const key = bucketKey(bucketStartSec, isLate);
    dirty.add(key);
    removed.delete(key);
    cachedStartSec = bucketStartSec; cachedLate = isLate; cachedBucket = bucket;
    return bucket;
  }

  function addTo(bucket: Bucket, hit: SubjectHit, bytes: number, packets: number, flows: number): void {
    const slot = hit.subjectKey;
    let row = slot < bucket.rowOf.length ? bucket.rowOf[slot] - 1 : -1;
    if (row < 0) { row = newRow(bucket, known(slot, hit.subjectId, hit.kind)); bucket.kinds[row] = hit.kind; }
    const o = row * COUNTERS_PER_ROW + hit.direction; // direction 0 in, 1 out
    const c = bucket.counts;
    c[o] += bytes;
    c[o + 2] += packets;
    c[o + 4] += flows;
  }

  function summariesOf(bucketStartSec: number, bucket: Bucket, revision: number, out: Summary[]): void {
    const c = bucket.counts;
    for (let row = 0; row < bucket.rows; row++) {
      const slot = bucket.slotOfRow[row];
      const o = row * COUNTERS_PER_ROW;
      out.push({
        subjectId: subjectIds[slot], subjectKind: subjectKinds[slot] as SubjectKind, bucketStartSec, durationSec: BUCKET_SEC,
        bytesIn: c[o], bytesOut: c[o + 1], packetsIn: c[o + 2], packetsOut: c[o + 3], flowsIn: c[o + 4], flowsOut: c[o + 5],
        revision,
      });
    }
  }

  function drop(bucketStartSec: number, isLate: boolean): void {
    cachedBucket = undefined;
    (isLate ? late : open).delete(bucketStartSec);
    const key = bucketKey(bucketStartSec, isLate);
    dirty.delete(key);
    removed.set(key, { bucketStartSec, late: isLate });
  }

  function snapshotOf(bucketStartSec: number, isLate: boolean, bucket: Bucket): BucketSnapshot {
    for (let row = bucket.idRows; row < bucket.rows; row++) {
      const id = subjectIds[bucket.slotOfRow[row]];
      const need = bucket.idLength + id.length * 3 + 1; // UTF-8 worst case
      if (need > bucket.idBytes.length) {
        const grown = new Uint8Array(Math.max(need, bucket.idBytes.length * 2)); grown.set(bucket.idBytes.subarray(0, bucket.idLength)); bucket.idBytes = grown;
      }
      const bytes = bucket.idBytes;
      let p = bucket.idLength;
      if (row > 0) bytes[p++] = NEWLINE;
      // Subject ids are ASCII (addresses, digits, [A-Za-z0-9_.-]); anything else goes through UTF-8.
      let ascii = true;
      for (let k = 0; k < id.length; k++) {
        const ch = id.charCodeAt(k);
        if (ch > 127) { ascii = false; break; }
        bytes[p + k] = ch;
      }
      if (ascii) p += id.length;
      else p += utf8.encodeInto(id, bytes.subarray(p)).written;
      bucket.idLength = p;
    }
    bucket.idRows = bucket.rows;
    const rows = bucket.rows;
    const counts = new Float64Array(uninitialized(rows * COUNTERS_PER_ROW * 8).buffer, 0, rows * COUNTERS_PER_ROW);
    counts.set(bucket.counts.subarray(0, rows * COUNTERS_PER_ROW));
    const kinds = uninitialized(rows); kinds.set(bucket.kinds.subarray(0, rows));
    const ids = uninitialized(bucket.idLength); ids.set(bucket.idBytes.subarray(0, bucket.idLength));
    return { bucketStartSec, late: isLate, rows, kinds, counts, ids };
  }

  return {
    add(flow, hits) {
      if (hits.length === 0) return;
      const oneBucketSec = singleBucketSec(flow.startMs, flow.endMs);
      if (oneBucketSec !== undefined) { // fast path, no allocation: the flow lies in one bucket
        const isLate = oneBucketSec < closedBeforeSec;
        const bucket = bucketFor(oneBucketSec, isLate);
        for (let i = 0; i < hits.length; i++) addTo(bucket, hits[i], flow.bytes, flow.packets, 1);
        if (isLate) lateFlows++;
        return;
      }
      const parts = splitFlow(flow.startMs, flow.endMs, flow.bytes, flow.packets);
      let wasLate = false;
      for (const part of parts) {
        const isLate = part.bucketStartSec < closedBeforeSec;
        wasLate ||= isLate;
        const bucket = bucketFor(part.bucketStartSec, isLate);
        for (let i = 0; i < hits.length; i++) addTo(bucket, hits[i], part.bytes, part.packets, part.flows);
      }
      if (wasLate) lateFlows++;
    },

    closeDue(nowMs) {
      const out: Summary[] = [];
      const watermark = bucketStartSecOf(nowMs - graceMs);
      if (watermark > closedBeforeSec) {
        closedBeforeSec = watermark;
        for (const b of [...open.keys()].sort((x, y) => x - y)) {
          if (b >= closedBeforeSec) continue;
          summariesOf(b, open.get(b)!, 0, out);
          drop(b, false);
        }
      }
      if (late.size > 0) {
        const revision = nextRevision++;
        for (const b of [...late.keys()].sort((x, y) => x - y)) {
          summariesOf(b, late.get(b)!, revision, out);
          drop(b, true);
        }
      }
      return out;
    },

    checkpoint() {
      const changed: BucketSnapshot[] = [];
      for (const key of dirty) {
        const [kind, b] = key.split(':');
        const isLate = kind === 'late';
        const bucket = (isLate ? late : open).get(Number(b));
        if (bucket) changed.push(snapshotOf(Number(b), isLate, bucket));
      }
      const result = { meta: { closedBeforeSec, nextRevision }, changed, removed: [...removed.values()] };
      dirty.clear();
      removed.clear();
      cachedBucket = undefined; // the next add must mark its bucket dirty again
      return result;
    },

    markAllDirty() {
      for (const b of open.keys()) dirty.add(bucketKey(b, false));
      for (const b of late.keys()) dirty.add(bucketKey(b, true));
    },

    restore(meta, buckets) {
      cachedBucket = undefined;
      closedBeforeSec = meta.closedBeforeSec;
      nextRevision = meta.nextRevision;
      for (const snap of buckets) {
        const bucket = newBucket(subjectIds.length);
        const ids = snap.rows === 0 ? [] : new TextDecoder().decode(snap.ids).split('\n');
        if (ids.length !== snap.rows) throw new Error(`bucket ${snap.bucketStartSec}: ${ids.length} subject ids for ${snap.rows} rows`);
        for (let i = 0; i < snap.rows; i++) {
          const slot = known(subjectKeyOf(ids[i]), ids[i], snap.kinds[i] as SubjectKind);
          let row = slot < bucket.rowOf.length ? bucket.rowOf[slot] - 1 : -1;
          if (row < 0) { row = newRow(bucket, slot); bucket.kinds[row] = snap.kinds[i]; }
          for (let k = 0; k < COUNTERS_PER_ROW; k++) bucket.counts[row * COUNTERS_PER_ROW + k] += snap.counts[i * COUNTERS_PER_ROW + k];
        }
        (snap.late ? late : open).set(snap.bucketStartSec, bucket);
      }
    },

    stats() {
      const seen = new Uint8Array(subjectIds.length);
      let activeSubjects = 0;
      for (const bucket of open.values()) {
        for (let row = 0; row < bucket.rows; row++) {
          const slot = bucket.slotOfRow[row];
          if (seen[slot] === 0) { seen[slot] = 1; activeSubjects++; }
        }
      }
      return { openBuckets: open.size, lateBuckets: late.size, activeSubjects, lateFlows };
    },

    totals() {
      let bytes = 0, packets = 0, flows = 0;
      for (const maps of [open, late]) for (const bucket of maps.values()) {
        const c = bucket.counts;
        for (let o = 0; o < bucket.rows * COUNTERS_PER_ROW; o += COUNTERS_PER_ROW) {
          bytes += c[o] + c[o + 1]; packets += c[o + 2] + c[o + 3]; flows += c[o + 4] + c[o + 5];
        }
      }
      return { bytes, packets, flows };
    },
  };
}
