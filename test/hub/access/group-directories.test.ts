import t from 'tap';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { createBillingStore } from '../../../hub/billing/billing-store';
import type { BillPlan } from '../../../hub/billing/bill-plan';
import { createCollectionConfigStore } from '../../../hub/edges/collection-config-store';
import { createBillPlanGroupDirectory, createIpGroupDirectory } from '../../../hub/access/group-directory-adapters';

t.test('default directories read IP groups and bill plans through their owners\' stores', async (t) => {
  const kv = createMemoryKvStore();
  await createCollectionConfigStore(kv).putGroup('isp1', 'cust-a', ['203.0.113.0/29'], 'create');
  t.same(await createIpGroupDirectory(kv).listIpGroups('isp1'), [{ name: 'cust-a', prefixes: ['203.0.113.0/29'] }]);
  t.same(await createIpGroupDirectory(kv).listIpGroups('isp2'), []);

  const billing = createBillingStore(kv);
  const plan = {
    operatorId: 'isp1', planId: 'plan-1', name: 'P', description: '', billingPeriod: 'monthly', generationDay: 1, emails: [], tariffs: [],
    associations: [{ subjectId: 'ipg:now', fromSec: 10 }, { subjectId: 'ipg:before', fromSec: 0, toSec: 10, endReason: 'subject_removed' }],
    createdAtMs: 0, updatedAtMs: 0,
  } as unknown as BillPlan;
  await billing.savePlan(plan, { claim: ['ipg:now'] });
  const dir = createBillPlanGroupDirectory(kv);
  t.same(await dir.subjectsOfBillingGroup('isp1', 'plan-1'), ['ipg:now'], 'only subjects associated now');
  t.equal(await dir.subjectsOfBillingGroup('isp2', 'plan-1'), undefined, 'another operator\'s plan is not found');
  await billing.savePlan({ ...plan, deletedAtMs: 5 });
  t.equal(await dir.subjectsOfBillingGroup('isp1', 'plan-1'), undefined, 'a deleted plan shows nothing');
});
