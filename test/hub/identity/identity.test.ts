import t from 'tap';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { createManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logger';
import { errorMiddleware } from '../../../hub/http/error-middleware';
import { authenticate } from '../../../hub/http/authenticate';
import { createIdentityStore } from '../../../hub/identity/identity-store';
import { createIdentityRoutes } from '../../../hub/identity/identity-routes';
import { tenantNamespace } from '../../../hub/identity/login-names';
import { createLoginThrottle, DEFAULT_LOGIN_THROTTLE_RULES } from '../../../hub/security/login-throttle';
import { callApi } from '../../helpers/test-app';

async function setup() {
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  const identity = createIdentityStore(createMemoryKvStore());
  await identity.createUser({ username: 'admin', password: 'secret', role: 'super_admin' }, clock.nowMs());
  await identity.createOperator('isp1', 'ISP One', clock.nowMs());
  await identity.createOperator('isp2', 'ISP Two', clock.nowMs());
  await identity.createUser({ username: 'noc1', password: 'pw-noc1', role: 'operator_readonly', operatorId: 'isp1' }, clock.nowMs());
  // A customer login as hub/access makes one: its name claimed in its tenant, its password checked by the verifier.
  await identity.loginNames.commit({ claim: [{ namespace: tenantNamespace('isp1'), name: 'cust', owner: { kind: 'customer', operatorId: 'isp1', username: 'cust' } }] });
  const customers = { verify: async (op: string, u: string, p: string) => (op === 'isp1' && u === 'cust' && p === 'cpw' ? { operatorId: 'isp1', customerLogin: 'cust' } : undefined) };
  const app = new Koa();
  app.use(errorMiddleware(silentLogger)).use(bodyParser()).use(authenticate(identity, clock));
  const routes = createIdentityRoutes({ identity, clock, sessionTtlHours: 1, customers, throttle: createLoginThrottle({ rules: DEFAULT_LOGIN_THROTTLE_RULES, clock, log: silentLogger }) });
  app.use(routes.routes());
  const login = async (username: string, password: string) => callApi(app, 'POST', '/api/v1/login', { body: { username, password } });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return { app, clock, login, bearer };
}

t.test('login returns a token that authenticates later calls until it expires', async (t) => {
  const { app, clock, login, bearer } = await setup();
  const res = await login('noc1', 'pw-noc1');
  t.equal(res.status, 200);
  t.match(res.headers['set-cookie'], /fb_session=/);
  const me = await callApi(app, 'GET', '/api/v1/me', { headers: bearer(res.body.token) });
  t.same(me.body.principal, { userId: me.body.principal.userId, username: 'noc1', role: 'operator_readonly', operatorId: 'isp1' });
  clock.advanceMs(3600_000 + 1);
  const later = await callApi(app, 'GET', '/api/v1/me', { headers: bearer(res.body.token) });
  t.equal(later.status, 401);
  t.equal(later.body.error.code, 'UNAUTHENTICATED');
});

t.test('wrong password and unknown user give the same coded error', async (t) => {
  const { login } = await setup();
  for (const [u, p] of [['noc1', 'nope'], ['ghost', 'x']]) {
    const res = await login(u, p);
    t.equal(res.status, 401);
    t.equal(res.body.error.code, 'INVALID_CREDENTIALS');
  }
});

t.test('customers log in through the access-record verifier', async (t) => {
  const { login } = await setup();
  const res = await login('cust', 'cpw');
  t.equal(res.status, 200);
  t.equal(res.body.principal.role, 'customer');
  t.equal(res.body.principal.operatorId, 'isp1');
});

t.test('an operator user sees only their own operator; super_admin sees all', async (t) => {
  const { app, login, bearer } = await setup();
  const noc = (await login('noc1', 'pw-noc1')).body.token;
  const admin = (await login('admin', 'secret')).body.token;
  t.same((await callApi(app, 'GET', '/api/v1/operators', { headers: bearer(noc) })).body.operators.map((o: { operatorId: string }) => o.operatorId), ['isp1']);
  t.same((await callApi(app, 'GET', '/api/v1/operators', { headers: bearer(admin) })).body.operators.map((o: { operatorId: string }) => o.operatorId), ['isp1', 'isp2']);
  t.equal((await callApi(app, 'GET', '/api/v1/operators/isp2', { headers: bearer(noc) })).status, 404, 'another tenant is not even acknowledged');
  t.equal((await callApi(app, 'POST', '/api/v1/operators', { headers: bearer(noc), body: { operatorId: 'x', name: 'x' } })).status, 403);
  const created = await callApi(app, 'POST', '/api/v1/operators', { headers: bearer(admin), body: { operatorId: 'isp3', name: 'Three' } });
  t.equal(created.status, 201);
});

t.test('a read-only operator user cannot create users; duplicate usernames are refused', async (t) => {
  const { app, login, bearer } = await setup();
  const noc = (await login('noc1', 'pw-noc1')).body.token;
  const admin = (await login('admin', 'secret')).body.token;
  t.equal((await callApi(app, 'POST', '/api/v1/operators/isp1/users', { headers: bearer(noc), body: { username: 'x', password: 'yyyy', role: 'operator_admin' } })).status, 403);
  const dup = await callApi(app, 'POST', '/api/v1/operators/isp1/users', { headers: bearer(admin), body: { username: 'noc1', password: 'yyyy', role: 'operator_admin' } });
  t.equal(dup.status, 409);
  t.equal(dup.body.error.code, 'LOGIN_TAKEN');
});
