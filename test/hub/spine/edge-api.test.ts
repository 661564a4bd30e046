import t from 'tap';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { edgeConfigCodec, EdgeState, emptyCounters, type EdgeStatus } from '../../../proto/codec';
import { createCollectionConfigStore } from '../../../hub/edges/collection-config-store';
import { createEdgeConfigPusher } from '../../../hub/edges/edge-config-pusher';
import { createEdgeRegistry } from '../../../hub/edges/edge-registry';
import { createEdgeRoutes } from '../../../hub/edges/edge-routes';
import { createEdgeStatusTracker } from '../../../hub/edges/edge-status-tracker';
import { createLiveFlowsCache } from '../../../hub/edges/live-flows-cache';
import { createKvSeriesStore } from '../../../hub/store/kv-series-store';
import { seedSeries } from '../store/series-fixtures';
import { createSeriesRoutes } from '../../../hub/store/series-routes';
import { type CollectionPolicy, eachSpan } from '../../../hub/ports';
import type { Principal } from '../../../hub/http/principal';
import { callApi, createTestApp } from '../../helpers/test-app';
import { recordingPublisher } from './ingest-fixtures';

const admin1: Principal = { userId: 'u1', username: 'a1', role: 'operator_admin', operatorId: 'isp1' };
const reader1: Principal = { userId: 'u2', username: 'r1', role: 'operator_readonly', operatorId: 'isp1' };
const admin2: Principal = { userId: 'u3', username: 'a2', role: 'operator_admin', operatorId: 'isp2' };

function setup(opts: { paused?: boolean } = {}) {
  const kv = createMemoryKvStore();
  const clock = createManualClock(Date.UTC(2026, 10, 3, 12));
  const registry = createEdgeRegistry({ kv, clock, publicMqttUrl: 'mqtt://hub.example:1883' });
  const configs = createCollectionConfigStore(kv);
  const status = createEdgeStatusTracker({ clock, staleAfterMs: 60_000 });
  const liveFlows = createLiveFlowsCache();
  const rec = recordingPublisher();
  const state = async () => (opts.paused ? { allowed: false, reason: 'trial expired' } : { allowed: true });
  const policy: CollectionPolicy = { collectionState: state, collectionAllowedDuring: eachSpan(state) };
  const pusher = createEdgeConfigPusher({ registry, configs, policy, publisher: rec.publisher, clock, log: silentLogger });
  const store = createKvSeriesStore({ kv });
  const app = createTestApp([
    createEdgeRoutes({ registry, status, liveFlows, configs, pusher, operatorExists: async (id) => id === 'isp1' || id === 'isp2', log: silentLogger }),
    createSeriesRoutes({ series: store, clock }),
  ]);
  const call = (principal: Principal | undefined, method: string, path: string, body?: unknown) => callApi(app, method, path, { principal, body });
  const configsPublished = () => rec.published.filter((p) => p.topic.endsWith('/config')).map((p) => ({ topic: p.topic, retain: p.retain, config: p.payload.length ? edgeConfigCodec.decode(p.payload) : null }));
  return { kv, clock, registry, status, liveFlows, store, call, configsPublished, published: rec.published };
}

t.test('create edge: 201 with credentials; same name again returns the same edge with rotated credentials', async (t) => {
  const { call, registry } = setup();
  const first = await call(admin1, 'POST', '/api/v1/operators/isp1/edges', { name: 'pop-1' });
  t.equal(first.status, 201);
  t.match(first.body, { edge: { name: 'pop-1', operatorId: 'isp1', revoked: false }, credentials: { tenantId: 'isp1', mqttUrl: 'mqtt://hub.example:1883' } });
  t.notOk('secretHash' in first.body.edge, 'no hash in responses');
  const again = await call(admin1, 'POST', '/api/v1/operators/isp1/edges', { name: 'pop-1' });
  t.equal(again.status, 200);
  t.equal(again.body.edge.edgeId, first.body.edge.edgeId);
  t.not(again.body.credentials.password, first.body.credentials.password);
  t.same(await registry.verifyMqtt(first.body.edge.edgeId, first.body.credentials.password), undefined, 'old password no longer works');
  t.same(await registry.verifyMqtt(first.body.edge.edgeId, again.body.credentials.password), { kind: 'edge', edgeId: first.body.edge.edgeId, operatorId: 'isp1' });
  const stored = await registry.getEdge(first.body.edge.edgeId);
  t.match(stored!.secretHash, /^scrypt\$/, 'stored as an scrypt hash');
});

t.test('tenant guard and roles', async (t) => {
  const { call } = setup();
  t.equal((await call(admin2, 'POST', '/api/v1/operators/isp1/edges', { name: 'x' })).status, 404);
  t.equal((await call(reader1, 'POST', '/api/v1/operators/isp1/edges', { name: 'x' })).status, 403);
  t.equal((await call(undefined, 'GET', '/api/v1/operators/isp1/edges')).status, 401);
  t.equal((await call(reader1, 'GET', '/api/v1/operators/isp1/edges')).status, 200);
  t.equal((await call({ userId: 's', username: 's', role: 'super_admin' }, 'POST', '/api/v1/operators/nope/edges', { name: 'x' })).status, 404);
});

t.test('enrollment tokens are single use and expire', async (t) => {
  const { call, clock } = setup();
  const tok = await call(admin1, 'POST', '/api/v1/operators/isp1/enrollment-tokens', { ttlHours: 1 });
  t.equal(tok.status, 201);
  t.equal(tok.body.expiresAtMs, clock.nowMs() + 3600_000);
  const enrolled = await call(undefined, 'POST', '/api/v1/enroll', { token: tok.body.token, name: 'pop-9' });
  t.equal(enrolled.status, 201);
  t.match(enrolled.body, { edge: { operatorId: 'isp1', name: 'pop-9' }, credentials: { tenantId: 'isp1' } });
  const reuse = await call(undefined, 'POST', '/api/v1/enroll', { token: tok.body.token, name: 'pop-10' });
  t.same([reuse.status, reuse.body.error.code], [401, 'ENROLLMENT_TOKEN_INVALID']);
  const tok2 = await call(admin1, 'POST', '/api/v1/operators/isp1/enrollment-tokens', {});
  clock.advanceMs(24 * 3600_000);
  t.equal((await call(undefined, 'POST', '/api/v1/enroll', { token: tok2.body.token, name: 'late' })).status, 401);
  t.equal((await call(undefined, 'POST', '/api/v1/enroll', { token: 'made-up', name: 'x' })).status, 401);
});

t.test('revoke: edge marked revoked, listeners told, credentials refused, name reusable for a new edge', async (t) => {
  const { call, registry } = setup();
  const created = (await call(admin1, 'POST', '/api/v1/operators/isp1/edges', { name: 'pop-1' })).body;
  const revokedEdges: string[] = [];
  registry.onRevoked((e) => { revokedEdges.push(e.edgeId); });
  const res = await call(admin1, 'POST', `/api/v1/operators/isp1/edges/${created.edge.edgeId}/revoke`);
  t.equal(res.body.edge.revoked, true);
  t.same(revokedEdges, [created.edge.edgeId]);
  t.equal(await registry.verifyMqtt(created.edge.edgeId, created.credentials.password), undefined);
  t.equal((await call(admin1, 'POST', `/api/v1/operators/isp1/edges/${created.edge.edgeId}/rotate`)).body.error.code, 'EDGE_REVOKED');
  const again = await call(admin1, 'POST', '/api/v1/operators/isp1/edges', { name: 'pop-1' });
  t.equal(again.status, 201);
  t.not(again.body.edge.edgeId, created.edge.edgeId);
  t.equal((await call(admin2, 'POST', `/api/v1/operators/isp2/edges/${again.body.edge.edgeId}/revoke`)).status, 404, 'another tenant cannot revoke it');
});

t.test('edge list shows status from birth/heartbeat/death; an older session OFFLINE is ignored', async (t) => {
  const { call, status, clock } = setup();
  const { edge } = (await call(admin1, 'POST', '/api/v1/operators/isp1/edges', { name: 'pop-1' })).body;
  const msg = (state: number, session: number): EdgeStatus => ({
    edgeId: edge.edgeId, tenantId: 'isp1', state: state as EdgeStatus['state'], session, atMs: clock.nowMs(), softwareVersion: '1.0', counters: { ...emptyCounters(), flowsDecoded: 5 },
    exporters: [], configVersion: 1, collectionPaused: false,
  });
  const view = async () => (await call(reader1, 'GET', '/api/v1/operators/isp1/edges')).body.edges[0].status;
  t.match(await view(), { state: 'unknown', online: false, lastSeenMs: null });
  status.apply(msg(EdgeState.BIRTH, 1));
  status.apply(msg(EdgeState.BIRTH, 2)); // reconnect: new session
  clock.advanceMs(10_000);
  t.equal(status.apply(msg(EdgeState.OFFLINE, 1)), 'ignored_older_session', 'the late will of session 1');
  t.match(await view(), { state: 'birth', online: true, session: 2, counters: { flowsDecoded: 5 } });
  status.apply(msg(EdgeState.ONLINE, 2));
  t.match(await view(), { state: 'online', online: true, lastSeenMs: clock.nowMs() });
  clock.advanceMs(61_000);
  t.match(await view(), { state: 'online', online: false }, 'silent for longer than staleAfterMs');
  status.apply(msg(EdgeState.OFFLINE, 2));
  t.match(await view(), { state: 'offline', online: false });
});

t.test('IP groups: validated CRUD; every change pushes a retained config with a new version', async (t) => {
  const { call, configsPublished } = setup();
  const { edge } = (await call(admin1, 'POST', '/api/v1/operators/isp1/edges', { name: 'pop-1' })).body;
  const bad = await call(admin1, 'POST', '/api/v1/operators/isp1/ip-groups', { name: 'cust-a', prefixes: ['10.0.0.1/8', 'nonsense', '192.0.2.0/24'] });
  t.equal(bad.status, 400);
  t.match(bad.body.error.message, /host bits are set.*nonsense/);
  t.equal((await call(admin1, 'POST', '/api/v1/operators/isp1/ip-groups', { name: 'bad name!', prefixes: ['10.0.0.0/8'] })).status, 400);
  const created = await call(admin1, 'POST', '/api/v1/operators/isp1/ip-groups', { name: 'cust-a', prefixes: ['10.0.0.0/8', '2001:DB8::/32', '192.0.2.10-192.0.2.20'] });
  t.equal(created.status, 201);
  t.same(created.body.ipGroup.prefixes, ['10.0.0.0/8', '2001:db8::/32', '192.0.2.10-192.0.2.20']);
  t.equal((await call(admin1, 'POST', '/api/v1/operators/isp1/ip-groups', { name: 'cust-a', prefixes: ['10.0.0.0/8'] })).status, 409);
  t.equal((await call(admin1, 'PUT', '/api/v1/operators/isp1/ip-groups/cust-a', { prefixes: ['10.1.0.0/16'] })).status, 200);
  t.same((await call(reader1, 'GET', '/api/v1/operators/isp1/ip-groups/cust-a')).body.ipGroup, { name: 'cust-a', prefixes: ['10.1.0.0/16'] });
  t.equal((await call(admin2, 'GET', '/api/v1/operators/isp1/ip-groups')).status, 404);
  t.equal((await call(admin1, 'DELETE', '/api/v1/operators/isp1/ip-groups/cust-a')).status, 204);
  t.equal((await call(admin1, 'DELETE', '/api/v1/operators/isp1/ip-groups/cust-a')).status, 404);
  const pushes = configsPublished();
  t.ok(pushes.every((p) => p.retain && p.topic === `flowbill/v1/isp1/${edge.edgeId}/config`));
  t.same(pushes.map((p) => [p.config!.version, p.config!.ipGroups.map((g) => g.prefixes.join(','))]), [
    [1, []], [2, ['10.0.0.0/8,2001:db8::/32,192.0.2.10-192.0.2.20']], [3, ['10.1.0.0/16']], [4, []],
  ]);
});

t.test('interface selection and the collection pause are in the pushed config', async (t) => {
  const { call, configsPublished } = setup({ paused: true });
  await call(admin1, 'POST', '/api/v1/operators/isp1/edges', { name: 'pop-1' });
  t.same((await call(reader1, 'GET', '/api/v1/operators/isp1/interface-selection')).body.selection, { allInterfaces: true, interfaces: [] });
  const put = await call(admin1, 'PUT', '/api/v1/operators/isp1/interface-selection', { allInterfaces: false, interfaces: [{ exporter: '192.0.2.1', ifIndex: 3 }, { exporter: '192.0.2.1', ifIndex: 3 }] });
  t.same(put.body.selection, { allInterfaces: false, interfaces: [{ exporter: '192.0.2.1', ifIndex: 3 }] });
  t.equal((await call(admin1, 'PUT', '/api/v1/operators/isp1/interface-selection', { allInterfaces: false, interfaces: [{ exporter: 'router-1', ifIndex: 3 }] })).status, 400);
  const last = configsPublished().at(-1)!.config!;
  t.match(last, { collectionPaused: true, pauseReason: 'trial expired', allInterfaces: false, interfaces: [{ exporter: '192.0.2.1', ifIndex: 3 }] });
});

t.test('consumers and live flows', async (t) => {
  const { call, liveFlows } = setup();
  const res = await call(admin1, 'POST', '/api/v1/operators/isp1/consumers', { name: 'export' });
  t.equal(res.status, 201);
  t.match(res.body.credentials, { username: /^consumer-/, tenantId: 'isp1' });
  liveFlows.put('isp1', 'edge-x', { edgeId: 'edge-x', atMs: 1, windowSec: 5, talkers: [] }, 2);
  liveFlows.put('isp2', 'edge-y', { edgeId: 'edge-y', atMs: 1, windowSec: 5, talkers: [] }, 2);
  t.same((await call(reader1, 'GET', '/api/v1/operators/isp1/live-flows')).body.edges.map((e: { edgeId: string }) => e.edgeId), ['edge-x']);
});

t.test('series API: subjects, one subject series with bps and totals, top subjects', async (t) => {
  const { call, store } = setup();
  const b = Date.UTC(2026, 10, 3, 10) / 1000;
  const s = (subjectId: string, bucketStartSec: number, bytesIn: number, bytesOut: number) => ({ subjectId, kind: subjectId.startsWith('ipg:') ? 'ip_group' as const : 'interface' as const, bucketStartSec, bytesIn, bytesOut, packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1 });
  await seedSeries(store, 'isp1', [s('if:192.0.2.1/3', b, 3000, 300), s('if:192.0.2.1/3', b + 300, 750, 0), s('ipg:cust-a', b, 10, 10)]);
  const subjects = await call(reader1, 'GET', '/api/v1/operators/isp1/subjects');
  t.same(subjects.body.subjects.map((x: { subjectId: string }) => x.subjectId), ['if:192.0.2.1/3', 'ipg:cust-a']);
  const series = await call(reader1, 'GET', `/api/v1/operators/isp1/subjects/${encodeURIComponent('if:192.0.2.1/3')}/series?fromSec=${b}&toSec=${b + 3600}`);
  t.same(series.body.points.map((p: { bpsIn: number; bpsOut: number }) => [p.bpsIn, p.bpsOut]), [[80, 8], [20, 0]]);
  t.same(series.body.totals, { bytesIn: 3750, bytesOut: 300, packetsIn: 2, packetsOut: 2, flowsIn: 2, flowsOut: 2 });
  t.equal((await call(reader1, 'GET', `/api/v1/operators/isp1/subjects/x/series?fromSec=10&toSec=5`)).status, 400);
  t.equal((await call(admin2, 'GET', `/api/v1/operators/isp1/subjects`)).status, 404);
  const top = await call(reader1, 'GET', `/api/v1/operators/isp1/top-subjects?fromSec=${b}&toSec=${b + 3600}&limit=1`);
  t.match(top.body.subjects, [{ subjectId: 'if:192.0.2.1/3', bytesTotal: 4050, peakBpsIn: 80 }]);
  t.equal(top.body.subjects.length, 1);
});
