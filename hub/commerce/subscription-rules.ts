/**
 * Tier rules, pure: which tier an operator is on, what happens when its active customer count or the
 * requested tier changes, and how the NetFlow add-on's price follows (it is always
 * addonPercentOfFee of the fee in force, so a snapshot of the new tier is all a price change needs).
 */
import { hubError } from '../errors';
import { periodContaining, utcDate } from './billing-period';
import { formatMinor, fractionToDecimalString, roundHalfUpFraction } from '../../common/money';
import { ADDON_NAME } from './netflow-addon';
import type { PriceBook, Tier } from './price-book';
import { findTier, fitTier, tierHolds, tierRank } from './price-book';
import type { Subscription, Transition } from './subscription';
import { snapshotOf, unchanged, withNotice } from './subscription';

export function addonFeeMinorOf(tier: Tier, book: PriceBook): { unrounded: string; monthlyMinor: number } {
  // Shown as a monthly price; invoices prorate and round per line (invoice-builder.ts).
  const num = tier.monthlyFeeMinor * book.addonPercentOfFee;
  return { unrounded: fractionToDecimalString(num, 100), monthlyMinor: roundHalfUpFraction(num, 100) };
}

/**
 * Move to another tier. Upgrades are always allowed; a tier below the active customer count is
 * refused (TIER_LIMIT_EXCEEDED). The add-on's price follows the new fee from the change's UTC day.
 * On a tier that is not NetFlow-eligible a running add-on is not cut short: it ends at the end of
 * the paid period (a trial at its end or the period's end, whichever is first), with a notice.
 */
export function changeTier(sub: Subscription, book: PriceBook, tierId: string, nowMs: number, cause = 'requested'): Transition {
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
  next = withNotice(next, {
    atMs: nowMs, code: upgrade ? 'tier_upgraded' : 'tier_downgraded',
    text: `Tier ${upgrade ? 'upgraded' : 'downgraded'} (${cause}) from ${old?.name ?? sub.tierId} to ${tier.name} (${fee}) from ${utcDate(nowMs)}; the ${ADDON_NAME} price follows the new fee.`,
  });
  const a = next.addon;
  if (!tier.netflowEligible && (a.status === 'trial' || a.status === 'active')) {
    const periodEndMs = periodContaining(nowMs).endMs;
    if (a.status === 'active') {
      const endsAtMs = a.renew ? periodEndMs : Math.min(a.endsAtMs!, periodEndMs);
      next = { ...next, addon: { ...a, renew: false, endsAtMs, endReason: 'tier_not_eligible' } };
      next = withNotice(next, {
        atMs: nowMs, code: 'addon_ends_tier_not_eligible',
        text: `The ${tier.name} tier is not eligible for ${ADDON_NAME}: the add-on ends at the end of the paid period (${new Date(endsAtMs).toISOString()}); collection stops then.`,
      });
    } else {
      const trialEndsAtMs = Math.min(a.trialEndsAtMs!, periodEndMs);
      next = { ...next, addon: { ...a, trialEndsAtMs } };
      next = withNotice(next, {
        atMs: nowMs, code: 'addon_ends_tier_not_eligible',
        text: `The ${tier.name} tier is not eligible for ${ADDON_NAME}: the trial ends on ${new Date(trialEndsAtMs).toISOString()}.`,
      });
    }
  }
  return { sub: next, snapshots: [snapshotOf(next, book, nowMs, `tier ${old?.tierId ?? '?'} -> ${tier.tierId} (${cause})`)], collectionChanged: false };
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
  if (!findTier(newBook, sub.tierId)) {
    const fits = fitTier(newBook, sub.activeCustomers);
    return changeTier({ ...sub, tierId: `${sub.tierId} (removed)` }, newBook, fits.tierId, nowMs, 'tier removed from the price book');
  }
  const before = snapshotOf(sub, oldBook, nowMs, '');
  const after = snapshotOf(sub, newBook, nowMs, 'price book changed');
  if (before.monthlyFeeMinor === after.monthlyFeeMinor && before.addonPercentOfFee === after.addonPercentOfFee && before.tierName === after.tierName) return unchanged(sub);
  return { sub, snapshots: [after], collectionChanged: false };
}
