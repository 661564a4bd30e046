/**
 * The 5-minute bucket: the one unit of time that edge and hub share. Edges aggregate flows into
 * buckets [start, start + 300 s), summaries carry one bucket each (duration_sec 300), the hub stores
 * one slot per bucket and bills the 95th percentile over them. Buckets are UTC and aligned to the
 * Unix epoch (a start is a multiple of 300 s), so every day holds exactly 288 of them and every
 * edge's buckets line up with every other's.
 */
export const BUCKET_SEC = 300;
export const BUCKET_MS = BUCKET_SEC * 1000;

/** Start (Unix seconds) of the bucket containing the instant `sec`; floors, also before 1970. */
export function bucketStartSecOf(sec: number): number {
  return Math.floor(sec / BUCKET_SEC) * BUCKET_SEC;
}

/** Start (Unix seconds) of the bucket containing the instant `ms` (Unix milliseconds). */
export function bucketStartSecOfMs(ms: number): number {
  return Math.floor(ms / BUCKET_MS) * BUCKET_SEC;
}

/** Whether `sec` is a bucket start: an integer multiple of BUCKET_SEC. */
export function isBucketStart(sec: number): boolean {
  return Number.isInteger(sec) && sec % BUCKET_SEC === 0;
}
