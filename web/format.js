// Display formatting shared by every page: rates with SI units, UTC times, money from minor units.
// Pure functions (no DOM), so they are unit-tested in Node as well.

const BPS_UNITS = ['bps', 'kbps', 'Mbps', 'Gbps', 'Tbps'];

/** Bits per second with an SI unit (1 kbps = 1000 bps, as carriers bill): 1234567 → "1.23 Mbps". */
export function formatBps(bitsPerSec) {
  if (bitsPerSec === null || bitsPerSec === undefined || !Number.isFinite(Number(bitsPerSec))) return '—';
  let v = Number(bitsPerSec);
  const sign = v < 0 ? '-' : '';
  v = Math.abs(v);
  let i = 0;
  while (v >= 1000 && i < BPS_UNITS.length - 1) { v /= 1000; i++; }
  const digits = i === 0 ? 0 : v >= 100 ? 1 : 2;
  return `${sign}${v.toFixed(digits)} ${BPS_UNITS[i]}`;
}

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Bytes with an SI unit: 1500000 → "1.50 MB". */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || !Number.isFinite(Number(bytes))) return '—';
  let v = Number(bytes);
  let i = 0;
  while (Math.abs(v) >= 1000 && i < BYTE_UNITS.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(i === 0 ? 0 : 2)} ${BYTE_UNITS[i]}`;
}

/** Integer with thousands separators, locale-independent: 1234567 → "1,234,567". */
export function formatCount(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '—';
  return String(Math.trunc(Number(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function pad2(n) { return String(n).padStart(2, '0'); }

/** A UTC timestamp from milliseconds: "2026-11-23 15:30 UTC" (seconds only when asked). */
export function formatUtc(ms, { seconds = false } = {}) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '—';
  const d = new Date(Number(ms));
  const date = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}${seconds ? `:${pad2(d.getUTCSeconds())}` : ''}`;
  return `${date} ${time} UTC`;
}

/** A UTC calendar date from milliseconds: "2026-11-23". */
export function formatUtcDate(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '—';
  return formatUtc(ms).slice(0, 10);
}

/** "3 min ago" / "2 h ago" relative to nowMs; the exact UTC time goes in a title attribute. */
export function formatAgo(ms, nowMs) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms)) || Number(ms) <= 0) return 'never';
  const s = Math.max(0, Math.round((nowMs - Number(ms)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// ISO 4217 minor-unit exponents that differ from 2. Anything unknown is assumed to be 2.
const EXPONENTS = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** The currency's minor-unit exponent (JPY 0, USD 2, KWD 3). The API may send its own; that wins. */
export function currencyExponent(currency, exponentFromApi) {
  if (Number.isInteger(exponentFromApi) && exponentFromApi >= 0) return exponentFromApi;
  const code = String(currency ?? '').toUpperCase();
  return Object.hasOwn(EXPONENTS, code) ? EXPONENTS[code] : 2;
}

/**
 * Money from integer minor units, with integer arithmetic only (no float rounding of money):
 * (123456, 'USD') → "1,234.56 USD"; (1500, 'JPY') → "1,500 JPY"; (1234, 'KWD') → "1.234 KWD".
 */
export function formatMoney(amountMinor, currency, exponent) {
  if (amountMinor === null || amountMinor === undefined || amountMinor === '') return '—';
  let big;
  try { big = BigInt(amountMinor); } catch { return '—'; }
  const e = currencyExponent(currency, exponent);
  const neg = big < 0n;
  if (neg) big = -big;
  const digits = big.toString().padStart(e + 1, '0');
  const whole = digits.slice(0, digits.length - e).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = e > 0 ? `.${digits.slice(digits.length - e)}` : '';
  return `${neg ? '-' : ''}${whole}${frac}${currency ? ` ${String(currency).toUpperCase()}` : ''}`;
}

/** Bytes over a bucket as an average rate: bytes * 8 / seconds. */
export function bytesToBps(bytes, durationSec = 300) {
  return (Number(bytes) * 8) / durationSec;
}

/**
 * "49.99" in USD → 4999 minor units, by string arithmetic (no float rounding of money). Refuses more
 * decimals than the currency has; returns undefined for anything that is not a plain amount.
 */
export function parseMoneyToMinor(text, currency, exponent) {
  const e = currencyExponent(currency, exponent);
  const m = /^(\d{1,12})(?:\.(\d*))?$/.exec(String(text).trim().replace(/,/g, ''));
  if (!m || (m[2] || '').length > e) return undefined;
  return Number(m[1] + (m[2] || '').padEnd(e, '0'));
}

/** "250" Mbps → 250000000 bps; "1.5" → 1500000. Undefined unless a positive number. */
export function parseMbpsToBps(text) {
  const m = /^(\d{1,9})(?:\.(\d{0,6}))?$/.exec(String(text).trim());
  if (!m) return undefined;
  const bps = Number(m[1] + (m[2] || '').padEnd(6, '0'));
  return bps > 0 ? bps : undefined;
}
