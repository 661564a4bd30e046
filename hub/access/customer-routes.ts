import Router from '@koa/router';
import type { Context } from 'koa';
import { hubError } from '../errors';
import { principalOf, requireRole } from '../http/principal';
import type { SeriesReader, SubjectInfo } from '../ports';
import type { AccessRecord } from './access-model';
import type { AccessRepository } from './access-repository';
import { describeGroup, resolveVisibleSubjects, type ScopeContext } from './customer-scope';
import type { CustomerBilling } from './customer-billing';
import type { Clock } from '../../common/clock';
import { bucketStartSecOf } from '../../common/bucket';
import type { CustomerBill, CustomerSubject, CustomerUsage } from '../../common/api/customer';
import type { BillingGroupDirectory, IpGroupDirectory } from './group-directories';

/** Longest window one series request may ask for (a year and a bit: enough for yearly reports). */
const MAX_SPAN_SEC = 400 * 86400;

interface Deps {
  repo: AccessRepository;
  seriesReader: SeriesReader;
  clock: Clock;
  /** Cycle so far, bills and their PDFs (hub/billing/customer-billing-adapter.ts); absent: no billing shown. */
  billing?: CustomerBilling;
  ipGroups?: IpGroupDirectory;
  billingGroups?: BillingGroupDirectory;
}

/**
 * The customer's own view: /api/v1/customer/*, role 'customer' only. What is visible is recomputed on
 * every request from the login's ENABLED records (customer-scope.ts), so disabling a record or
 * changing its group takes effect at once, even for a session that is already open.
 * A subject outside the customer's scope answers 404, the same as one that does not exist.
 */
export function createCustomerRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/api/v1/customer' });
  router.use(requireRole('customer'));

  async function scope(ctx: Context): Promise<{ operatorId: string; records: AccessRecord[]; subjects: SubjectInfo[]; visible: Set<string>; scopeContext: ScopeContext }> {
    const p = principalOf(ctx);
    if (!p.operatorId || !p.customerLogin) throw hubError('FORBIDDEN', 'not a customer session');
    const login = await deps.repo.getLogin(p.operatorId, p.customerLogin);
    // A deleted login must not keep serving the old session (logins are per tenant: p.operatorId's only).
    const records = login ? await deps.repo.recordsOfLogin(p.operatorId, p.customerLogin) : [];
    const enabled = records.filter((r) => r.enabled);
    const subjects = enabled.length ? await deps.seriesReader.listSubjects(p.operatorId) : [];
    const ipGroups = deps.ipGroups && enabled.some((r) => r.ipAddress) ? await deps.ipGroups.listIpGroups(p.operatorId) : [];
    const billingGroups = new Map<string, string[]>();
    if (deps.billingGroups) {
      for (const r of enabled) {
        if (r.group?.kind !== 'billing_group' || billingGroups.has(r.group.value)) continue;
        billingGroups.set(r.group.value, (await deps.billingGroups.subjectsOfBillingGroup(p.operatorId, r.group.value)) ?? []);
      }
    }
    const scopeContext = { subjects, ipGroups, billingGroups };
    return { operatorId: p.operatorId, records: enabled, subjects, visible: resolveVisibleSubjects(enabled, scopeContext), scopeContext };
  }

  /**
   * Which of the customer's records grants each visible subject, so the page names the traffic by the
   * customer's service ("Acme VPS 1"), not by a subject id. The first record (by service label) wins.
   */
  async function grantsOf(operatorId: string, records: AccessRecord[], scopeContext: ScopeContext): Promise<Map<string, { serviceLabel: string; clientId: string }>> {
    const out = new Map<string, { serviceLabel: string; clientId: string }>();
    const labelled = await Promise.all(records.map(async (r) => ({ r, serviceLabel: (await deps.repo.getService(operatorId, r.serviceId))?.label ?? '' })));
    labelled.sort((a, b) => a.serviceLabel.localeCompare(b.serviceLabel));
    for (const { r, serviceLabel } of labelled) {
      for (const id of resolveVisibleSubjects([r], scopeContext)) if (!out.has(id)) out.set(id, { serviceLabel, clientId: r.clientId });
    }
    return out;
  }

  router.get('/subjects', async (ctx) => {
    const { operatorId, records, subjects, visible, scopeContext } = await scope(ctx);
    const known = new Map(subjects.map((s) => [s.subjectId, s]));
    const grants = await grantsOf(operatorId, records, scopeContext);
    const list: CustomerSubject[] = [...visible].sort().map((subjectId) => {
      const info = known.get(subjectId);
      const serviceLabel = grants.get(subjectId)?.serviceLabel ?? '';
      return info
        ? { subjectId, kind: info.kind, label: info.label, serviceLabel, firstSeenSec: info.firstSeenSec, lastSeenSec: info.lastSeenSec }
        : { subjectId, kind: subjectId.startsWith('if:') ? 'interface' : 'ip_group', label: subjectId, serviceLabel, firstSeenSec: null, lastSeenSec: null };
    });
    ctx.body = { subjects: list };
  });

  /** Totals for the cycle so far and its 95th (the plan's rule), or the calendar month so far when no plan bills it. */
  router.get('/usage', async (ctx) => {
    const subjectId = ctx.query.subjectId;
    if (typeof subjectId !== 'string' || subjectId === '') throw hubError('BAD_REQUEST', 'subjectId is required');
    const { operatorId, records, visible, scopeContext } = await scope(ctx);
    if (!visible.has(subjectId)) throw hubError('NOT_FOUND', `no subject ${subjectId}`);
    const cycle = (await deps.billing?.cycleSoFar(operatorId, subjectId)) ?? null;
    const nowSec = Math.floor(deps.clock.nowMs() / 1000);
    const now = new Date(nowSec * 1000);
    // The whole cycle so far (an interim bill does not reset what the customer has used this cycle).
    const fromSec = cycle ? cycle.cycleStartSec : Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) / 1000;
    const toSec = cycle ? cycle.asOfSec : Math.max(fromSec, bucketStartSecOf(nowSec));
    let bytesIn = 0, bytesOut = 0;
    if (toSec > fromSec) {
      for (const p of await deps.seriesReader.readSeries(operatorId, subjectId, fromSec, toSec)) { bytesIn += p.bytesIn; bytesOut += p.bytesOut; }
    }
    const serviceLabel = (await grantsOf(operatorId, records, scopeContext)).get(subjectId)?.serviceLabel ?? '';
    const body: CustomerUsage = { subjectId, serviceLabel, period: cycle ? 'billing_cycle' : 'month', fromSec, toSec, bytesIn, bytesOut, cycle };
    ctx.body = body;
  });

  /** The customer's bills: only those of subjects in scope now. */
  router.get('/bills', async (ctx) => {
    const { operatorId, records, visible, scopeContext } = await scope(ctx);
    if (!deps.billing || visible.size === 0) { ctx.body = { bills: [] }; return; }
    const grants = await grantsOf(operatorId, records, scopeContext);
    const bills: CustomerBill[] = (await deps.billing.billsOfSubjects(operatorId, [...visible]))
      .map((b) => ({ ...b, serviceLabel: grants.get(b.subjectId)?.serviceLabel ?? '' }));
    ctx.body = { bills };
  });

  /** A bill's PDF; another customer's bill answers 404 exactly like a bill that does not exist. */
  router.get('/bills/:billNo/pdf', async (ctx) => {
    const billNo = Number(ctx.params.billNo);
    const { operatorId, records, visible, scopeContext } = await scope(ctx);
    const subjectId = deps.billing && Number.isSafeInteger(billNo) && billNo > 0 ? await deps.billing.subjectOfBill(operatorId, billNo) : undefined;
    if (!deps.billing || subjectId === undefined || !visible.has(subjectId)) throw hubError('NOT_FOUND', `no bill ${ctx.params.billNo}`);
    const grant = (await grantsOf(operatorId, records, scopeContext)).get(subjectId);
    const client = grant ? await deps.repo.getClient(operatorId, grant.clientId) : undefined;
    const pdf = await deps.billing.billPdf(operatorId, billNo, client?.name ?? '');
    ctx.type = 'application/pdf';
    ctx.attachment(`bill-${billNo}.pdf`);
    ctx.body = Buffer.from(pdf);
  });

  /** The customer's services as the client area describes them (no notes, no password). */
  router.get('/services', async (ctx) => {
    const { operatorId, records } = await scope(ctx);
    const out = [];
    for (const r of records) {
      const service = await deps.repo.getService(operatorId, r.serviceId);
      out.push({ serviceId: r.serviceId, serviceLabel: service?.label ?? '', serviceType: service?.type ?? null, group: describeGroup(r), ipAddress: r.ipAddress ?? '' });
    }
    ctx.body = { services: out };
  });

  router.get('/series', async (ctx) => {
    const subjectId = ctx.query.subjectId;
    const fromSec = Number(ctx.query.fromSec);
    const toSec = Number(ctx.query.toSec);
    if (typeof subjectId !== 'string' || subjectId === '') throw hubError('BAD_REQUEST', 'subjectId is required');
    if (!Number.isInteger(fromSec) || !Number.isInteger(toSec) || fromSec < 0 || toSec <= fromSec) throw hubError('BAD_REQUEST', 'fromSec and toSec: integer seconds with fromSec < toSec');
    if (toSec - fromSec > MAX_SPAN_SEC) throw hubError('BAD_REQUEST', `at most ${MAX_SPAN_SEC / 86400} days per request`);
    const { operatorId, visible } = await scope(ctx);
    if (!visible.has(subjectId)) throw hubError('NOT_FOUND', `no subject ${subjectId}`);
    ctx.body = { subjectId, fromSec, toSec, points: await deps.seriesReader.readSeries(operatorId, subjectId, fromSec, toSec) };
  });

  return router;
}
