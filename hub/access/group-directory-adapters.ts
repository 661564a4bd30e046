import type { KeyValueStore } from '../../common/kv/kv-store';
import { activeSubjectIds } from '../billing/bill-plan';
import { createBillingStore } from '../billing/billing-store';
import { createCollectionConfigStore } from '../edges/collection-config-store';
import type { BillingGroupDirectory, IpGroupDirectory } from './group-directories';

/**
 * The default directories, read through the owning modules' own stores (never their keys), so
 * createAccessModule needs nothing beyond the shared KeyValueStore.
 */

/** IP groups as hub/edges keeps them (the ones pushed to edges). */
export function createIpGroupDirectory(kv: KeyValueStore): IpGroupDirectory {
  const configs = createCollectionConfigStore(kv);
  return {
    async listIpGroups(operatorId) {
      return (await configs.listGroups(operatorId)).map((g) => ({ name: g.name, prefixes: [...g.prefixes] }));
    },
  };
}

/**
 * A "billing group" is a 95th-percentile bill plan (hub/billing): the customer sees the subjects
 * associated with it now. A deleted plan, or one that does not exist, shows nothing.
 */
export function createBillPlanGroupDirectory(kv: KeyValueStore): BillingGroupDirectory {
  const store = createBillingStore(kv);
  return {
    async subjectsOfBillingGroup(operatorId, planId) {
      const plan = await store.getPlan(operatorId, planId);
      return plan && plan.deletedAtMs === undefined ? activeSubjectIds(plan) : undefined;
    },
  };
}
