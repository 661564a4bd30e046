import t from 'tap';
import { DAY_MS } from '../../../hub/commerce/invoice-period';
import * as addon from '../../../hub/commerce/netflow-addon';
import { DEFAULT_PRICE_BOOK, fitTier, validatePriceBook, type PriceBook } from '../../../hub/commerce/price-book';
import { newSubscription, type NetflowAddon, type Subscription } from '../../../hub/commerce/subscription';
import { applyPriceBook, changeTier, setActiveCustomers } from '../../../hub/commerce/subscription-rules';

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
