/**
 * GET /api/v1/session (issue 11: a 401 console error on every load of the web UI): 200 whether or not
 * anyone is logged in, principal null when not; while a password change is due it answers (like /me)
 * with mustChangePassword. /me keeps its 401 for API clients.
 */
import t from 'tap';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { createManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logger';
import { errorMiddleware } from '../../../hub/http/error-middleware';
import { authenticate } from '../../../hub/http/authenticate';
import { requirePasswordChange } from '../../../hub/http/require-password-change';
import { createIdentityStore } from '../../../hub/identity/identity-store';
import { createIdentityRoutes } from '../../../hub/identity/identity-routes';
import { createLoginThrottle, DEFAULT_LOGIN_THROTTLE_RULES } from '../../../hub/security/login-throttle';
import { callApi } from '../../helpers/test-app';

t.test('/session: 200 logged out (principal null), the principal when logged in, mustChangePassword when due; /me still 401 logged out', async (t) => {
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  const identity = createIdentityStore(createMemoryKvStore());
  await identity.createOperator('isp1', 'ISP One', clock.nowMs());
  await identity.createUser({ username: 'noc1', password: 'pw-noc1', role: 'operator_admin', operatorId: 'isp1' }, clock.nowMs());
  await identity.createUser({ username: 'fresh', password: 'one-time-pw', role: 'operator_admin', operatorId: 'isp1', mustChangePassword: true }, clock.nowMs());
  const app = new Koa();
  app.use(errorMiddleware(silentLogger)).use(bodyParser()).use(authenticate(identity, clock)).use(requirePasswordChange(identity));
  app.use(createIdentityRoutes({ identity, clock, sessionTtlHours: 1, throttle: createLoginThrottle({ rules: DEFAULT_LOGIN_THROTTLE_RULES, clock, log: silentLogger }) }).routes());
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const tokenOf = async (username: string, password: string) => (await callApi(app, 'POST', '/api/v1/login', { body: { username, password } })).body.token as string;

  const anonymous = await callApi(app, 'GET', '/api/v1/session');
  t.equal(anonymous.status, 200);
  t.same(anonymous.body, { principal: null, mustChangePassword: false });
  t.equal((await callApi(app, 'GET', '/api/v1/me')).status, 401, '/me is unchanged');
  t.same((await callApi(app, 'GET', '/api/v1/session', { headers: bearer('no-such-token') })).body, { principal: null, mustChangePassword: false }, 'an unknown or expired session is nobody');

  const noc = await callApi(app, 'GET', '/api/v1/session', { headers: bearer(await tokenOf('noc1', 'pw-noc1')) });
  t.equal(noc.status, 200);
  t.match(noc.body, { principal: { username: 'noc1', role: 'operator_admin', operatorId: 'isp1' }, mustChangePassword: false });

  const fresh = await callApi(app, 'GET', '/api/v1/session', { headers: bearer(await tokenOf('fresh', 'one-time-pw')) });
  t.equal(fresh.status, 200, 'allowed while the password change is due');
  t.match(fresh.body, { principal: { username: 'fresh' }, mustChangePassword: true });
});
