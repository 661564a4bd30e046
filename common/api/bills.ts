/**
 * API shapes of the bill preview, generate-now and bill-run progress (issue 11), shared by the hub's
 * routes (hub/billing/billing-routes.ts) and the web pages (web/pages/reports.js through JSDoc
 * `@typedef {import('../../common/api/bills').BillPreview} BillPreview`), so the two cannot drift.
 * Times are Unix seconds (…Sec) or milliseconds (…Ms); money in integer minor units (common/money.ts).
 */

/** Why a bill was made. 'generated_now': an operator's interim bill for the cycle so far (the subject stays in its plan). */
export type BillReasonName = 'cycle_end' | 'subject_removed' | 'subject_unmanaged' | 'plan_deleted' | 'generated_now';

/** GET /operators/:op/bill-plans/:planId/preview → { asOfSec, previews: BillPreview[] } */
export interface BillPreview {
  planId: string;
  planName: string;
  subjectId: string;
  cycleStartSec: number;
  cycleEndSec: number;
  /** Start of what the next bill of this subject covers: the cycle's start, its join, or the end of an interim bill. */
  spanStartSec: number;
  /** The figures cover whole 5-minute slots from spanStartSec up to here (the start of the slot now running). */
  asOfSec: number;
  method: 'merge' | 'separate';
  /** The 95th percentile of the slots so far, by the plan's rule (hub/billing/percentile.ts). */
  p95Bps: number;
  p95InBps?: number;
  p95OutBps?: number;
  /** Whole slots from spanStartSec to asOfSec; slots among them with a sample of the subject. */
  slotsSoFar: number;
  slotsWithData: number;
  /** slotsWithData / slotsSoFar in percent, rounded down to 2 decimals (as on bills). */
  coveragePercent: number;
  /** What a bill for the slots so far would charge (prorated by slots, rounded half up once). */
  amountSoFarMinor: number;
  /**
   * The next regular bill if the rest of the cycle stays at the 95th so far: the cycle's price at
   * that 95th, prorated over projectedSlots of cycleSlots (spanStartSec to the cycle's end).
   */
  projectedAmountMinor: number;
  projectedSlots: number;
  cycleSlots: number;
  additionalBlocks: number;
  currency: string;
}

export interface BillPreviewResponse { asOfSec: number; previews: BillPreview[] }

/**
 * POST /operators/:op/bill-plans/:planId/subjects/:subjectId/generate-now  {untilSec?}
 * Header Idempotency-Key (or body idempotencyKey): a retry answers 200 with the first bill.
 */
export interface GenerateNowRequest {
  /** End of the billed span (Unix s); default and latest: the last slot boundary graceSec before now. */
  untilSec?: number;
  idempotencyKey?: string;
}

/** The list view of a bill (GET /bills, and the bill made by generate-now). */
export interface BillSummary {
  billNo: number;
  planId: string;
  planName: string;
  subjectId: string;
  reason: BillReasonName;
  spanStartSec: number;
  spanEndSec: number;
  cycleStartSec: number;
  cycleEndSec: number;
  p95Bps: number;
  amountMinor: number;
  currency: string;
  generatedAtMs: number;
}

export interface GenerateNowResponse { bill: BillSummary; replayed: boolean }

/** GET /operators/:op/bill-runs/latest → BillRunLatestResponse (this operator's part of its last run with bills due). */
export interface BillRunProgress {
  startedAtMs: number;
  /** Absent while the run is going. */
  finishedAtMs?: number;
  /**
   * Bills that fell due in this run for the operator; done: made or found already made (a generate-now
   * bill, a retried run); made: new in this run; failed: retried at the next run.
   */
  due: number;
  done: number;
  made: number;
  failed: number;
  /** Report mails handed to the outbox after the run (all operators). */
  mailed?: number;
  /**
   * Issue 10 (added fields): the run's instant (bills due up to it); the hub that ran it (FLOWBILL_HUB_ID);
   * when these figures were last stored (while running: at most about a second behind, per operator).
   * Absent from a hub older than issue 10.
   */
  runAtMs?: number;
  hubId?: string;
  updatedAtMs?: number;
}

/** The last bill run that finished, on any hub, whether it found bills due or not (issue 10). */
export interface BillRunCheck {
  runAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  hubId?: string;
}

/**
 * GET /operators/:op/bill-runs/latest. `run`: this operator's part of the last run that had bills due
 * FOR THIS OPERATOR, on whichever hub ran it, live while it runs (a later run that found nothing due
 * does not replace it); `lastCheck` (added in issue 10): the last run of all, e.g. "checked at 14:20".
 */
export interface BillRunLatestResponse {
  run: BillRunProgress | null;
  lastCheck?: BillRunCheck | null;
}

/** GET /operators/:op/bill-plans?includeDeleted=1: deleted plans too (Reports' plan filter keeps their bills). */
export interface BillPlanListItem { planId: string; name: string; deletedAtMs?: number }
