/**
 * Issue 11: "an operator action to generate a bill now for a subject, without removing it from its
 * plan". Through the billing module's routes: the generated bill and the next regular bill tile the
 * cycle, so no slot is billed twice and none is lost (to the byte), and the amounts add up to the
 * cycle's price (to the cent); an Idempotency-Key replays; the mails go out when the bills are made;
 * the bill run reports its progress.
 */
import t from 'tap';
import type { createManualClock } from '../../../common/clock';
import { admin, basePlan, ms, readonly, sec, setupBilling } from './billing-fixture';
import { callApi } from '../../helpers/test-app';
import { bpsToBytesPerSlot } from '../../../hub/billing/rates';

const IF1 = 'if:10.0.0.1/1';
const IF2 = 'if:10.0.0.1/2';
const NOV = sec('2026-11-01T00:00:00Z');
const DEC = sec('2026-12-01T00:00:00Z');
const SLOTS = 8640;

/** November for IF1: first half near 12.5 Mbps, second half near 12.2 Mbps (both 3 blocks over 10 Mbps); a few slots missing. */
function novemberTraffic() {
  const bytesIn: number[] = [];
  const bytesOut: number[] = [];
  for (let i = 0; i < SLOTS; i++) {
    const bps = i < SLOTS / 2 ? 12_500_000 - (i % 50) * 1_000 : 12_200_000 - (i % 70) * 1_000;
    bytesIn.push(bpsToBytesPerSlot(bps) + (i % 7));
    bytesOut.push(bpsToBytesPerSlot(bps / 3) + (i % 11));
  }
  return { bytesIn, bytesOut };
}

async function setup() {
  const s = setupBilling('2026-11-01T00:00:00Z');
  const traffic = novemberTraffic();
  s.series.add('isp1', IF1, NOV, traffic.bytesIn, traffic.bytesOut);
  s.series.add('isp1', IF2, NOV, traffic.bytesOut, traffic.bytesIn);
  const plan = (await s.api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1, IF2] })).body.plan;
  const generate = (subjectId: string, body: Record<string, unknown> = {}, key?: string, principal = admin) =>
    callApi(s.app, 'POST', `/api/v1/operators/isp1/bill-plans/${plan.planId}/subjects/${encodeURIComponent(subjectId)}/generate-now`,
      { principal, body, headers: key ? { 'idempotency-key': key } : {} });
  const clock = s.clock as ReturnType<typeof createManualClock>;
  const dataPoints = async (billNo: number) => (await s.api('GET', `/bills/${billNo}/data-points`)).body.dataPoints as { slotStartSec: number; bytesIn: number; bytesOut: number }[];
  return { ...s, plan, generate, clock, traffic, dataPoints };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

t.test('generate now mid-cycle, then the regular run: every slot in exactly one bill, bytes and cents add up', async (t) => {
  const { api, generate, clock, traffic, plan, billing, mailer, dataPoints } = await setup();
  clock.setMs(ms('2026-11-16T00:20:00Z'));
  t.equal((await generate(IF1, {}, 'k1', readonly)).status, 403, 'operator_readonly may not');
  t.equal((await generate(IF1, { untilSec: sec('2026-11-16T00:10:00Z') })).status, 400, 'not later than 15 minutes (grace) before now');
  t.equal((await generate(IF1, { untilSec: sec('2026-11-15T23:58:00Z') })).status, 400, 'a 5-minute boundary');
  t.equal((await generate('if:10.0.0.1/9', {})).status, 404, 'a subject the plan does not hold');

  const made = await generate(IF1, { untilSec: sec('2026-11-16T00:00:00Z') }, 'gen-1');
  t.equal(made.status, 201);
  const interim = made.body.bill;
  t.match(interim, { reason: 'generated_now', subjectId: IF1, spanStartSec: NOV, spanEndSec: sec('2026-11-16T00:00:00Z'), cycleStartSec: NOV, cycleEndSec: DEC });

  const again = await generate(IF1, { untilSec: sec('2026-11-16T00:00:00Z') }, 'gen-1');
  t.equal(again.status, 200, 'same Idempotency-Key: the first result');
  t.equal(again.headers['idempotent-replayed'], 'true');
  t.equal(again.body.bill.billNo, interim.billNo);
  t.equal((await generate(IF2, {}, 'gen-1')).status, 409, 'the key was used for another subject');

  const after = (await api('GET', `/bill-plans/${plan.planId}`)).body.plan;
  t.same(after.associations.filter((a: { subjectId: string; toSec?: number }) => a.subjectId === IF1 && a.toSec === undefined).map((a: { fromSec: number }) => a.fromSec),
    [sec('2026-11-16T00:00:00Z')], 'still in the plan, from the cut on');
  const avail = (await api('GET', '/bill-plans/available-subjects')).body.subjects.map((x: { subjectId: string }) => x.subjectId);
  t.notOk(avail.includes(IF1), 'not offered to another plan');
  const preview = (await api('GET', `/bill-plans/${plan.planId}/preview`)).body.previews.find((p: { subjectId: string }) => p.subjectId === IF1);
  t.equal(preview.spanStartSec, sec('2026-11-16T00:00:00Z'), 'the preview starts after the generated bill');
  t.equal(preview.projectedSlots, SLOTS / 2);

  await billing.service.mailsIdle();
  t.equal(mailer.sent.length, 1, 'the report was mailed when the bill was made, not at the next run');
  t.match(mailer.sent[0]!.subject, `Bill ${interim.billNo}:`);

  // The cycle closes; the regular run bills the rest.
  clock.setMs(ms('2026-12-01T00:20:00Z'));
  const run = await billing.runDueJobs(ms('2026-12-01T00:20:00Z'));
  t.match(run, { generated: 2, failed: 0 }, 'IF1 (rest of the cycle) and IF2 (whole cycle)');
  t.match((await api('GET', '/bill-runs/latest')).body.run, { due: 3, done: 3, made: 2, failed: 0, mailed: 2, finishedAtMs: Number }, 'the generated piece falls due too and is found made');
  t.match(await billing.runDueJobs(ms('2026-12-01T01:20:00Z')), { generated: 0 }, 'a second run bills nothing again');

  const bills = ((await api('GET', '/bills')).body.bills as { billNo: number; subjectId: string; reason: string; spanStartSec: number; spanEndSec: number; amountMinor: number }[]).filter((b) => b.subjectId === IF1);
  t.equal(bills.length, 2, 'IF1: the generated bill and the regular one');
  const regular = bills.find((b) => b.reason === 'cycle_end')!;
  t.match(regular, { spanStartSec: sec('2026-11-16T00:00:00Z'), spanEndSec: DEC });

  // To the byte: the two bills' samples are disjoint, cover all November slots, and hold all its bytes.
  const a = await dataPoints(interim.billNo);
  const b = await dataPoints(regular.billNo);
  t.equal(a.length + b.length, SLOTS, 'every November slot');
  t.equal(new Set([...a, ...b].map((p) => p.slotStartSec)).size, SLOTS, 'no slot twice');
  t.equal(sum([...a, ...b].map((p) => p.bytesIn)), sum(traffic.bytesIn), 'bytes in, to the byte');
  t.equal(sum([...a, ...b].map((p) => p.bytesOut)), sum(traffic.bytesOut), 'bytes out, to the byte');

  // To the cent: each half at 3 blocks (57,500 per cycle) × 4320/8640 = 28,750, adding up to the cycle's 57,500.
  const full = (await billing.service.billDetails('isp1', regular.billNo)).bill;
  t.equal(full.charge.additionalBlocks, 3);
  t.equal(interim.amountMinor, 28_750);
  t.equal(regular.amountMinor, 28_750);
  const if2 = (await api('GET', '/bills')).body.bills.find((x: { subjectId: string }) => x.subjectId === IF2);
  t.equal(interim.amountMinor + regular.amountMinor, 57_500, 'the cycle price, as IF2 (never generated) pays for the whole cycle at 3 blocks');
  t.equal(if2.amountMinor, 57_500);
  await billing.service.mailsIdle();
  t.equal(mailer.sent.length, 3, 'one mail per bill, none twice');
});

t.test('generate now twice with the default cut (15 minutes before now, on a 5-minute boundary): three bills tile the cycle', async (t) => {
  const { generate, clock, traffic, billing, api, dataPoints } = await setup();
  clock.setMs(ms('2026-11-10T12:17:41Z'));
  const first = (await generate(IF1)).body.bill;
  t.equal(first.spanEndSec, sec('2026-11-10T12:00:00Z'), '12:17:41 − 15 min = 12:02:41 → the 12:00 boundary');
  t.equal((await generate(IF1)).status, 400, 'nothing more to bill at the same instant');
  clock.setMs(ms('2026-11-20T08:33:00Z'));
  const second = (await generate(IF1)).body.bill;
  t.match(second, { spanStartSec: sec('2026-11-10T12:00:00Z'), spanEndSec: sec('2026-11-20T08:15:00Z'), reason: 'generated_now' });
  await billing.runDueJobs(ms('2026-12-01T00:20:00Z'));
  const bills = ((await api('GET', '/bills')).body.bills as { billNo: number; subjectId: string; spanStartSec: number; spanEndSec: number; amountMinor: number }[])
    .filter((b) => b.subjectId === IF1).sort((x, y) => x.spanStartSec - y.spanStartSec);
  t.same(bills.map((b) => [b.spanStartSec, b.spanEndSec]), [[NOV, first.spanEndSec], [first.spanEndSec, second.spanEndSec], [second.spanEndSec, DEC]], 'adjacent spans, the cycle whole');
  const points = (await Promise.all(bills.map((b) => dataPoints(b.billNo)))).flat();
  t.equal(points.length, SLOTS);
  t.equal(new Set(points.map((p) => p.slotStartSec)).size, SLOTS);
  t.equal(sum(points.map((p) => p.bytesIn)), sum(traffic.bytesIn), 'to the byte');
  const details = await Promise.all(bills.map(async (b) => (await billing.service.billDetails('isp1', b.billNo)).bill));
  t.equal(sum(details.map((d) => d.charge.billedSlots)), SLOTS, 'billed slots add up to the cycle');
  // Each bill: its cycle price × its slots / 8640, rounded half up once.
  for (const d of details) t.equal(d.charge.amountMinor, Math.floor((d.charge.cycleAmountMinor * d.charge.billedSlots * 2 + SLOTS) / (2 * SLOTS)), `bill ${d.billNo} prorated by its slots`);
  t.ok(Math.abs(sum(bills.map((b) => b.amountMinor)) - 57_500) <= 1, 'the three add up to the cycle price within one rounding per bill');
});

t.test('Reports keep deleted plans: includeDeleted lists them', async (t) => {
  const { api, plan } = await setup();
  t.equal((await api('DELETE', `/bill-plans/${plan.planId}`)).status, 200);
  t.same((await api('GET', '/bill-plans')).body.plans, [], 'the plans page lists live plans');
  const all = (await api('GET', '/bill-plans?includeDeleted=1')).body.plans;
  t.equal(all.length, 1);
  t.type(all[0].deletedAtMs, 'number');
  t.equal((await api('GET', '/bill-runs/latest')).body.run, null, 'no run yet since start');
});
