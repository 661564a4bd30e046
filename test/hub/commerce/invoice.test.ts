import t from 'tap';
import { periodByKey } from '../../../hub/commerce/invoice-period';
import { buildInvoiceDraft, type Invoice } from '../../../hub/commerce/invoice';
import { invoiceBalance } from '../../../hub/commerce/invoice-balance';
import { planCreditNote } from '../../../hub/commerce/invoice-lifecycle';
import type { BillingSnapshot } from '../../../hub/commerce/subscription';

const snap = (atMs: number, seq: number, over: Partial<BillingSnapshot> = {}): BillingSnapshot => ({
  atMs, seq, tierId: 'mid', tierName: 'Mid', monthlyFeeMinor: 29_900, currency: 'USD', addonBillable: false, addonPercentOfFee: 50, reason: 'test', ...over,
});

t.test('a whole month on one tier is one unprorated line', async (t) => {
  const p = periodByKey('2026-06')!;
  const d = buildInvoiceDraft('isp1', p, [snap(Date.UTC(2026, 0, 1), 1, { addonBillable: true })]);
  t.same(d.lines.map((l) => [l.kind, l.days, l.prorated, l.amountMinor]), [['subscription', 30, false, 29_900], ['netflow_addon', 30, false, 14_950]]);
  t.equal(d.totalMinor, 44_850);
});

t.test('the day of a change is billed at the new state; lines keep inputs and the unrounded figure', async (t) => {
  const p = periodByKey('2026-04')!; // 30 days
  const d = buildInvoiceDraft('isp1', p, [
    snap(Date.UTC(2026, 2, 5), 1),
    snap(Date.UTC(2026, 3, 11, 15), 2, { addonBillable: true }), // activation on the 11th, 15:00
  ]);
  const addon = d.lines.find((l) => l.kind === 'netflow_addon')!;
  t.equal(addon.fromDate, '2026-04-11');
  t.equal(addon.toDate, '2026-04-30');
  t.equal(addon.days, 20);
  t.equal(addon.daysInPeriod, 30);
  t.equal(addon.unroundedMinor, '9966.666666');
  t.equal(addon.amountMinor, 9967);
  t.equal(addon.monthlyFeeMinor, 29_900);
  t.equal(addon.percentOfFee, 50);
  t.match(addon.rule, /half up/);
  // the base subscription splits at the change but sums to the whole fee here (same tier)
  t.equal(d.lines.filter((l) => l.kind === 'subscription').reduce((s, l) => s + l.amountMinor, 0), 29_900);
});

t.test('days before the subscription started are not billed; an empty period has no lines', async (t) => {
  const p = periodByKey('2026-03')!;
  const d = buildInvoiceDraft('isp1', p, [snap(Date.UTC(2026, 2, 3, 10), 1)]);
  t.equal(d.lines.length, 1);
  t.equal(d.lines[0].days, 29);
  t.equal(d.lines[0].amountMinor, 27_971); // 29900 × 29 / 31 = 27970.97
  t.equal(buildInvoiceDraft('isp1', periodByKey('2026-02')!, [snap(Date.UTC(2026, 2, 3), 1)]).lines.length, 0);
});

t.test('currency exponents: the same rule rounds JPY, USD and KWD in their own minor units', async (t) => {
  const p = periodByKey('2026-04')!;
  for (const [currency, fee, addon] of [['JPY', 4_999, 2_500], ['USD', 4_999, 2_500], ['KWD', 12_345, 6_173]] as const) {
    const d = buildInvoiceDraft('isp1', p, [snap(0, 1, { currency, monthlyFeeMinor: fee, addonBillable: true })]);
    t.equal(d.currency, currency);
    t.equal(d.lines[1].amountMinor, addon, `${currency}: 50% of ${fee} rounds half up to ${addon}`);
  }
  const kwd = buildInvoiceDraft('isp1', p, [snap(0, 1, { currency: 'KWD' })]);
  t.equal(kwd.currencyExponent, 3);
});

t.test('a full credit note mirrors the invoice exactly', async (t) => {
  const p = periodByKey('2026-04')!;
  const draft = buildInvoiceDraft('isp1', p, [snap(Date.UTC(2026, 3, 11), 1, { addonBillable: true })]);
  const inv: Invoice = { ...draft, kind: 'invoice', number: 'INV-000001', seq: 1, idempotencyKey: 'isp1/2026-04', issuedAtMs: 0 };
  const cn = planCreditNote(inv, invoiceBalance(inv, [], [], '2026-05-01'), { reason: 'test', full: true });
  t.equal(cn.totalMinor, -inv.totalMinor);
  t.same(cn.lines.map((l) => l.amountMinor), inv.lines.map((l) => -l.amountMinor));
  t.same(cn.lines.map((l) => l.invoiceLineNo), inv.lines.map((_l, i) => i + 1));
  t.equal(cn.voidsInvoice, true);
});
