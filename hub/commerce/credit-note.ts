/**
 * Credit notes: the only way an issued invoice is corrected (NOTES: an issued invoice is corrected
 * by a credit note, not edited). A credit note refers to one invoice and credits amounts of its lines;
 * it has its own gapless number series (CN-000001, …), separate from the invoices', allocated in the
 * same atomic write as the document. Like invoices, an issued credit note is never edited or deleted.
 *
 * Sign: credit note amounts are negative, mirroring the invoice they correct (a full credit of a line
 * is exactly minus its rounded amount, so invoice + credit notes sum to the minor unit).
 */
import type { CreditNoteLineView, CreditNoteView } from '../../common/api/invoices';

/** The documents are stored as the API shows them: the wire types are the one source (common/api/invoices.ts). */
export type CreditNoteLine = CreditNoteLineView;
export type CreditNote = CreditNoteView;

/** A credit note before issue gives it its number, series position, time and parties. */
export type CreditNoteDraft = Omit<CreditNote, 'kind' | 'number' | 'seq' | 'issuedAtMs' | 'idempotencyKey' | 'seller' | 'buyer'>;

/**
 * Credit notes stored before partial credits existed were full mirrors without invoiceLineNo (line i
 * credited invoice line i + 1) or voidsInvoice: read them as such.
 */
export function normaliseStoredCreditNote(doc: CreditNote): CreditNote {
  const lines = doc.lines.map((l, i) => (l.invoiceLineNo === undefined ? { ...l, invoiceLineNo: i + 1 } : l));
  return { ...doc, lines, voidsInvoice: doc.voidsInvoice ?? true, reason: doc.reason ?? '' };
}
