/**
 * Issue 9, who reads a customer's NetFlow password in clear. The hole: GET
 * /api/v1/operators/:op/services/:serviceId/client-area only needed a reader, so an operator_readonly
 * user got the customer's plaintext password wherever the operator had enabled showPasswordInClientArea.
 * Now the plaintext goes only to roles that may manage access records (OPERATOR_WRITERS:
 * operator_admin, super_admin), only where display is enabled, on an enabled record; a read-only caller
 * is told `passwordHidden: true` (no plaintext, no length). The welcome mail's dryRun rendering (which
 * holds the password) is writer-only. A customer's own view never echoes the password back: they
 * logged in with it, and a stolen customer session must not yield it.
 *
 * Against the real hub (test/hub/spine/hub-harness.ts with every module), over HTTP.
 */
import t, { type Test } from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { createHubModules } from '../../hub/hub-modules';
import { startTestHub } from '../hub/spine/hub-harness';

const OP = 'isp1';
const PW = 'alice-netflow-pw-1';
const AREA = `/api/v1/operators/${OP}/services/vps-alice/client-area`;

async function accessHub(t: Test) {
  const h = await startTestHub({ modules: createHubModules, config: { dataDir: stackDir(t) } });
  t.teardown(() => h.close());
  const ok = async (method: string, route: string, body?: unknown, token = h.adminToken) => {
    const res = await h.api(method, `/api/v1${route}`, body, token);
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const login = async (username: string, password: string, operatorId?: string) => {
    const res = await h.api('POST', '/api/v1/login', { username, password, ...(operatorId ? { operatorId } : {}) });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token as string;
  };
  await ok('POST', '/operators', { operatorId: OP, name: 'ISP One' });
  await ok('POST', `/operators/${OP}/users`, { username: 'boss1', password: 'boss-password-1', role: 'operator_admin' });
  await ok('POST', `/operators/${OP}/users`, { username: 'noc1', password: 'noc-password-1', role: 'operator_readonly' });
  await ok('POST', `/operators/${OP}/clients`, { clientId: 'alice', name: 'Alice Ltd', email: 'alice@customer.example' });
  await ok('POST', `/operators/${OP}/services`, { serviceId: 'vps-alice', clientId: 'alice', type: 'vps', label: 'VPS Small' });
  const record = (await ok('POST', `/operators/${OP}/access-records`, { serviceId: 'vps-alice', username: 'alice', password: PW, group: { kind: 'ip_group', value: 'alice' } })).record;
  const tokens = { admin: h.adminToken, boss: await login('boss1', 'boss-password-1'), noc: await login('noc1', 'noc-password-1'), customer: await login('alice', PW, OP) };
  const as = (who: keyof typeof tokens) => (method: string, route: string, body?: unknown) => h.api(method, route, body, tokens[who]);
  const setRecord = (fields: Record<string, unknown>) => ok('PATCH', `/operators/${OP}/access-records/${record.recordId}`, fields);
  return { h, as, setRecord, recordId: record.recordId as string };
}

t.test('the hole: an operator_readonly user does not read the customer\'s password from the client area', async (t) => {
  const { as, setRecord } = await accessHub(t);
  await setRecord({ showPasswordInClientArea: true });
  const res = await as('noc')('GET', AREA);
  t.equal(res.status, 200, 'read-only users still see the section');
  t.match(res.body.section, { title: 'Network usage', username: 'alice', passwordHidden: true });
  t.notOk('password' in res.body.section, 'no password field');
  t.notOk(JSON.stringify(res.body).includes(PW), 'the plaintext is nowhere in the answer');
  t.same(Object.keys(res.body.section).sort(), ['buttonLabel', 'buttonUrl', 'group', 'ipAddress', 'passwordHidden', 'title', 'username'], 'and no field that would tell its length');
});

t.test('writers get the password only where the operator enabled display, on an enabled record', async (t) => {
  const { as, setRecord } = await accessHub(t);
  for (const who of ['boss', 'admin', 'noc'] as const) {
    const section = (await as(who)('GET', AREA)).body.section;
    t.notOk('password' in section || 'passwordHidden' in section, `${who}: display off: no password, nothing hidden to mention`);
  }
  await setRecord({ showPasswordInClientArea: true });
  t.equal((await as('boss')('GET', AREA)).body.section.password, PW, 'operator_admin with display on');
  t.equal((await as('admin')('GET', AREA)).body.section.password, PW, 'super_admin with display on');
  await setRecord({ enabled: false });
  for (const who of ['boss', 'noc'] as const) t.equal((await as(who)('GET', AREA)).body.section, null, `${who}: disabled record: no section`);
  await setRecord({ enabled: true, clearPassword: true });
  const cleared = (await as('noc')('GET', AREA)).body.section;
  t.notOk('password' in cleared || 'passwordHidden' in cleared, 'no stored password: nothing to hide');
});

t.test('the welcome mail\'s dryRun (which renders the password) is for writers only', async (t) => {
  const { as, recordId } = await accessHub(t);
  const url = `/api/v1/operators/${OP}/access-records/${recordId}/welcome-mail`;
  const denied = await as('noc')('POST', url, { dryRun: true });
  t.equal(denied.status, 403);
  t.notOk(JSON.stringify(denied.body).includes(PW));
  const customer = await as('customer')('POST', url, { dryRun: true });
  t.equal(customer.status, 403, 'nor a customer');
  const dry = await as('boss')('POST', url, { dryRun: true });
  t.equal(dry.status, 200);
  t.match(dry.body.message.text, `Password: ${PW}`, 'control: an operator_admin sees the rendering');
});

t.test('a customer session sees its services but never its password, whatever the operator enabled', async (t) => {
  const { as, setRecord } = await accessHub(t);
  await setRecord({ showPasswordInClientArea: true });
  const services = await as('customer')('GET', '/api/v1/customer/services');
  t.equal(services.status, 200);
  t.match(services.body.services, [{ serviceId: 'vps-alice' }]);
  t.notOk(JSON.stringify(services.body).includes(PW), 'no password in the customer\'s own view');
  t.equal((await as('customer')('GET', AREA)).status, 403, 'the operators\' client-area route is not the customer\'s');
  t.equal((await as('customer')('GET', `/api/v1/operators/${OP}/access-records`)).status, 403);
});
