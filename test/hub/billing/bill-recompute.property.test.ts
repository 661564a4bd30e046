/**
 * Issue 12: "a property-based test (fast-check) that recomputes any bill from its stored samples and
 * price history and gets the same amount to the minor unit."
 *
 * Arbitrary plans (monthly or quarterly, any generation day, currencies with 0, 2 and 3 decimals, base
 * fee, base speed, per-block price, merge or separate), arbitrary 5-minute samples with gaps, price
 * changes made mid-life with PATCH (they apply from the next cycle), subjects that join late, are
 * removed or unmanaged at arbitrary instants (partial cycles), and bill runs at arbitrary times. The
 * bills come from the real code path: routes, service, store and sample codec of the billing module,
 * over the hub's real summary store (bulk slot reads) on a memory KV, with a manual clock.
 *
 * Each bill is then recomputed here by a separate, deliberately plain implementation of the written
 * rules (NOTES "Billing" and hub/billing/percentile.ts): sort the samples, drop floor(n/20), take the
 * next; blocks = ceil(excess / block) in exact bits; prorate by slots; round half up once; all in
 * BigInt. The price is the one in force by this test's own record of the PATCHes (a change made at t
 * applies to cycles starting after t), the cycle boundaries come from a plain calendar function, and
 * the samples are checked against what the test fed in. Reproduce a failure with FC_SEED=<seed>.
 */
import t from 'tap';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { createBillingModule } from '../../../hub/billing/billing-module';
import { createKvSummaryStore } from '../../../hub/store/kv-summary-store';
import type { Principal } from '../../../hub/http/principal';
import { createTestApp } from '../../helpers/test-app';
import type Koa from 'koa';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const SLOT = 300;
const GRACE_SEC = 900;
const DAY = 86_400;
const EXPONENT: Record<string, number> = { JPY: 0, USD: 2, EUR: 2, KWD: 3, BHD: 3 };
const admin: Principal = { userId: 'u1', username: 'admin1', role: 'operator_admin', operatorId: 'isp1' };
const S1 = 'if:10.0.0.1/1';
const S2 = 'ipg:cust-b';

// ---- generators --------------------------------------------------------------------------------

/** Log-uniform-ish integers: as many small values as large ones (a speed of 2 kbps and of 9 Gbps). */
const magnitude = (minDigits: number, maxDigits: number) =>
  fc.integer({ min: minDigits, max: maxDigits }).chain((d) => fc.integer({ min: d === 0 ? 0 : 10 ** (d - 1), max: 10 ** d }));

const tariffArb = fc.record({
  currency: fc.constantFrom(...Object.keys(EXPONENT)),
  baseSpeedBps: magnitude(3, 10),
  baseCostMinor: fc.oneof(fc.constant(0), magnitude(1, 8)),
  additionalSpeedBps: magnitude(3, 9),
  additionalCostMinor: fc.oneof(fc.constant(0), magnitude(1, 6)),
  percentileMethod: fc.constantFrom('merge' as const, 'separate' as const),
});
type TariffFields = typeof tariffArb extends fc.Arbitrary<infer T> ? T : never;

/** A stretch of reported slots: a level with some spread, every k-th slot missing (gaps). */
const segmentArb = fc.record({
  atPermille: fc.integer({ min: -50, max: 1000 }),
  lengthSlots: fc.integer({ min: 1, max: 700 }),
  bytesIn: magnitude(0, 11),
  bytesOut: magnitude(0, 11),
  spreadPermille: fc.integer({ min: 0, max: 1000 }),
  gapEvery: fc.integer({ min: 0, max: 6 }),
});
type Segment = typeof segmentArb extends fc.Arbitrary<infer T> ? T : never;

/** Or traffic through the whole story (a day before the plan to its end), so long cycles have a 95th above zero too. */
const subjectTrafficArb = fc.record({
  background: fc.option(segmentArb.map((seg) => ({ ...seg, atPermille: 0, lengthSlots: 0 }))),
  segments: fc.array(segmentArb, { maxLength: 4 }),
});

const scenarioArb = fc.record({
  billingPeriod: fc.constantFrom('monthly' as const, 'quarterly' as const),
  generationDay: fc.integer({ min: 1, max: 31 }),
  t0Sec: fc.integer({ min: Date.UTC(2025, 0, 1) / 1000, max: Date.UTC(2027, 11, 31) / 1000 }),
  durationSec: fc.integer({ min: 3600, max: 100 * DAY }),
  tariff: tariffArb,
  patches: fc.array(fc.record({ atPermille: fc.integer({ min: 1, max: 1000 }), tariff: tariffArb }), { maxLength: 3 }),
  s1: fc.record({ traffic: subjectTrafficArb, removeAtPermille: fc.option(fc.integer({ min: 1, max: 1200 })) }),
  s2: fc.option(fc.record({
    addAtPermille: fc.integer({ min: 1, max: 900 }),
    traffic: subjectTrafficArb,
    unmanageAtPermille: fc.option(fc.integer({ min: 1, max: 1200 })),
  })),
  runsAtPermille: fc.array(fc.integer({ min: 1, max: 999 }), { maxLength: 2 }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

// ---- the independent rules ---------------------------------------------------------------------

/** 00:00 UTC of the generation day in month m0 of year y, clamped to the month's last day. */
function boundarySec(y: number, m0: number, day: number): number {
  const last = new Date(Date.UTC(y, m0 + 1, 0)).getUTCDate();
  return Date.UTC(y, m0, Math.min(day, last)) / 1000;
}

/** Every cycle boundary from a few months before fromSec to a few after toSec, ascending. */
function boundaries(period: 'monthly' | 'quarterly', day: number, fromSec: number, toSec: number): number[] {
  const from = new Date(fromSec * 1000);
  const to = new Date(toSec * 1000);
  const out: number[] = [];
  for (let i = from.getUTCFullYear() * 12 + from.getUTCMonth() - 4; i <= to.getUTCFullYear() * 12 + to.getUTCMonth() + 4; i++) {
    const y = Math.floor(i / 12);
    const m0 = i - y * 12;
    if (period === 'quarterly' && m0 % 3 !== 0) continue;
    out.push(boundarySec(y, m0, day));
  }
  return out;
}

/** 95th by the rule's words: sort descending, drop floor(n/20), take the next (0 for no samples). */
function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => b - a);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 20)]!;
}

function expectedAmount(tariff: TariffFields, p95Bytes: number, billedSlots: number, cycleSlots: number) {
  const excessBits = BigInt(p95Bytes) * 8n - BigInt(tariff.baseSpeedBps) * BigInt(SLOT);
  const blockBits = BigInt(tariff.additionalSpeedBps) * BigInt(SLOT);
  const blocks = excessBits <= 0n ? 0n : excessBits / blockBits + (excessBits % blockBits === 0n ? 0n : 1n);
  const cycleAmount = BigInt(tariff.baseCostMinor) + blocks * BigInt(tariff.additionalCostMinor);
  const num = cycleAmount * BigInt(billedSlots);
  const den = BigInt(cycleSlots);
  const amount = num / den + (2n * (num % den) >= den ? 1n : 0n); // half up, once
  return { blocks: Number(blocks), cycleAmount: Number(cycleAmount), amount: Number(amount) };
}

function money(minor: number, currency: string): string {
  const e = EXPONENT[currency]!;
  const digits = String(minor).padStart(e + 1, '0');
  return `${e === 0 ? digits : `${digits.slice(0, -e)}.${digits.slice(-e)}`} ${currency}`;
}

/** Bytes per slot of a segment's i-th slot, or undefined in its gaps. Integers, so exact. */
function segmentSlot(seg: Segment, i: number): [number, number] | undefined {
  if (seg.gapEvery > 0 && i % seg.gapEvery === seg.gapEvery - 1) return undefined;
  const wobble = ((i * 7919) % 1000) * seg.spreadPermille; // 0 … 999,000: ties and distinct values both occur
  return [Math.floor((seg.bytesIn * (1_000_000 + wobble)) / 1_000_000), Math.floor((seg.bytesOut * (1_000_000 - wobble / 2)) / 1_000_000)];
}

// ---- one scenario through the billing module ---------------------------------------------------


/** How many bills showed each feature: the generators must reach every case, not only the easy ones. */
const reached = { aboveBase: 0, prorated: 0, zeroFilled: 0, fullyCovered: 0, laterPrice: 0, separate: 0, quarterly: 0, roundedUp: 0 };

async function runScenario(sc: Scenario, server: { app?: Koa; url?: string }): Promise<number> {
  const { t0Sec, durationSec } = sc;
  const endSec = t0Sec + durationSec;
  const at = (permille: number) => t0Sec + Math.floor((durationSec * permille) / 1000);
  const clock = createManualClock(t0Sec * 1000);
  // The KV series engine itself (a complete SeriesReader): seeding through applyBatch (dedup records,
  // outbox) made this property test 4x slower and it tests billing, not ingest.
  const summaries = createKvSummaryStore(createMemoryKvStore());
  const billing = createBillingModule({
    kv: createMemoryKvStore(), clock, log: silentLogger, seriesReader: summaries, startJobs: false, graceSec: GRACE_SEC,
    mailer: { send: async () => ({ id: 'x' }) }, renderPdf: async () => new Uint8Array(0),
  });
  server.app = createTestApp(billing.routers);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1/operators/isp1${path}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'x-test-principal': JSON.stringify(admin), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    const json = await res.json() as any;
    assert.ok(res.status < 300, `${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  // The samples fed in, by subject and slot start: the truth the stored samples must show.
  const fed = new Map<string, Map<number, [number, number]>>([[S1, new Map()], [S2, new Map()]]);
  const feed = async (subjectId: string, traffic: Scenario['s1']['traffic']) => {
    const firstSlot = Math.floor(t0Sec / SLOT) * SLOT;
    const horizon = Math.ceil(durationSec / SLOT);
    const points = fed.get(subjectId)!;
    const all = traffic.background ? [{ ...traffic.background, atPermille: 0, lengthSlots: horizon + 2 * 288 }] : [];
    for (const seg of [...all, ...traffic.segments]) {
      const startSlot = seg === all[0] ? firstSlot - 288 * SLOT : firstSlot + Math.floor((horizon * seg.atPermille) / 1000) * SLOT;
      for (let i = 0; i < seg.lengthSlots; i++) {
        const v = segmentSlot(seg, i);
        if (v) points.set(startSlot + i * SLOT, v); // a later segment overwrites an earlier one's slot
      }
    }
    const batch = [...points].map(([bucketStartSec, [bytesIn, bytesOut]]) => ({
      subjectId, kind: subjectId.startsWith('if:') ? 'interface' as const : 'ip_group' as const, bucketStartSec,
      bytesIn, bytesOut, packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1,
    }));
    if (batch.length) await summaries.add('isp1', batch);
  };
  await feed(S1, sc.s1.traffic);
  if (sc.s2) await feed(S2, sc.s2.traffic);

  // The price history as this test made it: [madeAtSec, tariff], creation first.
  const history: [number, TariffFields][] = [[t0Sec, sc.tariff]];
  const associations = new Map<string, { fromSec: number; toSec?: number; reason?: string }>([[S1, { fromSec: t0Sec }]]);
  const plan = (await api('POST', '/bill-plans', {
    name: 'Property plan', billingPeriod: sc.billingPeriod, generationDay: sc.generationDay, emails: '', subjectIds: [S1], ...sc.tariff,
  })).plan;

  type Event = { atSec: number; run: () => Promise<void> };
  const events: Event[] = [];
  for (const p of sc.patches) {
    events.push({ atSec: at(p.atPermille), run: async () => { await api('PATCH', `/bill-plans/${plan.planId}`, p.tariff); history.push([at(p.atPermille), p.tariff]); } });
  }
  if (sc.s1.removeAtPermille !== null) {
    // at least 10 minutes in the plan: a piece shorter than a slot may legitimately make no bill
    const removeSec = Math.max(at(sc.s1.removeAtPermille), t0Sec + 600);
    if (removeSec <= endSec) {
      events.push({ atSec: removeSec, run: async () => {
        await api('DELETE', `/bill-plans/${plan.planId}/subjects/${encodeURIComponent(S1)}`);
        Object.assign(associations.get(S1)!, { toSec: removeSec, reason: 'subject_removed' });
      } });
    }
  }
  if (sc.s2) {
    const addSec = at(sc.s2.addAtPermille);
    events.push({ atSec: addSec, run: async () => { await api('POST', `/bill-plans/${plan.planId}/subjects`, { subjectId: S2 }); associations.set(S2, { fromSec: addSec }); } });
    if (sc.s2.unmanageAtPermille !== null) {
      const goneSec = Math.max(at(sc.s2.unmanageAtPermille), addSec + 600);
      if (goneSec <= endSec) {
        events.push({ atSec: goneSec, run: async () => {
          await billing.unmanageSubject('isp1', S2);
          Object.assign(associations.get(S2)!, { toSec: goneSec, reason: 'subject_unmanaged' });
        } });
      }
    }
  }
  for (const p of sc.runsAtPermille) events.push({ atSec: at(p), run: async () => { await billing.runDueJobs(clock.nowMs()); } });
  events.sort((a, b) => a.atSec - b.atSec); // stable: same-instant events keep their order
  for (const e of events) {
    clock.setMs(e.atSec * 1000);
    await e.run();
  }
  clock.setMs(endSec * 1000);
  await billing.runDueJobs(endSec * 1000);

  // ---- every bill, recomputed ----
  const cuts = boundaries(sc.billingPeriod, sc.generationDay, t0Sec, endSec);
  const list = (await api('GET', '/bills?limit=5000')).bills as { billNo: number }[];
  const seen = new Map<string, { spanStartSec: number; spanEndSec: number; reason: string; cycleStartSec: number }[]>();
  for (const { billNo } of list) {
    const { bill, explanation } = await api('GET', `/bills/${billNo}`);
    const samples = (await billing.store.getSamples('isp1', billNo))!;
    const where = `bill ${billNo} (${bill.subjectId}, ${bill.spanStartSec}–${bill.spanEndSec})`;

    // the cycle is one of the calendar's, the span inside it
    const ci = cuts.indexOf(bill.cycleStartSec);
    assert.ok(ci >= 0 && cuts[ci + 1] === bill.cycleEndSec, `${where}: cycle ${bill.cycleStartSec}–${bill.cycleEndSec} is not a ${sc.billingPeriod} cycle of day ${sc.generationDay}`);
    assert.ok(bill.cycleStartSec <= bill.spanStartSec && bill.spanEndSec <= bill.cycleEndSec, `${where}: span outside its cycle`);

    // the stored samples: the span's slots, each exactly what was fed in or a zero-filled gap
    const n = samples.bytesIn.length;
    assert.equal(samples.firstSlotSec, Math.floor(bill.spanStartSec / SLOT) * SLOT, `${where}: first slot`);
    assert.ok(samples.firstSlotSec + (n - 1) * SLOT < bill.spanEndSec, `${where}: a slot after the span`);
    assert.ok(samples.firstSlotSec + n * SLOT >= Math.floor(bill.spanEndSec / SLOT) * SLOT, `${where}: a slot of the span left out`);
    const points = fed.get(bill.subjectId)!;
    const bytesIn: number[] = [];
    const bytesOut: number[] = [];
    let present = 0;
    for (let i = 0; i < n; i++) {
      const v = points.get(samples.firstSlotSec + i * SLOT);
      assert.equal(samples.reported[i], v ? 1 : 0, `${where}: slot ${i} reported`);
      assert.equal(samples.bytesIn[i], v ? v[0] : 0, `${where}: slot ${i} bytes in`);
      assert.equal(samples.bytesOut[i], v ? v[1] : 0, `${where}: slot ${i} bytes out`);
      bytesIn.push(samples.bytesIn[i]!);
      bytesOut.push(samples.bytesOut[i]!);
      if (samples.reported[i]) present++;
    }

    // the price in force: the last change made before the cycle started, else the plan's first price
    let tariff = history[0]![1];
    for (const [madeAtSec, tf] of history.slice(1)) if (madeAtSec < bill.cycleStartSec) tariff = tf;
    for (const [k, v] of Object.entries(tariff)) assert.equal(bill.tariff[k], v, `${where}: tariff ${k}`);

    // the amount, recomputed
    const merge = tariff.percentileMethod === 'merge';
    const p95Bytes = merge ? p95([...bytesIn, ...bytesOut]) : Math.max(p95(bytesIn), p95(bytesOut));
    const cycleSlots = (bill.cycleEndSec - bill.cycleStartSec) / SLOT;
    const want = expectedAmount(tariff, p95Bytes, n, cycleSlots);
    assert.equal(bill.p95Bytes, p95Bytes, `${where}: 95th (bytes per slot)`);
    assert.equal(bill.charge.additionalBlocks, want.blocks, `${where}: blocks`);
    assert.equal(bill.charge.cycleAmountMinor, want.cycleAmount, `${where}: cycle amount`);
    assert.equal(bill.charge.amountMinor, want.amount, `${where}: amount (minor units)`);
    assert.equal(bill.charge.currency, tariff.currency, `${where}: currency`);

    // the slot accounting shown on the bill adds up, and the explanation ends on the amount
    const ranked = merge ? 2 * n : n;
    const slots = {
      spanSlots: n, presentSlots: present, zeroFilledSlots: n - present, coveragePercent: Math.floor((present * 10_000) / n) / 100,
      edgeReportedSlots: bill.slots.edgeReportedSlots, rankedSamples: ranked, droppedSamples: Math.floor(ranked / 20),
      takenRank: Math.floor(ranked / 20) + 1, billedSlots: n, cycleSlots,
    };
    assert.deepEqual(bill.slots, slots, `${where}: slot accounting`);
    assert.equal(bill.slots.presentSlots + bill.slots.zeroFilledSlots, bill.slots.spanSlots, `${where}: present + zero-filled = slots`);
    assert.ok(bill.slots.edgeReportedSlots >= present && bill.slots.edgeReportedSlots <= n, `${where}: collectors' coverage`);
    assert.deepEqual(explanation.slots, slots, `${where}: explanation's figures`);
    assert.equal(explanation.prorated, n < cycleSlots);
    assert.ok(explanation.steps.at(-1).endsWith(`: ${money(want.amount, tariff.currency)}.`), `${where}: explanation ends "${explanation.steps.at(-1)}"`);

    if (want.blocks > 0) reached.aboveBase++;
    if (n < cycleSlots) reached.prorated++;
    if (present < n) reached.zeroFilled++;
    if (present === n) reached.fullyCovered++;
    if (tariff !== history[0]![1]) reached.laterPrice++;
    if (!merge) reached.separate++;
    if (sc.billingPeriod === 'quarterly') reached.quarterly++;
    if ((BigInt(want.cycleAmount) * BigInt(n)) % BigInt(cycleSlots) * 2n >= BigInt(cycleSlots)) reached.roundedUp++;

    const pieces = seen.get(bill.subjectId) ?? [];
    pieces.push({ spanStartSec: bill.spanStartSec, spanEndSec: bill.spanEndSec, reason: bill.reason, cycleStartSec: bill.cycleStartSec });
    seen.set(bill.subjectId, pieces);
  }

  // ---- the bills are exactly the due pieces of each association (no gap, no overlap, no double) ----
  for (const [subjectId, a] of associations) {
    const want: { spanStartSec: number; spanEndSec: number; reason: string; cycleStartSec: number }[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [cs, ce] = [cuts[i]!, cuts[i + 1]!];
      const s = Math.max(cs, a.fromSec);
      const e = Math.min(ce, a.toSec ?? Infinity);
      if (e <= s) continue;
      const endsWithCycle = e === ce;
      const dueSec = endsWithCycle ? ce + GRACE_SEC : e;
      if (dueSec > endSec) continue;
      want.push({ spanStartSec: s, spanEndSec: e, reason: endsWithCycle ? 'cycle_end' : a.reason!, cycleStartSec: cs });
    }
    const got = (seen.get(subjectId) ?? []).sort((x, y) => x.spanStartSec - y.spanStartSec);
    const long = (p: { spanStartSec: number; spanEndSec: number }) => p.spanEndSec - p.spanStartSec >= SLOT; // shorter pieces may have no slot
    assert.deepEqual(got.filter(long), want.filter(long), `${subjectId}: the bills made`);
  }
  return list.length;
}

t.test('any bill recomputes from its stored samples and the price in force, to the minor unit', async (t) => {
  // One HTTP server for the whole test, serving the current scenario's app (a server per request was most of the time).
  const server: { app?: Koa; url?: string } = {};
  const http = createServer((req, res) => void server.app!.callback()(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  t.teardown(() => new Promise<void>((resolve) => { http.closeAllConnections(); http.close(() => resolve()); }));
  let bills = 0;
  let runs = 0;
  const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
  await fc.assert(fc.asyncProperty(scenarioArb, async (sc) => { runs++; bills += await runScenario(sc, server); }), {
    numRuns: Number(process.env.FC_RUNS ?? 200), ...(seed === undefined ? {} : { seed }),
  });
  t.pass(`${runs} scenarios, ${bills} bills recomputed`);
  t.ok(bills >= runs / 2, 'scenarios make bills (the generators do not miss the point)');
  for (const [k, v] of Object.entries(reached)) t.ok(v > 0, `bills reached: ${k} (${v})`);
});
