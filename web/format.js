// @ts-check
// Display formatting shared by every page: rates with SI units, UTC and local times, money from minor units.
// Pure functions (no DOM), so they are unit-tested in Node as well.
// currencies.js is not a file: the hub serves its own ISO 4217 table (common/money.ts) under that name.
import { CURRENCY_EXPONENTS } from './currencies.js';

/** A number as the API sends it; null/undefined (and non-numbers) format as '—'. @typedef {number | string | null | undefined} Numberish */

const BPS_UNITS = ['bps', 'kbps', 'Mbps', 'Gbps', 'Tbps'];

/** Bits per second with an SI unit (1 kbps = 1000 bps, as carriers bill): 1234567 → "1.23 Mbps". */
/** @param {Numberish} bitsPerSec */
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
/** @param {Numberish} bytes */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || !Number.isFinite(Number(bytes))) return '—';
  let v = Number(bytes);
  let i = 0;
  while (Math.abs(v) >= 1000 && i < BYTE_UNITS.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(i === 0 ? 0 : 2)} ${BYTE_UNITS[i]}`;
}

/** Integer with thousands separators, locale-independent: 1234567 → "1,234,567". */
/** @param {Numberish} n */
export function formatCount(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '—';
  return String(Math.trunc(Number(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** @param {number} n */
function pad2(n) { return String(n).padStart(2, '0'); }

/**
 * A UTC timestamp from milliseconds: "2026-11-23 15:30 UTC" (seconds only when asked).
 * @param {Numberish} ms
 * @param {{ seconds?: boolean }} [options]
 */
export function formatUtc(ms, { seconds = false } = {}) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '—';
  const d = new Date(Number(ms));
  const date = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}${seconds ? `:${pad2(d.getUTCSeconds())}` : ''}`;
  return `${date} ${time} UTC`;
}

/** A UTC calendar date from milliseconds: "2026-11-23". */
/** @param {Numberish} ms */
export function formatUtcDate(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '—';
  return formatUtc(ms).slice(0, 10);
}

/**
 * "3 min ago" / "2 h ago" relative to nowMs; the exact UTC time goes in a title attribute.
 * @param {Numberish} ms
 * @param {number} nowMs
 */
export function formatAgo(ms, nowMs) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms)) || Number(ms) <= 0) return 'never';
  const s = Math.max(0, Math.round((nowMs - Number(ms)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/**
 * The viewer's time zone, as pages name it next to local times: "Europe/Berlin", "UTC" (not "Etc/UTC").
 * @returns {string}
 */
export function localZone() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return 'local time';
  return zone === 'Etc/UTC' ? 'UTC' : zone;
}

/** @param {number} ms */
function localParts(ms) {
  const d = new Date(ms);
  return {
    date: `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`,
    time: `${pad2(d.getHours())}:${pad2(d.getMinutes())}`,
    midnight: d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0,
  };
}

/**
 * "2026-11-10 13:00" in the viewer's time zone; the page names the zone once nearby (localZone()).
 * Locale-independent on purpose: the same instant reads the same in every browser, like formatUtc.
 * @param {Numberish} ms
 */
export function formatLocal(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '—';
  const p = localParts(Number(ms));
  return `${p.date} ${p.time}`;
}

/**
 * A billed span exactly as billed, in local time: whole days as "2026-10-01 – 2026-10-31" (the last
 * day is the day of the span's last second), else both instants "2026-11-01 01:00 – 2026-11-10 13:00".
 * @param {number} startSec
 * @param {number} endSec
 */
export function formatLocalSpan(startSec, endSec) {
  if (!Number.isFinite(Number(startSec)) || !Number.isFinite(Number(endSec))) return '—';
  const start = localParts(startSec * 1000);
  const end = localParts(endSec * 1000);
  if (start.midnight && end.midnight) return `${start.date} – ${localParts(endSec * 1000 - 1).date}`;
  return `${start.date} ${start.time} – ${end.date} ${end.time}`;
}

/**
 * The currency's minor-unit exponent (JPY 0, USD 2, KWD 3, CLF 4) from the hub's ISO 4217 table, or
 * undefined for a code that is not an active ISO currency (no guess: 2 decimals would be wrong for
 * KWD-like codes). An exponent sent by the API wins.
 * @param {string | null | undefined} currency
 * @param {number | null} [exponentFromApi]
 * @returns {number | undefined}
 */
export function currencyExponent(currency, exponentFromApi) {
  if (typeof exponentFromApi === 'number' && Number.isInteger(exponentFromApi) && exponentFromApi >= 0) return exponentFromApi;
  const code = String(currency ?? '').toUpperCase();
  return Object.hasOwn(CURRENCY_EXPONENTS, code) ? CURRENCY_EXPONENTS[code] : undefined;
}

/**
 * An active ISO 4217 currency code, as the hub accepts it for bill plans and the price book.
 * @param {unknown} code
 * @returns {code is string}
 */
export function isCurrency(code) {
  return typeof code === 'string' && Object.hasOwn(CURRENCY_EXPONENTS, code);
}

/**
 * Money from integer minor units, with integer arithmetic only (no float rounding of money):
 * (123456, 'USD') → "1,234.56 USD"; (1500, 'JPY') → "1,500 JPY"; (1234, 'KWD') → "1.234 KWD".
 * A code that is not an ISO currency (and no exponent from the API) shows the bare minor units, marked.
 * @param {number | bigint | string | null | undefined} amountMinor
 * @param {string | null | undefined} currency
 * @param {number | null} [exponent]
 */
export function formatMoney(amountMinor, currency, exponent) {
  if (amountMinor === null || amountMinor === undefined || amountMinor === '') return '—';
  let big;
  try { big = BigInt(amountMinor); } catch { return '—'; }
  const code = currency ? ` ${String(currency).toUpperCase()}` : '';
  const e = currencyExponent(currency, exponent);
  const neg = big < 0n;
  if (neg) big = -big;
  const group = (/** @type {string} */ s) => s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  if (e === undefined) return `${neg ? '-' : ''}${group(big.toString())}${code} (minor units)`;
  const digits = big.toString().padStart(e + 1, '0');
  const whole = group(digits.slice(0, digits.length - e));
  const frac = e > 0 ? `.${digits.slice(digits.length - e)}` : '';
  return `${neg ? '-' : ''}${whole}${frac}${code}`;
}

/**
 * An exact amount before rounding, sent as a decimal string of minor units ("2419.354838" USD), in the
 * currency as a customer reads it: "24.19354838 USD". String arithmetic only (no float rounding of
 * money); trailing zeros beyond the currency's own decimals are dropped. '—' when the currency's
 * decimals are unknown (no guess) or the text is not a plain decimal.
 * @param {string | number | null | undefined} unroundedMinor
 * @param {string | null | undefined} currency
 * @param {number | null} [exponent]
 */
export function formatUnroundedMoney(unroundedMinor, currency, exponent) {
  const e = currencyExponent(currency, exponent);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(unroundedMinor ?? '').trim());
  if (e === undefined || !m) return '—';
  const digits = m[2].padStart(e + 1, '0');
  const whole = digits.slice(0, digits.length - e).replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = `${digits.slice(digits.length - e)}${m[3] || ''}`;
  const shown = frac.length > e ? frac.slice(0, e) + frac.slice(e).replace(/0+$/, '') : frac;
  return `${m[1]}${whole}${shown ? `.${shown}` : ''} ${String(currency).toUpperCase()}`;
}

/**
 * Bytes over a bucket as an average rate: bytes * 8 / seconds.
 * @param {number | string} bytes
 * @param {number} [durationSec]
 */
export function bytesToBps(bytes, durationSec = 300) {
  return (Number(bytes) * 8) / durationSec;
}

/**
 * "49.99" in USD → 4999 minor units, by string arithmetic (no float rounding of money). Refuses more
 * decimals than the currency has; returns undefined for anything that is not a plain amount, or for a
 * code that is not an ISO currency.
 * @param {string} text
 * @param {string | null | undefined} currency
 * @param {number | null} [exponent]
 * @returns {number | undefined}
 */
export function parseMoneyToMinor(text, currency, exponent) {
  const e = currencyExponent(currency, exponent);
  if (e === undefined) return undefined;
  const m = /^(\d{1,12})(?:\.(\d*))?$/.exec(String(text).trim().replace(/,/g, ''));
  if (!m || (m[2] || '').length > e) return undefined;
  return Number(m[1] + (m[2] || '').padEnd(e, '0'));
}

/**
 * "250" Mbps → 250000000 bps; "1.5" → 1500000. Undefined unless a positive number.
 * @param {string} text
 * @returns {number | undefined}
 */
export function parseMbpsToBps(text) {
  const m = /^(\d{1,9})(?:\.(\d{0,6}))?$/.exec(String(text).trim());
  if (!m) return undefined;
  const bps = Number(m[1] + (m[2] || '').padEnd(6, '0'));
  return bps > 0 ? bps : undefined;
}
