/**
 * The NetFlow add-on's state, one shape per status (a discriminated union on `status`). Each status
 * carries exactly the fields it needs, and every state after 'none' carries the operator's history
 * (`trial`, `paid`) as required fields, so a transition that forgets the trial's dates or the paid
 * history does not type-check (issue 12: activation once dropped the trial's dates, and a later
 * refusal then told an operator who had a trial that it "has already had the paid add-on").
 *
 *   none ──start trial──> trial ──(trial.endsAtMs)──> trial_expired ──(purgeAtMs)──> purged
 *    │                      │                            │                              │
 *    └────────activate──────┴───────────activate─────────┴────────────activate──────────┘──> active
 *   active ──cancel / disable renewal / non-eligible tier──> cancelling ──enable renewal──> active
 *   cancelling ──(endsAtMs: end of the paid period)──> ended ──(purgeAtMs)──> purged;  ended ──activate──> active
 *
 * Plain data, stored as JSON (commerce/sub/<operatorId>); decodeAddon reads records stored before
 * this shape existed.
 */
import type { Tier } from './price-book';

/** The free trial, once taken (once per operator): when it started and when it ended or ends. */
export interface TrialRecord { startedAtMs: number; endsAtMs: number }

/** The operator has had the paid add-on: its first activation. */
export interface PaidRecord { firstActivatedAtMs: number }

/**
 * The tier whose fee the add-on's price follows (price = addonPercentOfFee of its monthly fee).
 * Frozen on the state when the add-on keeps running on a tier that is not eligible.
 */
export interface AddonPriceBasis { tierId: string; tierName: string; monthlyFeeMinor: number }

interface Offer {
  /** super_admin's switch: hidden means it cannot be started or activated (a running one is not affected). */
  visible: boolean;
}

/** What the operator has had, carried through every later state (null: never). */
interface History {
  trial: TrialRecord | null;
  paid: PaidRecord | null;
}

export interface AddonNone extends Offer { status: 'none' }

/** Free trial running until trial.endsAtMs; collection since trial.startedAtMs. A trial only ever comes before any paid period. */
export interface AddonTrial extends Offer { status: 'trial'; trial: TrialRecord; paid: null }

/** The trial ran out without activation: collection paused at trial.endsAtMs, data kept until purgeAtMs. */
export interface AddonTrialExpired extends Offer { status: 'trial_expired'; trial: TrialRecord; paid: null; purgeAtMs: number }

interface Paid extends Offer, History {
  paid: PaidRecord;
  /** This paid run's activation (charged from its UTC day). */
  activatedAtMs: number;
  /** Start of the collection window: the trial's start when activated during the trial, else the activation. */
  collectingSinceMs: number;
}

/** Paid and renewing at each period end. */
export interface AddonActive extends Paid { status: 'active' }

export type AddonEndReason = 'cancelled' | 'renewal_disabled' | 'tier_not_eligible';

/** Paid, not renewing: collects and is charged until endsAtMs (always the end of a billing period). */
export type AddonCancelling = Paid & { status: 'cancelling'; endsAtMs: number } & (
  | { endReason: 'cancelled' | 'renewal_disabled' }
  /**
   * The operator moved to a tier that is not NetFlow-eligible: charged at the last eligible tier's
   * price until endsAtMs (README: the downgrade rule). null only for a record stored before that
   * rule, which keeps the price it had (the fee of the tier in force).
   */
  | { endReason: 'tier_not_eligible'; lastEligible: AddonPriceBasis | null }
);

/** A paid add-on ran to the end of its last paid period: collection stopped at stoppedAtMs, data kept until purgeAtMs. */
export interface AddonEnded extends Paid { status: 'ended'; endReason: AddonEndReason; stoppedAtMs: number; purgeAtMs: number }

/** The data of a stopped collection (expired trial or ended add-on) was purged after the retention period. */
export interface AddonPurged extends Offer, History { status: 'purged'; stoppedAtMs: number; purgedAtMs: number }

export type NetflowAddon = AddonNone | AddonTrial | AddonTrialExpired | AddonActive | AddonCancelling | AddonEnded | AddonPurged;

export type AddonStatus = NetflowAddon['status'];

export const ADDON_STATUSES: readonly AddonStatus[] = ['none', 'trial', 'trial_expired', 'active', 'cancelling', 'ended', 'purged'];

/** Is the add-on paid for now (charged on the subscription invoice)? */
export function isBillable(a: NetflowAddon): a is AddonActive | AddonCancelling {
  return a.status === 'active' || a.status === 'cancelling';
}

/** The history of any state ('none' has none). */
export function historyOf(a: NetflowAddon): History {
  return a.status === 'none' ? { trial: null, paid: null } : { trial: a.trial, paid: a.paid };
}

export function basisOfTier(tier: Tier): AddonPriceBasis {
  return { tierId: tier.tierId, tierName: tier.name, monthlyFeeMinor: tier.monthlyFeeMinor };
}

/**
 * The downgrade rule, purely: the add-on's price follows the tier in force while that tier is
 * eligible; on a non-eligible tier a paid add-on that runs to the end of its period keeps the last
 * eligible tier's price. (A legacy record without it: the tier in force, as it was billed before.)
 */
export function addonPriceBasis(tier: Tier, a: NetflowAddon): AddonPriceBasis {
  if (!tier.netflowEligible && a.status === 'cancelling' && a.endReason === 'tier_not_eligible' && a.lastEligible) return a.lastEligible;
  return basisOfTier(tier);
}

// ---------------------------------------------------------------------------------------------
// Records stored before the union: one flat object with optional fields, `renew`, `trialUsed`.

interface LegacyAddon {
  visible?: boolean;
  status?: string;
  trialUsed?: boolean;
  trialStartedAtMs?: number;
  trialEndsAtMs?: number;
  activatedAtMs?: number;
  renew?: boolean;
  endsAtMs?: number;
  endReason?: AddonEndReason;
  collectingSinceMs?: number;
  stoppedAtMs?: number;
  purgeAtMs?: number;
  dataPurgedAtMs?: number;
}

/** What the subscription's notices say about a trial (they outlive the two fields the old activation dropped). */
export interface NoticeLike { atMs: number; code: string; text: string }

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * A trial that an old record lost on activation, recovered from the 'trial_started' notice: its
 * instant is the start, and its text names the planned end ("full access until <ISO>").
 */
function trialFromNotices(notices: readonly NoticeLike[]): TrialRecord | null {
  const started = notices.find((n) => n.code === 'trial_started');
  if (!started) return null;
  const until = /until (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)/.exec(started.text);
  const endsAtMs = until ? Date.parse(until[1]) : NaN;
  return { startedAtMs: started.atMs, endsAtMs: Number.isFinite(endsAtMs) ? endsAtMs : started.atMs };
}

function isCurrentShape(raw: Record<string, unknown>): boolean {
  // The union has no `renew`/`trialUsed`; every status but 'none' has `trial` (possibly null).
  return !('renew' in raw) && !('trialUsed' in raw) && (raw.status === 'none' || 'trial' in raw);
}

/**
 * Read a stored add-on of either shape. A record of the current shape is returned as is; an old
 * flat record is mapped to its state (active with renew=false → cancelling; a purged stop → purged),
 * its trial taken from its dates or, when an old activation dropped them, from the notices.
 */
export function decodeAddon(raw: unknown, notices: readonly NoticeLike[] = []): NetflowAddon {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  if (isCurrentShape(r) && ADDON_STATUSES.includes(r.status as AddonStatus)) return r as unknown as NetflowAddon;
  const o = r as LegacyAddon;
  const visible = o.visible !== false;
  const status = o.status ?? 'none';
  const trial: TrialRecord | null = num(o.trialStartedAtMs)
    ? { startedAtMs: o.trialStartedAtMs, endsAtMs: num(o.trialEndsAtMs) ? o.trialEndsAtMs : o.trialStartedAtMs }
    : o.trialUsed ? trialFromNotices(notices) : null;
  if (status === 'none') return { status: 'none', visible };
  if (status === 'trial' && trial) return { status: 'trial', visible, trial, paid: null };
  const activatedAtMs = num(o.activatedAtMs) ? o.activatedAtMs : undefined;
  const paid: PaidRecord | null = activatedAtMs !== undefined ? { firstActivatedAtMs: activatedAtMs } : null;
  if (num(o.dataPurgedAtMs)) {
    return { status: 'purged', visible, trial, paid, stoppedAtMs: num(o.stoppedAtMs) ? o.stoppedAtMs : o.dataPurgedAtMs, purgedAtMs: o.dataPurgedAtMs };
  }
  if (status === 'trial_expired' && trial) {
    const stoppedAtMs = num(o.stoppedAtMs) ? o.stoppedAtMs : trial.endsAtMs;
    return { status: 'trial_expired', visible, trial: { ...trial, endsAtMs: stoppedAtMs }, paid: null, purgeAtMs: num(o.purgeAtMs) ? o.purgeAtMs : stoppedAtMs };
  }
  if ((status === 'active' || status === 'ended') && paid) {
    const base = { visible, trial, paid, activatedAtMs: paid.firstActivatedAtMs, collectingSinceMs: num(o.collectingSinceMs) ? o.collectingSinceMs : paid.firstActivatedAtMs };
    const endReason: AddonEndReason = o.endReason ?? 'cancelled';
    if (status === 'ended') {
      const stoppedAtMs = num(o.stoppedAtMs) ? o.stoppedAtMs : num(o.endsAtMs) ? o.endsAtMs : base.activatedAtMs;
      return { ...base, status: 'ended', endReason, stoppedAtMs, purgeAtMs: num(o.purgeAtMs) ? o.purgeAtMs : stoppedAtMs };
    }
    if (o.renew !== false || !num(o.endsAtMs)) return { ...base, status: 'active' };
    return endReason === 'tier_not_eligible'
      ? { ...base, status: 'cancelling', endsAtMs: o.endsAtMs, endReason, lastEligible: null }
      : { ...base, status: 'cancelling', endsAtMs: o.endsAtMs, endReason };
  }
  throw new Error(`stored NetFlow add-on state cannot be read: ${JSON.stringify(raw)}`);
}

/**
 * The add-on's price basis recorded on a billing snapshot; a snapshot stored before the downgrade
 * rule has none, and its add-on followed the snapshot's own tier.
 */
export function addonBasisOfSnapshot(snap: { tierId: string; tierName: string; monthlyFeeMinor: number; addonBasis?: AddonPriceBasis }): AddonPriceBasis {
  return snap.addonBasis ?? { tierId: snap.tierId, tierName: snap.tierName, monthlyFeeMinor: snap.monthlyFeeMinor };
}
