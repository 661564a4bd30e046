/**
 * The invoice lifecycle's transitions, pure: each takes the invoice and its derived balance
 * (invoice-balance.ts) and returns the document to record, or throws a coded refusal.
 *
 *   issued ──payment──▶ partially_paid ──payment──▶ paid
 *     │                      │                       │
 *     └──── credit notes (partial: lines/amounts; full: everything left) ──▶ void when all is credited
 *
 * Rules (chosen where the issue left them open):
 * - An issued invoice is never edited or deleted; it is corrected only by credit notes, each line
 *   credited at most up to what is left of it (CREDIT_EXCEEDS_CREDITABLE). Void = fully credited;
 *   a void invoice takes no payment and no further credit (INVOICE_VOID).
 * - A payment is at most the amount due (PAYMENT_EXCEEDS_AMOUNT_DUE): no overpayment is kept on
 *   account, so every unit received is explained by one invoice. Partial payments leave the rest due.
 * - A paid (or partly paid) invoice can still be credited: what was paid beyond the new balance becomes
 *   a refund due, recorded as a refund of at most that amount (REFUND_EXCEEDS_REFUND_DUE).
 */
import { hubError } from '../errors';
import type { CreditNoteDraft, CreditNoteLine } from './credit-note';
import type { Invoice } from './invoice';
import type { InvoiceBalance } from './invoice-balance';
import type { Payment } from './invoice-payment';
import { formatMoney } from '../../common/money';

export interface MoneyMovementRequest {
  amountMinor: number;
  /** "YYYY-MM-DD" (UTC); default: today. */
  date?: string;
  reference: string;
}

export type CreditNoteRequest =
  | { reason: string; full: true }
  | { reason: string; lines: { lineNo: number; amountMinor: number }[] };

export type PaymentDraft = Omit<Payment, 'no' | 'recordedAtMs' | 'idempotencyKey'>;

function movement(kind: Payment['kind'], invoice: Invoice, req: MoneyMovementRequest, todayUtc: string): PaymentDraft {
  const date = req.date ?? todayUtc;
  if (date > todayUtc) throw hubError('VALIDATION_FAILED', `date: ${date} is in the future (today is ${todayUtc} UTC)`);
  return { kind, operatorId: invoice.operatorId, invoiceNumber: invoice.number, amountMinor: req.amountMinor, currency: invoice.currency, date, reference: req.reference };
}

/** Record money received; refused on a void invoice and beyond the amount due. */
export function planPayment(invoice: Invoice, balance: InvoiceBalance, req: MoneyMovementRequest, todayUtc: string): PaymentDraft {
  const money = (m: number) => formatMoney(m, invoice.currency);
  if (balance.status === 'void') throw hubError('INVOICE_VOID', `${invoice.number} is void (fully credited): it cannot be paid`, { invoiceNumber: invoice.number });
  if (req.amountMinor > balance.amountDueMinor) {
    const message = balance.amountDueMinor === 0
      ? `${invoice.number} is paid: nothing is due`
      : `a payment of ${money(req.amountMinor)} exceeds the amount due of ${money(balance.amountDueMinor)}; record at most the amount due (overpayments are not kept on account)`;
    throw hubError('PAYMENT_EXCEEDS_AMOUNT_DUE', message, { invoiceNumber: invoice.number, amountDueMinor: balance.amountDueMinor });
  }
  return movement('payment', invoice, req, todayUtc);
}

/** Record money paid back: only what credit notes left owing to the operator after its payments. */
export function planRefund(invoice: Invoice, balance: InvoiceBalance, req: MoneyMovementRequest, todayUtc: string): PaymentDraft {
  if (req.amountMinor > balance.refundDueMinor) {
    const message = balance.refundDueMinor === 0
      ? `${invoice.number}: no refund is due`
      : `a refund of ${formatMoney(req.amountMinor, invoice.currency)} exceeds the refund due of ${formatMoney(balance.refundDueMinor, invoice.currency)}`;
    throw hubError('REFUND_EXCEEDS_REFUND_DUE', message, { invoiceNumber: invoice.number, refundDueMinor: balance.refundDueMinor });
  }
  return movement('refund', invoice, req, todayUtc);
}

/**
 * Credit lines of the invoice: `full` credits what is left of every line (and so voids it); `lines`
 * credits the amounts given, each at most what is left of its line.
 */
export function planCreditNote(invoice: Invoice, balance: InvoiceBalance, req: CreditNoteRequest): CreditNoteDraft {
  if (balance.status === 'void') throw hubError('INVOICE_VOID', `${invoice.number} is void: everything on it was credited already`, { invoiceNumber: invoice.number });
  const wanted: { lineNo: number; amountMinor: number }[] = 'full' in req
    ? balance.lines.filter((l) => l.creditableMinor > 0).map((l) => ({ lineNo: l.lineNo, amountMinor: l.creditableMinor }))
    : req.lines;
  if (wanted.length === 0) throw hubError('CREDIT_EXCEEDS_CREDITABLE', `${invoice.number}: nothing is left to credit`, { invoiceNumber: invoice.number });
  const seen = new Set<number>();
  const lines: CreditNoteLine[] = [];
  for (const w of wanted) {
    const lb = balance.lines[w.lineNo - 1];
    if (!lb) throw hubError('VALIDATION_FAILED', `lines: ${invoice.number} has no line ${w.lineNo} (it has ${balance.lines.length})`);
    if (seen.has(w.lineNo)) throw hubError('VALIDATION_FAILED', `lines: line ${w.lineNo} is given twice`);
    seen.add(w.lineNo);
    if (w.amountMinor > lb.creditableMinor) {
      throw hubError('CREDIT_EXCEEDS_CREDITABLE',
        `line ${w.lineNo}: cannot credit ${formatMoney(w.amountMinor, invoice.currency)}, only ${formatMoney(lb.creditableMinor, invoice.currency)} of it is left to credit`,
        { invoiceNumber: invoice.number, lineNo: w.lineNo, creditableMinor: lb.creditableMinor });
    }
    const il = invoice.lines[w.lineNo - 1];
    lines.push({
      invoiceLineNo: w.lineNo, kind: il.kind, fromDate: il.fromDate, toDate: il.toDate,
      description: `${w.amountMinor === il.amountMinor ? 'Credit' : 'Partial credit'} of line ${w.lineNo}: ${il.description}`,
      amountMinor: -w.amountMinor,
    });
  }
  lines.sort((a, b) => a.invoiceLineNo - b.invoiceLineNo);
  const creditedNow = new Map(wanted.map((w) => [w.lineNo, w.amountMinor]));
  const voidsInvoice = balance.lines.every((l) => l.creditableMinor - (creditedNow.get(l.lineNo) ?? 0) === 0);
  return {
    operatorId: invoice.operatorId, creditsInvoice: invoice.number, reason: req.reason,
    periodKey: invoice.periodKey, periodStartMs: invoice.periodStartMs, periodEndMs: invoice.periodEndMs,
    currency: invoice.currency, currencyExponent: invoice.currencyExponent,
    lines, totalMinor: lines.reduce((s, l) => s + l.amountMinor, 0), voidsInvoice,
  };
}
