import t from 'tap';
import type { Test } from 'tap';
import { subjectLimitRefusals } from '../../../hub/ingest/content-dedup';
import { createPgPool, type PgPool } from '../../../hub/store/pg/pg-pool';
import { migrate } from '../../../hub/store/pg/migrations';
import { createPgSeriesStore } from '../../../hub/store/pg/pg-series-store';
import type { ApplyBatchInput, GuardedSummary, SeriesStoreLimits } from '../../../hub/store/series-store';
import { storedBatchCodec } from '../../../proto/codec';
import { captureWarnings } from '../../helpers/capture-logger';
import { startPostgres } from '../../helpers/postgres';
import { seriesStoreContract } from './series-store.contract';
import { createManualClock } from '../../../common/clock';
import { createSeriesRoutes } from '../../../hub/store/series-routes';
import type { Principal } from '../../../hub/http/principal';
import { pgTopSubjects } from '../../../hub/store/pg/pg-top-subjects';
import { callApi, createTestApp } from '../../helpers/test-app';

const DAY0 = Date.UTC(2026, 10, 1) / 1000; // 2026-11-01T00:00Z
const NOW_MS = (DAY0 + 10 * 86_400) * 1000;
const LIMITS: SeriesStoreLimits = { dedupHorizonSec: 40 * 86_400, maxRevisionSubjects: 500_000, maxClockSkewSec: 300 };

function summary(subjectId: string, bucketStartSec: number, bytesIn: number, extra: Partial<GuardedSummary> = {}): GuardedSummary {
  return {
    subjectId, kind: subjectId.startsWith('ipg:') ? 'ip_group' : 'interface', bucketStartSec, revision: 0, inRun: true,
    bytesIn, bytesOut: bytesIn * 2, packetsIn: 10, packetsOut: 20, flowsIn: 1, flowsOut: 2, ...extra,
  };
}

/** A sorted run of n interface subjects of one bucket, as an edge emits it. */
function run(bucketStartSec: number, n: number, bytesIn = 100, first = 0): GuardedSummary[] {
  const out: GuardedSummary[] = [];
  for (let i = first; i < first + n; i++) out.push(summary(`if:10.0.0.1/${String(i).padStart(6, '0')}`, bucketStartSec, bytesIn + i));
  return out;
}

const batch = (summaries: GuardedSummary[], extra: Partial<ApplyBatchInput> = {}): ApplyBatchInput =>
  ({ operatorId: 'isp1', edgeId: 'edge-1', seq: 1, nowMs: NOW_MS, summaries, ...extra });

t.test('PostgreSQL series store', async (t) => {
  const server = await startPostgres(t);
  if (!server) return t.pass('skipped: no PostgreSQL on this machine');
  let dbN = 0;
  /** A fresh database per subtest, migrated; its pools end at the subtest's teardown. */
  async function freshDb(t: Test): Promise<{ pool: () => Promise<PgPool> }> {
    const name = `series_${dbN++}`;
    const admin = await createPgPool(server!.url, { maxConnections: 1 });
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = server!.url.replace(/\/[^/]+$/, `/${name}`);
    const pools: PgPool[] = [];
    t.teardown(async () => { for (const p of pools) if (!p.ending) await p.end(); });
    const pool = async () => { const p = await createPgPool(url, { maxConnections: 4 }); pools.push(p); return p; };
    await migrate(await pool());
    return { pool };
  }

  t.test('applies a batch: series, subjects, coverage, slot columns and one outbox entry', async (t) => {
    const db = await freshDb(t);
    const store = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const big = 2 ** 50;
    const r = await store.applyBatch(batch([
      summary('if:10.0.0.1/5', DAY0, 7), summary('if:10.0.0.1/5', DAY0 + 600, big), summary('ipg:cust-a', DAY0 + 600, 0, { bytesOut: 0, inRun: false }),
    ]));
    t.equal(r.outcome, 'applied');
    t.equal(r.stored.length, 3);
    t.same([r.duplicates, r.tooOld, r.overSubjectLimit, r.refused.size], [0, 0, 0, 0]);
    t.same(await store.readSeries('isp1', 'if:10.0.0.1/5', DAY0, DAY0 + 3600), [
      { bucketStartSec: DAY0, bytesIn: 7, bytesOut: 14, packetsIn: 10, packetsOut: 20, flowsIn: 1, flowsOut: 2 },
      { bucketStartSec: DAY0 + 600, bytesIn: big, bytesOut: big * 2, packetsIn: 10, packetsOut: 20, flowsIn: 1, flowsOut: 2 },
    ]);
    t.same(await store.readSeries('isp1', 'if:10.0.0.1/5', DAY0 + 300, DAY0 + 600), [], 'to is exclusive');
    t.same(await store.readSeries('isp1', 'if:10.0.0.1/50', DAY0, DAY0 + 3600), [], 'a subject id prefix of another does not leak');
    t.same(await store.readSeries('isp2', 'if:10.0.0.1/5', DAY0, DAY0 + 3600), [], 'operators are separate');
    t.same(await store.listSubjects('isp1'), [
      { subjectId: 'if:10.0.0.1/5', kind: 'interface', label: '10.0.0.1 ifIndex 5', firstSeenSec: DAY0, lastSeenSec: DAY0 + 600 },
      { subjectId: 'ipg:cust-a', kind: 'ip_group', label: 'cust-a', firstSeenSec: DAY0 + 600, lastSeenSec: DAY0 + 600 },
    ]);
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 3600), 2);
    t.equal(await store.reportedBucketCount('isp1', DAY0 + 1, DAY0 + 3600), 1, 'a slot counts when its start is in the window');
    const cols = { bytesIn: new Float64Array(4), bytesOut: new Float64Array(4), reported: new Uint8Array(4) };
    await store.readSlotColumns('isp1', 'if:10.0.0.1/5', DAY0 - 300, 4, cols);
    t.same([...cols.bytesIn], [0, 7, 0, big]);
    t.same([...cols.reported], [0, 1, 0, 1]);
    const waiting = await store.listWaitingStored();
    t.equal(waiting.length, 1);
    t.same(waiting[0], r.waiting, 'the entry returned is the one stored');
    const decoded = storedBatchCodec.decode(waiting[0]!.payload);
    t.equal(decoded.summaries.length, 3);
    t.equal(decoded.edgeSeq, 1);
    await store.deleteWaitingStored([{ edgeId: 'edge-1', storedSeq: waiting[0]!.storedSeq }, { edgeId: 'nobody', storedSeq: 1 }]);
    t.same(await store.listWaitingStored(), []);
  });

  t.test('redelivery: the same identities under any seq and batch boundaries are applied once; revisions add', async (t) => {
    const db = await freshDb(t);
    const store = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const first = run(DAY0, 10);
    t.equal((await store.applyBatch(batch(first))).stored.length, 10);
    const again = await store.applyBatch(batch(first, { seq: 99 }));
    t.same([again.outcome, again.stored.length, again.duplicates, again.waiting], ['duplicate', 0, 10, undefined]);
    // Overlapping run cut elsewhere: 5..14 -> 5..9 duplicates, 10..14 new.
    const overlap = await store.applyBatch(batch(run(DAY0, 10, 100, 5), { seq: 2 }));
    t.same([overlap.stored.length, overlap.duplicates], [5, 5]);
    t.same(overlap.stored.map((s) => s.subjectId), run(DAY0, 5, 100, 10).map((s) => s.subjectId), 'stored in input order');
    // A revision of the bucket adds to the first report.
    const rev = await store.applyBatch(batch([summary('if:10.0.0.1/000000', DAY0, 1000, { revision: 1 })], { seq: 3 }));
    t.equal(rev.stored.length, 1);
    const [point] = await store.readSeries('isp1', 'if:10.0.0.1/000000', DAY0, DAY0 + 300);
    t.equal(point!.bytesIn, 1100);
    // A non-run group repeating a subject: the repeat is refused, with content-dedup.ts's reason.
    const repeated = await store.applyBatch(batch([summary('ipg:a', DAY0, 1, { inRun: false }), summary('ipg:a', DAY0, 1, { inRun: false })], { seq: 4 }));
    t.same([repeated.stored.length, [...repeated.refused.values()]], [1, [1]]);
    t.match([...repeated.refused.keys()][0], /^subject repeated within bucket/);
    t.equal((await store.listWaitingStored()).length, 4, 'one outbox entry per applied call');
  });

  t.test('two stores on two pools applying the same batch at once store it once', async (t) => {
    const db = await freshDb(t);
    const a = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const b = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const summaries = [...run(DAY0, 500), ...run(DAY0 + 300, 500)];
    for (let round = 0; round < 5; round++) {
      const input = batch(summaries.map((s) => ({ ...s, revision: round })), { seq: round });
      const results = await Promise.all([a.applyBatch(input), b.applyBatch(input), a.applyBatch(input), b.applyBatch(input)]);
      t.equal(results.reduce((n, r) => n + r.stored.length, 0), 1000, `round ${round}: each summary stored once`);
      t.equal(results.filter((r) => r.outcome === 'applied').length, 1, `round ${round}: one call applied (the PK makes the others wait, then skip)`);
      t.equal(results.reduce((n, r) => n + r.duplicates, 0), 3000);
    }
    const points = await a.readSeries('isp1', 'if:10.0.0.1/000007', DAY0, DAY0 + 600);
    t.same(points.map((p) => p.bytesIn), [5 * 107, 5 * 107], 'five revisions, each added once');
    t.equal((await b.listWaitingStored()).length, 5);
  });

  t.test('two hubs, ten edges reporting the same IP groups at once, every batch delivered twice: totals exact', async (t) => {
    const db = await freshDb(t);
    const { log, warnings } = captureWarnings();
    const hubs = [createPgSeriesStore({ pool: await db.pool(), limits: LIMITS, log }), createPgSeriesStore({ pool: await db.pool(), limits: LIMITS, log })];
    const groups = Array.from({ length: 60 }, (_, g) => `ipg:g${String(g).padStart(2, '0')}`);
    const deliveries: Promise<unknown>[] = [];
    for (let edge = 0; edge < 10; edge++) {
      for (let bucket = 0; bucket < 4; bucket++) {
        // Each edge sees every group in every bucket; its batch is cut in two at an edge-specific point.
        const all = groups.map((id) => summary(id, DAY0 + bucket * 300, edge + 1));
        const cut = 10 + edge * 4;
        for (const part of [all.slice(0, cut), all.slice(cut)]) {
          const input = batch(part, { edgeId: `e${edge}`, seq: bucket });
          deliveries.push(hubs[edge % 2]!.applyBatch(input), hubs[(edge + 1) % 2]!.applyBatch(input));
        }
      }
    }
    const results = await Promise.all(deliveries) as { stored: unknown[] }[];
    t.equal(results.reduce((n, r) => n + r.stored.length, 0), 10 * 4 * 60, 'each summary stored once');
    const want = Array.from({ length: 4 }, () => 55); // 1 + 2 + ... + 10 in every bucket
    for (const id of [groups[0]!, groups[33]!, groups[59]!]) t.same((await hubs[0]!.readSeries('isp1', id, DAY0, DAY0 + 1200)).map((p) => p.bytesIn), want, id);
    t.equal(await hubs[1]!.reportedBucketCount('isp1', DAY0, DAY0 + 1200), 4);
    // Every statement locks rows in key order, so no deadlock is expected (one would be retried).
    t.same(warnings.filter((w) => w.msg === 'series: batch transaction retried').map((w) => w.obj.code), [], 'no transaction retried');
  });

  t.test('a batch whose transaction fails leaves nothing; its redelivery applies it whole', async (t) => {
    const db = await freshDb(t);
    const store = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const good = run(DAY0, 20);
    // Above bigint: the series statement fails AFTER the identities were inserted in the same transaction.
    const broken = good.map((s, i) => (i === 19 ? { ...s, bytesIn: 2 ** 64 } : s));
    await t.rejects(store.applyBatch(batch(broken)), /out of range/);
    t.same(await store.readSeries('isp1', good[0]!.subjectId, DAY0, DAY0 + 300), [], 'no point');
    t.same(await store.listSubjects('isp1'), [], 'no subject');
    t.equal(await store.reportedBucketCount('isp1', DAY0, DAY0 + 300), 0, 'no coverage');
    t.same(await store.listWaitingStored(), [], 'no outbox entry');
    const again = await store.applyBatch(batch(good));
    t.same([again.outcome, again.stored.length, again.duplicates], ['applied', 20, 0], 'no identity was left behind');

    // A constraint provoked in the LAST statements (subjects): a kind the schema refuses.
    const late = [summary('ipg:late', DAY0, 5, { kind: 'bogus' as 'ip_group' })];
    await t.rejects(store.applyBatch(batch(late)), /series_subjects_kind_check/);
    t.same(await store.readSeries('isp1', 'ipg:late', DAY0, DAY0 + 300), []);
    t.equal((await store.applyBatch(batch([summary('ipg:late', DAY0, 5)]))).stored.length, 1);

    // The connection dies mid-way: the batch's series statement waits on a row another session holds,
    // and its backend is terminated there (after its identities were inserted).
    const blocker = await (await db.pool()).connect();
    await blocker.query('BEGIN');
    await blocker.query(`INSERT INTO series VALUES ('isp1', 'ipg:held', $1, 0, 0, 0, 0, 0, 0)`, [DAY0 + 3000]);
    const dying = store.applyBatch(batch([summary('ipg:held', DAY0 + 3000, 9)]));
    const observer = await db.pool();
    let pid: number | undefined;
    while (pid === undefined) {
      const { rows } = await observer.query(`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO series AS s%'`);
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setImmediate(resolve));
    }
    await observer.query('SELECT pg_terminate_backend($1)', [pid]);
    await t.rejects(dying, /terminat/);
    await blocker.query('ROLLBACK');
    blocker.release();
    t.same(await store.readSeries('isp1', 'ipg:held', DAY0, DAY0 + 86_400), [], 'no point');
    const after = await store.applyBatch(batch([summary('ipg:held', DAY0 + 3000, 9)]));
    t.same([after.stored.length, after.duplicates], [1, 0], 'the dead transaction left no identity');
    t.equal((await store.readSeries('isp1', 'ipg:held', DAY0, DAY0 + 86_400))[0]!.bytesIn, 9);
  });

  t.test('horizon: too old by the clock, and below the pruned months even with the clock stepped back', async (t) => {
    const db = await freshDb(t);
    const store = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const nov2 = summary('if:10.0.0.1/1', DAY0 + 86_400, 1);
    t.equal((await store.applyBatch(batch([nov2]))).stored.length, 1, 'stored in November');
    // 2027-01-30 (horizon 2026-12-21): November is too old by the clock, and its identities are dropped.
    const nowMs = (DAY0 + 90 * 86_400) * 1000;
    const late = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const old = await late.applyBatch(batch([summary('if:10.0.0.1/1', DAY0, 1), summary('if:10.0.0.1/1', DAY0 + 85 * 86_400, 1)], { nowMs }));
    t.same([old.stored.length, old.tooOld], [1, 1]);
    t.match([...old.refused.keys()][0], /older than the dedup horizon \(40 days\)/);
    // A hub whose clock is back in November gets the November batch again: without the pruned horizon
    // it would apply it a second time (its identity is gone).
    const stepped = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const back = await stepped.applyBatch(batch([nov2], { nowMs: NOW_MS }));
    t.same([back.stored.length, back.tooOld, back.duplicates], [0, 1, 0], 'refused as too old, not applied twice');
    t.same((await store.readSeries('isp1', nov2.subjectId, DAY0, DAY0 + 2 * 86_400)).map((p) => p.bytesIn), [1]);
    const pool = await db.pool();
    const parts = await pool.query(`SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'series_applied_p%' ORDER BY relname`);
    t.same(parts.rows.map((r) => r.relname), ['series_applied_p202701'], 'November (ended before the horizon) was dropped, December never existed; January is kept');
  });

  t.test('subject limit: counted per (edge, bucket, revision) across batches and hubs, excess refused in batch order', async (t) => {
    const db = await freshDb(t);
    const limits = { ...LIMITS, maxRevisionSubjects: 25 };
    const a = createPgSeriesStore({ pool: await db.pool(), limits });
    const b = createPgSeriesStore({ pool: await db.pool(), limits });
    const [x, y] = await Promise.all([a.applyBatch(batch(run(DAY0, 20, 100, 0))), b.applyBatch(batch(run(DAY0, 20, 100, 20)))]);
    t.equal(x.stored.length + y.stored.length, 25, 'never more than the limit, whoever ran first');
    t.equal(x.overSubjectLimit + y.overSubjectLimit, 15);
    t.equal(subjectLimitRefusals(x.refused) + subjectLimitRefusals(y.refused), 15, "the reasons are content-dedup.ts's");
    const loser = x.overSubjectLimit ? x : y;
    t.same(loser.stored.map((s) => s.subjectId), (loser === x ? run(DAY0, 5, 100, 0) : run(DAY0, 5, 100, 20)).map((s) => s.subjectId), 'the first ones of the batch are kept');
    // The refused identities were taken back: another revision has its own room, and they are not duplicates.
    const retry = await a.applyBatch(batch(loser === x ? run(DAY0, 20, 100, 0) : run(DAY0, 20, 100, 20)));
    t.same([retry.stored.length, retry.duplicates, retry.overSubjectLimit], [0, 5, 15]);
    const rev1 = await a.applyBatch(batch(run(DAY0, 30).map((s) => ({ ...s, revision: 1 }))));
    t.equal(rev1.stored.length, 25);
    const storedIds = new Set([...x.stored, ...y.stored, ...rev1.stored].map((s) => s.subjectId));
    t.same((await a.listSubjects('isp1')).map((s) => s.subjectId), [...storedIds].sort(), 'the refused ones never reached the series');
  });

  t.test('months: a batch across a month boundary; purgeOperator deletes one operator, idempotent', async (t) => {
    const db = await freshDb(t);
    const store = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const dec1 = Date.UTC(2026, 11, 1) / 1000;
    await store.applyBatch(batch([summary('ipg:a', dec1 - 300, 1), summary('ipg:a', dec1, 2)], { nowMs: (dec1 + 3600) * 1000 }));
    await store.applyBatch(batch([summary('ipg:a', dec1, 5)], { operatorId: 'isp2', edgeId: 'edge-2', nowMs: (dec1 + 3600) * 1000 }));
    t.same((await store.readSeries('isp1', 'ipg:a', dec1 - 86_400, dec1 + 86_400)).map((p) => p.bytesIn), [1, 2]);
    const purged = await store.purgeOperator('isp1');
    t.equal(purged.deleted, 2 + 1 + 2, 'points, subject, coverage');
    t.same(await store.readSeries('isp1', 'ipg:a', dec1 - 86_400, dec1 + 86_400), []);
    t.same(await store.listSubjects('isp1'), []);
    t.same(await store.purgeOperator('isp1'), { deleted: 0 });
    t.equal((await store.readSeries('isp2', 'ipg:a', dec1, dec1 + 300))[0]!.bytesIn, 5, 'the other operator is untouched');
  });

  t.test('top subjects in one query: the same answer as GET /top-subjects over listSubjects + readSeries', async (t) => {
    const db = await freshDb(t);
    const pool = await db.pool();
    const store = createPgSeriesStore({ pool, limits: LIMITS });
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let edge = 0; edge < 3; edge++) {
      const inputs: GuardedSummary[] = [];
      for (let slot = 0; slot < 288 * 2; slot += 1 + Math.floor(rnd() * 5)) {
        for (const id of ['ipg:cust-a', 'ipg:cust-B', 'ipg:big', 'if:10.0.0.1/3', 'if:10.0.0.2/17', 'ipg:quiet']) {
          if (rnd() < 0.4) continue;
          inputs.push(summary(id, DAY0 + slot * 300, id === 'ipg:quiet' ? 0 : Math.floor(rnd() * 2 ** 36), { inRun: false, bytesOut: Math.floor(rnd() * 1e9) }));
        }
      }
      await store.applyBatch(batch(inputs, { edgeId: `e${edge}`, nowMs: (DAY0 + 3 * 86_400) * 1000 }));
    }
    await store.applyBatch(batch([summary('ipg:cust-a', DAY0, 5)], { operatorId: 'isp2' }));
    const app = createTestApp([createSeriesRoutes({ series: store, clock: createManualClock((DAY0 + 3 * 86_400) * 1000) })]);
    const principal: Principal = { userId: 'u', username: 'r', role: 'operator_readonly', operatorId: 'isp1' };
    const cases = [
      { fromSec: DAY0, toSec: DAY0 + 2 * 86_400, q: '', offset: 0, limit: 10 },
      { fromSec: DAY0 + 3600, toSec: DAY0 + 7200, q: '', offset: 0, limit: 3 },
      { fromSec: DAY0 + 3600, toSec: DAY0 + 86_400 + 300, q: '', offset: 2, limit: 2 },
      { fromSec: DAY0, toSec: DAY0 + 86_400, q: 'CUST', offset: 0, limit: 10 },
      { fromSec: DAY0, toSec: DAY0 + 86_400, q: 'ifindex 17', offset: 0, limit: 10 },
      { fromSec: DAY0, toSec: DAY0 + 86_400, q: '', offset: 50, limit: 10 },
      { fromSec: DAY0 - 86_400, toSec: DAY0, q: '', offset: 0, limit: 10 },
    ];
    for (const c of cases) {
      const res = await callApi(app, 'GET', `/api/v1/operators/isp1/top-subjects?fromSec=${c.fromSec}&toSec=${c.toSec}&q=${encodeURIComponent(c.q)}&offset=${c.offset}&limit=${c.limit}`, { principal });
      t.equal(res.status, 200);
      const mine = await pgTopSubjects(pool, 'isp1', c);
      t.same(mine, { total: res.body.total, subjects: res.body.subjects }, JSON.stringify(c));
    }
    t.ok((await pgTopSubjects(pool, 'isp1', cases[0]!)).subjects.some((s) => s.subjectId === 'ipg:quiet'), 'a subject reporting zeros is ranked, like the route does');
  });

  t.test('micro-measure: 50 batches of 1,000 summaries into one store', async (t) => {
    const db = await freshDb(t);
    const store = createPgSeriesStore({ pool: await db.pool(), limits: LIMITS });
    const batches = Array.from({ length: 50 }, (_, k) => batch(run(DAY0 + 300 * (k % 25), 1000).map((s) => ({ ...s, revision: k < 25 ? 0 : 1 })), { seq: k }));
    await store.applyBatch(batch(run(DAY0 - 300, 1000))); // months created, statements prepared
    const started = process.hrtime.bigint();
    for (const b of batches) await store.applyBatch(b);
    const sec = Number(process.hrtime.bigint() - started) / 1e9;
    t.comment(`PostgreSQL series store: ${Math.round(50_000 / sec).toLocaleString('en')} summaries/s (50 batches of 1,000, one connection, fsync off), ${(sec * 1000 / 50).toFixed(1)} ms a batch`);
    const readsMs: number[] = [];
    for (let i = 0; i < 21; i++) {
      const started2 = process.hrtime.bigint();
      await store.readSeries('isp1', `if:10.0.0.1/${String(i * 40).padStart(6, '0')}`, DAY0 - 86_400 * 10, DAY0 + 86_400 * 20);
      readsMs.push(Number(process.hrtime.bigint() - started2) / 1e6);
    }
    t.comment(`a subject-month read (26 buckets here): median ${readsMs.sort((a, b) => a - b)[10]!.toFixed(2)} ms`);
    t.pass();
  });
});

t.test('the SeriesStore contract on PostgreSQL', async (t) => {
  const server = await startPostgres(t);
  if (!server) return t.pass('skipped: no PostgreSQL on this machine');
  let dbN = 0;
  /** A fresh migrated database per case; its pool ends with the store's close(). */
  async function openDb(): Promise<PgPool> {
    const name = `contract_${dbN++}`;
    const admin = await createPgPool(server!.url, { maxConnections: 1 });
    try { await admin.query(`CREATE DATABASE ${name}`); } finally { await admin.end(); }
    const pool = await createPgPool(server!.url.replace(/\/[^/]+$/, `/${name}`), { maxConnections: 4 });
    await migrate(pool);
    return pool;
  }
  const open = async (limits: SeriesStoreLimits) => {
    const pool = await openDb();
    return Object.assign(createPgSeriesStore({ pool, limits }), { close: () => pool.end() });
  };
  seriesStoreContract(t, open, {
    // A commit the server refuses (as a deferred constraint, a full disk or a lost connection would):
    // while failing, each transaction's COMMIT is replaced by a statement that raises, so the server
    // aborts it after every statement of the batch ran.
    openFailing: async (limits) => {
      const pool = await openDb();
      let failing = false;
      const patched = new WeakSet<object>();
      pool.on('acquire', (client) => {
        if (patched.has(client)) return;
        patched.add(client);
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: unknown }).query = (...args: unknown[]) =>
          (failing && args[0] === 'COMMIT' ? query(`DO $$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`) : query(...args));
      });
      const store = Object.assign(createPgSeriesStore({ pool, limits }), { close: () => pool.end() });
      return { store, setFailing: (on: boolean) => { failing = on; } };
    },
  });
});
