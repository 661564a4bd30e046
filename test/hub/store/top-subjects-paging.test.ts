/** GET /top-subjects (issue 11): search (q), pages (offset, limit) and the count of matches (total), server-side. */
import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { createSeriesRoutes } from '../../../hub/store/series-routes';
import type { Principal } from '../../../hub/http/principal';
import { callApi, createTestApp } from '../../helpers/test-app';
import { fakeSeries } from './fake-series';

const reader: Principal = { userId: 'u', username: 'r', role: 'operator_readonly', operatorId: 'isp1' };
const BASE = Date.UTC(2026, 11, 1, 10) / 1000;

// 25 subjects: cust-01 … cust-25 with cust-N carrying N MB, plus an interface labelled "uplink".
const data: Parameters<typeof fakeSeries>[0] = {};
for (let n = 1; n <= 25; n++) data[`ipg:cust-${String(n).padStart(2, '0')}`] = { points: [{ bucketStartSec: BASE, bytesIn: n * 1_000_000 }] };
data['if:10.0.0.1/5'] = { kind: 'interface', label: 'uplink Transit-A', points: [{ bucketStartSec: BASE, bytesIn: 500, bytesOut: 500 }] };

function setup() {
  const app = createTestApp([createSeriesRoutes({ series: fakeSeries(data), clock: createManualClock((BASE + 3600) * 1000) })]);
  return (query: string) => callApi(app, 'GET', `/api/v1/operators/isp1/top-subjects?${query}`, { principal: reader });
}

t.test('pages in rank order with the total of all matches', async (t) => {
  const get = setup();
  const p1 = await get('limit=10');
  t.equal(p1.status, 200);
  t.equal(p1.body.total, 26);
  t.same(p1.body.subjects.map((s: { subjectId: string }) => s.subjectId), Array.from({ length: 10 }, (_, i) => `ipg:cust-${25 - i}`));
  const p2 = await get('limit=10&offset=10');
  t.same(p2.body.subjects.map((s: { subjectId: string }) => s.subjectId), Array.from({ length: 10 }, (_, i) => `ipg:cust-${String(15 - i).padStart(2, '0')}`));
  t.match(p2.body, { offset: 10, limit: 10, total: 26 });
  const p3 = await get('limit=10&offset=20');
  t.equal(p3.body.subjects.length, 6, 'the last page holds the rest');
  t.equal(p3.body.subjects.at(-1).subjectId, 'if:10.0.0.1/5');
  t.same((await get('limit=10&offset=30')).body.subjects, [], 'past the end: empty, total unchanged');
});

t.test('q searches subject ids and labels, case-insensitive, before paging', async (t) => {
  const get = setup();
  const r = await get('q=CUST-1&limit=3');
  t.equal(r.body.total, 10, 'cust-10 … cust-19');
  t.same(r.body.subjects.map((s: { subjectId: string }) => s.subjectId), ['ipg:cust-19', 'ipg:cust-18', 'ipg:cust-17']);
  const byLabel = await get('q=transit');
  t.same(byLabel.body.subjects.map((s: { subjectId: string }) => s.subjectId), ['if:10.0.0.1/5'], 'matches the label');
  t.equal(byLabel.body.q, 'transit');
  t.match(await get('q=nothing-like-this'), { status: 200, body: { total: 0, subjects: [] } });
});

t.test('bad paging parameters are clear 400s', async (t) => {
  const get = setup();
  for (const q of ['limit=0', 'limit=1001', 'offset=-1', 'offset=x', 'limit=2.5']) {
    const r = await get(q);
    t.equal(r.status, 400, q);
    t.equal(r.body.error.code, 'BAD_REQUEST');
    t.match(r.body.error.message, /^(limit|offset): an integer/);
  }
  t.equal((await get(`q=${'x'.repeat(201)}`)).status, 400);
});
