// Time windows for series and top-N views, aligned to 5-minute buckets (the hub's resolution).
export const BUCKET_SEC = 300;

export const WINDOWS = [
  { key: '1h', label: 'Last hour', sec: 3600 },
  { key: '24h', label: 'Last 24 hours', sec: 86400 },
  { key: '7d', label: 'Last 7 days', sec: 7 * 86400 },
  { key: '30d', label: 'Last 30 days', sec: 30 * 86400 },
];

/** [fromSec, toSec) ending at the next bucket boundary after nowMs, so the running bucket is included. */
export function windowRange(key, nowMs = Date.now()) {
  const w = WINDOWS.find((x) => x.key === key) || WINDOWS[1];
  const toSec = Math.ceil(nowMs / 1000 / BUCKET_SEC) * BUCKET_SEC;
  return { fromSec: toSec - w.sec, toSec, label: w.label, key: w.key };
}
