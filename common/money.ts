/**
 * Money, the one module for the hub (billing and commerce) and the web (served as /currencies.js):
 * integer minor units of an ISO 4217 currency. The exponent says how many minor units make one major
 * unit (JPY 0: 1 yen; USD 2: 100 cents; KWD 3: 1000 fils; CLF 4). Amounts never pass through floats:
 * a line's exact value is a fraction of minor units, rounded once, half up, in BigInt (NOTES: billing).
 *
 * The table is ISO 4217 List One as the `currency-codes` package ships it (its data.js is generated
 * from the ISO XML; publish date in ISO_4217_PUBLISHED). ISO, not CLDR/Intl, is the truth for billing:
 * Intl says IQD 0 and ISO says 3, for instance.
 */
import currencyCodes from 'currency-codes';
import { CodedError } from './coded-error';

/**
 * ISO 4217 entries whose minor unit is "N.A.": precious metals, bond-market units, the SDR, the test
 * code and "no currency". currency-codes turns "N.A." into digits 0, which would bill them as if they
 * were yen; they are not money a bill can be in. test/common/money.test.ts checks this list against
 * the package's own copy of the ISO XML, so a new N.A. entry cannot slip in as a 0-decimal currency.
 */
export const NO_MINOR_UNIT_CODES: readonly string[] = Object.freeze([
  'XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX',
]);

/** Publication date of the ISO 4217 list the table comes from ("2024-06-25"). */
export const ISO_4217_PUBLISHED: string = currencyCodes.publishDate;

/** Every active ISO 4217 currency code with its minor-unit exponent, ordered by code. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(
  currencyCodes.data
    .filter((c) => !NO_MINOR_UNIT_CODES.includes(c.code))
    .map((c) => [c.code, c.digits] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
));

/**
 * The code money errors carry. common/ cannot import hub/errors; VALIDATION_FAILED is the hub's code
 * (400) and its error middleware turns any CodedError into {error:{code,message}}.
 */
export const MONEY_ERROR_CODE = 'VALIDATION_FAILED';

function moneyError(message: string, details?: Record<string, unknown>): CodedError {
  return new CodedError(MONEY_ERROR_CODE, message, 400, details);
}

/** An active ISO 4217 currency code, upper case as ISO writes it ("USD", not "usd"). */
export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && Object.hasOwn(CURRENCY_EXPONENTS, code);
}

/** Digits after the decimal point for this currency; throws VALIDATION_FAILED for anything not in ISO 4217. */
export function currencyExponent(currency: string): number {
  if (!isCurrency(currency)) throw moneyError(`currency ${JSON.stringify(currency)}: not an active ISO 4217 currency code (such as USD, EUR, JPY, KWD)`, { currency });
  return CURRENCY_EXPONENTS[currency]!;
}

/** 12345 KWD -> "12.345"; 5000 JPY -> "5000"; 4999 USD -> "49.99"; -6173 KWD -> "-6.173". No grouping. */
export function formatMinor(amountMinor: number, currency: string): string {
  const e = currencyExponent(currency);
  const neg = amountMinor < 0;
  const digits = Math.abs(amountMinor).toString().padStart(e + 1, '0');
  const major = e === 0 ? digits : `${digits.slice(0, -e)}.${digits.slice(-e)}`;
  return `${neg ? '-' : ''}${major}`;
}

/** "1234.50 USD" from 123450 minor units: formatMinor and the code, as bills, mails and PDFs show it. */
export function formatMoney(amountMinor: number, currency: string): string {
  return `${formatMinor(amountMinor, currency)} ${currency}`;
}

/** "49.99" USD -> 4999; refuses more decimals than the currency has ("49.999" USD) and signs. */
export function parseMajorToMinor(text: string, currency: string): number {
  const e = currencyExponent(currency);
  const m = /^(\d{1,12})(?:\.(\d+))?$/.exec(text.trim());
  if (!m || (m[2] ?? '').length > e) throw moneyError(`amount "${text}": expected a non-negative number with at most ${e} decimals for ${currency}`, { currency });
  return Number(m[1]) * 10 ** e + Number((m[2] ?? '').padEnd(e, '0') || '0');
}

/** numerator/denominator rounded half up (denominator > 0, numerator ≥ 0), in BigInt. */
export function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (2n * numerator + denominator) / (2n * denominator);
}

/** ceil(numerator/denominator) for numerator ≥ 0, denominator > 0. */
export function divideCeil(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

/**
 * Round numerator/denominator (both integers, denominator > 0) to the nearest integer, halves up
 * (towards +infinity for positives; negatives round by magnitude so a credit note mirrors its invoice).
 * BigInt so fee × percent × days cannot lose precision.
 */
export function roundHalfUpFraction(numerator: number, denominator: number): number {
  if (!Number.isInteger(numerator) || !Number.isInteger(denominator) || denominator <= 0) throw new Error(`bad fraction ${numerator}/${denominator}`);
  const neg = numerator < 0;
  const r = Number(divideHalfUp(BigInt(Math.abs(numerator)), BigInt(denominator)));
  return neg ? -r : r;
}

/** The unrounded value of a fraction, to 6 decimals (truncated), kept on lines as an explanation. */
export function fractionToDecimalString(numerator: number, denominator: number): string {
  const neg = numerator < 0;
  const n = BigInt(Math.abs(numerator));
  const d = BigInt(denominator);
  const whole = n / d;
  const micro = ((n % d) * 1_000_000n) / d;
  const frac = micro.toString().padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
}
