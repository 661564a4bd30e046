import { CodedError } from '../common/coded-error';

/**
 * Every error code the hub's API can answer with, in one place. Modules throw
 * `hubError('CODE', message)`; http/error-middleware.ts turns it into JSON {error:{code,message}}.
 * Add new codes here, with their HTTP status.
 */
export const HUB_ERRORS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  // http/csrf-guard: a state-changing request that is not JSON, or not from the hub's own pages
  UNSUPPORTED_MEDIA_TYPE: 415,
  CSRF_REJECTED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  // identity: a session whose user must change the password may only read /me, log out or change it
  PASSWORD_CHANGE_REQUIRED: 403,
  // identity: the current password given to a password change is wrong (403, not 401: the session is fine)
  CURRENT_PASSWORD_WRONG: 403,
  // identity: login refused without checking the password, after repeated failures (Retry-After says until when)
  TOO_MANY_ATTEMPTS: 429,
  // identity: login without organization matched accounts in several tenants; give operatorId
  ORGANIZATION_REQUIRED: 409,
  // edges and ingest
  EDGE_REVOKED: 403,
  // an external broker (dynamic-security) could not be told of new or revoked credentials; the hub's change is stored
  BROKER_UNAVAILABLE: 503,
  ENROLLMENT_TOKEN_INVALID: 401,
  // commerce (subscriptions, add-on, invoices)
  TIER_NOT_ELIGIBLE: 409,
  TRIAL_ALREADY_USED: 409,
  ADDON_HIDDEN: 403,
  ADDON_NOT_ACTIVE: 409,
  ADDON_ALREADY_ACTIVE: 409,
  TIER_LIMIT_EXCEEDED: 409,
  // invoices (commerce/invoice-lifecycle.ts): payments, refunds and credit notes an invoice refuses
  INVOICE_VOID: 409,
  PAYMENT_EXCEEDS_AMOUNT_DUE: 409,
  REFUND_EXCEEDS_REFUND_DUE: 409,
  CREDIT_EXCEEDS_CREDITABLE: 409,
  // a retried write with the same Idempotency-Key but a different request
  IDEMPOTENCY_KEY_REUSED: 409,
  // billing (95th-percentile plans)
  SUBJECT_ALREADY_IN_PLAN: 409,
  PLAN_FIELD_IMMUTABLE: 409,
  // billing/pricing.ts: an amount past 2^53 minor units cannot be stored exactly; the bill fails loudly instead
  AMOUNT_OUT_OF_RANGE: 422,
  // customer access
  LOGIN_TAKEN: 409,
  // ops: POST /api/v1/hub/clock asked to move the hub's time back (jobs and dedup assume it only grows)
  CLOCK_BACKWARDS: 409,
} as const;

export type HubErrorCode = keyof typeof HUB_ERRORS;

export function hubError(code: HubErrorCode, message: string, details?: Record<string, unknown>): CodedError {
  return new CodedError(code, message, HUB_ERRORS[code], details);
}
