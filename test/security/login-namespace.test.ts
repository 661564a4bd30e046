/**
 * Issue 9, tenant-safe logins. The hole: usernames were one global namespace, and /api/v1/login
 * looked up operator users first and customers only when no user had the name. So an operator admin
 * of tenant B could create a user named like tenant A's customer: from then on that name logged into
 * B, and A's customer was locked out. LOGIN_TAKEN also told B which names other tenants used.
 *
 * Now a name is unique within its tenant (or among super_admins), in one place
 * (hub/identity/login-names.ts); login takes an optional organization (operatorId), and without one
 * tries every account with that name, refusing when several passwords match.
 *
 * Against the real hub (every module, HTTP on an ephemeral port).
 */
import t, { type Test } from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { randomUUID } from 'node:crypto';
import { collect, prefixRange, type KeyValueStore } from '../../common/kv/kv-store';
import { encodeJson } from '../../common/kv/json-codec';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { createSecretBox } from '../../hub/access/secret-box';
import { createHubModules } from '../../hub/hub-modules';
import { hashPassword } from '../../hub/identity/password-hash';
import { keyRingFromHex } from '../../hub/security/key-ring';
import { startTestHub } from '../hub/spine/hub-harness';

const SECRET_KEY = '4d'.repeat(32);
const PW = {
  joeCustomer: 'joe-customer-pw-1',
  joeOfB: 'b-joe-user-password',
  bossA: 'boss-a-password-12',
  bossB: 'boss-b-password-12',
  shared: 'same-password-both-1',
};

async function hub(t: Test, kv?: KeyValueStore) {
  const h = await startTestHub({ kv, modules: createHubModules, config: { dataDir: stackDir(t), secretKeyHex: SECRET_KEY } });
  t.teardown(() => h.close());
  const login = (username: string, password: string, operatorId?: string) =>
    h.api('POST', '/api/v1/login', operatorId === undefined ? { username, password } : { username, password, operatorId });
  const must = async (res: Promise<{ status: number; body: any }>, status = 201) => {
    const r = await res;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return { ...h, login, must };
}

/** Tenants isp-a and isp-b with an operator_admin each; isp-a's customer "joe" with a password. */
async function twoTenants(t: Test) {
  const h = await hub(t);
  for (const op of ['isp-a', 'isp-b']) await h.must(h.admin('POST', '/api/v1/operators', { operatorId: op, name: op }));
  await h.must(h.admin('POST', '/api/v1/operators/isp-a/users', { username: 'boss-a', password: PW.bossA, role: 'operator_admin' }));
  await h.must(h.admin('POST', '/api/v1/operators/isp-b/users', { username: 'boss-b', password: PW.bossB, role: 'operator_admin' }));
  const bossA = (await h.must(h.login('boss-a', PW.bossA), 200)).token as string;
  const bossB = (await h.must(h.login('boss-b', PW.bossB), 200)).token as string;
  const asA = (method: string, path: string, body?: unknown) => h.api(method, `/api/v1/operators/isp-a${path}`, body, bossA);
  const asB = (method: string, path: string, body?: unknown) => h.api(method, `/api/v1/operators/isp-b${path}`, body, bossB);
  /** A client, a service and an access record with a login, through the operator API. */
  const customer = async (as: typeof asA, username: string, password: string, id = username) => {
    await h.must(as('POST', '/clients', { clientId: `c-${id}`, name: id }));
    await h.must(as('POST', '/services', { serviceId: `s-${id}`, clientId: `c-${id}`, type: 'vps', label: 'VPS' }));
    return as('POST', '/access-records', { serviceId: `s-${id}`, username, password, group: { kind: 'ip_group', value: id } });
  };
  await h.must(customer(asA, 'joe', PW.joeCustomer));
  return { ...h, asA, asB, customer };
}

t.test('the hijack: tenant B creating a user named like tenant A\'s customer neither takes over nor locks out that login', async (t) => {
  const h = await twoTenants(t);
  const before = await h.login('joe', PW.joeCustomer);
  t.equal(before.status, 200);
  t.match(before.body.principal, { role: 'customer', operatorId: 'isp-a', customerLogin: 'joe' });

  // B's admin creates "joe". Before the fix: LOGIN_TAKEN told B the name was used elsewhere (or, when
  // created first, the user shadowed A's customer for good).
  const created = await h.asB('POST', '/users', { username: 'joe', password: PW.joeOfB, role: 'operator_readonly' });
  t.equal(created.status, 201, 'a name used in another tenant is free in this one');

  const after = await h.login('joe', PW.joeCustomer);
  t.equal(after.status, 200, "A's customer still logs in without giving an organization");
  t.match(after.body.principal, { role: 'customer', operatorId: 'isp-a', customerLogin: 'joe' });
  const subjects = await h.api('GET', '/api/v1/customer/subjects', undefined, after.body.token);
  t.equal(subjects.status, 200, 'and gets its customer view');

  const bJoe = await h.login('joe', PW.joeOfB);
  t.equal(bJoe.status, 200, "B's joe logs in with B's password");
  t.match(bJoe.body.principal, { role: 'operator_readonly', operatorId: 'isp-b', username: 'joe' });
  t.notOk(bJoe.body.principal.customerLogin);

  // With an organization, only that tenant's accounts count.
  t.equal((await h.login('joe', PW.joeCustomer, 'isp-a')).status, 200);
  t.equal((await h.login('joe', PW.joeOfB, 'isp-a')).status, 401, "B's password is no good in A");
  t.equal((await h.login('joe', PW.joeCustomer, 'isp-b')).status, 401, "A's password is no good in B");
  t.match((await h.login('joe', PW.joeOfB, 'isp-b')).body.principal, { operatorId: 'isp-b', role: 'operator_readonly' });
  const unknownOrg = await h.login('joe', PW.joeCustomer, 'no-such-isp');
  t.equal(unknownOrg.status, 401, 'an unknown organization is just a wrong login');
  t.equal(unknownOrg.body.error.code, 'INVALID_CREDENTIALS');
  t.equal((await h.login('joe', PW.joeCustomer, 'bad/org')).status, 400, 'a malformed organization is a bad request');

  // Customer sessions name their tenant: one name in two tenants never shares an id.
  t.equal(after.body.principal.userId, 'customer:isp-a/joe');
});

t.test('LOGIN_TAKEN only within the caller\'s own tenant; names compare case-insensitively; the platform is its own namespace', async (t) => {
  const h = await twoTenants(t);
  const takenInA = await h.asA('POST', '/users', { username: 'joe', password: PW.joeOfB, role: 'operator_readonly' });
  t.equal(takenInA.status, 409, "A's own customer holds joe in A");
  t.equal(takenInA.body.error.code, 'LOGIN_TAKEN');
  t.equal((await h.asA('POST', '/users', { username: 'JOE', password: PW.joeOfB, role: 'operator_readonly' })).body.error?.code, 'LOGIN_TAKEN', 'any case of it');
  t.equal((await h.asA('POST', '/users', { username: 'boss-A', password: PW.joeOfB, role: 'operator_readonly' })).body.error?.code, 'LOGIN_TAKEN', "A's user names too");

  // B: every name of A is free, for users and for customers alike.
  t.equal((await h.asB('POST', '/users', { username: 'boss-a', password: PW.joeOfB, role: 'operator_readonly' })).status, 201);
  t.equal((await h.customer(h.asB, 'joe', 'b-customer-joe-pw')).status, 201, "B's own customer joe");
  const custTaken = await h.customer(h.asB, 'Boss-B', 'b-customer-pw-12', 'bossb2');
  t.equal(custTaken.status, 409, "a customer login cannot take B's own user name");
  t.equal(custTaken.body.error.code, 'LOGIN_TAKEN');
  // super_admins live in the platform namespace: a tenant's "admin" neither collides with nor shadows it.
  t.equal((await h.asB('POST', '/users', { username: 'admin', password: 'b-admin-password-1', role: 'operator_admin' })).status, 201);
  t.match((await h.login('admin', 'admin-pw')).body.principal, { role: 'super_admin', username: 'admin' });
  t.match((await h.login('admin', 'b-admin-password-1')).body.principal, { role: 'operator_admin', operatorId: 'isp-b' });
  // Every tenant's joe still logs in to its own account.
  t.match((await h.login('joe', PW.joeCustomer)).body.principal, { operatorId: 'isp-a', role: 'customer' });
  t.match((await h.login('joe', 'b-customer-joe-pw')).body.principal, { operatorId: 'isp-b', role: 'customer' });
  t.match((await h.login('JOE', 'b-customer-joe-pw', 'isp-b')).body.principal, { operatorId: 'isp-b', username: 'joe' }, 'login names ignore case too');
});

t.test('two concurrent creations of one name in one tenant: exactly one wins', async (t) => {
  const h = await twoTenants(t);
  // A user and a customer login racing for "kim", then three users racing for "lee".
  const race = await Promise.all([
    h.asA('POST', '/users', { username: 'kim', password: PW.joeOfB, role: 'operator_readonly' }),
    h.customer(h.asA, 'kim', 'kim-customer-pw-1'),
  ]);
  t.same(race.map((r) => r.status).sort(), [201, 409]);
  const users = await Promise.all([1, 2, 3].map(() => h.asA('POST', '/users', { username: 'lee', password: PW.joeOfB, role: 'operator_readonly' })));
  t.same(users.map((r) => r.status).sort(), [201, 409, 409]);
  const claims = await collect(h.kv, prefixRange('login-name/lee/'));
  t.equal(claims.length, 1, 'one claim');
  t.equal((await h.login('lee', PW.joeOfB)).status, 200);
});

t.test('the same name and password in two tenants: refused without an organization (never one picked silently)', async (t) => {
  const h = await twoTenants(t);
  await h.must(h.customer(h.asA, 'sam', PW.shared));
  await h.must(h.asB('POST', '/users', { username: 'sam', password: PW.shared, role: 'operator_readonly' }));
  const ambiguous = await h.login('sam', PW.shared);
  t.equal(ambiguous.status, 409);
  t.equal(ambiguous.body.error.code, 'ORGANIZATION_REQUIRED');
  t.match(ambiguous.body.error.message, /organization/);
  t.notOk(ambiguous.body.token, 'no session');
  t.match((await h.login('sam', PW.shared, 'isp-a')).body.principal, { role: 'customer', operatorId: 'isp-a' });
  t.match((await h.login('sam', PW.shared, 'isp-b')).body.principal, { role: 'operator_readonly', operatorId: 'isp-b' });
  t.equal((await h.login('sam', 'neither-password-1')).status, 401);
  const counters = (await h.admin('GET', '/api/v1/hub/counters')).body.counters;
  t.equal(counters.login.loginAmbiguous, 1);
});

t.test('the welcome mail\'s NetFlow link carries the organization for the login page', async (t) => {
  const h = await twoTenants(t);
  const [record] = (await h.asA('GET', '/access-records')).body.records;
  t.match(record.effectiveNetflowUrl, /\/customer\?org=isp-a$/);
  const mail = await h.asA('POST', `/access-records/${record.recordId}/welcome-mail`, { dryRun: true, to: ['joe@example.com'] });
  t.equal(mail.status, 200);
  t.match(mail.body.message.text, /\/customer\?org=isp-a\n/);
});

t.test('an existing install: username/<name> and access/login/<name> keys are moved into their namespaces at start', async (t) => {
  const kv = createMemoryKvStore();
  // What an older version left: a tenant, its user "noc" and its customer "cust", in the global layout.
  const nowMs = Date.UTC(2026, 0, 1);
  const userId = randomUUID();
  const adminId = randomUUID();
  const put = (key: string, value: unknown) => ({ type: 'put' as const, key, value: encodeJson(value) });
  const box = createSecretBox(keyRingFromHex(SECRET_KEY));
  const login = { username: 'cust', operatorId: 'isp-old', clientId: 'c1', updatedAtMs: nowMs, password: box.seal('cust-legacy-pw-1', 'flowbill/access-login/isp-old/cust') };
  await kv.write([
    put('op/isp-old', { operatorId: 'isp-old', name: 'Old ISP', createdAtMs: nowMs }),
    put(`user/${userId}`, { userId, username: 'noc', role: 'operator_admin', operatorId: 'isp-old', passwordHash: await hashPassword('noc-legacy-pw-12'), createdAtMs: nowMs }),
    put('username/noc', userId),
    put(`user/${adminId}`, { userId: adminId, username: 'admin', role: 'super_admin', passwordHash: await hashPassword('admin-pw'), createdAtMs: nowMs }),
    put('username/admin', adminId),
    put('access/client/isp-old/c1', { clientId: 'c1', operatorId: 'isp-old', name: 'C', createdAtMs: nowMs, updatedAtMs: nowMs }),
    put('access/service/isp-old/s1', { serviceId: 's1', operatorId: 'isp-old', clientId: 'c1', type: 'vps', label: 'VPS', createdAtMs: nowMs, updatedAtMs: nowMs }),
    put('access/record/isp-old/r1', { recordId: 'r1', operatorId: 'isp-old', serviceId: 's1', clientId: 'c1', enabled: true, username: 'cust', notes: '', showPasswordInClientArea: false, group: { kind: 'ip_group', value: 'g' }, createdAtMs: nowMs, updatedAtMs: nowMs }),
    put('access/service-record/isp-old/s1', 'r1'),
    put('access/login/cust', login),
  ]);
  const h = await hub(t, kv);
  t.same((await collect(kv, prefixRange('username/'))).length, 0, 'no legacy username keys left');
  t.same((await collect(kv, prefixRange('access/login/'))).map(([k]) => k), ['access/login/isp-old/cust']);
  t.match((await h.login('noc', 'noc-legacy-pw-12')).body.principal, { userId, role: 'operator_admin', operatorId: 'isp-old' });
  t.match((await h.login('cust', 'cust-legacy-pw-1')).body.principal, { role: 'customer', operatorId: 'isp-old', customerLogin: 'cust' });
  t.match((await h.login('admin', 'admin-pw')).body.principal, { role: 'super_admin', userId: adminId }, 'the old admin was found, not created again');
  t.equal((await collect(kv, prefixRange('login-name/admin/'))).length, 1);
  // The moved names are claimed: the tenant cannot create them again.
  const noc = (await h.login('noc', 'noc-legacy-pw-12')).body.token as string;
  t.equal((await h.api('POST', '/api/v1/operators/isp-old/users', { username: 'CUST', password: 'another-password-1', role: 'operator_readonly' }, noc)).body.error?.code, 'LOGIN_TAKEN');
});
