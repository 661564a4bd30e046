import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { bpsToBytesPerSlot } from '../../../hub/billing/rates';
import { basePlan, ms, otherAdmin, readonly, sec, setupBilling } from './billing-fixture';

const IF1 = 'if:10.0.0.1/1';
const IF2 = 'if:10.0.0.1/2';
const GROUP = 'ipg:cust-a';

const inboundMbps = [0.139, 0.653, 0.201, 0.116, 0.084, 0.032, 0.047, 0.185, 0.198, 0.203, 0.276, 0.370, 0.971, 0.233, 0.218, 0.182, 0.169, 0.126, 0.131, 0.157];
const outboundMbps = [1.347, 1.435, 1.229, 0.523, 0.438, 0.231, 0.347, 0.689, 0.940, 1.248, 1.385, 1.427, 3.988, 1.265, 1.221, 1.013, 0.992, 0.874, 0.896, 1.002];
const mbpsToBytes = (xs: number[]) => xs.map((m) => bpsToBytesPerSlot(m * 1e6));

t.test('seed worked example end to end: a subject in a plan for 100 minutes, removed → bill at that instant', async (t) => {
  for (const [method, billed] of [['merge', 1_427_000], ['separate', 1_435_000]] as const) {
    const { api, clock, series, mailer, billing } = setupBilling('2026-11-10T10:00:00Z');
    series.add('isp1', IF1, sec('2026-11-10T10:00:00Z'), mbpsToBytes(inboundMbps), mbpsToBytes(outboundMbps));
    const created = await api('POST', '/bill-plans', { ...basePlan, percentileMethod: method, baseSpeedBps: 1_000_000, additionalSpeedBps: 100_000, subjectIds: [IF1] });
    t.equal(created.status, 201, method);
    (clock as ReturnType<typeof createManualClock>).advanceMs(100 * 60_000);
    const removed = await api('DELETE', `/bill-plans/${created.body.plan.planId}/subjects/${encodeURIComponent(IF1)}`);
    t.equal(removed.status, 200);
    const [bill] = removed.body.bills;
    t.equal(bill.reason, 'subject_removed');
    t.equal(bill.n, 20);
    t.equal(bill.p95Bps, billed, `${method}: billed 95th`);
    if (method === 'merge') {
      t.equal(bill.rankedSamples, 40); t.equal(bill.discardedSamples, 2); t.equal(bill.p95MergedBps, 1_427_000);
      // 1.427 Mbps over 1 Mbps base = 4.27 → 5 blocks of 100 kbps; prorated over 20 of 8640 slots of November
      t.equal(bill.charge.additionalBlocks, 5);
    } else {
      t.equal(bill.p95InBps, 653_000); t.equal(bill.p95OutBps, 1_435_000); t.equal(bill.discardedSamples, 1);
      t.equal(bill.charge.additionalBlocks, 5);
    }
    t.equal(bill.charge.cycleAmountMinor, 50_000 + 5 * 2_500);
    t.equal(bill.charge.billedSlots, 20);
    t.equal(bill.charge.cycleSlots, 8640);
    t.equal(bill.charge.amountMinor, Math.round((62_500 * 20) / 8640), 'prorated, half up');
    t.equal(bill.coverageSlots, 20);
    // Issue 11: the report is mailed when the bill is made (in the background: PDF rendering stays off the request path).
    await billing.service.mailsIdle();
    t.equal(mailer.sent.length, 1, 'mailed when the bill is made, not at the next run');
  }
});

t.test('a synthetic 30-day month and a 31-day month whose 95th is known', async (t) => {
  const { api, clock, series, billing } = setupBilling('2026-10-31T12:00:00Z');
  const nov = sec('2026-11-01T00:00:00Z');
  const dec = sec('2026-12-01T00:00:00Z');
  // in: a permutation of 1..8640 kB per slot, out a flat 1 kB; with "separate" the 95th of in is
  // the (432+1)th highest: 8640-432 = 8208 kB per slot.
  const novIn = Array.from({ length: 8640 }, (_, i) => ((i * 7919) % 8640 + 1) * 1000);
  series.add('isp1', IF1, nov, novIn, Array(8640).fill(1000));
  const decIn = Array.from({ length: 8928 }, (_, i) => ((i * 7919) % 8928 + 1) * 1000);
  series.add('isp1', IF1, dec, decIn, Array(8928).fill(1000));
  const plan = (await api('POST', '/bill-plans', { ...basePlan, percentileMethod: 'separate' })).body.plan;
  t.equal((await api('POST', `/bill-plans/${plan.planId}/subjects`, { subjectId: IF1 })).status, 201);
  (clock as any).setMs(ms('2026-11-01T00:00:00Z'));
  // re-associate exactly at the cycle start so the November bill covers the whole month
  await api('DELETE', `/bill-plans/${plan.planId}/subjects/${encodeURIComponent(IF1)}`);
  await api('POST', `/bill-plans/${plan.planId}/subjects`, { subjectId: IF1 });
  await billing.runDueJobs(ms('2026-11-01T00:00:00Z'));

  (clock as any).setMs(ms('2026-12-01T00:20:00Z'));
  await billing.runDueJobs(ms('2026-12-01T00:20:00Z'));
  (clock as any).setMs(ms('2027-01-01T00:20:00Z'));
  await billing.runDueJobs(ms('2027-01-01T00:20:00Z'));
  const bills = (await api('GET', '/bills')).body.bills;
  const novBill = (await api('GET', `/bills/${bills.find((b: any) => b.spanStartSec === nov).billNo}`)).body.bill;
  t.equal(novBill.n, 8640); t.equal(novBill.discardedSamples, 432);
  t.equal(novBill.p95InBps, (8208_000 * 8) / 300);
  t.equal(novBill.p95Bps, (8208_000 * 8) / 300);
  t.equal(novBill.charge.amountMinor, 50_000, '218.88 kbps is under the 10 Mbps base');
  const decBill = (await api('GET', `/bills/${bills.find((b: any) => b.spanStartSec === dec).billNo}`)).body.bill;
  t.equal(decBill.n, 8928); t.equal(decBill.discardedSamples, 446);
  t.equal(decBill.p95InBps, ((8928 - 446) * 1000 * 8) / 300);
  t.equal(decBill.coverageSlots, 8928);
});

t.test('bills are generated once per plan, subject and period; numbers are sequential; list is most recent first', async (t) => {
  const { api, billing, series } = setupBilling('2026-09-01T00:00:00Z');
  series.touch('isp1', IF1); series.touch('isp1', IF2);
  const plan = (await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1, IF2] })).body.plan;
  await billing.runDueJobs(ms('2026-10-01T00:20:00Z'));
  await billing.runDueJobs(ms('2026-10-01T00:20:00Z'));
  await billing.runDueJobs(ms('2026-10-01T00:40:00Z'));
  let bills = (await api('GET', '/bills')).body.bills;
  t.same(bills.map((b: any) => b.billNo), [2, 1]);
  await billing.runDueJobs(ms('2026-11-01T00:20:00Z'));
  bills = (await api('GET', `/bills?planId=${plan.planId}`)).body.bills;
  t.same(bills.map((b: any) => b.billNo), [4, 3, 2, 1]);
  t.ok(bills[0].generatedAtMs >= bills[3].generatedAtMs);
  t.equal((await api('GET', '/bills?planId=nope')).body.bills.length, 0);
  const details = (await api('GET', '/bills/3')).body;
  t.same(details.subjectBills.map((b: any) => b.subjectId), [details.bill.subjectId, details.bill.subjectId], 'all bills of that subject');
});

t.test('not before the grace after the cycle end', async (t) => {
  const { api, billing } = setupBilling('2026-09-01T00:00:00Z');
  await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1] });
  t.match(await billing.runDueJobs(ms('2026-10-01T00:10:00Z')), { generated: 0 }, '15-minute grace for late summaries');
  t.match(await billing.runDueJobs(ms('2026-10-01T00:15:00Z')), { generated: 1 });
});

t.test('partial cycle: a subject added mid-cycle is billed for the part it was in the plan', async (t) => {
  const { api, billing, clock } = setupBilling('2026-11-01T00:00:00Z');
  const plan = (await api('POST', '/bill-plans', { ...basePlan })).body.plan;
  (clock as any).setMs(ms('2026-11-16T00:00:00Z'));
  await api('POST', `/bill-plans/${plan.planId}/subjects`, { subjectId: GROUP });
  await billing.runDueJobs(ms('2026-12-01T01:00:00Z'));
  const [bill] = (await api('GET', '/bills')).body.bills;
  const full = (await api('GET', `/bills/${bill.billNo}`)).body.bill;
  t.equal(full.spanStartSec, sec('2026-11-16T00:00:00Z'));
  t.equal(full.n, 15 * 288);
  t.equal(full.charge.amountMinor, 25_000, 'half of the 500.00 USD base');
  t.match(full.charge.rule, /× 4320\/8640 slots/);
});

t.test('quarterly plan: one bill for the quarter', async (t) => {
  const { api, billing } = setupBilling('2026-01-01T00:00:00Z');
  await api('POST', '/bill-plans', { ...basePlan, billingPeriod: 'quarterly', subjectIds: [IF1] });
  t.match(await billing.runDueJobs(ms('2026-03-31T23:00:00Z')), { generated: 0 });
  t.match(await billing.runDueJobs(ms('2026-04-01T01:00:00Z')), { generated: 1 });
  const full = (await api('GET', '/bills/1')).body.bill;
  t.equal(full.cycleStartSec, sec('2026-01-01T00:00:00Z'));
  t.equal(full.cycleEndSec, sec('2026-04-01T00:00:00Z'));
  t.equal(full.n, 90 * 288);
  t.equal(full.discardedSamples, Math.floor((2 * 90 * 288) / 20), 'merge ranks 2n');
});

t.test('generation day 31 is clamped to 28 February', async (t) => {
  const { api, billing } = setupBilling('2026-01-31T00:00:00Z');
  await api('POST', '/bill-plans', { ...basePlan, generationDay: 31, subjectIds: [IF1] });
  t.match(await billing.runDueJobs(ms('2026-02-28T01:00:00Z')), { generated: 1 });
  const full = (await api('GET', '/bills/1')).body.bill;
  t.equal(full.cycleEndSec, sec('2026-02-28T00:00:00Z'));
  t.equal(full.n, 28 * 288);
  t.match(await billing.runDueJobs(ms('2026-03-03T01:00:00Z')), { generated: 0 }, 'no roll-over bill on 3 March');
  t.match(await billing.runDueJobs(ms('2026-03-31T01:00:00Z')), { generated: 1 });
});

t.test('removal mid-cycle bills at once and the cycle-end run does not bill it again', async (t) => {
  const { api, billing, clock } = setupBilling('2026-11-01T00:00:00Z');
  const plan = (await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1, IF2] })).body.plan;
  (clock as any).setMs(ms('2026-11-11T00:00:00Z'));
  const removed = await api('DELETE', `/bill-plans/${plan.planId}/subjects/${encodeURIComponent(IF1)}`);
  t.equal(removed.body.bills.length, 1);
  t.equal(removed.body.bills[0].n, 10 * 288);
  t.equal(removed.body.bills[0].billNo, 1);
  await billing.runDueJobs(ms('2026-12-01T01:00:00Z'));
  const bills = (await api('GET', '/bills')).body.bills;
  t.same(bills.map((b: any) => [b.billNo, b.subjectId, b.reason]), [[2, IF2, 'cycle_end'], [1, IF1, 'subject_removed']]);
  t.equal((await api('DELETE', `/bill-plans/${plan.planId}/subjects/${encodeURIComponent(IF1)}`)).status, 404);
});

t.test('unmanaging a subject and deleting a plan bill at that instant', async (t) => {
  const { api, billing, clock } = setupBilling('2026-11-01T00:00:00Z');
  const plan = (await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1, IF2] })).body.plan;
  (clock as any).setMs(ms('2026-11-02T00:00:00Z'));
  const [b1] = await billing.unmanageSubject('isp1', IF1);
  t.equal(b1!.reason, 'subject_unmanaged');
  t.equal(b1!.n, 288);
  t.same(await billing.unmanageSubject('isp1', IF1), [], 'not in a plan any more');
  (clock as any).setMs(ms('2026-11-03T00:00:00Z'));
  const del = await api('DELETE', `/bill-plans/${plan.planId}`);
  t.same(del.body.bills.map((b: any) => [b.subjectId, b.reason, b.n]), [[IF2, 'plan_deleted', 576]]);
  t.equal((await api('GET', `/bill-plans/${plan.planId}`)).status, 404);
  t.match(await billing.runDueJobs(ms('2026-12-01T01:00:00Z')), { generated: 0 });
  t.equal((await api('GET', '/bills')).body.bills.length, 2, 'bills of a deleted plan stay');
});

t.test('PATCH with a new subject set: removed subjects are billed now, added ones start now', async (t) => {
  const { api, billing, clock } = setupBilling('2026-11-01T00:00:00Z');
  const plan = (await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1] })).body.plan;
  (clock as any).setMs(ms('2026-11-21T00:00:00Z'));
  const res = await api('PATCH', `/bill-plans/${plan.planId}`, { subjectIds: [IF2] });
  t.same(res.body.bills.map((b: any) => [b.subjectId, b.n]), [[IF1, 20 * 288]]);
  t.same(res.body.plan.associations.map((a: any) => [a.subjectId, a.toSec ?? null]), [[IF1, sec('2026-11-21T00:00:00Z')], [IF2, null]]);
  await billing.runDueJobs(ms('2026-12-01T01:00:00Z'));
  const bills = (await api('GET', '/bills')).body.bills;
  t.same(bills.map((b: any) => [b.subjectId, (b.spanEndSec - b.spanStartSec) / 300]), [[IF2, 10 * 288], [IF1, 20 * 288]]);
});

t.test('a cost change takes effect from the next billing cycle', async (t) => {
  const { api, billing, clock } = setupBilling('2026-10-01T00:00:00Z');
  const plan = (await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1] })).body.plan;
  (clock as any).setMs(ms('2026-10-15T00:00:00Z'));
  const patched = await api('PATCH', `/bill-plans/${plan.planId}`, { baseCostMinor: 70_000 });
  t.equal(patched.status, 200);
  t.same(patched.body.plan.tariffs.map((x: any) => [x.effectiveFromSec, x.baseCostMinor]), [[0, 50_000], [sec('2026-11-01T00:00:00Z'), 70_000]], 'price history');
  (clock as any).setMs(ms('2026-10-20T00:00:00Z'));
  await api('PATCH', `/bill-plans/${plan.planId}`, { baseCostMinor: 80_000 });
  await billing.runDueJobs(ms('2026-11-01T01:00:00Z'));
  await billing.runDueJobs(ms('2026-12-01T01:00:00Z'));
  const bills = (await api('GET', '/bills')).body.bills;
  t.same(bills.map((b: any) => b.amountMinor), [80_000, 50_000], 'October at the old price, November at the last change');
});

t.test('billing period and generation day are immutable', async (t) => {
  const { api } = setupBilling('2026-10-01T00:00:00Z');
  const plan = (await api('POST', '/bill-plans', { ...basePlan })).body.plan;
  for (const body of [{ generationDay: 5 }, { billingPeriod: 'quarterly' }]) {
    const res = await api('PATCH', `/bill-plans/${plan.planId}`, body);
    t.equal(res.status, 409);
    t.equal(res.body.error.code, 'PLAN_FIELD_IMMUTABLE');
  }
  t.equal((await api('PATCH', `/bill-plans/${plan.planId}`, { generationDay: 1, name: 'Renamed' })).body.plan.name, 'Renamed', 'same value is fine');
});

t.test('a subject belongs to at most one plan; associated ones are not offered', async (t) => {
  const { api, series } = setupBilling('2026-10-01T00:00:00Z');
  for (const s of [IF1, IF2, GROUP]) series.touch('isp1', s);
  const a = (await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1] })).body.plan;
  const b = (await api('POST', '/bill-plans', { ...basePlan, name: 'Silver' })).body.plan;
  let res = await api('POST', `/bill-plans/${b.planId}/subjects`, { subjectId: IF1 });
  t.equal(res.status, 409); t.equal(res.body.error.code, 'SUBJECT_ALREADY_IN_PLAN');
  res = await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF2, IF1] });
  t.equal(res.body.error.code, 'SUBJECT_ALREADY_IN_PLAN', 'nothing of a refused plan is kept');
  res = await api('PATCH', `/bill-plans/${b.planId}`, { subjectIds: [IF1] });
  t.equal(res.body.error.code, 'SUBJECT_ALREADY_IN_PLAN');
  // concurrent claims on one subject: exactly one wins
  const racing = await Promise.all([api('POST', `/bill-plans/${b.planId}/subjects`, { subjectId: GROUP }), api('POST', `/bill-plans/${a.planId}/subjects`, { subjectId: GROUP })]);
  t.same(racing.map((r) => r.status).sort(), [201, 409]);
  const avail = (await api('GET', '/bill-plans/available-subjects')).body.subjects.map((s: any) => s.subjectId);
  t.same(avail, [IF2]);
  await api('DELETE', `/bill-plans/${a.planId}/subjects/${encodeURIComponent(IF1)}`);
  t.same((await api('GET', '/bill-plans/available-subjects')).body.subjects.map((s: any) => s.subjectId).sort(), [IF1, IF2]);
  t.equal((await api('POST', `/bill-plans/${b.planId}/subjects`, { subjectId: IF1 })).status, 201, 'free again after removal');
});

t.test('validation: e-mails, speeds, costs, currency', async (t) => {
  const { api } = setupBilling('2026-10-01T00:00:00Z');
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ emails: 'ok@x.example, not-an-address' }, /not-an-address/],
    [{ baseSpeedBps: 0 }, /baseSpeedBps/],
    [{ additionalSpeedBps: 1.5 }, /additionalSpeedBps/],
    [{ baseCostMinor: 10.5 }, /baseCostMinor/],
    [{ currency: 'usd' }, /currency/],
    [{ generationDay: 32 }, /generationDay/],
    [{ billingPeriod: 'weekly' }, /billingPeriod/],
    [{ percentileMethod: 'sum' }, /percentileMethod/],
    [{ subjectIds: ['eth0'] }, /subject id/],
    [{ name: '' }, /name/],
  ];
  for (const [patch, msg] of bad) {
    const res = await api('POST', '/bill-plans', { ...basePlan, ...patch });
    t.equal(res.status, 400, JSON.stringify(patch));
    t.match(res.body.error.message, msg);
  }
  const ok = await api('POST', '/bill-plans', { ...basePlan, emails: ' a@x.example ,b@y.example,, a@x.example' });
  t.same(ok.body.plan.emails, ['a@x.example', 'b@y.example']);
});

t.test('roles: readonly reads but cannot write; another operator sees nothing', async (t) => {
  const { api } = setupBilling('2026-10-01T00:00:00Z');
  const plan = (await api('POST', '/bill-plans', { ...basePlan })).body.plan;
  t.equal((await api('GET', '/bill-plans', undefined, readonly)).body.plans.length, 1);
  t.equal((await api('POST', '/bill-plans', basePlan, readonly)).status, 403);
  t.equal((await api('PATCH', `/bill-plans/${plan.planId}`, { name: 'x' }, readonly)).status, 403);
  t.equal((await api('GET', '/bill-plans', undefined, otherAdmin)).status, 404);
  t.equal((await api('GET', '/bills')).status, 200);
});

