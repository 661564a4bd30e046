/**
 * API shapes of the customer's own view (/api/v1/customer/*, role 'customer'), shared by the hub's
 * routes (hub/access/customer-routes.ts) and the page (web/pages/customer-view.js through JSDoc
 * `@typedef {import('../../common/api/customer').CustomerUsage} CustomerUsage`), so they cannot drift.
 * Times are Unix seconds (…Sec) or milliseconds (…Ms); money in integer minor units (common/money.ts).
 * Nothing here names an operator's internals (plan ids, notes): only what the customer is billed on.
 */
import type { BillPreview } from './bills';

/** GET /customer/subjects → { subjects: CustomerSubject[] }: the traffic the customer's enabled access records grant. */
export interface CustomerSubject {
  subjectId: string;
  kind: 'interface' | 'ip_group';
  /** The collectors' label of the traffic (IP group or interface name). */
  label: string;
  /** The label of the customer's service that grants it (the access record's service); '' if none has one. */
  serviceLabel: string;
  firstSeenSec: number | null;
  lastSeenSec: number | null;
}

/**
 * The current billing cycle so far, by the plan's 95th-percentile rule (hub/billing/bill-preview.ts):
 * the operator's bill preview (bills.ts, one source for the fields and their meaning) without the
 * plan id, the amounts or the projection, which the customer is not shown.
 */
export type CustomerCycleSoFar = Pick<BillPreview,
  'planName' | 'cycleStartSec' | 'cycleEndSec' | 'spanStartSec' | 'asOfSec' | 'method'
  | 'p95Bps' | 'p95InBps' | 'p95OutBps' | 'slotsSoFar' | 'slotsWithData' | 'coveragePercent'>;

/** GET /customer/usage?subjectId= → CustomerUsage */
export interface CustomerUsage {
  subjectId: string;
  serviceLabel: string;
  /**
   * The span the totals cover: 'billing_cycle' = cycleStartSec to asOfSec of `cycle` (the 95th covers
   * spanStartSec to asOfSec: what the next bill counts); 'month' (no plan
   * bills this traffic) = the calendar month so far, UTC, up to the start of the slot now running.
   */
  period: 'billing_cycle' | 'month';
  fromSec: number;
  toSec: number;
  bytesIn: number;
  bytesOut: number;
  /** null when no bill plan holds this traffic. */
  cycle: CustomerCycleSoFar | null;
}

/** GET /customer/bills → { bills: CustomerBill[] } (most recent first), only bills of the customer's own traffic. */
export interface CustomerBill {
  billNo: number;
  planName: string;
  subjectId: string;
  serviceLabel: string;
  /** The span as billed: the first counted slot's start to the last one's end. */
  billedFromSec: number;
  billedToSec: number;
  p95Bps: number;
  amountMinor: number;
  currency: string;
  generatedAtMs: number;
}
