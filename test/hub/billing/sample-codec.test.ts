import t from 'tap';
import { decodeSamples, encodeSamples } from '../../../hub/billing/sample-codec';
import { samplesFromSeries } from '../../../hub/billing/bill';
import { dataPointsCsv } from '../../../hub/billing/bill-csv';

t.test('the samples behind a bill survive storage exactly, including unreported slots and 40-bit counts', async (t) => {
  const start = Date.UTC(2026, 10, 1) / 1000;
  const span = { startSec: start, endSec: start + 6 * 300 };
  const point = (i: number, bytesIn: number, bytesOut: number) => ({ bucketStartSec: start + i * 300, bytesIn, bytesOut, packetsIn: 0, packetsOut: 0, flowsIn: 0, flowsOut: 0 });
  const samples = samplesFromSeries(span, [point(0, 0, 0), point(2, 127, 128), point(3, 3_750_000_000_000, 2 ** 40 + 1), point(7, 9, 9), { ...point(4, 5, 5), bucketStartSec: start + 4 * 300 + 1 }]);
  t.same(Array.from(samples.reported), [1, 0, 1, 1, 0, 0], 'off-grid and out-of-span points are ignored; a reported zero is reported');
  const back = decodeSamples(encodeSamples(samples));
  t.equal(back.firstSlotSec, start);
  t.same(Array.from(back.bytesIn), [0, 0, 127, 3_750_000_000_000, 0, 0]);
  t.same(Array.from(back.bytesOut), [0, 0, 128, 2 ** 40 + 1, 0, 0]);
  t.same(Array.from(back.reported), Array.from(samples.reported));
  t.throws(() => decodeSamples(encodeSamples(samples).subarray(0, 5)), /truncated/);
  const rows = dataPointsCsv(back).split('\r\n');
  t.equal(rows[2], `2026-11-01T00:05:00.000Z,${start + 300},0,0,0,0,0`, 'an unreported slot is a 0 bps row marked reported=0');
});
