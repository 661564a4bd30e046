/**
 * Issue 12: "Missing buckets count as zero in the 95th, and partial cycles are prorated by slots …
 * show them on the bill (samples present, zero-filled, coverage) and in the PDF, so a disputed bill
 * explains itself." Through the HTTP API of a real hub (its clock controlled), the summaries put in
 * the hub's own summary store; bills stored before the slot accounting still load and render.
 */
import t from 'tap';
import { PDFParse } from 'pdf-parse';
import { decodeJson, encodeJson } from '../../../common/kv/json-codec';
import type { BillingModule } from '../../../hub/billing/billing-module';
import type { HubContext } from '../../../hub/create-hub';
import { createHubModules } from '../../../hub/hub-modules';
import { computeBill } from '../../../hub/billing/bill';
import type { BillSamples } from '../../../hub/billing/bill';
import { explainBill } from '../../../hub/billing/bill-explanation';
import { bpsToBytesPerSlot } from '../../../hub/billing/rates';
import { startTestHub } from '../spine/hub-harness';
import { seedSeries } from '../store/series-fixtures';

const IF1 = 'if:10.0.0.1/1';
const IF2 = 'if:10.0.0.1/2';
const OP = '/api/v1/operators/isp1';
const sec = (iso: string) => Date.parse(iso) / 1000;

// The seed's worked example (Mbps, 5-minute averages); this subject misses slots 4 and 11.
const inboundMbps = [0.139, 0.653, 0.201, 0.116, 0.084, 0.032, 0.047, 0.185, 0.198, 0.203, 0.276, 0.370, 0.971, 0.233, 0.218, 0.182, 0.169, 0.126, 0.131, 0.157];
const outboundMbps = [1.347, 1.435, 1.229, 0.523, 0.438, 0.231, 0.347, 0.689, 0.940, 1.248, 1.385, 1.427, 3.988, 1.265, 1.221, 1.013, 0.992, 0.874, 0.896, 1.002];
const MISSING = new Set([4, 11]);

async function hubWithBilling(startIso: string) {
  let billing: BillingModule | undefined;
  const hub = await startTestHub({
    nowMs: Date.parse(startIso),
    modules: (ctx: HubContext) => {
      const composed = createHubModules(ctx);
      billing = composed.billing;
      return composed;
    },
  });
  const summaries = hub.hub.services.seriesStore;
  const put = (subjectId: string, startSec: number, bytesIn: number[], bytesOut: number[], skip: Set<number> = new Set()) =>
    seedSeries(summaries, 'isp1', bytesIn.flatMap((b, i) => (skip.has(i) ? [] : [{
      subjectId, kind: 'interface' as const, bucketStartSec: startSec + i * 300,
      bytesIn: b, bytesOut: bytesOut[i]!, packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1,
    }])));
  // Sessions expire: after a jump of the clock past their life the harness's token is refused.
  let token = hub.adminToken;
  const relogin = async () => { token = (await hub.api('POST', '/api/v1/login', { username: 'admin', password: 'admin-pw' })).body.token; };
  const admin = (method: string, path: string, body?: unknown) => hub.api(method, path, body, token);
  const pdfText = async (billNo: number) => {
    const res = await fetch(`${hub.httpUrl}${OP}/bills/${billNo}/pdf`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(res.status, 200, 'PDF served');
    return (await new PDFParse({ data: new Uint8Array(await res.arrayBuffer()) }).getText()).text;
  };
  return { ...hub, admin, relogin, billing: billing!, put, pdfText };
}

const plan = {
  name: 'Gold 1M', billingPeriod: 'monthly', generationDay: 1, emails: 'noc@cust.example',
  currency: 'USD', baseSpeedBps: 1_000_000, baseCostMinor: 50_000, additionalSpeedBps: 100_000, additionalCostMinor: 2_500, percentileMethod: 'merge',
};

t.test('a partial-cycle bill shows samples present, zero-filled, coverage, the 95th rank and the proration: API, CSV, PDF', async (t) => {
  const hub = await hubWithBilling('2026-11-10T10:00:00Z');
  t.teardown(() => hub.close());
  const start = sec('2026-11-10T10:00:00Z');
  const mbps = (xs: number[]) => xs.map((m) => bpsToBytesPerSlot(m * 1e6));
  await hub.put(IF1, start, mbps(inboundMbps), mbps(outboundMbps), MISSING);
  await hub.put(IF2, start, Array(20).fill(1000), Array(20).fill(1000)); // another customer: the collectors were up
  const created = await hub.admin('POST', `${OP}/bill-plans`, { ...plan, subjectIds: [IF1] });
  t.equal(created.status, 201);
  hub.clock.advanceMs(100 * 60_000);
  const removed = await hub.admin('DELETE', `${OP}/bill-plans/${created.body.plan.planId}/subjects/${encodeURIComponent(IF1)}`);
  t.equal(removed.status, 200);

  const { bill, explanation } = (await hub.admin('GET', `${OP}/bills/1`)).body;
  // Slots 4 and 11 count as 0: pooled 40 samples, 2 set aside (3.988, 1.435), the 3rd highest is 1.385 Mbps.
  t.same(bill.slots, {
    spanSlots: 20, presentSlots: 18, zeroFilledSlots: 2, coveragePercent: 90, edgeReportedSlots: 20,
    rankedSamples: 40, droppedSamples: 2, takenRank: 3, billedSlots: 20, cycleSlots: 8640,
  }, 'stored with the bill');
  t.equal(bill.p95Bps, 1_385_000);
  // By hand: 0.385 Mbps over 1 Mbps → 3.85 → 4 blocks; 500.00 + 4 × 25.00 = 600.00 a cycle; × 20/8640 = 1.388… → 1.39
  t.equal(bill.charge.cycleAmountMinor, 60_000);
  t.equal(bill.charge.amountMinor, 139);
  t.equal(explanation.source, 'stored');
  t.same(explanation.slots, bill.slots);
  t.equal(explanation.prorated, true);
  const steps = explanation.steps.join('\n');
  for (const needle of [
    'The billed period, 10 Nov 2026 10:00 to 10 Nov 2026 11:40 UTC, has 20 five-minute slots.',
    'reported for 18 of them (coverage 90.00 %). The other 2 slots had no report and count as zero traffic.',
    "the operator's collectors sent data, for any customer, in 20 of the 20 slots",
    'In and out are ranked together: 40 samples (20 in and 20 out)',
    'The 2 highest samples (5 %: 40 ÷ 20, rounded down) are set aside; the next one, number 3 from the top, is the 95th percentile: 1.385 Mbps (51937500 bytes in five minutes).',
    'each further 100 kbps, or part of it, costs 25.00 USD',
    '3.85 steps of 100 kbps, rounded up to 4',
    'A full cycle costs 500.00 USD + 4 × 25.00 USD = 600.00 USD.',
    'for 20 of the 8640 five-minute slots of the billing cycle',
    '600.00 USD × 20 ÷ 8640 = 1.388888… USD, rounded to the nearest 0.01 USD (a half rounds up): 1.39 USD.',
  ]) t.ok(steps.includes(needle), `explained: "${needle}"`);

  // The web page asks for the viewer's zone (issue 11: local-readable times with the zone named, as its header).
  const zoned = await hub.admin('GET', `${OP}/bills/1?timeZone=Asia/Tokyo`);
  t.equal(zoned.status, 200);
  t.match((zoned.body as { explanation: { steps: string[] } }).explanation.steps.join('\n'),
    /The billed period, 10 Nov 2026 19:00 to 10 Nov 2026 20:40 Asia\/Tokyo, has 20 five-minute slots\.[\s\S]*billing cycle \(1 Nov 2026 09:00 to 1 Dec 2026 09:00 Asia\/Tokyo\)/);
  const badZone = await hub.admin('GET', `${OP}/bills/1?timeZone=Mars/Olympus`);
  t.equal(badZone.status, 400, 'an unknown zone is refused, not silently UTC');
  t.match(JSON.stringify(badZone.body), /VALIDATION_FAILED[\s\S]*timeZone/);

  const csv = await hub.admin('GET', `${OP}/bills/1/summary.csv`);
  t.equal(csv.status, 200);
  const rows = new Map((csv.body as string).trim().split('\r\n').map((r) => r.split(',') as [string, string]));
  t.equal(rows.get('field'), 'value', 'header row');
  for (const [k, v] of Object.entries({
    slots_in_period: '20', samples_present: '18', samples_zero_filled: '2', coverage_percent: '90.00', collector_reported_slots: '20',
    samples_ranked: '40', samples_dropped: '2', taken_rank_from_top: '3', p95_bytes_per_slot: '51937500', additional_blocks: '4',
    cycle_amount: '600.00', billed_slots: '20', cycle_slots: '8640', amount: '1.39', currency: 'USD',
  })) t.equal(rows.get(k), v, `summary.csv ${k}`);

  const text = await hub.pdfText(1);
  for (const needle of [
    'How this amount was computed', '18 of 20 slots with data, 2 without (counted as zero): 90.00 %', '20 of 8640 five-minute slots (prorated)',
    'The other 2 slots had no report and count as zero traffic', 'number 3 from the top', '1.39 USD',
  ]) t.ok(text.replace(/\s+/g, ' ').includes(needle), `PDF: "${needle}"`);
  t.notOk(/minor units|unrounded/i.test(text), 'no developer wording in the PDF');
});

t.test('bills stored before the slot accounting still load and render: derived from their fields and samples, else "not recorded"', async (t) => {
  const hub = await hubWithBilling('2026-11-10T10:00:00Z');
  t.teardown(() => hub.close());
  const start = sec('2026-11-10T10:00:00Z');
  await hub.put(IF1, start, Array(12).fill(bpsToBytesPerSlot(2e6)), Array(12).fill(bpsToBytesPerSlot(1e6)), new Set([0, 1, 2]));
  const created = await hub.admin('POST', `${OP}/bill-plans`, { ...plan, subjectIds: [IF1] });
  hub.clock.advanceMs(60 * 60_000);
  await hub.admin('DELETE', `${OP}/bill-plans/${created.body.plan.planId}/subjects/${encodeURIComponent(IF1)}`);
  const fresh = (await hub.admin('GET', `${OP}/bills/1`)).body;

  // A bill as the hub stored it before issue 12: no `slots`.
  const key = 'billing/bill/isp1/0000000001';
  const stored = decodeJson<Record<string, any>>((await hub.kv.get(key))!);
  delete stored.slots;
  await hub.kv.write([{ type: 'put', key, value: encodeJson(stored) }]);
  const legacy = (await hub.admin('GET', `${OP}/bills/1`)).body;
  t.equal(legacy.bill.slots, undefined);
  t.equal(legacy.explanation.source, 'derived');
  t.same(legacy.explanation.slots, fresh.bill.slots, 'the same figures, from the older fields');
  t.same(legacy.explanation.steps, fresh.explanation.steps, 'the same explanation');

  // Older still: only what every bill has; presence comes from the stored samples.
  for (const f of ['subjectReportedSlots', 'coverageSlots', 'rankedSamples', 'discardedSamples']) delete stored[f];
  delete stored.charge.billedSlots;
  delete stored.charge.cycleSlots;
  await hub.kv.write([{ type: 'put', key, value: encodeJson(stored) }]);
  const oldest = (await hub.admin('GET', `${OP}/bills/1`)).body.explanation;
  t.same(oldest.slots, { ...fresh.bill.slots, edgeReportedSlots: null }, 'from the samples; the collectors\' coverage was not recorded');
  t.match(oldest.steps.join('\n'), /reported for 9 of them \(coverage 75\.00 %\)\. The other 3 slots had no report/);
  const csv = (await hub.admin('GET', `${OP}/bills/1/summary.csv`)).body as string;
  t.match(csv, /\r\ncollector_reported_slots,not recorded\r\n/);
  t.match(csv, /\r\nsamples_zero_filled,3\r\n/);
  const text = (await hub.pdfText(1)).replace(/\s+/g, ' ');
  t.ok(text.includes('the operator\'s collectors reported in not recorded'), 'PDF renders, says what is missing');
  t.ok(text.includes('How this amount was computed'));
});

t.test('a whole cycle without a single sample: every slot zero-filled, base price, no proration (KWD, 3 decimals)', async (t) => {
  const hub = await hubWithBilling('2026-11-01T00:00:00Z');
  t.teardown(() => hub.close());
  await hub.put(IF2, sec('2026-11-05T00:00:00Z'), Array(100).fill(5000), Array(100).fill(5000));
  const created = await hub.admin('POST', `${OP}/bill-plans`, { ...plan, currency: 'KWD', baseCostMinor: 12_345, additionalCostMinor: 1_001, subjectIds: [IF1] });
  t.equal(created.status, 201);
  hub.clock.setMs(Date.parse('2026-12-01T01:00:00Z'));
  await hub.billing.runDueJobs(hub.clock.nowMs());
  await hub.relogin();
  const { bill, explanation } = (await hub.admin('GET', `${OP}/bills/1`)).body;
  t.same(bill.slots, {
    spanSlots: 8640, presentSlots: 0, zeroFilledSlots: 8640, coveragePercent: 0, edgeReportedSlots: 100,
    rankedSamples: 17280, droppedSamples: 864, takenRank: 865, billedSlots: 8640, cycleSlots: 8640,
  });
  t.equal(bill.charge.amountMinor, 12_345);
  t.equal(explanation.prorated, false);
  const steps = explanation.steps.join('\n');
  t.match(steps, /reported for 0 of them \(coverage 0\.00 %\)\. The other 8640 slots had no report and count as zero traffic\./);
  t.match(steps, /0 bps is not above the included 1 Mbps, so a full cycle costs the base price: 12\.345 KWD\./);
  t.match(steps, /in the plan for the whole billing cycle \(8640 slots\), so the amount is the full cycle's: 12\.345 KWD\./);
  const text = (await hub.pdfText(1)).replace(/\s+/g, ' ');
  t.ok(text.includes('8640 of 8640 five-minute slots'), 'PDF: the share of the cycle');
  t.notOk(text.includes('(prorated)'));
});

t.test('wording: separate ranking, fewer than 20 samples, one sample set aside, JPY', async (t) => {
  const tariff = { effectiveFromSec: 0, currency: 'JPY', baseSpeedBps: 1_000, baseCostMinor: 1000, additionalSpeedBps: 1_000, additionalCostMinor: 7, percentileMethod: 'separate' as const };
  const samplesOf = (n: number): BillSamples => ({
    firstSlotSec: 0, bytesIn: Float64Array.from({ length: n }, (_, i) => (i + 1) * 1000), bytesOut: new Float64Array(n), reported: new Uint8Array(n).fill(1),
  });
  const billOf = (n: number) => computeBill({
    plan: { operatorId: 'isp1', planId: 'p', name: 'P', emails: [] }, tariff, cycle: { startSec: 0, endSec: 300 * 8640 },
    span: { startSec: 0, endSec: n * 300 }, subjectId: IF1, reason: 'subject_removed', samples: samplesOf(n), billNo: 1, generatedAtMs: 0,
  });
  const few = explainBill(billOf(7)).steps.join('\n');
  t.match(few, /ranked separately: 7 samples each/);
  t.match(few, /With fewer than 20 samples none is set aside, so the highest one is the 95th percentile of that direction: in 186\.667 bps, out 0 bps\. The higher one is billed/);
  t.match(few, /every slot \(coverage 100 %\)/);
  const twenty = explainBill(billOf(20));
  t.match(twenty.steps.join('\n'), /The highest sample of each \(5 %: 20 ÷ 20, rounded down\) is set aside; the next one, number 2 from the top/);
  t.match(twenty.steps.join('\n'), /rounded to the nearest 1 JPY \(a half rounds up\)/);
  t.equal(twenty.slots.takenRank, 2);
});
