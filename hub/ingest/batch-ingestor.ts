import type { Clock } from '../../common/clock';
import { createOnceLogger, type Logger } from '../../common/logger';
import { createRateLimitedLog } from '../../common/rate-limited-log';
import { edgeTopic, parseEdgeTopic } from '../../common/topics';
import { AckStatus, ackCodec, summaryBatchCodec, type Ack, type SummaryBatch } from '../../proto/codec';
import type { MqttPublisher } from '../broker/mqtt-publisher';
import type { CollectionPolicy } from '../ports';
import type { GuardedSummary, SeriesStore } from '../store/series-store';
import { classifyRuns, tooOldReason } from './content-dedup';
import { createStoredRepublisher, type StoredRepublisherCounters } from './stored-republisher';
import { BUCKET_SEC } from '../../common/bucket';
import { checkBatchSeq, validateSummary } from './summary-validation';

/** Ingest asks only this of the edge registry. */
export interface EdgeLookup {
  getEdge(edgeId: string): Promise<{ edgeId: string; operatorId: string; revoked: boolean } | undefined>;
}

export interface IngestCounters extends StoredRepublisherCounters {
  batchesReceived: number;
  batchesStored: number;
  /** Every summary of the batch had been applied by an earlier delivery (any seq). */
  batchesDuplicate: number;
  /** Answered REJECTED (each one logged at error level). */
  batchesRejected: number;
  malformedBatches: number;
  /** Payload above limits.maxPayloadBytes: dropped before decoding, no ack (the edge keeps it). */
  batchesOversized: number;
  /** More summaries than limits.maxBatchSummaries: not stored, no ack (the edge keeps it). */
  batchesTooManySummaries: number;
  /** REJECTED for an absurd seq or oldest_unacked_seq (checkBatchSeq). */
  batchesImplausibleSeq: number;
  summariesStored: number;
  /** Refused for any reason (validation, pause, horizon, subject limit); never stored. */
  summariesRejected: number;
  /** Skipped because already applied (content identity). */
  summariesDuplicate: number;
  /** Refused because the bucket is older than the dedup horizon. */
  summariesTooOld: number;
  /** Refused because collection was paused for the bucket's whole span. */
  summariesPaused: number;
  /** Refused beyond the store's maxRevisionSubjects distinct subjects of one edge's bucket revision. */
  summariesOverSubjectLimit: number;
  /** Dedup marker keys deleted by pruning. */
  markersPruned: number;
  storeErrors: number;
  ackPublishErrors: number;
  /** Batches left unacked because a bucket has not ended yet by the hub's clock: the edge resends them. */
  batchesDeferred: number;
  /** Gauge: StoredBatches committed but not yet accepted by the broker (stored-republisher.ts). */
  storedBatchesWaiting: number;
}

/** Resource limits against hostile or broken input (HubConfig ingest* keys). */
export interface IngestLimits {
  maxPayloadBytes: number;
  maxBatchSummaries: number;
  /**
   * Older buckets are refused before the collection policy is asked (a hostile edge's ancient buckets
   * cost no lookups). The store enforces its own dedup horizon: give both the same value.
   */
  dedupHorizonSec: number;
}

export const DEFAULT_INGEST_LIMITS: Readonly<IngestLimits> = Object.freeze({
  maxPayloadBytes: 1536 * 1024, maxBatchSummaries: 10_000, dedupHorizonSec: 40 * 86_400,
});

export interface BatchIngestorDeps {
  /** Owns the dedup (content identity, horizon, subject limit) and the republication outbox. */
  store: SeriesStore;
  edges: EdgeLookup;
  policy: CollectionPolicy;
  publisher: MqttPublisher;
  clock: Clock;
  log: Logger;
  /** How far past now a bucket may end (edge clock drift). Default 300 s. */
  maxClockSkewSec?: number;
  limits?: Partial<IngestLimits>;
  /**
   * After a batch's summaries were stored (now or by an earlier delivery): which edge reported which
   * subjects (hub/edges/edge-exporter-index.ts, so revoking an edge knows its interfaces). A failure
   * is logged; it never costs the ack.
   */
  onStored?(operatorId: string, edgeId: string, subjectIds: string[]): Promise<void>;
}

/**
 * The hub's ingest of SummaryBatch messages. For each delivery:
 *  1. size: a payload above maxPayloadBytes is not decoded (counted, logged once per edge, no ack);
 *  2. decode (malformed: counted, one log line per edge, no ack: there is no seq to ack);
 *  3. validate: the topic's tenant/edge must equal the payload's and the edge's registered operator,
 *     the edge must not be revoked, seq and oldest_unacked_seq must be plausible (checkBatchSeq) (else
 *     the whole batch is REJECTED); more than maxBatchSummaries summaries: no ack; each summary is
 *     checked (summary-validation.ts), refused when its bucket is older than the dedup horizon, and
 *     refused when, through the CollectionPolicy, collection was paused for its WHOLE 5-minute span;
 *     a bucket that has not ended yet by the hub's clock defers the whole batch (no ack: clock skew is
 *     transient, a REJECTED would make the edge drop billing data);
 *  4. apply at most once BY CONTENT: store.applyBatch (series-store.ts, rules in content-dedup.ts) keeps
 *     only summaries whose (edge, bucket, revision, subject) was never applied, and commits their series
 *     update with its dedup records atomically, whatever the backend. The seq plays no part in
 *     dedup (only the ack carries it), so a poisoned or reused seq, a rewound edge re-sending a bucket
 *     under a new seq, or different batch boundaries neither block nor double count anything;
 *     The same commit puts a StoredBatch of exactly the applied summaries in the store's outbox
 *     (stored-republisher.ts publishes it): consumers read what the hub stored on flowbill/v1/<tenant>/<edge>/stored;
 *  5. only after that write completed, the Ack (QoS 1): STORED when anything new was applied (reason
 *     lists refusals and duplicates), DUPLICATE when every summary had been applied, REJECTED when
 *     nothing could be stored (error log, rate-limited). STORED and DUPLICATE are published only after
 *     the edge's waiting StoredBatches (in the store's outbox, whichever hub committed them) were
 *     accepted by the broker, so an acked batch has always been republished; if that fails, no ack
 *     (the edge resends, and the resend republishes). If the write
 *     fails there is no ack: the edge keeps the batch and resends it. handle() resolves once the write
 *     is done, without waiting for the broker (see sendAck); flushAcks() waits for the acks.
 */
export function createBatchIngestor(deps: BatchIngestorDeps) {
  // The republisher keeps its own counters; counters() merges them in.
  const counters: Omit<IngestCounters, keyof StoredRepublisherCounters | 'storedBatchesWaiting'> = {
    batchesReceived: 0, batchesStored: 0, batchesDuplicate: 0, batchesRejected: 0, malformedBatches: 0,
    batchesOversized: 0, batchesTooManySummaries: 0, batchesImplausibleSeq: 0,
    summariesStored: 0, summariesRejected: 0, summariesDuplicate: 0, summariesTooOld: 0, summariesPaused: 0, summariesOverSubjectLimit: 0,
    markersPruned: 0, storeErrors: 0, ackPublishErrors: 0, batchesDeferred: 0,
  };
  const republisher = createStoredRepublisher({ outbox: deps.store, publisher: deps.publisher, clock: deps.clock, log: deps.log });
  const once = createOnceLogger(deps.log);
  const maxClockSkewSec = deps.maxClockSkewSec ?? 300;
  const limits: IngestLimits = { ...DEFAULT_INGEST_LIMITS, ...deps.limits };
  const tooOld = tooOldReason(limits.dedupHorizonSec);

  const pendingAcks = new Set<Promise<void>>();

  /**
   * Starts publishing the ack and returns without waiting for the broker's PUBACK: the hub's MQTT
   * client holds its own PUBACK for the incoming batch until handle() resolves, and the PUBACK for
   * this ack arrives on that same connection, so waiting for it here would deadlock the client.
   */
  function sendAck(tenantId: string, edgeId: string, ack: Ack, afterRepublish = false): void {
    const sent = (async () => {
      // Billing truth first: the edge's StoredBatches must be with the broker before the edge may
      // forget the batch, those another hub committed on a shared store included (the flush reads the
      // store). Failed: no ack (counted and logged by the republisher); the edge resends.
      if (afterRepublish && !(await republisher.flushEdge(edgeId))) return;
      try {
        await deps.publisher.publish(edgeTopic(tenantId, edgeId, 'ack'), ackCodec.encode(ack), { qos: 1, retain: false });
      } catch (err) {
        // The edge resends the batch after its ack timeout and gets DUPLICATE then: nothing is lost.
        counters.ackPublishErrors++;
        once.warnOnce(`ack:${edgeId}`, { edgeId, seq: ack.seq, err: (err as Error).message }, 'could not publish an ack');
      }
    })();
    pendingAcks.add(sent);
    void sent.finally(() => pendingAcks.delete(sent));
  }

  // REJECTED: the edge drops the batch for good, so it is an error on the hub, counted every time and
  // logged at most once a minute per edge (an edge's credentials must not be a way to flood the log).
  const rejectedLog = createRateLimitedLog({ log: deps.log, clock: deps.clock, intervalMs: 60_000, level: 'error' });

  function reject(tenantId: string, edgeId: string, batch: SummaryBatch, reason: string, summariesRefused = batch.summaries.length): Ack {
    counters.batchesRejected++;
    counters.summariesRejected += summariesRefused;
    rejectedLog.warn(`rejected:${edgeId}`, { edgeId, tenantId, seq: batch.seq, summaries: batch.summaries.length, reason }, 'summary batch REJECTED: the edge drops it');
    const ack: Ack = { edgeId, seq: batch.seq, status: AckStatus.REJECTED, reason };
    sendAck(tenantId, edgeId, ack);
    return ack;
  }

  const reasonsText = (reasons: Map<string, number>) => [...reasons].map(([r, n]) => (n > 1 ? `${r} (${n}x)` : r)).join('; ');

  return {
    counters: (): IngestCounters => ({ ...counters, ...republisher.counters(), storedBatchesWaiting: republisher.waitingCount() }),

    /**
     * Resolves when every ack and republication started so far was accepted by the broker or failed
     * (for stop and tests).
     */
    async flushAcks(): Promise<void> {
      while (pendingAcks.size) await Promise.all([...pendingAcks]);
      await republisher.idle();
    },

    /**
     * At start, once the hub's MQTT client is connected: republishes in the background the
     * StoredBatches a crash left waiting (their edges may never resend). Returns how many.
     */
    resumeRepublish: (): Promise<number> => republisher.resume(),

    /**
     * Every STORED_SWEEP_INTERVAL_MS (stored-republisher.ts), on the hub's ticker: republishes the
     * StoredBatches of any edge left waiting since the previous sweep, e.g. by a hub that died after
     * its commit on a shared store, for an edge that sends nothing more. Resolves with how many.
     */
    sweepStored: (): Promise<number> => republisher.sweep(),

    /** Handles one message from flowbill/v1/<tenant>/<edge>/summaries; resolves with the ack it sent, if any. */
    async handle(topic: string, payload: Uint8Array): Promise<Ack | undefined> {
      counters.batchesReceived++;
      republisher.retryFailed();
      const t = parseEdgeTopic(topic);
      if (!t || t.kind !== 'summaries') {
        counters.malformedBatches++;
        once.warnOnce(`topic:${topic}`, { topic }, 'summary batch on an unexpected topic');
        return undefined;
      }
      if (payload.length > limits.maxPayloadBytes) {
        // Not decoded (a 31 MB batch of a million summaries took the hub to 3.9 GB), so no seq to ack:
        // the edge keeps it, and a raised limit lets it in.
        counters.batchesOversized++;
        once.warnOnce(`oversized:${t.edgeId}`, { edgeId: t.edgeId, bytes: payload.length, maxPayloadBytes: limits.maxPayloadBytes },
          'summary batch larger than FLOWBILL_INGEST_MAX_PAYLOAD_BYTES dropped before decoding, no ack');
        return undefined;
      }
      let batch: SummaryBatch;
      try {
        batch = summaryBatchCodec.decode(payload);
      } catch (err) {
        counters.malformedBatches++;
        once.warnOnce(`malformed:${t.edgeId}`, { edgeId: t.edgeId, bytes: payload.length, err: (err as Error).message }, 'malformed summary batch');
        return undefined;
      }

      const edge = await deps.edges.getEdge(t.edgeId);
      if (!edge) return reject(t.tenantId, t.edgeId, batch, 'unknown edge');
      if (edge.revoked) return reject(t.tenantId, t.edgeId, batch, 'edge revoked');
      if (edge.operatorId !== t.tenantId) return reject(t.tenantId, t.edgeId, batch, `topic tenant ${t.tenantId} is not the edge's operator`);
      if (batch.edgeId !== t.edgeId || batch.tenantId !== t.tenantId) return reject(t.tenantId, t.edgeId, batch, `payload names ${batch.tenantId}/${batch.edgeId}, topic ${t.tenantId}/${t.edgeId}`);
      const operatorId = edge.operatorId;
      const nowMs = deps.clock.nowMs();
      const seqProblem = checkBatchSeq(batch.seq, batch.oldestUnackedSeq, nowMs);
      if (seqProblem) {
        counters.batchesImplausibleSeq++;
        return reject(t.tenantId, t.edgeId, batch, seqProblem);
      }
      if (batch.summaries.length > limits.maxBatchSummaries) {
        counters.batchesTooManySummaries++;
        once.warnOnce(`too-many:${t.edgeId}`, { edgeId: t.edgeId, seq: batch.seq, summaries: batch.summaries.length, maxBatchSummaries: limits.maxBatchSummaries },
          'summary batch with more summaries than FLOWBILL_INGEST_MAX_BATCH_SUMMARIES not stored, no ack');
        return undefined;
      }
      if (batch.summaries.length === 0) {
        counters.batchesStored++;
        const ack: Ack = { edgeId: t.edgeId, seq: batch.seq, status: AckStatus.STORED, reason: '' };
        sendAck(t.tenantId, t.edgeId, ack);
        return ack;
      }

      const validation = { nowSec: Math.floor(nowMs / 1000), maxClockSkewSec };
      const oldestBucketSec = validation.nowSec - limits.dedupHorizonSec;
      const inRun = classifyRuns(batch.summaries);
      const accepted: GuardedSummary[] = [];
      const reasons = new Map<string, number>();
      const refuse = (reason: string, n = 1) => reasons.set(reason, (reasons.get(reason) ?? 0) + n);
      const valid: { input: GuardedSummary; bucketStartSec: number }[] = [];
      for (let i = 0; i < batch.summaries.length; i++) {
        const s = batch.summaries[i]!;
        const v = validateSummary(s, validation);
        if (!v.ok && v.retryLater) {
          // Clock skew is transient: no ack, nothing stored; the edge resends the whole batch later.
          counters.batchesDeferred++;
          once.warnOnce(`future:${t.edgeId}`, { edgeId: t.edgeId, seq: batch.seq, reason: v.reason, hubNowSec: validation.nowSec }, 'summary batch deferred: a bucket is in the future (check the edge and hub clocks)');
          return undefined;
        }
        if (!v.ok) { refuse(v.reason); continue; }
        if (s.bucketStartSec < oldestBucketSec) { counters.summariesTooOld++; refuse(tooOld); continue; }
        const input = v.input as GuardedSummary;
        input.inRun = inRun[i]!;
        valid.push({ input, bucketStartSec: s.bucketStartSec });
      }
      // Refused only when collection was paused for the bucket's whole span: the partial bucket in
      // which a trial started or the add-on was activated holds traffic collected while allowed. One
      // read of the operator's collection windows answers every (validated) bucket of the batch.
      const bucketStarts = [...new Set(valid.map((x) => x.bucketStartSec))];
      const answers = bucketStarts.length === 0 ? [] : await deps.policy.collectionAllowedDuring(operatorId, bucketStarts.map((b) => ({ fromMs: b * 1000, toMs: (b + BUCKET_SEC) * 1000 })));
      const collection = new Map(bucketStarts.map((b, k) => [b, answers[k]!]));
      for (const { input, bucketStartSec } of valid) {
        const state = collection.get(bucketStartSec)!;
        if (!state.allowed) { counters.summariesPaused++; refuse(`collection paused: ${state.reason ?? 'not allowed'}`); continue; }
        accepted.push(input);
      }
      if (accepted.length === 0) return reject(t.tenantId, t.edgeId, batch, reasonsText(reasons));

      let result: Awaited<ReturnType<SeriesStore['applyBatch']>>;
      try {
        result = await deps.store.applyBatch({ operatorId, edgeId: t.edgeId, seq: batch.seq, nowMs, summaries: accepted });
      } catch (err) {
        counters.storeErrors++;
        deps.log.error({ edgeId: t.edgeId, seq: batch.seq, err }, 'could not store a summary batch; no ack, the edge will resend');
        return undefined;
      }
      const stored = result.stored.length;
      if (result.waiting) republisher.remember(result.waiting);
      counters.markersPruned += result.markersPruned;
      if (deps.onStored) {
        try { await deps.onStored(operatorId, t.edgeId, accepted.map((s) => s.subjectId)); } catch (err) {
          once.warnOnce(`on-stored:${t.edgeId}`, { edgeId: t.edgeId, err: (err as Error).message }, 'could not record which subjects the edge reported');
        }
      }

      const duplicates = result.duplicates;
      counters.summariesTooOld += result.tooOld;
      counters.summariesOverSubjectLimit += result.overSubjectLimit;
      for (const [reason, n] of result.refused) refuse(reason, n);
      const refusedCount = batch.summaries.length - stored - duplicates;
      counters.summariesDuplicate += duplicates;
      const reasonText = reasonsText(reasons);

      let ack: Ack;
      if (stored > 0) {
        counters.batchesStored++;
        counters.summariesStored += stored;
        counters.summariesRejected += refusedCount;
        if (refusedCount) once.warnOnce(`partial:${t.edgeId}:${reasonText}`, { edgeId: t.edgeId, seq: batch.seq, refusedCount, reasons: reasonText }, 'summaries refused in a stored batch');
        const parts: string[] = [];
        if (duplicates) parts.push(`${duplicates} already stored`);
        if (refusedCount) parts.push(`refused: ${reasonText}`);
        ack = { edgeId: t.edgeId, seq: batch.seq, status: AckStatus.STORED, reason: parts.length ? `stored ${stored} of ${batch.summaries.length}; ${parts.join('; ')}` : '' };
      } else if (duplicates > 0) {
        counters.batchesDuplicate++;
        counters.summariesRejected += refusedCount;
        ack = { edgeId: t.edgeId, seq: batch.seq, status: AckStatus.DUPLICATE, reason: refusedCount ? `refused: ${reasonText}` : '' };
      } else {
        return reject(t.tenantId, t.edgeId, batch, reasonText, refusedCount);
      }
      sendAck(t.tenantId, t.edgeId, ack, true);
      return ack;
    },
  };
}

export type BatchIngestor = ReturnType<typeof createBatchIngestor>;
