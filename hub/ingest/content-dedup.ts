/**
 * Content-identity deduplication of summaries, pure (no KV, no clock): the rules and the marker
 * format; every SeriesStore backend applies them (hub/store/kv-dedup-guard.ts for KV, inside its serialized section).
 *
 * Identity: a summary is (edgeId, bucketStartSec, revision, subjectId). The edge never emits two
 * different contents under one (edgeId, bucketStartSec, revision) (after a rewind of its store a
 * re-emitted revision holds a SUBSET of the original's subjects, with counts <= the original's), and
 * emits a bucket revision all at once, its summaries consecutive and in ascending subjectId order
 * (JS string `<`); the outbox cuts that run into batches, so a batch holds, per (bucket, revision),
 * one contiguous sorted run.
 *
 * So the hub records, per (edge, bucket, revision), the merged list of applied subject-id RANGES
 * [first, last]: every subject of that revision inside [first, last] was in the run that recorded it.
 * A summary whose subject falls inside an applied range is a duplicate, whatever the seq or the batch
 * boundaries of its delivery. A group that is not one contiguous strictly ascending run in its batch
 * (older edges, third parties) records each applied subject as a point range [s, s]: exact, bigger.
 *
 * Marker key: ingest-rev/<edgeId>/<bucketStartSec, 12 digits>/<revision, 10 digits>, so one edge's
 * markers sort by bucket and are pruned by one range; value: JSON {n, r} (RevisionMarker).
 */
import { decodeJson, encodeJson } from '../../common/kv/json-codec';

export const REVISION_PREFIX = 'ingest-rev/';
export const revisionKeyPrefix = (edgeId: string) => `${REVISION_PREFIX}${edgeId}/`;
export const revisionKey = (edgeId: string, bucketStartSec: number, revision: number) =>
  `${revisionKeyPrefix(edgeId)}${String(bucketStartSec).padStart(12, '0')}/${String(revision).padStart(10, '0')}`;
/** The bucket start of a revision key (the 12 digits after the edge's prefix). */
export const bucketOfRevisionKey = (key: string, edgeId: string) => Number(key.slice(revisionKeyPrefix(edgeId).length, revisionKeyPrefix(edgeId).length + 12));

/** What the hub has applied of one (edge, bucket, revision). */
export interface RevisionMarker {
  /** Distinct subjects applied (each applied summary is a new subject: duplicates are never applied). */
  n: number;
  /** Flat inclusive ranges [first0, last0, first1, last1, …]: sorted, disjoint, first_i <= last_i < first_i+1. */
  r: string[];
}

export const encodeMarker = (m: RevisionMarker): Uint8Array => encodeJson(m);
export const decodeMarker = (raw: Uint8Array): RevisionMarker => decodeJson<RevisionMarker>(raw);

/** Is subjectId inside one of the ranges? Binary search for the last range starting at or before it. */
export function rangesCover(r: readonly string[], subjectId: string): boolean {
  let lo = 0;
  let hi = r.length / 2 - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (r[mid * 2]! <= subjectId) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found >= 0 && subjectId <= r[found * 2 + 1]!;
}

/**
 * The union of sorted disjoint ranges `r` and any ranges `add` (flat pairs, any order): sorted,
 * overlapping or touching ranges merged. Ranges that do not overlap are kept apart: between s10 and
 * s11 of two batches there may be strings the hub knows nothing about.
 */
export function mergeRanges(r: readonly string[], add: readonly string[]): string[] {
  if (add.length === 0) return r.slice();
  const pairs: [string, string][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  for (let i = 0; i < add.length; i += 2) pairs.push([add[i]!, add[i + 1]!]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: string[] = [];
  for (const [first, last] of pairs) {
    const n = out.length;
    if (n > 0 && first <= out[n - 1]!) {
      if (last > out[n - 1]!) out[n - 1] = last;
    } else out.push(first, last);
  }
  return out;
}

export interface RevisionItem { subjectId: string; bucketStartSec: number; revision: number }

const groupKeyOf = (s: RevisionItem) => `${s.bucketStartSec}/${s.revision}`;

/**
 * For each summary of a decoded batch (in batch order, before validation): true when its
 * (bucket, revision) group is ONE contiguous, strictly ascending run in the batch, as the edge emits
 * it. Only such a run may record a range; anything else records points.
 */
export function classifyRuns(summaries: readonly RevisionItem[]): boolean[] {
  const groups = new Map<string, { lastIndex: number; lastSubject: string; run: boolean }>();
  const keys: string[] = new Array(summaries.length);
  for (let i = 0; i < summaries.length; i++) {
    const s = summaries[i]!;
    const key = groupKeyOf(s);
    keys[i] = key;
    const g = groups.get(key);
    if (!g) { groups.set(key, { lastIndex: i, lastSubject: s.subjectId, run: true }); continue; }
    if (g.run && (g.lastIndex !== i - 1 || !(g.lastSubject < s.subjectId))) g.run = false;
    g.lastIndex = i;
    g.lastSubject = s.subjectId;
  }
  return keys.map((k) => groups.get(k)!.run);
}

export interface DedupItem extends RevisionItem {
  /** From classifyRuns: the summary's group is one contiguous sorted run of its batch. */
  inRun: boolean;
}

export interface RevisionGroup<S extends DedupItem> { key: string; bucketStartSec: number; revision: number; items: S[] }

/** The batch's summaries by (bucket, revision), in batch order; `key` is the marker key. */
export function groupByRevision<S extends DedupItem>(edgeId: string, summaries: readonly S[]): RevisionGroup<S>[] {
  const groups = new Map<string, RevisionGroup<S>>();
  for (const s of summaries) {
    const k = groupKeyOf(s);
    let g = groups.get(k);
    if (!g) { g = { key: revisionKey(edgeId, s.bucketStartSec, s.revision), bucketStartSec: s.bucketStartSec, revision: s.revision, items: [] }; groups.set(k, g); }
    g.items.push(s);
  }
  return [...groups.values()];
}

/** The refusal reason of a bucket older than the dedup horizon (every backend, and ingest's early check). */
export function tooOldReason(horizonSec: number): string {
  return `bucket older than the dedup horizon (${Math.round(horizonSec / 86_400)} days): it can no longer be deduplicated`;
}

const SUBJECT_LIMIT_PREFIX = 'more than ';

/** How many of a plan's refusals are over maxRevisionSubjects (the rest: subjects repeated in a non-run group). */
export function subjectLimitRefusals(refused: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const [reason, count] of refused) if (reason.startsWith(SUBJECT_LIMIT_PREFIX)) n += count;
  return n;
}

export interface DedupPlan<S> {
  /** Summaries never applied before: to add to the series. */
  apply: S[];
  /** Summaries already applied by an earlier delivery (any seq, any batch boundaries). */
  duplicates: number;
  /** Summaries refused, by reason (never applied). */
  refused: Map<string, number>;
  /** Markers that change, to put in the same atomic write as the series. */
  markers: { key: string; marker: RevisionMarker }[];
}

/**
 * Decides, for each (bucket, revision) group, which summaries are new and how its marker grows.
 * `current` is the stored marker of each group key (undefined when none). At most
 * maxRevisionSubjects distinct subjects are applied per marker; the excess is refused.
 */
export function planDedup<S extends DedupItem>(
  groups: readonly RevisionGroup<S>[], current: (key: string) => RevisionMarker | undefined, maxRevisionSubjects: number,
): DedupPlan<S> {
  const plan: DedupPlan<S> = { apply: [], duplicates: 0, refused: new Map(), markers: [] };
  const refuse = (reason: string, n: number) => { if (n > 0) plan.refused.set(reason, (plan.refused.get(reason) ?? 0) + n); };
  for (const g of groups) {
    const marker = current(g.key) ?? { n: 0, r: [] };
    const run = g.items.every((s) => s.inRun);
    const fresh: S[] = [];
    const seen = run ? undefined : new Set<string>();
    for (const s of g.items) {
      if (seen) {
        if (seen.has(s.subjectId)) { refuse(`subject repeated within bucket ${g.bucketStartSec} revision ${g.revision}`, 1); continue; }
        seen.add(s.subjectId);
      }
      if (rangesCover(marker.r, s.subjectId)) plan.duplicates++;
      else fresh.push(s);
    }
    if (fresh.length === 0) continue; // nothing new: the marker stays as it is (no write for a pure redelivery)
    const room = Math.max(0, maxRevisionSubjects - marker.n);
    const taken = fresh.length > room ? fresh.slice(0, room) : fresh;
    refuse(`${SUBJECT_LIMIT_PREFIX}${maxRevisionSubjects} subjects in bucket ${g.bucketStartSec} revision ${g.revision}`, fresh.length - taken.length);
    if (taken.length === 0) continue;
    let add: string[];
    if (run && taken === fresh) {
      // The whole run was seen: every subject of this revision in [first, last] was in it.
      add = [g.items[0]!.subjectId, g.items[g.items.length - 1]!.subjectId];
    } else {
      // Points: a run cut by the subject limit records only what it applied, exactly.
      add = new Array(taken.length * 2);
      for (let i = 0; i < taken.length; i++) add[2 * i] = add[2 * i + 1] = taken[i]!.subjectId;
    }
    plan.markers.push({ key: g.key, marker: { n: marker.n + taken.length, r: mergeRanges(marker.r, add) } });
    for (const s of taken) plan.apply.push(s);
  }
  return plan;
}
