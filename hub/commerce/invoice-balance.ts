/**
 * An invoice's state, derived from the documents alone (the invoice, the credit notes that refer to it,
 * its payments and refunds): nothing here is stored, so it cannot drift from them.
 *
 *   balance    = total − credited − paid + refunded
 *   amount due = max(balance, 0);   refund due = max(−balance, 0)
 *
 * Status, one of:
 *   void            everything was credited (one full credit note, or partial ones adding up)
 *   paid            nothing is due (including a zero invoice, and one settled by credits and payments)
 *   partially_paid  some money received, some still due
 *   issued          nothing received yet
 * and, beside it, how much was credited (none | partial | full) and whether it is overdue (something is
 * due and its due date has passed, in UTC).
 */
import type { CreditNote } from './credit-note';
import type { Invoice } from './invoice';
import type { Payment } from './invoice-payment';

import type { CreditState, InvoiceLineView, InvoiceStatus, InvoiceView } from '../../common/api/invoices';
export type { CreditState, InvoiceStatus };

// The derived figures are the ones the API shows: their fields and meaning come from common/api/invoices.ts.
export type LineBalance = Pick<InvoiceLineView, 'lineNo' | 'amountMinor' | 'creditedMinor' | 'creditableMinor'>;

export interface InvoiceBalance extends Pick<InvoiceView,
  'status' | 'creditState' | 'overdue' | 'totalMinor' | 'creditedMinor' | 'paidMinor' | 'refundedMinor'
  | 'balanceMinor' | 'amountDueMinor' | 'refundDueMinor'> {
  lines: LineBalance[];
}

/**
 * creditNotes and payments may hold other invoices' documents: only those referring to `invoice` count.
 * todayUtc ("YYYY-MM-DD") decides `overdue`; dueDate is the invoice's (or the one derived for it).
 */
export function invoiceBalance(invoice: Invoice, creditNotes: readonly CreditNote[], payments: readonly Payment[], todayUtc: string, dueDate: string | undefined = invoice.dueDate): InvoiceBalance {
  const credited = new Array<number>(invoice.lines.length).fill(0);
  for (const cn of creditNotes) {
    if (cn.creditsInvoice !== invoice.number) continue;
    for (const l of cn.lines) {
      const i = l.invoiceLineNo - 1;
      if (i >= 0 && i < credited.length) credited[i] += -l.amountMinor;
    }
  }
  const lines: LineBalance[] = invoice.lines.map((l, i) => ({
    lineNo: i + 1, amountMinor: l.amountMinor, creditedMinor: credited[i], creditableMinor: Math.max(0, l.amountMinor - credited[i]),
  }));
  const mine = payments.filter((p) => p.invoiceNumber === invoice.number);
  const sum = (kind: Payment['kind']) => mine.filter((p) => p.kind === kind).reduce((s, p) => s + p.amountMinor, 0);
  const paidMinor = sum('payment');
  const refundedMinor = sum('refund');
  const creditedMinor = credited.reduce((s, c) => s + c, 0);
  const totalMinor = invoice.totalMinor;
  const balanceMinor = totalMinor - creditedMinor - paidMinor + refundedMinor;
  const amountDueMinor = Math.max(0, balanceMinor);
  const refundDueMinor = Math.max(0, -balanceMinor);
  const creditState: CreditState = creditedMinor === 0 ? 'none' : lines.every((l) => l.creditableMinor === 0) ? 'full' : 'partial';
  const status: InvoiceStatus = creditState === 'full' ? 'void'
    : amountDueMinor === 0 ? 'paid'
      : paidMinor - refundedMinor > 0 ? 'partially_paid'
        : 'issued';
  const overdue = amountDueMinor > 0 && status !== 'void' && dueDate !== undefined && todayUtc > dueDate;
  return { status, creditState, overdue, totalMinor, creditedMinor, paidMinor, refundedMinor, balanceMinor, amountDueMinor, refundDueMinor, lines };
}
