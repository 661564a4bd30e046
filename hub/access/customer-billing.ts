import type { CustomerBill, CustomerCycleSoFar } from '../../common/api/customer';

/**
 * Port: what the customer view asks of billing (adapter: hub/billing/customer-billing-adapter.ts).
 * It answers for the subjects it is given; which subjects a customer may see is decided by the
 * caller (customer-scope.ts), never here.
 */
export interface CustomerBilling {
  /** The subject's current cycle so far; undefined when no plan holds it. */
  cycleSoFar(operatorId: string, subjectId: string): Promise<CustomerCycleSoFar | undefined>;
  /** Bills of these subjects, most recent first (serviceLabel left '' for the caller to fill). */
  billsOfSubjects(operatorId: string, subjectIds: string[]): Promise<CustomerBill[]>;
  /** The subject a bill counted, to check scope before anything else of it is read; undefined: no such bill. */
  subjectOfBill(operatorId: string, billNo: number): Promise<string | undefined>;
  /** The bill's PDF, naming the customer as given. */
  billPdf(operatorId: string, billNo: number, customerName: string): Promise<Uint8Array>;
}
