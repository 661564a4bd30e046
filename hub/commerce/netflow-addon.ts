/**
 * The NetFlow Traffic Analysis add-on's lifecycle, as pure functions. The state is a discriminated
 * union by status (addon-state.ts: none, trial, trial_expired, active, cancelling, ended, purged);
 * each command is a pure step from one state to the next or to a coded refusal (nextAddonState),
 * and the time-driven steps (trial expiry, end of a non-renewing paid period, purge) take only the
 * state they apply to. The Subscription-level functions below wrap them with notices, billing
 * snapshots and whether the edges must be told.
 *
 * Collection is allowed while a trial runs or the add-on is paid (until the end of its last paid
 * period); time-driven steps are decided here from the instants stored on the add-on, so the answer
 * is right at the exact instant even if the job that records it runs late.
 */
import type { HubErrorCode } from '../errors';
import { hubError } from '../errors';
import { overlaps } from '../../common/period-slots';
import type { AddonCancelling, AddonEnded, AddonPriceBasis, AddonTrial, AddonTrialExpired, NetflowAddon } from './addon-state';
import { historyOf, isBillable } from './addon-state';
import { DAY_MS, periodContaining, utcDate } from './invoice-period';
import type { PriceBook, Tier } from './price-book';
import { findTier, fitTier } from './price-book';
import type { Subscription, Transition } from './subscription';
import { daysToMs, snapshotOf, unchanged, withNotice } from './subscription';

export const ADDON_NAME = 'NetFlow Traffic Analysis';

/** A command the operator (or the super_admin, or a tier change) gives the add-on. */
export type AddonCommand =
  | { type: 'start_trial' }
  | { type: 'activate' }
  | { type: 'end_at_period_end'; reason: 'cancelled' | 'renewal_disabled' }
  | { type: 'enable_renewal' }
  | { type: 'set_visibility'; visible: boolean }
  /** The operator moved to a tier that is not eligible; lastEligible is the price basis in force before the move. */
  | { type: 'tier_not_eligible'; lastEligible: AddonPriceBasis };

export interface Refusal { code: HubErrorCode; message: string; details?: Record<string, unknown> }

/** The next state (the same object when nothing changes), or why the command is refused. */
export type AddonStep = { ok: true; addon: NetflowAddon } | { ok: false; refusal: Refusal };

export interface StepContext { nowMs: number; tier: Tier; book: PriceBook }

const ok = (addon: NetflowAddon): AddonStep => ({ ok: true, addon });
const refuse = (code: HubErrorCode, message: string, details?: Record<string, unknown>): AddonStep => ({ ok: false, refusal: { code, message, details } });
const iso = (ms: number) => new Date(ms).toISOString();

function hidden(a: NetflowAddon): AddonStep | undefined {
  return a.visible ? undefined : refuse('ADDON_HIDDEN', `The ${ADDON_NAME} add-on is not available for this account: contact your super_admin or support.`);
}

function notEligible(tier: Tier, book: PriceBook): AddonStep | undefined {
  if (tier.netflowEligible) return undefined;
  const eligible = book.tiers.filter((t) => t.netflowEligible).map((t) => t.name).join(' or ');
  return refuse('TIER_NOT_ELIGIBLE', `The ${tier.name} tier is not eligible for ${ADDON_NAME}; it needs the ${eligible} tier.`, { tierId: tier.tierId });
}

/**
 * Why a trial cannot start again. The trial comes first: an operator who had a trial is told the
 * trial was used, even if it later had the paid add-on; "had the paid add-on" is only for an
 * operator who activated without a trial (a trial comes before the first activation).
 */
function trialUsedRefusal(a: NetflowAddon): AddonStep | undefined {
  if (a.status === 'trial') return refuse('TRIAL_ALREADY_USED', `The ${ADDON_NAME} trial is already running, until ${iso(a.trial.endsAtMs)}; activate ${ADDON_NAME} to keep it after that.`);
  const { trial, paid } = historyOf(a);
  if (trial) {
    return refuse('TRIAL_ALREADY_USED', `This account has already used its ${ADDON_NAME} trial (${utcDate(trial.startedAtMs)} to ${utcDate(trial.endsAtMs)}; once per operator); activate ${ADDON_NAME} instead.`, { trialStartedAtMs: trial.startedAtMs, trialEndsAtMs: trial.endsAtMs });
  }
  if (paid) {
    return refuse('TRIAL_ALREADY_USED', `This account has already had the paid add-on (${ADDON_NAME}, since ${utcDate(paid.firstActivatedAtMs)}; a trial comes before the first activation); activate it instead.`, { firstActivatedAtMs: paid.firstActivatedAtMs });
  }
  return undefined;
}

/** The pure state machine of the commands. Time-driven steps are expireTrial, endPaidPeriod and purgeStopped. */
export function nextAddonState(a: NetflowAddon, cmd: AddonCommand, ctx: StepContext): AddonStep {
  const { nowMs, tier, book } = ctx;
  switch (cmd.type) {
    case 'start_trial': {
      const no = hidden(a)
        ?? (isBillable(a) ? refuse('ADDON_ALREADY_ACTIVE', `${ADDON_NAME} is already active.`) : undefined)
        ?? trialUsedRefusal(a) ?? notEligible(tier, book);
      if (no) return no;
      return ok({ status: 'trial', visible: a.visible, trial: { startedAtMs: nowMs, endsAtMs: nowMs + daysToMs(book.trialDays) }, paid: null });
    }
    case 'activate': {
      if (a.status === 'active') return refuse('ADDON_ALREADY_ACTIVE', `${ADDON_NAME} is already active.`);
      if (a.status === 'cancelling') return refuse('ADDON_ALREADY_ACTIVE', `${ADDON_NAME} is active until ${utcDate(a.endsAtMs)}; enable renewal to keep it.`);
      const no = hidden(a) ?? notEligible(tier, book);
      if (no) return no;
      const { trial, paid } = historyOf(a);
      // Activated while the trial runs: the collection window goes on from the trial's start, so
      // summaries of buckets collected during the trial that arrive later are still stored.
      const duringTrial = a.status === 'trial' && nowMs < a.trial.endsAtMs;
      return ok({
        status: 'active', visible: a.visible, trial, paid: paid ?? { firstActivatedAtMs: nowMs },
        activatedAtMs: nowMs, collectingSinceMs: duringTrial ? a.trial.startedAtMs : nowMs,
      });
    }
    case 'end_at_period_end': {
      if (a.status === 'trial') return refuse('ADDON_NOT_ACTIVE', `The ${ADDON_NAME} trial ends by itself on ${utcDate(a.trial.endsAtMs)} and is never charged; there is nothing to cancel.`);
      if (a.status === 'cancelling') return ok(a); // already ends at the period end
      if (a.status !== 'active') return refuse('ADDON_NOT_ACTIVE', `${ADDON_NAME} is not active.`);
      return ok({ ...a, status: 'cancelling', endsAtMs: periodContaining(nowMs).endMs, endReason: cmd.reason });
    }
    case 'enable_renewal': {
      if (a.status === 'active') return ok(a);
      if (a.status !== 'cancelling' || nowMs >= a.endsAtMs) return refuse('ADDON_NOT_ACTIVE', `${ADDON_NAME} is not active; activate it instead.`);
      const no = notEligible(tier, book);
      if (no) return no;
      const { visible, trial, paid, activatedAtMs, collectingSinceMs } = a;
      return ok({ status: 'active', visible, trial, paid, activatedAtMs, collectingSinceMs });
    }
    case 'set_visibility':
      return a.visible === cmd.visible ? ok(a) : ok({ ...a, visible: cmd.visible });
    case 'tier_not_eligible': {
      // README, the downgrade rule: not cut short; it runs to the end of the period at the last eligible price.
      const periodEndMs = periodContaining(nowMs).endMs;
      if (a.status === 'trial') return a.trial.endsAtMs <= periodEndMs ? ok(a) : ok({ ...a, trial: { ...a.trial, endsAtMs: periodEndMs } });
      if (!isBillable(a)) return ok(a);
      const { visible, trial, paid, activatedAtMs, collectingSinceMs } = a;
      const endsAtMs = a.status === 'cancelling' ? Math.min(a.endsAtMs, periodEndMs) : periodEndMs;
      return ok({ status: 'cancelling', visible, trial, paid, activatedAtMs, collectingSinceMs, endsAtMs, endReason: 'tier_not_eligible', lastEligible: cmd.lastEligible });
    }
  }
}

/** The trial ran out at its end: collection pauses then, the data is kept for the retention period. */
export function expireTrial(a: AddonTrial, book: PriceBook): AddonTrialExpired {
  return { status: 'trial_expired', visible: a.visible, trial: a.trial, paid: null, purgeAtMs: a.trial.endsAtMs + daysToMs(book.retentionDays) };
}

/** A non-renewing paid add-on reached the end of its last paid period. */
export function endPaidPeriod(a: AddonCancelling, book: PriceBook): AddonEnded {
  const { visible, trial, paid, activatedAtMs, collectingSinceMs, endsAtMs, endReason } = a;
  return { status: 'ended', visible, trial, paid, activatedAtMs, collectingSinceMs, endReason, stoppedAtMs: endsAtMs, purgeAtMs: endsAtMs + daysToMs(book.retentionDays) };
}

/** The stopped collection's data was purged (the history stays). */
export function purgeStopped(a: AddonTrialExpired | AddonEnded, nowMs: number): NetflowAddon {
  return { status: 'purged', visible: a.visible, trial: a.trial, paid: a.paid, stoppedAtMs: a.status === 'trial_expired' ? a.trial.endsAtMs : a.stoppedAtMs, purgedAtMs: nowMs };
}

// ---------------------------------------------------------------------------------------------
// Subscription-level rules: the steps above plus notices, billing snapshots and edge pushes.

function tierOf(sub: Subscription, book: PriceBook): Tier {
  return findTier(book, sub.tierId) ?? fitTier(book, sub.activeCustomers);
}

function step(sub: Subscription, book: PriceBook, nowMs: number, cmd: AddonCommand): NetflowAddon {
  const s = nextAddonState(sub.addon, cmd, { nowMs, tier: tierOf(sub, book), book });
  if (!s.ok) throw hubError(s.refusal.code, s.refusal.message, s.refusal.details);
  return s.addon;
}

function withAddon(sub: Subscription, addon: NetflowAddon): Subscription {
  return { ...sub, addon };
}

/** Start trial: 15 days (book.trialDays), once per operator, eligible tiers only; no charge, no invoice. */
export function startTrial(sub: Subscription, book: PriceBook, nowMs: number): Transition {
  const addon = step(sub, book, nowMs, { type: 'start_trial' });
  if (addon.status !== 'trial') return unchanged(sub);
  const next = withNotice(withAddon(sub, addon), {
    atMs: nowMs, code: 'trial_started',
    text: `${ADDON_NAME} trial started: full access until ${iso(addon.trial.endsAtMs)}. No charge and no invoice for the trial.`,
  });
  return { sub: next, snapshots: [], collectionChanged: true };
}

/**
 * Activate, during or after the trial (or straight away). The trial ends on activation and the add-on
 * is charged from that UTC day on, on the next subscription invoice (no separate add-on invoice).
 * Reactivating before the purge keeps all collected data.
 */
export function activate(sub: Subscription, book: PriceBook, nowMs: number): Transition {
  const before = sub.addon;
  const addon = step(sub, book, nowMs, { type: 'activate' });
  if (addon.status !== 'active') return unchanged(sub);
  const wasCollecting = before.status === 'trial' && nowMs < before.trial.endsAtMs;
  const kept = before.status === 'trial_expired' || before.status === 'ended' ? ' Data collected before is kept.' : '';
  const next = withNotice(withAddon(sub, addon), {
    atMs: nowMs, code: 'addon_activated',
    text: `${ADDON_NAME} activated: ${book.addonPercentOfFee}% of the subscription fee, charged from ${utcDate(nowMs)} on the next subscription invoice.${kept}`,
  });
  return { sub: next, snapshots: [snapshotOf(next, book, nowMs, 'netflow add-on activated')], collectionChanged: !wasCollecting };
}

/** Cancel, or disable renewal: collection continues to the end of the paid period, then stops. */
export function endAtPeriodEnd(sub: Subscription, book: PriceBook, nowMs: number, reason: 'cancelled' | 'renewal_disabled'): Transition {
  const addon = step(sub, book, nowMs, { type: 'end_at_period_end', reason });
  if (addon === sub.addon || addon.status !== 'cancelling') return unchanged(sub);
  const next = withNotice(withAddon(sub, addon), {
    atMs: nowMs, code: reason === 'cancelled' ? 'addon_cancelled' : 'addon_renewal_disabled',
    text: `${ADDON_NAME} ${reason === 'cancelled' ? 'cancelled' : 'will not renew'}: collection continues until the end of the paid period (${iso(addon.endsAtMs)}), then stops; the data stays readable and is kept for the retention period.`,
  });
  return { sub: next, snapshots: [], collectionChanged: false };
}

/** Undo a cancellation or disabled renewal before the period ends. */
export function enableRenewal(sub: Subscription, book: PriceBook, nowMs: number): Transition {
  const addon = step(sub, book, nowMs, { type: 'enable_renewal' });
  if (addon === sub.addon) return unchanged(sub);
  const next = withNotice(withAddon(sub, addon), {
    atMs: nowMs, code: 'addon_renewal_enabled', text: `${ADDON_NAME} renews again at the end of each period.`,
  });
  // The add-on's price follows the tier in force again (it may have been the last eligible tier's).
  return { sub: next, snapshots: [snapshotOf(next, book, nowMs, 'netflow add-on renewal enabled')], collectionChanged: false };
}

export function setVisibility(sub: Subscription, visible: boolean, nowMs: number): Transition {
  if (sub.addon.visible === visible) return unchanged(sub);
  const next = withNotice(withAddon(sub, { ...sub.addon, visible }), {
    atMs: nowMs, code: visible ? 'addon_shown' : 'addon_hidden',
    text: visible ? `${ADDON_NAME} is available for this account.` : `${ADDON_NAME} was hidden for this account by the super_admin; a running add-on is not affected.`,
  });
  return { sub: next, snapshots: [], collectionChanged: false };
}

/** Is the trial's expiry due at nowMs (not yet recorded)? */
export function trialExpiryDue(sub: Subscription, nowMs: number): boolean {
  return sub.addon.status === 'trial' && nowMs >= sub.addon.trial.endsAtMs;
}

/** Is the end of a non-renewing paid period due at nowMs (not yet recorded)? */
export function periodEndDue(sub: Subscription, nowMs: number): boolean {
  return sub.addon.status === 'cancelling' && nowMs >= sub.addon.endsAtMs;
}

/**
 * Apply the time-driven steps due by nowMs: trial expiry and the end of a non-renewing paid period.
 * Each step is recorded at its own instant (not at nowMs), so late jobs bill and pause exactly.
 */
export function advance(sub: Subscription, book: PriceBook, nowMs: number): Transition {
  const a = sub.addon;
  if (a.status === 'trial' && nowMs >= a.trial.endsAtMs) {
    const expired = expireTrial(a, book);
    const next = withNotice(withAddon(sub, expired), {
      atMs: a.trial.endsAtMs, code: 'trial_expired',
      text: `${ADDON_NAME} trial ended: new data collection is paused. Historical data is kept until ${iso(expired.purgeAtMs)}; activate before then to keep it.`,
    });
    return { sub: next, snapshots: [], collectionChanged: true };
  }
  if (a.status === 'cancelling' && nowMs >= a.endsAtMs) {
    const ended = endPaidPeriod(a, book);
    const why = a.endReason === 'tier_not_eligible' ? ' because the current tier is not eligible' : '';
    const next = withNotice(withAddon(sub, ended), {
      atMs: ended.stoppedAtMs, code: 'addon_ended',
      text: `${ADDON_NAME} ended at the end of the paid period${why}: collection stopped. Data stays readable until ${iso(ended.purgeAtMs)}, then it is purged unless the add-on is activated again.`,
    });
    return { sub: next, snapshots: [snapshotOf(next, book, ended.stoppedAtMs, 'netflow add-on ended at period end')], collectionChanged: true };
  }
  return unchanged(sub);
}

/** Is the stopped collection's data due for purging at nowMs? */
export function purgeDue(sub: Subscription, nowMs: number): boolean {
  const a = sub.addon;
  return (a.status === 'trial_expired' || a.status === 'ended') && nowMs >= a.purgeAtMs;
}

export function markPurged(sub: Subscription, nowMs: number): Subscription {
  const a = sub.addon;
  if (a.status !== 'trial_expired' && a.status !== 'ended') return sub;
  return withNotice(withAddon(sub, purgeStopped(a, nowMs)), {
    atMs: nowMs, code: 'data_purged', text: `${ADDON_NAME} data was purged after the retention period.`,
  });
}

export interface CollectionState { allowed: boolean; reason: string }

/**
 * May the operator's edges collect for an instant (a bucket's start)? Allowed inside the current
 * collection window [since, stop): stop is the trial's end, the end of a non-renewing paid period,
 * or the recorded stop. A late summary of a bucket from before a pause is still inside the window
 * and accepted; nothing is accepted once the data has been purged.
 */
export function collectionStateAt(sub: Subscription | undefined, atMs: number): CollectionState {
  if (!sub) return { allowed: false, reason: `${ADDON_NAME} is not enabled for this operator (start a trial or activate it).` };
  const a = sub.addon;
  switch (a.status) {
    case 'none':
      return { allowed: false, reason: `${ADDON_NAME} is not enabled for this operator (start a trial or activate it).` };
    case 'trial':
      if (atMs < a.trial.startedAtMs) return { allowed: false, reason: 'before the trial started' };
      return atMs < a.trial.endsAtMs
        ? { allowed: true, reason: `trial until ${iso(a.trial.endsAtMs)}` }
        : { allowed: false, reason: `trial expired at ${iso(a.trial.endsAtMs)}: collection paused until the add-on is activated` };
    case 'active':
      if (atMs < a.collectingSinceMs) return { allowed: false, reason: 'before the add-on was activated' };
      return { allowed: true, reason: 'add-on active' };
    case 'cancelling':
      if (atMs < a.collectingSinceMs) return { allowed: false, reason: 'before the add-on was activated' };
      return atMs < a.endsAtMs
        ? { allowed: true, reason: `add-on active until the end of the paid period (${iso(a.endsAtMs)})` }
        : { allowed: false, reason: `add-on ended at the end of the paid period (${iso(a.endsAtMs)})` };
    case 'trial_expired':
      if (atMs >= a.trial.startedAtMs && atMs < a.trial.endsAtMs) return { allowed: true, reason: 'bucket from before collection stopped' };
      return { allowed: false, reason: `trial expired at ${iso(a.trial.endsAtMs)}: collection paused until the add-on is activated` };
    case 'ended':
      if (atMs >= a.collectingSinceMs && atMs < a.stoppedAtMs) return { allowed: true, reason: 'bucket from before collection stopped' };
      return { allowed: false, reason: `add-on ended at ${iso(a.stoppedAtMs)}: collection stopped` };
    case 'purged':
      return { allowed: false, reason: `${ADDON_NAME} data was purged at ${iso(a.purgedAtMs)} after collection stopped; activate it to collect again` };
  }
}

/**
 * The operator's current collection window [sinceMs, untilMs) (untilMs is Infinity while the add-on
 * renews), or undefined when nothing may be collected (no add-on, or the data was purged).
 * collectionStateAt(sub, t).allowed is exactly sinceMs <= t < untilMs.
 */
export function collectionWindow(sub: Subscription | undefined): { sinceMs: number; untilMs: number } | undefined {
  const a = sub?.addon;
  if (!a) return undefined;
  switch (a.status) {
    case 'none':
    case 'purged':
      return undefined;
    case 'trial':
    case 'trial_expired':
      return { sinceMs: a.trial.startedAtMs, untilMs: a.trial.endsAtMs };
    case 'active': return { sinceMs: a.collectingSinceMs, untilMs: Infinity };
    case 'cancelling': return { sinceMs: a.collectingSinceMs, untilMs: a.endsAtMs };
    case 'ended': return { sinceMs: a.collectingSinceMs, untilMs: a.stoppedAtMs };
  }
}

/**
 * May the operator's edges store a bucket spanning [fromMs, toMs)? Allowed iff the bucket's slot
 * belongs to the collection window by the rule the bill's span uses too (common/period-slots.ts: a
 * slot belongs to a period iff it overlaps it; for a bucket, slotInPeriod is exactly this overlaps
 * test): the partial bucket in which a trial starts, the
 * add-on is activated or collection stops holds traffic collected while allowed (the edge collects
 * from the config push on), so it is stored and billed. Refused only when the whole span lies outside
 * the window. The reason names the rule and its instant (sent to the edge in the REJECTED ack).
 */
export function collectionAllowedDuring(sub: Subscription | undefined, fromMs: number, toMs: number): CollectionState {
  const w = collectionWindow(sub);
  const a = sub?.addon;
  if (!w || !a) {
    if (a?.status === 'purged') return { allowed: false, reason: `${ADDON_NAME} data was purged at ${iso(a.purgedAtMs)} after collection stopped` };
    return { allowed: false, reason: `${ADDON_NAME} is not enabled for this operator (start a trial or activate it)` };
  }
  if (overlaps({ startSec: fromMs / 1000, endSec: toMs / 1000 }, { startSec: w.sinceMs / 1000, endSec: w.untilMs / 1000 })) {
    return { allowed: true, reason: collectionStateAt(sub, Math.min(Math.max(fromMs, w.sinceMs), w.untilMs - 1)).reason };
  }
  if (toMs <= w.sinceMs) {
    const what = a.status === 'trial' || a.status === 'trial_expired' ? 'trial started' : 'add-on was activated';
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
  const end = a.status === 'trial' ? a.trial.endsAtMs : a.status === 'cancelling' ? a.endsAtMs : undefined;
  if (end === undefined) return undefined;
  return Math.max(0, Math.ceil((end - nowMs) / DAY_MS));
}

/**
 * The add-on's state as the API shows it: the stored state of its status (status-specific fields,
 * plus `trial` and `paid`, the history) and two derived flags the pages use: `trialUsed` (no trial
 * can start: one was had, or the paid add-on was) and `renew` (paid and renewing).
 */
export function addonStateView(sub: Subscription): NetflowAddon & { trialUsed: boolean; renew: boolean } {
  const a = sub.addon;
  const { trial, paid } = historyOf(a);
  return { ...a, trialUsed: trial !== null || paid !== null, renew: a.status === 'active' };
}
