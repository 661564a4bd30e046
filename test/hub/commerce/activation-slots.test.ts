/**
 * Issue 12: "Buckets that start before an activation instant are refused although they are billed as
 * zero. The collection gate and the bill's span must agree on which 5-minute slots belong to the
 * paid period." One rule, common/period-slots.ts (a slot belongs to a period iff it overlaps it),
 * used by both; proven against a real hub through its HTTP API with an edge publishing over MQTT:
 * the slot straddling an activation, a trial expiry or a removal instant is stored AND billed with
 * its data; the slot wholly outside is refused.
 */
import t, { type Test } from 'tap';
import { createHubModules } from '../../../hub/hub-modules';
import { AckStatus } from '../../../proto/codec';
import { provisionEdge } from '../../helpers/hub-edge';
import { startTestHub } from '../spine/hub-harness';
import { makeSummary } from '../spine/ingest-fixtures';

const at = (iso: string) => Date.parse(iso);
const sec = (iso: string) => Date.parse(iso) / 1000;
const IF1 = 'if:192.0.2.1/1';
const plan = {
  name: 'Gold', billingPeriod: 'monthly', generationDay: 1, currency: 'USD', baseSpeedBps: 10_000_000, baseCostMinor: 50_000,
  additionalSpeedBps: 1_000_000, additionalCostMinor: 2_500, percentileMethod: 'merge', emails: '', subjectIds: [IF1],
};

async function setup(t: Test, nowIso: string) {
  const h = await startTestHub({ nowMs: at(nowIso), modules: createHubModules });
  t.teardown(() => h.close());
  t.equal((await h.admin('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'isp1' })).status, 201);
  await h.admin('PUT', '/api/v1/operators/isp1/active-customers', { count: 900 }); // Mid: NetFlow-eligible
  let token = h.adminToken;
  h.admin = async (method: string, path: string, body?: unknown) => {
    let res = await h.api(method, path, body, token);
    if (res.status === 401) { // the clock jumped past the session's lifetime
      token = (await h.api('POST', '/api/v1/login', { username: 'admin', password: 'admin-pw' })).body.token;
      res = await h.api(method, path, body, token);
    }
    return res;
  };
  const series = async (fromIso: string, toIso: string) =>
    (await h.admin('GET', `/api/v1/operators/isp1/subjects/${encodeURIComponent(IF1)}/series?fromSec=${sec(fromIso)}&toSec=${sec(toIso)}`)).body.points
      .map((p: { bucketStartSec: number; bytesIn: number }) => [p.bucketStartSec, p.bytesIn]);
  const dataPoints = async (billNo: number) => (await h.admin('GET', `/api/v1/operators/isp1/bills/${billNo}/data-points`)).body.dataPoints
    .map((d: { slotStartSec: number; bytesIn: number; reported: boolean }) => [d.slotStartSec, d.bytesIn, d.reported]);
  return { h, series, dataPoints };
}

t.test('activation at 12:02:30: the 12:00 bucket is stored and billed with its data; the 11:55 one is refused', async (t) => {
  const { h, series, dataPoints } = await setup(t, '2026-11-03T12:02:30Z');
  t.equal((await h.admin('POST', '/api/v1/operators/isp1/addons/netflow/activate')).status, 200, 'activated at 12:02:30');
  const created = await h.admin('POST', '/api/v1/operators/isp1/bill-plans', plan);
  t.equal(created.status, 201, 'the plan (and the span of its subject) starts at 12:02:30 too');
  h.clock.setMs(at('2026-11-03T12:11:00Z'));
  const edge = await provisionEdge(h, 'isp1', 'pop-1');
  const ack = await edge.deliver([makeSummary(IF1, sec('2026-11-03T11:55:00Z'), 111), makeSummary(IF1, sec('2026-11-03T12:00:00Z'), 222), makeSummary(IF1, sec('2026-11-03T12:05:00Z'), 333)]
    .map((s, i) => ({ ...s, revision: i })));
  t.equal(ack.status, AckStatus.STORED);
  t.match(ack.reason, /stored 2 of 3; refused: collection paused: bucket ended before the NetFlow Traffic Analysis add-on was activated/);
  t.same(await series('2026-11-03T11:50:00Z', '2026-11-03T12:15:00Z'), [[sec('2026-11-03T12:00:00Z'), 222], [sec('2026-11-03T12:05:00Z'), 333]]);

  const removed = await h.admin('DELETE', `/api/v1/operators/isp1/bill-plans/${created.body.plan.planId}/subjects/${encodeURIComponent(IF1)}`);
  const [bill] = removed.body.bills;
  t.equal(bill.spanStartSec, sec('2026-11-03T12:02:30Z'));
  t.same(await dataPoints(bill.billNo), [[sec('2026-11-03T12:00:00Z'), 222, true], [sec('2026-11-03T12:05:00Z'), 333, true], [sec('2026-11-03T12:10:00Z'), 0, false]],
    'the bill has the 12:00 slot the gate stored, with its data (and the 12:10 slot the removal at 12:11 falls in)');
});

t.test('trial expiry at 12:02:30: the 12:00 bucket is stored and billed; the 12:05 one is refused', async (t) => {
  const { h, series, dataPoints } = await setup(t, '2026-11-03T12:02:30Z');
  t.equal((await h.admin('POST', '/api/v1/operators/isp1/addons/netflow/start-trial')).status, 200, '15 days: until 2026-11-18T12:02:30Z');
  const created = await h.admin('POST', '/api/v1/operators/isp1/bill-plans', plan);
  const edge = await provisionEdge(h, 'isp1', 'pop-1');

  // At the expiry instant the edge has sent the 12:00 bucket (the hub accepts a bucket ending within its skew allowance).
  h.clock.setMs(at('2026-11-18T12:02:30Z'));
  const first = await edge.deliver([makeSummary(IF1, sec('2026-11-18T11:55:00Z'), 111), makeSummary(IF1, sec('2026-11-18T12:00:00Z'), 222)]);
  t.equal(first.status, AckStatus.STORED);
  t.equal(first.reason, '', 'both stored: 12:00 straddles the expiry');
  // The subject leaves the plan at that same instant: its bill ends there and includes the 12:00 slot.
  const removed = await h.admin('DELETE', `/api/v1/operators/isp1/bill-plans/${created.body.plan.planId}/subjects/${encodeURIComponent(IF1)}`);
  const [bill] = removed.body.bills;
  t.equal(bill.spanEndSec, sec('2026-11-18T12:02:30Z'));
  t.same((await dataPoints(bill.billNo)).slice(-2), [[sec('2026-11-18T11:55:00Z'), 111, true], [sec('2026-11-18T12:00:00Z'), 222, true]], 'the last slot of the bill is the 12:00 one, with its data');

  h.clock.setMs(at('2026-11-18T12:11:00Z'));
  const late = await edge.deliver([makeSummary(IF1, sec('2026-11-18T12:05:00Z'), 333)]);
  t.equal(late.status, AckStatus.REJECTED);
  t.match(late.reason, /trial expired at 2026-11-18T12:02:30/);
  t.same(await series('2026-11-18T11:55:00Z', '2026-11-18T12:15:00Z'), [[sec('2026-11-18T11:55:00Z'), 111], [sec('2026-11-18T12:00:00Z'), 222]]);
});
