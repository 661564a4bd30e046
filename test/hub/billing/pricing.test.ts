import t from 'tap';
import { priceBill } from '../../../hub/billing/pricing';
import { bpsToBytesPerSlot } from '../../../hub/billing/rates';
import { formatMoney } from '../../../common/money';
import type { Tariff } from '../../../hub/billing/bill-plan';

const tariff: Tariff = {
  effectiveFromSec: 0, currency: 'USD', baseSpeedBps: 1_000_000, baseCostMinor: 10_000,
  additionalSpeedBps: 100_000, additionalCostMinor: 1_500, percentileMethod: 'merge',
};

t.test('base cost plus one additional cost per additional-speed block or part of one', async (t) => {
  t.equal(priceBill(tariff, bpsToBytesPerSlot(900_000), 10, 10).amountMinor, 10_000, 'below base: base only');
  t.equal(priceBill(tariff, bpsToBytesPerSlot(1_000_000), 10, 10).additionalBlocks, 0, 'exactly base: no block');
  const seed = priceBill(tariff, bpsToBytesPerSlot(1_427_000), 10, 10);
  t.equal(seed.additionalBlocks, 5, '0.427 Mbps over → 5 blocks of 0.1 Mbps (4.27 rounded up)');
  t.equal(seed.amountMinor, 10_000 + 5 * 1_500);
  t.match(seed.rule, /each additional 100 kbps or part of it above that costs 15\.00 USD/);
  t.match(seed.rule, /1\.427 Mbps → 5 additional block/);
  t.equal(priceBill(tariff, bpsToBytesPerSlot(1_100_000), 10, 10).additionalBlocks, 1, 'exactly one block');
  // one byte more than exactly one block: 1_100_000 bps = 41_250_000 bytes per slot
  t.equal(priceBill(tariff, 41_250_001, 10, 10).additionalBlocks, 2, 'one byte over a block boundary starts the next block');
});

t.test('partial cycle: prorated by slots, rounded half up once, unrounded figure kept', async (t) => {
  const c = priceBill(tariff, 0, 1, 8);
  t.equal(c.unroundedAmountMinor, '1250.000000');
  t.equal(c.amountMinor, 1250);
  const half = priceBill({ ...tariff, baseCostMinor: 1 }, 0, 1, 2);
  t.equal(half.unroundedAmountMinor, '0.500000');
  t.equal(half.amountMinor, 1, '0.5 rounds up');
  const third = priceBill({ ...tariff, baseCostMinor: 100 }, 0, 1, 3);
  t.equal(third.unroundedAmountMinor, '33.333333');
  t.equal(third.amountMinor, 33);
  t.match(third.rule, /× 1\/3 slots of the cycle/);
});

t.test('currency exponents', async (t) => {
  t.equal(formatMoney(123450, 'USD'), '1234.50 USD');
  t.equal(formatMoney(1234, 'JPY'), '1234 JPY');
  t.equal(formatMoney(5, 'KWD'), '0.005 KWD');
});

t.test('an amount beyond 2^53 minor units fails loudly instead of being stored rounded', async (t) => {
  const steep = { ...tariff, additionalSpeedBps: 1, additionalCostMinor: 1_000_000_000 };
  // 1 Gbps over a 1 Mbps base in 1 bps blocks: 999,000,000 blocks × 1e9
  t.throws(() => priceBill(steep, bpsToBytesPerSlot(1e9), 10, 10), { code: 'AMOUNT_OUT_OF_RANGE' });
  t.equal(priceBill(steep, bpsToBytesPerSlot(1_000_100), 10, 10).amountMinor, 10_000 + 100 * 1_000_000_000, 'large but exact is fine');
});
