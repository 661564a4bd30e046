import { isCurrency } from '../../common/money';
import { parseSubjectId } from '../../common/subject-id';
import { hubError } from '../errors';
import type { BillCycle, Cycle } from './bill-cycle';
import { cycleContaining } from './bill-cycle';
import type { TariffView } from '../../common/api/bill-plans';

/**
 * The prices of a plan from one cycle on. A change never applies to the running cycle: it gets
 * effectiveFromSec = the start of the next cycle, and older tariffs stay for the bills they priced.
 * Stored as the API shows it: the wire type is the one source (common/api/bill-plans.ts).
 */
export type Tariff = TariffView;

/** One stretch of time in which a subject belonged to the plan: [fromSec, toSec). */
export interface Association {
  subjectId: string;
  fromSec: number;
  toSec?: number;
  endReason?: EndReason;
  /** generate-now (issue 11): the Idempotency-Key of the request that ended this stretch, so a retry finds its bill. */
  generateNowKey?: string;
}

/** 'generated_now': an interim bill made on request; the subject stays in the plan from that instant on (billing-service generateNow). */
export type EndReason = 'subject_removed' | 'subject_unmanaged' | 'plan_deleted' | 'generated_now';

export interface BillPlan {
  operatorId: string;
  planId: string;
  name: string;
  description: string;
  billingPeriod: BillCycle;
  /** 1–31; 29–31 clamp to the last day of short months. */
  generationDay: number;
  emails: string[];
  tariffs: Tariff[];
  associations: Association[];
  createdAtMs: number;
  updatedAtMs: number;
  deletedAtMs?: number;
}

/** The tariff that prices a cycle: the last one in force at the cycle's start. */
export function tariffForCycle(plan: BillPlan, cycle: Cycle): Tariff {
  let found = plan.tariffs[0]!;
  for (const t of plan.tariffs) if (t.effectiveFromSec <= cycle.startSec) found = t;
  return found;
}

export function currentTariff(plan: BillPlan): Tariff {
  return plan.tariffs[plan.tariffs.length - 1]!;
}

export function activeSubjectIds(plan: BillPlan): string[] {
  return plan.associations.filter((a) => a.toSec === undefined).map((a) => a.subjectId);
}

/**
 * Records a tariff change made at nowSec. It takes effect at the start of the next cycle; a second
 * change within the same cycle replaces the pending one (nothing has been billed with it yet).
 */
export function withTariffChange(plan: BillPlan, change: Omit<Tariff, 'effectiveFromSec'>, nowSec: number): Tariff[] {
  const effectiveFromSec = cycleContaining(plan.billingPeriod, plan.generationDay, nowSec).endSec;
  const kept = plan.tariffs.filter((t) => t.effectiveFromSec < effectiveFromSec);
  return [...kept, { ...change, effectiveFromSec }];
}

// ---- validation of API input -------------------------------------------------------------------

// Pragmatic addr-spec: local@domain with a dot-separated domain; no display names, no quoting.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** "a@x.com, b@y.org" or an array → validated, de-duplicated list. */
export function parseEmails(input: unknown): string[] {
  const parts = Array.isArray(input) ? input : typeof input === 'string' ? input.split(',') : undefined;
  if (!parts) throw hubError('VALIDATION_FAILED', 'emails: a comma-separated string of addresses');
  const out: string[] = [];
  for (const raw of parts) {
    if (typeof raw !== 'string') throw hubError('VALIDATION_FAILED', 'emails: addresses must be strings');
    const e = raw.trim();
    if (e === '') continue;
    if (!EMAIL.test(e)) throw hubError('VALIDATION_FAILED', `emails: "${e}" is not a valid e-mail address`, { field: 'emails', value: e });
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

export function positiveInt(body: Record<string, unknown>, field: string): number {
  const v = body[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw hubError('VALIDATION_FAILED', `${field}: a positive integer`, { field });
  return v;
}

export function nonNegativeInt(body: Record<string, unknown>, field: string): number {
  const v = body[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw hubError('VALIDATION_FAILED', `${field}: a non-negative integer (minor units of the currency)`, { field });
  return v;
}

export function parseTariffFields(body: Record<string, unknown>): Omit<Tariff, 'effectiveFromSec'> {
  const currency = body.currency;
  // Only active ISO 4217 codes (common/money.ts): the exponent that bills the plan comes from that table.
  if (!isCurrency(currency)) throw hubError('VALIDATION_FAILED', `currency: ${typeof currency === 'string' && currency.length <= 8 ? `"${currency}" is not` : 'expected'} an active ISO 4217 currency code such as USD, EUR, JPY or KWD`, { field: 'currency' });
  const method = body.percentileMethod ?? 'merge';
  if (method !== 'merge' && method !== 'separate') throw hubError('VALIDATION_FAILED', 'percentileMethod: "merge" (In & Out merge) or "separate" (In & Out separate)', { field: 'percentileMethod' });
  return {
    currency,
    baseSpeedBps: positiveInt(body, 'baseSpeedBps'),
    baseCostMinor: nonNegativeInt(body, 'baseCostMinor'),
    additionalSpeedBps: positiveInt(body, 'additionalSpeedBps'),
    additionalCostMinor: nonNegativeInt(body, 'additionalCostMinor'),
    percentileMethod: method,
  };
}

export function parseText(body: Record<string, unknown>, field: string, maxLength: number, required: boolean): string {
  const v = body[field];
  if (v === undefined && !required) return '';
  if (typeof v !== 'string' || (required && v.trim() === '') || v.length > maxLength) {
    throw hubError('VALIDATION_FAILED', `${field}: ${required ? 'required, ' : ''}text of at most ${maxLength} characters`, { field });
  }
  return v.trim();
}

export function parseBillCycle(v: unknown): BillCycle {
  if (v !== 'monthly' && v !== 'quarterly') throw hubError('VALIDATION_FAILED', 'billingPeriod: "monthly" or "quarterly"', { field: 'billingPeriod' });
  return v;
}

export function parseGenerationDay(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 31) throw hubError('VALIDATION_FAILED', 'generationDay: day of month 1–31 (29–31 mean the last day in shorter months)', { field: 'generationDay' });
  return v;
}

export function parseSubjectIds(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw hubError('VALIDATION_FAILED', 'subjectIds: an array of subject ids ("if:<exporter>/<ifIndex>" or "ipg:<group>")');
  const out: string[] = [];
  for (const s of v) {
    if (typeof s !== 'string' || !parseSubjectId(s)) throw hubError('VALIDATION_FAILED', `subjectIds: "${String(s)}" is not a subject id`, { field: 'subjectIds' });
    if (!out.includes(s)) out.push(s);
  }
  return out;
}
