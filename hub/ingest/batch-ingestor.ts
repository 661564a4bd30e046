import type { Clock } from '../../common/clock';
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { encodeJson } from '../../common/kv/json-codec';
import { createOnceLogger, type Logger } from '../../common/logger';
import { edgeTopic, parseEdgeTopic } from '../../common/topics';
import { AckStatus, ackCodec, summaryBatchCodec, type Ack, type SummaryBatch } from '../../proto/codec';
import type { MqttPublisher } from '../broker/mqtt-publisher';
import type { CollectionPolicy } from '../ports';
import type { SummaryInput, SummaryStore } from '../store/summary-store';
import { validateSummary } from './summary-validation';

/** Ingest asks only this of the edge registry. */
export interface EdgeLookup {
  getEdge(edgeId: string): Promise<{ edgeId: string; operatorId: string; revoked: boolean } | undefined>;
}

export interface IngestCounters {
  batchesReceived: number;
  batchesStored: number;
  batchesDuplicate: number;
  batchesRejected: number;
  malformedBatches: number;
  summariesStored: number;
  summariesRejected: number;
  storeErrors: number;
  ackPublishErrors: number;
  /** Batches left unacked because a bucket has not ended yet by the hub's clock: the edge resends them. */
  batchesDeferred: number;
}

export interface BatchIngestorDeps {
  store: SummaryStore;
  /** The same KV the store writes to: dedup markers live beside the series. */
  kv: KeyValueStore;
  edges: EdgeLookup;
  policy: CollectionPolicy;
  publisher: MqttPublisher;
  clock: Clock;
  log: Logger;
  /** How far past now a bucket may end (edge clock drift). Default 300 s. */
  maxClockSkewSec?: number;
}

/**
 * Dedup keys:
 *   ingest-seen/<edgeId>/<seq, 16 digits>  a batch that was applied (JSON {atMs, stored})
 *   ingest-low/<edgeId>                    the highest oldest_unacked_seq seen: every seq below it
 *                                          was acked, so it is a DUPLICATE even once its marker is pruned
 */
const SEQ_DIGITS = 16;
const seqText = (seq: number) => String(seq).padStart(SEQ_DIGITS, '0');
const seenKey = (edgeId: string, seq: number) => `ingest-seen/${edgeId}/${seqText(seq)}`;
const lowKey = (edgeId: string) => `ingest-low/${edgeId}`;

/**
 * The hub's ingest of SummaryBatch messages. For each delivery:
 *  1. decode (malformed: counted, one log line per edge, no ack: there is no seq to ack);
 *  2. validate: the topic's tenant/edge must equal the payload's and the edge's registered operator,
 *     the edge must not be revoked (else the whole batch is REJECTED); each summary is checked
 *     (summary-validation.ts) and, through the CollectionPolicy, refused if its bucket started at or
 *     after a collection pause; a bucket that has not ended yet by the hub's clock defers the whole
 *     batch (no ack: clock skew is transient, a REJECTED would make the edge drop billing data);
 *  3. apply at most once: the series update and the (edge, seq) marker go in ONE atomic KV write,
 *     decided inside the store's serialized section, so a redelivery (even concurrent, even after a
 *     restart) answers DUPLICATE without touching data; markers below oldest_unacked_seq are pruned
 *     in the same write;
 *  4. only after that write completed, publish the Ack (QoS 1). If the write fails there is no ack:
 *     the edge keeps the batch and resends it. handle() resolves once the write is done and the ack
 *     handed to the client (not once the broker PUBACKed it: see sendAck).
 * A batch with some refused summaries stores the rest and answers STORED with a reason; a batch with
 * none stored answers REJECTED.
 */
export function createBatchIngestor(deps: BatchIngestorDeps) {
  const counters: IngestCounters = {
    batchesReceived: 0, batchesStored: 0, batchesDuplicate: 0, batchesRejected: 0, malformedBatches: 0,
    summariesStored: 0, summariesRejected: 0, storeErrors: 0, ackPublishErrors: 0, batchesDeferred: 0,
  };
  const once = createOnceLogger(deps.log);
  const maxClockSkewSec = deps.maxClockSkewSec ?? 300;

  const pendingAcks = new Set<Promise<void>>();

  /**
   * Starts publishing the ack and returns without waiting for the broker's PUBACK: the hub's MQTT
   * client holds its own PUBACK for the incoming batch until handle() resolves, and the PUBACK for
   * this ack arrives on that same connection, so waiting for it here would deadlock the client.
   */
  function sendAck(tenantId: string, edgeId: string, ack: Ack): void {
    const sent = (async () => {
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

  async function reject(tenantId: string, edgeId: string, batch: SummaryBatch, reason: string): Promise<Ack> {
    counters.batchesRejected++;
    counters.summariesRejected += batch.summaries.length;
    once.warnOnce(`rejected:${edgeId}:${reason}`, { edgeId, seq: batch.seq, reason }, 'summary batch rejected');
    const ack: Ack = { edgeId, seq: batch.seq, status: AckStatus.REJECTED, reason };
    sendAck(tenantId, edgeId, ack);
    return ack;
  }

  /** Runs inside the store's serialized section: decides DUPLICATE and builds the marker ops. */
  function dedupGuard(edgeId: string, batch: SummaryBatch, storedCount: number) {
    return async (): Promise<KvOp[] | undefined> => {
      const [lowRaw, seenRaw] = await deps.kv.getMany([lowKey(edgeId), seenKey(edgeId, batch.seq)]);
      const low = lowRaw ? Number(new TextDecoder().decode(lowRaw)) : 0;
      if (seenRaw || batch.seq < low) return undefined;
      const ops: KvOp[] = [{ type: 'put', key: seenKey(edgeId, batch.seq), value: encodeJson({ atMs: deps.clock.nowMs(), stored: storedCount }) }];
      // The edge promises never to resend below oldest_unacked_seq, and a batch at or above the
      // current one cannot be pruned (its marker is what makes the next delivery a DUPLICATE).
      const newLow = Math.min(batch.oldestUnackedSeq, batch.seq);
      if (newLow > low) {
        ops.push({ type: 'put', key: lowKey(edgeId), value: new TextEncoder().encode(String(newLow)) });
        for await (const [key] of deps.kv.entries({ gte: `ingest-seen/${edgeId}/`, lt: seenKey(edgeId, newLow) })) ops.push({ type: 'del', key });
      }
      return ops;
    };
  }

  return {
    counters: (): IngestCounters => ({ ...counters }),

    /** Resolves when every ack started so far was accepted by the broker or failed (for stop and tests). */
    async flushAcks(): Promise<void> {
      await Promise.all([...pendingAcks]);
    },

    /** Handles one message from flowbill/v1/<tenant>/<edge>/summaries; resolves with the ack it sent, if any. */
    async handle(topic: string, payload: Uint8Array): Promise<Ack | undefined> {
      counters.batchesReceived++;
      const t = parseEdgeTopic(topic);
      if (!t || t.kind !== 'summaries') {
        counters.malformedBatches++;
        once.warnOnce(`topic:${topic}`, { topic }, 'summary batch on an unexpected topic');
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

      const limits = { nowSec: Math.floor(deps.clock.nowMs() / 1000), maxClockSkewSec };
      const accepted: SummaryInput[] = [];
      const reasons = new Map<string, number>();
      const refuse = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      const pausedAt = new Map<number, { allowed: boolean; reason?: string }>();
      for (const s of batch.summaries) {
        const v = validateSummary(s, limits);
        if (!v.ok && v.retryLater) {
          // Clock skew is transient: no ack, nothing stored; the edge resends the whole batch later.
          counters.batchesDeferred++;
          once.warnOnce(`future:${t.edgeId}`, { edgeId: t.edgeId, seq: batch.seq, reason: v.reason, hubNowSec: limits.nowSec }, 'summary batch deferred: a bucket is in the future (check the edge and hub clocks)');
          return undefined;
        }
        if (!v.ok) { refuse(v.reason); continue; }
        // Pause: a bucket that started at or after the pause instant is refused; earlier ones are
        // still stored (they were collected while collection was allowed).
        let state = pausedAt.get(s.bucketStartSec);
        if (!state) {
          state = await deps.policy.collectionState(operatorId, s.bucketStartSec * 1000);
          pausedAt.set(s.bucketStartSec, state);
        }
        if (!state.allowed) { refuse('collection paused'); continue; }
        accepted.push(v.input);
      }
      const rejectedCount = batch.summaries.length - accepted.length;
      const reasonText = [...reasons].map(([r, n]) => (n > 1 ? `${r} (${n}x)` : r)).join('; ');
      if (accepted.length === 0 && batch.summaries.length > 0) {
        return reject(t.tenantId, t.edgeId, batch, reasonText);
      }

      let applied: boolean;
      try {
        ({ applied } = await deps.store.add(operatorId, accepted, dedupGuard(t.edgeId, batch, accepted.length)));
      } catch (err) {
        counters.storeErrors++;
        deps.log.error({ edgeId: t.edgeId, seq: batch.seq, err }, 'could not store a summary batch; no ack, the edge will resend');
        return undefined;
      }

      let ack: Ack;
      if (!applied) {
        counters.batchesDuplicate++;
        ack = { edgeId: t.edgeId, seq: batch.seq, status: AckStatus.DUPLICATE, reason: '' };
      } else {
        counters.batchesStored++;
        counters.summariesStored += accepted.length;
        counters.summariesRejected += rejectedCount;
        if (rejectedCount) once.warnOnce(`partial:${t.edgeId}:${reasonText}`, { edgeId: t.edgeId, seq: batch.seq, rejectedCount, reasons: reasonText }, 'summaries refused in a stored batch');
        ack = { edgeId: t.edgeId, seq: batch.seq, status: AckStatus.STORED, reason: rejectedCount ? `stored ${accepted.length} of ${batch.summaries.length}; refused: ${reasonText}` : '' };
      }
      sendAck(t.tenantId, t.edgeId, ack);
      return ack;
    },
  };
}

export type BatchIngestor = ReturnType<typeof createBatchIngestor>;
