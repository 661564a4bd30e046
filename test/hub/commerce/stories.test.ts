/**
 * Whole stories on sinon fake timers: the module runs on the system clock, which sinon fakes, and
 * the jobs run through runDueJobs (the same path as catch-up on start) as time is walked forward.
 */
import t from 'tap';
import sinon from 'sinon';
import { systemClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import type { KeyValueStore } from '../../../common/kv/kv-store';
import { silentLogger } from '../../../common/logger';
import { createCommerceModule } from '../../../hub/commerce/commerce-module';

const DAY = 86_400_000;
const MIN = 60_000;

function setup(t: { teardown(fn: () => void): void }, startMs: number, kv: KeyValueStore = createMemoryKvStore()) {
  const timers = sinon.useFakeTimers({ now: startMs, toFake: ['Date'] });
  t.teardown(() => timers.restore());
  return { timers, ...moduleOn(kv) };
}

function moduleOn(kv: KeyValueStore) {
  const pushes: string[] = [];
  const purges: string[] = [];
  const mod = createCommerceModule({
    kv, clock: systemClock, log: silentLogger, startJobs: false,
    edgeConfigPusher: { pushConfigs: async (op) => { pushes.push(op); } },
    purgeOperatorData: async (op) => { purges.push(op); },
  });
  const tick = async (timersMs: number, timers: sinon.SinonFakeTimers) => { timers.tick(timersMs); return mod.runDueJobs(Date.now()); };
  const allowed = async (op: string) => (await mod.collectionPolicy.collectionState(op, Date.now())).allowed;
  return { kv, mod, svc: mod.service, pushes, purges, tick, allowed };
}

t.test('trial: no invoice at start, day 14 collecting, day 15 paused and edges told, purge 30 days after expiry', async (t) => {
  const start = Date.UTC(2026, 2, 3, 10);
  const { timers, svc, mod, pushes, purges, tick, allowed } = setup(t, start);
  t.equal(await allowed('isp1'), false, 'no add-on, no collection');
  await svc.setActiveCustomers('isp1', 1_200); // over Small's 500: upgraded to Mid
  const sub = await svc.startTrial('isp1');
  t.equal(sub.tierId, 'mid');
  t.match(sub.addon, { status: 'trial', trial: { startedAtMs: start, endsAtMs: start + 15 * DAY } });
  t.same(pushes, ['isp1'], 'edges told to collect');
  t.equal(await allowed('isp1'), true);
  t.same(await svc.listInvoices('isp1'), [], 'trial started: no invoice');

  await tick(14 * DAY, timers);
  t.equal(await allowed('isp1'), true, 'day 14: still collecting');
  t.equal((await svc.getSubscriptionView('isp1')).addon.daysLeft, 1);
  t.same(pushes, ['isp1']);

  timers.tick(1 * DAY);
  const state = await mod.collectionPolicy.collectionState('isp1', Date.now());
  t.equal(state.allowed, false, 'day 15: paused at the instant of expiry, before any job ran');
  t.match(state.reason, /trial expired/);
  t.ok((await mod.collectionPolicy.collectionState('isp1', start + 15 * DAY - 5 * MIN)).allowed, 'a late summary of a bucket before the expiry is still accepted');
  await mod.runDueJobs(Date.now());
  t.same(pushes, ['isp1', 'isp1'], 'expiry pushed edge configs once');
  const expired = await svc.getSubscriptionView('isp1');
  t.match(expired.addon, { status: 'trial_expired', purgeAtMs: start + 45 * DAY });
  t.ok(expired.notices.some((n) => n.code === 'trial_expired'));

  await tick(30 * DAY - MIN, timers); // expiry + 30 days - 1 minute (day 44 of the story)
  t.same(purges, [], 'data kept for 30 days');
  await tick(MIN + 60 * MIN, timers);
  t.same(purges, ['isp1'], 'purged 30 days after expiry');
  await tick(DAY, timers);
  t.same(purges, ['isp1'], 'purged once');

  // The March invoice (issued on 1 April, during the story) has the subscription only: trials are free.
  const invoices = await svc.listInvoices('isp1');
  t.same(invoices.map((i) => i.periodKey), ['2026-03'], 'the story ends on 18 April: only March has ended');
  t.ok(invoices.every((i) => i.lines.every((l) => l.kind === 'subscription')), 'no add-on charge for a trial');
  t.equal(invoices[0].lines[0].days, 29);
  t.equal(invoices[0].totalMinor, 27_971);
});

t.test('reactivation within 30 days keeps the data: no purge, collection resumes', async (t) => {
  const start = Date.UTC(2026, 2, 3, 10);
  const { timers, svc, pushes, purges, tick, allowed } = setup(t, start);
  await svc.setActiveCustomers('isp1', 900);
  await svc.startTrial('isp1');
  await tick(15 * DAY, timers);
  t.equal(await allowed('isp1'), false);
  await tick(10 * DAY, timers);
  const sub = await svc.activate('isp1');
  t.equal(sub.addon.status, 'active');
  t.equal(await allowed('isp1'), true);
  t.same(pushes, ['isp1', 'isp1', 'isp1'], 'trial start, expiry, reactivation');
  t.ok(sub.notices.at(-1)!.text.includes('kept'));
  await tick(40 * DAY, timers);
  t.same(purges, [], 'nothing purged');
  await t.rejects(svc.startTrial('isp1'), { code: 'ADDON_ALREADY_ACTIVE' });
});

t.test('activation mid-trial: charged from its day on the next invoice, at 50% of the tier fee, prorated', async (t) => {
  const start = Date.UTC(2026, 3, 1, 9); // April: 30 days
  const { timers, svc, tick } = setup(t, start);
  await svc.setActiveCustomers('isp1', 1_500);
  await svc.startTrial('isp1');
  await tick(10 * DAY + 6 * 3_600_000, timers); // 11 April, 15:00
  await svc.activate('isp1');
  await tick(Date.UTC(2026, 4, 1, 0, 4) - Date.now(), timers);
  t.same(await svc.listInvoices('isp1'), [], 'no invoice before 00:05 on the 1st; no separate add-on invoice');
  await tick(MIN, timers);
  const [inv, ...rest] = await svc.listInvoices('isp1');
  t.equal(rest.length, 0);
  t.equal(inv.number, 'INV-000001');
  t.equal(inv.periodKey, '2026-04');
  const addon = inv.lines.find((l) => l.kind === 'netflow_addon')!;
  t.same([addon.fromDate, addon.toDate, addon.days, addon.daysInPeriod], ['2026-04-11', '2026-04-30', 20, 30]);
  t.equal(addon.unroundedMinor, '9966.666666'); // 29900 × 50% × 20/30
  t.equal(addon.amountMinor, 9_967);
  t.equal(inv.totalMinor, 29_900 + 9_967);
  t.equal(inv.currency, 'USD');
});

t.test('upgrade mid-period (customers over the limit): base and add-on recalculated from the change day', async (t) => {
  const { timers, svc, tick } = setup(t, Date.UTC(2026, 5, 1, 0, 30)); // June: 30 days
  await svc.setActiveCustomers('isp1', 1_000);
  await svc.activate('isp1'); // straight to paid, no trial
  await tick(15 * DAY, timers); // 16 June
  const up = await svc.setActiveCustomers('isp1', 2_500);
  t.equal(up.tierId, 'large', 'over Mid\'s 2,000: upgraded');
  t.ok(up.notices.some((n) => n.code === 'tier_upgraded' && /automatic/.test(n.text)), 'the upgrade is visible');
  t.equal((await svc.getSubscriptionView('isp1')).addon.priceMonthlyMinor, 39_950, 'add-on price follows the new fee');
  await tick(Date.UTC(2026, 6, 1, 0, 5) - Date.now(), timers);
  const [inv] = await svc.listInvoices('isp1');
  t.same(inv.lines.map((l) => [l.kind, l.tierId, l.days, l.amountMinor]), [
    ['subscription', 'mid', 15, 14_950],
    ['subscription', 'large', 15, 39_950],
    ['netflow_addon', 'mid', 15, 7_475],
    ['netflow_addon', 'large', 15, 19_975],
  ]);
  t.equal(inv.totalMinor, 82_350);
});

t.test('downgrade to a non-eligible tier: the add-on ends at period end with a notice, charged at the last eligible price', async (t) => {
  const { timers, svc, mod, pushes, tick, allowed } = setup(t, Date.UTC(2026, 6, 1, 8)); // July: 31 days
  await svc.setActiveCustomers('isp1', 1_000);
  await svc.activate('isp1');
  await tick(9 * DAY, timers); // 10 July
  await t.rejects(svc.changeTier('isp1', 'small'), { code: 'TIER_LIMIT_EXCEEDED' }, 'small cannot hold 1,000 customers');
  await svc.setActiveCustomers('isp1', 400);
  const down = await svc.changeTier('isp1', 'small');
  t.match(down.addon, { status: 'cancelling', endReason: 'tier_not_eligible', endsAtMs: Date.UTC(2026, 7, 1), lastEligible: { tierId: 'mid', monthlyFeeMinor: 29_900 } });
  const notice = down.notices.find((n) => n.code === 'addon_ends_tier_not_eligible')!;
  t.match(notice.text, /Small tier is not eligible.*end of the paid period/);
  await t.rejects(svc.enableRenewal('isp1'), { code: 'TIER_NOT_ELIGIBLE' });
  await tick(Date.UTC(2026, 6, 31, 23, 59) - Date.now(), timers);
  t.equal(await allowed('isp1'), true, 'collecting until the end of the paid period');
  const before = pushes.length;
  await tick(MIN, timers); // 1 August 00:00: period-end job
  t.equal(await allowed('isp1'), false);
  t.equal(pushes.length, before + 1, 'edges told to stop');
  t.equal((await svc.getSubscriptionView('isp1')).addon.status, 'ended');
  await tick(5 * MIN, timers);
  const [inv] = await svc.listInvoices('isp1');
  // Issue 12: this used to be Mid for 9 days, then 50% of the Small fee for 22 days (3,513). The rule
  // (README): to the end of the period at the last eligible price, so the whole of July at Mid's.
  t.same(inv.lines.filter((l) => l.kind === 'netflow_addon').map((l) => [l.tierId, l.days, l.amountMinor]), [
    ['mid', 31, 14_950],
  ]);
  await t.rejects(mod.service.activate('isp1'), { code: 'TIER_NOT_ELIGIBLE' });
});

t.test('cancel: collection continues to the end of the paid period, then pauses; data purged 30 days later', async (t) => {
  const { timers, svc, pushes, purges, tick, allowed } = setup(t, Date.UTC(2026, 8, 1, 0, 10)); // September
  await svc.setActiveCustomers('isp1', 3_000);
  await svc.activate('isp1');
  await tick(11 * DAY, timers);
  const c = await svc.cancel('isp1');
  t.match(c.addon, { status: 'cancelling', endReason: 'cancelled', endsAtMs: Date.UTC(2026, 9, 1) });
  await t.rejects(svc.activate('isp1'), { code: 'ADDON_ALREADY_ACTIVE' });
  await tick(Date.UTC(2026, 9, 1) - MIN - Date.now(), timers);
  t.equal(await allowed('isp1'), true, 'still collecting on 30 September');
  const pushed = pushes.length;
  await tick(MIN, timers);
  t.equal(await allowed('isp1'), false, 'paused from 1 October');
  t.equal(pushes.length, pushed + 1);
  const [sept] = await (async () => { await tick(5 * MIN, timers); return svc.listInvoices('isp1'); })();
  t.equal(sept.lines.find((l) => l.kind === 'netflow_addon')!.days, 30, 'the cancelled period is charged in full');
  await tick(30 * DAY, timers);
  t.same(purges, ['isp1']);
  await tick(Date.UTC(2026, 10, 1, 0, 5) - Date.now(), timers);
  const oct = (await svc.listInvoices('isp1')).find((i) => i.periodKey === '2026-10')!;
  t.same(oct.lines.map((l) => l.kind), ['subscription'], 'no add-on after it ended');
});

t.test('hub down across an invoice date: catch-up on start makes exactly one invoice per period', async (t) => {
  const kv = createMemoryKvStore();
  const { timers, svc, mod } = setup(t, Date.UTC(2026, 7, 20, 12), kv);
  await svc.setActiveCustomers('isp1', 700);
  await svc.activate('isp1');
  await mod.runDueJobs(Date.now());
  await mod.stop(); // the hub goes down on 20 August …
  timers.tick(Date.UTC(2026, 8, 3, 9) - Date.now()); // … and comes back on 3 September
  const restarted = moduleOn(kv);
  await restarted.mod.start();
  let invoices = await restarted.svc.listInvoices('isp1');
  t.same(invoices.map((i) => [i.number, i.periodKey]), [['INV-000001', '2026-08']]);
  t.equal(invoices[0].lines.find((l) => l.kind === 'netflow_addon')!.days, 12);
  t.same(await restarted.mod.runDueJobs(Date.now()), [], 'nothing more is due');
  await restarted.mod.start(); // a second start (e.g. a crash loop) does not double-bill
  await restarted.mod.runJob('invoices', Date.now());
  invoices = await restarted.svc.listInvoices('isp1');
  t.equal(invoices.length, 1);

  // Down across two invoice dates: one run, one invoice per ended period, numbers in order.
  timers.tick(Date.UTC(2026, 10, 15) - Date.now());
  const again = moduleOn(kv);
  const ran = await again.mod.runDueJobs(Date.now());
  t.ok(ran.includes('invoices'));
  t.same((await again.svc.listInvoices('isp1')).map((i) => [i.number, i.periodKey]), [['INV-000001', '2026-08'], ['INV-000002', '2026-09'], ['INV-000003', '2026-10']]);
});

t.test('two concurrent invoice runs: one invoice per operator, numbers gapless and unique', async (t) => {
  const { timers, svc, mod } = setup(t, Date.UTC(2026, 0, 10));
  const ops = ['isp-a', 'isp-b', 'isp-c', 'isp-d'];
  for (const op of ops) await svc.setActiveCustomers(op, 600);
  timers.tick(Date.UTC(2026, 1, 1, 1) - Date.now());
  await Promise.all([mod.runJob('invoices', Date.now()), mod.runJob('invoices', Date.now()), mod.runDueJobs(Date.now())]);
  const all = (await Promise.all(ops.map((op) => svc.listInvoices(op)))).flat();
  t.equal(all.length, ops.length, 'one each');
  t.same(all.map((i) => i.seq).sort((a, b) => a - b), [1, 2, 3, 4], 'gapless');
  t.equal(new Set(all.map((i) => i.number)).size, 4, 'unique');
});

t.test('price book in JPY and KWD: amounts in each currency\'s minor units', async (t) => {
  for (const [currency, fee, expectedAddon] of [['JPY', 4_999, 2_500], ['KWD', 12_345, 6_173]] as const) {
    const { timers, svc } = setup(t, Date.UTC(2026, 3, 1));
    const book = await svc.getPriceBook();
    await svc.putPriceBook({ ...book, currency, tiers: book.tiers.map((tier) => ({ ...tier, monthlyFeeMinor: tier.tierId === 'mid' ? fee : tier.monthlyFeeMinor })) });
    await svc.setActiveCustomers('isp1', 1_000);
    await svc.activate('isp1');
    const view = await svc.getSubscriptionView('isp1');
    t.equal(view.addon.priceMonthlyMinor, expectedAddon);
    timers.tick(Date.UTC(2026, 4, 1, 0, 5) - Date.now());
    await svc.runJob('invoices', Date.now());
    const [inv] = await svc.listInvoices('isp1');
    t.equal(inv.currency, currency);
    t.equal(inv.lines[1].amountMinor, expectedAddon);
    timers.restore();
  }
});
