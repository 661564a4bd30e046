/**
 * Issue 10: the bill run's progress (bills done of due) on every hub. Two billing modules on one store
 * are two hubs (each its own service, routes and memory; only the store is shared, as on PostgreSQL):
 * the hub that did the work and any other answer GET …/bill-runs/latest alike, while the run goes on
 * and after; a later run that finds nothing due (the other hubs' turn at the same hour) hides nothing.
 */
import t from 'tap';
import { createManualClock } from '../../../common/clock';
import type { KeyValueStore } from '../../../common/kv/kv-store';
import { collect, prefixRange } from '../../../common/kv/kv-store';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { createBillingModule } from '../../../hub/billing/billing-module';
import type { SeriesReader } from '../../../hub/ports';
import { createPgKvStore } from '../../../common/kv/pg-kv-store';
import { migrate } from '../../../hub/store/pg/migrations';
import { createPgPool } from '../../../hub/store/pg/pg-pool';
import { postgresSections } from '../../../hub/store/pg/pg-sections';
import { callApi, createTestApp } from '../../helpers/test-app';
import { startPostgres } from '../../helpers/postgres';
import { basePlan, createCapturingMailer, createFakeSeries, ms, otherAdmin, readonly, type admin } from './billing-fixture';

const IF1 = 'if:10.0.0.1/1';
const IF2 = 'if:10.0.0.1/2';
const IF3 = 'if:10.0.0.2/1';
const RUN_AT = ms('2026-12-01T00:20:00Z');

/** kvs: each hub's own store object on one database (PostgreSQL: a pool each); default one memory store for both. */
function twoHubs(opts: { reader?: (base: SeriesReader) => SeriesReader; kvs?: [KeyValueStore, KeyValueStore] } = {}) {
  const kv = opts.kvs?.[0] ?? createMemoryKvStore();
  const clock = createManualClock(ms('2026-11-01T00:00:00Z'));
  const series = createFakeSeries();
  const reader = opts.reader ? opts.reader(series.reader) : series.reader;
  const hub = (hubId: string, kvOfHub: KeyValueStore) => {
    const billing = createBillingModule({ kv: kvOfHub, clock, log: silentLogger, seriesReader: reader, mailer: createCapturingMailer(), startJobs: false, hubId,
      renderPdf: async () => new TextEncoder().encode('%PDF-stub') });
    const app = createTestApp(billing.routers);
    const latest = async (principal: typeof admin = readonly) => {
      const res = await callApi(app, 'GET', `/api/v1/operators/${principal.operatorId}/bill-runs/latest`, { principal });
      if (res.status !== 200) throw new Error(`GET bill-runs/latest: ${res.status}`);
      return res.body;
    };
    return { billing, latest };
  };
  return { kv, clock, series, a: hub('hub-a', kv), b: hub('hub-b', opts.kvs?.[1] ?? kv) };
}


/**
 * Two hubs whose bill run is slow: each series read takes a second of the (manual) clock, and IF2's
 * waits at a gate (atGate resolves when it got there; release() lets it on).
 */
function slowRun(kvs?: [KeyValueStore, KeyValueStore]) {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let reachedGate!: () => void;
  const atGate = new Promise<void>((r) => { reachedGate = r; });
  const hubs = twoHubs({
    kvs,
    reader: (base) => ({
      ...base,
      async readSlotColumns(op, subjectId, ...rest) {
        hubs.clock.advanceMs(1000);
        if (subjectId === IF2) { reachedGate(); await gate; }
        return base.readSlotColumns(op, subjectId, ...rest);
      },
    }),
  });
  return { hubs, atGate, release };
}

t.test('hub A runs and makes the bills; hub B shows A\'s run, and B\'s empty run later hides nothing', async (t) => {
  const { clock, a, b } = twoHubs();
  await a.billing.service.createPlan('isp1', { ...basePlan, subjectIds: [IF1, IF2] });
  await a.billing.service.createPlan('isp2', { ...basePlan, subjectIds: [IF3] });
  t.same(await b.latest(), { run: null, lastCheck: null }, 'no run yet on any hub');

  clock.setMs(RUN_AT);
  t.match(await a.billing.runDueJobs(RUN_AT), { generated: 2 + 1, failed: 0 });
  const seenOnB = await b.latest();
  t.same(seenOnB.run, { startedAtMs: RUN_AT, finishedAtMs: RUN_AT, due: 2, done: 2, made: 2, failed: 0, mailed: 3, runAtMs: RUN_AT, hubId: 'hub-a', updatedAtMs: RUN_AT },
    'B shows A\'s run: isp1\'s 2 of 2, made by hub-a');
  t.same(seenOnB.lastCheck, { runAtMs: RUN_AT, startedAtMs: RUN_AT, finishedAtMs: RUN_AT, hubId: 'hub-a' });
  t.same(await a.latest(), seenOnB, 'A answers the same');
  t.match((await b.latest(otherAdmin)).run, { due: 1, done: 1, made: 1, hubId: 'hub-a' }, 'isp2 sees its own part');

  // B's turn at the same hour (the section lets it in after A): nothing due any more.
  clock.setMs(RUN_AT + 60_000);
  t.match(await b.billing.runDueJobs(RUN_AT + 60_000), { generated: 0, failed: 0 });
  const after = await b.latest();
  t.same(after.run, seenOnB.run, 'A\'s figures stay, not "0 of 0"');
  t.same(after.lastCheck, { runAtMs: RUN_AT + 60_000, startedAtMs: RUN_AT + 60_000, finishedAtMs: RUN_AT + 60_000, hubId: 'hub-b' }, 'the last check is B\'s');
  t.same(await a.latest(), after, 'and A answers the same');
});

t.test('an operator\'s last run with work is its own: another operator\'s later run does not replace it; old records go', async (t) => {
  const { kv, clock, a, b } = twoHubs();
  await a.billing.service.createPlan('isp1', { ...basePlan, subjectIds: [IF1] });
  clock.setMs(RUN_AT);
  await a.billing.runDueJobs(RUN_AT);
  // isp2's plan starts later and bills on the 15th: B's run then has work for isp2 only.
  clock.setMs(ms('2026-12-02T00:00:00Z'));
  await b.billing.service.createPlan('isp2', { ...basePlan, generationDay: 15, subjectIds: [IF3] });
  const run2 = ms('2026-12-15T00:20:00Z');
  clock.setMs(run2);
  t.match(await b.billing.runDueJobs(run2), { generated: 1 });
  t.match((await a.latest()).run, { runAtMs: RUN_AT, hubId: 'hub-a', due: 1, done: 1 }, 'isp1: its run of 1 December');
  t.match((await a.latest(otherAdmin)).run, { runAtMs: run2, hubId: 'hub-b', due: 1, done: 1 }, 'isp2: its run of the 15th');
  // A run on 15 January has both due (isp1's cycle of December, isp2's to the 15th): both pointers move,
  // and the older runs' records are gone.
  const run3 = ms('2027-01-15T00:20:00Z');
  clock.setMs(run3);
  t.match(await a.billing.runDueJobs(run3), { generated: 2 });
  const keys = (await collect(kv, prefixRange('billing/run-'))).map(([k]) => k);
  const at = String(run3).padStart(15, '0');
  t.same(keys.filter((k) => k.startsWith('billing/run-head/') || k.startsWith('billing/run-op/')),
    [`billing/run-head/${at}`, `billing/run-op/${at}/isp1`, `billing/run-op/${at}/isp2`], 'only the last run with work is kept');
});

t.test('live: B reads A\'s progress mid-run (done < due, no finishedAtMs), then the end', async (t) => {
  // A slow series read: each takes a second of the (manual) clock, and IF2's waits until released.
  const { hubs, atGate, release } = slowRun();
  const { clock, a, b } = hubs;
  await a.billing.service.createPlan('isp1', { ...basePlan, subjectIds: [IF1, IF2] });
  await a.billing.service.createPlan('isp2', { ...basePlan, subjectIds: [IF3] });
  clock.setMs(RUN_AT);
  // One bill at a time, so the run pauses after isp1's first bill, before its second and isp2's; a
  // worker stores its count before it takes the next bill, so this state is certain at the gate.
  const running = a.billing.store.sections.section('job:bill-run').run(() => a.billing.service.runDue(RUN_AT, { concurrency: 1 }));
  await atGate;
  const mid = (await b.latest()).run;
  t.match(mid, { runAtMs: RUN_AT, startedAtMs: RUN_AT, hubId: 'hub-a', due: 2, done: 1, made: 1, failed: 0, updatedAtMs: RUN_AT + 1000 }, 'B sees the run A is making: 1 of 2');
  t.equal(mid.finishedAtMs, undefined, 'not finished');
  const other = (await b.latest(otherAdmin)).run;
  t.match(other, { runAtMs: RUN_AT, due: 1, done: 0 }, 'isp2: 0 of 1 so far');
  t.equal(other.finishedAtMs, undefined);
  t.equal((await b.latest()).lastCheck, null, 'no run has finished yet');
  release();
  await running;
  t.match((await b.latest()).run, { due: 2, done: 2, made: 2, failed: 0, finishedAtMs: Number, mailed: 3 }, 'the end, on B');
  t.match((await b.latest(otherAdmin)).run, { due: 1, done: 1, made: 1, finishedAtMs: Number });
});

t.test('on PostgreSQL: two hubs (a pool and advisory-lock sections each) run at one instant at once; both show the run that did the work, live', async (t) => {
  const server = await startPostgres(t);
  if (!server) return t.pass('skipped: no PostgreSQL on this machine');
  const kvs = [] as unknown as [KeyValueStore, KeyValueStore];
  for (let i = 0; i < 2; i++) {
    const pool = await createPgPool(server.url, { applicationName: `flowbill-hub bill-run-${i}` });
    t.teardown(() => pool.end());
    await migrate(pool);
    kvs.push(Object.assign(createPgKvStore(pool), { sections: postgresSections(pool, { log: silentLogger }) }));
  }
  const { hubs, atGate, release } = slowRun(kvs);
  const { clock, a, b } = hubs;
  await a.billing.service.createPlan('isp1', { ...basePlan, subjectIds: [IF1, IF2] });
  await b.billing.service.createPlan('isp2', { ...basePlan, subjectIds: [IF3] });
  clock.setMs(RUN_AT);
  // Both hubs' ticks at once: the section lets one in; the other waits, then finds nothing due.
  const runs = Promise.all([a.billing.runDueJobs(RUN_AT), b.billing.runDueJobs(RUN_AT)]);
  await atGate;
  // The progress write of the bill made just before the gate may still be on its way to PostgreSQL:
  // read until both hubs read it (the run itself is held at the gate, so it cannot move on).
  let midA = (await a.latest()).run;
  let midB = (await b.latest()).run;
  for (let i = 0; i < 50 && JSON.stringify(midA) !== JSON.stringify(midB); i++) {
    await new Promise((r) => setTimeout(r, 10));
    midA = (await a.latest()).run;
    midB = (await b.latest()).run;
  }
  t.same(midB, midA, 'both hubs read the same stored progress mid-run');
  t.match(midB, { runAtMs: RUN_AT, due: 2, failed: 0 }, 'isp1: 2 due');
  t.ok(midB.done < midB.due, `done ${midB.done} < due ${midB.due}`);
  t.equal(midB.finishedAtMs, undefined, 'not finished');
  const worker = midB.hubId;
  t.ok(worker === 'hub-a' || worker === 'hub-b', `run by ${worker}`);
  release();
  const results = await runs;
  t.same(results.map((r) => r.generated).sort(), [0, 3], 'one hub made the 3 bills, the other found nothing due');
  const end = await a.latest();
  t.match(end.run, { runAtMs: RUN_AT, hubId: worker, due: 2, done: 2, made: 2, finishedAtMs: Number }, 'the run with work stays shown');
  t.not(end.lastCheck.hubId, worker, 'the last check is the other hub\'s empty run');
  t.same(await b.latest(), end, 'the same on both hubs');
  t.match((await b.latest(otherAdmin)).run, { due: 1, done: 1, made: 1, hubId: worker });
});
