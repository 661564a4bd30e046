/**
 * Tier rules, pure: which tier an operator is on, what happens when its active customer count or the
 * requested tier changes, and how the NetFlow add-on's price follows: addonPercentOfFee of the fee
 * of the tier in force while it is eligible, else of the last eligible tier until the add-on ends
 * (the downgrade rule; every snapshot records that basis, so invoices need nothing else).
 */
import { hubError } from '../errors';
import { utcDate } from './invoice-period';
import { formatMinor, fractionToDecimalString, roundHalfUpFraction } from '../../common/money';
import type { AddonPriceBasis } from './addon-state';
import { addonPriceBasis } from './addon-state';
import { ADDON_NAME, nextAddonState } from './netflow-addon';
import type { PriceBook, Tier } from './price-book';
import { findTier, fitTier, tierHolds, tierRank } from './price-book';
import type { SnapshotDraft, Subscription, Transition } from './subscription';
import { snapshotOf, unchanged, withNotice } from './subscription';

/** The add-on's monthly price on a price basis (the tier whose fee it follows: addon-state.ts). */
export function addonFeeMinorOf(basis: Pick<Tier, 'monthlyFeeMinor'>, book: PriceBook): { unrounded: string; monthlyMinor: number } {
  // Shown as a monthly price; invoices prorate and round per line (invoice.ts).
  const num = basis.monthlyFeeMinor * book.addonPercentOfFee;
  return { unrounded: fractionToDecimalString(num, 100), monthlyMinor: roundHalfUpFraction(num, 100) };
}

/**
 * Move to another tier. Upgrades are always allowed; a tier below the active customer count is
 * refused (TIER_LIMIT_EXCEEDED). The add-on's price follows the new fee from the change's UTC day
 * when the new tier is NetFlow-eligible. On a tier that is not eligible the downgrade rule applies
 * (README; ineligibleTierRule). `priorBasis`: the add-on's price basis before the change, when the
 * old tier is no longer in `book` (a removed tier).
 */
export function changeTier(sub: Subscription, book: PriceBook, tierId: string, nowMs: number, cause = 'requested', priorBasis?: AddonPriceBasis): Transition {
  const tier = findTier(book, tierId);
  if (!tier) throw hubError('VALIDATION_FAILED', `tierId ${tierId}: not in the price book (${book.tiers.map((t) => t.tierId).join(', ')})`);
  if (tier.tierId === sub.tierId) return unchanged(sub);
  if (!tierHolds(tier, sub.activeCustomers)) {
    throw hubError('TIER_LIMIT_EXCEEDED', `The ${tier.name} tier holds up to ${tier.maxCustomers} active customers; this operator has ${sub.activeCustomers}.`, { tierId: tier.tierId, maxCustomers: tier.maxCustomers, activeCustomers: sub.activeCustomers });
  }
  const old = findTier(book, sub.tierId);
  const upgrade = old === undefined || tierRank(book, tier.tierId) > tierRank(book, old.tierId);
  let next: Subscription = { ...sub, tierId: tier.tierId };
  const fee = `${formatMinor(tier.monthlyFeeMinor, book.currency)} ${book.currency}/month`;
  const follows = tier.netflowEligible ? `; the ${ADDON_NAME} price follows the new fee` : '';
  next = withNotice(next, {
    atMs: nowMs, code: upgrade ? 'tier_upgraded' : 'tier_downgraded',
    text: `Tier ${upgrade ? 'upgraded' : 'downgraded'} (${cause}) from ${old?.name ?? sub.tierId} to ${tier.name} (${fee}) from ${utcDate(nowMs)}${follows}.`,
  });
  if (!tier.netflowEligible) {
    const lastEligible = priorBasis ?? (old ? addonPriceBasis(old, sub.addon) : undefined);
    if (lastEligible) next = ineligibleTierRule(next, book, tier, lastEligible, nowMs);
  }
  return { sub: next, snapshots: [snapshotOf(next, book, nowMs, `tier ${old?.tierId ?? '?'} -> ${tier.tierId} (${cause})`)], collectionChanged: false };
}

/**
 * The downgrade rule (README), for an operator now on a tier that is not NetFlow-eligible: a running
 * add-on is not cut short. A paid one runs and collects to the end of the current billing period,
 * charged at the last eligible tier's price (lastEligible: the basis in force before the move), then
 * ends; a trial ends at its own end or the period's end, whichever is first. Notified either way.
 */
function ineligibleTierRule(sub: Subscription, book: PriceBook, tier: Tier, lastEligible: AddonPriceBasis, nowMs: number): Subscription {
  const s = nextAddonState(sub.addon, { type: 'tier_not_eligible', lastEligible }, { nowMs, tier, book });
  if (!s.ok || s.addon === sub.addon) return sub;
  const a = s.addon;
  const next = { ...sub, addon: a };
  if (a.status === 'trial') {
    return withNotice(next, {
      atMs: nowMs, code: 'addon_ends_tier_not_eligible',
      text: `The ${tier.name} tier is not eligible for ${ADDON_NAME}: the trial ends on ${new Date(a.trial.endsAtMs).toISOString()}.`,
    });
  }
  if (a.status !== 'cancelling') return next;
  const basis = addonPriceBasis(tier, a);
  const price = `${formatMinor(addonFeeMinorOf(basis, book).monthlyMinor, book.currency)} ${book.currency}/month, ${book.addonPercentOfFee}% of the ${basis.tierName} fee`;
  return withNotice(next, {
    atMs: nowMs, code: 'addon_ends_tier_not_eligible',
    text: `The ${tier.name} tier is not eligible for ${ADDON_NAME}: the add-on ends at the end of the paid period (${new Date(a.endsAtMs).toISOString()}); collection stops then. Until then it is charged at the last eligible price (${price}).`,
  });
}

/**
 * Record the operator's active customer count. Above the tier's limit the tier is upgraded to the
 * one that fits, or the count is refused when the price book says overLimit='refuse'. A lower
 * count never downgrades by itself (the operator chooses a downgrade).
 */
export function setActiveCustomers(sub: Subscription, book: PriceBook, count: number, nowMs: number): Transition {
  if (!Number.isInteger(count) || count < 0 || count > 1e9) throw hubError('VALIDATION_FAILED', 'count: expected an integer 0..1e9');
  const tier = findTier(book, sub.tierId) ?? fitTier(book, count);
  if (tierHolds(tier, count)) return { sub: { ...sub, activeCustomers: count }, snapshots: [], collectionChanged: false };
  const fits = fitTier(book, count);
  if (book.overLimit === 'refuse') {
    throw hubError('TIER_LIMIT_EXCEEDED', `${count} active customers exceed the ${tier.name} tier's limit of ${tier.maxCustomers}; upgrade to ${fits.name} first.`, { tierId: tier.tierId, maxCustomers: tier.maxCustomers, activeCustomers: count, fitsTierId: fits.tierId });
  }
  return changeTier({ ...sub, activeCustomers: count }, book, fits.tierId, nowMs, `automatic: ${count} active customers exceed ${tier.maxCustomers}`);
}

/**
 * A new price book applies from the moment it is saved (prorated like a tier change). An operator
 * whose tier no longer exists moves to the tier that fits its customers.
 */
export function applyPriceBook(sub: Subscription, oldBook: PriceBook, newBook: PriceBook, nowMs: number): Transition {
  const oldTier = findTier(oldBook, sub.tierId) ?? fitTier(oldBook, sub.activeCustomers);
  const priorBasis = addonPriceBasis(oldTier, sub.addon);
  const tier = findTier(newBook, sub.tierId);
  if (!tier) {
    const fits = fitTier(newBook, sub.activeCustomers);
    return changeTier({ ...sub, tierId: `${sub.tierId} (removed)` }, newBook, fits.tierId, nowMs, 'tier removed from the price book', priorBasis);
  }
  // The operator's tier stopped being eligible: the same rule as a move to a non-eligible tier.
  const moved = !tier.netflowEligible && oldTier.netflowEligible ? ineligibleTierRule(sub, newBook, tier, priorBasis, nowMs) : sub;
  const before = snapshotOf(sub, oldBook, nowMs, '');
  const after = snapshotOf(moved, newBook, nowMs, 'price book changed');
  if (moved === sub && sameBillingState(before, after)) return unchanged(sub);
  return { sub: moved, snapshots: [after], collectionChanged: false };
}

function sameBillingState(a: SnapshotDraft, b: SnapshotDraft): boolean {
  return a.monthlyFeeMinor === b.monthlyFeeMinor && a.addonPercentOfFee === b.addonPercentOfFee && a.tierName === b.tierName
    && a.addonBasis?.monthlyFeeMinor === b.addonBasis?.monthlyFeeMinor && a.addonBasis?.tierName === b.addonBasis?.tierName;
}
