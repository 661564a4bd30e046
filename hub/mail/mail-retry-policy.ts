/**
 * When the outbox job tries a spooled message again, and when it gives up. Pure: time comes in as
 * arguments.
 */

/** After the first failure, wait this long; each further failure doubles it... */
export const RETRY_FIRST_DELAY_MS = 60_000;
/** ...up to this (an SMTP server down for a day is tried once an hour, not 1,440 times). */
export const RETRY_MAX_DELAY_MS = 3_600_000;

/** Wait before the next attempt after `failures` consecutive failures (1, 2, 3…): 1 min, 2, 4, … 60 min. */
export function retryDelayMs(failures: number): number {
  if (failures < 1) return 0;
  return Math.min(RETRY_MAX_DELAY_MS, RETRY_FIRST_DELAY_MS * 2 ** Math.min(failures - 1, 30));
}

/** A spooled message is kept for retentionMs after it was written; then it is deleted, sent or not. */
export function isExpired(spooledAtMs: number, nowMs: number, retentionMs: number): boolean {
  return nowMs - spooledAtMs >= retentionMs;
}

export const DAY_MS = 86_400_000;
