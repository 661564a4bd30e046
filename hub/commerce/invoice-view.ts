/**
 * What the API and the PDFs show of an invoice: the issued document as it was issued, plus its state
 * derived now (invoice-balance.ts): status, per-line credits, payments, credit notes, amount due.
 */
import type { CreditNote } from './credit-note';
import type { Invoice, InvoiceLine, Party } from './invoice';
import type { InvoiceBalance } from './invoice-balance';
import { invoiceBalance } from './invoice-balance';
import type { Payment } from './invoice-payment';

export interface CreditNoteSummary {
  number: string;
  issuedAtMs: number;
  totalMinor: number;
  reason: string;
  voidsInvoice: boolean;
}

export interface InvoiceView extends Omit<Invoice, 'lines' | 'dueDate'>, Omit<InvoiceBalance, 'lines'> {
  /** The invoice's own, or (invoices issued before due dates existed) derived from the payment terms. */
  dueDate: string;
  seller: Party;
  buyer: Party;
  lines: (InvoiceLine & { lineNo: number; creditedMinor: number; creditableMinor: number })[];
  payments: Payment[];
  creditNotes: CreditNoteSummary[];
}

export interface ViewContext {
  todayUtc: string;
  /** For invoices issued without them (older hubs): the due date and parties to show. */
  fallbackDueDate: string;
  fallbackSeller: Party;
  fallbackBuyer: Party;
}

export function summariseCreditNote(cn: CreditNote): CreditNoteSummary {
  return { number: cn.number, issuedAtMs: cn.issuedAtMs, totalMinor: cn.totalMinor, reason: cn.reason, voidsInvoice: cn.voidsInvoice };
}

/** creditNotes and payments may include other invoices' documents; only this invoice's are shown. */
export function invoiceView(invoice: Invoice, creditNotes: readonly CreditNote[], payments: readonly Payment[], ctx: ViewContext): InvoiceView {
  const dueDate = invoice.dueDate ?? ctx.fallbackDueDate;
  const mineCn = creditNotes.filter((c) => c.creditsInvoice === invoice.number);
  const minePay = payments.filter((p) => p.invoiceNumber === invoice.number);
  const { lines: lineBalances, ...balance } = invoiceBalance(invoice, mineCn, minePay, ctx.todayUtc, dueDate);
  return {
    ...invoice,
    ...balance,
    dueDate,
    seller: invoice.seller ?? ctx.fallbackSeller,
    buyer: invoice.buyer ?? ctx.fallbackBuyer,
    lines: invoice.lines.map((l, i) => ({ ...l, lineNo: i + 1, creditedMinor: lineBalances[i].creditedMinor, creditableMinor: lineBalances[i].creditableMinor })),
    payments: minePay,
    creditNotes: mineCn.map(summariseCreditNote),
  };
}
