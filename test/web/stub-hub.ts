/**
 * A Koa server for the web UI's browser tests: the real web router (createWebRouter) plus STUB API
 * routes answering canned JSON in the shapes the hub's routers return (hub/edges, hub/store,
 * hub/billing, hub/commerce, hub/identity, customer view), so UI tests do not need the whole hub.
 * Sessions are a cookie holding the username; the stub keeps the add-on state so actions show.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMiddleware } from '../../hub/http/error-middleware';
import { csrfGuard } from '../../hub/http/csrf-guard';
import { securityHeaders } from '../../hub/http/security-headers';
import { hubError } from '../../hub/errors';
import { silentLogger } from '../../common/logger';
import type { Principal } from '../../hub/http/principal';
import { assertOperatorAccess, principalOf } from '../../hub/http/principal';
import { createWebRouter } from '../../web/serve-web';
import type { Bill } from '../../hub/billing/bill';
import { explainBill } from '../../hub/billing/bill-explanation';
// The real averaging and live-flow query (issue 11, H5), so the stub cannot drift from the hub's shapes.
import { coveredAverage } from '../../hub/store/series-routes';
import { queryLiveFlows, readLiveFilter } from '../../hub/edges/live-flows-query';
import type { EdgesResponse } from '../../common/api/edges';

export const OPERATOR_ID = 'isp-one';
/** The browser's clock is pinned here (Playwright clock), and the stub's data is laid out around it. */
export const NOW_MS = Date.UTC(2026, 10, 23, 12, 0, 0);
const SLOT = 300;

const USERS: Record<string, { password: string; principal: Principal }> = {
  alice: { password: 'alice-pw', principal: { userId: 'u1', username: 'alice', role: 'operator_admin', operatorId: OPERATOR_ID } },
  root: { password: 'root-pw', principal: { userId: 'u0', username: 'root', role: 'super_admin' } },
  'cust-7': { password: 'cust-pw', principal: { userId: 'customer:cust-7', username: 'cust-7', role: 'customer', operatorId: OPERATOR_ID, customerLogin: 'cust-7' } },
};

/** A daily wave with a busy evening: deterministic so screenshots are comparable run to run. */
function bytesAt(slotSec: number, scale: number): number {
  const hour = (slotSec % 86400) / 3600;
  const bps = scale * (0.35 + 0.25 * Math.sin(((hour - 8) / 24) * 2 * Math.PI) + 0.08 * Math.sin(slotSec / 2000));
  return Math.round((Math.max(0, bps) * SLOT) / 8);
}

function seriesPoints(fromSec: number, toSec: number, scale: number) {
  const points = [];
  const nowSec = Math.floor(NOW_MS / 1000);
  for (let t = Math.ceil(fromSec / SLOT) * SLOT; t < Math.min(toSec, nowSec); t += SLOT) {
    const bytesIn = bytesAt(t, scale);
    const bytesOut = bytesAt(t + 7200, scale * 0.4);
    points.push({ bucketStartSec: t, bytesIn, bytesOut, packetsIn: Math.round(bytesIn / 900), packetsOut: Math.round(bytesOut / 700), flowsIn: 40, flowsOut: 30, bpsIn: Math.round((bytesIn * 8) / SLOT), bpsOut: Math.round((bytesOut * 8) / SLOT) });
  }
  return points;
}

const SUBJECTS = [
  { subjectId: 'if:192.0.2.1/3', kind: 'interface', label: 'Transit A (xe-0/0/1)', scale: 900e6 },
  { subjectId: 'ipg:hosting-dc1', kind: 'ip_group', label: 'Hosting DC1', scale: 420e6 },
  { subjectId: 'if:192.0.2.1/7', kind: 'interface', label: 'Peering IX', scale: 250e6 },
  { subjectId: 'ipg:cust-7-vps', kind: 'ip_group', label: 'Customer 7 VPS', scale: 12e6 },
];

// A 31-day October bill: 8928 slots, the top floor(8928/20) = 446 discarded.
const BILL_START = Date.UTC(2026, 9, 1) / 1000;
const BILL_END = Date.UTC(2026, 10, 1) / 1000;

function billSamples() {
  const n = (BILL_END - BILL_START) / SLOT;
  const slotStartSec: number[] = [];
  const bytesIn: number[] = [];
  const bytesOut: number[] = [];
  const reported: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = BILL_START + i * SLOT;
    slotStartSec.push(t);
    const gap = i >= 3000 && i < 3012; // an hour the subject was not reported
    bytesIn.push(gap ? 0 : bytesAt(t, 420e6));
    bytesOut.push(gap ? 0 : bytesAt(t + 7200, 160e6));
    reported.push(gap ? 0 : 1);
  }
  return { n, slotStartSec, bytesIn, bytesOut, reported };
}

function p95Of(values: number[]): number {
  // 95th as NOTES define it: sort, drop floor(n/20), take the highest remaining.
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length - 1 - Math.floor(sorted.length / 20)]!;
}

export interface StubHub {
  url: string;
  /** How many times each stub route was called (path → count), for assertions on refreshes. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

export async function startStubHub(): Promise<StubHub> {
  const calls = new Map<string, number>();
  const sessions = new Map<string, Principal>();
  const addon = { name: 'NetFlow Traffic Analysis', visible: true, status: 'none', trial: null as { startedAtMs: number; endsAtMs: number } | null, paid: null, trialUsed: false, renew: false, daysLeft: null as number | null, eligible: true, percentOfFee: 50, priceMonthlyMinor: 14950, collection: { allowed: false, reason: 'NetFlow add-on not started' } };
  let liveTick = 0;
  const samples = billSamples();
  const toBps = (bytes: number) => Math.round((bytes * 8) / SLOT);
  const p95In = toBps(p95Of(samples.bytesIn));
  const p95Out = toBps(p95Of(samples.bytesOut));

  const app = new Koa();
  // The hub's own security headers (CSP…) and CSRF guard, so the pages are tested under both.
  app.use(securityHeaders());
  app.use(errorMiddleware(silentLogger));
  app.use(csrfGuard({ publicUrl: 'http://127.0.0.1' }));
  app.use(bodyParser({ enableTypes: ['json'] }));
  app.use(async (ctx, next) => {
    const token = ctx.cookies.get('fb_session');
    const p = token ? sessions.get(token) : undefined;
    if (p) ctx.state.principal = p;
    if (ctx.path.startsWith('/api/')) calls.set(ctx.path, (calls.get(ctx.path) ?? 0) + 1);
    await next();
  });

  const api = new Router({ prefix: '/api/v1' });
  api.post('/login', (ctx) => {
    const { username, password } = ctx.request.body as { username?: string; password?: string };
    const u = username ? USERS[username] : undefined;
    if (!u || u.password !== password) throw hubError('INVALID_CREDENTIALS', 'wrong username or password');
    const token = `t-${username}-${sessions.size}`;
    sessions.set(token, u.principal);
    ctx.cookies.set('fb_session', token, { httpOnly: true, sameSite: 'strict' });
    ctx.body = { token, principal: u.principal, expiresAtMs: NOW_MS + 3600_000 };
  });
  api.post('/logout', (ctx) => {
    const token = ctx.cookies.get('fb_session');
    if (token) sessions.delete(token);
    ctx.cookies.set('fb_session', '', { expires: new Date(0) });
    ctx.body = { ok: true };
  });
  api.get('/me', (ctx) => { ctx.body = { principal: principalOf(ctx) }; });
  // As the hub's (identity-routes.ts): 200 with principal null when nobody is logged in.
  api.get('/session', (ctx) => { ctx.body = { principal: ctx.state.principal ?? null, mustChangePassword: false }; });
  api.get('/operators', (ctx) => {
    principalOf(ctx);
    ctx.body = { operators: [{ operatorId: OPERATOR_ID, name: 'ISP One', createdAtMs: NOW_MS - 90 * 86400_000 }] };
  });

  const op = '/operators/:operatorId';
  api.get(`${op}/top-subjects`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const fromSec = Number(ctx.query.fromSec);
    const toSec = Number(ctx.query.toSec);
    ctx.body = {
      fromSec, toSec, q: '', offset: 0, limit: 10, total: SUBJECTS.length,
      subjects: SUBJECTS.map((s) => {
        const pts = seriesPoints(fromSec, toSec, s.scale);
        const sum = (f: 'bytesIn' | 'bytesOut') => pts.reduce((a, p) => a + p[f], 0);
        return { subjectId: s.subjectId, kind: s.kind, label: s.label, bytesIn: sum('bytesIn'), bytesOut: sum('bytesOut'), bytesTotal: sum('bytesIn') + sum('bytesOut'), peakBpsIn: Math.max(...pts.map((p) => p.bpsIn)), peakBpsOut: Math.max(...pts.map((p) => p.bpsOut)), ...coveredAverage(pts as never) };
      }),
    };
  });
  api.get(`${op}/subjects/:subjectId/series`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const s = SUBJECTS.find((x) => x.subjectId === ctx.params.subjectId);
    if (!s) throw hubError('NOT_FOUND', `no subject ${ctx.params.subjectId}`);
    const fromSec = Number(ctx.query.fromSec);
    const toSec = Number(ctx.query.toSec);
    const points = seriesPoints(fromSec, toSec, s.scale);
    ctx.body = { subjectId: s.subjectId, fromSec, toSec, bucketSec: SLOT, points, ...coveredAverage(points as never) };
  });
  let edgePolls = 0;
  api.get(`${op}/edges`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    // Each poll sees a newer status of 192.0.2.1: 10 s later, 125 MB more (= 100 Mbps).
    const poll = edgePolls++;
    const counters = (gaps: number, rejected: number) => ({
      packetsReceived: 182_331, flowsDecoded: 5_120_004, decodeErrors: 2, templateMisses: 14, pendingExpired: 0, sequenceGaps: gaps, outboxDepth: 1, outboxBytes: 2048, outboxDropped: 0,
      batchesPublished: 8801, batchesAcked: 8800, lateFlows: 3, unclassifiedFlows: 120, batchesRejected: rejected, flowsOutOfBounds: rejected ? 1_204 : 0, tableEvictions: rejected ? 3 : 0,
      internalErrors: 0, storeWriteErrors: 0, datagramsDropped: 0,
    });
    ctx.body = {
      edges: [
        { edgeId: 'edge-fra-1', operatorId: OPERATOR_ID, name: 'Frankfurt PoP', revoked: false, createdAtMs: NOW_MS - 40 * 86400_000, credentialsIssuedAtMs: NOW_MS - 40 * 86400_000,
          status: { state: 'online', online: true, lastSeenMs: NOW_MS - 12_000, session: 4, softwareVersion: '0.1.0', configVersion: 12, collectionPaused: false, counters: counters(37, 2),
            exporters: [
              { address: '192.0.2.1', netflowVersion: 9, packets: 120_000, flows: 3_400_000 + poll * 5_000, sequenceGaps: 37, lastSeenMs: NOW_MS - 2_000 + poll * 10_000, templates: 3, samplingRate: 1000, bytes: 9_800_000_000 + poll * 125_000_000, flowsOutOfBounds: 0 },
              { address: '198.51.100.9', netflowVersion: 10, packets: 61_000, flows: 1_700_000, sequenceGaps: 0, lastSeenMs: NOW_MS - 3_000, templates: 0, samplingRate: 1, bytes: 2_100_000_000, flowsOutOfBounds: 0 },
            ] } },
        { edgeId: 'edge-ams-2', operatorId: OPERATOR_ID, name: 'Amsterdam PoP', revoked: false, createdAtMs: NOW_MS - 20 * 86400_000, credentialsIssuedAtMs: NOW_MS - 20 * 86400_000,
          status: { state: 'offline', online: false, lastSeenMs: NOW_MS - 3 * 3600_000, session: 2, softwareVersion: '0.1.0', configVersion: 12, collectionPaused: false, counters: counters(0, 0),
            exporters: [{ address: '203.0.113.5', netflowVersion: 5, packets: 5_000, flows: 150_000, sequenceGaps: 0, lastSeenMs: NOW_MS - 3 * 3600_000, templates: 0, samplingRate: 1, bytes: 120_000_000, flowsOutOfBounds: 0 }] } },
      ],
    } satisfies EdgesResponse; // the real route's shape: the stub cannot drift from what sources.js reads
  });
  api.post(`${op}/enrollment-tokens`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId, ['super_admin', 'operator_admin']);
    ctx.status = 201;
    ctx.body = { token: 'fbe_stub-token-123', expiresAtMs: NOW_MS + 86400_000 };
  });
  api.get(`${op}/live-flows`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    liveTick++;
    const talkers = Array.from({ length: 8 }, (_, i) => ({
      src: `198.51.100.${10 + i}`, dst: i % 3 === 0 ? '2001:db8::42' : `203.0.113.${100 + i}`, protocol: i % 2 ? 17 : 6, srcPort: 443, dstPort: 50000 + i,
      bytes: 1_000_000 * (9 - i) + liveTick * 1000, packets: 900 * (9 - i), bitsPerSec: (9 - i) * 11_000_000 + liveTick * 1000 + (i === 0 ? liveTick * 5_000_000 : 0), exporter: '192.0.2.1',
    }));
    ctx.body = queryLiveFlows([{ edgeId: 'edge-fra-1', receivedAtMs: NOW_MS, flows: { edgeId: 'edge-fra-1', atMs: NOW_MS, windowSec: 10, talkers, samplingOneIn: 32 } }], readLiveFilter(ctx.query), []);
  });

  const tariff = { effectiveFromSec: 0, currency: 'USD', baseSpeedBps: 100_000_000, baseCostMinor: 50_000, additionalSpeedBps: 10_000_000, additionalCostMinor: 4_000, percentileMethod: 'separate' };
  const plan = { operatorId: OPERATOR_ID, planId: 'plan-1', name: 'Hosting DC1 burst', description: '', billingPeriod: 'monthly', generationDay: 1, emails: ['noc@isp.example'], tariffs: [tariff], associations: [{ subjectId: 'ipg:hosting-dc1', fromSec: BILL_START - 86400 * 60 }], createdAtMs: NOW_MS - 90 * 86400_000, updatedAtMs: NOW_MS - 90 * 86400_000 };
  const p95 = Math.max(p95In, p95Out);
  const blocks = Math.max(0, Math.ceil((p95 - tariff.baseSpeedBps) / tariff.additionalSpeedBps));
  const amountMinor = tariff.baseCostMinor + blocks * tariff.additionalCostMinor;
  const bill = {
    operatorId: OPERATOR_ID, billNo: 7, planId: 'plan-1', planName: plan.name, subjectId: 'ipg:hosting-dc1', reason: 'cycle_end',
    cycleStartSec: BILL_START, cycleEndSec: BILL_END, spanStartSec: BILL_START, spanEndSec: BILL_END, tariff, method: 'separate',
    n: samples.n, rankedSamples: samples.n, discardedSamples: Math.floor(samples.n / 20), coverageSlots: samples.n, subjectReportedSlots: samples.n - 12,
    p95InBps: p95In, p95OutBps: p95Out, p95Bps: p95, p95Bytes: Math.round((p95 * SLOT) / 8),
    charge: { additionalBlocks: blocks, cycleAmountMinor: amountMinor, billedSlots: samples.n, cycleSlots: samples.n, unroundedAmountMinor: String(amountMinor), amountMinor, currency: 'USD', rule: `base 500.00 USD up to 100 Mbps + ${blocks} × 40.00 USD per 10 Mbps above` },
    emails: plan.emails, generatedAtMs: Date.UTC(2026, 10, 1, 0, 10),
  };
  const summary = (b: typeof bill) => ({ billNo: b.billNo, planId: b.planId, planName: b.planName, subjectId: b.subjectId, reason: b.reason, spanStartSec: b.spanStartSec, spanEndSec: b.spanEndSec, cycleStartSec: b.cycleStartSec, cycleEndSec: b.cycleEndSec, p95Bps: b.p95Bps, amountMinor: b.charge.amountMinor, currency: b.charge.currency, generatedAtMs: b.generatedAtMs });
  const older = { ...summary(bill), billNo: 3, spanStartSec: Date.UTC(2026, 8, 1) / 1000, spanEndSec: BILL_START, cycleStartSec: Date.UTC(2026, 8, 1) / 1000, cycleEndSec: BILL_START, p95Bps: 96_400_000, amountMinor: 50_000, generatedAtMs: Date.UTC(2026, 9, 1, 0, 10) };
  api.get(`${op}/bill-plans`, (ctx) => { assertOperatorAccess(ctx, ctx.params.operatorId); ctx.body = { plans: [plan] }; });
  // The access-record editor's subject pickers (H3, issue 11): every subject with series, and the IP groups.
  api.get(`${op}/subjects`, (ctx) => { assertOperatorAccess(ctx, ctx.params.operatorId); ctx.body = { subjects: SUBJECTS.map(({ scale: _s, ...rest }) => ({ ...rest, firstSeenSec: 0, lastSeenSec: NOW_MS / 1000 })) }; });
  api.get(`${op}/ip-groups`, (ctx) => { assertOperatorAccess(ctx, ctx.params.operatorId); ctx.body = { ipGroups: [{ name: 'hosting-dc1', prefixes: ['198.51.100.0/24'] }, { name: 'cust-7-vps', prefixes: ['203.0.113.42/32'] }] }; });
  api.get(`${op}/bill-plans/available-subjects`, (ctx) => { assertOperatorAccess(ctx, ctx.params.operatorId); ctx.body = { subjects: SUBJECTS.filter((s) => s.subjectId !== 'ipg:hosting-dc1').map(({ scale: _s, ...rest }) => ({ ...rest, firstSeenSec: 0, lastSeenSec: NOW_MS / 1000 })) }; });
  // Oldest first on purpose: the page must sort most recent first itself.
  api.get(`${op}/bills`, (ctx) => { assertOperatorAccess(ctx, ctx.params.operatorId); ctx.body = { bills: [older, summary(bill)] }; });
  // Reports (H4, issue 11): the current cycle so far and the last bill run (shapes: common/api/bills.ts).
  api.get(`${op}/bill-plans/:planId/preview`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const asOfSec = Math.floor(NOW_MS / 300_000) * 300;
    ctx.body = { asOfSec, previews: [{
      planId: plan.planId, planName: plan.name, subjectId: 'ipg:hosting-dc1', cycleStartSec: BILL_END, cycleEndSec: Date.UTC(2026, 11, 1) / 1000, spanStartSec: BILL_END, asOfSec,
      method: 'separate', p95Bps: 112_000_000, p95InBps: 112_000_000, p95OutBps: 41_000_000, slotsSoFar: 6_500, slotsWithData: 6_498, coveragePercent: 99.96,
      amountSoFarMinor: 43_000, projectedAmountMinor: 58_000, projectedSlots: 8_640, cycleSlots: 8_640, additionalBlocks: 2, currency: 'USD',
    }] };
  });
  api.get(`${op}/bill-runs/latest`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    // Issue 10: a run stored by another hub, and a later check (another hub's turn) that found nothing due.
    ctx.body = {
      run: { startedAtMs: Date.UTC(2026, 10, 1, 0, 20), finishedAtMs: Date.UTC(2026, 10, 1, 0, 21), due: 1, done: 1, made: 1, failed: 0, mailed: 1, runAtMs: Date.UTC(2026, 10, 1, 0, 20), hubId: 'hub-2', updatedAtMs: Date.UTC(2026, 10, 1, 0, 21) },
      lastCheck: { runAtMs: Date.UTC(2026, 10, 1, 1, 20), startedAtMs: Date.UTC(2026, 10, 1, 1, 20), finishedAtMs: Date.UTC(2026, 10, 1, 1, 20), hubId: 'hub-3' },
    };
  });
  api.get(`${op}/bills/:billNo`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    if (ctx.params.billNo !== '7') throw hubError('NOT_FOUND', `no bill ${ctx.params.billNo}`);
    // The stub's bill has no `slots` (as one stored before issue 12): the hub derives the explanation.
    ctx.body = { bill, explanation: explainBill(bill as unknown as Bill), subjectBills: [older, summary(bill)] };
  });
  api.get(`${op}/bills/:billNo/graph`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    ctx.body = { graph: { slotStartSec: samples.slotStartSec, inBps: samples.bytesIn.map(toBps), outBps: samples.bytesOut.map(toBps), reported: samples.reported, p95Bps: p95, p95InBps: p95In, p95OutBps: p95Out, method: 'separate' } };
  });
  api.get(`${op}/bills/:billNo/data-points`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    ctx.body = { billNo: 7, n: samples.n, p95Bps: p95, dataPoints: samples.slotStartSec.map((t, i) => ({ slotStartSec: t, slotStartIso: new Date(t * 1000).toISOString(), bytesIn: samples.bytesIn[i], bytesOut: samples.bytesOut[i], inBps: toBps(samples.bytesIn[i]!), outBps: toBps(samples.bytesOut[i]!), reported: samples.reported[i] === 1 })) };
  });

  const subscriptionView = () => ({
    operatorId: OPERATOR_ID, currency: 'USD',
    tier: { tierId: 'mid', name: 'Mid', maxCustomers: 2000, monthlyFeeMinor: 29_900, netflowEligible: true, monthlyFee: '299.00' },
    activeCustomers: 812, overLimit: 'upgrade', period: { key: '2026-11', startMs: Date.UTC(2026, 10, 1), endMs: Date.UTC(2026, 11, 1) },
    addon: { ...addon },
    notices: addon.status === 'trial' ? [{ atMs: NOW_MS, code: 'TRIAL_STARTED', text: 'NetFlow Traffic Analysis trial started; it ends on 2026-12-08.' }] : [],
    nextInvoicePreview: { operatorId: OPERATOR_ID, periodKey: '2026-11', periodStartMs: Date.UTC(2026, 10, 1), periodEndMs: Date.UTC(2026, 11, 1), currency: 'USD', currencyExponent: 2, totalMinor: 29_900,
      lines: [{ kind: 'subscription', description: 'Subscription Mid', tierId: 'mid', tierName: 'Mid', monthlyFeeMinor: 29_900, percentOfFee: 100, fromDate: '2026-11-01', toDate: '2026-11-30', days: 30, daysInPeriod: 30, prorated: false, unroundedMinor: '29900', amountMinor: 29_900, rule: 'whole period' }],
      total: '299.00', note: 'current period so far, assuming nothing changes until its end' },
  });
  api.get(`${op}/subscription`, (ctx) => { assertOperatorAccess(ctx, ctx.params.operatorId); ctx.body = { subscription: subscriptionView() }; });
  api.post(`${op}/addons/netflow/:action`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId, ['super_admin', 'operator_admin']);
    if (ctx.params.action === 'start-trial') {
      if (addon.trialUsed) throw hubError('TRIAL_ALREADY_USED', 'the trial was already used');
      Object.assign(addon, { status: 'trial', trialUsed: true, trial: { startedAtMs: NOW_MS, endsAtMs: NOW_MS + 15 * 86400_000 }, daysLeft: 15, collection: { allowed: true, reason: 'trial' } });
    } else if (ctx.params.action === 'activate') {
      Object.assign(addon, { status: 'active', renew: true, daysLeft: null, collection: { allowed: true, reason: 'active' } });
    } else {
      throw hubError('NOT_FOUND', `no add-on action ${ctx.params.action}`);
    }
    ctx.body = { subscription: subscriptionView() };
  });
  api.get('/health', (ctx) => { ctx.body = { ok: true, mqttConnected: true }; });
  api.get('/hub/counters', (ctx) => {
    if (principalOf(ctx).role !== 'super_admin') throw hubError('FORBIDDEN', 'this needs role super_admin');
    ctx.body = { counters: { ingest: { batchesStored: 8800, duplicates: 3, rejected: 0 }, mqtt: { messages: 9100, badPayloads: 1 } } };
  });
  api.get('/price-book', (ctx) => {
    if (principalOf(ctx).role !== 'super_admin') throw hubError('FORBIDDEN', 'this needs role super_admin');
    ctx.body = { priceBook: { currency: 'USD', addonPercentOfFee: 50, overLimit: 'upgrade', trialDays: 15, retentionDays: 30, tiers: [
      { tierId: 'small', name: 'Small', maxCustomers: 500, monthlyFeeMinor: 9_900, netflowEligible: false },
      { tierId: 'mid', name: 'Mid', maxCustomers: 2000, monthlyFeeMinor: 29_900, netflowEligible: true },
      { tierId: 'large', name: 'Large', maxCustomers: null, monthlyFeeMinor: 79_900, netflowEligible: true },
    ] } };
  });
  api.put(`${op}/addons/netflow/visibility`, (ctx) => {
    if (principalOf(ctx).role !== 'super_admin') throw hubError('FORBIDDEN', 'this needs role super_admin');
    const { visible } = ctx.request.body as { visible?: unknown };
    if (typeof visible !== 'boolean') throw hubError('VALIDATION_FAILED', 'visible: expected true or false');
    addon.visible = visible;
    ctx.body = { subscription: subscriptionView() };
  });
  api.get(`${op}/invoices`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    ctx.body = { invoices: [{ ...subscriptionView().nextInvoicePreview, periodKey: '2026-10', periodStartMs: Date.UTC(2026, 9, 1), periodEndMs: Date.UTC(2026, 10, 1), kind: 'invoice', number: 'INV-000004', seq: 4, idempotencyKey: `${OPERATOR_ID}/2026-10`, issuedAtMs: Date.UTC(2026, 10, 1, 1) }] };
  });

  const client = { clientId: 'c-1', operatorId: OPERATOR_ID, name: 'Example Hosting Ltd', email: 'ops@example.net', createdAtMs: NOW_MS - 30 * 86400_000, updatedAtMs: NOW_MS };
  const service = { serviceId: 's-1', operatorId: OPERATOR_ID, clientId: 'c-1', type: 'vps', label: 'VPS 42', createdAtMs: NOW_MS - 30 * 86400_000, updatedAtMs: NOW_MS };
  const record = { recordId: 'r-1', serviceId: 's-1', serviceLabel: 'VPS 42', serviceType: 'vps', clientId: 'c-1', clientName: client.name, enabled: true, netflowUrl: null, effectiveNetflowUrl: 'http://127.0.0.1/customer', username: 'cust-7', hasPassword: true, group: { kind: 'ip_group', value: 'cust-7-vps' }, ipAddress: '203.0.113.42', notes: '', showPasswordInClientArea: false, createdAtMs: NOW_MS - 30 * 86400_000, updatedAtMs: NOW_MS };
  api.get(`${op}/clients`, (ctx) => { assertOperatorAccess(ctx, ctx.params.operatorId); ctx.body = { clients: [client] }; });
  api.get(`${op}/clients/:clientId`, (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    if (ctx.params.clientId !== client.clientId) throw hubError('NOT_FOUND', `no client ${ctx.params.clientId}`);
    ctx.body = { client };
  });
  api.get(`${op}/services`, (ctx) => { assertOperatorAccess(ctx, ctx.params.operatorId); ctx.body = { services: [service].filter((x) => !ctx.query.clientId || x.clientId === ctx.query.clientId) }; });
  api.get(`${op}/access-records`, (ctx) => { assertOperatorAccess(ctx, ctx.params.operatorId); ctx.body = { records: [record] }; });

  api.get('/customer/subjects', (ctx) => {
    const p = principalOf(ctx);
    if (p.role !== 'customer') throw hubError('FORBIDDEN', 'this needs role customer');
    ctx.body = { subjects: [{ subjectId: 'ipg:cust-7-vps', label: 'VPS 42 (203.0.113.42)' }] };
  });
  api.get('/customer/services', (ctx) => {
    if (principalOf(ctx).role !== 'customer') throw hubError('FORBIDDEN', 'this needs role customer');
    ctx.body = { services: [{ serviceId: 's-1', serviceLabel: 'VPS 42', serviceType: 'vps', group: 'IP group cust-7-vps', ipAddress: '203.0.113.42' }] };
  });
  // The customer's cycle so far and bills (hub/access/customer-routes.ts; shapes: common/api/customer.ts).
  api.get('/customer/usage', (ctx) => {
    if (principalOf(ctx).role !== 'customer' || ctx.query.subjectId !== 'ipg:cust-7-vps') throw hubError('NOT_FOUND', `no subject ${String(ctx.query.subjectId)}`);
    const cycleStartSec = Date.UTC(2026, 10, 1) / 1000;
    const asOfSec = Math.floor(NOW_MS / 300_000) * 300;
    ctx.body = {
      subjectId: 'ipg:cust-7-vps', serviceLabel: 'VPS 42', period: 'billing_cycle', fromSec: cycleStartSec, toSec: asOfSec, bytesIn: 812_000_000_000, bytesOut: 95_000_000_000,
      cycle: { planName: 'Gold 100M', cycleStartSec, cycleEndSec: Date.UTC(2026, 11, 1) / 1000, spanStartSec: cycleStartSec, asOfSec, method: 'merge', p95Bps: 14_250_000, slotsSoFar: 6600, slotsWithData: 6598, coveragePercent: 99.96 },
    };
  });
  api.get('/customer/bills', (ctx) => {
    if (principalOf(ctx).role !== 'customer') throw hubError('FORBIDDEN', 'this needs role customer');
    ctx.body = { bills: [{ billNo: 7, planName: 'Gold 100M', subjectId: 'ipg:cust-7-vps', serviceLabel: 'VPS 42', billedFromSec: Date.UTC(2026, 9, 1) / 1000, billedToSec: Date.UTC(2026, 10, 1) / 1000, p95Bps: 13_900_000, amountMinor: 50_000, currency: 'USD', generatedAtMs: Date.UTC(2026, 10, 1, 0, 15) }] };
  });
  api.get('/customer/series', (ctx) => {
    const p = principalOf(ctx);
    if (p.role !== 'customer' || ctx.query.subjectId !== 'ipg:cust-7-vps') throw hubError('NOT_FOUND', `no subject ${String(ctx.query.subjectId)}`);
    const fromSec = Number(ctx.query.fromSec);
    const toSec = Number(ctx.query.toSec);
    ctx.body = { subjectId: ctx.query.subjectId, fromSec, toSec, points: seriesPoints(fromSec, toSec, 12e6) };
  });

  const web = createWebRouter();
  app.use(web.routes()).use(web.allowedMethods());
  app.use(api.routes()).use(api.allowedMethods());

  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
