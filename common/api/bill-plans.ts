/**
 * 95th-percentile bill plans as web/pages/bill-plans.js reads and edits them (hub/billing/billing-routes.ts;
 * the domain type is hub/billing/bill-plan.ts's BillPlan). Money in integer minor units of `currency`.
 */

export interface TariffView {
  effectiveFromSec: number;
  currency: string;
  baseSpeedBps: number;
  baseCostMinor: number;
  additionalSpeedBps: number;
  additionalCostMinor: number;
  percentileMethod: 'merge' | 'separate';
}

/** One stretch of time a subject belonged to the plan: [fromSec, toSec); no toSec = still in it. */
export interface AssociationView { subjectId: string; fromSec: number; toSec?: number; endReason?: string }

export interface BillPlanView {
  operatorId: string;
  planId: string;
  name: string;
  description: string;
  billingPeriod: 'monthly' | 'quarterly';
  generationDay: number;
  emails: string[];
  /** Oldest first; the last one is the tariff of the next cycle. */
  tariffs: TariffView[];
  associations: AssociationView[];
  createdAtMs: number;
  updatedAtMs: number;
  deletedAtMs?: number;
}

/** GET /operators/:op/bill-plans */
export interface BillPlansResponse { plans: BillPlanView[] }

/** A subject the hub has series for (GET /operators/:op/subjects, and …/bill-plans/available-subjects: those in no plan). */
export interface SubjectInfoView { subjectId: string; kind: 'interface' | 'ip_group'; label: string; firstSeenSec: number; lastSeenSec: number }
export interface SubjectsListResponse { subjects: SubjectInfoView[] }

/** PATCH /operators/:op/bill-plans/:planId: present fields change; billingPeriod and generationDay are fixed. */
export interface UpdateBillPlanRequest {
  name?: string;
  description?: string;
  /** Comma-separated or a list. */
  emails?: string | string[];
  currency?: string;
  baseSpeedBps?: number;
  baseCostMinor?: number;
  additionalSpeedBps?: number;
  additionalCostMinor?: number;
  percentileMethod?: 'merge' | 'separate';
  subjectIds?: string[];
}
