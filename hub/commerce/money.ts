/**
 * Money as integer minor units of an ISO 4217 currency. The exponent says how many minor units make
 * one major unit (JPY 0: 1 yen; USD 2: 100 cents; KWD 3: 1000 fils). Amounts never pass through floats:
 * a line's exact value is a fraction numerator/denominator of minor units, rounded once (half up).
 */
import { hubError } from '../errors';

/** ISO 4217 minor-unit exponents of the currencies a price book may use. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  USD: 2, EUR: 2, GBP: 2, CHF: 2, CAD: 2, AUD: 2, BRL: 2, MXN: 2, INR: 2, ZAR: 2, SEK: 2, NOK: 2, DKK: 2, PLN: 2, TRY: 2, SGD: 2, HKD: 2, NZD: 2, IDR: 2, PHP: 2,
  JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, XOF: 0, XAF: 0, UGX: 0,
  KWD: 3, BHD: 3, OMR: 3, JOD: 3, TND: 3, LYD: 3, IQD: 3,
});

export function currencyExponent(currency: string): number {
  const e = CURRENCY_EXPONENTS[currency];
  if (e === undefined) throw hubError('VALIDATION_FAILED', `currency ${currency}: not a supported ISO 4217 code (${Object.keys(CURRENCY_EXPONENTS).join(', ')})`);
  return e;
}

/**
 * Round numerator/denominator (both integers, denominator > 0) to the nearest integer, halves up
 * (towards +infinity for positives; negatives round by magnitude so a credit note mirrors its invoice).
 * BigInt so fee × percent × days cannot lose precision.
 */
export function roundHalfUpFraction(numerator: number, denominator: number): number {
  if (!Number.isInteger(numerator) || !Number.isInteger(denominator) || denominator <= 0) throw new Error(`bad fraction ${numerator}/${denominator}`);
  const neg = numerator < 0;
  const n = BigInt(Math.abs(numerator));
  const d = BigInt(denominator);
  const q = (2n * n + d) / (2n * d); // floor((n + d/2) / d) without fractions
  const r = Number(q);
  return neg ? -r : r;
}

/** The unrounded value of a fraction, to 6 decimals, kept on invoice lines as an explanation. */
export function fractionToDecimalString(numerator: number, denominator: number): string {
  const neg = numerator < 0;
  const n = BigInt(Math.abs(numerator));
  const d = BigInt(denominator);
  const whole = n / d;
  const micro = ((n % d) * 1_000_000n) / d;
  const frac = micro.toString().padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
}

/** 12345 KWD -> "12.345"; 5000 JPY -> "5000"; 4999 USD -> "49.99". */
export function formatMinor(amountMinor: number, currency: string): string {
  const e = currencyExponent(currency);
  const neg = amountMinor < 0;
  const digits = Math.abs(amountMinor).toString().padStart(e + 1, '0');
  const major = e === 0 ? digits : `${digits.slice(0, -e)}.${digits.slice(-e)}`;
  return `${neg ? '-' : ''}${major}`;
}

/** "49.99" USD -> 4999; refuses more decimals than the currency has ("49.999" USD). */
export function parseMajorToMinor(text: string, currency: string): number {
  const e = currencyExponent(currency);
  const m = /^(\d{1,12})(?:\.(\d+))?$/.exec(text.trim());
  if (!m || (m[2] ?? '').length > e) throw hubError('VALIDATION_FAILED', `amount "${text}": expected a non-negative number with at most ${e} decimals for ${currency}`);
  return Number(m[1]) * 10 ** e + Number((m[2] ?? '').padEnd(e, '0') || '0');
}
