import t from 'tap';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  CURRENCY_EXPONENTS, ISO_4217_PUBLISHED, NO_MINOR_UNIT_CODES, currencyExponent, divideCeil, divideHalfUp, formatMinor, formatMoney,
  fractionToDecimalString, isCurrency, parseMajorToMinor, roundHalfUpFraction,
} from '../../common/money';

/** The ISO 4217 List One XML that currency-codes ships beside its generated data: code → CcyMnrUnts text. */
function isoListOne(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const xml = readFileSync(path.join(path.dirname(require.resolve('currency-codes/package.json')), 'iso-4217-list-one.xml'), 'utf8');
  const out = new Map<string, string>();
  for (const [, entry] of xml.matchAll(/<CcyNtry>([\s\S]*?)<\/CcyNtry>/g)) {
    const code = /<Ccy>([A-Z]{3})<\/Ccy>/.exec(entry!)?.[1];
    const minor = /<CcyMnrUnts>([^<]*)<\/CcyMnrUnts>/.exec(entry!)?.[1];
    if (code && minor !== undefined) out.set(code, minor.trim());
  }
  return out;
}

t.test('exponents are ISO 4217\'s, from the package, not CLDR/Intl', async (t) => {
  // ISO 4217 List One: JPY 0, USD 2, KWD 3, IQD 3 (Intl/CLDR shows IQD with 0), CLF 4, UYW 4.
  for (const [code, exp] of [['JPY', 0], ['KRW', 0], ['ISK', 0], ['USD', 2], ['EUR', 2], ['KWD', 3], ['BHD', 3], ['IQD', 3], ['CLF', 4], ['UYW', 4]] as const) {
    t.equal(currencyExponent(code), exp, `${code} ${exp}`);
  }
  t.match(ISO_4217_PUBLISHED, /^\d{4}-\d{2}-\d{2}$/);
  t.ok(Object.keys(CURRENCY_EXPONENTS).length > 150, 'the whole list, not a short one');
});

t.test('the table is exactly the ISO list\'s entries with a numeric minor unit', async (t) => {
  const iso = isoListOne();
  const numeric = new Map([...iso].filter(([, m]) => /^\d+$/.test(m)).map(([c, m]) => [c, Number(m)]));
  const notApplicable = [...iso].filter(([, m]) => !/^\d+$/.test(m)).map(([c]) => c).sort();
  t.same(Object.fromEntries([...numeric].sort(([a], [b]) => (a < b ? -1 : 1))), CURRENCY_EXPONENTS, 'every code and exponent as ISO publishes them');
  t.same([...NO_MINOR_UNIT_CODES].sort(), notApplicable, 'the N.A. entries (metals, SDR, test, no currency) are exactly the ones left out');
});

t.test('non-currencies and unknown codes are refused with a coded error', async (t) => {
  for (const code of ['XAU', 'XDR', 'XXX', 'XTS', 'ABC', 'usd', 'US', 'USDX', '']) {
    t.notOk(isCurrency(code), `${code || '(empty)'} is not a currency`);
    t.throws(() => currencyExponent(code), { code: 'VALIDATION_FAILED', status: 400 });
  }
  for (const v of [undefined, null, 840, {}, 'toString', '__proto__', 'hasOwnProperty']) t.notOk(isCurrency(v), String(v));
  for (const code of ['USD', 'XOF', 'XAF', 'XPF', 'XCD', 'CHE', 'ZWG']) t.ok(isCurrency(code), code);
  t.throws(() => formatMinor(1, 'XXX'), { code: 'VALIDATION_FAILED' });
  t.throws(() => formatMoney(1, 'XDR'), { code: 'VALIDATION_FAILED' });
});

t.test('round half up once, on exact fractions', async (t) => {
  t.equal(roundHalfUpFraction(5, 2), 3, '2.5 -> 3');
  t.equal(roundHalfUpFraction(7, 3), 2, '2.333 -> 2');
  t.equal(roundHalfUpFraction(-5, 2), -3, 'credit mirrors: -2.5 -> -3');
  t.equal(roundHalfUpFraction(29900 * 50 * 20, 100 * 30), 9967, '9966.666 -> 9967');
  t.equal(roundHalfUpFraction(12_345, 2), 6173, 'half of 12.345 KWD is 6.173 KWD');
  t.equal(fractionToDecimalString(29900 * 50 * 20, 100 * 30), '9966.666666');
  t.equal(fractionToDecimalString(10, 4), '2.5');
  t.equal(fractionToDecimalString(-10, 4), '-2.5');
  t.throws(() => roundHalfUpFraction(1.5, 2));
  t.throws(() => roundHalfUpFraction(1, 0));
  t.equal(divideHalfUp(5n, 2n), 3n);
  t.equal(divideHalfUp(7n, 3n), 2n);
  t.equal(divideHalfUp(2n ** 70n + 1n, 2n), 2n ** 69n + 1n, 'no float anywhere');
  t.equal(divideCeil(427n, 100n), 5n);
  t.equal(divideCeil(400n, 100n), 4n);
  t.equal(divideCeil(0n, 100n), 0n);
});

t.test('formatting in each currency\'s minor units', async (t) => {
  t.equal(formatMinor(5000, 'JPY'), '5000');
  t.equal(formatMinor(4999, 'USD'), '49.99');
  t.equal(formatMinor(5, 'USD'), '0.05');
  t.equal(formatMinor(12345, 'KWD'), '12.345');
  t.equal(formatMinor(-6173, 'KWD'), '-6.173');
  t.equal(formatMinor(1, 'CLF'), '0.0001');
  t.equal(formatMoney(123450, 'USD'), '1234.50 USD');
  t.equal(formatMoney(1234, 'JPY'), '1234 JPY');
  t.equal(formatMoney(5, 'KWD'), '0.005 KWD');
  t.equal(formatMoney(-5, 'IQD'), '-0.005 IQD');
  t.equal(formatMoney(123_456, 'CLF'), '12.3456 CLF');
});

t.test('parsing major units refuses extra decimals, signs and junk', async (t) => {
  t.equal(parseMajorToMinor('49.99', 'USD'), 4999);
  t.equal(parseMajorToMinor('49.9', 'USD'), 4990);
  t.equal(parseMajorToMinor(' 49 ', 'USD'), 4900);
  t.equal(parseMajorToMinor('12.345', 'KWD'), 12345);
  t.equal(parseMajorToMinor('5000', 'JPY'), 5000);
  t.equal(parseMajorToMinor('1.2345', 'CLF'), 12345);
  for (const [text, cur] of [['49.999', 'USD'], ['1.5', 'JPY'], ['1.23456', 'CLF'], ['-1', 'USD'], ['1e3', 'USD'], ['', 'USD'], ['1,000', 'USD']] as const) {
    t.throws(() => parseMajorToMinor(text, cur), { code: 'VALIDATION_FAILED' }, `"${text}" ${cur}`);
  }
  t.throws(() => parseMajorToMinor('1', 'ABC'), { code: 'VALIDATION_FAILED' });
});

t.test('format and parse round-trip in every currency of the table', async (t) => {
  for (const [code, exp] of Object.entries(CURRENCY_EXPONENTS)) {
    for (const minor of [0, 1, 9, 10 ** exp, 10 ** exp + 1, 123_456_789]) {
      const text = formatMinor(minor, code);
      t.equal(text.split('.')[1]?.length ?? 0, exp, `${code}: ${exp} decimals`);
      if (parseMajorToMinor(text, code) !== minor) t.fail(`${code} ${minor} -> "${text}" does not parse back`);
    }
  }
});
