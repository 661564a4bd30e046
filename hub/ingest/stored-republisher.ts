/**
 * The hub's republication of what it STORED, for third-party consumers: a transactional outbox for
 * flowbill/v1/<tenant>/<edge>/stored (StoredBatch, QoS 1, not retained; proto/flowbill.proto).
 *
 * Why an outbox rather than republishing each delivery: the stored topic must carry exactly what the
 * hub added to its totals. Republishing the summaries a redelivery repeats (DUPLICATE) would put the
 * edge's word in place of the hub's: a rewound edge re-sends an identity with smaller counts, and a
 * hostile one with any counts, and a consumer that missed the original would take them as truth.
 *
 * - The SeriesStore's applyBatch leaves a StoredBatch of exactly the summaries it added in its outbox,
 *   in the SAME atomic write as the series (series-store.ts, stored-outbox.ts), and returns it as
 *   `waiting`; the ingestor hands it to remember(). So every summary in the hub's totals is either
 *   waiting in the store's outbox or was accepted by the broker.
 * - flushEdge() publishes an edge's waiting StoredBatches in storedSeq order, each one awaited until
 *   the broker accepted it (PUBACK), then forgets them and deletes them from the store's outbox. It resolves false when one could
 *   not be published (it stays, counted and logged, and the next flush retries it). One edge's
 *   flushes run one after another. The ingestor acks STORED or DUPLICATE only after flushEdge()
 *   resolved true, so an acked batch has always been republished; a failed republish withholds the
 *   ack, the edge resends, and that resend (DUPLICATE) flushes again.
 *   Never await flushEdge() inside the MQTT message handler: the PUBACK arrives on the hub client's
 *   connection behind the message being handled (hub-mqtt-client.ts).
 * - resume() at start publishes what a crash left waiting; retryFailed() retries an edge whose flush
 *   failed (the ingestor calls it on every delivery, whichever edge it comes from).
 *
 * At least once: a crash after the PUBACK and before the delete publishes that StoredBatch again,
 * byte-identical (the bytes are what was committed). Consumers dedup on the content identity.
 */
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { createRateLimitedLog } from '../../common/rate-limited-log';
import { edgeTopic } from '../../common/topics';
import { createKeyedSerialQueue } from '../../common/serial-queue';
import type { MqttPublisher } from '../broker/mqtt-publisher';
import type { SeriesStore, WaitingStored } from '../store/series-store';

/** Waiting entries of one edge are keyed so that keys sort by storedSeq. */
const waitingKey = (storedSeq: number) => String(storedSeq).padStart(16, '0');
/** A failed edge is retried by retryFailed() at most this often. */
export const RETRY_INTERVAL_MS = 10_000;

export interface StoredRepublisherCounters {
  /** StoredBatch messages the broker accepted (a crash may publish one again: counted again). */
  storedBatchesPublished: number;
  /** Failed StoredBatch publishes: the batch stays waiting, its ack is withheld (the edge resends). */
  storedPublishErrors: number;
}

export interface StoredRepublisherDeps {
  /** The SeriesStore's outbox. */
  outbox: Pick<SeriesStore, 'listWaitingStored' | 'deleteWaitingStored'>;
  publisher: MqttPublisher;
  clock: Clock;
  log: Logger;
}


export function createStoredRepublisher(deps: StoredRepublisherDeps) {
  const counters: StoredRepublisherCounters = { storedBatchesPublished: 0, storedPublishErrors: 0 };
  const errorLog = createRateLimitedLog({ log: deps.log, clock: deps.clock, intervalMs: 60_000 });
  /** Per edge, the StoredBatches waiting for the broker, by waitingKey (keys sort by storedSeq). */
  const waiting = new Map<string, Map<string, WaitingStored>>();
  /** Edges whose last flush failed, with when. */
  const failedAtMs = new Map<string, number>();
  /** One flush at a time per edge, in call order. */
  const flushes = createKeyedSerialQueue<string>();
  const background = new Set<Promise<unknown>>();
  let loading: Promise<void> | undefined;

  function track(p: Promise<unknown>): void {
    background.add(p);
    void p.finally(() => background.delete(p));
  }

  function remember(w: WaitingStored): void {
    let m = waiting.get(w.edgeId);
    if (!m) waiting.set(w.edgeId, (m = new Map()));
    m.set(waitingKey(w.storedSeq), w);
  }

  /** Once per process, before anything else touches `waiting`: what an earlier process left waiting. */
  function load(): Promise<void> {
    // remember() is idempotent per storedSeq, so an entry both listed here and remembered after its
    // applyBatch is one entry.
    loading ??= (async () => {
      for (const w of await deps.outbox.listWaitingStored()) remember(w);
    })().catch((err) => { loading = undefined; throw err; });
    return loading;
  }

  async function flushNow(edgeId: string): Promise<boolean> {
    await load();
    const m = waiting.get(edgeId);
    if (!m || m.size === 0) return true;
    const published: WaitingStored[] = [];
    let ok = true;
    for (const key of [...m.keys()].sort()) {
      const w = m.get(key)!;
      try {
        await deps.publisher.publish(edgeTopic(w.tenantId, edgeId, 'stored'), w.payload, { qos: 1, retain: false });
      } catch (err) {
        counters.storedPublishErrors++;
        errorLog.warn(`stored:${edgeId}`, { edgeId, storedSeq: w.storedSeq, err: (err as Error).message }, 'could not republish a StoredBatch: kept, its ack withheld, retried on the next delivery');
        ok = false;
        break;
      }
      counters.storedBatchesPublished++;
      m.delete(key);
      published.push(w);
    }
    if (m.size === 0) waiting.delete(edgeId);
    if (ok) failedAtMs.delete(edgeId);
    else failedAtMs.set(edgeId, deps.clock.nowMs());
    if (published.length) {
      // Not awaited by the ack: a failed delete only means one more (identical) republish after a restart.
      track(deps.outbox.deleteWaitingStored(published).catch((err) => {
        errorLog.warn('stored-delete', { edgeId, keys: published.length, err: (err as Error).message }, 'could not delete republished StoredBatches: a restart republishes them (consumers dedup)');
      }));
    }
    return ok;
  }

  function flushEdge(edgeId: string): Promise<boolean> {
    const run = flushes.run(edgeId, () => flushNow(edgeId).catch((err) => {
      counters.storedPublishErrors++;
      errorLog.warn(`stored:${edgeId}`, { edgeId, err: (err as Error).message }, 'could not read the waiting StoredBatches');
      failedAtMs.set(edgeId, deps.clock.nowMs());
      return false;
    }));
    track(run);
    return run;
  }

  return {
    counters: (): StoredRepublisherCounters => ({ ...counters }),

    /** After applyBatch committed: the outbox entry it left waiting, for the next flushEdge(). */
    remember,

    /** Publishes every StoredBatch of the edge waiting so far; true when none is left. */
    flushEdge,

    /** At start: publishes in the background what an earlier process left waiting; returns how many. */
    async resume(): Promise<number> {
      await load();
      let n = 0;
      for (const [edgeId, m] of waiting) { n += m.size; void flushEdge(edgeId); }
      return n;
    },

    /** Flushes, in the background, each edge whose last flush failed at least RETRY_INTERVAL_MS ago. */
    retryFailed(): void {
      const nowMs = deps.clock.nowMs();
      for (const [edgeId, atMs] of failedAtMs) {
        if (nowMs - atMs < RETRY_INTERVAL_MS || flushes.isBusy(edgeId)) continue;
        failedAtMs.set(edgeId, nowMs);
        void flushEdge(edgeId);
      }
    },

    /** Resolves when every flush and delete started so far has finished (for stop and tests). */
    async idle(): Promise<void> {
      while (background.size) await Promise.all([...background]);
    },

    /** StoredBatches waiting for the broker (gauge). */
    waitingCount: (): number => [...waiting.values()].reduce((n, m) => n + m.size, 0),
  };
}

export type StoredRepublisher = ReturnType<typeof createStoredRepublisher>;
