import { BUCKET_SEC, isBucketStart } from '../../common/bucket';
import { parseSubjectId } from '../../common/subject-id';
import { SubjectKind, type Summary } from '../../proto/codec';
import type { IngestSummary } from '../store/series-store';
import { isValidSummaryCount } from '../../proto/summary-limits';

/** 2000-01-01: anything earlier is an unset clock on the edge, not traffic. */
const EARLIEST_BUCKET_SEC = 946_684_800;
/** The largest count of one summary (2^50): proto/summary-limits.ts, shared with the edge. */
export { MAX_SUMMARY_COUNT as MAX_COUNT } from '../../proto/summary-limits';

export interface ValidationLimits {
  nowSec: number;
  /** A bucket may end at most this far in the future: edge clocks drift a little. */
  maxClockSkewSec: number;
}

/**
 * Checks one summary of a batch, pure. Returns the store's input, or the reason it is refused.
 * Rules: a known subject id whose kind agrees with subject_kind (UNSPECIFIED takes the id's kind),
 * duration 300 and a bucket start aligned to it (UTC 5-minute buckets), a closed bucket (it ended
 * by now, give or take clock skew), counts that are non-negative integers no larger than MAX_COUNT.
 */
export function validateSummary(s: Summary, limits: ValidationLimits): { ok: true; input: IngestSummary } | { ok: false; reason: string; retryLater?: boolean } {
  const parsed = parseSubjectId(s.subjectId);
  if (!parsed) return { ok: false, reason: `invalid subject id ${JSON.stringify(s.subjectId.slice(0, 80))}` };
  const kind = parsed.kind;
  const expectedKind = kind === 'interface' ? SubjectKind.INTERFACE : SubjectKind.IP_GROUP;
  if (s.subjectKind !== SubjectKind.UNSPECIFIED && s.subjectKind !== expectedKind) return { ok: false, reason: `subject kind ${s.subjectKind} does not match ${s.subjectId}` };
  if (s.durationSec !== BUCKET_SEC) return { ok: false, reason: `duration ${s.durationSec}s, expected ${BUCKET_SEC}s` };
  if (!isBucketStart(s.bucketStartSec)) return { ok: false, reason: `bucket start ${s.bucketStartSec} is not aligned to ${BUCKET_SEC}s` };
  if (s.bucketStartSec < EARLIEST_BUCKET_SEC) return { ok: false, reason: `bucket start ${s.bucketStartSec} is before 2000 (edge clock unset?)` };
  // Not a permanent refusal: with a clock ahead (edge) or behind (hub) the same batch is fine a
  // little later, so the caller defers it instead of making the edge drop billing data.
  if (s.bucketStartSec + BUCKET_SEC > limits.nowSec + limits.maxClockSkewSec) return { ok: false, reason: `bucket ${s.bucketStartSec} has not ended yet (edge clock ahead?)`, retryLater: true };
  if (!Number.isInteger(s.revision) || s.revision < 0 || s.revision > 0xffff_ffff) return { ok: false, reason: `revision ${s.revision} out of range` };
  const counts = [s.bytesIn, s.bytesOut, s.packetsIn, s.packetsOut, s.flowsIn, s.flowsOut];
  if (!counts.every(isValidSummaryCount)) return { ok: false, reason: `counts out of range for ${s.subjectId} at ${s.bucketStartSec}` };
  return {
    ok: true,
    input: {
      subjectId: s.subjectId, kind, bucketStartSec: s.bucketStartSec,
      bytesIn: s.bytesIn, bytesOut: s.bytesOut, packetsIn: s.packetsIn, packetsOut: s.packetsOut, flowsIn: s.flowsIn, flowsOut: s.flowsOut,
      revision: s.revision,
    },
  };
}

/** An edge that started before seqs were taken from its clock numbered from 1: small seqs are fine. */
export const MAX_SEQ_AHEAD_MS = 86_400_000;

/**
 * Plausibility of a batch's numbering, pure. The seq only addresses the ack now (dedup is by content,
 * content-dedup.ts), but an absurd one is a broken or hostile edge: seq and oldest_unacked_seq must be
 * safe positive integers, oldest_unacked_seq <= seq, and seq at most one day ahead of the hub's clock
 * in milliseconds (edges number batches from their clock's ms). Returns the reason, or undefined.
 */
export function checkBatchSeq(seq: number, oldestUnackedSeq: number, hubNowMs: number): string | undefined {
  if (!Number.isSafeInteger(seq) || seq < 1) return `seq ${seq} is not a safe positive integer`;
  if (!Number.isSafeInteger(oldestUnackedSeq) || oldestUnackedSeq < 1) return `oldest_unacked_seq ${oldestUnackedSeq} is not a safe positive integer`;
  if (oldestUnackedSeq > seq) return `oldest_unacked_seq ${oldestUnackedSeq} is above seq ${seq}`;
  if (seq > hubNowMs + MAX_SEQ_AHEAD_MS) return `seq ${seq} is more than a day ahead of the hub's clock in ms (${hubNowMs})`;
  return undefined;
}
