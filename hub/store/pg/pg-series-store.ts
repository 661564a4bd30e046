/**
 * SeriesStore on PostgreSQL (contract: hub/store/series-store.ts; schema and layout:
 * migrations/002_series.sql). Several hub processes share one database; the database decides.
 *
 * applyBatch is ONE transaction, READ COMMITTED:
 *  1. read the pruned horizon; refuse too old summaries (clock horizon and pruned horizon) and a subject
 *     repeated inside its (bucket, revision) group (content-dedup.ts's reasons);
 *  2. INSERT the identities (edge, bucket, revision, subject) into series_applied ON CONFLICT DO NOTHING
 *     RETURNING: only the returned ones are new. Why READ COMMITTED is enough: the PRIMARY KEY decides,
 *     not a snapshot. A second transaction inserting an identity that a first one inserted and has not
 *     committed waits for it, then skips the row if it committed (or inserts it if it rolled back), so two
 *     hubs applying the same batch at once apply each identity once, and no read of ours decides anything
 *     that another transaction could change behind it;
 *  3. add the new ones' count to series_applied_revisions (a row lock, so concurrent batches of one
 *     revision queue there) and take back, in batch order, what exceeds maxRevisionSubjects;
 *  4. multi-row upserts (unnest of arrays: one statement per table, whatever the batch size) of series
 *     (ON CONFLICT DO UPDATE adds the counters), series_subjects, series_coverage; the outbox row.
 * Rows are written in primary-key order in every statement, so two transactions lock common rows in
 * the same order and cannot deadlock on them; a deadlock or serialization failure is retried anyway.
 *
 * Dedup records are exact identities, not content-dedup.ts's subject ranges: the PRIMARY KEY can decide
 * a point, not a range. For an edge that keeps the identity rule (a re-emitted revision holds a subset of
 * its subjects) both decide the same; a subject inside a recorded range that was never applied is
 * applied here and not by the KV backend. So `inRun` plays no part here: it only decides what a range may cover.
 *
 * Partitions: a month's partitions are created by series_ensure_month() in a short transaction of its
 * own the first time this process meets the month (then cached), never inside the batch's. At most once
 * an hour, series_prune_applied() drops the months of identities that ended before the horizon.
 */
import type pg from 'pg';
import { silentLogger, type Logger } from '../../../common/logger';
import { subjectLabel } from '../../../common/subject-id';
import { tooOldReason } from '../../ingest/content-dedup';
import type { SeriesPoint, SlotColumns, SubjectInfo } from '../../ports';
import { DEFAULT_SERIES_LIMITS, type ApplyBatchInput, type ApplyBatchResult, type GuardedSummary, type SeriesStore, type SeriesStoreLimits, type WaitingStored } from '../series-store';
import { encodeStoredBatch } from '../stored-outbox';
import type { PgPool } from './pg-pool';

const SLOT_SEC = 300;
/** Housekeeping of expired identities (a DROP of whole months) runs at most this often per process. */
export const PRUNE_INTERVAL_MS = 3_600_000;

/** PostgreSQL error codes this store acts on. */
const DEADLOCK = '40P01';
const SERIALIZATION_FAILURE = '40001';
/** "no partition of relation ... found for row": a month dropped or missing behind our cache. */
const NO_PARTITION = '23514';
const RETRIES = 3;

export interface PgSeriesStoreDeps {
  /** A migrated database (migrations.ts; 002_series.sql is this store's schema). The store never ends the pool. */
  pool: PgPool;
  limits?: Partial<SeriesStoreLimits>;
  /** Retried transactions and failed housekeeping are reported here. */
  log?: Logger;
}

/** content-dedup.ts's refusal texts (subjectLimitRefusals counts by the "more than " prefix). */
const repeatedReason = (bucketStartSec: number, revision: number) => `subject repeated within bucket ${bucketStartSec} revision ${revision}`;
const overLimitReason = (max: number, bucketStartSec: number, revision: number) => `more than ${max} subjects in bucket ${bucketStartSec} revision ${revision}`;

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** UTC month start of a Unix second (the partition it falls in). */
function monthOf(sec: number): number {
  const d = new Date(sec * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
}

interface Group { bucketStartSec: number; revision: number; items: number[] }

const SQL = {
  // One round trip: BEGIN (simple protocol, several statements), the pruned horizon, and the outbox's
  // storedSeq (drawn for every delivery: a sequence may have gaps, and a duplicate leaves one).
  begin: `BEGIN; SELECT pruned_below::float8 AS below, nextval('series_stored_seq')::float8 AS seq FROM series_applied_horizon`,
  applied: `INSERT INTO series_applied (edge_id, bucket_start, revision, subject_id)
    SELECT $1, b, r, s FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS t(b, r, s)
    ON CONFLICT DO NOTHING RETURNING bucket_start::float8 AS b, revision::float8 AS r, subject_id AS s`,
  revisions: `INSERT INTO series_applied_revisions AS a (edge_id, bucket_start, revision, subjects)
    SELECT $1, b, r, n FROM unnest($2::bigint[], $3::bigint[], $4::int[]) AS t(b, r, n)
    ON CONFLICT (edge_id, bucket_start, revision) DO UPDATE SET subjects = a.subjects + excluded.subjects
    RETURNING bucket_start::float8 AS b, revision::float8 AS r, subjects AS n`,
  unapply: `DELETE FROM series_applied WHERE edge_id = $1 AND bucket_start = $2 AND revision = $3 AND subject_id = ANY($4::text[])`,
  unapplyCount: 'UPDATE series_applied_revisions SET subjects = subjects - $4 WHERE edge_id = $1 AND bucket_start = $2 AND revision = $3',
  series: `INSERT INTO series AS s (operator_id, subject_id, bucket_start, bytes_in, bytes_out, packets_in, packets_out, flows_in, flows_out)
    SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
    ON CONFLICT (operator_id, subject_id, bucket_start) DO UPDATE SET
      bytes_in = s.bytes_in + excluded.bytes_in, bytes_out = s.bytes_out + excluded.bytes_out,
      packets_in = s.packets_in + excluded.packets_in, packets_out = s.packets_out + excluded.packets_out,
      flows_in = s.flows_in + excluded.flows_in, flows_out = s.flows_out + excluded.flows_out`,
  // Most batches move last_seen forward; rows whose span does not change are left unwritten.
  subjects: `INSERT INTO series_subjects AS s (operator_id, subject_id, kind, label, first_seen, last_seen)
    SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
    ON CONFLICT (operator_id, subject_id) DO UPDATE SET
      first_seen = least(s.first_seen, excluded.first_seen), last_seen = greatest(s.last_seen, excluded.last_seen)
    WHERE excluded.first_seen < s.first_seen OR excluded.last_seen > s.last_seen`,
  // Last, so the coverage row every edge of the operator shares for a new bucket is held the shortest.
  coverageAndOutbox: `WITH c AS (INSERT INTO series_coverage (operator_id, bucket_start) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING)
    INSERT INTO series_stored_outbox (edge_id, stored_seq, tenant_id, payload) VALUES ($3, $4, $1, $5)`,
};

export function createPgSeriesStore(deps: PgSeriesStoreDeps): SeriesStore {
  const { pool } = deps;
  const limits: SeriesStoreLimits = { ...DEFAULT_SERIES_LIMITS, ...deps.limits };
  const log = deps.log ?? silentLogger;
  const knownMonths = new Set<number>();
  let lastPruneMs = -Infinity;

  /** Runs fn inside a transaction opened by `begin` (BEGIN, possibly followed by statements whose results fn gets). */
  async function inTransaction<T>(fn: (c: pg.PoolClient, begun: pg.QueryResult[]) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const client = await pool.connect();
    // A connection lost while checked out also emits 'error' (the pool listens only to idle ones): the
    // running query rejects with it, which is what reports it.
    const onError = () => {};
    client.on('error', onError);
    try {
      const begun = await client.query(begin) as unknown as pg.QueryResult | pg.QueryResult[];
      const result = await fn(client, Array.isArray(begun) ? begun : [begun]);
      await client.query('COMMIT');
      client.off('error', onError);
      client.release();
      return result;
    } catch (err) {
      // A connection whose ROLLBACK fails is broken: release(err) closes it instead of pooling it.
      try { await client.query('ROLLBACK'); client.off('error', onError); client.release(); } catch (rollbackErr) { client.release(rollbackErr as Error); }
      throw err;
    }
  }

  /**
   * The partitions of every month the batch touches (see series_ensure_month in 002_series.sql); not
   * for buckets the clock's horizon refuses anyway, so an edge cannot make months of years past.
   */
  async function ensureMonths(summaries: readonly GuardedSummary[], nowMs: number): Promise<void> {
    const oldestSec = Math.floor(nowMs / 1000) - limits.dedupHorizonSec;
    let missing: Set<number> | undefined;
    for (const s of summaries) {
      if (s.bucketStartSec < oldestSec) continue;
      const m = monthOf(s.bucketStartSec);
      if (!knownMonths.has(m)) (missing ??= new Set()).add(m);
    }
    for (const m of missing ?? []) {
      await pool.query('SELECT series_ensure_month($1)', [m]);
      knownMonths.add(m);
    }
  }

  /** Drops expired months of identities, at most once an hour; a failure (lock timeout) waits for the next hour. */
  async function maybePrune(nowMs: number): Promise<void> {
    if (nowMs - lastPruneMs < PRUNE_INTERVAL_MS) return;
    lastPruneMs = nowMs;
    const cutoffSec = Math.floor(nowMs / 1000) - limits.dedupHorizonSec;
    try {
      const { rows } = await pool.query<{ below: number }>('SELECT series_prune_applied($1)::float8 AS below', [cutoffSec]);
      log.debug({ prunedBelowSec: rows[0]?.below }, 'series: expired dedup months dropped');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'series: could not drop expired dedup months; retrying in an hour');
    }
  }

  async function apply(c: pg.PoolClient, begun: pg.QueryResult[], input: ApplyBatchInput): Promise<ApplyBatchResult> {
    const { edgeId, operatorId, summaries } = input;
    const refused = new Map<string, number>();
    const refuse = (reason: string, n = 1) => { if (n > 0) refused.set(reason, (refused.get(reason) ?? 0) + n); };
    const result = (stored: GuardedSummary[], duplicates: number, tooOld: number, overSubjectLimit: number): ApplyBatchResult =>
      ({ outcome: stored.length > 0 ? 'applied' : 'duplicate', stored, duplicates, tooOld, overSubjectLimit, refused, markersPruned: 0 });

    const { below, seq: storedSeq } = begun[1]!.rows[0] as { below: number; seq: number };
    const oldestSec = Math.max(Math.floor(input.nowMs / 1000) - limits.dedupHorizonSec, below);

    // Groups by (bucket, revision), in batch order; too old summaries never reach them.
    let tooOld = 0;
    const groups = new Map<string, Group>();
    for (let i = 0; i < summaries.length; i++) {
      const s = summaries[i]!;
      if (s.bucketStartSec < oldestSec) { tooOld++; continue; }
      const key = `${s.bucketStartSec}/${s.revision}`;
      let g = groups.get(key);
      if (!g) { g = { bucketStartSec: s.bucketStartSec, revision: s.revision, items: [] }; groups.set(key, g); }
      g.items.push(i);
    }
    refuse(tooOldReason(limits.dedupHorizonSec), tooOld);

    // Candidates (indexes into summaries): a group that is not one sorted run may repeat a subject (a
    // run cannot; checked all the same, as a repeat inside one INSERT would be stored twice below).
    const candidates: number[] = [];
    for (const g of groups.values()) {
      const seen = new Set<string>();
      const unique: number[] = [];
      for (const i of g.items) {
        const id = summaries[i]!.subjectId;
        if (seen.has(id)) { refuse(repeatedReason(g.bucketStartSec, g.revision)); continue; }
        seen.add(id);
        unique.push(i);
        candidates.push(i);
      }
      g.items = unique;
    }
    if (candidates.length === 0) return result([], 0, tooOld, 0);

    // 2. The identities, in key order (lock order); the returned ones are new.
    const identityOrder = candidates.slice().sort((a, b) => {
      const x = summaries[a]!;
      const y = summaries[b]!;
      return x.bucketStartSec - y.bucketStartSec || x.revision - y.revision || byString(x.subjectId, y.subjectId);
    });
    const n = identityOrder.length;
    const bArr: number[] = new Array(n);
    const rArr: number[] = new Array(n);
    const sArr: string[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const s = summaries[identityOrder[k]!]!;
      bArr[k] = s.bucketStartSec; rArr[k] = s.revision; sArr[k] = s.subjectId;
    }
    const inserted = await c.query<{ b: number; r: number; s: string }>({ name: 'series-applied', text: SQL.applied, values: [edgeId, bArr, rArr, sArr] });
    const isNew = new Set<string>();
    for (const row of inserted.rows) isNew.add(`${row.b}/${row.r}/${row.s}`);
    const duplicates = candidates.length - isNew.size;
    if (isNew.size === 0) return result([], duplicates, tooOld, 0);

    // 3. The subject limit per (edge, bucket, revision), counted under the revision row's lock.
    const fresh = new Map<string, { g: Group; items: number[] }>();
    for (const [key, g] of groups) {
      const items = g.items.filter((i) => isNew.has(`${key}/${summaries[i]!.subjectId}`));
      if (items.length) fresh.set(key, { g, items });
    }
    const freshKeys = [...fresh.keys()].sort((a, b) => {
      const x = fresh.get(a)!.g;
      const y = fresh.get(b)!.g;
      return x.bucketStartSec - y.bucketStartSec || x.revision - y.revision;
    });
    const counted = await c.query<{ b: number; r: number; n: number }>({
      name: 'series-revisions', text: SQL.revisions,
      values: [edgeId, freshKeys.map((k) => fresh.get(k)!.g.bucketStartSec), freshKeys.map((k) => fresh.get(k)!.g.revision), freshKeys.map((k) => fresh.get(k)!.items.length)],
    });
    const keep = new Uint8Array(summaries.length);
    let overSubjectLimit = 0;
    for (const row of counted.rows) {
      const f = fresh.get(`${row.b}/${row.r}`)!;
      const room = Math.max(0, limits.maxRevisionSubjects - (row.n - f.items.length));
      const taken = f.items.length > room ? f.items.slice(0, room) : f.items;
      for (const i of taken) keep[i] = 1;
      const excess = f.items.length - taken.length;
      if (excess === 0) continue;
      // Rare (a hostile or broken edge): take back, in batch order, the identities beyond the limit.
      const dropped = f.items.slice(room).map((i) => summaries[i]!.subjectId);
      await c.query(SQL.unapply, [edgeId, row.b, row.r, dropped]);
      await c.query(SQL.unapplyCount, [edgeId, row.b, row.r, excess]);
      overSubjectLimit += excess;
      refuse(overLimitReason(limits.maxRevisionSubjects, row.b, row.r), excess);
    }
    const stored: GuardedSummary[] = [];
    for (let i = 0; i < summaries.length; i++) if (keep[i]) stored.push(summaries[i]!);
    if (stored.length === 0) return result([], duplicates, tooOld, overSubjectLimit);

    // 4. Series: one row per (subject, bucket); revisions of one bucket in one batch are summed first
    // (ON CONFLICT DO UPDATE may not touch a row twice in one statement).
    const points = new Map<string, { s: GuardedSummary; v: number[] }>();
    const spans = new Map<string, { kind: string; first: number; last: number }>();
    const buckets = new Set<number>();
    for (const s of stored) {
      const key = `${s.subjectId}\u0000${s.bucketStartSec}`;
      const p = points.get(key);
      if (p) {
        p.v[0] += s.bytesIn; p.v[1] += s.bytesOut; p.v[2] += s.packetsIn; p.v[3] += s.packetsOut; p.v[4] += s.flowsIn; p.v[5] += s.flowsOut;
      } else points.set(key, { s, v: [s.bytesIn, s.bytesOut, s.packetsIn, s.packetsOut, s.flowsIn, s.flowsOut] });
      const span = spans.get(s.subjectId);
      if (!span) spans.set(s.subjectId, { kind: s.kind, first: s.bucketStartSec, last: s.bucketStartSec });
      else { if (s.bucketStartSec < span.first) span.first = s.bucketStartSec; if (s.bucketStartSec > span.last) span.last = s.bucketStartSec; }
      buckets.add(s.bucketStartSec);
    }
    const rows = [...points.values()].sort((x, y) => byString(x.s.subjectId, y.s.subjectId) || x.s.bucketStartSec - y.s.bucketStartSec);
    const col = (f: number) => rows.map((p) => p.v[f]!);
    await c.query({
      name: 'series-upsert', text: SQL.series,
      values: [operatorId, rows.map((p) => p.s.subjectId), rows.map((p) => p.s.bucketStartSec), col(0), col(1), col(2), col(3), col(4), col(5)],
    });
    const subjectIds = [...spans.keys()].sort(byString);
    await c.query({
      name: 'series-subjects', text: SQL.subjects,
      values: [operatorId, subjectIds, subjectIds.map((id) => spans.get(id)!.kind), subjectIds.map(subjectLabel),
        subjectIds.map((id) => spans.get(id)!.first), subjectIds.map((id) => spans.get(id)!.last)],
    });
    const payload = encodeStoredBatch(input, stored, storedSeq);
    await c.query({
      name: 'series-coverage-outbox', text: SQL.coverageAndOutbox,
      values: [operatorId, [...buckets].sort((a, b) => a - b), edgeId, storedSeq, payload],
    });
    return { ...result(stored, duplicates, tooOld, overSubjectLimit), waiting: { edgeId, tenantId: operatorId, storedSeq, payload } };
  }

  return {
    async applyBatch(input) {
      await ensureMonths(input.summaries, input.nowMs);
      await maybePrune(input.nowMs);
      for (let attempt = 1; ; attempt++) {
        try {
          return await inTransaction((c, begun) => apply(c, begun, input), SQL.begin);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (attempt >= RETRIES || (code !== DEADLOCK && code !== SERIALIZATION_FAILURE && code !== NO_PARTITION)) throw err;
          log.warn({ edgeId: input.edgeId, seq: input.seq, code, attempt }, 'series: batch transaction retried');
          if (code === NO_PARTITION) {
            // A month this process took for created is gone (pruned by another hub meanwhile): ask again;
            // series_ensure_month will not bring back a pruned month, and the retry refuses its buckets.
            knownMonths.clear();
            await ensureMonths(input.summaries, input.nowMs);
          }
        }
      }
    },

    async readSeries(operatorId, subjectId, fromSec, toSec): Promise<SeriesPoint[]> {
      if (toSec <= fromSec) return [];
      const { rows } = await pool.query<number[]>({
        name: 'series-read', rowMode: 'array',
        text: `SELECT bucket_start::float8, bytes_in::float8, bytes_out::float8, packets_in::float8, packets_out::float8, flows_in::float8, flows_out::float8
          FROM series WHERE operator_id = $1 AND subject_id = $2 AND bucket_start >= $3 AND bucket_start < $4 ORDER BY bucket_start`,
        values: [operatorId, subjectId, fromSec, toSec],
      });
      return rows.map((r) => ({ bucketStartSec: r[0]!, bytesIn: r[1]!, bytesOut: r[2]!, packetsIn: r[3]!, packetsOut: r[4]!, flowsIn: r[5]!, flowsOut: r[6]! }));
    },

    async readSlotColumns(operatorId, subjectId, firstSlotSec, n, into: SlotColumns): Promise<void> {
      if (n <= 0) return;
      const { rows } = await pool.query<number[]>({
        name: 'series-read-columns', rowMode: 'array',
        text: `SELECT bucket_start::float8, bytes_in::float8, bytes_out::float8
          FROM series WHERE operator_id = $1 AND subject_id = $2 AND bucket_start >= $3 AND bucket_start < $4`,
        values: [operatorId, subjectId, firstSlotSec, firstSlotSec + n * SLOT_SEC],
      });
      for (const r of rows) {
        const i = (r[0]! - firstSlotSec) / SLOT_SEC;
        into.bytesIn[i] += r[1]!;
        into.bytesOut[i] += r[2]!;
        into.reported[i] = 1;
      }
    },

    async listSubjects(operatorId): Promise<SubjectInfo[]> {
      // COLLATE "C": byte order, the same as the KV backend's JS string order for our ASCII ids.
      const { rows } = await pool.query<{ subject_id: string; kind: SubjectInfo['kind']; label: string; first: number; last: number }>({
        name: 'series-subjects-list',
        text: `SELECT subject_id, kind, label, first_seen::float8 AS first, last_seen::float8 AS last
          FROM series_subjects WHERE operator_id = $1 ORDER BY subject_id COLLATE "C"`,
        values: [operatorId],
      });
      return rows.map((r) => ({ subjectId: r.subject_id, kind: r.kind, label: r.label, firstSeenSec: r.first, lastSeenSec: r.last }));
    },

    async reportedBucketCount(operatorId, fromSec, toSec): Promise<number> {
      if (toSec <= fromSec) return 0;
      const { rows } = await pool.query<{ n: number }>({
        name: 'series-coverage-count',
        text: 'SELECT count(*)::float8 AS n FROM series_coverage WHERE operator_id = $1 AND bucket_start >= $2 AND bucket_start < $3',
        values: [operatorId, fromSec, toSec],
      });
      return rows[0]!.n;
    },

    // Every hub's entries: the outbox is shared, and an edge's ack waits for all of that edge's (the
    // primary key (edge_id, stored_seq) serves the per-edge read, which runs before every ack).
    async listWaitingStored(edgeId): Promise<WaitingStored[]> {
      const columns = 'SELECT edge_id, tenant_id, stored_seq::float8 AS seq, payload FROM series_stored_outbox';
      const { rows } = await pool.query<{ edge_id: string; tenant_id: string; seq: number; payload: Buffer }>(edgeId === undefined
        ? { text: `${columns} ORDER BY edge_id COLLATE "C", stored_seq` }
        : { name: 'series-outbox-edge', text: `${columns} WHERE edge_id = $1 ORDER BY stored_seq`, values: [edgeId] });
      return rows.map((r) => ({ edgeId: r.edge_id, tenantId: r.tenant_id, storedSeq: r.seq, payload: new Uint8Array(r.payload) }));
    },

    async deleteWaitingStored(entries): Promise<void> {
      if (entries.length === 0) return;
      await pool.query(
        'DELETE FROM series_stored_outbox WHERE (edge_id, stored_seq) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))',
        [entries.map((e) => e.edgeId), entries.map((e) => e.storedSeq)],
      );
    },

    // One transaction: a purge never leaves an operator half deleted. Dedup identities are per edge and
    // expire with the horizon (a redelivery after the purge stays a duplicate, as on the KV backend).
    purgeOperator: (operatorId) => inTransaction(async (c) => {
      let deleted = 0;
      for (const table of ['series', 'series_subjects', 'series_coverage']) {
        deleted += (await c.query(`DELETE FROM ${table} WHERE operator_id = $1`, [operatorId])).rowCount ?? 0;
      }
      return { deleted };
    }),
  };
}
