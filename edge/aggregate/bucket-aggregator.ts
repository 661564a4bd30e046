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

/** [bytesIn, bytesOut, packetsIn, packetsOut, flowsIn, flowsOut] */
type CountRow = [number, number, number, number, number, number];

interface SubjectCounts { subjectId: string; kind: SubjectKind; c: CountRow }

/** Serialized bucket: one row per subject: [subjectId, kind, bytesIn, bytesOut, packetsIn, packetsOut, flowsIn, flowsOut]. */
export type BucketRow = [string, number, number, number, number, number, number, number];

export interface BucketSnapshot {
  bucketStartSec: number;
  /** true: late data for a closed bucket, waiting to go out as a revision. */
  late: boolean;
  rows: BucketRow[];
}

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

export function createBucketAggregator(opts: BucketAggregatorOptions): BucketAggregator {
  const graceMs = opts.closeGraceSec * 1000;
  let closedBeforeSec = 0;
  let nextRevision = 1;
  let lateFlows = 0;
  const open = new Map<number, Map<string, SubjectCounts>>();
  const late = new Map<number, Map<string, SubjectCounts>>();
  const dirty = new Set<string>();
  const removed = new Map<string, { bucketStartSec: number; late: boolean }>();

  // Hot path cache: nearly every flow lands in the current open bucket, so skip the map lookups and
  // the dirty-key bookkeeping when it is the same bucket as last time (reset by anything that drops
  // buckets or clears the dirty set).
  let cachedStartSec = -1;
  let cachedLate = false;
  let cachedBucket: Map<string, SubjectCounts> | undefined;

  function bucketFor(bucketStartSec: number, isLate: boolean): Map<string, SubjectCounts> {
    if (cachedBucket && bucketStartSec === cachedStartSec && isLate === cachedLate) return cachedBucket;
    const maps = isLate ? late : open;
    let bucket = maps.get(bucketStartSec);
    if (!bucket) { bucket = new Map(); maps.set(bucketStartSec, bucket); }
    const key = bucketKey(bucketStartSec, isLate);
    dirty.add(key);
    removed.delete(key);
    cachedStartSec = bucketStartSec; cachedLate = isLate; cachedBucket = bucket;
    return bucket;
  }

  function addTo(bucket: Map<string, SubjectCounts>, hit: SubjectHit, bytes: number, packets: number, flows: number): void {
    let s = bucket.get(hit.subjectId);
    if (!s) { s = { subjectId: hit.subjectId, kind: hit.kind, c: [0, 0, 0, 0, 0, 0] }; bucket.set(hit.subjectId, s); }
    const d = hit.direction; // 0 in, 1 out
    s.c[d] += bytes;
    s.c[2 + d] += packets;
    s.c[4 + d] += flows;
  }

  function summariesOf(bucketStartSec: number, bucket: Map<string, SubjectCounts>, revision: number, out: Summary[]): void {
    for (const s of bucket.values()) {
      out.push({
        subjectId: s.subjectId, subjectKind: s.kind, bucketStartSec, durationSec: BUCKET_SEC,
        bytesIn: s.c[0], bytesOut: s.c[1], packetsIn: s.c[2], packetsOut: s.c[3], flowsIn: s.c[4], flowsOut: s.c[5],
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

  function snapshotOf(bucketStartSec: number, isLate: boolean, bucket: Map<string, SubjectCounts>): BucketSnapshot {
    const rows: BucketRow[] = [];
    for (const s of bucket.values()) rows.push([s.subjectId, s.kind, ...s.c]);
    return { bucketStartSec, late: isLate, rows };
  }

  return {
    add(flow, hits) {
      if (hits.length === 0) return;
      const oneBucketSec = singleBucketSec(flow.startMs, flow.endMs);
      if (oneBucketSec !== undefined) { // fast path, no allocation: the flow lies in one bucket
        const isLate = oneBucketSec < closedBeforeSec;
        const bucket = bucketFor(oneBucketSec, isLate);
        for (const hit of hits) addTo(bucket, hit, flow.bytes, flow.packets, 1);
        if (isLate) lateFlows++;
        return;
      }
      const parts = splitFlow(flow.startMs, flow.endMs, flow.bytes, flow.packets);
      let wasLate = false;
      for (const part of parts) {
        const isLate = part.bucketStartSec < closedBeforeSec;
        wasLate ||= isLate;
        const bucket = bucketFor(part.bucketStartSec, isLate);
        for (const hit of hits) addTo(bucket, hit, part.bytes, part.packets, part.flows);
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
        const map = new Map<string, SubjectCounts>();
        for (const [subjectId, kind, ...c] of snap.rows) map.set(subjectId, { subjectId, kind: kind as SubjectKind, c: c as CountRow });
        (snap.late ? late : open).set(snap.bucketStartSec, map);
      }
    },

    stats() {
      const subjects = new Set<string>();
      for (const bucket of open.values()) for (const k of bucket.keys()) subjects.add(k);
      return { openBuckets: open.size, lateBuckets: late.size, activeSubjects: subjects.size, lateFlows };
    },

    totals() {
      let bytes = 0, packets = 0, flows = 0;
      for (const maps of [open, late]) for (const bucket of maps.values()) for (const s of bucket.values()) {
        bytes += s.c[0] + s.c[1]; packets += s.c[2] + s.c[3]; flows += s.c[4] + s.c[5];
      }
      return { bytes, packets, flows };
    },
  };
}
