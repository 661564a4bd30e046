/**
 * Money received for an invoice (payment), or paid back to the operator (refund: only what credit
 * notes left owing after payments). Recorded by super_admin, never edited; an invoice's payments and
 * refunds form one series numbered 1, 2, … in the order they were recorded.
 */
import type { PaymentView } from '../../common/api/invoices';

/** Stored as the API shows it: the wire type is the one source (common/api/invoices.ts). */
export type Payment = PaymentView;
