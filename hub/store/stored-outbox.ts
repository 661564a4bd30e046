/**
 * The republication outbox's record, pure and shared by every SeriesStore backend: the StoredBatch
 * of exactly the summaries one applyBatch added (the values the store added, not the edge's word for
 * a redelivery). Every backend stores these bytes and publishes them as they are, so a republish after
 * a crash is byte-identical and consumers can dedup it.
 */
import { BUCKET_SEC } from '../../common/bucket';
import { SubjectKind, storedBatchCodec, type Summary } from '../../proto/codec';
import type { ApplyBatchInput, IngestSummary } from './series-store';

/** The wire form of a summary the hub applied. */
function toWire(s: IngestSummary): Summary {
  return {
    subjectId: s.subjectId, subjectKind: s.kind === 'interface' ? SubjectKind.INTERFACE : SubjectKind.IP_GROUP,
    bucketStartSec: s.bucketStartSec, durationSec: BUCKET_SEC,
    bytesIn: s.bytesIn, bytesOut: s.bytesOut, packetsIn: s.packetsIn, packetsOut: s.packetsOut, flowsIn: s.flowsIn, flowsOut: s.flowsOut,
    revision: s.revision,
  };
}

/** The encoded StoredBatch of one applied call: storedSeq is the backend's, storedAtMs the input's nowMs. */
export function encodeStoredBatch(input: ApplyBatchInput, stored: readonly IngestSummary[], storedSeq: number): Uint8Array {
  return storedBatchCodec.encode({
    edgeId: input.edgeId, tenantId: input.operatorId, storedSeq, edgeSeq: input.seq, storedAtMs: input.nowMs, summaries: stored.map(toWire),
  });
}
