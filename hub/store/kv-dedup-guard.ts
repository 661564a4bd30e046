/**
 * The KV series store's WriteGuard (kv-series-store.ts) that applies content-dedup.ts: runs inside
 * the KV summary store's serialized section, reads the batch's revision markers, keeps only never-applied summaries, and returns the
 * marker updates (and, at most once an hour per edge, the pruning of expired markers) to commit in the
 * SAME atomic write as the series. A redelivery, even concurrent, even after a restart, finds the
 * markers of the first delivery and adds nothing.
 *
 * Keys (beside the series, same KV):
 *   ingest-rev/<edgeId>/<bucket 12 digits>/<revision 10 digits>  RevisionMarker (content-dedup.ts)
 *   ingest-pruned/<edgeId>      decimal bucket start: every marker of an older bucket was deleted, so
 *                               such buckets are refused even if the hub's clock steps back
 *   ingest-seen/<edgeId>/<seq 16 digits>  LEGACY (the former (edge, seq) rule), read only: a batch
 *                               stored under that rule answers DUPLICATE when redelivered with the same
 *                               seq, if all its buckets ended before the marker was written (a later
 *                               batch reusing the seq carries newer buckets); deleted past the horizon
 *   ingest-low/<edgeId>         LEGACY seq watermark (poisonable): ignored, deleted on the first prune
 */
import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { decodeJson } from '../../common/kv/json-codec';
import type { WriteGuard } from './kv-summary-store';
import {
  bucketOfRevisionKey, decodeMarker, encodeMarker, groupByRevision, planDedup, revisionKeyPrefix, type DedupPlan, type RevisionMarker,
} from '../ingest/content-dedup';
import type { GuardedSummary } from './series-store';
import { BUCKET_SEC } from '../../common/bucket';

const legacySeenKey = (edgeId: string, seq: number) => `ingest-seen/${edgeId}/${String(seq).padStart(16, '0')}`;
const legacyLowKey = (edgeId: string) => `ingest-low/${edgeId}`;
const prunedKey = (edgeId: string) => `ingest-pruned/${edgeId}`;
const text = new TextEncoder();
const untext = new TextDecoder();

export const PRUNE_INTERVAL_MS = 3_600_000;
/** Keys deleted per prune at most (one write stays small); a prune that hit it runs again on the next batch. */
export const PRUNE_MAX_KEYS = 10_000;

export interface DedupGuardDeps {
  kv: KeyValueStore;
  maxRevisionSubjects: number;
  /** Markers of buckets older than now - horizonSec are pruned; such summaries are refused. */
  horizonSec: number;
  maxClockSkewSec: number;
}

/** What one guarded add decided (filled in by the guard; read after add() resolved). */
export interface DedupOutcome {
  plan?: DedupPlan<GuardedSummary>;
  /** The batch's (edge, seq) was stored under the legacy seq rule. */
  legacyDuplicate: boolean;
  /** Summaries refused because their bucket is older than the horizon or the pruned markers. */
  tooOld: number;
  /** Keys deleted by a prune carried in this write; complete = nothing older is left. */
  prune?: { deletedKeys: number; complete: boolean };
}

export function createDedupGuards(deps: DedupGuardDeps) {
  const lastPruneMs = new Map<string, number>();

  async function pruneOps(edgeId: string, nowMs: number, prunedBelowSec: number, ops: KvOp[]): Promise<{ deletedKeys: number; complete: boolean }> {
    const cutoffSec = Math.floor(nowMs / 1000) - deps.horizonSec;
    const prefix = revisionKeyPrefix(edgeId);
    let deletedKeys = 0;
    let lastBucket = -1;
    let complete = true;
    for await (const [key] of deps.kv.entries({ gte: prefix, lt: prefix + String(Math.max(0, cutoffSec)).padStart(12, '0'), limit: PRUNE_MAX_KEYS + 1 })) {
      if (deletedKeys === PRUNE_MAX_KEYS) { complete = false; break; }
      ops.push({ type: 'del', key });
      lastBucket = bucketOfRevisionKey(key, edgeId);
      deletedKeys++;
    }
    const legacyPrefix = `ingest-seen/${edgeId}/`;
    for await (const [key, raw] of deps.kv.entries({ gte: legacyPrefix, lt: `${legacyPrefix}\uffff`, limit: PRUNE_MAX_KEYS })) {
      let atMs = 0;
      try { atMs = decodeJson<{ atMs?: number }>(raw).atMs ?? 0; } catch { /* unreadable: expired */ }
      if (atMs < cutoffSec * 1000) { ops.push({ type: 'del', key }); deletedKeys++; }
    }
    ops.push({ type: 'del', key: legacyLowKey(edgeId) });
    // Every marker below this bucket is gone (a partial prune stops inside lastBucket's revisions).
    const newPruned = complete ? cutoffSec : lastBucket + 1;
    if (newPruned > prunedBelowSec) ops.push({ type: 'put', key: prunedKey(edgeId), value: text.encode(String(newPruned)) });
    return { deletedKeys, complete };
  }

  return {
    /**
     * A guard for one batch of edgeId (seq only for the legacy markers) and the outcome it fills in.
     * The summaries given to add() must carry inRun from classifyRuns over their decoded batch.
     */
    guardFor(edgeId: string, seq: number, nowMs: number): { guard: WriteGuard<GuardedSummary>; outcome: DedupOutcome } {
      const outcome: DedupOutcome = { legacyDuplicate: false, tooOld: 0 };
      const guard: WriteGuard<GuardedSummary> = async (summaries) => {
        const groups = groupByRevision(edgeId, summaries);
        const keys = [legacySeenKey(edgeId, seq), prunedKey(edgeId), ...groups.map((g) => g.key)];
        const values = await deps.kv.getMany(keys);
        const [seenRaw, prunedRaw] = values;

        if (seenRaw) {
          let atMs = 0;
          try { atMs = decodeJson<{ atMs?: number }>(seenRaw).atMs ?? 0; } catch { /* unreadable: not honoured */ }
          const limitSec = atMs / 1000 + deps.maxClockSkewSec;
          if (summaries.every((s) => s.bucketStartSec + BUCKET_SEC <= limitSec)) {
            outcome.legacyDuplicate = true;
            return undefined;
          }
        }

        const prunedBelowSec = prunedRaw ? Number(untext.decode(prunedRaw)) : 0;
        // Older than the horizon by this delivery's clock, or than what was pruned (the clock may step back).
        const oldestSec = Math.max(prunedBelowSec, Math.floor(nowMs / 1000) - deps.horizonSec);
        const markers = new Map<string, RevisionMarker>();
        for (let i = 0; i < groups.length; i++) {
          const raw = values[i + 2];
          if (raw) markers.set(groups[i]!.key, decodeMarker(raw));
        }
        let live = groups;
        if (groups.some((g) => g.bucketStartSec < oldestSec)) {
          live = groups.filter((g) => {
            if (g.bucketStartSec >= oldestSec) return true;
            outcome.tooOld += g.items.length;
            return false;
          });
        }
        const plan = planDedup(live, (key) => markers.get(key), deps.maxRevisionSubjects);
        outcome.plan = plan;
        if (plan.apply.length === 0) return undefined; // nothing new: DUPLICATE, or refused

        const ops: KvOp[] = plan.markers.map(({ key, marker }) => ({ type: 'put', key, value: encodeMarker(marker) }));
        if (nowMs - (lastPruneMs.get(edgeId) ?? -Infinity) >= PRUNE_INTERVAL_MS) outcome.prune = await pruneOps(edgeId, nowMs, prunedBelowSec, ops);
        return { ops, summaries: plan.apply };
      };
      return { guard, outcome };
    },

    /** After the guarded add() was written: a complete prune is not repeated for an hour. */
    committed(edgeId: string, outcome: DedupOutcome, nowMs: number): void {
      if (outcome.prune?.complete) lastPruneMs.set(edgeId, nowMs);
    },
  };
}
