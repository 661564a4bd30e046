/**
 * SeriesStore: the hub's port for the 5-minute series of every (operator, subject), its coverage,
 * the content-identity dedup of ingest, and the republication outbox, whatever the backend (KV on
 * memory or LevelDB: kv-series-store.ts; PostgreSQL: pg/pg-series-store.ts). Types only.
 *
 * Contract (test/hub/store/series-store.contract.ts runs it against every backend):
 *
 * applyBatch(input) — ingest's one write: the accepted summaries of ONE delivery of ONE edge's batch.
 *  - Dedup is the store's: a summary is applied at most once per content identity
 *    (edgeId, bucketStartSec, revision, subjectId), whatever the seq, the batch boundaries or the
 *    number of hubs delivering it. The rules are hub/ingest/content-dedup.ts (pure, shared by every
 *    backend): planDedup over groupByRevision, ranges recorded for a summary whose `inRun` is true
 *    (classifyRuns over the decoded batch), points otherwise, duplicates inside a non-run group refused.
 *  - Horizon: a summary whose bucket starts before nowMs/1000 - limits.dedupHorizonSec is refused as
 *    too old (its identity may already be forgotten). A backend that forgets identities by pruning
 *    (KV) also refuses buckets older than what it pruned, even if the caller's clock stepped back.
 *  - Subject limit: at most limits.maxRevisionSubjects distinct subjects are ever applied per
 *    (edge, bucket, revision); the excess is refused (counted in overSubjectLimit).
 *  - Atomic: the series points, coverage, subjects, the dedup records and the outbox entry of one
 *    call commit together or not at all. A rejected promise means NOTHING of the call was stored
 *    (no dedup record, no point, no outbox entry): the edge resends and the resend applies it.
 *  - Durable on resolve: it resolves only after the commit (as durable as the backend is).
 *  - Concurrent calls (same batch twice via Promise.all, or several hubs on one database) never apply
 *    an identity twice and never lose an addition: counts of different identities in one bucket ADD.
 *  - outcome 'applied' when this call stored at least one summary (stored.length > 0), else
 *    'duplicate' (nothing written: every summary was already applied, or refused; the counts say which).
 *  - Each applied call leaves ONE StoredBatch of exactly `stored` waiting in the outbox (`waiting`),
 *    encoded by hub/store/stored-outbox.ts (the same bytes on every backend, byte-identical when
 *    republished again after a crash); storedSeq increases with every applied call of the store.
 *  - seq is the edge's batch seq: it is carried into the StoredBatch (edgeSeq) and plays no part in
 *    dedup, except that the KV backend still honours LEGACY (edge, seq) markers written by hubs
 *    before content dedup (a redelivery of such a batch with the same seq is a duplicate).
 *
 * Readers (SeriesReader, hub/ports.ts, all required):
 *  - readSeries: points in [fromSec, toSec), sorted by time; a bucket any applied summary touched is
 *    present, even with all-zero counts; counts are sums over every applied summary;
 *  - listSubjects: sorted by subjectId, with first/last seen bucket;
 *  - reportedBucketCount: the operator's slots in [fromSec, toSec) that any applied summary touched;
 *  - readSlotColumns: the same data as readSeries, added into columns (see hub/ports.ts).
 *
 * Outbox (stored-republisher.ts publishes it on flowbill/v1/<tenant>/<edge>/stored):
 *  - listWaitingStored: every waiting entry, sorted by edgeId then storedSeq; given an edgeId, only that
 *    edge's entries (by storedSeq). On a store shared by several hubs (PostgreSQL) the listing includes
 *    what other hubs committed, so a hub can publish a dead hub's leftovers before it acks that edge;
 *  - deleteWaitingStored: forgets published entries; idempotent (unknown entries are ignored).
 *
 * purgeOperator: deletes every series point, subject and coverage entry of one operator (retention
 * after collection stopped), leaves other operators alone, idempotent (safe to retry). Dedup records
 * are per edge and expire with the horizon; waiting outbox entries are still published.
 */
import type { SeriesPoint, SeriesReader } from '../ports';

/** One subject's counts for one 5-minute bucket, validated (hub/ingest/summary-validation.ts). */
export interface SummaryInput extends SeriesPoint {
  subjectId: string;
  kind: 'interface' | 'ip_group';
}

/** A validated summary as ingest hands it to the store: the store's input plus its revision. */
export interface IngestSummary extends SummaryInput {
  revision: number;
}

/**
 * An accepted summary of a delivery, as applyBatch takes it. inRun comes from classifyRuns
 * (hub/ingest/content-dedup.ts) over the WHOLE decoded batch, before validation dropped anything:
 * true when the summary's (bucket, revision) group is one contiguous strictly ascending run.
 */
export interface GuardedSummary extends IngestSummary {
  inRun: boolean;
}

/** The store's dedup limits (HubConfig ingest* keys; DEFAULT_SERIES_LIMITS below). */
export interface SeriesStoreLimits {
  /** Dedup records are kept this long; older buckets are refused. */
  dedupHorizonSec: number;
  /** Distinct subjects applied per (edge, bucket, revision) at most. */
  maxRevisionSubjects: number;
  /** How far past now a bucket may end (edge clock drift): only the KV backend's legacy seq rule uses it. */
  maxClockSkewSec: number;
}

/** Every backend's defaults (the hub passes its config's values). */
export const DEFAULT_SERIES_LIMITS: Readonly<SeriesStoreLimits> = Object.freeze({
  dedupHorizonSec: 40 * 86_400, maxRevisionSubjects: 500_000, maxClockSkewSec: 300,
});

export interface ApplyBatchInput {
  operatorId: string;
  edgeId: string;
  /** The edge's batch seq: carried into the StoredBatch; legacy KV markers only. */
  seq: number;
  /** The hub's clock at the delivery: the horizon, the StoredBatch's storedAtMs. */
  nowMs: number;
  /** Validated and accepted by ingest (not paused), in batch order. */
  summaries: readonly GuardedSummary[];
}

/** A StoredBatch waiting for the broker in the store's outbox. */
export interface WaitingStored {
  edgeId: string;
  /** The operator (the topic's tenant). */
  tenantId: string;
  storedSeq: number;
  /** The encoded StoredBatch (proto/codec storedBatchCodec), published as is. */
  payload: Uint8Array;
}

export interface ApplyBatchResult {
  outcome: 'applied' | 'duplicate';
  /** The summaries this call added to the series, in input order (a subset of input.summaries). */
  stored: GuardedSummary[];
  /** Summaries already applied by an earlier delivery (any seq, any batch boundaries, any hub). */
  duplicates: number;
  /** Refused: bucket older than the dedup horizon. */
  tooOld: number;
  /** Refused: beyond maxRevisionSubjects for their (edge, bucket, revision). */
  overSubjectLimit: number;
  /**
   * Every refusal by reason, for the ack (includes the tooOld and overSubjectLimit ones, and a subject
   * repeated inside a group that is not a run). stored + duplicates + sum(refused) = summaries.length.
   */
  refused: ReadonlyMap<string, number>;
  /** Expired dedup records deleted as housekeeping by this call (0 when none, or on backends that expire them otherwise). */
  markersPruned: number;
  /** The outbox entry this call left waiting; present exactly when outcome is 'applied'. */
  waiting?: WaitingStored;
}

export interface SeriesStore extends SeriesReader {
  /** See the contract above: dedup owned by the store; atomic; durable on resolve. */
  applyBatch(input: ApplyBatchInput): Promise<ApplyBatchResult>;
  /**
   * Every outbox entry still waiting, whichever hub committed it, by edgeId then storedSeq; with
   * edgeId, only that edge's (what must be with the broker before that edge is acked).
   */
  listWaitingStored(edgeId?: string): Promise<WaitingStored[]>;
  /** Forgets outbox entries once the broker accepted them; idempotent. */
  deleteWaitingStored(entries: readonly { edgeId: string; storedSeq: number }[]): Promise<void>;
  purgeOperator(operatorId: string): Promise<{ deleted: number }>;
}
