/**
 * The commerce API under /api/v1. Roles: super_admin for the price book, add-on visibility and
 * manual job runs; operator_admin (and super_admin) to change the subscription and the
 * add-on; operator_readonly to read. Another operator's subscription answers 404.
 * Invoices, payments and credit notes have their own routes (invoice-routes.ts).
 */
import Router from '@koa/router';
import type { Clock } from '../../common/clock';
import type { SubscriptionResponse } from '../../common/api/subscription';
import { hubError } from '../errors';
import { assertOperatorAccess, OPERATOR_READERS, OPERATOR_WRITERS, requireRole } from '../http/principal';
import { readBody } from '../http/request-body';
import type { CommerceService } from './commerce-service';
import type { CommerceJobName } from './job-schedule';
import { jobByName } from './job-schedule';

interface Deps {
  service: CommerceService;
  clock: Clock;
  runJob(name: CommerceJobName, nowMs: number): Promise<unknown>;
}

export function createCommerceRoutes(deps: Deps): Router {
  const { service } = deps;
  const router = new Router({ prefix: '/api/v1' });
  const op = '/operators/:operatorId';

  router.get('/price-book', requireRole('super_admin'), async (ctx) => {
    ctx.body = { priceBook: await service.getPriceBook() };
  });
  router.put('/price-book', requireRole('super_admin'), async (ctx) => {
    ctx.body = { priceBook: await service.putPriceBook(readBody(ctx)) };
  });

  router.get(`${op}/subscription`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId, OPERATOR_READERS);
    ctx.body = { subscription: await service.getSubscriptionView(ctx.params.operatorId) } satisfies SubscriptionResponse;
  });

  router.put(`${op}/subscription`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    const { tierId } = readBody(ctx);
    if (tierId !== undefined) {
      if (typeof tierId !== 'string') throw hubError('VALIDATION_FAILED', 'tierId: expected a string');
      await service.changeTier(operatorId, tierId);
    }
    ctx.body = { subscription: await service.getSubscriptionView(operatorId) } satisfies SubscriptionResponse;
  });

  router.put(`${op}/active-customers`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    const { count } = readBody(ctx);
    if (typeof count !== 'number') throw hubError('VALIDATION_FAILED', 'count: expected an integer');
    await service.setActiveCustomers(operatorId, count);
    ctx.body = { subscription: await service.getSubscriptionView(operatorId) } satisfies SubscriptionResponse;
  });

  const actions: Record<string, (operatorId: string) => Promise<unknown>> = {
    'start-trial': service.startTrial,
    activate: service.activate,
    cancel: service.cancel,
    'disable-renewal': service.disableRenewal,
    'enable-renewal': service.enableRenewal,
  };
  router.post(`${op}/addons/netflow/:action`, async (ctx) => {
    const { operatorId, action } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    const run = actions[action];
    if (!run) throw hubError('NOT_FOUND', `no add-on action ${action} (${Object.keys(actions).join(', ')})`);
    await run(operatorId);
    ctx.body = { subscription: await service.getSubscriptionView(operatorId) } satisfies SubscriptionResponse;
  });

  router.put(`${op}/addons/netflow/visibility`, requireRole('super_admin'), async (ctx) => {
    const { operatorId } = ctx.params;
    const { visible } = readBody(ctx);
    if (typeof visible !== 'boolean') throw hubError('VALIDATION_FAILED', 'visible: expected true or false');
    await service.setVisibility(operatorId, visible);
    ctx.body = { subscription: await service.getSubscriptionView(operatorId) } satisfies SubscriptionResponse;
  });

  // Invoices, payments and credit notes: invoice-routes.ts.

  router.post('/admin/jobs/:job/run', requireRole('super_admin'), async (ctx) => {
    const job = jobByName(ctx.params.job);
    if (!job) throw hubError('NOT_FOUND', `no job ${ctx.params.job}`);
    ctx.body = { job: job.name, result: await deps.runJob(job.name, deps.clock.nowMs()) };
  });

  return router;
}
