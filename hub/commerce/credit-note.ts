/**
 * Credit notes: the only way an issued invoice is corrected (NOTES: an issued invoice is corrected
 * by a credit note, not edited). A credit note refers to one invoice and credits amounts of its lines;
 * it has its own gapless number series (CN-000001, …), separate from the invoices', allocated in the
 * same atomic write as the document. Like invoices, an issued credit note is never edited or deleted.
 *
 * Sign: credit note amounts are negative, mirroring the invoice they correct (a full credit of a line
 * is exactly minus its rounded amount, so invoice + credit notes sum to the minor unit).
 */
import type { InvoiceLine, Party } from './invoice';

export interface CreditNoteLine {
  /** 1-based position of the credited line on the invoice (lines of an issued invoice never move). */
  invoiceLineNo: number;
  kind: InvoiceLine['kind'];
  description: string;
  fromDate: string;
  toDate: string;
  /** Negative minor units; its magnitude is at most what the invoice line had left to credit. */
  amountMinor: number;
}

export interface CreditNoteDraft {
  operatorId: string;
  /** The invoice this note corrects. */
  creditsInvoice: string;
  reason: string;
  periodKey: string;
  periodStartMs: number;
  periodEndMs: number;
  currency: string;
  currencyExponent: number;
  lines: CreditNoteLine[];
  /** Negative: the sum of the lines. */
  totalMinor: number;
  /** After this note nothing of the invoice is left to credit: the invoice is void. */
  voidsInvoice: boolean;
}

export interface CreditNote extends CreditNoteDraft {
  kind: 'credit_note';
  /** "CN-000001": sequential, gapless, never reused; a series of its own. */
  number: string;
  seq: number;
  issuedAtMs: number;
  /** The caller's Idempotency-Key, when it sent one. */
  idempotencyKey?: string;
  seller?: Party;
  buyer?: Party;
}

/**
 * Credit notes stored before partial credits existed were full mirrors without invoiceLineNo (line i
 * credited invoice line i + 1) or voidsInvoice: read them as such.
 */
export function normaliseStoredCreditNote(doc: CreditNote): CreditNote {
  const lines = doc.lines.map((l, i) => (l.invoiceLineNo === undefined ? { ...l, invoiceLineNo: i + 1 } : l));
  return { ...doc, lines, voidsInvoice: doc.voidsInvoice ?? true, reason: doc.reason ?? '' };
}
