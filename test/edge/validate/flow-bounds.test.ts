import t from 'tap';
import { createRefusalCounter, outOfBoundsReason, type FlowBounds } from '../../../edge/validate/flow-bounds';
import { flow } from '../helpers/flows';

const NOW = 1_800_000_000_000;
const bounds: FlowBounds = { maxAgeMs: 86_400_000, maxFutureMs: 600_000, maxBytesPerFlow: 2 ** 44, maxPacketsPerFlow: 2 ** 40, maxSamplingRate: 2 ** 24 };
const at = (startMs: number, endMs: number, extra = {}) => flow({ startMs, endMs, bytes: 1500, packets: 1, ...extra });

t.test('a flow inside the window with plausible counters passes', async (t) => {
  t.equal(outOfBoundsReason(at(NOW - 60_000, NOW), NOW, bounds), undefined);
  t.equal(outOfBoundsReason(at(NOW - 86_400_000, NOW - 86_400_000), NOW, bounds), undefined, 'exactly maxAge old');
  t.equal(outOfBoundsReason(at(NOW, NOW + 600_000), NOW, bounds), undefined, 'exactly maxFuture ahead');
  t.equal(outOfBoundsReason(at(NOW - 1000, NOW, { samplingRate: 1.5, bytes: 2 ** 44, packets: 2 ** 40 }), NOW, bounds), undefined, 'RFC 5477 fractional rate, counters at the ceiling');
});

t.test('times: the reproduced attack values are refused before they reach split-flow', async (t) => {
  // IPFIX flowEndSeconds = 2^62 (8 bytes): once made the bucket index pass 2^53.
  t.equal(outOfBoundsReason(at(NOW, 2 ** 62 * 1000), NOW, bounds), 'time-in-future');
  t.equal(outOfBoundsReason(at(0, 0), NOW, bounds), 'time-too-old', 'v5 header with unix secs 0');
  t.equal(outOfBoundsReason(at(NOW - 86_400_001, NOW - 86_400_001), NOW, bounds), 'time-too-old');
  t.equal(outOfBoundsReason(at(NOW, NOW + 600_001), NOW, bounds), 'time-in-future');
  t.equal(outOfBoundsReason(at(NaN, NOW), NOW, bounds), 'time-not-finite');
  t.equal(outOfBoundsReason(at(NOW, Infinity), NOW, bounds), 'time-not-finite');
  t.equal(outOfBoundsReason(at(NOW, NOW - 1), NOW, bounds), 'time-not-finite', 'end before start');
});

t.test('counters and sampling: Infinity, 1e37, negative, fractional, zero rate', async (t) => {
  // A numeric field longer than 8 bytes once decoded as Infinity.
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { bytes: Infinity }), NOW, bounds), 'bytes-out-of-range');
  // An 8-byte packet count times an 8-byte samplingInterval.
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { packets: 1e37 }), NOW, bounds), 'packets-out-of-range');
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { bytes: -1 }), NOW, bounds), 'bytes-out-of-range');
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { bytes: 10.5 }), NOW, bounds), 'bytes-out-of-range');
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { bytes: 2 ** 44 + 1 }), NOW, bounds), 'bytes-out-of-range');
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { samplingRate: 0 }), NOW, bounds), 'sampling-out-of-range');
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { samplingRate: 0.5 }), NOW, bounds), 'sampling-out-of-range');
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { samplingRate: Infinity }), NOW, bounds), 'sampling-out-of-range');
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { samplingRate: NaN }), NOW, bounds), 'sampling-out-of-range');
  t.equal(outOfBoundsReason(at(NOW - 1, NOW, { samplingRate: 2 ** 24 + 1 }), NOW, bounds), 'sampling-out-of-range');
});

t.test('refusals are counted per reason and per exporter, in a bounded table', async (t) => {
  const c = createRefusalCounter(2);
  t.equal(c.count('192.0.2.1', 'time-too-old'), true, 'first of its reason: log it');
  t.equal(c.count('192.0.2.1', 'time-too-old'), false, 'then only counted');
  t.equal(c.count('192.0.2.2', 'bytes-out-of-range'), true);
  c.count('192.0.2.3', 'time-too-old'); // a third exporter: beyond the table, still in the totals
  t.equal(c.total(), 4);
  t.equal(c.ofExporter('192.0.2.1'), 2);
  t.equal(c.ofExporter('192.0.2.3'), 0);
  t.equal(c.byReason()['time-too-old'], 3);
});
