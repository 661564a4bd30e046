import t from 'tap';
import sinon from 'sinon';
import { systemClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { createBillingModule } from '../../../hub/billing/billing-module';
import { basePlan, createCapturingMailer, createFakeSeries, ms } from './billing-fixture';

const IF1 = 'if:10.0.0.1/1';

t.test('the node-cron job bills on the generation date, and a hub that was down catches up once', async (t) => {
  const timers = sinon.useFakeTimers({ now: ms('2026-01-31T23:00:00Z'), shouldClearNativeTimers: true });
  t.teardown(() => timers.restore());
  const kv = createMemoryKvStore();
  const series = createFakeSeries();
  const mailer = createCapturingMailer();
  const make = () => createBillingModule({
    kv, clock: systemClock, log: silentLogger, seriesReader: series.reader, mailer, startJobs: true,
    renderPdf: async () => new Uint8Array([37, 80, 68, 70]),
  });

  // first hub: plan since 1 January
  timers.setSystemTime(ms('2026-01-01T00:00:00Z'));
  let billing = make();
  await billing.service.createPlan('isp1', { ...basePlan, subjectIds: [IF1] });
  timers.setSystemTime(ms('2026-01-31T23:00:00Z'));
  await billing.start();
  await billing.jobs.idle();
  t.equal((await billing.store.listBills('isp1')).length, 0, 'nothing due at start');

  await timers.tickAsync(90 * 60_000); // to 1 February 00:30: the 00:20 tick has run
  await billing.jobs.idle();
  let bills = await billing.store.listBills('isp1');
  t.same(bills.map((b) => [b.billNo, new Date(b.cycleStartSec * 1000).toISOString().slice(0, 10)]), [[1, '2026-01-01']]);
  t.equal(mailer.sent.length, 1);
  await timers.tickAsync(3 * 3600_000);
  await billing.jobs.idle();
  t.equal((await billing.store.listBills('isp1')).length, 1, 'later hourly ticks make nothing twice');
  await billing.stop();

  // the hub is down from 1 February 03:30 until 10 April; a new process on the same store
  timers.setSystemTime(ms('2026-04-10T08:00:00Z'));
  billing = make();
  await billing.start();
  await billing.jobs.idle();
  bills = await billing.store.listBills('isp1');
  t.same(bills.map((b) => [b.billNo, new Date(b.cycleStartSec * 1000).toISOString().slice(0, 10)]), [[3, '2026-03-01'], [2, '2026-02-01'], [1, '2026-01-01']], 'February and March caught up');
  await timers.tickAsync(2 * 3600_000);
  await billing.jobs.idle();
  t.equal((await billing.store.listBills('isp1')).length, 3, 'caught up once');
  t.equal(mailer.sent.length, 3, 'one mail per bill');
  await billing.stop();
});

t.test('a failed bill is retried at the next run, and the last run does not move past it', async (t) => {
  const kv = createMemoryKvStore();
  const series = createFakeSeries();
  let failing = true;
  // The bill run reads the columns (readSlotColumns); both reads fail while `failing`.
  const reader = {
    ...series.reader,
    readSeries: async (...a: Parameters<typeof series.reader.readSeries>) => { if (failing) throw new Error('store unavailable'); return series.reader.readSeries(...a); },
    readSlotColumns: async (...a: Parameters<typeof series.reader.readSlotColumns>) => { if (failing) throw new Error('store unavailable'); return series.reader.readSlotColumns(...a); },
  };
  const clock = { nowMs: () => ms('2026-01-01T00:00:00Z') };
  const billing = createBillingModule({ kv, clock, log: silentLogger, seriesReader: reader, mailer: createCapturingMailer(), startJobs: false, renderPdf: async () => new Uint8Array(1) });
  await billing.service.createPlan('isp1', { ...basePlan, subjectIds: [IF1] });
  t.match(await billing.runDueJobs(ms('2026-02-01T01:00:00Z')), { generated: 0, failed: 1 });
  t.equal(await billing.store.getLastRunMs(), undefined);
  failing = false;
  t.match(await billing.runDueJobs(ms('2026-02-01T02:00:00Z')), { generated: 1, failed: 0 });
  t.equal(await billing.store.getLastRunMs(), ms('2026-02-01T02:00:00Z'));
});
