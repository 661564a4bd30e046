import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeJson, encodeJson } from '../../../common/kv/json-codec';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { addonPriceBasis, decodeAddon, historyOf, type AddonActive } from '../../../hub/commerce/addon-state';
import { DAY_MS } from '../../../hub/commerce/invoice-period';
import * as addon from '../../../hub/commerce/netflow-addon';
import { DEFAULT_PRICE_BOOK, fitTier, validatePriceBook, type PriceBook } from '../../../hub/commerce/price-book';
import { newSubscription, type NetflowAddon, type Subscription } from '../../../hub/commerce/subscription';
import { applyPriceBook, changeTier, setActiveCustomers } from '../../../hub/commerce/subscription-rules';
import { createHubModules } from '../../../hub/hub-modules';
import { startTestHub } from '../spine/hub-harness';

const book: PriceBook = structuredClone(DEFAULT_PRICE_BOOK) as PriceBook;
const t0 = Date.UTC(2026, 4, 10, 12);
const midSub = (): Subscription => setActiveCustomers(newSubscription('isp1', book, t0).sub, book, 1_000, t0).sub;

/** The add-on, narrowed to the state the test expects it in (fails the test otherwise). */
function inState<S extends NetflowAddon['status']>(a: NetflowAddon, status: S): Extract<NetflowAddon, { status: S }> {
  if (a.status !== status) throw new Error(`expected the add-on ${status}, it is ${a.status}`);
  return a as Extract<NetflowAddon, { status: S }>;
}

t.test('tier fitting: Small ≤ 500, Mid 501–2,000, Large 2,001+', async (t) => {
  t.same([0, 500, 501, 2_000, 2_001, 1e6].map((n) => fitTier(book, n).tierId), ['small', 'small', 'mid', 'mid', 'large', 'large']);
  t.equal(fitTier(book, 0).netflowEligible, false);
});

t.test('price book validation names the field', async (t) => {
  t.throws(() => validatePriceBook({ ...book, tiers: [] }), { code: 'VALIDATION_FAILED', message: /tiers/ });
  t.throws(() => validatePriceBook({ ...book, tiers: [book.tiers[1], book.tiers[0], book.tiers[2]] }), { message: /ascending/ });
  t.throws(() => validatePriceBook({ ...book, overLimit: 'maybe' }), { message: /overLimit/ });
  t.throws(() => validatePriceBook({ ...book, tiers: [book.tiers[0], { ...book.tiers[2], maxCustomers: 5000 }] }), { message: /null/ });
  t.same(validatePriceBook(book), book);
});

t.test('cancel is idempotent, enable-renewal undoes it before the period ends, not after', async (t) => {
  let s = addon.activate(midSub(), book, t0).sub;
  s = addon.endAtPeriodEnd(s, book, t0 + DAY_MS, 'cancelled').sub;
  t.equal(inState(s.addon, 'cancelling').endsAtMs, Date.UTC(2026, 5, 1));
  t.equal(addon.endAtPeriodEnd(s, book, t0 + 2 * DAY_MS, 'renewal_disabled').sub, s, 'second cancel changes nothing');
  const renewed = addon.enableRenewal(s, book, t0 + 3 * DAY_MS).sub;
  t.equal(renewed.addon.status, 'active');
  t.notOk('endsAtMs' in renewed.addon, 'a renewing add-on has no end');
  t.equal(addon.collectionStateAt(renewed, Date.UTC(2026, 6, 1)).allowed, true);
  t.throws(() => addon.enableRenewal(s, book, Date.UTC(2026, 5, 1)), { code: 'ADDON_NOT_ACTIVE' }, 'after the end: activate instead');
});

t.test('time-driven steps are recorded at their own instant, whenever advance runs', async (t) => {
  const trial = addon.startTrial(midSub(), book, t0).sub;
  const late = addon.advance(trial, book, t0 + 40 * DAY_MS);
  const expired = inState(late.sub.addon, 'trial_expired');
  t.same(expired.trial, { startedAtMs: t0, endsAtMs: t0 + 15 * DAY_MS }, 'collection stopped at the trial\'s end');
  t.equal(expired.purgeAtMs, t0 + 45 * DAY_MS);
  t.equal(late.collectionChanged, true);
  t.equal(addon.advance(trial, book, t0 + 15 * DAY_MS - 1).sub, trial, 'not yet');
  let paid = addon.activate(midSub(), book, t0).sub;
  paid = addon.endAtPeriodEnd(paid, book, t0, 'cancelled').sub;
  const ended = addon.advance(paid, book, Date.UTC(2026, 5, 3));
  t.equal(ended.sub.addon.status, 'ended');
  t.same(ended.snapshots.map((x) => [x.atMs, x.addonBillable]), [[Date.UTC(2026, 5, 1), false]]);
});

t.test('collection window: refused before the start and after a purge', async (t) => {
  t.equal(addon.collectionStateAt(undefined, t0).allowed, false);
  const trial = addon.startTrial(midSub(), book, t0).sub;
  t.equal(addon.collectionStateAt(trial, t0 - 1).allowed, false, 'bucket before the trial');
  const expired = addon.advance(trial, book, t0 + 20 * DAY_MS).sub;
  t.equal(addon.collectionStateAt(expired, t0 + DAY_MS).allowed, true, 'late summary from inside the trial');
  t.equal(addon.purgeDue(expired, t0 + 45 * DAY_MS - 1), false);
  t.equal(addon.purgeDue(expired, t0 + 45 * DAY_MS), true);
  const purged = addon.markPurged(expired, t0 + 45 * DAY_MS);
  t.equal(addon.purgeDue(purged, t0 + 50 * DAY_MS), false);
  t.equal(addon.collectionStateAt(purged, t0 + DAY_MS).allowed, false, 'nothing is accepted once purged');
});

t.test('a trial on a tier that becomes non-eligible ends at the period end at the latest', async (t) => {
  const trial = addon.startTrial(midSub(), book, Date.UTC(2026, 4, 25)).sub; // would end 9 June
  const low = setActiveCustomers(trial, book, 100, Date.UTC(2026, 4, 26)).sub;
  const down = changeTier(low, book, 'small', Date.UTC(2026, 4, 26)).sub;
  t.equal(inState(down.addon, 'trial').trial.endsAtMs, Date.UTC(2026, 5, 1));
  t.ok(down.notices.some((n) => n.code === 'addon_ends_tier_not_eligible'));
  t.throws(() => addon.startTrial(setActiveCustomers(newSubscription('x', book, t0).sub, book, 10, t0).sub, book, t0), { code: 'TIER_NOT_ELIGIBLE' });
});

t.test('a direct activation uses up the trial offer', async (t) => {
  let s = addon.activate(midSub(), book, t0).sub;
  s = addon.advance(addon.endAtPeriodEnd(s, book, t0, 'cancelled').sub, book, Date.UTC(2026, 5, 2)).sub;
  t.throws(() => addon.startTrial(s, book, Date.UTC(2026, 5, 2)), { code: 'TRIAL_ALREADY_USED', message: /paid add-on/ });
});

t.test('a new price book applies from when it is saved; a removed tier moves the operator to the tier that fits', async (t) => {
  const s = addon.activate(midSub(), book, t0).sub;
  const dearer = { ...book, tiers: book.tiers.map((x) => (x.tierId === 'mid' ? { ...x, monthlyFeeMinor: 39_900 } : x)) };
  const tr = applyPriceBook(s, book, dearer, t0 + DAY_MS);
  t.same(tr.snapshots.map((x) => [x.monthlyFeeMinor, x.addonBillable]), [[39_900, true]]);
  t.same(applyPriceBook(s, book, book, t0).snapshots, [], 'no change, no snapshot');
  const noMid = { ...book, tiers: [book.tiers[0], { ...book.tiers[2], tierId: 'big' }] };
  const moved = applyPriceBook(s, book, noMid, t0 + DAY_MS);
  t.equal(moved.sub.tierId, 'big');
});

t.test('collection over a bucket: refused only when paused for the whole 5-minute span (trial start, activation, expiry, end, purge)', async (t) => {
  const BUCKET_MS = 300_000;
  const during = (s: Subscription | undefined, bucketStartMs: number) => addon.collectionAllowedDuring(s, bucketStartMs, bucketStartMs + BUCKET_MS);
  const startMs = t0 + 90_000; // 12:01:30, inside the bucket [12:00, 12:05)
  const trial = addon.startTrial(midSub(), book, startMs).sub;
  t.equal(during(trial, t0).allowed, true, 'the partial bucket in which the trial started is stored');
  t.equal(addon.collectionStateAt(trial, t0).allowed, false, 'which the instant rule at its start refused (the issue: first bucket lost)');
  t.same(during(trial, t0 - BUCKET_MS), { allowed: false, reason: `bucket ended before the NetFlow Traffic Analysis trial started at ${new Date(startMs).toISOString()}` });
  const endMs = startMs + 15 * DAY_MS;
  const lastBucket = endMs - 90_000;
  for (const s of [trial, addon.advance(trial, book, endMs + DAY_MS).sub]) {
    t.equal(during(s, lastBucket).allowed, true, `${s.addon.status}: the bucket in which the trial expired is stored`);
    t.same(during(s, lastBucket + BUCKET_MS), { allowed: false, reason: `NetFlow Traffic Analysis trial expired at ${new Date(endMs).toISOString()}` });
  }

  const activatedMs = t0 + 200_000;
  const paid = addon.activate(midSub(), book, activatedMs).sub;
  t.equal(during(paid, t0).allowed, true, 'the partial bucket of the activation is stored');
  t.equal(addon.collectionStateAt(paid, t0).allowed, false, 'which the old instant rule refused');
  t.match(during(paid, t0 - BUCKET_MS), { allowed: false, reason: /before the NetFlow Traffic Analysis add-on was activated at/ });
  t.equal(during(paid, t0 + 400 * DAY_MS).allowed, true, 'renewing: no end');
  const cancelled = addon.endAtPeriodEnd(paid, book, activatedMs, 'cancelled').sub;
  const periodEnd = Date.UTC(2026, 5, 1);
  t.equal(during(cancelled, periodEnd - BUCKET_MS).allowed, true);
  t.same(during(cancelled, periodEnd), { allowed: false, reason: `NetFlow Traffic Analysis add-on ended at ${new Date(periodEnd).toISOString()} (end of the paid period)` });
  const ended = addon.advance(cancelled, book, periodEnd + DAY_MS).sub;
  t.equal(during(ended, periodEnd - BUCKET_MS).allowed, true, 'a late summary from before the end');
  t.equal(during(ended, periodEnd).allowed, false);
  const purged = addon.markPurged(ended, periodEnd + 31 * DAY_MS);
  t.match(during(purged, periodEnd - BUCKET_MS), { allowed: false, reason: /data was purged/ });
  t.match(during(undefined, t0), { allowed: false, reason: /not enabled/ });
  t.match(during(midSub(), t0), { allowed: false, reason: /not enabled/ });

  // At every instant the interval rule agrees with the instant rule on a 1 ms span.
  for (const s of [trial, paid, cancelled, ended, purged]) {
    for (const at of [startMs - 1, startMs, activatedMs - 1, activatedMs, endMs - 1, endMs, periodEnd - 1, periodEnd]) {
      t.equal(addon.collectionAllowedDuring(s, at, at + 1).allowed, addon.collectionStateAt(s, at).allowed, `${s.addon.status} at ${at}`);
    }
  }
});

t.test('activation during the trial keeps the trial dates (the account history and trial-window buckets need them)', async (t) => {
  const trial = addon.startTrial(midSub(), book, t0).sub;
  const active = addon.activate(trial, book, t0 + 2 * DAY_MS).sub;
  t.same(inState(active.addon, 'active').trial, inState(trial.addon, 'trial').trial);
  t.same(inState(active.addon, 'active').trial, { startedAtMs: t0, endsAtMs: t0 + 15 * DAY_MS });
  t.equal(addon.collectionAllowedDuring(active, t0 + 60_000, t0 + 360_000).allowed, true, 'a bucket collected during the trial is still stored');
});

// ---------------------------------------------------------------------------------------------
// Issue 12: the add-on as a union by status; refusals that name what the operator really had.

t.test('the history is a required field of every state after none: an activation cannot drop the trial and type-check', async (t) => {
  // @ts-expect-error an active add-on must say whether there was a trial (trial: null or its dates)
  const lost: AddonActive = { status: 'active', visible: true, paid: { firstActivatedAtMs: t0 }, activatedAtMs: t0, collectingSinceMs: t0 };
  t.ok(lost, 'the line above is the proof (tsc --noEmit)');
  const ctx = { nowMs: t0, tier: fitTier(book, 1_000), book };
  const step = (a: NetflowAddon, cmd: addon.AddonCommand, nowMs = t0) => addon.nextAddonState(a, cmd, { ...ctx, nowMs });
  const none: NetflowAddon = { status: 'none', visible: true };
  const trial = step(none, { type: 'start_trial' });
  t.match(trial, { ok: true, addon: { status: 'trial', trial: { startedAtMs: t0, endsAtMs: t0 + 15 * DAY_MS }, paid: null } });
  if (!trial.ok) return;
  const active = step(trial.addon, { type: 'activate' }, t0 + DAY_MS);
  t.match(active, { ok: true, addon: { status: 'active', trial: { startedAtMs: t0 }, paid: { firstActivatedAtMs: t0 + DAY_MS }, collectingSinceMs: t0 } });
  if (!active.ok) return;
  const cancelling = step(active.addon, { type: 'end_at_period_end', reason: 'cancelled' }, t0 + 2 * DAY_MS);
  t.match(cancelling, { ok: true, addon: { status: 'cancelling', endsAtMs: Date.UTC(2026, 5, 1), endReason: 'cancelled', trial: { startedAtMs: t0 } } });
  if (!cancelling.ok || cancelling.addon.status !== 'cancelling') return;
  const ended = addon.endPaidPeriod(cancelling.addon, book);
  t.match(ended, { status: 'ended', stoppedAtMs: Date.UTC(2026, 5, 1), purgeAtMs: Date.UTC(2026, 6, 1), trial: { startedAtMs: t0 }, paid: { firstActivatedAtMs: t0 + DAY_MS } });
  const purged = addon.purgeStopped(ended, Date.UTC(2026, 6, 1));
  t.match(purged, { status: 'purged', trial: { startedAtMs: t0 }, paid: { firstActivatedAtMs: t0 + DAY_MS } }, 'the history outlives the data');
  const again = step(purged, { type: 'activate' }, Date.UTC(2026, 6, 2));
  t.match(again, { ok: true, addon: { status: 'active', paid: { firstActivatedAtMs: t0 + DAY_MS }, activatedAtMs: Date.UTC(2026, 6, 2), trial: { startedAtMs: t0 } } }, 'reactivated: the first paid activation stays');
  const same = step(active.addon, { type: 'set_visibility', visible: true });
  t.ok(same.ok && same.addon === active.addon, 'no change: the very same state');
});

t.test('refusals name what the operator had: a used trial, the paid add-on, a running trial', async (t) => {
  const ctx = (nowMs: number) => ({ nowMs, tier: fitTier(book, 1_000), book });
  const trialOf = (startedAtMs: number) => ({ startedAtMs, endsAtMs: startedAtMs + 15 * DAY_MS });
  const paid = { firstActivatedAtMs: t0 + DAY_MS };
  const states: [NetflowAddon, RegExp][] = [
    [{ status: 'trial', visible: true, trial: trialOf(t0), paid: null }, /trial is already running, until 2026-05-25T12:00:00\.000Z/],
    [{ status: 'trial_expired', visible: true, trial: trialOf(t0), paid: null, purgeAtMs: t0 + 45 * DAY_MS }, /already used its NetFlow Traffic Analysis trial \(2026-05-10 to 2026-05-25; once per operator\)/],
    [{ status: 'ended', visible: true, trial: trialOf(t0), paid, activatedAtMs: paid.firstActivatedAtMs, collectingSinceMs: t0, endReason: 'cancelled', stoppedAtMs: t0 + 30 * DAY_MS, purgeAtMs: t0 + 60 * DAY_MS }, /already used its NetFlow Traffic Analysis trial \(2026-05-10 to 2026-05-25/],
    [{ status: 'purged', visible: true, trial: trialOf(t0), paid, stoppedAtMs: t0 + 30 * DAY_MS, purgedAtMs: t0 + 60 * DAY_MS }, /already used its NetFlow Traffic Analysis trial/],
    [{ status: 'ended', visible: true, trial: null, paid, activatedAtMs: paid.firstActivatedAtMs, collectingSinceMs: paid.firstActivatedAtMs, endReason: 'cancelled', stoppedAtMs: t0 + 30 * DAY_MS, purgeAtMs: t0 + 60 * DAY_MS }, /already had the paid add-on \(NetFlow Traffic Analysis, since 2026-05-11; a trial comes before the first activation\)/],
  ];
  for (const [a, message] of states) {
    const r = addon.nextAddonState(a, { type: 'start_trial' }, ctx(t0 + 100 * DAY_MS));
    const hadTrial = historyOf(a).trial !== null;
    t.match(r, { ok: false, refusal: { code: 'TRIAL_ALREADY_USED', message } }, `${a.status}${hadTrial ? ' after a trial' : ''}`);
    if (a.status !== 'trial' && hadTrial) t.notMatch(r.ok ? '' : r.refusal.message, /paid add-on/, 'an operator who had a trial is not told it had the paid add-on');
  }
  const cancelling: NetflowAddon = { status: 'cancelling', visible: true, trial: null, paid, activatedAtMs: t0, collectingSinceMs: t0, endsAtMs: Date.UTC(2026, 5, 1), endReason: 'cancelled' };
  t.match(addon.nextAddonState(cancelling, { type: 'activate' }, ctx(t0)), { ok: false, refusal: { code: 'ADDON_ALREADY_ACTIVE', message: /active until 2026-06-01; enable renewal/ } });
  t.match(addon.nextAddonState(cancelling, { type: 'enable_renewal' }, ctx(Date.UTC(2026, 5, 1))), { ok: false, refusal: { code: 'ADDON_NOT_ACTIVE' } }, 'too late: the period has ended');
  t.match(addon.nextAddonState({ status: 'none', visible: false }, { type: 'activate' }, ctx(t0)), { ok: false, refusal: { code: 'ADDON_HIDDEN' } });
  t.match(addon.nextAddonState({ status: 'none', visible: true }, { type: 'start_trial' }, { ...ctx(t0), tier: fitTier(book, 0) }), { ok: false, refusal: { code: 'TIER_NOT_ELIGIBLE', message: /Small tier is not eligible.*Mid or Large/ } });
  t.match(addon.nextAddonState({ status: 'none', visible: true }, { type: 'end_at_period_end', reason: 'cancelled' }, ctx(t0)), { ok: false, refusal: { code: 'ADDON_NOT_ACTIVE' } });
});

t.test('the price basis: the tier in force while eligible, the last eligible one on a non-eligible tier', async (t) => {
  const [small, mid, large] = book.tiers;
  const active = addon.activate(midSub(), book, t0).sub;
  t.same(addonPriceBasis(mid!, active.addon), { tierId: 'mid', tierName: 'Mid', monthlyFeeMinor: 29_900 });
  const down = changeTier(setActiveCustomers(active, book, 100, t0 + DAY_MS).sub, book, 'small', t0 + DAY_MS);
  t.match(down.sub.addon, { status: 'cancelling', endReason: 'tier_not_eligible', endsAtMs: Date.UTC(2026, 5, 1), lastEligible: { tierId: 'mid', monthlyFeeMinor: 29_900 } });
  t.same(down.snapshots.map((x) => [x.tierId, x.monthlyFeeMinor, x.addonBillable, x.addonBasis?.tierId, x.addonBasis?.monthlyFeeMinor]), [['small', 9_900, true, 'mid', 29_900]]);
  t.same(addonPriceBasis(small!, down.sub.addon).tierId, 'mid');
  t.same(addonPriceBasis(large!, down.sub.addon).tierId, 'large', 'back on an eligible tier: it follows that tier');
  // A price book that makes the operator's own tier non-eligible is the same move.
  const midNotEligible = { ...book, tiers: book.tiers.map((x) => (x.tierId === 'mid' ? { ...x, netflowEligible: false } : x)) };
  const flipped = applyPriceBook(active, book, midNotEligible, t0 + DAY_MS);
  t.match(flipped.sub.addon, { status: 'cancelling', endReason: 'tier_not_eligible', lastEligible: { tierId: 'mid', monthlyFeeMinor: 29_900 } });
  t.same(flipped.snapshots.map((x) => x.addonBasis?.tierId), ['mid']);
});

/** Records as the hub stored them before issue 12 (one flat object, renew and trialUsed). */
const TRIAL_START = Date.UTC(2026, 2, 3, 10);
const trialNotice = { atMs: TRIAL_START, code: 'trial_started', text: 'NetFlow Traffic Analysis trial started: full access until 2026-03-18T10:00:00.000Z. No charge and no invoice for the trial.' };

t.test('records stored before the union load (decodeAddon), the trial recovered where an old activation dropped it', async (t) => {
  const cases: [string, unknown, unknown[], object][] = [
    ['none', { visible: true, status: 'none', trialUsed: false, renew: false }, [], { status: 'none', visible: true }],
    ['trial', { visible: true, status: 'trial', trialUsed: true, trialStartedAtMs: TRIAL_START, trialEndsAtMs: TRIAL_START + 15 * DAY_MS, renew: false, collectingSinceMs: TRIAL_START }, [],
      { status: 'trial', trial: { startedAtMs: TRIAL_START, endsAtMs: TRIAL_START + 15 * DAY_MS }, paid: null }],
    ['trial_expired', { visible: true, status: 'trial_expired', trialUsed: true, trialStartedAtMs: TRIAL_START, trialEndsAtMs: TRIAL_START + 15 * DAY_MS, renew: false, collectingSinceMs: TRIAL_START, stoppedAtMs: TRIAL_START + 15 * DAY_MS, purgeAtMs: TRIAL_START + 45 * DAY_MS }, [],
      { status: 'trial_expired', trial: { endsAtMs: TRIAL_START + 15 * DAY_MS }, purgeAtMs: TRIAL_START + 45 * DAY_MS }],
    ['active, dates dropped by the old activation', { visible: true, status: 'active', trialUsed: true, activatedAtMs: TRIAL_START + 5 * DAY_MS, renew: true, collectingSinceMs: TRIAL_START }, [trialNotice],
      { status: 'active', trial: { startedAtMs: TRIAL_START, endsAtMs: TRIAL_START + 15 * DAY_MS }, paid: { firstActivatedAtMs: TRIAL_START + 5 * DAY_MS }, collectingSinceMs: TRIAL_START }],
    ['active, not renewing, tier not eligible', { visible: false, status: 'active', trialUsed: true, activatedAtMs: TRIAL_START, renew: false, endsAtMs: Date.UTC(2026, 3, 1), endReason: 'tier_not_eligible', collectingSinceMs: TRIAL_START }, [],
      { status: 'cancelling', visible: false, trial: null, endsAtMs: Date.UTC(2026, 3, 1), endReason: 'tier_not_eligible', lastEligible: null }],
    ['ended', { visible: true, status: 'ended', trialUsed: true, activatedAtMs: TRIAL_START, renew: false, endsAtMs: Date.UTC(2026, 3, 1), endReason: 'cancelled', collectingSinceMs: TRIAL_START, stoppedAtMs: Date.UTC(2026, 3, 1), purgeAtMs: Date.UTC(2026, 4, 1) }, [],
      { status: 'ended', endReason: 'cancelled', stoppedAtMs: Date.UTC(2026, 3, 1), purgeAtMs: Date.UTC(2026, 4, 1), paid: { firstActivatedAtMs: TRIAL_START } }],
    ['purged after a trial', { visible: true, status: 'trial_expired', trialUsed: true, trialStartedAtMs: TRIAL_START, trialEndsAtMs: TRIAL_START + 15 * DAY_MS, renew: false, stoppedAtMs: TRIAL_START + 15 * DAY_MS, purgeAtMs: TRIAL_START + 45 * DAY_MS, dataPurgedAtMs: TRIAL_START + 46 * DAY_MS }, [],
      { status: 'purged', trial: { startedAtMs: TRIAL_START }, paid: null, stoppedAtMs: TRIAL_START + 15 * DAY_MS, purgedAtMs: TRIAL_START + 46 * DAY_MS }],
  ];
  for (const [name, raw, notices, expected] of cases) {
    const decoded = decodeAddon(raw, notices as typeof trialNotice[]);
    t.match(decoded, expected, name);
    t.notOk('renew' in decoded || 'trialUsed' in decoded, `${name}: no old field survives`);
    const stored = JSON.parse(JSON.stringify(decoded)) as unknown;
    t.equal(decodeAddon(stored), stored, `${name}: a record of the new shape is read as it is`);
  }
  t.throws(() => decodeAddon({ status: 'active', renew: true }), /cannot be read/, 'an active record without its activation is refused, not guessed');
});

async function hubAt(t: Test, nowMs: number, kv = createMemoryKvStore()) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-addon-'));
  const hub = await startTestHub({ modules: createHubModules, nowMs, kv, config: { dataDir } });
  t.teardown(async () => { await hub.close(); await rm(dataDir, { recursive: true, force: true }); });
  let session = { token: hub.adminToken, expiresAtMs: nowMs + 3_600_000 };
  const admin = async (method: string, p: string, body?: unknown) => {
    if (hub.clock.nowMs() >= session.expiresAtMs) session = (await hub.api('POST', '/api/v1/login', { username: 'admin', password: 'admin-pw' })).body;
    return hub.api(method, `/api/v1${p}`, body, session.token);
  };
  return { hub, admin };
}

t.test('HTTP: trial, activation, cancel, end; a second trial is refused as a used trial, not as "had the paid add-on"', async (t) => {
  const { hub, admin } = await hubAt(t, Date.UTC(2026, 3, 1, 9));
  await admin('POST', '/operators', { operatorId: 'isp1', name: 'ISP One' });
  await admin('PUT', '/operators/isp1/active-customers', { count: 800 });
  t.equal((await admin('POST', '/operators/isp1/addons/netflow/start-trial')).status, 200);
  hub.clock.setMs(Date.UTC(2026, 3, 4, 9));
  const act = await admin('POST', '/operators/isp1/addons/netflow/activate');
  t.match(act.body.subscription.addon, { status: 'active', trial: { startedAtMs: Date.UTC(2026, 3, 1, 9), endsAtMs: Date.UTC(2026, 3, 16, 9) }, paid: { firstActivatedAtMs: Date.UTC(2026, 3, 4, 9) }, trialUsed: true, renew: true });
  const cancel = await admin('POST', '/operators/isp1/addons/netflow/cancel');
  t.match(cancel.body.subscription.addon, { status: 'cancelling', endReason: 'cancelled', endsAtMs: Date.UTC(2026, 4, 1), renew: false, daysLeft: 27 });
  hub.clock.setMs(Date.UTC(2026, 4, 2));
  await admin('POST', '/admin/jobs/period-end/run');
  const again = await admin('POST', '/operators/isp1/addons/netflow/start-trial');
  t.equal(again.status, 409);
  t.equal(again.body.error.code, 'TRIAL_ALREADY_USED');
  t.match(again.body.error.message, /already used its NetFlow Traffic Analysis trial \(2026-04-01 to 2026-04-16; once per operator\)/);
  t.notMatch(again.body.error.message, /paid add-on/);
  const view = (await admin('GET', '/operators/isp1/subscription')).body.subscription.addon;
  t.match(view, { status: 'ended', trial: { startedAtMs: Date.UTC(2026, 3, 1, 9) }, paid: { firstActivatedAtMs: Date.UTC(2026, 3, 4, 9) }, stoppedAtMs: Date.UTC(2026, 4, 1) });
});

t.test('HTTP: an old-shape record (the activation had dropped its trial) loads, answers with the trial, and is saved in the new shape', async (t) => {
  const kv = createMemoryKvStore();
  const activatedAtMs = TRIAL_START + 5 * DAY_MS;
  const old = {
    operatorId: 'isp-old', createdAtMs: TRIAL_START, tierId: 'mid', activeCustomers: 900,
    addon: { visible: true, status: 'ended', trialUsed: true, activatedAtMs, renew: false, endsAtMs: Date.UTC(2026, 3, 1), endReason: 'cancelled', collectingSinceMs: TRIAL_START, stoppedAtMs: Date.UTC(2026, 3, 1), purgeAtMs: Date.UTC(2026, 4, 1) },
    notices: [trialNotice], nextInvoicePeriodStartMs: Date.UTC(2026, 3, 1), snapshotSeq: 0,
  };
  await kv.write([{ type: 'put', key: 'commerce/sub/isp-old', value: encodeJson(old) }]);
  const { admin } = await hubAt(t, Date.UTC(2026, 3, 10, 9), kv);
  await admin('POST', '/operators', { operatorId: 'isp-old', name: 'Old ISP' });
  const view = (await admin('GET', '/operators/isp-old/subscription')).body.subscription.addon;
  t.match(view, { status: 'ended', trial: { startedAtMs: TRIAL_START, endsAtMs: Date.UTC(2026, 2, 18, 10) }, paid: { firstActivatedAtMs: activatedAtMs }, endReason: 'cancelled', purgeAtMs: Date.UTC(2026, 4, 1), collection: { allowed: false } });
  const trial = await admin('POST', '/operators/isp-old/addons/netflow/start-trial');
  t.match(trial, { status: 409, body: { error: { code: 'TRIAL_ALREADY_USED', message: /already used its NetFlow Traffic Analysis trial \(2026-03-03 to 2026-03-18/ } } });
  t.notMatch(trial.body.error.message, /paid add-on/, 'the message the issue reported is gone for stored records too');
  const stored = decodeJson<{ addon: Record<string, unknown> }>((await kv.get('commerce/sub/isp-old'))!);
  t.notOk('renew' in stored.addon || 'trialUsed' in stored.addon, 'written back in the new shape');
  t.match(stored.addon, { status: 'ended', trial: { startedAtMs: TRIAL_START } });
  t.match((await admin('POST', '/operators/isp-old/addons/netflow/activate')).body.subscription.addon, { status: 'active', trial: { startedAtMs: TRIAL_START }, paid: { firstActivatedAtMs: activatedAtMs } }, 'reactivated before the purge');
});
