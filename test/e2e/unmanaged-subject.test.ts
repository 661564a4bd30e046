/**
 * The rule "when a subject is unmanaged/deleted, its bill is generated at that instant",
 * across modules of the real hub: deleting an IP group (hub/edges) bills that subject (hub/billing).
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { createStack } from './stack';

const START_MS = Date.UTC(2026, 10, 2, 12, 0, 0);

t.test('deleting an IP group that is in a bill plan bills it at once and frees it', async (t) => {
  const dir = stackDir(t);
  const stack = await createStack(dir, { startMs: START_MS, operatorId: 'isp1', ipGroups: [{ name: 'cust-a', prefixes: ['10.1.0.0/16'] }] });
  t.teardown(() => stack.close());
  const { plan } = await stack.api('POST', '/operators/isp1/bill-plans', {
    name: 'Customer A 95th', billingPeriod: 'monthly', generationDay: 1, emails: 'billing@isp.example',
    currency: 'USD', baseSpeedBps: 100_000_000, baseCostMinor: 50_000, additionalSpeedBps: 10_000_000, additionalCostMinor: 4_000,
    percentileMethod: 'merge', subjectIds: ['ipg:cust-a'],
  });
  t.ok(plan, 'plan created');
  t.same((await stack.api('GET', '/operators/isp1/bills')).bills, [], 'no bill before');

  stack.clock.setMs(START_MS + 6 * 3600_000);
  const token = (await stack.api('POST', '/login', { username: 'admin', password: 'admin-pw' })).token;
  const res = await fetch(`${stack.httpUrl}/api/v1/operators/isp1/ip-groups/cust-a`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  t.equal(res.status, 204);

  const { bills } = await stack.api('GET', '/operators/isp1/bills');
  t.equal(bills.length, 1, 'one bill, made at the deletion');
  t.equal(bills[0].subjectId, 'ipg:cust-a');
  t.equal(bills[0].reason, 'subject_unmanaged');
  t.equal(bills[0].spanStartSec, START_MS / 1000, 'from the association');
  t.equal(bills[0].spanEndSec, (START_MS + 6 * 3600_000) / 1000, 'to the instant of deletion');
  const { subjects } = await stack.api('GET', '/operators/isp1/bill-plans/available-subjects').catch(() => ({ subjects: undefined }));
  if (subjects) t.notOk(subjects.some((s: { subjectId: string }) => s.subjectId === 'ipg:cust-a'), 'a deleted group is not offered again');
});
