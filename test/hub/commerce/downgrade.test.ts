/**
 * Issue 12: the NetFlow add-on's price across tier changes, through the HTTP API of a real hub whose
 * clock the test sets (startTestHub's manual clock; jobs run through POST /admin/jobs/:job/run).
 *
 * The rule (README, "NetFlow add-on: lifecycle and tier changes"): the add-on costs addonPercentOfFee
 * of the fee of the tier it follows. On an eligible tier that is the tier in force, from the change's
 * UTC day (prorated by days). On a move to a tier that is not eligible the add-on is not cut short:
 * it runs and collects to the end of the billing period at the last eligible tier's price, then
 * ends. Moving back to an eligible tier before then: the price follows that tier again.
 *
 * Default price book: Small 99.00 (not eligible), Mid 299.00, Large 799.00 USD a month; add-on 50%.
 */
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHubModules } from '../../../hub/hub-modules';
import { startTestHub } from '../spine/hub-harness';

const MIN_MS = 60_000;

interface Line { kind: string; tierId: string; fromDate: string; toDate: string; days: number; daysInPeriod: number; monthlyFeeMinor: number; percentOfFee: number; unroundedMinor: string; amountMinor: number; description: string }
interface InvoiceBody { periodKey: string; lines: Line[]; totalMinor: number }

async function hubAt(t: Test, nowMs: number) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-downgrade-'));
  const hub = await startTestHub({ modules: createHubModules, nowMs, config: { dataDir } });
  t.teardown(async () => { await hub.close(); await rm(dataDir, { recursive: true, force: true }); });
  // Sessions expire on the hub's clock (12 h): log in again once the test has moved the clock past it.
  let session = { token: hub.adminToken, expiresAtMs: hub.clock.nowMs() + 3_600_000 };
  const admin = async (method: string, p: string, body?: unknown) => {
    if (hub.clock.nowMs() >= session.expiresAtMs) session = (await hub.api('POST', '/api/v1/login', { username: 'admin', password: 'admin-pw' })).body;
    return hub.api(method, `/api/v1${p}`, body, session.token);
  };
  /** A super_admin call that must succeed; returns the body. */
  const ok = async (method: string, p: string, body?: unknown) => {
    const res = await admin(method, p, body);
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await ok('POST', '/operators', { operatorId: 'isp1', name: 'ISP One' });
  const op = '/operators/isp1';
  return {
    hub, ok,
    view: async () => (await ok('GET', `${op}/subscription`)).subscription,
    customers: (count: number) => ok('PUT', `${op}/active-customers`, { count }),
    tier: async (tierId: string) => (await ok('PUT', `${op}/subscription`, { tierId })).subscription,
    addon: (action: string) => admin('POST', `${op}/addons/netflow/${action}`),
    job: (name: string) => ok('POST', `/admin/jobs/${name}/run`),
    invoice: async (periodKey: string): Promise<InvoiceBody> => {
      await ok('POST', '/admin/jobs/invoices/run');
      const found = ((await ok('GET', `${op}/invoices`)).invoices as InvoiceBody[]).find((i) => i.periodKey === periodKey);
      if (!found) throw new Error(`no invoice for ${periodKey}`);
      return found;
    },
  };
}

const table = (lines: Line[], kind: string) => lines.filter((l) => l.kind === kind).map((l) => [l.tierId, l.fromDate, l.toDate, l.days, l.unroundedMinor, l.amountMinor]);

t.test('upgrade mid-period: the add-on price follows the new tier from the change day, prorated', async (t) => {
  const h = await hubAt(t, Date.UTC(2026, 7, 1, 9)); // August: 31 days
  await h.customers(1_000); // Mid
  t.equal((await h.addon('activate')).status, 200);
  h.hub.clock.setMs(Date.UTC(2026, 7, 11, 15));
  const up = await h.tier('large');
  t.match(up.addon, { status: 'active', priceTier: { tierId: 'large' }, priceMonthlyMinor: 39_950 }, '50% of 799.00');

  h.hub.clock.setMs(Date.UTC(2026, 8, 1, 0, 5));
  const inv = await h.invoice('2026-08');
  t.same(table(inv.lines, 'subscription'), [
    ['mid', '2026-08-01', '2026-08-10', 10, '9645.16129', 9_645], // 29900 × 10/31
    ['large', '2026-08-11', '2026-08-31', 21, '54125.806451', 54_126], // 79900 × 21/31
  ]);
  t.same(table(inv.lines, 'netflow_addon'), [
    ['mid', '2026-08-01', '2026-08-10', 10, '4822.580645', 4_823], // 29900 × 50% × 10/31
    ['large', '2026-08-11', '2026-08-31', 21, '27062.903225', 27_063], // 79900 × 50% × 21/31
  ]);
  t.equal(inv.totalMinor, 9_645 + 54_126 + 4_823 + 27_063);
});

t.test('downgrade to another eligible tier: the add-on price follows it', async (t) => {
  const h = await hubAt(t, Date.UTC(2026, 9, 1, 9)); // October: 31 days
  await h.customers(2_500); // Large
  await h.addon('activate');
  h.hub.clock.setMs(Date.UTC(2026, 9, 21, 10));
  await h.customers(1_500);
  const down = await h.tier('mid');
  t.match(down.addon, { status: 'active', renew: true, priceTier: { tierId: 'mid' }, priceMonthlyMinor: 14_950 }, 'still renewing; 50% of 299.00');
  t.notOk(down.notices.some((n: { code: string }) => n.code === 'addon_ends_tier_not_eligible'));

  h.hub.clock.setMs(Date.UTC(2026, 10, 1, 0, 5));
  const inv = await h.invoice('2026-10');
  t.same(table(inv.lines, 'netflow_addon'), [
    ['large', '2026-10-01', '2026-10-20', 20, '25774.193548', 25_774], // 79900 × 50% × 20/31
    ['mid', '2026-10-21', '2026-10-31', 11, '5304.838709', 5_305], // 29900 × 50% × 11/31
  ]);
  t.same(table(inv.lines, 'subscription').map((l) => l.at(-1)), [51_548, 10_610]); // 79900 × 20/31, 29900 × 11/31
  t.equal(inv.totalMinor, 51_548 + 10_610 + 25_774 + 5_305);
  t.equal((await h.view()).addon.status, 'active', 'renews into November');
});

t.test('downgrade to a non-eligible tier: collects to the period end at the last eligible price, then ends', async (t) => {
  const h = await hubAt(t, Date.UTC(2026, 6, 1, 9)); // July: 31 days
  await h.customers(1_000); // Mid
  h.hub.clock.setMs(Date.UTC(2026, 6, 5, 14));
  await h.addon('activate');
  h.hub.clock.setMs(Date.UTC(2026, 6, 10, 12));
  await h.customers(400);
  const down = await h.tier('small');
  t.match(down.addon, {
    status: 'cancelling', endReason: 'tier_not_eligible', endsAtMs: Date.UTC(2026, 7, 1), renew: false,
    lastEligible: { tierId: 'mid', monthlyFeeMinor: 29_900 }, priceTier: { tierId: 'mid' }, priceMonthlyMinor: 14_950,
    collection: { allowed: true },
  }, 'not 50% of Small\'s 99.00: the Mid price until 1 August');
  const notice = down.notices.find((n: { code: string }) => n.code === 'addon_ends_tier_not_eligible');
  t.match(notice.text, /Small tier is not eligible.*end of the paid period \(2026-08-01T00:00:00\.000Z\).*last eligible price \(149\.50 USD\/month, 50% of the Mid fee\)/);
  t.match(await h.addon('enable-renewal'), { status: 409, body: { error: { code: 'TIER_NOT_ELIGIBLE' } } });
  t.match(await h.addon('activate'), { status: 409, body: { error: { code: 'ADDON_ALREADY_ACTIVE' } } });

  h.hub.clock.setMs(Date.UTC(2026, 7, 1) - 1);
  t.match((await h.view()).addon, { status: 'cancelling', collection: { allowed: true } }, 'collecting on 31 July 23:59:59.999');
  h.hub.clock.setMs(Date.UTC(2026, 7, 1));
  await h.job('period-end');
  t.match((await h.view()).addon, { status: 'ended', endReason: 'tier_not_eligible', stoppedAtMs: Date.UTC(2026, 7, 1), collection: { allowed: false } });

  h.hub.clock.setMs(Date.UTC(2026, 7, 1, 0, 5));
  const july = await h.invoice('2026-07');
  t.same(table(july.lines, 'subscription'), [
    ['mid', '2026-07-01', '2026-07-09', 9, '8680.645161', 8_681], // 29900 × 9/31
    ['small', '2026-07-10', '2026-07-31', 22, '7025.806451', 7_026], // 9900 × 22/31
  ]);
  // One add-on line, activation day to period end, all at Mid's price (the days on Small included).
  t.same(table(july.lines, 'netflow_addon'), [['mid', '2026-07-05', '2026-07-31', 27, '13020.967741', 13_021]]); // 29900 × 50% × 27/31
  const addonLine = july.lines.find((l) => l.kind === 'netflow_addon')!;
  t.match(addonLine, { monthlyFeeMinor: 29_900, percentOfFee: 50, daysInPeriod: 31, description: /50% of the Mid fee, the last eligible tier/ });
  t.equal(july.totalMinor, 8_681 + 7_026 + 13_021);

  h.hub.clock.setMs(Date.UTC(2026, 8, 1, 0, 5));
  const august = await h.invoice('2026-08');
  t.same(august.lines.map((l) => [l.kind, l.tierId, l.amountMinor]), [['subscription', 'small', 9_900]], 'no add-on after it ended');
});

t.test('down to a non-eligible tier and back up before the period ends: the price follows the new tier, renewal can be restored', async (t) => {
  const h = await hubAt(t, Date.UTC(2026, 8, 1, 9)); // September: 30 days
  await h.customers(1_000); // Mid
  await h.addon('activate');
  h.hub.clock.setMs(Date.UTC(2026, 8, 11, 9));
  await h.customers(400);
  t.match((await h.tier('small')).addon, { status: 'cancelling', priceTier: { tierId: 'mid' } });
  h.hub.clock.setMs(Date.UTC(2026, 8, 21, 9));
  await h.customers(2_500); // over Small's limit: upgraded to Large automatically
  t.match((await h.view()).addon, { status: 'cancelling', priceTier: { tierId: 'large' }, priceMonthlyMinor: 39_950 }, 'eligible again: follows Large');
  t.match(await h.addon('enable-renewal'), { status: 200, body: { subscription: { addon: { status: 'active' } } } });

  h.hub.clock.setMs(Date.UTC(2026, 9, 1, 0, 5));
  await h.job('period-end');
  const inv = await h.invoice('2026-09');
  t.same(table(inv.lines, 'netflow_addon'), [
    ['mid', '2026-09-01', '2026-09-20', 20, '9966.666666', 9_967], // Mid's price, the Small days included: 29900 × 50% × 20/30
    ['large', '2026-09-21', '2026-09-30', 10, '13316.666666', 13_317], // 79900 × 50% × 10/30
  ]);
  t.same(table(inv.lines, 'subscription').map((l) => [l[0], l.at(-1)]), [['mid', 9_967], ['small', 3_300], ['large', 26_633]]);
  t.equal(inv.totalMinor, 9_967 + 3_300 + 26_633 + 9_967 + 13_317);
  t.match((await h.view()).addon, { status: 'active', collection: { allowed: true } }, 'renewed into October');
});
