import t from 'tap';
import fc from 'fast-check';
import { overlaps, periodSlots, slotInPeriod } from '../../common/period-slots';

const at = (iso: string) => Date.parse(iso) / 1000;

t.test('a slot belongs to a period iff it overlaps it: the slots in which the period starts and ends are in', async (t) => {
  const period = { startSec: at('2026-11-03T12:02:30Z'), endSec: at('2026-11-03T12:17:30Z') };
  t.notOk(slotInPeriod(at('2026-11-03T11:55:00Z'), period), '11:55 ends before 12:02:30');
  t.ok(slotInPeriod(at('2026-11-03T12:00:00Z'), period), '12:00 straddles the start');
  t.ok(slotInPeriod(at('2026-11-03T12:15:00Z'), period), '12:15 straddles the end');
  t.notOk(slotInPeriod(at('2026-11-03T12:20:00Z'), period));
  t.same(periodSlots(period), { firstSlotSec: at('2026-11-03T12:00:00Z'), n: 4 });
  t.same(periodSlots({ startSec: at('2026-11-01T00:00:00Z'), endSec: at('2026-12-01T00:00:00Z') }).n, 8640, 'an aligned month: its 8640 slots, no more');
  t.same(periodSlots({ startSec: 600, endSec: 600 }).n, 0, 'an empty period has none');
  t.same(periodSlots({ startSec: 610, endSec: 620 }), { firstSlotSec: 600, n: 1 }, 'ten seconds inside one slot: that slot');
  t.equal(periodSlots({ startSec: 600, endSec: Infinity }).n, Infinity);
});

t.test('property: periodSlots lists exactly the slots that overlap the period (the gate\'s test for a bucket)', async () => {
  const instant = fc.integer({ min: 0, max: 100_000 }).map((x) => x / 10);
  fc.assert(fc.property(instant, instant, instant, (a, b, probe) => {
    const period = { startSec: Math.min(a, b), endSec: Math.max(a, b) };
    const { firstSlotSec, n } = periodSlots(period);
    const slot = Math.floor(probe / 300) * 300;
    const listed = slot >= firstSlotSec && slot < firstSlotSec + n * 300;
    // The collection gate asks overlaps(bucket, window) of each bucket: the same answer.
    return listed === slotInPeriod(slot, period) && listed === overlaps({ startSec: slot, endSec: slot + 300 }, period);
  }), { seed: 12, numRuns: 2000 });
});
