import type { KeyValueStore, KvOp } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { createSerialQueue } from '../../common/serial-queue';
import { subjectLabel } from '../../common/subject-id';
import type { SeriesPoint, SeriesReader, SubjectInfo } from '../ports';
import {
  addToSlot, countCoverage, DAY_SEC, dayKey, dayStartSecOf, decodeDayChunk, decodeDayChunkColumns, decodeDayChunkPoints, emptyCoverage,
  emptyDayChunk, encodeDayChunk, isSlotPresent, markCoverage, SLOT_SEC, SLOTS_PER_DAY, slotOf, type DayChunk,
} from './day-chunk';
import type { SummaryInput } from './series-store';

/**
 * Runs inside the store's serialized section, before anything is read for the write, with the
 * summaries given to add(). Returns undefined to write nothing (e.g. every summary was already
 * applied), or the summaries to write (a subset of those given, e.g. without duplicates) and extra
 * operations to commit in the SAME atomic write as their series update (e.g. the dedup markers).
 */
export type WriteGuard<S extends SummaryInput = SummaryInput> = (summaries: readonly S[]) => Promise<{ ops: KvOp[]; summaries: S[] } | undefined>;

/**
 * The KV engine under the SeriesStore (kv-series-store.ts adds the dedup and the outbox through a
 * guard; nothing else uses this directly):
 * - `add` is ADDITIVE: adding the same bucket twice sums the counts. Only the summaries the guard
 *   returns are added, and its ops are committed atomically with that series update; `applied` is
 *   false only when the guard returned undefined (nothing written), `stored` is how many were added;
 * - `add` and `purgeOperator` calls are serialized: no two read-modify-writes of a chunk interleave,
 *   and a guard sees every earlier add's writes; `add` resolves only after the KV write completed.
 */
export interface KvSummaryStore extends SeriesReader {
  add<S extends SummaryInput>(operatorId: string, summaries: S[], guard?: WriteGuard<S>): Promise<{ applied: boolean; stored: number }>;
  purgeOperator(operatorId: string): Promise<{ deletedKeys: number }>;
}

/**
 * Key layout (all under prefixes no other hub module uses):
 *   series/<operatorId>/<encoded subjectId>/<YYYY-MM-DD>  day chunk (day-chunk.ts binary)
 *   series-cov/<operatorId>/<YYYY-MM-DD>                  coverage bitmap, 36 bytes
 *   series-subj/<operatorId>/<encoded subjectId>          JSON {subjectId, kind, firstSeenSec, lastSeenSec}
 * Subject ids contain ':' and '/', so they are URI-encoded: a '/' in a key always separates levels,
 * and one subject's days sort together, so a month is one range iteration of ~30 entries.
 */
/** Above this many days a read iterates the range instead of asking for every day's key. */
const MANY_DAYS = 100;
const enc = (subjectId: string) => encodeURIComponent(subjectId);
const chunkKey = (op: string, subjectId: string, dayStartSec: number) => `series/${op}/${enc(subjectId)}/${dayKey(dayStartSec)}`;
const coverageKey = (op: string, dayStartSec: number) => `series-cov/${op}/${dayKey(dayStartSec)}`;
const subjectKey = (op: string, subjectId: string) => `series-subj/${op}/${enc(subjectId)}`;

interface SubjectMeta { subjectId: string; kind: 'interface' | 'ip_group'; firstSeenSec: number; lastSeenSec: number }

/** The day start of a key ending in "YYYY-MM-DD" at `at`, without building a Date string. */
function dayStartSecOfKey(key: string, at: number): number {
  const year = Number(key.slice(at, at + 4));
  const month = Number(key.slice(at + 5, at + 7));
  const day = Number(key.slice(at + 8, at + 10));
  return Date.UTC(year, month - 1, day) / 1000;
}

/**
 * Bulk load of whole days into an operator whose series are still EMPTY (benches, a migration):
 * the put operations that store one subject's day chunks, its subject record, and the coverage
 * bitmaps, in this store's key layout and encoding, for the caller to commit in large atomic
 * kv.write batches. They OVERWRITE, they do not add: never use them where data may already exist
 * (ingest goes through add(), which reads, adds and writes under the store's queue).
 */
export function seriesLoadOps(
  operatorId: string, subjectId: string, kind: 'interface' | 'ip_group', days: readonly { dayStartSec: number; chunk: DayChunk }[],
): KvOp[] {
  const ops: KvOp[] = [];
  let firstSeenSec = Infinity;
  let lastSeenSec = -Infinity;
  for (const { dayStartSec, chunk } of days) {
    ops.push({ type: 'put', key: chunkKey(operatorId, subjectId, dayStartSec), value: encodeDayChunk(chunk) });
    let first = 0;
    while (first < SLOTS_PER_DAY && !isSlotPresent(chunk, first)) first++;
    if (first === SLOTS_PER_DAY) continue;
    let last = SLOTS_PER_DAY - 1;
    while (!isSlotPresent(chunk, last)) last--;
    firstSeenSec = Math.min(firstSeenSec, dayStartSec + first * SLOT_SEC);
    lastSeenSec = Math.max(lastSeenSec, dayStartSec + last * SLOT_SEC);
  }
  if (firstSeenSec !== Infinity) {
    const meta: SubjectMeta = { subjectId, kind, firstSeenSec, lastSeenSec };
    ops.push({ type: 'put', key: subjectKey(operatorId, subjectId), value: encodeJson(meta) });
  }
  return ops;
}

/** Companion of seriesLoadOps: the operator's coverage bitmap of each day (same overwrite caveat). */
export function coverageLoadOps(operatorId: string, days: readonly { dayStartSec: number; bitmap: Uint8Array }[]): KvOp[] {
  return days.map(({ dayStartSec, bitmap }) => ({ type: 'put' as const, key: coverageKey(operatorId, dayStartSec), value: Uint8Array.from(bitmap) }));
}

export function createKvSummaryStore(kv: KeyValueStore): KvSummaryStore {
  // One queue for every read-modify-write: simple, and enough for a hub ingesting every 5 minutes.
  const queue = createSerialQueue();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => queue.run(fn);

  async function applyAdd<S extends SummaryInput>(operatorId: string, given: S[], guard?: WriteGuard<S>): Promise<{ applied: boolean; stored: number }> {
    let summaries: readonly S[] = given;
    let extraOps: KvOp[] = [];
    if (guard) {
      const decided = await guard(given);
      if (decided === undefined) return { applied: false, stored: 0 };
      ({ summaries, ops: extraOps } = decided);
    }

    const chunkKeys = new Map<string, { subjectId: string; dayStartSec: number }>();
    const coverageKeys = new Map<string, number>();
    const subjectKeys = new Map<string, SummaryInput>();
    // Each summary's three keys, built once (a batch holds every subject of an edge).
    const keysOf: { chunk: string; coverage: string; subject: string }[] = new Array(summaries.length);
    const encoded = new Map<string, string>();
    for (let i = 0; i < summaries.length; i++) {
      const s = summaries[i]!;
      const day = dayStartSecOf(s.bucketStartSec);
      let e = encoded.get(s.subjectId);
      if (e === undefined) { e = enc(s.subjectId); encoded.set(s.subjectId, e); }
      const k = { chunk: `series/${operatorId}/${e}/${dayKey(day)}`, coverage: coverageKey(operatorId, day), subject: `series-subj/${operatorId}/${e}` };
      keysOf[i] = k;
      if (!chunkKeys.has(k.chunk)) chunkKeys.set(k.chunk, { subjectId: s.subjectId, dayStartSec: day });
      coverageKeys.set(k.coverage, day);
      subjectKeys.set(k.subject, s);
    }
    const keys = [...chunkKeys.keys(), ...coverageKeys.keys(), ...subjectKeys.keys()];
    const values = await kv.getMany(keys);
    const byKey = new Map(keys.map((k, i) => [k, values[i]]));

    const chunks = new Map<string, DayChunk>();
    for (const key of chunkKeys.keys()) {
      const raw = byKey.get(key);
      chunks.set(key, raw ? decodeDayChunk(raw) : emptyDayChunk());
    }
    const coverage = new Map<string, Uint8Array>();
    for (const key of coverageKeys.keys()) {
      const raw = byKey.get(key);
      coverage.set(key, raw ? Uint8Array.from(raw) : emptyCoverage());
    }
    const metas = new Map<string, { meta: SubjectMeta; changed: boolean }>();
    for (const [key, s] of subjectKeys) {
      const raw = byKey.get(key);
      const meta = raw ? decodeJson<SubjectMeta>(raw) : { subjectId: s.subjectId, kind: s.kind, firstSeenSec: s.bucketStartSec, lastSeenSec: s.bucketStartSec };
      metas.set(key, { meta, changed: !raw });
    }

    const changedCoverage = new Set<string>();
    for (let i = 0; i < summaries.length; i++) {
      const s = summaries[i]!;
      const k = keysOf[i]!;
      const slot = slotOf(s.bucketStartSec);
      addToSlot(chunks.get(k.chunk)!, slot, s);
      if (markCoverage(coverage.get(k.coverage)!, slot)) changedCoverage.add(k.coverage);
      const m = metas.get(k.subject)!;
      if (s.bucketStartSec < m.meta.firstSeenSec) { m.meta.firstSeenSec = s.bucketStartSec; m.changed = true; }
      if (s.bucketStartSec > m.meta.lastSeenSec) { m.meta.lastSeenSec = s.bucketStartSec; m.changed = true; }
    }

    const ops: KvOp[] = [];
    for (const [key, chunk] of chunks) ops.push({ type: 'put', key, value: encodeDayChunk(chunk) });
    for (const key of changedCoverage) ops.push({ type: 'put', key, value: coverage.get(key)! });
    for (const [key, m] of metas) if (m.changed) ops.push({ type: 'put', key, value: encodeJson(m.meta) });
    for (const op of extraOps) ops.push(op);
    await kv.write(ops);
    return { applied: true, stored: summaries.length };
  }

  /**
   * The stored day chunks of one subject that overlap [fromSec, toSec), in day order. Up to
   * MANY_DAYS days (a bill's month, a graph's quarter) the day keys are known, so one getMany
   * fetches them all in one call to the backend: measured on LevelDB, a month is ~3x cheaper than
   * iterating the range entry by entry. Longer spans iterate the range (days without data cost nothing).
   */
  async function dayChunks(operatorId: string, subjectId: string, fromSec: number, toSec: number): Promise<[number, Uint8Array][]> {
    const out: [number, Uint8Array][] = [];
    const prefix = `series/${operatorId}/${enc(subjectId)}/`;
    const firstDay = dayStartSecOf(fromSec);
    const endDay = dayStartSecOf(toSec - 1) + DAY_SEC;
    const days = (endDay - firstDay) / DAY_SEC;
    if (days <= MANY_DAYS) {
      const keys: string[] = new Array(days);
      for (let d = 0; d < days; d++) keys[d] = prefix + dayKey(firstDay + d * DAY_SEC);
      const values = await kv.getMany(keys);
      for (let d = 0; d < days; d++) {
        const raw = values[d];
        if (raw !== undefined) out.push([firstDay + d * DAY_SEC, raw]);
      }
      return out;
    }
    for await (const [key, raw] of kv.entries({ gte: prefix + dayKey(firstDay), lt: prefix + dayKey(endDay) })) {
      out.push([dayStartSecOfKey(key, prefix.length), raw]);
    }
    return out;
  }

  return {
    add: (operatorId, summaries, guard) => serialized(() => applyAdd(operatorId, summaries, guard)),

    async readSeries(operatorId, subjectId, fromSec, toSec): Promise<SeriesPoint[]> {
      const points: SeriesPoint[] = [];
      if (toSec <= fromSec) return points;
      for (const [dayStartSec, raw] of await dayChunks(operatorId, subjectId, fromSec, toSec)) decodeDayChunkPoints(raw, dayStartSec, fromSec, toSec, points);
      return points;
    },

    async readSlotColumns(operatorId, subjectId, firstSlotSec, n, into): Promise<void> {
      if (n <= 0) return;
      for (const [dayStartSec, raw] of await dayChunks(operatorId, subjectId, firstSlotSec, firstSlotSec + n * SLOT_SEC)) {
        decodeDayChunkColumns(raw, dayStartSec, firstSlotSec, n, into);
      }
    },

    async listSubjects(operatorId): Promise<SubjectInfo[]> {
      const prefix = `series-subj/${operatorId}/`;
      const out: SubjectInfo[] = [];
      for await (const [, raw] of kv.entries({ gte: prefix, lt: prefix + '\uffff' })) {
        const m = decodeJson<SubjectMeta>(raw);
        out.push({ subjectId: m.subjectId, kind: m.kind, label: subjectLabel(m.subjectId), firstSeenSec: m.firstSeenSec, lastSeenSec: m.lastSeenSec });
      }
      return out.sort((a, b) => (a.subjectId < b.subjectId ? -1 : a.subjectId > b.subjectId ? 1 : 0));
    },

    // Inside the queue so an add running meanwhile cannot leave a half-purged operator behind.
    purgeOperator: (operatorId) => serialized(async () => {
      let deletedKeys = 0;
      for (const prefix of [`series/${operatorId}/`, `series-cov/${operatorId}/`, `series-subj/${operatorId}/`]) {
        let batch: KvOp[] = [];
        for await (const [key] of kv.entries({ gte: prefix, lt: prefix + '\uffff' })) {
          batch.push({ type: 'del', key });
          if (batch.length === 1000) { await kv.write(batch); deletedKeys += batch.length; batch = []; }
        }
        if (batch.length) { await kv.write(batch); deletedKeys += batch.length; }
      }
      return { deletedKeys };
    }),

    async reportedBucketCount(operatorId, fromSec, toSec): Promise<number> {
      if (toSec <= fromSec) return 0;
      const prefix = `series-cov/${operatorId}/`;
      const range = { gte: prefix + dayKey(dayStartSecOf(fromSec)), lt: prefix + dayKey(dayStartSecOf(toSec - 1) + DAY_SEC) };
      let n = 0;
      for await (const [key, bitmap] of kv.entries(range)) {
        const dayStartSec = dayStartSecOfKey(key, prefix.length);
        // Slots whose start lies in [fromSec, toSec).
        const fromSlot = Math.ceil((fromSec - dayStartSec) / SLOT_SEC);
        const toSlot = Math.ceil((toSec - dayStartSec) / SLOT_SEC);
        n += countCoverage(bitmap, fromSlot, toSlot);
      }
      return n;
    },
  };
}
