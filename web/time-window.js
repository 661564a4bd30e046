// @ts-check
// Time windows for series and top-N views, aligned to 5-minute buckets (the hub's resolution).
// A window ends at the last COMPLETE bucket: the running bucket has no data on the hub yet (the edge
// sends a bucket when it closes), so a window up to "now" would end in an empty, future-looking gap.
export const BUCKET_SEC = 300;
/** The hub refuses longer ranges (hub/store/series-routes.ts). */
export const MAX_RANGE_SEC = 400 * 86400;

export const WINDOWS = [
  { key: '1h', label: 'Last hour', sec: 3600 },
  { key: '24h', label: 'Last 24 hours', sec: 86400 },
  { key: '7d', label: 'Last 7 days', sec: 7 * 86400 },
  { key: '30d', label: 'Last 30 days', sec: 30 * 86400 },
];

/** @typedef {{fromSec: number, toSec: number, label: string, key: string}} TimeRange */

/** End of the last complete bucket at nowMs (= start of the running one). */
export function lastCompleteBucketEndSec(nowMs = Date.now()) {
  return Math.floor(nowMs / 1000 / BUCKET_SEC) * BUCKET_SEC;
}

/**
 * [fromSec, toSec) of a preset window, ending at the last complete bucket.
 * @param {string} key
 * @returns {TimeRange}
 */
export function windowRange(key, nowMs = Date.now()) {
  const w = WINDOWS.find((x) => x.key === key) || WINDOWS[1];
  const toSec = lastCompleteBucketEndSec(nowMs);
  return { fromSec: toSec - w.sec, toSec, label: w.label, key: w.key };
}

/**
 * A custom range (from pickers or a zoom), widened outwards to whole buckets and clipped so it never
 * ends after the last complete bucket. Returns an error string instead when it cannot be shown.
 * @param {number} fromSec
 * @param {number} toSec
 * @returns {TimeRange | {error: string}}
 */
export function customRange(fromSec, toSec, nowMs = Date.now()) {
  if (!Number.isFinite(fromSec) || !Number.isFinite(toSec)) return { error: 'Give both a start and an end.' };
  const end = lastCompleteBucketEndSec(nowMs);
  const from = Math.floor(fromSec / BUCKET_SEC) * BUCKET_SEC;
  const to = Math.min(end, Math.ceil(toSec / BUCKET_SEC) * BUCKET_SEC);
  if (from >= end) return { error: 'The start is after the last complete 5-minute bucket: there is no data there yet.' };
  if (from >= to) return { error: 'The start must be before the end.' };
  if (to - from > MAX_RANGE_SEC) return { error: 'At most 400 days at a time.' };
  return { fromSec: from, toSec: to, label: 'Custom range', key: 'custom' };
}

/** "1 h 05 min", "2 d 3 h", "25 min": a span of seconds as a NOC reads it. */
/** @param {number} sec */
export function formatSpan(sec) {
  const s = Math.max(0, Math.round(sec));
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  if (d > 0) return hh ? `${d} d ${hh} h` : `${d} d`;
  if (hh > 0) return `${hh} h ${String(mm).padStart(2, '0')} min`;
  return `${mm} min`;
}

/** Unix seconds ↔ the value of an <input type="datetime-local"> read as UTC (the UI's times are UTC). */
/** @param {number} sec */
export function toUtcInputValue(sec) {
  return new Date(sec * 1000).toISOString().slice(0, 16);
}

/** @param {string} value @returns {number} NaN when the value is empty or not a date */
export function fromUtcInputValue(value) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value || '')) return NaN;
  return Date.parse(`${value.slice(0, 16)}:00Z`) / 1000;
}
