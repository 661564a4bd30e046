import t from 'tap';
import { boundarySec, cycleContaining, cyclesOverlapping } from '../../../hub/billing/bill-cycle';

const sec = (iso: string) => Date.parse(iso) / 1000;
const iso = (s: number) => new Date(s * 1000).toISOString().slice(0, 10);

t.test('monthly, generation day 1: calendar months', async (t) => {
  const c = cycleContaining('monthly', 1, sec('2026-11-15T12:00:00Z'));
  t.same([iso(c.startSec), iso(c.endSec)], ['2026-11-01', '2026-12-01']);
  t.equal((c.endSec - c.startSec) / 300, 8640, 'a 30-day month has 8640 slots');
  const at = cycleContaining('monthly', 1, sec('2026-12-01T00:00:00Z'));
  t.equal(iso(at.startSec), '2026-12-01', 'the boundary instant belongs to the new cycle');
});

t.test('day 31 clamps to the last day of February and of 30-day months (no roll-over into March)', async (t) => {
  t.equal(iso(boundarySec(2026 * 12 + 1, 31)), '2026-02-28');
  t.equal(iso(boundarySec(2028 * 12 + 1, 31)), '2028-02-29', 'leap year');
  t.equal(iso(boundarySec(2026 * 12 + 3, 31)), '2026-04-30');
  const cycles = cyclesOverlapping('monthly', 31, sec('2026-01-31T00:00:00Z'), sec('2026-05-01T00:00:00Z'));
  t.same(cycles.map((c) => `${iso(c.startSec)}..${iso(c.endSec)}`), [
    '2026-01-31..2026-02-28', '2026-02-28..2026-03-31', '2026-03-31..2026-04-30', '2026-04-30..2026-05-31',
  ]);
  const feb = cycleContaining('monthly', 30, sec('2026-03-01T00:00:00Z'));
  t.same([iso(feb.startSec), iso(feb.endSec)], ['2026-02-28', '2026-03-30']);
});

t.test('quarterly cycles end in January, April, July and October on the generation day', async (t) => {
  const c = cycleContaining('quarterly', 5, sec('2026-05-20T00:00:00Z'));
  t.same([iso(c.startSec), iso(c.endSec)], ['2026-04-05', '2026-07-05']);
  const early = cycleContaining('quarterly', 5, sec('2026-04-04T23:59:59Z'));
  t.same([iso(early.startSec), iso(early.endSec)], ['2026-01-05', '2026-04-05']);
  const winter = cycleContaining('quarterly', 31, sec('2026-12-31T00:00:00Z'));
  t.same([iso(winter.startSec), iso(winter.endSec)], ['2026-10-31', '2027-01-31']);
});
