import type { KvOp } from '../../common/kv/kv-store';
import type { SeriesPoint, SeriesReader } from '../ports';

/** One subject's counts for one 5-minute bucket, as ingest hands them to the store (already validated). */
export interface SummaryInput extends SeriesPoint {
  subjectId: string;
  kind: 'interface' | 'ip_group';
}

/**
 * Runs inside the store's serialized section, before anything is read for the write. Returns
 * undefined to write nothing (e.g. the batch was already applied), or extra operations to commit
 * in the SAME atomic write as the series (e.g. the dedup marker).
 */
export type WriteGuard = () => Promise<KvOp[] | undefined>;

/**
 * SummaryStore: the 5-minute series of every (operator, subject), plus per-operator coverage.
 *
 * Contract (test/hub/spine/summary-store.contract.ts runs it against every KV backend):
 * - `add` is ADDITIVE: adding the same bucket twice sums the counts (revisions add). Deduplication is
 *   the caller's job, through `guard`, whose ops are committed atomically with the series update;
 * - `add` calls are serialized: no two read-modify-writes of a chunk interleave, so concurrent adds
 *   never lose an update, and a guard sees every earlier add's writes;
 * - `add` resolves only after the KV write completed (durable as the backend is);
 * - a bucket is present in readSeries once any add touched it, even with all-zero counts;
 * - readSeries returns points in [fromSec, toSec) sorted by time; listSubjects is sorted by id;
 * - reportedBucketCount counts the operator's slots in [fromSec, toSec) that any add touched;
 * - purgeOperator deletes every series, subject and coverage entry of one operator (retention after
 *   collection stopped), leaves other operators alone, and is idempotent (safe to retry after a failure).
 */
export interface SummaryStore extends SeriesReader {
  add(operatorId: string, summaries: SummaryInput[], guard?: WriteGuard): Promise<{ applied: boolean }>;
  reportedBucketCount(operatorId: string, fromSec: number, toSec: number): Promise<number>;
  purgeOperator(operatorId: string): Promise<{ deletedKeys: number }>;
}
