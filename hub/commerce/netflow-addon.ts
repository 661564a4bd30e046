/**
 * The NetFlow Traffic Analysis add-on's lifecycle, as pure functions of (subscription, price book, now).
 *
 *   none --start-trial--> trial --(trialEndsAt)--> trial_expired --(purgeAt)--> data purged
 *     |                     |                           |
 *     +------activate-------+-----------activate--------+--> active --cancel/disable-renewal--> active(renew=false)
 *                                                                    --(endsAt = end of paid period)--> ended --(purgeAt)--> purged
 *
 * Collection is allowed while a trial runs or the add-on is active (until the end of its last paid
 * period); time-driven steps (expiry, end of period) are decided here from the instants stored on the
 * add-on, so the answer is right at the exact instant even if the job that records it runs late.
 */
import { hubError } from '../errors';
import { DAY_MS, periodContaining, utcDate } from './billing-period';
import type { PriceBook, Tier } from './price-book';
import { findTier, fitTier } from './price-book';
import type { NetflowAddon, Subscription, Transition } from './subscription';
import { daysToMs, snapshotOf, unchanged, withNotice } from './subscription';

export const ADDON_NAME = 'NetFlow Traffic Analysis';

function tierOf(sub: Subscription, book: PriceBook): Tier {
  return findTier(book, sub.tierId) ?? fitTier(book, sub.activeCustomers);
}

function assertVisible(sub: Subscription): void {
  if (!sub.addon.visible) {
    throw hubError('ADDON_HIDDEN', `The ${ADDON_NAME} add-on is not available for this account: contact your super_admin or support.`);
  }
}

function assertEligible(sub: Subscription, book: PriceBook): void {
  const tier = tierOf(sub, book);
  if (!tier.netflowEligible) {
    const eligible = book.tiers.filter((t) => t.netflowEligible).map((t) => t.name).join(' or ');
    throw hubError('TIER_NOT_ELIGIBLE', `The ${tier.name} tier is not eligible for ${ADDON_NAME}; it needs the ${eligible} tier.`, { tierId: tier.tierId });
  }
}

function withAddon(sub: Subscription, addon: NetflowAddon): Subscription {
  return { ...sub, addon };
}

/** Start trial: 15 days (book.trialDays), once per operator, eligible tiers only; no charge, no invoice. */
export function startTrial(sub: Subscription, book: PriceBook, nowMs: number): Transition {
  assertVisible(sub);
  if (sub.addon.status === 'active') throw hubError('ADDON_ALREADY_ACTIVE', `${ADDON_NAME} is already active.`);
  if (sub.addon.trialUsed) {
    const why = sub.addon.trialStartedAtMs === undefined ? 'has already had the paid add-on (a trial comes before the first activation)' : 'has already used its trial (once per operator)';
    throw hubError('TRIAL_ALREADY_USED', `This account ${why}; activate ${ADDON_NAME} instead.`);
  }
  assertEligible(sub, book);
  const trialEndsAtMs = nowMs + daysToMs(book.trialDays);
  const addon: NetflowAddon = {
    visible: true, status: 'trial', trialUsed: true, trialStartedAtMs: nowMs, trialEndsAtMs, renew: false, collectingSinceMs: nowMs,
  };
  const next = withNotice(withAddon(sub, addon), {
    atMs: nowMs, code: 'trial_started',
    text: `${ADDON_NAME} trial started: full access until ${new Date(trialEndsAtMs).toISOString()}. No charge and no invoice for the trial.`,
  });
  return { sub: next, snapshots: [], collectionChanged: true };
}

/**
 * Activate, during or after the trial (or straight away). The trial ends on activation and the add-on
 * is charged from that UTC day on, on the next subscription invoice (no separate add-on invoice).
 * Reactivating before the purge keeps all collected data.
 */
export function activate(sub: Subscription, book: PriceBook, nowMs: number): Transition {
  assertVisible(sub);
  const a = sub.addon;
  if (a.status === 'active') {
    throw hubError('ADDON_ALREADY_ACTIVE', a.renew ? `${ADDON_NAME} is already active.` : `${ADDON_NAME} is active until ${utcDate(a.endsAtMs!)}; enable renewal to keep it.`);
  }
  assertEligible(sub, book);
  const wasCollecting = a.status === 'trial' && nowMs < a.trialEndsAtMs!;
  const addon: NetflowAddon = {
    visible: a.visible, status: 'active', trialUsed: true, // activation uses up the trial offer
    // The trial's dates stay: summaries of buckets collected during the trial still arrive after it.
    trialStartedAtMs: a.trialStartedAtMs, trialEndsAtMs: a.trialEndsAtMs,
    activatedAtMs: nowMs, renew: true,
    collectingSinceMs: wasCollecting ? a.collectingSinceMs : nowMs,
  };
  const kept = a.stoppedAtMs !== undefined && a.dataPurgedAtMs === undefined ? ' Data collected before is kept.' : '';
  const next = withNotice(withAddon(sub, addon), {
    atMs: nowMs, code: 'addon_activated',
    text: `${ADDON_NAME} activated: ${book.addonPercentOfFee}% of the subscription fee, charged from ${utcDate(nowMs)} on the next subscription invoice.${kept}`,
  });
  return { sub: next, snapshots: [snapshotOf(next, book, nowMs, 'netflow add-on activated')], collectionChanged: !wasCollecting };
}

/** Cancel, or disable renewal: collection continues to the end of the paid period, then stops. */
export function endAtPeriodEnd(sub: Subscription, nowMs: number, reason: 'cancelled' | 'renewal_disabled'): Transition {
  const a = sub.addon;
  if (a.status === 'trial') throw hubError('ADDON_NOT_ACTIVE', `The ${ADDON_NAME} trial ends by itself on ${utcDate(a.trialEndsAtMs!)} and is never charged; there is nothing to cancel.`);
  if (a.status !== 'active') throw hubError('ADDON_NOT_ACTIVE', `${ADDON_NAME} is not active.`);
  if (!a.renew) return unchanged(sub);
  const endsAtMs = periodContaining(nowMs).endMs;
  const next = withNotice(withAddon(sub, { ...a, renew: false, endsAtMs, endReason: reason }), {
    atMs: nowMs, code: reason === 'cancelled' ? 'addon_cancelled' : 'addon_renewal_disabled',
    text: `${ADDON_NAME} ${reason === 'cancelled' ? 'cancelled' : 'will not renew'}: collection continues until the end of the paid period (${new Date(endsAtMs).toISOString()}), then stops; the data stays readable and is kept for the retention period.`,
  });
  return { sub: next, snapshots: [], collectionChanged: false };
}

/** Undo a cancellation or disabled renewal before the period ends. */
export function enableRenewal(sub: Subscription, book: PriceBook, nowMs: number): Transition {
  const a = sub.addon;
  if (a.status !== 'active' || (!a.renew && nowMs >= a.endsAtMs!)) throw hubError('ADDON_NOT_ACTIVE', `${ADDON_NAME} is not active; activate it instead.`);
  if (a.renew) return unchanged(sub);
  assertEligible(sub, book);
  const next = withNotice(withAddon(sub, { ...a, renew: true, endsAtMs: undefined, endReason: undefined }), {
    atMs: nowMs, code: 'addon_renewal_enabled', text: `${ADDON_NAME} renews again at the end of each period.`,
  });
  return { sub: next, snapshots: [], collectionChanged: false };
}

export function setVisibility(sub: Subscription, visible: boolean, nowMs: number): Transition {
  if (sub.addon.visible === visible) return unchanged(sub);
  const next = withNotice(withAddon(sub, { ...sub.addon, visible }), {
    atMs: nowMs, code: visible ? 'addon_shown' : 'addon_hidden',
    text: visible ? `${ADDON_NAME} is available for this account.` : `${ADDON_NAME} was hidden for this account by the super_admin; a running add-on is not affected.`,
  });
  return { sub: next, snapshots: [], collectionChanged: false };
}

/**
 * Apply the time-driven steps due by nowMs: trial expiry and the end of a non-renewing paid period.
 * Each step is recorded at its own instant (not at nowMs), so late jobs bill and pause exactly.
 */
export function advance(sub: Subscription, book: PriceBook, nowMs: number): Transition {
  const a = sub.addon;
  if (a.status === 'trial' && nowMs >= a.trialEndsAtMs!) {
    const at = a.trialEndsAtMs!;
    const purgeAtMs = at + daysToMs(book.retentionDays);
    const next = withNotice(withAddon(sub, { ...a, status: 'trial_expired', stoppedAtMs: at, purgeAtMs }), {
      atMs: at, code: 'trial_expired',
      text: `${ADDON_NAME} trial ended: new data collection is paused. Historical data is kept until ${new Date(purgeAtMs).toISOString()}; activate before then to keep it.`,
    });
    return { sub: next, snapshots: [], collectionChanged: true };
  }
  if (a.status === 'active' && !a.renew && nowMs >= a.endsAtMs!) {
    const at = a.endsAtMs!;
    const purgeAtMs = at + daysToMs(book.retentionDays);
    const why = a.endReason === 'tier_not_eligible' ? ' because the current tier is not eligible' : '';
    const next = withNotice(withAddon(sub, { ...a, status: 'ended', renew: false, stoppedAtMs: at, purgeAtMs }), {
      atMs: at, code: 'addon_ended',
      text: `${ADDON_NAME} ended at the end of the paid period${why}: collection stopped. Data stays readable until ${new Date(purgeAtMs).toISOString()}, then it is purged unless the add-on is activated again.`,
    });
    return { sub: next, snapshots: [snapshotOf(next, book, at, 'netflow add-on ended at period end')], collectionChanged: true };
  }
  return unchanged(sub);
}

/** Is the stopped collection's data due for purging at nowMs? */
export function purgeDue(sub: Subscription, nowMs: number): boolean {
  const a = sub.addon;
  return (a.status === 'trial_expired' || a.status === 'ended') && a.purgeAtMs !== undefined && a.dataPurgedAtMs === undefined && nowMs >= a.purgeAtMs;
}

export function markPurged(sub: Subscription, nowMs: number): Subscription {
  return withNotice(withAddon(sub, { ...sub.addon, dataPurgedAtMs: nowMs }), {
    atMs: nowMs, code: 'data_purged', text: `${ADDON_NAME} data was purged after the retention period.`,
  });
}

export interface CollectionState { allowed: boolean; reason: string }

/**
 * May the operator's edges collect for an instant (a bucket's start)? Allowed inside the current
 * collection window [collectingSinceMs, stop): stop is the trial's end, the end of a non-renewing
 * paid period, or the recorded stop. A late summary of a bucket from before a pause is still inside
 * the window and accepted; nothing is accepted once the data has been purged.
 */
export function collectionStateAt(sub: Subscription | undefined, atMs: number): CollectionState {
  if (!sub) return { allowed: false, reason: `${ADDON_NAME} is not enabled for this operator (start a trial or activate it).` };
  const a = sub.addon;
  const since = a.collectingSinceMs;
  switch (a.status) {
    case 'none':
      return { allowed: false, reason: `${ADDON_NAME} is not enabled for this operator (start a trial or activate it).` };
    case 'trial':
      if (atMs < since!) return { allowed: false, reason: 'before the trial started' };
      return atMs < a.trialEndsAtMs!
        ? { allowed: true, reason: `trial until ${new Date(a.trialEndsAtMs!).toISOString()}` }
        : { allowed: false, reason: `trial expired at ${new Date(a.trialEndsAtMs!).toISOString()}: collection paused until the add-on is activated` };
    case 'active':
      if (atMs < since!) return { allowed: false, reason: 'before the add-on was activated' };
      if (a.renew) return { allowed: true, reason: 'add-on active' };
      return atMs < a.endsAtMs!
        ? { allowed: true, reason: `add-on active until the end of the paid period (${new Date(a.endsAtMs!).toISOString()})` }
        : { allowed: false, reason: `add-on ended at the end of the paid period (${new Date(a.endsAtMs!).toISOString()})` };
    case 'trial_expired':
    case 'ended': {
      if (a.dataPurgedAtMs === undefined && since !== undefined && atMs >= since && atMs < a.stoppedAtMs!) {
        return { allowed: true, reason: 'bucket from before collection stopped' };
      }
      return {
        allowed: false,
        reason: a.status === 'trial_expired'
          ? `trial expired at ${new Date(a.stoppedAtMs!).toISOString()}: collection paused until the add-on is activated`
          : `add-on ended at ${new Date(a.stoppedAtMs!).toISOString()}: collection stopped`,
      };
    }
  }
}

/**
 * The operator's current collection window [sinceMs, untilMs) (untilMs is Infinity while the add-on
 * renews), or undefined when nothing may be collected (no add-on, or the data was purged).
 * collectionStateAt(sub, t).allowed is exactly sinceMs <= t < untilMs.
 */
export function collectionWindow(sub: Subscription | undefined): { sinceMs: number; untilMs: number } | undefined {
  const a = sub?.addon;
  if (!a || a.collectingSinceMs === undefined) return undefined;
  const sinceMs = a.collectingSinceMs;
  switch (a.status) {
    case 'none': return undefined;
    case 'trial': return { sinceMs, untilMs: a.trialEndsAtMs! };
    case 'active': return { sinceMs, untilMs: a.renew ? Infinity : a.endsAtMs! };
    case 'trial_expired':
    case 'ended':
      return a.dataPurgedAtMs === undefined ? { sinceMs, untilMs: a.stoppedAtMs! } : undefined;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * May the operator's edges store a bucket spanning [fromMs, toMs)? Allowed when the span overlaps the
 * collection window at all: the partial bucket in which a trial starts, the add-on is activated or
 * collection stops holds traffic collected while allowed (the edge collects from the config push on),
 * so refusing it would lose billing data. Refused only when the whole span lies outside the window.
 * The reason names the rule and its instant (sent to the edge in the REJECTED ack).
 */
export function collectionAllowedDuring(sub: Subscription | undefined, fromMs: number, toMs: number): CollectionState {
  const w = collectionWindow(sub);
  const a = sub?.addon;
  if (!w || !a) {
    if (a?.dataPurgedAtMs !== undefined) return { allowed: false, reason: `${ADDON_NAME} data was purged at ${iso(a.dataPurgedAtMs)} after collection stopped` };
    return { allowed: false, reason: `${ADDON_NAME} is not enabled for this operator (start a trial or activate it)` };
  }
  if (fromMs < w.untilMs && toMs > w.sinceMs) {
    return { allowed: true, reason: collectionStateAt(sub, Math.min(Math.max(fromMs, w.sinceMs), w.untilMs - 1)).reason };
  }
  if (toMs <= w.sinceMs) {
    const what = a.status === 'trial' || (a.status === 'trial_expired' && a.activatedAtMs === undefined) ? 'trial started' : 'add-on was activated';
    return { allowed: false, reason: `bucket ended before the ${ADDON_NAME} ${what} at ${iso(w.sinceMs)}` };
  }
  const expired = a.status === 'trial' || a.status === 'trial_expired';
  return {
    allowed: false,
    reason: expired ? `${ADDON_NAME} trial expired at ${iso(w.untilMs)}` : `${ADDON_NAME} add-on ended at ${iso(w.untilMs)} (end of the paid period)`,
  };
}

/** Days left (ceil) of the trial or of a non-renewing paid period; undefined otherwise. */
export function daysLeft(sub: Subscription, nowMs: number): number | undefined {
  const a = sub.addon;
  const end = a.status === 'trial' ? a.trialEndsAtMs : a.status === 'active' && !a.renew ? a.endsAtMs : undefined;
  if (end === undefined) return undefined;
  return Math.max(0, Math.ceil((end - nowMs) / DAY_MS));
}
