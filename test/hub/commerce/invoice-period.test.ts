import t from 'tap';
import { periodByKey, periodContaining } from '../../../hub/commerce/invoice-period';

// The money cases that used to sit beside this one are in test/common/money.test.ts (one money module).

t.test('billing periods are calendar months in UTC', async (t) => {
  const feb = periodContaining(Date.UTC(2028, 1, 29, 23, 59));
  t.same([feb.key, feb.days], ['2028-02', 29]);
  t.equal(feb.endMs, Date.UTC(2028, 2, 1));
  const dec = periodByKey('2026-12')!;
  t.equal(dec.endMs, Date.UTC(2027, 0, 1));
  t.equal(periodContaining(dec.endMs).key, '2027-01');
  t.equal(periodByKey('2026-13'), undefined);
});
