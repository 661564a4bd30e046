/**
 * Bucket aggregator: bytes / packets / flows per (5-minute bucket, subject, direction). Pure apart
 * from the injected Clock that stamps revisions: no timers or I/O; the checkpoint store persists
 * its snapshots.
 *
 * Closing rule: bucket [b, b+300) closes when nowMs >= (b + 300 + closeGraceSec) * 1000. Closing is
 * recorded as a watermark `closedBeforeSec` (every bucket starting below it is closed), which only
 * grows and is persisted, so a restart never reopens a closed bucket. Flows for a closed bucket
 * ("late") go into a new bucket object that is emitted at the next closeDue().
 *
 * CONTENT IDENTITY (exactly-once across a rewound edge; the hub dedups on it, proto Summary.revision):
 * a summary is identified by (edgeId, bucketStartSec, revision, subjectId), and the edge guarantees:
 * (a) Every bucket object (open or late) gets its revision when it is CREATED and keeps it in its
 *     checkpoint (agg/bucket/<start>/<revision>):
 *       revision = max(floor(clock.nowMs() / 1000) - REVISION_EPOCH_SEC, lastRevisionUsedForThisStart + 1)
 *     REVISION_EPOCH_SEC is 2020-01-01 (1577836800), so a revision fits uint32 until 2156. The clock
 *     term keeps revisions unique per (edge, bucketStartSec) even after the disk state rewinds (LevelDB
 *     dropping torn writes after a disk-full) or is lost: a bucket object created after the restart
 *     gets a later second than any created before it. lastRevisionUsedForThisStart is what this
 *     process knows (restored buckets and buckets created since start); it only matters when two
 *     bucket objects for one start are created within one clock second (closes more often than
 *     once a second with late traffic), and then revisions run ahead of the clock by that many.
 *     Revision 0 is not special: a bucket's total is the sum over its distinct revisions. Keys
 *     without a revision (older versions) load as revision 0 (agg/open/<start>: the old versions
 *     sent an open bucket as revision 0) and as the old per-edge counter meta.nextRevision
 *     (agg/late/<start>: what the old version would have sent it as), and are rewritten under the
 *     new key by the next checkpoint.
 * (b) Buckets RESTORED from a checkpoint are sealed: their content never changes after restore
 *     (restore may only DROP invalid rows). Flows arriving after the restart for the same start go
 *     into a NEW bucket object with a new revision, which closes at the normal time (or at the next
 *     closeDue() when the start is already closed). So a restored revision, possibly sent before
 *     the rewind, is re-sent with content that is a subset of what was sent under that identity.
 * (c) A revision's summaries are emitted exactly once, all by the same closeDue(), consecutively, in
 *     ascending subjectId order (plain JS string comparison a < b; subject-order.ts ranks the ids so
 *     a close sorts integers, not strings). closeDue() returns the due
 *     revisions ordered by bucketStartSec, then revision, then subjectId, so the outbox cuts each
 *     revision into contiguous sorted runs.
 *
 * Bounds (hostile input, issue 8): at most maxOpenBuckets bucket objects held (open, late and
 * restored together), maxSubjects distinct subjects with a row, maxBucketRows rows over all held
 * buckets, and no counter above MAX_SUMMARY_COUNT (2^50, the hub's per-summary limit). A hit that
 * would break one is REFUSED, never silently: counted in stats().refusedHits (by reason) with its
 * bytes in refusedBytes. Flows whose numbers split-flow refuses (RangeError) count as invalidFlows.
 * Restored state is loaded whole even above the caps (it is billing data); new rows then wait.
 */
import type { FlowRecord } from '../decode/flow-record';
import type { Summary, SubjectKind } from '../../proto/codec';
import { MAX_SUMMARY_COUNT, isValidSummaryCount } from '../../proto/summary-limits';
import type { Clock } from '../../common/clock';
import { systemClock } from '../../common/clock';
import { BUCKET_MS, BUCKET_SEC, bucketStartSecOfMs } from '../../common/bucket';
import { splitFlowInto, createFlowParts, singleBucketSec, checkFlowCounts, MAX_TIME_MS } from './split-flow';
import type { SubjectHit } from '../classify/classifier';
import {
  directionOfHitCode, hitCode, keyOfHitCode, subjectIdOfKey, subjectKeyCount, subjectKeyOf, subjectKindOfKey,
} from '../classify/subject-keys';
import { subjectKeyOrder } from './subject-order';

/** Counters per row, in this order: [bytesIn, bytesOut, packetsIn, packetsOut, flowsIn, flowsOut]. */
export const COUNTERS_PER_ROW = 6;

/** 2020-01-01T00:00:00Z: revisions are seconds since then (uint32 until 2156). */
export const REVISION_EPOCH_SEC = 1_577_836_800;

/** The clock term of a new bucket object's revision. */
export function clockRevision(nowMs: number): number {
  return Math.max(0, Math.floor(nowMs / 1000) - REVISION_EPOCH_SEC);
}

/** Where a restored bucket came from when its key had no revision (older versions). */
export type LegacyBucketKey = 'open' | 'late';

/**
 * Serialized bucket, column-wise: row i is the i-th subject id of `ids`, kinds[i], counts[6i .. 6i+5].
 * `ids` holds the subject ids as UTF-8 joined by "\n" (an id never contains one: common/subject-id).
 */
export interface BucketSnapshot {
  bucketStartSec: number;
  revision: number;
  /** Loaded from a key without a revision: the checkpoint store deletes that key when it writes this one. */
  legacy?: LegacyBucketKey;
  rows: number;
  kinds: Uint8Array;
  counts: Float64Array;
  ids: Uint8Array;
  stored?: StoredLayout;
}

export interface RemovedBucket {
  bucketStartSec: number;
  revision: number;
  legacy?: LegacyBucketKey;
}

/**
 * A bucket is checkpointed in chunks of CHUNK_ROWS rows, one key each (aggregator-checkpoint-store.ts),
 * and only the chunks with a changed row are rewritten. Why: LevelDB handles one multi-megabyte value
 * badly (a 6 MB bucket of 100k subjects cost ~80 ms of CPU per write, ~25 ms as 64 KB chunks), and a
 * subject that saw no traffic since the last checkpoint no longer costs a rewrite.
 * 1024 rows ≈ 62 KB (48 bytes of counters, a kind byte and a ~12-byte id per row).
 */
export const CHUNK_ROWS = 1024;
const CHUNK_SHIFT = 10;

/** Rows [chunk × CHUNK_ROWS, + rows) of one bucket object, in the BucketSnapshot column layout. */
export interface BucketChunk {
  bucketStartSec: number;
  revision: number;
  chunk: number;
  rows: number;
  kinds: Uint8Array;
  counts: Float64Array;
  ids: Uint8Array;
}

/**
 * Keys of one bucket object to delete: its legacy key, its unchunked key (versions before chunks), and
 * chunk keys [chunkFrom, chunkTo). For a bucket that is gone (emitted) and for the leftovers of a
 * restored bucket that is rewritten (migration, dropped rows). They travel in `removed`, which the
 * caller keeps and retries after a failed write: a leftover key never survives next to its rewrite
 * (it would load twice).
 */
export interface StaleBucketKeys extends RemovedBucket {
  unchunked: boolean;
  chunkFrom: number;
  chunkTo: number;
}

/** How a restored snapshot was stored (the loader says; tests may omit it: then as one unchunked key). */
export interface StoredLayout {
  unchunked: boolean;
  chunks: number;
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
  /** Older versions' per-edge revision counter: read (legacy late buckets), no longer written. */
  nextRevision?: number;
}

export interface AggregatorCheckpoint {
  meta: AggregatorMeta;
  /** Chunks with a changed row since the last checkpoint (full content of the chunk). */
  changed: BucketChunk[];
  /** Keys to delete: buckets emitted since the last checkpoint, leftovers of rewritten restored ones. */
  removed: StaleBucketKeys[];
}

export interface BucketAggregatorOptions {
  closeGraceSec: number;
  /** Stamps new bucket objects' revisions (see CONTENT IDENTITY). Default: the system clock. */
  clock?: Clock;
  /** Bucket objects held at once (open, late, restored). Default unbounded (tests, benches). */
  maxOpenBuckets?: number;
  /** Distinct subjects with a row in a held bucket. Default unbounded. */
  maxSubjects?: number;
  /** Rows over all held buckets (~70 bytes each). Default unbounded. */
  maxBucketRows?: number;
}

export interface RefusedHits {
  /** A new bucket object was needed and maxOpenBuckets were held. */
  buckets: number;
  /** A new subject was needed and maxSubjects were active. */
  subjects: number;
  /** A new row was needed and maxBucketRows were held. */
  rows: number;
  /** A counter of the row would have passed MAX_SUMMARY_COUNT (2^50). */
  counterLimit: number;
}

export interface AggregatorStats {
  /** Held bucket objects not yet due (start >= closedBeforeSec). */
  openBuckets: number;
  /** Held bucket objects for closed starts, due at the next closeDue(). */
  lateBuckets: number;
  /** Distinct subjects with a row in any held bucket. */
  activeSubjects: number;
  /** Rows over all held buckets. */
  bucketRows: number;
  lateFlows: number;
  /** (flow part, subject) hits not counted because of a bound: the status counter table_evictions. */
  refusedHits: number;
  refusedHitsByReason: RefusedHits;
  /** Bytes of the refused hits (each hit's share, counted once per subject). */
  refusedBytes: number;
  /** Flows split-flow refused (RangeError: non-finite time, non-safe-integer or negative counts). */
  invalidFlows: number;
  /** Rows dropped by restore() (invalid counters, ids that do not match the rows); see RestoreReport. */
  restoreDroppedRows: number;
}

/** What restore() kept and dropped; the caller logs it (the aggregator has no logger). */
export interface RestoreReport {
  buckets: number;
  rows: number;
  /** Rows dropped: a counter non-finite, negative, fractional or above 2^50 (older versions). */
  droppedRows: number;
  /** Whole snapshots dropped: ids/kinds/counts not matching the row count, or a duplicate (start, revision). */
  droppedBuckets: number;
  /** Up to 20 descriptions of what was dropped. */
  problems: string[];
}

export interface BucketAggregator {
  /**
   * Count one classified flow for its subjects: codes[0, n) are its hit codes (classify/subject-keys.ts
   * hitCode, as Classifier.classifyInto writes them). Refused hits are counted in stats(). The hot
   * path: nothing is allocated or looked up by string.
   */
  addCoded(flow: FlowRecord, codes: Int32Array, n: number): void;
  /** addCoded with SubjectHit objects (Classifier.classify's; tests and tools). */
  add(flow: FlowRecord, hits: readonly SubjectHit[]): void;
  /**
   * Remove every due bucket object (open ones whose close time passed, and every one for a closed
   * start) and return their summaries, ordered by start, revision, subjectId. The caller must
   * persist them together with checkpoint() in one atomic write.
   */
  closeDue(nowMs: number): Summary[];
  /** What changed since the previous checkpoint(); call right after closeDue() for the same write. */
  checkpoint(): AggregatorCheckpoint;
  /** After a failed write: the next checkpoint() returns everything in memory. */
  markAllDirty(): void;
  /** Load state written by checkpoints (at start, before any add). Restored buckets are sealed. */
  restore(meta: AggregatorMeta, buckets: BucketSnapshot[]): RestoreReport;
  stats(): AggregatorStats;
  /** Sum over held buckets, for logs and tests. */
  totals(): { bytes: number; packets: number; flows: number };
}

/**
 * One bucket object, struct-of-arrays: a row per subject that has counts in it, found through the
 * subject's slot. The few hot buckets (MAX_DENSE_BUCKETS: the current ones) index rows directly by
 * slot (rowOf, grown on demand to the highest slot they saw: 4 bytes per known subject); every other
 * bucket uses a small open-addressing table (slot + 1 → row) sized to its own rows. A flood of
 * datagrams with random times once made every bucket allocate an index of every known subject
 * (4.5 GB RSS); now that costs at most MAX_DENSE_BUCKETS indexes. ~70 bytes per row, no object per subject.
 */
interface Bucket {
  startSec: number;
  revision: number;
  /** Restored from a checkpoint: content never changes (CONTENT IDENTITY (b)). */
  sealed: boolean;
  legacy: LegacyBucketKey | undefined;
  dirty: boolean;
  /** One flag per chunk of CHUNK_ROWS rows: a row in it changed since the last checkpoint. */
  dirtyChunks: Uint8Array;
  /** What is on disk for it: chunk keys [0, storedChunks), and the unchunked key of older versions. */
  storedChunks: number;
  storedUnchunked: boolean;
  /** Offset in idBytes of the first id of each chunk (ids are "\n"-joined). */
  chunkIdStart: Int32Array;
  /** Direct index (row + 1, 0 = none) for a dense bucket, else undefined and `table` is used. */
  rowOf: Int32Array | undefined;
  /** Interleaved [slot + 1, row] pairs; 0 = empty. Power-of-two pairs, at most half full. */
  table: Int32Array;
  tableMask: number;
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

const INITIAL_ROWS = 16;
/** Buckets that index rows directly by slot (the hot path's layout); the rest hash. */
const MAX_DENSE_BUCKETS = 4;

/**
 * A new bucket object. A dense one is sized for `rowsHint` rows and `slotsHint` slots up front: a
 * bucket usually has as many rows as the one before it, and growing 100k rows by doubling (13
 * copies, each a fresh multi-megabyte array) was a third of a restarted edge's first 400 ms.
 */
function newBucket(startSec: number, revision: number, sealed: boolean, dense: boolean, rowsHint = INITIAL_ROWS, slotsHint = 1024): Bucket {
  const rows = dense ? Math.max(INITIAL_ROWS, rowsHint) : INITIAL_ROWS;
  return {
    startSec, revision, sealed, legacy: undefined, dirty: true, dirtyChunks: new Uint8Array(Math.max(4, (rows >>> CHUNK_SHIFT) + 1)), storedChunks: 0, storedUnchunked: false,
    chunkIdStart: new Int32Array(4), rowOf: dense ? new Int32Array(Math.max(1024, slotsHint)) : undefined,
    table: new Int32Array(dense ? 0 : INITIAL_ROWS * 4), tableMask: INITIAL_ROWS * 2 - 1,
    rows: 0, slotOfRow: new Int32Array(rows), counts: new Float64Array(rows * COUNTERS_PER_ROW),
    kinds: new Uint8Array(rows), idBytes: new Uint8Array(256), idLength: 0, idRows: 0,
  };
}

function hashOf(slot: number, mask: number): number {
  return (Math.imul(slot, 0x9e3779b1) >>> 7) & mask;
}

function findRow(b: Bucket, slot: number): number {
  const rowOf = b.rowOf;
  if (rowOf !== undefined) return slot < rowOf.length ? rowOf[slot] - 1 : -1;
  const t = b.table;
  const key = slot + 1;
  const mask = b.tableMask;
  for (let i = hashOf(slot, mask); ; i = (i + 1) & mask) {
    const k = t[2 * i];
    if (k === key) return t[2 * i + 1];
    if (k === 0) return -1;
  }
}

function tableInsert(t: Int32Array, mask: number, slot: number, row: number): void {
  for (let i = hashOf(slot, mask); ; i = (i + 1) & mask) {
    if (t[2 * i] === 0) { t[2 * i] = slot + 1; t[2 * i + 1] = row; return; }
  }
}

function newRow(b: Bucket, slot: number, kind: number): number {
  const row = b.rows++;
  if (row === b.slotOfRow.length) {
    const slots = new Int32Array(row * 2); slots.set(b.slotOfRow); b.slotOfRow = slots;
    const counts = new Float64Array(row * 2 * COUNTERS_PER_ROW); counts.set(b.counts); b.counts = counts;
    const kinds = new Uint8Array(row * 2); kinds.set(b.kinds); b.kinds = kinds;
  }
  if (b.rowOf !== undefined) {
    if (slot >= b.rowOf.length) {
      const rowOf = new Int32Array(Math.max(slot + 1, b.rowOf.length * 2)); rowOf.set(b.rowOf); b.rowOf = rowOf;
    }
    b.rowOf[slot] = row + 1;
  } else {
    if (b.rows * 2 > b.tableMask + 1) { // keep the table at most half full
      const mask = b.tableMask * 2 + 1;
      const table = new Int32Array((mask + 1) * 2);
      for (let r = 0; r < row; r++) tableInsert(table, mask, b.slotOfRow[r], r);
      b.table = table; b.tableMask = mask;
    }
    tableInsert(b.table, b.tableMask, slot, row);
  }
  b.slotOfRow[row] = slot;
  b.kinds[row] = kind;
  const chunk = row >>> CHUNK_SHIFT;
  if (chunk >= b.dirtyChunks.length) {
    const grown = new Uint8Array(b.dirtyChunks.length * 2); grown.set(b.dirtyChunks); b.dirtyChunks = grown;
  }
  b.dirtyChunks[chunk] = 1;
  return row;
}

const MAX_PROBLEMS = 20;

/**
 * summariesOf walks every known subject's rank (one row lookup each) when the bucket has a row for
 * at least 1/SCAN_ALL_RANKS_FACTOR of them, and sorts its rows' ranks otherwise.
 */
const SCAN_ALL_RANKS_FACTOR = 4;

export function createBucketAggregator(opts: BucketAggregatorOptions): BucketAggregator {
  const graceMs = opts.closeGraceSec * 1000;
  const clock = opts.clock ?? systemClock;
  const maxBuckets = opts.maxOpenBuckets ?? Infinity;
  const maxSubjects = opts.maxSubjects ?? Infinity;
  const maxRows = opts.maxBucketRows ?? Infinity;
  let closedBeforeSec = 0;
  let lateFlows = 0;
  let invalidFlows = 0;
  let refusedBytes = 0;
  const refused: RefusedHits = { buckets: 0, subjects: 0, rows: 0, counterLimit: 0 };
  let restoreDroppedRows = 0;
  // A subject's slot is its process-wide subject key (classify/subject-keys.ts), so a hit finds its
  // row with integer arithmetic and no string hashing; the key also names the subject's id and kind
  // (subjectIdOfKey, subjectKindOfKey). rowsOfSlot counts the held rows per subject.
  let rowsOfSlot = new Int32Array(1024);
  let activeSubjects = 0;
  let totalRows = 0;
  let denseBuckets = 0;
  /** Most rows a restored or closed bucket object had: the size a new dense one starts at (newBucket). */
  let rowsHint = INITIAL_ROWS;
  /** Every held bucket object, open, late and restored. */
  const held = new Set<Bucket>();
  /** The bucket object that takes new flows for a start (never a sealed one). */
  const writable = new Map<number, Bucket>();
  /** Highest revision created or restored per start (pruned once the clock is well past it). */
  const lastRevision = new Map<number, number>();
  let removed: StaleBucketKeys[] = [];

  /** rowsOfSlot has a counter for slot. */
  function ensureSlot(slot: number): void {
    if (slot >= rowsOfSlot.length) {
      const grown = new Int32Array(Math.max(slot + 1, rowsOfSlot.length * 2)); grown.set(rowsOfSlot); rowsOfSlot = grown;
    }
  }

  function nextRevisionFor(startSec: number): number {
    const last = lastRevision.get(startSec);
    const revision = Math.max(clockRevision(clock.nowMs()), last === undefined ? 0 : last + 1);
    lastRevision.set(startSec, revision);
    return revision;
  }

  // Hot path cache, keyed by bucket number (Math.floor(ms / BUCKET_MS): a small integer to V8, where
  // seconds since 1970 are boxed): nearly every flow lands in the current open bucket, so skip the map
  // lookup when it is the same bucket as last time (reset by anything that drops buckets).
  let cachedNumber = NaN;
  let cachedBucket: Bucket | undefined;
  // And the one before it: a flow over a bucket boundary touches the previous bucket and comes back.
  let previousNumber = NaN;
  let previousBucket: Bucket | undefined;

  /** The writable bucket object of bucket number `number` (its start is number × BUCKET_SEC), made if needed; undefined at maxOpenBuckets. */
  function bucketFor(number: number): Bucket | undefined {
    if (number === cachedNumber) return cachedBucket;
    if (number === previousNumber) {
      const bucket = previousBucket;
      previousNumber = cachedNumber; previousBucket = cachedBucket;
      cachedNumber = number; cachedBucket = bucket;
      return bucket;
    }
    const startSec = number * BUCKET_SEC;
    let bucket = writable.get(startSec);
    if (!bucket) {
      if (held.size >= maxBuckets) return undefined;
      const dense = denseBuckets < MAX_DENSE_BUCKETS;
      if (dense) denseBuckets++;
      bucket = newBucket(startSec, nextRevisionFor(startSec), false, dense, rowsHint, subjectKeyCount());
      held.add(bucket);
      writable.set(startSec, bucket);
    }
    previousNumber = cachedNumber; previousBucket = cachedBucket;
    cachedNumber = number; cachedBucket = bucket;
    return bucket;
  }

  function forgetCachedBuckets(): void {
    cachedBucket = undefined; cachedNumber = NaN; previousBucket = undefined; previousNumber = NaN;
  }

  function refuse(reason: keyof RefusedHits, bytes: number): void {
    refused[reason]++;
    refusedBytes += bytes;
  }

  function addTo(bucket: Bucket, code: number, bytes: number, packets: number, flows: number): void {
    const slot = keyOfHitCode(code);
    let row = findRow(bucket, slot);
    if (row < 0) {
      if (bytes > MAX_SUMMARY_COUNT || packets > MAX_SUMMARY_COUNT) { refuse('counterLimit', bytes); return; }
      if (totalRows >= maxRows) { refuse('rows', bytes); return; }
      ensureSlot(slot);
      if (rowsOfSlot[slot] === 0) {
        if (activeSubjects >= maxSubjects) { refuse('subjects', bytes); return; }
        activeSubjects++;
      }
      rowsOfSlot[slot]++;
      totalRows++;
      row = newRow(bucket, slot, subjectKindOfKey(slot)); // rows are appended to zeroed arrays: its counters are 0
    }
    const o = row * COUNTERS_PER_ROW + directionOfHitCode(code); // direction 0 in, 1 out
    const c = bucket.counts;
    // The hub refuses a summary above 2^50 (and with it the whole batch's write): refuse this hit instead.
    if (c[o] + bytes > MAX_SUMMARY_COUNT || c[o + 2] + packets > MAX_SUMMARY_COUNT || c[o + 4] + flows > MAX_SUMMARY_COUNT) {
      refuse('counterLimit', bytes);
      return;
    }
    c[o] += bytes;
    c[o + 2] += packets;
    c[o + 4] += flows;
    bucket.dirty = true;
    bucket.dirtyChunks[row >>> CHUNK_SHIFT] = 1;
  }

  function summariesOf(bucket: Bucket, out: Summary[]): void {
    const rows = bucket.rows;
    if (rows === 0) return;
    // CONTENT IDENTITY (c) by subject rank (subject-order.ts: string order of the ids, kept up to
    // date as keys are made), so rows are ordered by integers: no string sort on the close.
    const keyCount = subjectKeyOrder.update();
    const keyAtRank = subjectKeyOrder.keyAtRank();
    if (rows * SCAN_ALL_RANKS_FACTOR >= keyCount) {
      // Most known subjects have a row (the current bucket): walk every rank and take the rows present.
      for (let rank = 0; rank < keyCount; rank++) {
        const slot = keyAtRank[rank];
        const row = findRow(bucket, slot);
        if (row >= 0) out.push(summaryOf(bucket, row, slot));
      }
    } else {
      // A few rows (a late bucket): sort their ranks, a typed-array sort without a comparator.
      const rankOfKey = subjectKeyOrder.rankOfKey();
      const ranks = new Int32Array(rows);
      for (let row = 0; row < rows; row++) ranks[row] = rankOfKey[bucket.slotOfRow[row]];
      ranks.sort();
      for (let i = 0; i < rows; i++) {
        const slot = keyAtRank[ranks[i]];
        out.push(summaryOf(bucket, findRow(bucket, slot), slot));
      }
    }
  }

  function summaryOf(bucket: Bucket, row: number, slot: number): Summary {
    const c = bucket.counts;
    const o = row * COUNTERS_PER_ROW;
    return {
      subjectId: subjectIdOfKey(slot), subjectKind: subjectKindOfKey(slot) as SubjectKind, bucketStartSec: bucket.startSec, durationSec: BUCKET_SEC,
      bytesIn: c[o], bytesOut: c[o + 1], packetsIn: c[o + 2], packetsOut: c[o + 3], flowsIn: c[o + 4], flowsOut: c[o + 5],
      revision: bucket.revision,
    };
  }

  function drop(bucket: Bucket): void {
    forgetCachedBuckets();
    held.delete(bucket);
    if (bucket.rows > rowsHint) rowsHint = bucket.rows;
    if (bucket.rowOf !== undefined) denseBuckets--;
    if (writable.get(bucket.startSec) === bucket) writable.delete(bucket.startSec);
    for (let row = 0; row < bucket.rows; row++) {
      const slot = bucket.slotOfRow[row];
      if (--rowsOfSlot[slot] === 0) activeSubjects--;
    }
    totalRows -= bucket.rows;
    removed.push(staleKeysOf(bucket, 0));
  }

  /** The id column, built once per row at the checkpoint after the row appeared (rows are only appended). */
  function extendIds(bucket: Bucket): void {
    for (let row = bucket.idRows; row < bucket.rows; row++) {
      const id = subjectIdOfKey(bucket.slotOfRow[row]);
      const need = bucket.idLength + id.length * 3 + 1; // UTF-8 worst case
      if (need > bucket.idBytes.length) {
        const grown = new Uint8Array(Math.max(need, bucket.idBytes.length * 2)); grown.set(bucket.idBytes.subarray(0, bucket.idLength)); bucket.idBytes = grown;
      }
      const bytes = bucket.idBytes;
      let p = bucket.idLength;
      if (row > 0) bytes[p++] = NEWLINE;
      if ((row & (CHUNK_ROWS - 1)) === 0) {
        const chunk = row >>> CHUNK_SHIFT;
        if (chunk >= bucket.chunkIdStart.length) {
          const grown = new Int32Array(bucket.chunkIdStart.length * 2); grown.set(bucket.chunkIdStart); bucket.chunkIdStart = grown;
        }
        bucket.chunkIdStart[chunk] = p;
      }
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
  }

  function chunkOf(bucket: Bucket, chunk: number): BucketChunk {
    const firstRow = chunk * CHUNK_ROWS;
    const rows = Math.min(CHUNK_ROWS, bucket.rows - firstRow);
    const chunks = (bucket.rows + CHUNK_ROWS - 1) >>> CHUNK_SHIFT;
    const idFrom = bucket.chunkIdStart[chunk];
    const idTo = chunk + 1 < chunks ? bucket.chunkIdStart[chunk + 1] - 1 : bucket.idLength; // -1: the "\n" between chunks
    const counts = new Float64Array(uninitialized(rows * COUNTERS_PER_ROW * 8).buffer, 0, rows * COUNTERS_PER_ROW);
    counts.set(bucket.counts.subarray(firstRow * COUNTERS_PER_ROW, (firstRow + rows) * COUNTERS_PER_ROW));
    const kinds = uninitialized(rows); kinds.set(bucket.kinds.subarray(firstRow, firstRow + rows));
    const ids = uninitialized(idTo - idFrom); ids.set(bucket.idBytes.subarray(idFrom, idTo));
    return { bucketStartSec: bucket.startSec, revision: bucket.revision, chunk, rows, kinds, counts, ids };
  }

  function staleKeysOf(bucket: Bucket, keepChunks: number): StaleBucketKeys {
    const keys: StaleBucketKeys = {
      bucketStartSec: bucket.startSec, revision: bucket.revision, unchunked: bucket.storedUnchunked,
      chunkFrom: keepChunks, chunkTo: Math.max(keepChunks, bucket.storedChunks),
    };
    if (bucket.legacy) keys.legacy = bucket.legacy;
    return keys;
  }

  /** The dirty chunks of a bucket into `out`; a rewritten restored bucket also drops its leftover keys. */
  function checkpointChunks(bucket: Bucket, out: BucketChunk[]): void {
    extendIds(bucket);
    const chunks = (bucket.rows + CHUNK_ROWS - 1) >>> CHUNK_SHIFT;
    for (let c = 0; c < chunks; c++) {
      if (bucket.dirtyChunks[c] === 0) continue;
      out.push(chunkOf(bucket, c));
      bucket.dirtyChunks[c] = 0;
    }
    if (bucket.storedUnchunked || bucket.legacy !== undefined || bucket.storedChunks > chunks) {
      removed.push(staleKeysOf(bucket, chunks)); // only restored buckets get here (see restore)
      bucket.storedUnchunked = false;
      bucket.legacy = undefined;
    }
    bucket.storedChunks = chunks;
  }

  function markDirty(bucket: Bucket): void {
    bucket.dirty = true;
    bucket.dirtyChunks.fill(1);
  }

  function pruneLastRevisions(): void {
    // An entry at or below the clock adds nothing to max(clock, last + 1); 600 s of slack for a
    // clock that steps back a little (NTP) so a second is not stamped twice for one start.
    const floor = clockRevision(clock.nowMs()) - 600;
    for (const [start, last] of lastRevision) if (last < floor && !writable.has(start)) lastRevision.delete(start);
  }

  // splitFlowInto's output for flows over several buckets, reused by every add().
  const parts = createFlowParts();

  function countHitsRefused(reason: keyof RefusedHits, n: number, bytes: number): void {
    for (let i = 0; i < n; i++) refuse(reason, bytes);
  }

  /** Counts a flow that lies in one bucket (number `number`) for its hits. */
  function addInOneBucket(number: number, codes: Int32Array, n: number, bytes: number, packets: number): void {
    const bucket = bucketFor(number);
    if (bucket === undefined) { countHitsRefused('buckets', n, bytes); return; }
    for (let i = 0; i < n; i++) addTo(bucket, codes[i], bytes, packets, 1);
    if (bucket.startSec < closedBeforeSec) lateFlows++;
  }

  function addCoded(flow: FlowRecord, codes: Int32Array, n: number): void {
    if (n === 0) return;
    const startMs = flow.startMs, endMs = flow.endMs, bytes = flow.bytes, packets = flow.packets;
    // Fast path, nearly every flow: in one bucket, numbers split-flow would accept (it checks the
    // rest, and for a flow this path declines it gives the same answer), all on bucket numbers.
    if (startMs >= 0 && endMs >= startMs && endMs <= MAX_TIME_MS && bytes >= 0 && packets >= 0 && Number.isSafeInteger(bytes) && Number.isSafeInteger(packets)) {
      const number = Math.floor(startMs / BUCKET_MS);
      if (number === Math.floor((endMs > startMs ? endMs - 1 : startMs) / BUCKET_MS)) {
        addInOneBucket(number, codes, n, bytes, packets);
        return;
      }
    }
    let oneBucketSec: number | undefined;
    let partCount = 1;
    try {
      oneBucketSec = singleBucketSec(startMs, endMs);
      // splitFlowInto checks bytes and packets; the one-bucket case checks them here.
      if (oneBucketSec === undefined) partCount = splitFlowInto(startMs, endMs, bytes, packets, parts);
      else checkFlowCounts(bytes, packets);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      invalidFlows++; // split-flow's own bounds: nothing of this flow was counted
      return;
    }
    if (oneBucketSec !== undefined) {
      addInOneBucket(oneBucketSec / BUCKET_SEC, codes, n, bytes, packets);
      return;
    }
    // No allocation either: the parts are in reused typed arrays; the flow count is on the last part.
    let wasLate = false;
    for (let p = 0; p < partCount; p++) {
      const startSec = parts.bucketStartSec[p];
      const partBytes = parts.bytes[p];
      wasLate ||= startSec < closedBeforeSec;
      const bucket = bucketFor(startSec / BUCKET_SEC);
      if (!bucket) { countHitsRefused('buckets', n, partBytes); continue; }
      const partPackets = parts.packets[p];
      const flows = p === partCount - 1 ? 1 : 0;
      for (let i = 0; i < n; i++) addTo(bucket, codes[i], partBytes, partPackets, flows);
    }
    if (wasLate) lateFlows++;
  }

  // add()'s hits as codes.
  const hitCodes = new Int32Array(8);

  return {
    add(flow, hits) {
      let codes = hitCodes;
      if (hits.length > codes.length) codes = new Int32Array(hits.length);
      for (let i = 0; i < hits.length; i++) codes[i] = hitCode(hits[i].subjectKey, hits[i].direction);
      addCoded(flow, codes, hits.length);
    },

    addCoded,

    closeDue(nowMs) {
      const out: Summary[] = [];
      const watermark = bucketStartSecOfMs(nowMs - graceMs);
      if (watermark > closedBeforeSec) closedBeforeSec = watermark;
      const due: Bucket[] = [];
      for (const b of held) if (b.startSec < closedBeforeSec) due.push(b);
      due.sort((x, y) => x.startSec - y.startSec || x.revision - y.revision);
      for (const b of due) {
        summariesOf(b, out);
        drop(b);
      }
      pruneLastRevisions();
      return out;
    },

    checkpoint() {
      const changed: BucketChunk[] = [];
      for (const b of held) {
        if (!b.dirty) continue;
        checkpointChunks(b, changed);
        b.dirty = false;
      }
      const result: AggregatorCheckpoint = { meta: { closedBeforeSec }, changed, removed };
      removed = [];
      return result;
    },

    markAllDirty() {
      for (const b of held) markDirty(b);
    },

    restore(meta, snapshots) {
      forgetCachedBuckets();
      closedBeforeSec = meta.closedBeforeSec;
      const report: RestoreReport = { buckets: 0, rows: 0, droppedRows: 0, droppedBuckets: 0, problems: [] };
      const problem = (text: string) => { if (report.problems.length < MAX_PROBLEMS) report.problems.push(text); };
      const seen = new Set<string>();
      const decoder = new TextDecoder();
      for (const snap of snapshots) {
        const name = `bucket ${snap.bucketStartSec} revision ${snap.revision}`;
        const identity = `${snap.bucketStartSec}/${snap.revision}`;
        let ids: string[];
        try { ids = snap.rows === 0 ? [] : decoder.decode(snap.ids).split('\n'); } catch { ids = []; }
        const shapeOk = Number.isSafeInteger(snap.bucketStartSec) && Number.isSafeInteger(snap.revision) && snap.revision >= 0
          && ids.length === snap.rows && snap.kinds.length >= snap.rows && snap.counts.length >= snap.rows * COUNTERS_PER_ROW && ids.every((id) => id.length > 0);
        if (!shapeOk || seen.has(identity)) {
          report.droppedBuckets++;
          restoreDroppedRows += snap.rows;
          report.droppedRows += snap.rows;
          problem(seen.has(identity) ? `${name}: a second copy of this revision (dropped: its rows would count twice)` : `${name}: ${ids.length} subject ids, ${snap.kinds.length} kinds, ${snap.counts.length} counters for ${snap.rows} rows`);
          continue;
        }
        seen.add(identity);
        const bucket = newBucket(snap.bucketStartSec, snap.revision, true, false);
        bucket.legacy = snap.legacy;
        // Its keys on disk: deleted when it is emitted, or replaced if it has to be rewritten below.
        bucket.storedUnchunked = snap.stored?.unchunked ?? snap.legacy === undefined;
        bucket.storedChunks = snap.stored?.chunks ?? 0;
        // Migration or dropped rows: rewrite it at the next checkpoint. Otherwise the disk copy is it.
        bucket.dirty = snap.legacy !== undefined;
        for (let i = 0; i < snap.rows; i++) {
          const base = i * COUNTERS_PER_ROW;
          let valid = true;
          for (let k = 0; k < COUNTERS_PER_ROW; k++) if (!isValidSummaryCount(snap.counts[base + k])) valid = false;
          const slot = subjectKeyOf(ids[i], snap.kinds[i]);
          ensureSlot(slot);
          let row = findRow(bucket, slot);
          if (valid && row >= 0) { // a subject twice in one snapshot (corrupt): one row, if the sum still fits
            for (let k = 0; k < COUNTERS_PER_ROW; k++) if (!isValidSummaryCount(bucket.counts[row * COUNTERS_PER_ROW + k] + snap.counts[base + k])) valid = false;
          }
          if (!valid) {
            report.droppedRows++; restoreDroppedRows++;
            bucket.dirty = true;
            problem(`${name}: row ${JSON.stringify(ids[i])} dropped, counters ${JSON.stringify(Array.from(snap.counts.subarray(base, base + COUNTERS_PER_ROW)))} are not integers in [0, 2^50]`);
            continue;
          }
          if (row < 0) {
            if (rowsOfSlot[slot]++ === 0) activeSubjects++;
            totalRows++;
            row = newRow(bucket, slot, snap.kinds[i]);
          }
          for (let k = 0; k < COUNTERS_PER_ROW; k++) bucket.counts[row * COUNTERS_PER_ROW + k] += snap.counts[base + k];
          report.rows++;
        }
        if (bucket.dirty) markDirty(bucket); // rewritten whole: its rows were renumbered
        else bucket.dirtyChunks.fill(0);
        held.add(bucket);
        if (bucket.rows > rowsHint) rowsHint = bucket.rows;
        report.buckets++;
        const last = lastRevision.get(bucket.startSec);
        if (last === undefined || bucket.revision > last) lastRevision.set(bucket.startSec, bucket.revision);
      }
      // Rank the restored subjects now, at start before any datagram is read, so the first close
      // after a restart does not sort every id on the decoding thread (later keys merge in cheaply).
      subjectKeyOrder.update();
      return report;
    },

    stats() {
      let lateBuckets = 0;
      for (const b of held) if (b.startSec < closedBeforeSec) lateBuckets++;
      return {
        openBuckets: held.size - lateBuckets, lateBuckets, activeSubjects, bucketRows: totalRows, lateFlows,
        refusedHits: refused.buckets + refused.subjects + refused.rows + refused.counterLimit,
        refusedHitsByReason: { ...refused }, refusedBytes, invalidFlows, restoreDroppedRows,
      };
    },

    totals() {
      let bytes = 0, packets = 0, flows = 0;
      for (const bucket of held) {
        const c = bucket.counts;
        for (let o = 0; o < bucket.rows * COUNTERS_PER_ROW; o += COUNTERS_PER_ROW) {
          bytes += c[o] + c[o + 1]; packets += c[o + 2] + c[o + 3]; flows += c[o + 4] + c[o + 5];
        }
      }
      return { bytes, packets, flows };
    },
  };
}
