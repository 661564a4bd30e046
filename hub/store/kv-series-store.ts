/**
 * The SeriesStore (series-store.ts) on any KeyValueStore (memory, LevelDB): the day-chunk series of
 * kv-summary-store.ts, the content-identity dedup of kv-dedup-guard.ts and the republication outbox,
 * all decided inside the summary store's serialized section and committed in ONE atomic kv.write.
 * One process owns a KV, so that section is enough for concurrent redeliveries.
 *
 * Outbox keys (beside the series, same KV; unchanged from the hub's earlier layout, so StoredBatches
 * an older hub left waiting are still published):
 *   ingest-stored/<edgeId>/<storedSeq 16 digits>  encoded StoredBatch (stored-outbox.ts)
 *   ingest-stored-seq                            decimal: the last storedSeq allocated
 */
import type { KeyValueStore } from '../../common/kv/kv-store';
import { prefixRange } from '../../common/kv/kv-store';
import type { Logger } from '../../common/logger';
import { storedBatchCodec } from '../../proto/codec';
import { subjectLimitRefusals, tooOldReason } from '../ingest/content-dedup';
import { createDedupGuards } from './kv-dedup-guard';
import { createKvSummaryStore, type WriteGuard } from './kv-summary-store';
import { DEFAULT_SERIES_LIMITS, type ApplyBatchResult, type GuardedSummary, type SeriesStore, type SeriesStoreLimits, type WaitingStored } from './series-store';
import { encodeStoredBatch } from './stored-outbox';

export const STORED_PREFIX = 'ingest-stored/';
export const STORED_SEQ_KEY = 'ingest-stored-seq';
const storedKey = (edgeId: string, storedSeq: number) => `${STORED_PREFIX}${edgeId}/${String(storedSeq).padStart(16, '0')}`;

export interface KvSeriesStoreDeps {
  kv: KeyValueStore;
  limits?: Partial<SeriesStoreLimits>;
  /** Where an unreadable outbox entry is reported (it is skipped). */
  log?: Logger;
}

const text = new TextEncoder();
const untext = new TextDecoder();

export function createKvSeriesStore(deps: KvSeriesStoreDeps): SeriesStore {
  const { kv } = deps;
  const limits: SeriesStoreLimits = { ...DEFAULT_SERIES_LIMITS, ...deps.limits };
  const series = createKvSummaryStore(kv);
  const guards = createDedupGuards({ kv, maxRevisionSubjects: limits.maxRevisionSubjects, horizonSec: limits.dedupHorizonSec, maxClockSkewSec: limits.maxClockSkewSec });
  const tooOld = tooOldReason(limits.dedupHorizonSec);

  /** The last storedSeq allocated; read once, then only moved inside the serialized section. */
  let lastStoredSeq: number | undefined;
  async function nextStoredSeq(): Promise<number> {
    if (lastStoredSeq === undefined) {
      const raw = await kv.get(STORED_SEQ_KEY);
      let last = raw ? Number(untext.decode(raw)) : 0;
      // A waiting entry above the counter (an older hub wrote both in one write; belt and braces).
      for await (const [key] of kv.entries(prefixRange(STORED_PREFIX))) last = Math.max(last, Number(key.slice(key.lastIndexOf('/') + 1)));
      if (!Number.isSafeInteger(last) || last < 0) throw new Error(`${STORED_SEQ_KEY} is not a count: ${last}`);
      lastStoredSeq = last;
    }
    // Moved before the write: a failed write leaves a gap, never a reused storedSeq.
    return ++lastStoredSeq;
  }

  return {
    async applyBatch(input): Promise<ApplyBatchResult> {
      const { guard: dedupGuard, outcome } = guards.guardFor(input.edgeId, input.seq, input.nowMs);
      let waiting: WaitingStored | undefined;
      const guard: WriteGuard<GuardedSummary> = async (summaries) => {
        const write = await dedupGuard(summaries);
        if (!write) return undefined;
        const storedSeq = await nextStoredSeq();
        const payload = encodeStoredBatch(input, write.summaries, storedSeq);
        waiting = { edgeId: input.edgeId, tenantId: input.operatorId, storedSeq, payload };
        return {
          summaries: write.summaries,
          ops: [...write.ops, { type: 'put', key: storedKey(input.edgeId, storedSeq), value: payload }, { type: 'put', key: STORED_SEQ_KEY, value: text.encode(String(storedSeq)) }],
        };
      };
      const { stored } = await series.add(input.operatorId, input.summaries.slice(), guard);
      if (stored > 0) guards.committed(input.edgeId, outcome, input.nowMs);

      const refused = new Map<string, number>();
      if (outcome.tooOld) refused.set(tooOld, outcome.tooOld);
      for (const [reason, n] of outcome.plan?.refused ?? []) refused.set(reason, (refused.get(reason) ?? 0) + n);
      const applied = stored > 0 ? outcome.plan!.apply : [];
      return {
        outcome: stored > 0 ? 'applied' : 'duplicate',
        stored: applied,
        duplicates: outcome.legacyDuplicate ? input.summaries.length : (outcome.plan?.duplicates ?? 0),
        tooOld: outcome.tooOld,
        overSubjectLimit: subjectLimitRefusals(outcome.plan?.refused ?? new Map()),
        refused,
        markersPruned: stored > 0 ? (outcome.prune?.deletedKeys ?? 0) : 0,
        ...(stored > 0 && waiting ? { waiting } : {}),
      };
    },

    async listWaitingStored(edgeId): Promise<WaitingStored[]> {
      const out: WaitingStored[] = [];
      // An edge id has no '/' (it is a topic level), so `<edgeId>/` never matches another edge's keys.
      for await (const [key, payload] of kv.entries(prefixRange(edgeId === undefined ? STORED_PREFIX : `${STORED_PREFIX}${edgeId}/`))) {
        const rest = key.slice(STORED_PREFIX.length);
        const slash = rest.lastIndexOf('/');
        try {
          out.push({ edgeId: rest.slice(0, slash), storedSeq: Number(rest.slice(slash + 1)), tenantId: storedBatchCodec.decode(payload).tenantId, payload });
        } catch (err) {
          // Only the hub writes these keys; an unreadable one is a damaged store, not input.
          deps.log?.error({ key, err: (err as Error).message }, 'unreadable waiting StoredBatch skipped');
        }
      }
      // Keys sort by edge then storedSeq, except an edge id that is a prefix of another ("e1/" vs "e1-x/"): sort.
      return out.sort((a, b) => (a.edgeId < b.edgeId ? -1 : a.edgeId > b.edgeId ? 1 : a.storedSeq - b.storedSeq));
    },

    async deleteWaitingStored(entries): Promise<void> {
      if (entries.length) await kv.write(entries.map((e) => ({ type: 'del' as const, key: storedKey(e.edgeId, e.storedSeq) })));
    },

    readSeries: (operatorId, subjectId, fromSec, toSec) => series.readSeries(operatorId, subjectId, fromSec, toSec),
    listSubjects: (operatorId) => series.listSubjects(operatorId),
    reportedBucketCount: (operatorId, fromSec, toSec) => series.reportedBucketCount(operatorId, fromSec, toSec),
    readSlotColumns: (operatorId, subjectId, firstSlotSec, n, into) => series.readSlotColumns(operatorId, subjectId, firstSlotSec, n, into),

    async purgeOperator(operatorId): Promise<{ deleted: number }> {
      const { deletedKeys } = await series.purgeOperator(operatorId);
      return { deleted: deletedKeys };
    },
  };
}
