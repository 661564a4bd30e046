/**
 * An operator's subscription: its tier, its active customer count, the NetFlow add-on's state, and
 * the notices shown to the operator. Plain data; the rules that change it are pure functions in
 * subscription-rules.ts and netflow-addon.ts, each returning a Transition.
 */
import type { AddonPriceBasis, NetflowAddon } from './addon-state';
import { addonPriceBasis, isBillable } from './addon-state';
import { DAY_MS, periodContaining } from './invoice-period';
import type { PriceBook } from './price-book';
import { findTier, fitTier } from './price-book';

export type { AddonEndReason, AddonStatus, NetflowAddon } from './addon-state';

export interface Notice { atMs: number; code: string; text: string }

export interface Subscription {
  operatorId: string;
  createdAtMs: number;
  tierId: string;
  activeCustomers: number;
  addon: NetflowAddon;
  /** Most recent last; capped at MAX_NOTICES. */
  notices: Notice[];
  /** Start of the first billing period that has not been invoiced yet. */
  nextInvoicePeriodStartMs: number;
  /** Sequence of the last billing snapshot written for this operator. */
  snapshotSeq: number;
}

/**
 * What was in force for billing from `atMs` on, until the next snapshot. Invoices are computed from
 * these alone, so each bill can be recomputed and explained later (NOTES: keep the inputs).
 */
export interface BillingSnapshot {
  atMs: number;
  seq: number;
  tierId: string;
  tierName: string;
  monthlyFeeMinor: number;
  currency: string;
  addonBillable: boolean;
  addonPercentOfFee: number;
  /**
   * While addonBillable: the tier whose fee the add-on's price follows (addon-state.ts, the downgrade
   * rule). Absent on snapshots stored before the rule: the add-on followed this snapshot's tier.
   */
  addonBasis?: AddonPriceBasis;
  reason: string;
}

export type SnapshotDraft = Omit<BillingSnapshot, 'seq'>;

/** The outcome of a rule: the new subscription plus what the service must persist and announce. */
export interface Transition {
  sub: Subscription;
  /** Billing-relevant changes, each at its own instant (a lazily applied expiry lies in the past). */
  snapshots: SnapshotDraft[];
  /** The operator's collection state (allowed/paused) changed: push configs to its edges. */
  collectionChanged: boolean;
}

export const MAX_NOTICES = 50;

export function newSubscription(operatorId: string, book: PriceBook, nowMs: number): Transition {
  const tier = fitTier(book, 0);
  const sub: Subscription = {
    operatorId,
    createdAtMs: nowMs,
    tierId: tier.tierId,
    activeCustomers: 0,
    addon: { status: 'none', visible: true },
    notices: [],
    nextInvoicePeriodStartMs: periodContaining(nowMs).startMs,
    snapshotSeq: 0,
  };
  return { sub, snapshots: [snapshotOf(sub, book, nowMs, 'subscription started')], collectionChanged: false };
}

export function snapshotOf(sub: Subscription, book: PriceBook, atMs: number, reason: string): SnapshotDraft {
  const tier = findTier(book, sub.tierId) ?? fitTier(book, sub.activeCustomers);
  return {
    atMs,
    tierId: tier.tierId,
    tierName: tier.name,
    monthlyFeeMinor: tier.monthlyFeeMinor,
    currency: book.currency,
    addonBillable: isBillable(sub.addon),
    addonPercentOfFee: book.addonPercentOfFee,
    ...(isBillable(sub.addon) ? { addonBasis: addonPriceBasis(tier, sub.addon) } : {}),
    reason,
  };
}

export function withNotice(sub: Subscription, notice: Notice): Subscription {
  return { ...sub, notices: [...sub.notices, notice].slice(-MAX_NOTICES) };
}

export function unchanged(sub: Subscription): Transition {
  return { sub, snapshots: [], collectionChanged: false };
}

/** Chain two transitions (the second applied to the first's subscription). */
export function then(first: Transition, next: (sub: Subscription) => Transition): Transition {
  const second = next(first.sub);
  return {
    sub: second.sub,
    snapshots: [...first.snapshots, ...second.snapshots],
    collectionChanged: first.collectionChanged || second.collectionChanged,
  };
}

export function daysToMs(days: number): number {
  return days * DAY_MS;
}
