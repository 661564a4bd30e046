/**
 * The invoice lifecycle's pure rules (hub/commerce/invoice-balance.ts, invoice-lifecycle.ts,
 * invoice-requests.ts): derived state, transitions and their coded refusals. The same rules through
 * the HTTP API of a real hub: credit-notes.test.ts.
 */
import t from 'tap';
import type { CreditNote, CreditNoteDraft } from '../../../hub/commerce/credit-note';
import { normaliseStoredCreditNote } from '../../../hub/commerce/credit-note';
import type { Invoice, InvoiceLine } from '../../../hub/commerce/invoice';
import { invoiceBalance } from '../../../hub/commerce/invoice-balance';
import { planCreditNote, planPayment, planRefund, type CreditNoteRequest } from '../../../hub/commerce/invoice-lifecycle';
import type { Payment } from '../../../hub/commerce/invoice-payment';
import { idempotencyKeyOf, parseCreditNoteRequest, parseMoneyMovement, requestFingerprint } from '../../../hub/commerce/invoice-requests';
import { dueDateFor, issuedTerms } from '../../../hub/commerce/invoice-terms';

const line = (amountMinor: number, over: Partial<InvoiceLine> = {}): InvoiceLine => ({
  kind: 'subscription', description: 'Subscription, Mid tier', tierId: 'mid', tierName: 'Mid', monthlyFeeMinor: amountMinor, percentOfFee: 100,
  fromDate: '2026-04-01', toDate: '2026-04-30', days: 30, daysInPeriod: 30, prorated: false, unroundedMinor: String(amountMinor), amountMinor, rule: 'test', ...over,
});

const invoice = (amounts: number[], number = 'INV-000001'): Invoice => ({
  kind: 'invoice', number, seq: 1, idempotencyKey: `isp1/2026-04/${number}`, issuedAtMs: Date.UTC(2026, 4, 1, 0, 5), dueDate: '2026-05-15',
  operatorId: 'isp1', periodKey: '2026-04', periodStartMs: Date.UTC(2026, 3, 1), periodEndMs: Date.UTC(2026, 4, 1),
  currency: 'USD', currencyExponent: 2, lines: amounts.map((a) => line(a)), totalMinor: amounts.reduce((s, a) => s + a, 0),
});

let cnSeq = 0;
const issue = (d: CreditNoteDraft): CreditNote => ({ ...d, kind: 'credit_note', number: `CN-${String(++cnSeq).padStart(6, '0')}`, seq: cnSeq, issuedAtMs: Date.UTC(2026, 4, 2) });
const pay = (inv: Invoice, kind: Payment['kind'], amountMinor: number, no: number): Payment => ({
  kind, operatorId: 'isp1', invoiceNumber: inv.number, no, amountMinor, currency: 'USD', date: '2026-05-03', reference: `r${no}`, recordedAtMs: 0,
});

const TODAY = '2026-05-10';

function code(fn: () => unknown): string | undefined {
  try { fn(); } catch (err) { return (err as { code?: string }).code; }
  return undefined;
}

t.test('issued → partially paid → paid; amount due derived from the documents; overpayment refused', async (t) => {
  const inv = invoice([29_900, 12_458]);
  let b = invoiceBalance(inv, [], [], TODAY);
  t.match(b, { status: 'issued', creditState: 'none', amountDueMinor: 42_358, refundDueMinor: 0, overdue: false });
  const p1 = planPayment(inv, b, { amountMinor: 20_000, reference: 'bank 1' }, TODAY);
  t.match(p1, { kind: 'payment', amountMinor: 20_000, date: TODAY, currency: 'USD', invoiceNumber: 'INV-000001' }, 'date defaults to today (UTC)');
  const pays = [pay(inv, 'payment', 20_000, 1)];
  b = invoiceBalance(inv, [], pays, TODAY);
  t.match(b, { status: 'partially_paid', paidMinor: 20_000, amountDueMinor: 22_358 });
  t.equal(code(() => planPayment(inv, b, { amountMinor: 22_359, reference: 'x' }, TODAY)), 'PAYMENT_EXCEEDS_AMOUNT_DUE', 'one unit more than due');
  pays.push(pay(inv, 'payment', 22_358, 2));
  b = invoiceBalance(inv, [], pays, TODAY);
  t.match(b, { status: 'paid', amountDueMinor: 0, balanceMinor: 0 });
  t.equal(code(() => planPayment(inv, b, { amountMinor: 1, reference: 'x' }, TODAY)), 'PAYMENT_EXCEEDS_AMOUNT_DUE', 'a paid invoice takes no more money');
  t.equal(code(() => planPayment(inv, invoiceBalance(inv, [], [], TODAY), { amountMinor: 1, reference: 'x', date: '2026-05-11' }, TODAY)), 'VALIDATION_FAILED', 'no payment dated in the future');
});

t.test('overdue: something due after the due date (UTC), never when paid or void', async (t) => {
  const inv = invoice([10_000]);
  t.equal(invoiceBalance(inv, [], [], '2026-05-15').overdue, false, 'payable until the end of the due date');
  t.equal(invoiceBalance(inv, [], [], '2026-05-16').overdue, true);
  t.equal(invoiceBalance(inv, [], [pay(inv, 'payment', 10_000, 1)], '2026-05-16').overdue, false);
  t.equal(dueDateFor(Date.UTC(2026, 4, 1, 0, 5), 14), '2026-05-15');
  t.same(issuedTerms({ sellerName: 'Platform', paymentTermsDays: 0 }, 'isp1', undefined, Date.UTC(2026, 4, 1, 23)), { seller: { name: 'Platform' }, buyer: { name: 'isp1', operatorId: 'isp1' }, dueDate: '2026-05-01' });
});

t.test('partial credit notes: per line, at most what is left; several partials that add up void the invoice', async (t) => {
  const inv = invoice([29_900, 14_950]);
  let cns: CreditNote[] = [];
  const credit = (req: CreditNoteRequest) => {
    const d = planCreditNote(inv, invoiceBalance(inv, cns, [], TODAY), req);
    cns = [...cns, issue(d)];
    return d;
  };
  const first = credit({ reason: 'outage', lines: [{ lineNo: 2, amountMinor: 5_000 }] });
  t.match(first, { totalMinor: -5_000, voidsInvoice: false, creditsInvoice: 'INV-000001' });
  t.match(first.lines, [{ invoiceLineNo: 2, amountMinor: -5_000, kind: 'subscription' }]);
  t.match(first.lines[0].description, /^Partial credit of line 2: /);
  let b = invoiceBalance(inv, cns, [], TODAY);
  t.match(b, { status: 'issued', creditState: 'partial', creditedMinor: 5_000, amountDueMinor: 39_850 });
  t.same(b.lines.map((l) => l.creditableMinor), [29_900, 9_950]);

  const over = code(() => planCreditNote(inv, b, { reason: 'x', lines: [{ lineNo: 2, amountMinor: 9_951 }] }));
  t.equal(over, 'CREDIT_EXCEEDS_CREDITABLE', 'cannot credit more than is left of the line');
  t.equal(code(() => planCreditNote(inv, b, { reason: 'x', lines: [{ lineNo: 3, amountMinor: 1 }] })), 'VALIDATION_FAILED', 'no such line');
  t.equal(code(() => planCreditNote(inv, b, { reason: 'x', lines: [{ lineNo: 1, amountMinor: 1 }, { lineNo: 1, amountMinor: 1 }] })), 'VALIDATION_FAILED', 'a line twice');

  credit({ reason: 'rest of line 2', lines: [{ lineNo: 2, amountMinor: 9_950 }] });
  const last = credit({ reason: 'line 1', lines: [{ lineNo: 1, amountMinor: 29_900 }] });
  t.equal(last.voidsInvoice, true, 'the partial that credits the last unit voids it');
  b = invoiceBalance(inv, cns, [], TODAY);
  t.match(b, { status: 'void', creditState: 'full', amountDueMinor: 0, creditedMinor: 44_850 });
  t.equal(code(() => planCreditNote(inv, b, { reason: 'again', full: true })), 'INVOICE_VOID');
  t.equal(code(() => planPayment(inv, b, { amountMinor: 1, reference: 'x' }, TODAY)), 'INVOICE_VOID', 'cannot pay a void invoice');
});

t.test('full credit after a partial credits what is left; of a paid invoice it leaves a refund due', async (t) => {
  const inv = invoice([29_900, 14_950]);
  const partial = issue(planCreditNote(inv, invoiceBalance(inv, [], [], TODAY), { reason: 'p', lines: [{ lineNo: 1, amountMinor: 900 }] }));
  const pays = [pay(inv, 'payment', 43_950, 1)];
  let b = invoiceBalance(inv, [partial], pays, TODAY);
  t.match(b, { status: 'paid', amountDueMinor: 0 }, 'paid after the partial credit');
  const full = planCreditNote(inv, b, { reason: 'cancelled', full: true });
  t.same(full.lines.map((l) => [l.invoiceLineNo, l.amountMinor]), [[1, -29_000], [2, -14_950]]);
  t.match(full.lines[1].description, /^Credit of line 2: /);
  t.equal(full.voidsInvoice, true);
  const fullIssued = issue(full);
  b = invoiceBalance(inv, [partial, fullIssued], pays, TODAY);
  t.match(b, { status: 'void', amountDueMinor: 0, refundDueMinor: 43_950, balanceMinor: -43_950 });
  t.equal(code(() => planRefund(inv, b, { amountMinor: 43_951, reference: 'x' }, TODAY)), 'REFUND_EXCEEDS_REFUND_DUE');
  const refund = planRefund(inv, b, { amountMinor: 43_950, reference: 'back', date: '2026-05-09' }, TODAY);
  t.match(refund, { kind: 'refund', amountMinor: 43_950, date: '2026-05-09' });
  t.match(invoiceBalance(inv, [partial, fullIssued], [...pays, pay(inv, 'refund', 43_950, 2)], TODAY), { status: 'void', refundDueMinor: 0, balanceMinor: 0 }, 'refunded: settled');
  t.equal(code(() => planRefund(inv, invoiceBalance(inv, [], [], TODAY), { amountMinor: 1, reference: 'x' }, TODAY)), 'REFUND_EXCEEDS_REFUND_DUE', 'nothing to refund on an unpaid invoice');
});

t.test('other invoices\' documents do not count; a zero invoice is paid and has nothing to credit', async (t) => {
  const a = invoice([10_000], 'INV-000001');
  const other = invoice([10_000], 'INV-000002');
  const cnOther = issue(planCreditNote(other, invoiceBalance(other, [], [], TODAY), { reason: 'x', full: true }));
  t.match(invoiceBalance(a, [cnOther], [pay(other, 'payment', 5_000, 1)], TODAY), { status: 'issued', creditedMinor: 0, paidMinor: 0 });
  const zero = invoice([0]);
  t.match(invoiceBalance(zero, [], [], TODAY), { status: 'paid', amountDueMinor: 0 });
  t.equal(code(() => planCreditNote(zero, invoiceBalance(zero, [], [], TODAY), { reason: 'x', full: true })), 'CREDIT_EXCEEDS_CREDITABLE');
});

t.test('credit notes stored before partial credits read as full mirrors', async (t) => {
  const old = { kind: 'credit_note', number: 'CN-000001', seq: 1, issuedAtMs: 0, operatorId: 'isp1', creditsInvoice: 'INV-000001', reason: 'goodwill',
    periodKey: '2026-04', periodStartMs: 0, periodEndMs: 0, currency: 'USD', currencyExponent: 2, totalMinor: -300, lines: [{ amountMinor: -100 }, { amountMinor: -200 }] } as unknown as CreditNote;
  const n = normaliseStoredCreditNote(old);
  t.same(n.lines.map((l) => l.invoiceLineNo), [1, 2]);
  t.equal(n.voidsInvoice, true);
  t.equal(invoiceBalance(invoice([100, 200]), [n], [], TODAY).status, 'void');
});

t.test('request bodies: checked once, refusals name the field', async (t) => {
  t.same(parseMoneyMovement({ amountMinor: 100, reference: ' SEPA 1 ' }), { amountMinor: 100, reference: 'SEPA 1' });
  t.same(parseMoneyMovement({ amountMinor: 100, reference: 'r', date: '2026-05-01' }), { amountMinor: 100, reference: 'r', date: '2026-05-01' });
  for (const [body, field] of [
    [{ amountMinor: 0, reference: 'r' }, 'amountMinor'], [{ amountMinor: 1.5, reference: 'r' }, 'amountMinor'], [{ amountMinor: '100', reference: 'r' }, 'amountMinor'],
    [{ amountMinor: 1 }, 'reference'], [{ amountMinor: 1, reference: 'a\nb' }, 'reference'], [{ amountMinor: 1, reference: 'r', date: '2026-02-30' }, 'date'],
  ] as const) {
    t.throws(() => parseMoneyMovement(body), { code: 'VALIDATION_FAILED', message: new RegExp(`^${field}`) }, JSON.stringify(body));
  }
  t.same(parseCreditNoteRequest({ reason: 'x', full: true }), { reason: 'x', full: true });
  t.same(parseCreditNoteRequest({ reason: 'x', lines: [{ lineNo: 2, amountMinor: 5 }] }), { reason: 'x', lines: [{ lineNo: 2, amountMinor: 5 }] });
  t.throws(() => parseCreditNoteRequest({ reason: 'x' }), { code: 'VALIDATION_FAILED' }, 'neither full nor lines: no silent full credit');
  t.throws(() => parseCreditNoteRequest({ reason: 'x', full: true, lines: [] }), { code: 'VALIDATION_FAILED' }, 'both');
  t.throws(() => parseCreditNoteRequest({ full: true }), { code: 'VALIDATION_FAILED', message: /^reason/ });
  t.throws(() => parseCreditNoteRequest({ reason: 'x', lines: [{ lineNo: 0, amountMinor: 5 }] }), { message: /lines\[0\]\.lineNo/ });

  t.equal(idempotencyKeyOf('k-1', undefined), 'k-1');
  t.equal(idempotencyKeyOf(undefined, 'k-2'), 'k-2');
  t.equal(idempotencyKeyOf('k-1', 'k-1'), 'k-1');
  t.equal(idempotencyKeyOf(undefined, undefined), undefined);
  t.throws(() => idempotencyKeyOf('k-1', 'k-2'), { code: 'VALIDATION_FAILED' }, 'header and field disagree');
  t.throws(() => idempotencyKeyOf('a/b', undefined), { code: 'VALIDATION_FAILED' });
  const req = { amountMinor: 1, reference: 'r' };
  t.equal(requestFingerprint('payment', 'INV-1', req), requestFingerprint('payment', 'INV-1', { ...req }));
  t.not(requestFingerprint('payment', 'INV-1', req), requestFingerprint('refund', 'INV-1', req));
  t.not(requestFingerprint('payment', 'INV-1', req), requestFingerprint('payment', 'INV-2', req));
});
