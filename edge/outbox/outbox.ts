/**
 * Outbox: closed buckets as SummaryBatches on disk until the hub's application-level Ack.
 *
 * Contract:
 * - stage() turns summaries into batches with fresh, strictly increasing seqs and returns the KV
 *   ops to write; the caller puts them in the SAME atomic write as the aggregator's checkpoint
 *   (the removal of the open buckets), then calls commit(). Without commit nothing changes in memory,
 *   so a failed write reuses the unwritten seqs (they were never stored nor sent). One stage at a
 *   time: the caller serializes flushes.
 * - A batch leaves only by remove() (the hub acked STORED/DUPLICATE/REJECTED) or by the byte
 *   bound: when a stage would take the outbox past maxBytes, the oldest batches are deleted in the
 *   same write, counted in outboxDropped and logged at error level (billing data is lost there).
 * - A seq is never reused, even after the disk state rewinds (LevelDB dropping torn writes after a
 *   disk-full) or is lost: load() sets nextSeq = max(persisted next seq, highest stored seq + 1,
 *   firstSeq), and create-edge passes the clock's milliseconds as firstSeq on EVERY start. Seqs run
 *   ahead of the clock only while batches are made faster than one per millisecond. The hub refuses
 *   seqs above its clock + 1 day, so nothing here jumps beyond the clock.
 * - stage() validates every summary (counts safe integers in [0, 2^50], the hub's limit; a sane
 *   bucket start, duration, revision and subject id) before encoding: a bad one is dropped, counted
 *   in invalidDropped and logged at error level, and the rest of the stage goes out. One bad summary
 *   must not block every other subject's billing data.
 */
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { prefixRange } from '../../common/kv/kv-store';
import { encodeJson, decodeJson } from '../../common/kv/json-codec';
import type { Logger } from '../../common/logger';
import { summaryBatchCodec, type Summary, type SummaryBatch } from '../../proto/codec';
import { isValidSummaryCount } from '../../proto/summary-limits';

const BATCH_PREFIX = 'outbox/batch/';
const NEXT_SEQ_KEY = 'outbox/next-seq';

function batchKey(seq: number): string {
  return BATCH_PREFIX + String(seq).padStart(16, '0');
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  dropped: number;
  /** Summaries stage() refused to encode (invalid counts or fields), each logged. */
  invalidDropped: number;
  oldestSeq: number | undefined;
  nextSeq: number;
}

export interface StagedBatches {
  ops: KvOp[];
  seqs: number[];
  droppedSeqs: number[];
  /** Summaries left out of the batches because they failed validation (counted at commit()). */
  invalidSummaries: number;
  commit(): void;
}

export interface Outbox {
  /** Reads the index (seqs and sizes) and next seq from the store; call once at start. */
  load(): Promise<void>;
  stage(summaries: readonly Summary[], createdAtMs: number): StagedBatches;
  /** Seqs waiting for an ack, ascending. */
  seqs(): IterableIterator<number>;
  has(seq: number): boolean;
  read(seq: number): Promise<Uint8Array | undefined>;
  /** Delete after the hub's Ack; false when it was not (or no longer) in the outbox. */
  remove(seq: number): Promise<boolean>;
  stats(): OutboxStats;
  /** Called after commit() added batches (the publisher pumps). */
  onAppend(listener: () => void): void;
}

export interface OutboxDeps {
  kv: KeyValueStore;
  log: Logger;
  edgeId: string;
  tenantId: string;
  maxBytes: number;
  batchMaxSummaries: number;
  /**
   * A floor for the next seq at every load (default 1): nextSeq = max(persisted, stored + 1, firstSeq).
   * create-edge passes the clock's milliseconds on every start: an edge whose disk state rewound or
   * was lost, keeping its identity, must never reuse a seq the hub has already stored, or the hub
   * would answer DUPLICATE and the new batch would be lost.
   */
  firstSeq?: number;
}

/** Why a summary cannot go out, or undefined. Counts as the hub checks them (proto/summary-limits). */
export function invalidSummaryReason(s: Summary): string | undefined {
  if (typeof s.subjectId !== 'string' || s.subjectId.length === 0) return 'empty subject id';
  const counts = [s.bytesIn, s.bytesOut, s.packetsIn, s.packetsOut, s.flowsIn, s.flowsOut];
  if (!counts.every(isValidSummaryCount)) return `counts ${JSON.stringify(counts)} are not integers in [0, 2^50]`;
  if (!Number.isSafeInteger(s.bucketStartSec) || s.bucketStartSec < 0) return `bucket start ${s.bucketStartSec}`;
  if (!Number.isInteger(s.durationSec) || s.durationSec <= 0 || s.durationSec > 0xffffffff) return `duration ${s.durationSec}`;
  if (!Number.isInteger(s.revision) || s.revision < 0 || s.revision > 0xffffffff) return `revision ${s.revision} is not a uint32`;
  if (!Number.isInteger(s.subjectKind) || s.subjectKind < 0) return `subject kind ${s.subjectKind}`;
  return undefined;
}

export function createOutbox(deps: OutboxDeps): Outbox {
  const { kv, log } = deps;
  const index = new Map<number, number>(); // seq → encoded size; insertion order = seq order
  let totalBytes = 0;
  let nextSeq = 1;
  let dropped = 0;
  let invalidDropped = 0;
  const listeners: (() => void)[] = [];

  function oldestSeq(): number | undefined {
    for (const seq of index.keys()) return seq;
    return undefined;
  }

  return {
    async load() {
      index.clear();
      totalBytes = 0;
      for await (const [key, value] of kv.entries(prefixRange(BATCH_PREFIX))) {
        const seq = Number(key.slice(BATCH_PREFIX.length));
        index.set(seq, value.length);
        totalBytes += value.length;
      }
      const stored = await kv.get(NEXT_SEQ_KEY);
      let persisted = 1;
      if (stored) {
        try {
          const v = decodeJson<number>(stored);
          if (Number.isSafeInteger(v) && v > 0) persisted = v;
          else log.error({ value: v }, 'outbox: stored next seq is not a positive integer; using the stored batches and the clock');
        } catch (err) { log.error({ err }, 'outbox: stored next seq does not decode; using the stored batches and the clock'); }
      }
      let maxSeq = 0;
      for (const seq of index.keys()) if (seq > maxSeq) maxSeq = seq;
      // Every start, not only a fresh store: the stored state may be older than what the hub has seen.
      nextSeq = Math.max(persisted, maxSeq + 1, deps.firstSeq ?? 1);
    },

    stage(allSummaries, createdAtMs) {
      // Validate first, so one bad summary (a bug upstream, or an older checkpoint) cannot make the
      // encoder throw for the whole stage and hold back every other subject's billing data.
      const invalid: { subjectId: string; bucketStartSec: number; revision: number; reason: string }[] = [];
      for (const s of allSummaries) {
        const reason = invalidSummaryReason(s);
        if (reason !== undefined) invalid.push({ subjectId: String(s.subjectId).slice(0, 80), bucketStartSec: s.bucketStartSec, revision: s.revision, reason });
      }
      const summaries = invalid.length === 0 ? allSummaries : allSummaries.filter((s) => invalidSummaryReason(s) === undefined);
      const ops: KvOp[] = [];
      const added: [number, number][] = [];
      const seqs: number[] = [];
      let seq = nextSeq;
      // Batches are built first so their sizes are known, then the oldest are dropped to fit.
      const encoded: { seq: number; bytes: Uint8Array }[] = [];
      const pendingIndex = [...index.entries()];
      for (let i = 0; i < summaries.length; i += deps.batchMaxSummaries) {
        const thisSeq = seq++;
        encoded.push({ seq: thisSeq, bytes: new Uint8Array(0) });
        seqs.push(thisSeq);
      }
      const newBytes = (): number => encoded.reduce((a, e) => a + e.bytes.length, 0);
      // Drop the oldest until the new batches fit (estimate first, exact after encoding below).
      const droppedSeqs: number[] = [];
      let keptBytes = totalBytes;
      let keptFrom = 0;
      const encodeAll = (oldestUnacked: number): void => {
        for (let b = 0; b < encoded.length; b++) {
          const batch: SummaryBatch = {
            edgeId: deps.edgeId, tenantId: deps.tenantId, seq: encoded[b].seq, createdAtMs,
            oldestUnackedSeq: oldestUnacked,
            summaries: summaries.slice(b * deps.batchMaxSummaries, (b + 1) * deps.batchMaxSummaries),
          };
          encoded[b].bytes = summaryBatchCodec.encode(batch);
        }
      };
      const oldestKept = (): number => (keptFrom < pendingIndex.length ? pendingIndex[keptFrom][0] : (encoded[0]?.seq ?? nextSeq));
      encodeAll(oldestKept());
      while (keptFrom < pendingIndex.length && keptBytes + newBytes() > deps.maxBytes) {
        const [oldSeq, size] = pendingIndex[keptFrom++];
        keptBytes -= size;
        droppedSeqs.push(oldSeq);
        ops.push({ type: 'del', key: batchKey(oldSeq) });
      }
      if (droppedSeqs.length > 0) encodeAll(oldestKept()); // oldestUnackedSeq moved up
      for (const e of encoded) {
        ops.push({ type: 'put', key: batchKey(e.seq), value: e.bytes });
        added.push([e.seq, e.bytes.length]);
      }
      if (encoded.length > 0) ops.push({ type: 'put', key: NEXT_SEQ_KEY, value: encodeJson(seq) });
      return {
        ops, seqs, droppedSeqs, invalidSummaries: invalid.length,
        commit() {
          if (invalid.length > 0) {
            invalidDropped += invalid.length;
            log.error({ invalidSummaries: invalid.length, examples: invalid.slice(0, 5) },
              'INVALID SUMMARIES: left out of the outbox (the hub would refuse them); their billing data is lost, the rest went out');
          }
          for (const s of droppedSeqs) {
            const size = index.get(s);
            if (size !== undefined) { index.delete(s); totalBytes -= size; }
          }
          if (droppedSeqs.length > 0) {
            dropped += droppedSeqs.length;
            log.error({ droppedSeqs: droppedSeqs.length, firstSeq: droppedSeqs[0], lastSeq: droppedSeqs.at(-1), maxBytes: deps.maxBytes },
              'OUTBOX FULL: dropped the oldest unacked summary batches; their billing data is lost (is the hub unreachable?)');
          }
          for (const [s, size] of added) { index.set(s, size); totalBytes += size; }
          nextSeq = seq;
          if (added.length > 0) for (const l of listeners) l();
        },
      };
    },

    seqs: () => index.keys(),
    has: (seq) => index.has(seq),

    async read(seq) {
      if (!index.has(seq)) return undefined;
      return kv.get(batchKey(seq));
    },

    async remove(seq) {
      const size = index.get(seq);
      if (size === undefined) return false;
      // Delete on disk first: if the write fails (disk full) the batch stays in the index, so the
      // publisher sees outbox.has(seq) and retries the delete instead of forgetting a stored batch.
      await kv.write([{ type: 'del', key: batchKey(seq) }]);
      if (index.delete(seq)) totalBytes -= size;
      return true;
    },

    stats: () => ({ depth: index.size, bytes: totalBytes, dropped, invalidDropped, oldestSeq: oldestSeq(), nextSeq }),
    onAppend(listener) { listeners.push(listener); },
  };
}
