/**
 * Subscription invoices, built purely from billing snapshots.
 *
 * Rules (stated on every line as `rule`):
 * - One invoice per operator per billing period (calendar month, UTC), issued in arrears; the
 *   idempotency key is "<operatorId>/<YYYY-MM>", so a job run twice makes one invoice.
 * - Proration by days: each UTC day of the period is billed at the state in force at the end of that
 *   day (so the day of an activation or tier change is billed at the new state). A subscription line
 *   covers a run of consecutive days with the same tier and fee; an add-on line a run with the same
 *   add-on price (its fee is the basis tier's: the tier in force, or after a move to a non-eligible
 *   tier the last eligible one, until the add-on ends; addon-state.ts):
 *     subscription: monthlyFee × days ÷ daysInPeriod
 *     add-on:       basisMonthlyFee × addonPercent ÷ 100 × days ÷ daysInPeriod
 * - Amounts are integer minor units of the price book's currency (JPY 0, USD 2, KWD 3 decimals),
 *   rounded half up once per line; the exact figure and every input are kept on the line.
 * - The total is the sum of the rounded lines. An issued invoice is never edited (lines, totals,
 *   number, dates, parties): a correction is a credit note (credit-note.ts; negative lines, its own
 *   gapless CN- sequence) that refers to it. Payments, credits and the amount due are derived from the
 *   documents by invoice-balance.ts, never stored on the invoice.
 */
import type { InvoicePeriod } from './invoice-period';
import { DAY_MS, utcDate } from './invoice-period';
import { currencyExponent, fractionToDecimalString, roundHalfUpFraction } from '../../common/money';
import { addonBasisOfSnapshot } from './addon-state';
import { ADDON_NAME } from './netflow-addon';
import type { BillingSnapshot } from './subscription';
import type { InvoiceDraftLineView, InvoiceDraftView, PartyView } from '../../common/api/invoices';

export const PRORATION_RULE = 'each UTC day is billed at the state in force at its end; amount = fee × percent/100 × days ÷ daysInPeriod, rounded half up once to the minor unit';

/** The line and the draft are stored as the API shows them: the wire types are the one source (common/api/invoices.ts). */
export type InvoiceLine = InvoiceDraftLineView;
export type InvoiceDraft = InvoiceDraftView;

/** Seller or buyer as printed on a document: the wire type is the one source (common/api/invoices.ts). */
export type Party = PartyView;

/** The two documents with a gapless number series each. */
export type DocumentKind = 'invoice' | 'credit_note';

export interface Invoice extends InvoiceDraft {
  kind: 'invoice';
  /** "INV-000001": sequential, gapless, never reused. */
  number: string;
  seq: number;
  idempotencyKey: string;
  issuedAtMs: number;
  /**
   * Payable until the end of this UTC day ("2026-05-15"). Absent on invoices issued before due dates
   * existed: views then derive it from the payment terms.
   */
  dueDate?: string;
  seller?: Party;
  buyer?: Party;
}

export function invoiceIdempotencyKey(operatorId: string, periodKey: string): string {
  return `${operatorId}/${periodKey}`;
}

export function formatInvoiceNumber(kind: DocumentKind, seq: number): string {
  return `${kind === 'invoice' ? 'INV' : 'CN'}-${String(seq).padStart(6, '0')}`;
}

/** The snapshot in force at atMs: the last one at or before it (snapshots sorted by atMs, then seq). */
export function snapshotAt(snapshots: BillingSnapshot[], atMs: number): BillingSnapshot | undefined {
  let found: BillingSnapshot | undefined;
  for (const s of snapshots) {
    if (s.atMs <= atMs) found = s;
    else break;
  }
  return found;
}

/**
 * Build the invoice of one period from the operator's snapshots (sorted; must include the last one
 * before the period if any). Days before the subscription's first snapshot are not billed.
 */
export function buildInvoiceDraft(operatorId: string, period: InvoicePeriod, snapshots: BillingSnapshot[]): InvoiceDraft {
  const sorted = [...snapshots].sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
  const runs = runsOf(sorted, period, sameBilling);
  const currency = runs[0]?.snap.currency ?? sorted[sorted.length - 1]?.currency ?? 'USD';
  const lines: InvoiceLine[] = [];
  for (const run of runs) {
    lines.push(line('subscription', run, period, 100, `Subscription, ${run.snap.tierName} tier`));
  }
  // The add-on has runs of its own: its price follows its basis (addon-state.ts, the downgrade rule),
  // which stays the same while the subscription moves to a non-eligible tier; one line per price.
  for (const run of runsOf(sorted, period, sameAddonBilling)) {
    if (!run.snap.addonBillable) continue;
    const basis = addonBasisOfSnapshot(run.snap);
    const snap = { ...run.snap, tierId: basis.tierId, tierName: basis.tierName, monthlyFeeMinor: basis.monthlyFeeMinor };
    const lastEligible = run.last.tierId !== basis.tierId ? ', the last eligible tier, until the add-on ends' : '';
    lines.push(line('netflow_addon', { ...run, snap }, period, snap.addonPercentOfFee, `${ADDON_NAME} add-on (${snap.addonPercentOfFee}% of the ${basis.tierName} fee${lastEligible})`));
  }
  return {
    operatorId, periodKey: period.key, periodStartMs: period.startMs, periodEndMs: period.endMs,
    currency, currencyExponent: currencyExponent(currency),
    lines, totalMinor: lines.reduce((s, l) => s + l.amountMinor, 0),
  };
}

type Run = { snap: BillingSnapshot; last: BillingSnapshot; fromDay: number; toDay: number };

/** Consecutive days whose end-of-day snapshots bill the same (`same`); `snap` is the run's first, `last` its last. */
function runsOf(sorted: BillingSnapshot[], period: InvoicePeriod, same: (a: BillingSnapshot, b: BillingSnapshot) => boolean): Run[] {
  const runs: Run[] = [];
  for (let day = 0; day < period.days; day++) {
    const endOfDayMs = period.startMs + (day + 1) * DAY_MS - 1;
    const snap = snapshotAt(sorted, endOfDayMs);
    if (!snap) continue;
    const last = runs[runs.length - 1];
    if (last && last.toDay === day - 1 && same(last.snap, snap)) { last.toDay = day; last.last = snap; }
    else runs.push({ snap, last: snap, fromDay: day, toDay: day });
  }
  return runs;
}

/** The subscription's billing: its tier and fee. */
function sameBilling(a: BillingSnapshot, b: BillingSnapshot): boolean {
  return a.tierId === b.tierId && a.monthlyFeeMinor === b.monthlyFeeMinor && a.currency === b.currency;
}

/** The add-on's billing: charged or not, and at what price (basis fee and percentage). */
function sameAddonBilling(a: BillingSnapshot, b: BillingSnapshot): boolean {
  if (a.addonBillable !== b.addonBillable) return false;
  if (!a.addonBillable) return true;
  const x = addonBasisOfSnapshot(a);
  const y = addonBasisOfSnapshot(b);
  return x.tierId === y.tierId && x.monthlyFeeMinor === y.monthlyFeeMinor && a.addonPercentOfFee === b.addonPercentOfFee && a.currency === b.currency;
}

function line(kind: InvoiceLine['kind'], run: { snap: BillingSnapshot; fromDay: number; toDay: number }, period: InvoicePeriod, percentOfFee: number, description: string): InvoiceLine {
  const days = run.toDay - run.fromDay + 1;
  const numerator = run.snap.monthlyFeeMinor * percentOfFee * days;
  const denominator = 100 * period.days;
  const prorated = days !== period.days;
  return {
    kind,
    description: prorated ? `${description}, ${days} of ${period.days} days` : description,
    tierId: run.snap.tierId,
    tierName: run.snap.tierName,
    monthlyFeeMinor: run.snap.monthlyFeeMinor,
    percentOfFee,
    fromDate: utcDate(period.startMs + run.fromDay * DAY_MS),
    toDate: utcDate(period.startMs + run.toDay * DAY_MS),
    days,
    daysInPeriod: period.days,
    prorated,
    unroundedMinor: fractionToDecimalString(numerator, denominator),
    amountMinor: roundHalfUpFraction(numerator, denominator),
    rule: PRORATION_RULE,
  };
}
