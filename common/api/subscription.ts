/**
 * An operator's subscription: tier, NetFlow add-on, notices and the current period's invoice preview
 * (hub/commerce/commerce-routes.ts → commerce-service.ts viewOf). Used by web/pages/account.js and
 * admin-addons.js. Every subscription write answers with the same SubscriptionResponse.
 */
import type { InvoiceDraftView } from './invoices';

export type AddonStatus = 'none' | 'trial' | 'trial_expired' | 'active' | 'cancelling' | 'ended' | 'purged';
export type AddonEndReason = 'cancelled' | 'renewal_disabled' | 'tier_not_eligible';

export interface TierView {
  tierId: string;
  name: string;
  /** Inclusive upper bound of active customers; null = no limit (the last tier). */
  maxCustomers: number | null;
  monthlyFeeMinor: number;
  /** The fee formatted by the hub with the currency's exponent ("49.99 USD"). */
  monthlyFee: string;
  netflowEligible: boolean;
}

/** The tier whose fee the add-on's price follows. */
export interface AddonPriceBasisView {
  tierId: string;
  tierName: string;
  monthlyFeeMinor: number;
}

/**
 * The NetFlow add-on as the API shows it. The state's own fields exist only in the statuses that carry
 * them (hub/commerce/addon-state.ts): trial in trial/trial_expired and after, endsAtMs in trial (via
 * trial) and cancelling, purgeAtMs in trial_expired and ended, …
 */
export interface AddonView {
  name: string;
  status: AddonStatus;
  /** super_admin's switch: hidden means it cannot be started or activated. */
  visible: boolean;
  trial?: { startedAtMs: number; endsAtMs: number } | null;
  paid?: { firstActivatedAtMs: number } | null;
  activatedAtMs?: number;
  collectingSinceMs?: number;
  /** cancelling: the end of the last paid period. */
  endsAtMs?: number;
  endReason?: AddonEndReason;
  lastEligible?: AddonPriceBasisView | null;
  stoppedAtMs?: number;
  purgeAtMs?: number;
  purgedAtMs?: number;
  /** A trial can be taken once per operator, and not after a paid add-on. */
  trialUsed: boolean;
  /** Renews at the period end (status active). */
  renew: boolean;
  /** Days left of a trial or of a cancelling add-on. */
  daysLeft?: number;
  /** The tier in force may run the add-on. */
  eligible: boolean;
  percentOfFee: number;
  priceTier: AddonPriceBasisView;
  priceMonthlyMinor: number;
  priceMonthly: string;
  /** Whether the operator's edges may collect now, and why not. */
  collection: { allowed: boolean; reason?: string };
}

export interface NoticeView {
  atMs: number;
  code: string;
  text: string;
}

export interface BillingPeriodView {
  /** "YYYY-MM" */
  key: string;
  startMs: number;
  endMs: number;
  days: number;
}

/** The current period's invoice so far, assuming nothing changes until its end. */
export interface InvoicePreviewView extends InvoiceDraftView {
  total: string;
  note: string;
}

export interface SubscriptionView {
  operatorId: string;
  currency: string;
  tier: TierView;
  activeCustomers: number;
  overLimit: 'upgrade' | 'refuse';
  period: BillingPeriodView;
  addon: AddonView;
  /** Most recent last, at most 10. */
  notices: NoticeView[];
  nextInvoicePreview: InvoicePreviewView;
}

/**
 * GET/PUT /api/v1/operators/:op/subscription, PUT …/active-customers, POST …/addons/netflow/:action
 * (start-trial, activate, cancel, disable-renewal, enable-renewal), PUT …/addons/netflow/visibility.
 */
export interface SubscriptionResponse {
  subscription: SubscriptionView;
}

/** PUT /api/v1/operators/:op/addons/netflow/visibility (super_admin). */
export interface AddonVisibilityRequest {
  visible: boolean;
}
