// Operator users (list, disable/enable with its rules) and read-only consumer credentials (list, revoke):
// the routes issue 11's users page calls.
import t from 'tap';
import { eachSpan } from '../../../hub/ports';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { createManualClock } from '../../../common/clock';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { silentLogger } from '../../../common/logger';
import { errorMiddleware } from '../../../hub/http/error-middleware';
import { authenticate } from '../../../hub/http/authenticate';
import { createIdentityStore } from '../../../hub/identity/identity-store';
import { createIdentityRoutes } from '../../../hub/identity/identity-routes';
import { createPasswordRoutes } from '../../../hub/identity/password-routes';
import { createUserAdminRoutes } from '../../../hub/identity/user-admin-routes';
import { createLoginThrottle, DEFAULT_LOGIN_THROTTLE_RULES } from '../../../hub/security/login-throttle';
import { createCollectionConfigStore } from '../../../hub/edges/collection-config-store';
import { createEdgeConfigPusher } from '../../../hub/edges/edge-config-pusher';
import { createEdgeRegistry } from '../../../hub/edges/edge-registry';
import { createEdgeRoutes } from '../../../hub/edges/edge-routes';
import { createEdgeStatusTracker } from '../../../hub/edges/edge-status-tracker';
import { createLiveFlowsCache } from '../../../hub/edges/live-flows-cache';
import { callApi } from '../../helpers/test-app';
import { recordingPublisher } from '../spine/ingest-fixtures';

/** The identity routes behind the real session middleware: each call logs in as a real user. */
async function setup() {
  const kv = createMemoryKvStore();
  const clock = createManualClock(Date.UTC(2026, 10, 3, 12));
  const identity = createIdentityStore(kv);
  await identity.createUser({ username: 'root', password: 'root-pw', role: 'super_admin' }, clock.nowMs());
  for (const op of ['isp1', 'isp2']) await identity.createOperator(op, op.toUpperCase(), clock.nowMs());
  const boss = await identity.createUser({ username: 'boss', password: 'boss-pw', role: 'operator_admin', operatorId: 'isp1' }, clock.nowMs());
  const noc = await identity.createUser({ username: 'noc', password: 'noc-pw', role: 'operator_readonly', operatorId: 'isp1' }, clock.nowMs());
  const other = await identity.createUser({ username: 'other', password: 'other-pw', role: 'operator_admin', operatorId: 'isp2' }, clock.nowMs());

  const registry = createEdgeRegistry({ kv, clock, publicMqttUrl: 'mqtt://hub.example:1883' });
  const configs = createCollectionConfigStore(kv);
  const allowed = async () => ({ allowed: true });
  const pusher = createEdgeConfigPusher({ registry, configs, policy: { collectionState: allowed, collectionAllowedDuring: eachSpan(allowed) }, publisher: recordingPublisher().publisher, clock, log: silentLogger });
  const disconnected: string[] = [];

  const app = new Koa();
  app.use(errorMiddleware(silentLogger)).use(bodyParser()).use(authenticate(identity, clock));
  for (const r of [
    createIdentityRoutes({ identity, clock, sessionTtlHours: 8, throttle: createLoginThrottle({ rules: DEFAULT_LOGIN_THROTTLE_RULES, clock, log: silentLogger }) }),
    createPasswordRoutes({ identity, log: silentLogger }),
    createUserAdminRoutes({ identity, clock, log: silentLogger }),
    createEdgeRoutes({ registry, status: createEdgeStatusTracker({ clock, staleAfterMs: 60_000 }), liveFlows: createLiveFlowsCache(), configs, pusher,
      operatorExists: async (id) => !!(await identity.getOperator(id)), onConsumerRevoked: (u) => { disconnected.push(u); }, log: silentLogger }),
  ]) app.use(r.routes()).use(r.allowedMethods());

  const login = async (username: string, password: string, operatorId?: string) => callApi(app, 'POST', '/api/v1/login', { body: { username, password, operatorId } });
  const as = async (username: string, password: string) => {
    const res = await login(username, password);
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    const headers = { authorization: `Bearer ${res.body.token}` };
    return (method: string, path: string, body?: unknown) => callApi(app, method, path, { headers, body });
  };
  return { app, identity, registry, login, as, boss, noc, other, disconnected };
}

t.test('GET users: the tenant\'s users without secrets, for every role of the tenant; other tenants are not found', async (t) => {
  const { as } = await setup();
  const asNoc = await as('noc', 'noc-pw');
  const res = await asNoc('GET', '/api/v1/operators/isp1/users');
  t.equal(res.status, 200);
  t.same(res.body.users.map((u: { username: string }) => u.username), ['boss', 'noc']);
  t.match(res.body.users[0], { role: 'operator_admin', operatorId: 'isp1', enabled: true, mustChangePassword: false });
  t.notOk(JSON.stringify(res.body).includes('passwordHash'), 'no hash in the answer');
  t.equal((await asNoc('GET', '/api/v1/operators/isp2/users')).status, 404, 'another tenant answers like a missing one');
  const asRoot = await as('root', 'root-pw');
  t.same((await asRoot('GET', '/api/v1/operators/isp2/users')).body.users.map((u: { username: string }) => u.username), ['other'], 'super_admin reads any tenant');
  t.equal((await asRoot('GET', '/api/v1/operators/nope/users')).status, 404);
});

t.test('disable ends the user\'s sessions and refuses their login; enable lets them in again', async (t) => {
  const { as, login, noc } = await setup();
  const asNoc = await as('noc', 'noc-pw');
  const asBoss = await as('boss', 'boss-pw');
  const off = await asBoss('PATCH', `/api/v1/operators/isp1/users/${noc.userId}`, { enabled: false });
  t.equal(off.status, 200);
  t.match(off.body, { user: { username: 'noc', enabled: false, disabledAtMs: Date.UTC(2026, 10, 3, 12) }, endedSessions: 1 });
  t.equal((await asNoc('GET', '/api/v1/me')).status, 401, 'the open session has ended');
  const refused = await login('noc', 'noc-pw');
  t.equal(refused.status, 401);
  t.equal(refused.body.error.code, 'INVALID_CREDENTIALS', 'a disabled user fails like a wrong password');
  const on = await asBoss('PATCH', `/api/v1/operators/isp1/users/${noc.userId}`, { enabled: true });
  t.match(on.body, { user: { enabled: true }, endedSessions: 0 });
  t.notOk('disabledAtMs' in on.body.user);
  t.equal((await login('noc', 'noc-pw')).status, 200);
});

t.test('disable rules: not yourself, not the last enabled operator_admin, writers only, own tenant only', async (t) => {
  const { as, identity, boss, noc, other } = await setup();
  const asBoss = await as('boss', 'boss-pw');
  const self = await asBoss('PATCH', `/api/v1/operators/isp1/users/${boss.userId}`, { enabled: false });
  t.equal(self.status, 400);
  t.match(self.body.error.message, /cannot disable yourself/);

  const asRoot = await as('root', 'root-pw');
  const last = await asRoot('PATCH', `/api/v1/operators/isp1/users/${boss.userId}`, { enabled: false });
  t.equal(last.status, 409);
  t.match(last.body.error.message, /boss is the last enabled operator_admin of isp1/);
  // With a second admin, the first may go (by super_admin, who manages any tenant).
  await identity.createUser({ username: 'deputy', password: 'deputy-pw', role: 'operator_admin', operatorId: 'isp1' }, 0);
  t.equal((await asRoot('PATCH', `/api/v1/operators/isp1/users/${boss.userId}`, { enabled: false })).status, 200);

  const asNoc = await as('noc', 'noc-pw');
  const ro = await asNoc('PATCH', `/api/v1/operators/isp1/users/${noc.userId}`, { enabled: false });
  t.equal(ro.status, 403, 'operator_readonly cannot write');
  const asDeputy = await as('deputy', 'deputy-pw');
  t.equal((await asDeputy('PATCH', `/api/v1/operators/isp2/users/${other.userId}`, { enabled: false })).status, 404, 'another tenant');
  t.equal((await asDeputy('PATCH', `/api/v1/operators/isp1/users/${other.userId}`, { enabled: false })).status, 404, 'another tenant\'s user through ours');
  const bad = await asDeputy('PATCH', `/api/v1/operators/isp1/users/${noc.userId}`, { enabled: 'no' });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'VALIDATION_FAILED');
});

t.test('two admins disabling each other at once: one of them stays', async (t) => {
  const { as, identity, boss } = await setup();
  const deputy = await identity.createUser({ username: 'deputy', password: 'deputy-pw', role: 'operator_admin', operatorId: 'isp1' }, 0);
  const asRoot = await as('root', 'root-pw');
  const [a, b] = await Promise.all([
    asRoot('PATCH', `/api/v1/operators/isp1/users/${boss.userId}`, { enabled: false }),
    asRoot('PATCH', `/api/v1/operators/isp1/users/${deputy.userId}`, { enabled: false }),
  ]);
  t.same([a.status, b.status].sort(), [200, 409]);
  const admins = (await identity.listUsers('isp1')).filter((u) => u.role === 'operator_admin' && u.disabledAtMs === undefined);
  t.equal(admins.length, 1);
});

t.test('add a user, reset to a one-time password: shown once, must change at next login', async (t) => {
  const { as, login } = await setup();
  const asBoss = await as('boss', 'boss-pw');
  const created = await asBoss('POST', '/api/v1/operators/isp1/users', { username: 'night', password: 'first-pw', role: 'operator_readonly' });
  t.equal(created.status, 201);
  const reset = await asBoss('POST', `/api/v1/operators/isp1/users/${created.body.user.userId}/password`);
  t.equal(reset.status, 200);
  t.equal(reset.headers['cache-control'], 'no-store');
  t.ok(reset.body.oneTimePassword.length >= 12);
  const list = await asBoss('GET', '/api/v1/operators/isp1/users');
  t.match(list.body.users.find((u: { username: string }) => u.username === 'night'), { mustChangePassword: true, enabled: true });
  t.equal((await login('night', 'first-pw')).status, 401);
  t.equal((await login('night', reset.body.oneTimePassword)).status, 200);
});

t.test('consumers: create shows the password once; list has no secrets; revoke refuses MQTT and closes connections', async (t) => {
  const { as, registry, disconnected } = await setup();
  const asBoss = await as('boss', 'boss-pw');
  const made = await asBoss('POST', '/api/v1/operators/isp1/consumers', { name: 'billing export' });
  t.equal(made.status, 201);
  const { username, password } = made.body.credentials;
  t.match(await registry.verifyMqtt(username, password), { kind: 'consumer', operatorId: 'isp1' });

  const asNoc = await as('noc', 'noc-pw');
  const list = await asNoc('GET', '/api/v1/operators/isp1/consumers');
  t.equal(list.status, 200);
  t.match(list.body.consumers, [{ username, name: 'billing export', operatorId: 'isp1' }]);
  t.notOk(JSON.stringify(list.body).includes('secretHash'));
  t.equal((await asNoc('DELETE', `/api/v1/operators/isp1/consumers/${username}`)).status, 403, 'operator_readonly cannot revoke');

  const asOther = await as('other', 'other-pw');
  t.equal((await asOther('GET', '/api/v1/operators/isp2/consumers')).body.consumers.length, 0, 'tenants do not see each other\'s');
  t.equal((await asOther('DELETE', `/api/v1/operators/isp2/consumers/${username}`)).status, 404, 'another tenant\'s consumer is not found');

  t.equal((await asBoss('DELETE', `/api/v1/operators/isp1/consumers/${username}`)).status, 204);
  t.equal(await registry.verifyMqtt(username, password), undefined, 'the revoked consumer cannot connect');
  t.same(disconnected, [username], 'its live connections are closed');
  t.equal((await asBoss('GET', '/api/v1/operators/isp1/consumers')).body.consumers.length, 0);
  t.equal((await asBoss('DELETE', `/api/v1/operators/isp1/consumers/${username}`)).status, 404);
});
