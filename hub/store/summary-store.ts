import type { KvOp } from '../../common/kv/kv-store';
import type { SeriesPoint, SeriesReader } from '../ports';

/** One subject's counts for one 5-minute bucket, as ingest hands them to the store (already validated). */
export interface SummaryInput extends SeriesPoint {
  subjectId: string;
  kind: 'interface' | 'ip_group';
}

/**
 * Runs inside the store's serialized section, before anything is read for the write, with the
 * summaries given to add(). Returns undefined to write nothing (e.g. every summary was already
 * applied), or the summaries to write (a subset of those given, e.g. without duplicates) and extra
 * operations to commit in the SAME atomic write as their series update (e.g. the dedup markers).
 */
export type WriteGuard<S extends SummaryInput = SummaryInput> = (summaries: readonly S[]) => Promise<{ ops: KvOp[]; summaries: S[] } | undefined>;

/**
 * SummaryStore: the 5-minute series of every (operator, subject), plus per-operator coverage.
 *
 * Contract (test/hub/spine/summary-store.contract.ts runs it against every KV backend):
 * - `add` is ADDITIVE: adding the same bucket twice sums the counts (revisions add). Deduplication is
 *   the caller's job, through `guard`: only the summaries it returns are added, and its ops are
 *   committed atomically with that series update; `applied` is false only when the guard returned
 *   undefined (nothing written), `stored` is how many summaries were added;
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
  add<S extends SummaryInput>(operatorId: string, summaries: S[], guard?: WriteGuard<S>): Promise<{ applied: boolean; stored: number }>;
  reportedBucketCount(operatorId: string, fromSec: number, toSec: number): Promise<number>;
  purgeOperator(operatorId: string): Promise<{ deletedKeys: number }>;
}
