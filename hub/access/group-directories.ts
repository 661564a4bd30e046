/**
 * Ports through which access records resolve NetFlow groups that other hub modules own.
 * createAccessModule defaults both to the owning modules' stores (group-directory-adapters.ts);
 * a record whose group cannot be resolved shows nothing (a customer sees less, never more).
 */

/** Implemented by whoever keeps the operators' IP groups (the ones pushed to edges in EdgeConfig.ip_groups). */
export interface IpGroupDirectory {
  /** Every IP group of the operator with its entries as in EdgeConfig: "192.0.2.0/24", "2001:db8::/32", "a-b". */
  listIpGroups(operatorId: string): Promise<{ name: string; prefixes: string[] }[]>;
}

/** Implemented by hub/billing: which subjects a 95th-percentile billing group bills. */
export interface BillingGroupDirectory {
  /** Subject ids of the group, or undefined when the operator has no such group. */
  subjectsOfBillingGroup(operatorId: string, billingGroupId: string): Promise<string[] | undefined>;
}
