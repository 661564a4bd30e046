/**
 * Subscription invoices, built purely from billing snapshots.
 *
 * Rules (stated on every line as `rule`):
 * - One invoice per operator per billing period (calendar month, UTC), issued in arrears; the
 *   idempotency key is "<operatorId>/<YYYY-MM>", so a job run twice makes one invoice.
 * - Proration by days: each UTC day of the period is billed at the state in force at the end of that
 *   day (so the day of an activation or tier change is billed at the new state). A line covers a run
 *   of consecutive days with the same tier, fee and add-on state:
 *     subscription: monthlyFee × days ÷ daysInPeriod
 *     add-on:       monthlyFee × addonPercent ÷ 100 × days ÷ daysInPeriod
 * - Amounts are integer minor units of the price book's currency (JPY 0, USD 2, KWD 3 decimals),
 *   rounded half up once per line; the exact figure and every input are kept on the line.
 * - The total is the sum of the rounded lines. An issued invoice is never edited; a correction is a
 *   credit note (negative lines, its own gapless CN- sequence) that refers to it.
 */
import type { BillingPeriod } from './billing-period';
import { DAY_MS, utcDate } from './billing-period';
import { currencyExponent, fractionToDecimalString, roundHalfUpFraction } from '../../common/money';
import { ADDON_NAME } from './netflow-addon';
import type { BillingSnapshot } from './subscription';

export const PRORATION_RULE = 'each UTC day is billed at the state in force at its end; amount = fee × percent/100 × days ÷ daysInPeriod, rounded half up once to the minor unit';

export interface InvoiceLine {
  kind: 'subscription' | 'netflow_addon';
  description: string;
  tierId: string;
  tierName: string;
  /** The tier's monthly fee in force for these days. */
  monthlyFeeMinor: number;
  /** 100 for the subscription; the add-on's share of the fee for the add-on. */
  percentOfFee: number;
  fromDate: string;
  /** Inclusive. */
  toDate: string;
  days: number;
  daysInPeriod: number;
  prorated: boolean;
  /** Exact minor units before rounding, e.g. "4983.333333". */
  unroundedMinor: string;
  amountMinor: number;
  rule: string;
}

export interface InvoiceDraft {
  operatorId: string;
  periodKey: string;
  periodStartMs: number;
  periodEndMs: number;
  currency: string;
  currencyExponent: number;
  lines: InvoiceLine[];
  totalMinor: number;
}

export interface Invoice extends InvoiceDraft {
  kind: 'invoice' | 'credit_note';
  /** "INV-000001" or "CN-000001": sequential, gapless, never reused. */
  number: string;
  seq: number;
  idempotencyKey: string;
  issuedAtMs: number;
  /** Credit notes: the invoice they correct, and why. */
  creditsInvoice?: string;
  reason?: string;
}

export function invoiceIdempotencyKey(operatorId: string, periodKey: string): string {
  return `${operatorId}/${periodKey}`;
}

export function formatInvoiceNumber(kind: 'invoice' | 'credit_note', seq: number): string {
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
export function buildInvoiceDraft(operatorId: string, period: BillingPeriod, snapshots: BillingSnapshot[]): InvoiceDraft {
  const sorted = [...snapshots].sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
  type Run = { snap: BillingSnapshot; fromDay: number; toDay: number };
  const runs: Run[] = [];
  for (let day = 0; day < period.days; day++) {
    const endOfDayMs = period.startMs + (day + 1) * DAY_MS - 1;
    const snap = snapshotAt(sorted, endOfDayMs);
    if (!snap) continue;
    const last = runs[runs.length - 1];
    if (last && last.toDay === day - 1 && sameBilling(last.snap, snap)) last.toDay = day;
    else runs.push({ snap, fromDay: day, toDay: day });
  }
  const currency = runs[0]?.snap.currency ?? sorted[sorted.length - 1]?.currency ?? 'USD';
  const lines: InvoiceLine[] = [];
  for (const run of runs) {
    lines.push(line('subscription', run, period, 100, `Subscription, ${run.snap.tierName} tier`));
  }
  for (const run of runs) {
    if (run.snap.addonBillable) lines.push(line('netflow_addon', run, period, run.snap.addonPercentOfFee, `${ADDON_NAME} add-on (${run.snap.addonPercentOfFee}% of the ${run.snap.tierName} fee)`));
  }
  return {
    operatorId, periodKey: period.key, periodStartMs: period.startMs, periodEndMs: period.endMs,
    currency, currencyExponent: currencyExponent(currency),
    lines, totalMinor: lines.reduce((s, l) => s + l.amountMinor, 0),
  };
}

function sameBilling(a: BillingSnapshot, b: BillingSnapshot): boolean {
  return a.tierId === b.tierId && a.monthlyFeeMinor === b.monthlyFeeMinor && a.addonBillable === b.addonBillable && a.addonPercentOfFee === b.addonPercentOfFee && a.currency === b.currency;
}

function line(kind: InvoiceLine['kind'], run: { snap: BillingSnapshot; fromDay: number; toDay: number }, period: BillingPeriod, percentOfFee: number, description: string): InvoiceLine {
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

/** A full credit of an issued invoice: the same lines negated (rounded amounts mirrored exactly). */
export function buildCreditNoteDraft(invoice: Invoice): InvoiceDraft {
  const lines = invoice.lines.map((l) => ({
    ...l,
    description: `Credit: ${l.description}`,
    unroundedMinor: l.unroundedMinor.startsWith('-') ? l.unroundedMinor.slice(1) : `-${l.unroundedMinor}`,
    amountMinor: -l.amountMinor,
  }));
  return { ...stripIssue(invoice), lines, totalMinor: -invoice.totalMinor };
}

function stripIssue(inv: Invoice): InvoiceDraft {
  return {
    operatorId: inv.operatorId, periodKey: inv.periodKey, periodStartMs: inv.periodStartMs, periodEndMs: inv.periodEndMs,
    currency: inv.currency, currencyExponent: inv.currencyExponent, lines: inv.lines, totalMinor: inv.totalMinor,
  };
}
