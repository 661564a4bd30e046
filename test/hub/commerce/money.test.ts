import t from 'tap';
import { formatMinor, fractionToDecimalString, parseMajorToMinor, roundHalfUpFraction } from '../../../hub/commerce/money';
import { periodByKey, periodContaining } from '../../../hub/commerce/billing-period';

t.test('round half up once, on exact fractions', async (t) => {
  t.equal(roundHalfUpFraction(5, 2), 3, '2.5 -> 3');
  t.equal(roundHalfUpFraction(7, 3), 2, '2.333 -> 2');
  t.equal(roundHalfUpFraction(-5, 2), -3, 'credit mirrors: -2.5 -> -3');
  t.equal(roundHalfUpFraction(29900 * 50 * 20, 100 * 30), 9967, '9966.666 -> 9967');
  t.equal(fractionToDecimalString(29900 * 50 * 20, 100 * 30), '9966.666666');
  t.equal(fractionToDecimalString(10, 4), '2.5');
  t.throws(() => roundHalfUpFraction(1.5, 2));
});

t.test('currency exponents: JPY 0, USD 2, KWD 3', async (t) => {
  t.equal(formatMinor(5000, 'JPY'), '5000');
  t.equal(formatMinor(4999, 'USD'), '49.99');
  t.equal(formatMinor(5, 'USD'), '0.05');
  t.equal(formatMinor(12345, 'KWD'), '12.345');
  t.equal(formatMinor(-6173, 'KWD'), '-6.173');
  t.equal(parseMajorToMinor('49.99', 'USD'), 4999);
  t.equal(parseMajorToMinor('49.9', 'USD'), 4990);
  t.equal(parseMajorToMinor('12.345', 'KWD'), 12345);
  t.equal(parseMajorToMinor('5000', 'JPY'), 5000);
  t.throws(() => parseMajorToMinor('49.999', 'USD'), { code: 'VALIDATION_FAILED' });
  t.throws(() => parseMajorToMinor('1.5', 'JPY'), { code: 'VALIDATION_FAILED' });
  t.throws(() => formatMinor(1, 'XXX'), { code: 'VALIDATION_FAILED' });
});

t.test('billing periods are calendar months in UTC', async (t) => {
  const feb = periodContaining(Date.UTC(2028, 1, 29, 23, 59));
  t.same([feb.key, feb.days], ['2028-02', 29]);
  t.equal(feb.endMs, Date.UTC(2028, 2, 1));
  const dec = periodByKey('2026-12')!;
  t.equal(dec.endMs, Date.UTC(2027, 0, 1));
  t.equal(periodContaining(dec.endMs).key, '2027-01');
  t.equal(periodByKey('2026-13'), undefined);
});
