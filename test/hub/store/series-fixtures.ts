/** Test helpers for SeriesStore users: summaries, guarded batches, and seeding a store with points. */
import { classifyRuns } from '../../../hub/ingest/content-dedup';
import { dayStartSecOf } from '../../../hub/store/day-chunk';
import type { GuardedSummary, IngestSummary, SeriesStore, SummaryInput } from '../../../hub/store/series-store';

export const DAY0 = Date.UTC(2026, 10, 1) / 1000; // 2026-11-01T00:00Z

export function summary(subjectId: string, bucketStartSec: number, bytesIn: number, extra: Partial<IngestSummary> = {}): IngestSummary {
  return {
    subjectId, kind: subjectId.startsWith('ipg:') ? 'ip_group' : 'interface', bucketStartSec,
    bytesIn, bytesOut: bytesIn * 2, packetsIn: 10, packetsOut: 20, flowsIn: 1, flowsOut: 2, revision: 0, ...extra,
  };
}

/** The summaries of one decoded batch as ingest hands them to applyBatch (inRun from classifyRuns). */
export function guarded(summaries: readonly IngestSummary[]): GuardedSummary[] {
  const inRun = classifyRuns(summaries);
  return summaries.map((s, i) => ({ ...s, inRun: inRun[i]! }));
}

let seedEdge = 0;

/**
 * Adds points to a store the way ingest does, for tests that need data in a real store: each call is
 * a fresh edge (so calls ADD, like revisions of several edges), one applyBatch per day at that day's
 * end (inside any horizon); the same (subject, bucket) twice in one call gets distinct revisions.
 * Throws when the store did not take everything.
 */
export async function seedSeries(store: SeriesStore, operatorId: string, inputs: readonly SummaryInput[]): Promise<void> {
  const edgeId = `seed-${++seedEdge}`;
  const byDay = new Map<number, IngestSummary[]>();
  const seen = new Map<string, number>();
  for (const s of inputs) {
    const key = `${s.bucketStartSec}/${s.subjectId}`;
    const revision = seen.get(key) ?? 0;
    seen.set(key, revision + 1);
    const day = dayStartSecOf(s.bucketStartSec);
    let list = byDay.get(day);
    if (!list) byDay.set(day, (list = []));
    list.push({ ...s, revision });
  }
  let seq = 0;
  // Days in order: a KV store prunes its dedup records below each call's horizon, per edge.
  for (const [day, list] of [...byDay].sort((a, b) => a[0] - b[0])) {
    const r = await store.applyBatch({ operatorId, edgeId, seq: ++seq, nowMs: (day + 86_400) * 1000, summaries: list.map((s) => ({ ...s, inRun: false })) });
    if (r.stored.length !== list.length) throw new Error(`seedSeries: stored ${r.stored.length} of ${list.length} (${[...r.refused.keys()].join('; ')})`);
  }
}
