import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { createCommerceModule } from '../../../hub/commerce/commerce-module';
import { createIdentityStore } from '../../../hub/identity/identity-store';
import type { Principal } from '../../../hub/http/principal';
import { callApi, createTestApp } from '../../helpers/test-app';

const superAdmin: Principal = { userId: 'u0', username: 'admin', role: 'super_admin' };
const admin1: Principal = { userId: 'u1', username: 'a1', role: 'operator_admin', operatorId: 'isp1' };
const ro1: Principal = { userId: 'u2', username: 'r1', role: 'operator_readonly', operatorId: 'isp1' };
const admin2: Principal = { userId: 'u3', username: 'a2', role: 'operator_admin', operatorId: 'isp2' };
const customer: Principal = { userId: 'customer:c', username: 'c', role: 'customer', operatorId: 'isp1', customerLogin: 'c' };

async function setup() {
  const clock = createManualClock(Date.UTC(2026, 3, 1, 9));
  const kv = createMemoryKvStore();
  const identity = createIdentityStore(kv);
  await identity.createOperator('isp1', 'ISP One', clock.nowMs());
  await identity.createOperator('isp2', 'ISP Two', clock.nowMs());
  const pushes: string[] = [];
  const mod = createCommerceModule({
    kv, clock, log: silentLogger, identity, startJobs: false,
    edgeConfigPusher: { pushConfigs: async (op) => { pushes.push(op); } },
    purgeOperatorData: async () => {},
  });
  const app = createTestApp(mod.routers);
  const api = (method: string, path: string, principal?: Principal, body?: unknown) => callApi(app, method, `/api/v1${path}`, { principal, body });
  return { clock, mod, api, pushes };
}

t.test('subscription view, start trial, activate, invoices: roles and tenants', async (t) => {
  const { api, clock, pushes } = await setup();
  const view = await api('GET', '/operators/isp1/subscription', ro1);
  t.equal(view.status, 200);
  t.equal(view.body.subscription.tier.tierId, 'small');
  t.equal(view.body.subscription.addon.eligible, false);

  const notEligible = await api('POST', '/operators/isp1/addons/netflow/start-trial', admin1);
  t.equal(notEligible.status, 409);
  t.equal(notEligible.body.error.code, 'TIER_NOT_ELIGIBLE');

  t.equal((await api('PUT', '/operators/isp1/active-customers', ro1, { count: 800 })).status, 403, 'read-only cannot write');
  const up = await api('PUT', '/operators/isp1/active-customers', admin1, { count: 800 });
  t.equal(up.body.subscription.tier.tierId, 'mid');

  t.equal((await api('POST', '/operators/isp1/addons/netflow/start-trial', ro1)).body.error.code, 'FORBIDDEN');
  t.equal((await api('POST', '/operators/isp1/addons/netflow/start-trial', admin2)).status, 404, 'another tenant: 404');
  t.equal((await api('POST', '/operators/isp1/addons/netflow/start-trial', customer)).status, 403);
  t.equal((await api('GET', '/operators/isp1/subscription', customer)).status, 403, 'customers see no commerce');
  t.equal((await api('GET', '/operators/isp1/subscription')).status, 401);

  const trial = await api('POST', '/operators/isp1/addons/netflow/start-trial', admin1);
  t.equal(trial.status, 200);
  t.equal(trial.body.subscription.addon.status, 'trial');
  t.equal(trial.body.subscription.addon.daysLeft, 15);
  t.same(trial.body.subscription.addon.collection.allowed, true);
  t.equal(trial.body.subscription.addon.priceMonthly, '149.50');
  t.same(pushes, ['isp1']);
  const twice = await api('POST', '/operators/isp1/addons/netflow/start-trial', admin1);
  t.equal(twice.body.error.code, 'TRIAL_ALREADY_USED');
  t.equal((await api('POST', '/operators/isp1/addons/netflow/cancel', admin1)).body.error.code, 'ADDON_NOT_ACTIVE');
  t.equal((await api('POST', '/operators/isp1/addons/netflow/nope', admin1)).status, 404);

  clock.advanceMs(5 * 86_400_000);
  const act = await api('POST', '/operators/isp1/addons/netflow/activate', admin1);
  t.equal(act.body.subscription.addon.status, 'active');
  t.equal(act.body.subscription.nextInvoicePreview.lines.find((l: { kind: string }) => l.kind === 'netflow_addon').days, 25);
  t.equal((await api('POST', '/operators/isp1/addons/netflow/activate', admin1)).body.error.code, 'ADDON_ALREADY_ACTIVE');

  clock.setMs(Date.UTC(2026, 4, 1, 0, 5));
  t.equal((await api('POST', '/admin/jobs/invoices/run', admin1)).status, 403);
  const run = await api('POST', '/admin/jobs/invoices/run', superAdmin);
  t.same(run.body.result, ['INV-000001']);
  t.equal((await api('POST', '/admin/jobs/nope/run', superAdmin)).status, 404);
  const list = await api('GET', '/operators/isp1/invoices', ro1);
  t.equal(list.body.invoices.length, 1);
  t.equal((await api('GET', '/operators/isp1/invoices/INV-000001', ro1)).body.invoice.totalMinor, 29_900 + 12_458); // 14950 × 25/30 = 12458.33
  t.equal((await api('GET', '/operators/isp2/invoices/INV-000001', admin2)).status, 404, 'another operator\'s invoice is not visible');
  t.equal((await api('GET', '/operators/isp1/invoices', admin2)).status, 404);

  // Credit notes (the full lifecycle through a real hub: credit-notes.test.ts).
  const cn = await api('POST', '/operators/isp1/invoices/INV-000001/credit-notes', superAdmin, { reason: 'goodwill', full: true, idempotencyKey: 'cn-1' });
  t.equal(cn.body.creditNote.number, 'CN-000001');
  t.equal(cn.body.creditNote.totalMinor, -(29_900 + 12_458));
  const cn2 = await api('POST', '/operators/isp1/invoices/INV-000001/credit-notes', superAdmin, { reason: 'goodwill', full: true, idempotencyKey: 'cn-1' });
  t.equal(cn2.body.creditNote.number, 'CN-000001', 'a retry with the same key: the same credit note');
  const cn3 = await api('POST', '/operators/isp1/invoices/INV-000001/credit-notes', superAdmin, { reason: 'goodwill', full: true });
  t.equal(cn3.body.error.code, 'INVOICE_VOID', 'a second full credit note: refused, the invoice is void');
  t.equal((await api('POST', '/operators/isp1/invoices/INV-000001/credit-notes', admin1, { reason: 'x', full: true })).status, 403, 'super_admin only');
  t.equal((await api('GET', '/operators/isp1/invoices/INV-000001', ro1)).body.invoice.totalMinor, 29_900 + 12_458, 'the invoice itself is unchanged');
});

t.test('visibility is super_admin only; hidden add-on says to contact super_admin or support', async (t) => {
  const { api } = await setup();
  await api('PUT', '/operators/isp1/active-customers', admin1, { count: 800 });
  t.equal((await api('PUT', '/operators/isp1/addons/netflow/visibility', admin1, { visible: false })).status, 403);
  t.equal((await api('PUT', '/operators/isp1/addons/netflow/visibility', superAdmin, { visible: 'no' })).body.error.code, 'VALIDATION_FAILED');
  const hidden = await api('PUT', '/operators/isp1/addons/netflow/visibility', superAdmin, { visible: false });
  t.equal(hidden.body.subscription.addon.visible, false);
  for (const action of ['start-trial', 'activate']) {
    const res = await api('POST', `/operators/isp1/addons/netflow/${action}`, admin1);
    t.equal(res.status, 403);
    t.equal(res.body.error.code, 'ADDON_HIDDEN');
    t.match(res.body.error.message, /contact your super_admin or support/);
  }
  await api('PUT', '/operators/isp1/addons/netflow/visibility', superAdmin, { visible: true });
  t.equal((await api('POST', '/operators/isp1/addons/netflow/start-trial', admin1)).status, 200);
});

t.test('price book: super_admin only, validated, over-limit policy refuse', async (t) => {
  const { api } = await setup();
  t.equal((await api('GET', '/price-book', admin1)).status, 403);
  const got = await api('GET', '/price-book', superAdmin);
  t.same(got.body.priceBook.tiers.map((x: { tierId: string }) => x.tierId), ['small', 'mid', 'large']);
  const bad = await api('PUT', '/price-book', superAdmin, { ...got.body.priceBook, tiers: [{ ...got.body.priceBook.tiers[0], monthlyFeeMinor: 12.5 }, got.body.priceBook.tiers[2]] });
  t.equal(bad.body.error.code, 'VALIDATION_FAILED');
  t.match(bad.body.error.message, /tiers\[0\]\.monthlyFeeMinor/);
  t.equal((await api('PUT', '/price-book', superAdmin, { ...got.body.priceBook, currency: 'XXX' })).body.error.code, 'VALIDATION_FAILED');
  const refuse = await api('PUT', '/price-book', superAdmin, { ...got.body.priceBook, overLimit: 'refuse' });
  t.equal(refuse.status, 200);
  const over = await api('PUT', '/operators/isp1/active-customers', admin1, { count: 501 });
  t.equal(over.status, 409);
  t.equal(over.body.error.code, 'TIER_LIMIT_EXCEEDED');
  t.equal(over.body.error.details.fitsTierId, 'mid');
  t.equal((await api('PUT', '/operators/isp1/subscription', admin1, { tierId: 'mid' })).body.subscription.tier.tierId, 'mid');
  t.equal((await api('PUT', '/operators/isp1/active-customers', admin1, { count: 501 })).status, 200);
  t.equal((await api('PUT', '/operators/isp1/subscription', admin1, { tierId: 'gold' })).body.error.code, 'VALIDATION_FAILED');
  t.equal((await api('PUT', '/price-book', superAdmin, { ...got.body.priceBook, currency: 'EUR' })).body.error.code, 'CONFLICT', 'currency is fixed once operators subscribe');
  t.equal((await api('GET', '/operators/ghost/subscription', superAdmin)).status, 404, 'unknown operator');
});

t.test('every operator gets a subscription from the minute job and is invoiced, even without using the API', async (t) => {
  const { api, clock, mod } = await setup();
  await mod.runDueJobs(clock.nowMs());
  clock.setMs(Date.UTC(2026, 4, 1, 0, 5));
  t.same(await mod.runDueJobs(clock.nowMs()), ['trial-expiry', 'period-end', 'invoices', 'retention']);
  const inv = (await api('GET', '/operators/isp2/invoices', admin2)).body.invoices;
  t.equal(inv.length, 1);
  t.equal(inv[0].lines[0].tierId, 'small');
  t.equal(inv[0].lines[0].fromDate, '2026-04-01', 'billed from the operator\'s creation');
  t.equal(inv[0].totalMinor, 9_900);
});
