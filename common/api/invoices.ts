/**
 * Invoices, payments and credit notes (hub/commerce/invoice-routes.ts, invoice-view.ts). Issued
 * documents never change; their state (status, amounts due) is derived on every read. Used by
 * web/pages/invoices.js and account.js.
 */

export type InvoiceStatus = 'issued' | 'partially_paid' | 'paid' | 'void';
export type CreditState = 'none' | 'partial' | 'full';

/** Seller or buyer as printed on the document, frozen at issue (a later rename does not change it). */
export interface PartyView {
  name: string;
  /** The buyer's operator id. */
  operatorId?: string;
}

/** A line as priced (the hub stores issued lines so, and the preview shows them so): the one source of its fields. */
export interface InvoiceDraftLineView {
  kind: 'subscription' | 'netflow_addon';
  description: string;
  tierId: string;
  tierName: string;
  /** The tier's monthly fee in force for these days. */
  monthlyFeeMinor: number;
  /** 100 for the subscription; the add-on's share of the fee for the add-on. */
  percentOfFee: number;
  /** "YYYY-MM-DD", UTC. */
  fromDate: string;
  /** Inclusive. */
  toDate: string;
  days: number;
  daysInPeriod: number;
  prorated: boolean;
  /** Exact minor units before rounding, e.g. "4983.333333" (kept to explain the line, not to show as is). */
  unroundedMinor: string;
  amountMinor: number;
  rule: string;
}

/** A line of an issued invoice, numbered, with what credit notes did to it. */
export interface InvoiceLineView extends InvoiceDraftLineView {
  /** 1-based position on the invoice (lines of an issued invoice never move). */
  lineNo: number;
  /** Positive: the sum credited by credit notes. */
  creditedMinor: number;
  /** What a further credit note may still credit on this line. */
  creditableMinor: number;
}

/** An invoice as priced, before issue numbers it (hub/commerce/invoice.ts InvoiceDraft; the preview adds to it). */
export interface InvoiceDraftView {
  operatorId: string;
  periodKey: string;
  periodStartMs: number;
  /** Exclusive. */
  periodEndMs: number;
  currency: string;
  currencyExponent: number;
  lines: InvoiceDraftLineView[];
  totalMinor: number;
}

export interface PaymentView {
  kind: 'payment' | 'refund';
  operatorId: string;
  invoiceNumber: string;
  /** 1-based, per invoice, payments and refunds together. */
  no: number;
  /** Positive minor units of the invoice's currency. */
  amountMinor: number;
  currency: string;
  /** The UTC date the money moved ("2026-05-10"), as the bank statement shows it. */
  date: string;
  /** The bank or payment provider's reference. */
  reference: string;
  recordedAtMs: number;
  /** The caller's Idempotency-Key, when it sent one. */
  idempotencyKey?: string;
}

export interface CreditNoteSummaryView {
  number: string;
  issuedAtMs: number;
  /** Negative. */
  totalMinor: number;
  reason: string;
  voidsInvoice: boolean;
}

/** An issued invoice: its draft's period, currency and total, numbered, with its state derived on read. */
export interface InvoiceView extends Omit<InvoiceDraftView, 'lines'> {
  kind: 'invoice';
  /** "INV-000001": sequential, gapless, never reused. */
  number: string;
  seq: number;
  issuedAtMs: number;
  /** Payable until the end of this UTC day ("2026-05-15"). */
  dueDate: string;
  seller: PartyView;
  buyer: PartyView;
  lines: InvoiceLineView[];
  status: InvoiceStatus;
  creditState: CreditState;
  overdue: boolean;
  creditedMinor: number;
  paidMinor: number;
  refundedMinor: number;
  /** total − credited − paid + refunded */
  balanceMinor: number;
  amountDueMinor: number;
  refundDueMinor: number;
  payments: PaymentView[];
  creditNotes: CreditNoteSummaryView[];
}

export interface CreditNoteLineView {
  /** 1-based position of the credited line on the invoice (lines of an issued invoice never move). */
  invoiceLineNo: number;
  kind: InvoiceLineView['kind'];
  description: string;
  fromDate: string;
  toDate: string;
  /** Negative minor units; its magnitude is at most what the invoice line had left to credit. */
  amountMinor: number;
}

export interface CreditNoteView {
  kind: 'credit_note';
  /** "CN-000001": sequential, gapless, never reused; a series of its own. */
  number: string;
  seq: number;
  operatorId: string;
  /** The invoice this note corrects. */
  creditsInvoice: string;
  reason: string;
  periodKey: string;
  periodStartMs: number;
  periodEndMs: number;
  currency: string;
  currencyExponent: number;
  lines: CreditNoteLineView[];
  /** Negative: the sum of the lines. */
  totalMinor: number;
  /** After this note nothing of the invoice is left to credit: the invoice is void. */
  voidsInvoice: boolean;
  issuedAtMs: number;
  /** The caller's Idempotency-Key, when it sent one. */
  idempotencyKey?: string;
  seller?: PartyView;
  buyer?: PartyView;
}

/** GET /api/v1/operators/:op/invoices */
export interface InvoicesResponse {
  invoices: InvoiceView[];
}

/** GET /api/v1/operators/:op/invoices/:number */
export interface InvoiceResponse {
  invoice: InvoiceView;
}

/** GET /api/v1/operators/:op/credit-notes */
export interface CreditNotesResponse {
  creditNotes: CreditNoteView[];
}

/** GET /api/v1/operators/:op/credit-notes/:number */
export interface CreditNoteResponse {
  creditNote: CreditNoteView;
}

/** POST …/invoices/:number/payments and …/refunds (super_admin). date: "YYYY-MM-DD", default today (UTC). */
export interface PaymentRequest {
  amountMinor: number;
  reference: string;
  date?: string;
  /** Or the Idempotency-Key header: a replay records once. */
  idempotencyKey?: string;
}

/** POST …/invoices/:number/payments */
export interface PaymentResponse {
  payment: PaymentView;
  invoice: InvoiceView;
}

/** POST …/invoices/:number/refunds */
export interface RefundResponse {
  refund: PaymentView;
  invoice: InvoiceView;
}

/** POST …/invoices/:number/credit-notes (super_admin): everything left, or amounts of some lines. */
export type CreditNoteRequest = ({ reason: string; full: true } | { reason: string; lines: { lineNo: number; amountMinor: number }[] }) & { idempotencyKey?: string };

/** POST …/invoices/:number/credit-notes */
export interface IssueCreditNoteResponse {
  creditNote: CreditNoteView;
  invoice: InvoiceView;
}
