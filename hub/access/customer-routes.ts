import Router from '@koa/router';
import type { Context } from 'koa';
import { hubError } from '../errors';
import { principalOf, requireRole } from '../http/principal';
import type { SeriesReader, SubjectInfo } from '../ports';
import type { AccessRecord } from './access-model';
import type { AccessRepository } from './access-repository';
import { describeGroup, resolveVisibleSubjects } from './customer-scope';
import type { BillingGroupDirectory, IpGroupDirectory } from './group-directories';

/** Longest window one series request may ask for (a year and a bit: enough for yearly reports). */
const MAX_SPAN_SEC = 400 * 86400;

interface Deps {
  repo: AccessRepository;
  seriesReader: SeriesReader;
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

  async function scope(ctx: Context): Promise<{ operatorId: string; records: AccessRecord[]; subjects: SubjectInfo[]; visible: Set<string> }> {
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
    return { operatorId: p.operatorId, records: enabled, subjects, visible: resolveVisibleSubjects(enabled, { subjects, ipGroups, billingGroups }) };
  }

  router.get('/subjects', async (ctx) => {
    const { subjects, visible } = await scope(ctx);
    const known = new Map(subjects.map((s) => [s.subjectId, s]));
    ctx.body = {
      subjects: [...visible].sort().map((subjectId) => {
        const info = known.get(subjectId);
        return info
          ? { subjectId, kind: info.kind, label: info.label, firstSeenSec: info.firstSeenSec, lastSeenSec: info.lastSeenSec }
          : { subjectId, kind: subjectId.startsWith('if:') ? 'interface' : 'ip_group', label: subjectId, firstSeenSec: null, lastSeenSec: null };
      }),
    };
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
