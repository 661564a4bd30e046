/**
 * Regression (issue 11): the dashboard's 24-hour window showed 888 kbps for a subject whose real rate
 * was ~21 Mbps: its bytes over the first ~1 h were divided by the 86 400 s of the window. Averages now
 * divide by the covered span (300 s per bucket with data) and say which span that is.
 */
import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { createSeriesRoutes, coveredAverage } from '../../../hub/store/series-routes';
import type { Principal } from '../../../hub/http/principal';
import { callApi, createTestApp } from '../../helpers/test-app';
import { fakeSeries } from './fake-series';

const reader: Principal = { userId: 'u', username: 'r', role: 'operator_readonly', operatorId: 'isp1' };
const NOW_SEC = Date.UTC(2026, 11, 1, 12, 2, 30) / 1000; // 12:02:30: the 12:00 bucket is running
const LAST_COMPLETE_END = Date.UTC(2026, 11, 1, 12, 0) / 1000;
// 21 Mbps in, 1 Mbps out, for the last 13 complete buckets (65 min) before 12:00.
const RATE_IN = 21_000_000;
const RATE_OUT = 1_000_000;
const points = Array.from({ length: 13 }, (_, i) => ({
  bucketStartSec: LAST_COMPLETE_END - (13 - i) * 300, bytesIn: (RATE_IN * 300) / 8, bytesOut: (RATE_OUT * 300) / 8,
}));

function setup() {
  const clock = createManualClock(NOW_SEC * 1000);
  const app = createTestApp([createSeriesRoutes({ series: fakeSeries({ 'ipg:cust-a': { points } }), clock })]);
  return (path: string) => callApi(app, 'GET', `/api/v1/operators/isp1${path}`, { principal: reader });
}

t.test('the 888 kbps case: 24 h window, 65 min of data at 21 Mbps averages 21 Mbps, over 65 min', async (t) => {
  const get = setup();
  const res = await get('/top-subjects');
  t.equal(res.status, 200);
  const row = res.body.subjects[0];
  const oldFormula = (row.bytesIn * 8) / 86_400; // what the page used to show
  t.ok(oldFormula < 1_000_000, `the window average is the misleading figure (${Math.round(oldFormula)} bps)`);
  t.equal(row.avgBpsIn, RATE_IN, 'in: the real rate');
  t.equal(row.avgBpsOut, RATE_OUT, 'out: the real rate');
  t.equal(row.coveredSec, 13 * 300, 'covered: 13 buckets');
  t.equal(row.firstDataSec, points[0]!.bucketStartSec);
  t.equal(row.lastDataEndSec, LAST_COMPLETE_END);
});

t.test('the series route carries the same covered average', async (t) => {
  const get = setup();
  const res = await get(`/subjects/${encodeURIComponent('ipg:cust-a')}/series`);
  t.equal(res.status, 200);
  t.match(res.body, { coveredSec: 3900, avgBpsIn: RATE_IN, avgBpsOut: RATE_OUT });
});

t.test('the default window ends at the last complete bucket, never in the future', async (t) => {
  const get = setup();
  const res = await get('/top-subjects');
  t.equal(res.body.toSec, LAST_COMPLETE_END, 'ends where the running bucket starts');
  t.equal(res.body.fromSec, LAST_COMPLETE_END - 86_400);
});

t.test('a gap in the data is not counted as covered; no data averages 0 with nulls', async (t) => {
  const withGap = [points[0]!, points[5]!];
  t.match(coveredAverage(withGap as never), { coveredSec: 600, avgBpsIn: RATE_IN, firstDataSec: points[0]!.bucketStartSec, lastDataEndSec: points[5]!.bucketStartSec + 300 });
  t.same(coveredAverage([]), { coveredSec: 0, firstDataSec: null, lastDataEndSec: null, avgBpsIn: 0, avgBpsOut: 0 });
});
