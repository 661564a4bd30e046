import t from 'tap';
import { createShiftedClock, parseIsoInstant } from '../../common/clock';

t.test('a shifted clock starts at the chosen instant, runs at the monotonic source\'s speed, and only moves forward', async (t) => {
  let monotonicMs = 5_000.25;
  const start = Date.parse('2027-01-31T23:55:00Z');
  const clock = createShiftedClock(start, () => monotonicMs);
  t.equal(clock.nowMs(), start);
  monotonicMs += 1_500.9;
  t.equal(clock.nowMs(), start + 1_500, 'real time runs on, in whole milliseconds');
  clock.advanceMs(10 * 60_000);
  t.equal(clock.nowMs(), start + 1_500 + 600_000);
  clock.advanceMs(0);
  clock.advanceToMs(Date.parse('2027-02-01T00:10:00Z'));
  t.equal(clock.nowMs(), Date.parse('2027-02-01T00:10:00Z'));
  clock.advanceToMs(Date.parse('2027-02-01T00:10:00Z'));
  t.equal(clock.nowMs(), Date.parse('2027-02-01T00:10:00Z'), 'to now is no move');
  monotonicMs += 1000;
  t.equal(clock.nowMs(), Date.parse('2027-02-01T00:10:01Z'), 'and runs on from there');
  t.throws(() => clock.advanceToMs(Date.parse('2027-02-01T00:10:00Z')), RangeError, 'never back');
  t.throws(() => clock.advanceMs(-1), RangeError);
  t.throws(() => clock.advanceMs(1.5), RangeError);
  t.throws(() => clock.advanceMs(Number.NaN), RangeError);
  t.equal(clock.nowMs(), Date.parse('2027-02-01T00:10:01Z'), 'a refused move changes nothing');
});

t.test('the default source is monotonic: it follows real time', async (t) => {
  const clock = createShiftedClock(0);
  const a = clock.nowMs();
  await new Promise((r) => setTimeout(r, 20));
  t.ok(clock.nowMs() - a >= 15 && clock.nowMs() - a < 5_000);
});

t.test('parseIsoInstant: ISO 8601 with a date, a time and a zone; no rolled-over dates', async (t) => {
  t.equal(parseIsoInstant('2027-01-10T09:00:00Z'), Date.UTC(2027, 0, 10, 9));
  t.equal(parseIsoInstant('2027-01-10T09:00Z'), Date.UTC(2027, 0, 10, 9));
  t.equal(parseIsoInstant('2027-01-10T09:00:00.250Z'), Date.UTC(2027, 0, 10, 9, 0, 0, 250));
  t.equal(parseIsoInstant('2027-01-10T11:00:00+02:00'), Date.UTC(2027, 0, 10, 9));
  t.equal(parseIsoInstant('2027-01-10T00:30:00-05:30'), Date.UTC(2027, 0, 10, 6));
  t.equal(parseIsoInstant('2028-02-29T12:00:00Z'), Date.UTC(2028, 1, 29, 12), 'a leap day');
  for (const bad of ['2027-02-30T00:00:00Z', '2027-02-29T00:00:00Z', '2027-13-01T00:00:00Z', '2027-01-31T24:00:00Z', '2027-01-10T09:00:00',
    '2027-01-10', '2027-01-10 09:00:00Z', 'now', '1801440000000', '']) {
    t.equal(parseIsoInstant(bad), undefined, `refused: ${JSON.stringify(bad)}`);
  }
});
