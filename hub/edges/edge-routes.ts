import Router from '@koa/router';
import type { Logger } from '../../common/logger';
import type { EdgesResponse, EnrollmentTokenResponse, RevokeEdgeResponse } from '../../common/api/edges';
import { hubError } from '../errors';
import { assertOperatorAccess, OPERATOR_WRITERS } from '../http/principal';
import { readBody } from '../http/request-body';
import type { ConsumersResponse } from '../../common/api/users';
import type { CollectionConfigStore } from './collection-config-store';
import type { EdgeRecord, EdgeRegistry } from './edge-registry';
import { edgeView } from './edge-registry';
import type { EdgeStatusTracker } from './edge-status-tracker';
import type { LiveFlowsCache } from './live-flows-cache';
import { queryLiveFlows, readLiveFilter } from './live-flows-query';
import type { SubjectManagement } from './subject-management';

export interface EdgeRoutesDeps {
  registry: EdgeRegistry;
  status: EdgeStatusTracker;
  liveFlows: LiveFlowsCache;
  configs: CollectionConfigStore;
  pusher: { pushConfigs(operatorId: string): Promise<void>; pushToEdge(edge: EdgeRecord): Promise<void> };
  /** Edges belong to an existing operator (hub/identity). */
  operatorExists(operatorId: string): Promise<boolean>;
  /**
   * Subjects that stop being managed (deselected interfaces, a deleted IP group) are billed at that
   * instant through it (subject-management.ts). Without it, changes are only stored (unit tests).
   */
  management?: Pick<SubjectManagement, 'putSelection' | 'deleteGroup' | 'drain'>;
  /** A consumer was revoked: close its live MQTT connections (the broker's disconnectConsumer). */
  onConsumerRevoked?(username: string): void;
  log: Logger;
}

/**
 * Edges, enrollment, consumer credentials, IP groups, interface selection and live flows, under
 * /api/v1. Changes to groups or selection are stored first, then pushed as the retained EdgeConfig;
 * a failed push (broker down) does not fail the request: the hub re-pushes on its next start.
 */
export function createEdgeRoutes(deps: EdgeRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const op = '/operators/:operatorId';

  const push = async (fn: () => Promise<void>, what: Record<string, unknown>) => {
    try {
      await fn();
    } catch (err) {
      deps.log.warn({ ...what, err: (err as Error).message }, 'edge config not pushed now; it is pushed again on the next change or hub start');
    }
  };
  const requireOperator = async (operatorId: string) => {
    if (!(await deps.operatorExists(operatorId))) throw hubError('NOT_FOUND', `no operator ${operatorId}`);
  };
  const nameOf = (body: Record<string, unknown>) => {
    if (typeof body.name !== 'string') throw hubError('BAD_REQUEST', 'name is required');
    return body.name;
  };

  router.post(`${op}/edges`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    await requireOperator(operatorId);
    const result = await deps.registry.createEdge(operatorId, nameOf(readBody(ctx)));
    const record = await deps.registry.getEdge(result.edge.edgeId);
    if (record) await push(() => deps.pusher.pushToEdge(record), { edgeId: record.edgeId });
    ctx.status = result.created ? 201 : 200;
    ctx.body = { edge: result.edge, credentials: result.credentials };
  });

  router.post(`${op}/enrollment-tokens`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    await requireOperator(operatorId);
    const { ttlHours } = readBody(ctx);
    if (ttlHours !== undefined && typeof ttlHours !== 'number') throw hubError('VALIDATION_FAILED', 'ttlHours: a number');
    ctx.status = 201;
    ctx.body = (await deps.registry.createEnrollmentToken(operatorId, ttlHours as number | undefined)) satisfies EnrollmentTokenResponse;
  });

  // No login: the one-time token is the credential (field provisioning of a new edge box).
  router.post('/enroll', async (ctx) => {
    const body = readBody(ctx);
    if (typeof body.token !== 'string') throw hubError('ENROLLMENT_TOKEN_INVALID', 'invalid or expired enrollment token');
    const result = await deps.registry.enroll(body.token, nameOf(body));
    const record = await deps.registry.getEdge(result.edge.edgeId);
    if (record) await push(() => deps.pusher.pushToEdge(record), { edgeId: record.edgeId });
    ctx.status = result.created ? 201 : 200;
    ctx.body = { edge: result.edge, credentials: result.credentials };
  });

  router.post(`${op}/edges/:edgeId/rotate`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId, OPERATOR_WRITERS);
    const { credentials } = await deps.registry.rotate(ctx.params.operatorId, ctx.params.edgeId);
    ctx.body = { credentials };
  });

  router.post(`${op}/edges/:edgeId/revoke`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId, OPERATOR_WRITERS);
    ctx.body = { edge: await deps.registry.revoke(ctx.params.operatorId, ctx.params.edgeId) } satisfies RevokeEdgeResponse;
  });

  router.get(`${op}/edges`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const edges = await deps.registry.listEdges(ctx.params.operatorId);
    ctx.body = {
      edges: edges.map((e) => {
        const s = deps.status.view(e.edgeId);
        return {
          ...edgeView(e),
          status: { state: s.state, online: !e.revoked && s.online, lastSeenMs: s.lastSeenMs, counters: s.counters, exporters: s.exporters, session: s.session, softwareVersion: s.softwareVersion, configVersion: s.configVersion, collectionPaused: s.collectionPaused },
        };
      }),
    } satisfies EdgesResponse;
  });

  router.post(`${op}/consumers`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    await requireOperator(operatorId);
    ctx.status = 201;
    ctx.body = await deps.registry.createConsumer(operatorId, nameOf(readBody(ctx)));
  });

  // Every role of the tenant sees the list (names and usernames, never a secret); writers revoke.
  router.get(`${op}/consumers`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const consumers = (await deps.registry.listConsumers(ctx.params.operatorId)).sort((a, b) => a.createdAtMs - b.createdAtMs);
    ctx.body = { consumers } satisfies ConsumersResponse;
  });

  router.delete(`${op}/consumers/:username`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId, OPERATOR_WRITERS);
    const consumer = await deps.registry.revokeConsumer(ctx.params.operatorId, ctx.params.username);
    deps.onConsumerRevoked?.(consumer.username);
    deps.log.info({ operatorId: consumer.operatorId, username: consumer.username }, 'consumer revoked');
    ctx.status = 204;
  });

  router.get(`${op}/live-flows`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    // Filters and breakdowns (issue 11) are computed here from the cached top talkers: hub/edges/live-flows-query.ts.
    const filter = readLiveFilter(ctx.query);
    ctx.body = queryLiveFlows(deps.liveFlows.forOperator(ctx.params.operatorId), filter, await deps.configs.listGroups(ctx.params.operatorId));
  });

  router.get(`${op}/ip-groups`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    ctx.body = { ipGroups: await deps.configs.listGroups(ctx.params.operatorId) };
  });

  router.get(`${op}/ip-groups/:name`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    const group = await deps.configs.getGroup(ctx.params.operatorId, ctx.params.name);
    if (!group) throw hubError('NOT_FOUND', `no IP group ${ctx.params.name}`);
    ctx.body = { ipGroup: group };
  });

  router.post(`${op}/ip-groups`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    await requireOperator(operatorId);
    const body = readBody(ctx);
    const group = await deps.configs.putGroup(operatorId, body.name, body.prefixes, 'create');
    await push(() => deps.pusher.pushConfigs(operatorId), { operatorId });
    ctx.status = 201;
    ctx.body = { ipGroup: group };
  });

  router.put(`${op}/ip-groups/:name`, async (ctx) => {
    const { operatorId, name } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    const group = await deps.configs.putGroup(operatorId, name, readBody(ctx).prefixes, 'replace');
    await push(() => deps.pusher.pushConfigs(operatorId), { operatorId });
    ctx.body = { ipGroup: group };
  });

  router.delete(`${op}/ip-groups/:name`, async (ctx) => {
    const { operatorId, name } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    // Stored with the group's bill as an intent; the edges are told, then it is billed (subject-management.ts).
    if (deps.management) await deps.management.deleteGroup(operatorId, name);
    else await deps.configs.deleteGroup(operatorId, name);
    await push(() => deps.pusher.pushConfigs(operatorId), { operatorId });
    await deps.management?.drain(operatorId);
    ctx.status = 204;
  });

  router.get(`${op}/interface-selection`, async (ctx) => {
    assertOperatorAccess(ctx, ctx.params.operatorId);
    ctx.body = { selection: await deps.configs.getSelection(ctx.params.operatorId) };
  });

  router.put(`${op}/interface-selection`, async (ctx) => {
    const { operatorId } = ctx.params;
    assertOperatorAccess(ctx, operatorId, OPERATOR_WRITERS);
    await requireOperator(operatorId);
    // Each interface it deselects stops being managed now: stored with the selection as an intent,
    // the edges are told, then each is billed up to this instant (subject-management.ts).
    const { selection, unmanagedSubjectIds } = deps.management
      ? await deps.management.putSelection(operatorId, readBody(ctx))
      : { selection: await deps.configs.putSelection(operatorId, readBody(ctx)), unmanagedSubjectIds: [] };
    await push(() => deps.pusher.pushConfigs(operatorId), { operatorId });
    const billing = await deps.management?.drain(operatorId);
    // billingPendingSubjectIds: bills that failed now; they stay queued and are retried at their instant.
    ctx.body = { selection, unmanagedSubjectIds, billingPendingSubjectIds: billing?.billingPendingSubjectIds ?? [] };
  });

  return router;
}
