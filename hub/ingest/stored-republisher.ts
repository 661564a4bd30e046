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
 * - flushEdge() asks the STORE for the edge's waiting StoredBatches (listWaitingStored(edgeId)), not
 *   this process's memory: on PostgreSQL the outbox is shared by every hub, and a hub that committed a
 *   batch and died before publishing it leaves the entry there. The edge resends, another hub answers
 *   DUPLICATE, and that hub must publish the dead hub's StoredBatch first (else the edge forgets the
 *   batch and consumers never see it). It publishes them in storedSeq order, each one awaited until
 *   the broker accepted it (PUBACK), then deletes them from the store's outbox. It resolves false when
 *   one could not be published (it stays, counted and logged, and the next flush retries it). One
 *   edge's flushes run one after another. The ingestor acks STORED or DUPLICATE only after
 *   flushEdge() resolved true, so an acked batch has always been republished (the rule: an edge is
 *   acked only once every StoredBatch of that edge committed so far, by any hub, is with the broker);
 *   a failed republish withholds the ack, the edge resends, and that resend (DUPLICATE) flushes again.
 *   Never await flushEdge() inside the MQTT message handler: the PUBACK arrives on the hub client's
 *   connection behind the message being handled (hub-mqtt-client.ts).
 * - resume() at start publishes what a crash left waiting; retryFailed() retries an edge whose flush
 *   failed (the ingestor calls it on every delivery, whichever edge it comes from); sweep(), every
 *   STORED_SWEEP_INTERVAL_MS, publishes entries of ANY edge that were already waiting at this hub's
 *   previous sweep: a dead hub's leftovers for an edge that stays silent (revoked, gone, or whose
 *   resend went to a hub that had not yet restarted).
 *
 * At least once: a crash after the PUBACK and before the delete publishes that StoredBatch again,
 * byte-identical (the bytes are what was committed); so do two hubs flushing one edge at once (both
 * list the entry before either deletes it). Consumers dedup on the content identity.
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
/** One entry among every edge's. */
const entryId = (w: { edgeId: string; storedSeq: number }) => `${w.edgeId}/${waitingKey(w.storedSeq)}`;
/** A failed edge is retried by retryFailed() at most this often. */
export const RETRY_INTERVAL_MS = 10_000;
/**
 * How often the hub sweeps the whole outbox (create-hub's ticker calls sweep()). An entry is swept once
 * it was waiting at two sweeps in a row, so 30 to 60 s after its commit: long enough for the hub that
 * committed it to publish it itself (no duplicate in the normal case), short enough for consumers.
 */
export const STORED_SWEEP_INTERVAL_MS = 30_000;

export interface StoredRepublisherCounters {
  /** StoredBatch messages the broker accepted (a crash may publish one again: counted again). */
  storedBatchesPublished: number;
  /** Failed StoredBatch publishes: the batch stays waiting, its ack is withheld (the edge resends). */
  storedPublishErrors: number;
}

export interface StoredRepublisherDeps {
  /** The SeriesStore's outbox (shared by every hub on PostgreSQL). */
  outbox: Pick<SeriesStore, 'listWaitingStored' | 'deleteWaitingStored'>;
  publisher: MqttPublisher;
  clock: Clock;
  log: Logger;
}


export function createStoredRepublisher(deps: StoredRepublisherDeps) {
  const counters: StoredRepublisherCounters = { storedBatchesPublished: 0, storedPublishErrors: 0 };
  const errorLog = createRateLimitedLog({ log: deps.log, clock: deps.clock, intervalMs: 60_000 });
  /**
   * Per edge, the StoredBatches this hub knows to be waiting, by waitingKey: its own commits and what
   * its last listing found. For the gauge and resume(); flushes read the store.
   */
  const waiting = new Map<string, Map<string, WaitingStored>>();
  /** Published, their delete not finished yet (by entryId): a listing in between must not publish them again. */
  const deleting = new Set<string>();
  /** Edges whose last flush failed, with when. */
  const failedAtMs = new Map<string, number>();
  /** One flush at a time per edge, in call order. */
  const flushes = createKeyedSerialQueue<string>();
  const background = new Set<Promise<unknown>>();
  /** The entries (entryId) waiting at the previous sweep. */
  let seenAtLastSweep = new Set<string>();

  function track(p: Promise<unknown>): void {
    background.add(p);
    void p.finally(() => background.delete(p));
  }

  function remember(w: WaitingStored): void {
    let m = waiting.get(w.edgeId);
    if (!m) waiting.set(w.edgeId, (m = new Map()));
    m.set(waitingKey(w.storedSeq), w);
  }

  async function flushNow(edgeId: string): Promise<boolean> {
    // The store's listing is the truth; an entry this hub knew before it and the listing lacks was
    // published and deleted by another hub. Entries remembered while the listing ran stay (their
    // commit may be newer than the listing; their own flush comes next).
    const knownBefore = [...(waiting.get(edgeId)?.keys() ?? [])];
    // (The edge check is belt and braces: the topic below is this edge's, whatever a store returns.)
    const listed = (await deps.outbox.listWaitingStored(edgeId)).filter((w) => w.edgeId === edgeId && !deleting.has(entryId(w)));
    const m = waiting.get(edgeId) ?? new Map<string, WaitingStored>();
    for (const key of knownBefore) m.delete(key);
    for (const w of listed) m.set(waitingKey(w.storedSeq), w);
    if (m.size === 0) { waiting.delete(edgeId); failedAtMs.delete(edgeId); return true; }
    waiting.set(edgeId, m);
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
      for (const w of published) deleting.add(entryId(w));
      // Not awaited by the ack: a failed delete only means one more (identical) republish later.
      track(deps.outbox.deleteWaitingStored(published).catch((err) => {
        errorLog.warn('stored-delete', { edgeId, keys: published.length, err: (err as Error).message }, 'could not delete republished StoredBatches: published again later (consumers dedup)');
      }).finally(() => { for (const w of published) deleting.delete(entryId(w)); }));
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

    /** After applyBatch committed: the outbox entry it left waiting (for the gauge; flushes read the store). */
    remember,

    /** Publishes every StoredBatch of the edge waiting so far, whichever hub committed it; true when none is left. */
    flushEdge,

    /** At start: publishes in the background what an earlier process (or another hub) left waiting; returns how many. */
    async resume(): Promise<number> {
      const listed = await deps.outbox.listWaitingStored();
      for (const w of listed) remember(w);
      for (const edgeId of new Set(listed.map((w) => w.edgeId))) void flushEdge(edgeId);
      return listed.length;
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

    /**
     * Every STORED_SWEEP_INTERVAL_MS: flushes, in the background, each edge with an entry that was
     * already waiting at the previous sweep, whichever hub committed it. Age is judged by this hub's
     * own sweeps, not by storedAtMs (another hub's clock). Resolves with how many entries were due.
     */
    sweep(): Promise<number> {
      const run = (async () => {
        const listed = (await deps.outbox.listWaitingStored()).filter((w) => !deleting.has(entryId(w)));
        const due = listed.filter((w) => seenAtLastSweep.has(entryId(w)));
        seenAtLastSweep = new Set(listed.map(entryId));
        const dueEdges = new Set(due.map((w) => w.edgeId));
        if (due.length) deps.log.info({ storedBatches: due.length, edges: dueEdges.size }, 'republishing StoredBatches left waiting (by a hub that stopped, or whose publish failed)');
        for (const edgeId of dueEdges) if (!flushes.isBusy(edgeId)) void flushEdge(edgeId);
        return due.length;
      })();
      // idle() waits for it too; a failed listing is the caller's (the ticker counts and logs it).
      track(run.catch(() => undefined));
      return run;
    },

    /** Resolves when every flush and delete started so far has finished (for stop and tests). */
    async idle(): Promise<void> {
      while (background.size) await Promise.all([...background]);
    },

    /** StoredBatches known to be waiting for the broker (gauge): this hub's own, and what its last listings found. */
    waitingCount: (): number => [...waiting.values()].reduce((n, m) => n + m.size, 0),
  };
}

export type StoredRepublisher = ReturnType<typeof createStoredRepublisher>;
