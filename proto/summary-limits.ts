/**
 * Bounds on the numbers one Summary (proto/flowbill.proto) may carry, shared by the edge that builds
 * summaries and the hub that validates them: one concept, one constant.
 */

/**
 * Largest bytes / packets / flows count of ONE summary: 2^50 (~1.1e15), 5 minutes at ~30 Tbit/s.
 * Far above any link, far below 2^53 after a month of sums at the hub. The hub refuses a summary
 * above it (hub/ingest/summary-validation.ts); the edge never builds one (the bucket aggregator
 * refuses a hit that would push a counter past it, the outbox drops and counts a bad summary).
 */
export const MAX_SUMMARY_COUNT = 2 ** 50;

/** A count the hub accepts: a safe integer in [0, MAX_SUMMARY_COUNT]. */
export function isValidSummaryCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_SUMMARY_COUNT;
}
