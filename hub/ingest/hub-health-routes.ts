import Router from '@koa/router';
import { requireRole } from '../http/principal';

export interface HubHealthDeps {
  mqttConnected(): boolean;
  counters(): Record<string, Record<string, number>>;
  /** The hub's clock when it is not the system clock (FLOWBILL_CLOCK), shown on /health so it cannot go unnoticed. */
  clock?(): Record<string, unknown> | undefined;
}

/**
 * GET /api/v1/health: no login, for load balancers and `npm start` scripts: {ok, mqttConnected}
 * (503 while the hub's MQTT client is down, since nothing is ingested then), and `clock` when the hub
 * runs on a shifted clock (FLOWBILL_CLOCK, tests only).
 * GET /api/v1/hub/counters (super_admin): ingest and dispatch counters ("a counter and one log line").
 */
export function createHubHealthRoutes(deps: HubHealthDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  router.get('/health', async (ctx) => {
    const mqttConnected = deps.mqttConnected();
    ctx.status = mqttConnected ? 200 : 503;
    const clock = deps.clock?.();
    ctx.body = { ok: mqttConnected, mqttConnected, ...(clock ? { clock } : {}) };
  });
  router.get('/hub/counters', requireRole('super_admin'), async (ctx) => {
    ctx.body = { counters: deps.counters() };
  });
  return router;
}
