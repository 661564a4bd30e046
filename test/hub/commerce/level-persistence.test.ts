import t from 'tap';
import sinon from 'sinon';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemClock } from '../../../common/clock';
import { openLevelKvStore } from '../../../common/kv/level-kv-store';
import { silentLogger } from '../../../common/logger';
import { createCommerceModule } from '../../../hub/commerce/commerce-module';

t.test('state survives a restart on LevelDB: the catch-up invoices once', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flowbill-commerce-'));
  const timers = sinon.useFakeTimers({ now: Date.UTC(2026, 1, 10, 12), toFake: ['Date'] });
  t.teardown(async () => { timers.restore(); await rm(dir, { recursive: true, force: true }); });
  const open = async () => {
    const kv = await openLevelKvStore(dir);
    const mod = createCommerceModule({
      kv, clock: systemClock, log: silentLogger, startJobs: false,
      edgeConfigPusher: { pushConfigs: async () => {} }, purgeOperatorData: async () => {},
    });
    return { kv, mod };
  };
  let { kv, mod } = await open();
  await mod.service.setActiveCustomers('isp1', 2_100);
  await mod.service.startTrial('isp1');
  await mod.start();
  await kv.close();

  timers.tick(Date.UTC(2026, 2, 2) - Date.now()); // down over 1 March (trial end 25 Feb, invoice date 1 March)
  ({ kv, mod } = await open());
  t.equal((await mod.collectionPolicy.collectionState('isp1', Date.now())).allowed, false, 'the trial expiry is applied from the stored instants');
  await mod.start();
  await mod.start();
  const invoices = await mod.service.listInvoices('isp1');
  t.same(invoices.map((i) => [i.number, i.periodKey, i.totalMinor]), [['INV-000001', '2026-02', 54_218]]); // Large, 10-28 Feb: 79900 × 19/28 = 54217.86
  const view = await mod.service.getSubscriptionView('isp1');
  t.equal(view.addon.status, 'trial_expired');
  await t.rejects(mod.service.startTrial('isp1'), { code: 'TRIAL_ALREADY_USED' });
  await kv.close();
});
