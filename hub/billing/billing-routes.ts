import Router from '@koa/router';
import type { Context } from 'koa';
import { hubError } from '../errors';
import { OPERATOR_READERS, OPERATOR_WRITERS, assertOperatorAccess } from '../http/principal';
import { readBody } from '../http/request-body';
import type { SeriesReader } from '../ports';
import type { BillPreviewResponse, BillRunLatestResponse, BillSummary, GenerateNowResponse } from '../../common/api/bills';
import type { Bill, BillSamples } from './bill';
import { billGraph } from './bill-graph';
import { billSummaryCsv, dataPoints, dataPointsCsv } from './bill-csv';
import { explainBill } from './bill-explanation';
import { renderBillPdf } from './bill-pdf';
import { REPORT_DEFAULT_ZONE, assertTimeZone } from '../pdf/report-time';
import type { BillingService } from './billing-service';
import type { BillingStore } from './billing-store';

interface Deps {
  service: BillingService; store: BillingStore; seriesReader: SeriesReader;
  /** The bill's PDF with the parties' names (billing-module.ts); default: renderBillPdf without them. */
  renderPdf?: (bill: Bill, samples: BillSamples) => Promise<Uint8Array>;
}

/**
 * /api/v1/operators/:operatorId/bill-plans…  and  …/bills…
 * operator_admin (and super_admin) write; operator_readonly reads. Another tenant's ids answer 404.
 */
export function createBillingRoutes(deps: Deps): Router {
  const { service, store } = deps;
  const router = new Router({ prefix: '/api/v1/operators/:operatorId' });
  const reader = (ctx: Context) => { assertOperatorAccess(ctx, ctx.params.operatorId!, OPERATOR_READERS); return ctx.params.operatorId!; };
  const writer = (ctx: Context) => { assertOperatorAccess(ctx, ctx.params.operatorId!, OPERATOR_WRITERS); return ctx.params.operatorId!; };
  const billNoOf = (ctx: Context) => {
    const n = Number(ctx.params.billNo);
    if (!Number.isSafeInteger(n) || n < 1) throw hubError('NOT_FOUND', `no bill ${ctx.params.billNo}`);
    return n;
  };
  /** ?timeZone=Europe/Berlin (an IANA zone the runtime knows) for the times a reader sees; absent: UTC. */
  const timeZoneOf = (ctx: Context) => {
    const tz = ctx.query.timeZone;
    if (tz === undefined || tz === '') return REPORT_DEFAULT_ZONE;
    try {
      if (typeof tz !== 'string') throw new RangeError('one zone');
      assertTimeZone(tz);
    } catch {
      throw hubError('VALIDATION_FAILED', 'timeZone: an IANA time zone such as Europe/Berlin or UTC', { field: 'timeZone' });
    }
    return tz;
  };

  // ---- plans ----
  /** ?includeDeleted=1 lists deleted plans too (deletedAtMs set): their bills stay, and Reports filters by them. */
  router.get('/bill-plans', async (ctx) => {
    const op = reader(ctx);
    const includeDeleted = ctx.query.includeDeleted === '1' || ctx.query.includeDeleted === 'true';
    ctx.body = { plans: (await store.listPlans(op)).filter((p) => includeDeleted || p.deletedAtMs === undefined) };
  });

  /** Subjects the operator's edges report that no plan holds yet (an associated one is not offered again). */
  router.get('/bill-plans/available-subjects', async (ctx) => {
    const op = reader(ctx);
    const held = await store.heldSubjects(op);
    ctx.body = { subjects: (await deps.seriesReader.listSubjects(op)).filter((s) => !held.has(s.subjectId)) };
  });

  router.post('/bill-plans', async (ctx) => {
    const op = writer(ctx);
    ctx.status = 201;
    ctx.body = { plan: await service.createPlan(op, readBody(ctx)) };
  });

  router.get('/bill-plans/:planId', async (ctx) => {
    const op = reader(ctx);
    ctx.body = { plan: await service.requirePlan(op, ctx.params.planId!) };
  });

  router.patch('/bill-plans/:planId', async (ctx) => {
    const op = writer(ctx);
    ctx.body = await service.updatePlan(op, ctx.params.planId!, readBody(ctx));
  });

  /** The current cycle so far per subject of the plan: 95th, coverage, amount so far and projected (bill-preview.ts). */
  router.get('/bill-plans/:planId/preview', async (ctx) => {
    const op = reader(ctx);
    ctx.body = (await service.preview(op, ctx.params.planId!)) satisfies BillPreviewResponse;
  });

  /**
   * Generate now: a bill for one subject for the cycle so far (or up to body.untilSec), the subject
   * staying in the plan; the next regular bill starts where this one ends. Idempotency-Key header (or
   * body.idempotencyKey): a retry answers 200 with the first bill and Idempotent-Replayed: true.
   */
  router.post('/bill-plans/:planId/subjects/:subjectId/generate-now', async (ctx) => {
    const op = writer(ctx);
    const { bill, replayed } = await service.generateNow(op, ctx.params.planId!, ctx.params.subjectId!, readBody(ctx), ctx.get('idempotency-key') || undefined);
    ctx.status = replayed ? 200 : 201;
    if (replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.body = { bill: summary(bill), replayed } satisfies GenerateNowResponse;
  });

  /**
   * This operator's part of its last bill run with bills due, on whichever hub ran it: due, done, made,
   * failed (live while it runs); finishedAtMs once it is over. lastCheck: the last run of all.
   */
  router.get('/bill-runs/latest', async (ctx) => {
    const op = reader(ctx);
    ctx.body = (await service.latestRun(op)) satisfies BillRunLatestResponse;
  });

  router.delete('/bill-plans/:planId', async (ctx) => {
    const op = writer(ctx);
    ctx.body = { bills: await service.deletePlan(op, ctx.params.planId!) };
  });

  router.post('/bill-plans/:planId/subjects', async (ctx) => {
    const op = writer(ctx);
    const { subjectId } = readBody(ctx);
    if (typeof subjectId !== 'string') throw hubError('VALIDATION_FAILED', 'subjectId is required');
    ctx.status = 201;
    ctx.body = { plan: await service.addSubject(op, ctx.params.planId!, subjectId) };
  });

  /** Removing a subject generates its bill for the part of the cycle it was in, at this instant. */
  router.delete('/bill-plans/:planId/subjects/:subjectId', async (ctx) => {
    const op = writer(ctx);
    ctx.body = await service.removeSubject(op, ctx.params.planId!, ctx.params.subjectId!); // the router has decoded it
  });

  // ---- bills and reports ----
  router.get('/bills', async (ctx) => {
    const op = reader(ctx);
    const planId = typeof ctx.query.planId === 'string' ? ctx.query.planId : undefined;
    const limitRaw = Number(ctx.query.limit ?? 500);
    const limit = Number.isInteger(limitRaw) && limitRaw > 0 ? Math.min(limitRaw, 5000) : 500;
    ctx.body = { bills: (await store.listBills(op, { planId, limit })).map(summary) };
  });

  router.get('/bills/:billNo', async (ctx) => {
    const op = reader(ctx);
    const { bill, samples } = await service.billDetails(op, billNoOf(ctx));
    // explanation: the slot accounting and the computation in words (derived for bills stored before it),
    // its times in ?timeZone= (the web page sends the viewer's, so they read as its header does), else UTC.
    ctx.body = { bill, explanation: explainBill(bill, samples, timeZoneOf(ctx)), subjectBills: (await store.listBillsOfSubject(op, bill.subjectId)).map(summary) };
  });

  /** The bill's figures, one `field,value` row each: with the data points, enough to recompute the amount by hand. */
  router.get('/bills/:billNo/summary.csv', async (ctx) => {
    const op = reader(ctx);
    const { bill, samples } = await service.billDetails(op, billNoOf(ctx));
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment(`bill-${bill.billNo}-summary.csv`);
    ctx.body = billSummaryCsv(bill, explainBill(bill, samples));
  });

  router.get('/bills/:billNo/graph', async (ctx) => {
    const op = reader(ctx);
    const { bill, samples } = await service.billDetails(op, billNoOf(ctx));
    ctx.body = { graph: billGraph(bill, samples) };
  });

  router.get('/bills/:billNo/data-points', async (ctx) => {
    const op = reader(ctx);
    const { bill, samples } = await service.billDetails(op, billNoOf(ctx));
    ctx.body = { billNo: bill.billNo, n: bill.n, p95Bps: bill.p95Bps, dataPoints: dataPoints(samples) };
  });

  router.get('/bills/:billNo/data-points.csv', async (ctx) => {
    const op = reader(ctx);
    const { bill, samples } = await service.billDetails(op, billNoOf(ctx));
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment(`bill-${bill.billNo}-data-points.csv`);
    ctx.body = dataPointsCsv(samples);
  });

  router.get('/bills/:billNo/pdf', async (ctx) => {
    const op = reader(ctx);
    const { bill, samples } = await service.billDetails(op, billNoOf(ctx));
    const pdf = await (deps.renderPdf ?? renderBillPdf)(bill, samples);
    ctx.type = 'application/pdf';
    ctx.attachment(`bill-${bill.billNo}.pdf`);
    ctx.body = Buffer.from(pdf);
  });

  return router;
}

/** The list view of a bill (the full record holds the tariff and rule too). */
function summary(b: Bill): BillSummary {
  return {
    billNo: b.billNo, planId: b.planId, planName: b.planName, subjectId: b.subjectId, reason: b.reason,
    spanStartSec: b.spanStartSec, spanEndSec: b.spanEndSec, cycleStartSec: b.cycleStartSec, cycleEndSec: b.cycleEndSec,
    p95Bps: b.p95Bps, amountMinor: b.charge.amountMinor, currency: b.charge.currency, generatedAtMs: b.generatedAtMs,
  };
}
