import t from 'tap';
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CURRENCY_EXPONENTS } from '../../common/money';
import { createWebRouter } from '../../web/serve-web';
import { callApi, createTestApp } from '../helpers/test-app';

// web/format.js is a browser module (plain JS, no build step); it has no DOM use, so Node loads it as is.
// Its './currencies.js' is not a file but the hub's route: take the module the web router serves and
// resolve format.js's import to exactly that text, as a browser would get it.
const served = await callApi(createTestApp([createWebRouter()]), 'GET', '/currencies.js');
const servedUrl = `data:text/javascript,${encodeURIComponent(served.raw.toString('utf8'))}`;
register(`data:text/javascript,${encodeURIComponent(`
  export async function resolve(specifier, context, next) {
    if (specifier === './currencies.js' && context.parentURL?.endsWith('/web/format.js')) return { url: ${JSON.stringify(servedUrl)}, shortCircuit: true };
    return next(specifier, context);
  }`)}`);
const f = await import(pathToFileURL(path.resolve('web/format.js')).href);

t.test('the hub serves its own ISO 4217 table as /currencies.js, and format.js uses it', async (t) => {
  t.equal(served.status, 200);
  t.match(served.headers['content-type'], /^text\/javascript/);
  t.equal(served.headers['cache-control'], 'no-cache');
  const table = await import(servedUrl);
  t.same(table.CURRENCY_EXPONENTS, CURRENCY_EXPONENTS, 'the exponents billing uses (common/money.ts), every code');
  for (const code of Object.keys(CURRENCY_EXPONENTS)) {
    if (f.currencyExponent(code) !== CURRENCY_EXPONENTS[code]) t.fail(`${code}: format.js disagrees with the hub`);
  }
  t.equal(f.currencyExponent('KWD'), 3);
  t.equal(f.currencyExponent('IQD'), 3, 'ISO 4217, not CLDR/Intl (which shows IQD with 0)');
  t.equal(f.currencyExponent('XAU'), undefined, 'no minor unit in ISO: not money');
  t.equal(f.currencyExponent('ABC'), undefined, 'unknown: no guess');
  t.equal(f.isCurrency('USD'), true);
  t.equal(f.isCurrency('XXX'), false);
});

t.test('bits per second with SI units', async (t) => {
  t.equal(f.formatBps(0), '0 bps');
  t.equal(f.formatBps(999), '999 bps');
  t.equal(f.formatBps(1000), '1.00 kbps');
  t.equal(f.formatBps(1_234_567), '1.23 Mbps');
  t.equal(f.formatBps(268_000_000), '268.0 Mbps');
  t.equal(f.formatBps(10_000_000_000), '10.00 Gbps');
  t.equal(f.formatBps(null), '—');
  t.equal(f.formatBps(undefined), '—');
});

t.test('times are UTC whatever the machine zone', async (t) => {
  t.equal(f.formatUtc(Date.UTC(2026, 9, 31, 23, 55)), '2026-10-31 23:55 UTC');
  t.equal(f.formatUtc(Date.UTC(2026, 0, 2, 3, 4, 5), { seconds: true }), '2026-01-02 03:04:05 UTC');
  t.equal(f.formatUtcDate(Date.UTC(2026, 1, 28, 23, 59)), '2026-02-28');
  t.equal(f.formatAgo(1000, 61_000), '1 min ago');
  t.equal(f.formatAgo(0, 61_000), 'never');
});

t.test('local times: one implementation for Reports, the bill page and the customer view, zone named', async (t) => {
  const saved = process.env.TZ;
  t.teardown(() => { if (saved === undefined) delete process.env.TZ; else process.env.TZ = saved; });
  process.env.TZ = 'Asia/Tokyo'; // Node re-reads TZ when it is set: Date and Intl follow
  t.equal(f.localZone(), 'Asia/Tokyo');
  t.equal(f.formatLocal(Date.UTC(2026, 10, 10, 10, 0)), '2026-11-10 19:00', 'locale-independent, 24-hour');
  t.equal(f.formatLocal(null), '—');
  t.equal(f.formatLocalSpan(Date.UTC(2026, 9, 31, 15) / 1000, Date.UTC(2026, 10, 30, 15) / 1000), '2026-11-01 – 2026-11-30', 'whole local days: the last day is the span\'s last second\'s');
  t.equal(f.formatLocalSpan(Date.UTC(2026, 10, 1) / 1000, Date.UTC(2026, 11, 1) / 1000), '2026-11-01 09:00 – 2026-12-01 09:00', 'a UTC month is not whole days in Tokyo');
  process.env.TZ = 'Europe/Berlin';
  t.equal(f.formatLocal(Date.UTC(2026, 9, 25, 0, 30)), '2026-10-25 02:30', 'summer time until 01:00 UTC on 25 Oct');
  t.equal(f.formatLocal(Date.UTC(2026, 9, 25, 1, 30)), '2026-10-25 02:30', 'then CET: the same wall clock an hour later');
  process.env.TZ = 'Etc/UTC';
  t.equal(f.localZone(), 'UTC', 'named as people write it');
});

t.test('the amount before rounding in the currency, never as "minor units"', async (t) => {
  t.equal(f.formatUnroundedMoney('2419.354838', 'USD'), '24.19354838 USD');
  t.equal(f.formatUnroundedMoney('138.888888', 'USD'), '1.38888888 USD');
  t.equal(f.formatUnroundedMoney('4983.000000', 'USD'), '49.83 USD', 'zeros past the currency\'s decimals dropped');
  t.equal(f.formatUnroundedMoney('5', 'USD'), '0.05 USD');
  t.equal(f.formatUnroundedMoney('123456789.5', 'USD'), '1,234,567.895 USD');
  t.equal(f.formatUnroundedMoney('1500.25', 'JPY'), '1,500.25 JPY');
  t.equal(f.formatUnroundedMoney('12345.6', 'KWD'), '12.3456 KWD');
  t.equal(f.formatUnroundedMoney('-250.5', 'EUR'), '-2.505 EUR');
  t.equal(f.formatUnroundedMoney('1234.5', 'ABC'), '—', 'unknown decimals: no guess');
  t.equal(f.formatUnroundedMoney('1e3', 'USD'), '—');
  t.equal(f.formatUnroundedMoney(undefined, 'USD'), '—');
});

t.test('money from minor units with the currency exponent, integer arithmetic only', async (t) => {
  t.equal(f.formatMoney(123456, 'USD'), '1,234.56 USD');
  t.equal(f.formatMoney(5, 'USD'), '0.05 USD');
  t.equal(f.formatMoney(-4999, 'EUR'), '-49.99 EUR');
  t.equal(f.formatMoney(1500, 'JPY'), '1,500 JPY');
  t.equal(f.formatMoney(1234, 'KWD'), '1.234 KWD');
  t.equal(f.formatMoney(1234, 'XYZ', 0), '1,234 XYZ', 'the API\'s exponent wins');
  t.equal(f.formatMoney(9_007_199_254_740_991, 'USD'), '90,071,992,547,409.91 USD', 'no float rounding at 2^53');
  t.equal(f.formatMoney(undefined, 'USD'), '—');
  t.equal(f.formatMoney(12_345_678, 'KWD'), '12,345.678 KWD', 'KWD: 3 decimals');
  t.equal(f.formatMoney(-5, 'KWD'), '-0.005 KWD');
  t.equal(f.formatMoney(1_234_567, 'JPY'), '1,234,567 JPY', 'JPY: none');
  t.equal(f.formatMoney(123_456, 'CLF'), '12.3456 CLF', 'CLF: 4 decimals');
  t.equal(f.formatMoney(1, 'CLF'), '0.0001 CLF');
  t.equal(f.formatMoney(1234, 'ABC'), '1,234 ABC (minor units)', 'not an ISO currency: the bare minor units, marked, never a guessed 2 decimals');
});

t.test('amounts typed in major units become minor units, refusing extra decimals', async (t) => {
  t.equal(f.parseMoneyToMinor('49.99', 'USD'), 4999);
  t.equal(f.parseMoneyToMinor('0.1', 'USD'), 10);
  t.equal(f.parseMoneyToMinor('1,500', 'JPY'), 1500);
  t.equal(f.parseMoneyToMinor('1.5', 'JPY'), undefined);
  t.equal(f.parseMoneyToMinor('12.345', 'KWD'), 12345);
  t.equal(f.parseMoneyToMinor('49.999', 'USD'), undefined);
  t.equal(f.parseMoneyToMinor('-1', 'USD'), undefined);
  t.equal(f.parseMoneyToMinor('12.3456', 'CLF'), 123_456);
  t.equal(f.parseMoneyToMinor('1.23456', 'CLF'), undefined);
  t.equal(f.parseMoneyToMinor('12.3456', 'KWD'), undefined);
  t.equal(f.parseMoneyToMinor('10', 'ABC'), undefined, 'no exponent for a non-currency');
  t.equal(f.parseMbpsToBps('250'), 250_000_000);
  t.equal(f.parseMbpsToBps('1.5'), 1_500_000);
  t.equal(f.parseMbpsToBps('0'), undefined);
});
