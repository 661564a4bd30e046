import t from 'tap';
import { eachSpan } from '../../../hub/ports';
import Router from '@koa/router';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { loadHubConfig } from '../../../hub/config';
import { createHub, type HubContext, type HubModules } from '../../../hub/create-hub';
import { callApi } from '../../helpers/test-app';
import { AckStatus } from '../../../proto/codec';
import { encodeBatch, makeBatch, makeSummary } from './ingest-fixtures';
import { startTestHub } from './hub-harness';

t.test('app.callback() works without start: health says MQTT is down', async (t) => {
  const config = loadHubConfig({}, { httpPort: 0, mqttPort: 0, adminPassword: 'admin-pw', jobsEnabled: false });
  const hub = createHub({ config, kv: createMemoryKvStore(), clock: createManualClock(0), log: silentLogger });
  const res = await callApi(hub.app, 'GET', '/api/v1/health');
  t.same([res.status, res.body], [503, { ok: false, mqttConnected: false }]);
  t.equal((await callApi(hub.app, 'GET', '/api/v1/operators/x/edges')).status, 401);
});

t.test('modules: created with the context, routers mounted, policy used by ingest, started and stopped in order', async (t) => {
  const events: string[] = [];
  let seen: HubContext | undefined;
  const nowMs = Date.UTC(2026, 10, 3, 12);
  const pauseAtMs = nowMs - 1800_000;
  const modules = (ctx: HubContext): HubModules => {
    seen = ctx;
    const router = new Router({ prefix: '/api/v1' });
    router.get('/fake/ping', (c) => { c.body = { pong: true }; });
    return {
      modules: [
        { name: 'a', routers: [router], start: async () => { events.push('start a'); }, stop: async () => { events.push('stop a'); } },
        { name: 'b', start: async () => { events.push('start b'); }, stop: async () => { events.push('stop b'); } },
      ],
      // A port is passed by name, not found on a module.
      collectionPolicy: {
        collectionState: async (_op, atMs) => (atMs >= pauseAtMs ? { allowed: false, reason: 'add-on inactive' } : { allowed: true }),
        collectionAllowedDuring: eachSpan((_op, fromMs) => (fromMs >= pauseAtMs ? { allowed: false, reason: 'add-on inactive' } : { allowed: true })),
      },
    };
  };
  const h = await startTestHub({ nowMs, modules });
  t.ok(seen && typeof seen.purgeOperatorData === 'function' && seen.seriesReader && seen.edgeConfigPusher && seen.identity);
  t.same((await h.api('GET', '/api/v1/fake/ping')).body, { pong: true });
  await h.admin('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'ISP 1' });
  const { edge } = (await h.admin('POST', '/api/v1/operators/isp1/edges', { name: 'pop' })).body;
  const ack = await h.hub.services.ingestor.handle(`flowbill/v1/isp1/${edge.edgeId}/summaries`, encodeBatch(makeBatch(edge.edgeId, 'isp1', 1, [makeSummary('ipg:a', pauseAtMs / 1000 - 300, 1), makeSummary('ipg:a', pauseAtMs / 1000, 1)])));
  t.match(ack, { status: AckStatus.STORED, reason: /refused: collection paused: add-on inactive/ });
  t.match(await h.hub.services.edgeConfigPusher.buildConfig('isp1'), { collectionPaused: true, pauseReason: 'add-on inactive' });
  await h.close();
  t.same(events, ['start a', 'start b', 'stop b', 'stop a']);
});
