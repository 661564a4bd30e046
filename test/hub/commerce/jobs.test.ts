import t from 'tap';
import sinon from 'sinon';
import { systemClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { createCommerceModule } from '../../../hub/commerce/commerce-module';
import { COMMERCE_JOBS, isDue, jobByName } from '../../../hub/commerce/job-schedule';

t.test('due runs are computed from (last completed run, now) alone', async (t) => {
  const invoices = jobByName('invoices')!;
  const aug20 = Date.UTC(2026, 7, 20);
  t.equal(invoices.previousRunMs(aug20), Date.UTC(2026, 7, 1, 0, 5));
  t.equal(invoices.previousRunMs(Date.UTC(2026, 7, 1, 0, 4)), Date.UTC(2026, 6, 1, 0, 5), 'before 00:05 on the 1st: last month\'s run');
  t.equal(invoices.previousRunMs(Date.UTC(2026, 0, 1, 0, 0)), Date.UTC(2025, 11, 1, 0, 5), 'across a year');
  t.equal(isDue(invoices, aug20, Date.UTC(2026, 8, 1, 0, 4)), false);
  t.equal(isDue(invoices, aug20, Date.UTC(2026, 8, 1, 0, 5)), true);
  t.equal(isDue(invoices, Date.UTC(2026, 8, 1, 0, 5), Date.UTC(2026, 8, 3)), false, 'ran on time: nothing missed');
  t.equal(isDue(invoices, aug20, Date.UTC(2026, 10, 15)), true, 'two missed runs are one catch-up run');
  t.equal(isDue(invoices, undefined, aug20), true, 'never run: run once (jobs are idempotent)');
  const retention = jobByName('retention')!;
  t.equal(retention.previousRunMs(Date.UTC(2026, 7, 20, 13, 59)), Date.UTC(2026, 7, 20, 13));
  t.same(COMMERCE_JOBS.map((j) => j.name), ['trial-expiry', 'period-end', 'invoices', 'retention']);
});

t.test('node-cron runs the jobs in UTC while the hub is up', async (t) => {
  const timers = sinon.useFakeTimers({ now: Date.UTC(2026, 4, 31, 23, 50), toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate'] });
  const pushes: string[] = [];
  const mod = createCommerceModule({
    kv: createMemoryKvStore(), clock: systemClock, log: silentLogger, startJobs: true,
    edgeConfigPusher: { pushConfigs: async (op) => { pushes.push(op); } },
    purgeOperatorData: async () => {},
  });
  t.teardown(async () => { await mod.stop(); timers.restore(); });
  await mod.service.setActiveCustomers('isp1', 900);
  await mod.service.activate('isp1');
  await mod.service.cancel('isp1');
  await mod.start();
  await timers.tickAsync(20 * 60_000); // past 00:00 (period end) and 00:05 (invoices) on 1 June
  t.same(pushes, ['isp1', 'isp1'], 'activation, then the end of the cancelled period');
  const invoices = await mod.service.listInvoices('isp1');
  t.same(invoices.map((i) => i.periodKey), ['2026-05']);
  t.equal((await mod.collectionPolicy.collectionState('isp1', Date.now())).allowed, false);
});

t.test('a failing job is not recorded as run: it is retried, and the other jobs still run', async (t) => {
  const timers = sinon.useFakeTimers({ now: Date.UTC(2026, 2, 1), toFake: ['Date'] });
  t.teardown(() => timers.restore());
  let fail = true;
  const purged: string[] = [];
  const mod = createCommerceModule({
    kv: createMemoryKvStore(), clock: systemClock, log: silentLogger, startJobs: false,
    edgeConfigPusher: { pushConfigs: async () => {} },
    purgeOperatorData: async (op) => { if (fail) throw new Error('store down'); purged.push(op); },
  });
  await mod.service.setActiveCustomers('isp1', 900);
  await mod.service.startTrial('isp1');
  timers.tick(46 * 86_400_000);
  t.same(await mod.runDueJobs(Date.now()), ['trial-expiry', 'period-end', 'invoices', 'retention'], 'a failed purge is retried by the job, not a crash');
  t.same(purged, []);
  fail = false;
  timers.tick(3_600_000);
  await mod.runDueJobs(Date.now());
  t.same(purged, ['isp1']);
});
