/**
 * What an invoice or credit note states besides its lines, frozen into it when issued: the seller
 * (this platform, FLOWBILL_INVOICE_SELLER_NAME), the buyer (the operator's name then) and, for
 * invoices, the due date: the UTC issue date plus the payment terms (FLOWBILL_INVOICE_PAYMENT_TERMS_DAYS),
 * payable until the end of that UTC day.
 */
import { DAY_MS, utcDate } from './invoice-period';
import type { Party } from './invoice';

export interface InvoiceTerms {
  sellerName: string;
  paymentTermsDays: number;
}

/** Defaults of the two config keys, for hubs and tests that do not pass them. */
export const DEFAULT_INVOICE_TERMS: Readonly<InvoiceTerms> = Object.freeze({ sellerName: 'flowbill', paymentTermsDays: 14 });

export interface IssuedTerms {
  seller: Party;
  buyer: Party;
  dueDate: string;
}

export function dueDateFor(issuedAtMs: number, paymentTermsDays: number): string {
  return utcDate(issuedAtMs + paymentTermsDays * DAY_MS);
}

/** operatorName: the operator's current name, or undefined when unknown (the id stands in). */
export function issuedTerms(terms: InvoiceTerms, operatorId: string, operatorName: string | undefined, issuedAtMs: number): IssuedTerms {
  return {
    seller: { name: terms.sellerName },
    buyer: { name: operatorName ?? operatorId, operatorId },
    dueDate: dueDateFor(issuedAtMs, terms.paymentTermsDays),
  };
}
