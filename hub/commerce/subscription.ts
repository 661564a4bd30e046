/**
 * An operator's subscription: its tier, its active customer count, the NetFlow add-on's state, and
 * the notices shown to the operator. Plain data; the rules that change it are pure functions in
 * subscription-rules.ts and netflow-addon.ts, each returning a Transition.
 */
import { DAY_MS, periodContaining } from './billing-period';
import type { PriceBook } from './price-book';
import { findTier, fitTier } from './price-book';

export type AddonStatus =
  /** never started */
  | 'none'
  /** free trial running until trialEndsAtMs */
  | 'trial'
  /** the trial ran out without activation: collection paused, data kept until purgeAtMs */
  | 'trial_expired'
  /** paid; renew=false means it ends at endsAtMs (the end of the paid period) */
  | 'active'
  /** a paid add-on ran to the end of its last paid period: collection stopped, data kept until purgeAtMs */
  | 'ended';

export type AddonEndReason = 'cancelled' | 'renewal_disabled' | 'tier_not_eligible';

export interface NetflowAddon {
  /** super_admin's switch: hidden means it cannot be started or activated. */
  visible: boolean;
  status: AddonStatus;
  /** A trial is once per operator. */
  trialUsed: boolean;
  trialStartedAtMs?: number;
  trialEndsAtMs?: number;
  activatedAtMs?: number;
  renew: boolean;
  /** status 'active' with renew=false: when it ends (always a period boundary). */
  endsAtMs?: number;
  endReason?: AddonEndReason;
  /** Start of the current (or last) collection window: summaries of buckets before it are refused. */
  collectingSinceMs?: number;
  /** When collection stopped (trial expiry or end of the last paid period). */
  stoppedAtMs?: number;
  /** stoppedAtMs + retention: the series are purged then unless the add-on is activated before. */
  purgeAtMs?: number;
  dataPurgedAtMs?: number;
}

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
    addon: { visible: true, status: 'none', trialUsed: false, renew: false },
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
    addonBillable: sub.addon.status === 'active',
    addonPercentOfFee: book.addonPercentOfFee,
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
