/**
 * Issue 12, one source of truth for money: a bill plan's currency must be an active ISO 4217 code
 * (common/money.ts), and the plan bills in that currency's minor units. Before, any three-letter
 * code was accepted and billed with 2 decimals. Against the real hub (every module), over HTTP,
 * with its clock controlled.
 */
import t, { type Test } from 'tap';
import { stackDir } from '../../helpers/stack-dir';
import { createHubModules } from '../../../hub/hub-modules';
import { startTestHub } from '../spine/hub-harness';

const OP = 'isp1';
const NOV_1 = Date.UTC(2026, 10, 1);
const plan = (currency: unknown, extra: Record<string, unknown> = {}) => ({
  name: 'Uplink', description: '', billingPeriod: 'monthly', generationDay: 1, emails: '',
  currency, baseSpeedBps: 10_000_000, baseCostMinor: 12_345, additionalSpeedBps: 1_000_000, additionalCostMinor: 1_000,
  percentileMethod: 'merge', ...extra,
});

async function billingHub(t: Test) {
  const h = await startTestHub({ modules: createHubModules, nowMs: NOV_1, config: { dataDir: stackDir(t) } });
  t.teardown(() => h.close());
  t.equal((await h.admin('POST', '/api/v1/operators', { operatorId: OP, name: 'ISP One' })).status, 201);
  return { h, api: (method: string, route: string, body?: unknown) => h.admin(method, `/api/v1/operators/${OP}${route}`, body) };
}

t.test('a bill plan in a currency that is not an active ISO 4217 code is refused, naming the field', async (t) => {
  const { api } = await billingHub(t);
  for (const currency of ['ABC', 'XAU', 'XXX', 'usd', 'US', 42, undefined]) {
    const res = await api('POST', '/bill-plans', plan(currency));
    t.equal(res.status, 400, `${String(currency)}: 400`);
    t.equal(res.body.error.code, 'VALIDATION_FAILED');
    t.equal(res.body.error.details?.field, 'currency', 'the field is named');
    t.match(res.body.error.message, /^currency: .*ISO 4217/);
  }
  t.match((await api('POST', '/bill-plans', plan('ABC'))).body.error.message, /"ABC" is not an active ISO 4217 currency code/);
  t.same((await api('GET', '/bill-plans')).body.plans, [], 'nothing stored');
  t.equal((await api('POST', '/bill-plans', plan('CLF'))).status, 201, 'an ISO fund code with 4 decimals is a currency');
});

t.test('a KWD plan bills in fils: 3 decimals, rounded half up once', async (t) => {
  const { h, api } = await billingHub(t);
  const created = await api('POST', '/bill-plans', plan('KWD', { subjectIds: ['ipg:cust-a'] }));
  t.equal(created.status, 201);
  // Half of November (4320 of 8640 slots) in the plan: 12.345 KWD × 1/2 = 6.1725, half up → 6.173 KWD.
  h.clock.advanceMs(15 * 86_400_000);
  const token = (await h.api('POST', '/api/v1/login', { username: 'admin', password: 'admin-pw' })).body.token as string; // the first session has expired by now
  const api2 = (method: string, route: string) => h.api(method, `/api/v1/operators/${OP}${route}`, undefined, token);
  const removed = await api2('DELETE', `/bill-plans/${created.body.plan.planId}/subjects/${encodeURIComponent('ipg:cust-a')}`);
  t.equal(removed.status, 200);
  const [bill] = removed.body.bills;
  t.equal(bill.charge.currency, 'KWD');
  t.equal(bill.charge.billedSlots, 4320);
  t.equal(bill.charge.cycleSlots, 8640);
  t.equal(bill.charge.cycleAmountMinor, 12_345);
  t.equal(bill.charge.amountMinor, 6_173, '6172.5 fils rounds half up to 6173');
  t.match(bill.charge.rule, /Base 12\.345 KWD covers/, 'the base cost shown with 3 decimals');
  t.match(bill.charge.rule, /= 6\.173 KWD/, 'the amount with 3 decimals');
  t.notMatch(bill.charge.rule, /123\.45 KWD|61\.73 KWD/, 'never with 2');
  const listed = (await api2('GET', '/bills')).body.bills;
  t.equal(listed[0].amountMinor, 6_173);
  t.equal(listed[0].currency, 'KWD');
});
