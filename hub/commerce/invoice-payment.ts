/**
 * Money received for an invoice (payment), or paid back to the operator (refund: only what credit
 * notes left owing after payments). Recorded by super_admin, never edited; an invoice's payments and
 * refunds form one series numbered 1, 2, … in the order they were recorded.
 */
export interface Payment {
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
