import t from 'tap';
import { BUCKET_MS, BUCKET_SEC, bucketStartSecOf, bucketStartSecOfMs, isBucketStart } from '../../common/bucket';
import { SLOT_SEC as BILLING_SLOT_SEC } from '../../hub/billing/percentile';
import { SLOT_SEC as STORE_SLOT_SEC, SLOTS_PER_DAY } from '../../hub/store/day-chunk';

t.test('one 5-minute bucket for edge, store and billing', async (t) => {
  t.equal(BUCKET_SEC, 300);
  t.equal(BUCKET_MS, 300_000);
  t.equal(BILLING_SLOT_SEC, BUCKET_SEC, 'a billing sample is one bucket');
  t.equal(STORE_SLOT_SEC, BUCKET_SEC, 'a day-chunk slot is one bucket');
  t.equal(SLOTS_PER_DAY, 288);
});

t.test('bucket starts floor to the epoch-aligned 300 s grid, also for negative instants', async (t) => {
  const T = 1_767_225_600; // 2026-01-01T00:00:00Z
  t.equal(bucketStartSecOf(T), T);
  t.equal(bucketStartSecOf(T + 299), T);
  t.equal(bucketStartSecOf(T + 300), T + 300);
  t.equal(bucketStartSecOf(T + 299.9), T, 'fractions floor');
  t.equal(bucketStartSecOf(-1), -300);
  t.equal(bucketStartSecOfMs(T * 1000 + 299_999), T);
  t.equal(bucketStartSecOfMs(T * 1000 + 300_000), T + 300);
  t.equal(bucketStartSecOfMs(-1), -300);
  t.ok(isBucketStart(T));
  t.ok(isBucketStart(0));
  for (const bad of [T + 1, T + 0.5, NaN, Infinity, T + 150]) t.notOk(isBucketStart(bad), String(bad));
});
