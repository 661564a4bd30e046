/**
 * Issue 9, brute force. The hole: /api/v1/login had no limit (60 wrong passwords in 2.6 s, as fast
 * as scrypt allowed, or all at once), and an unknown username was refused at once while a known one
 * cost a scrypt, so timing told which usernames exist.
 *
 * Now (hub/security/login-throttle.ts on hub/security/auth-lockout.ts): failures are counted per
 * login name within its namespace and per address, a lock refuses with 429 TOO_MANY_ATTEMPTS and
 * Retry-After without checking the password, locks grow (5, 10, ... 60 minutes), each lock is counted
 * (GET /api/v1/hub/counters) and logged once; every refusal costs one scrypt. MQTT CONNECT had its
 * lockout already (issue 8); here its counter and log line are checked on the whole hub too.
 *
 * Against the real hub (every module, HTTP and MQTT on ephemeral ports); time moves on the hub's
 * manual clock, never by sleeping.
 */
import t, { type Test } from 'tap';
import { stackDir } from '../helpers/stack-dir';
import type { HubConfig } from '../../hub/config';
import { loadHubConfig } from '../../hub/config';
import { createHubModules } from '../../hub/hub-modules';
import { captureWarnings } from '../helpers/capture-logger';
import { startTestHub } from '../hub/spine/hub-harness';

const NOC_PW = 'noc-password-123';
const CUST_PW = 'customer-password-1';

async function hub(t: Test, config: Partial<HubConfig> = {}) {
  const { log, warnings } = captureWarnings();
  const h = await startTestHub({ modules: createHubModules, log, config: { dataDir: stackDir(t), ...config } });
  t.teardown(() => h.close());
  /** POST /login with the response's headers (the harness's api() drops them). */
  const login = async (username: string, password: string, operatorId?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${h.httpUrl}/api/v1/login`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(operatorId === undefined ? { username, password } : { username, password, operatorId }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() as any };
  };
  const must = async (res: Promise<{ status: number; body: any }>, status = 201) => {
    const r = await res;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await must(h.admin('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'ISP One' }));
  await must(h.admin('POST', '/api/v1/operators/isp1/users', { username: 'noc', password: NOC_PW, role: 'operator_admin' }));
  const counters = async () => (await h.admin('GET', '/api/v1/hub/counters')).body.counters;
  const lines = (re: RegExp) => warnings.filter((w) => re.test(w.msg ?? ''));
  return { ...h, login, must, counters, lines, warnings };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

t.test('the defaults: a name locks after a few failures, an address (a NAT\'d office) only after many more', async (t) => {
  const c = loadHubConfig({});
  t.ok(c.loginMaxFailuresPerAddress >= 5 * c.loginMaxFailuresPerUsername, `${c.loginMaxFailuresPerAddress} per address vs ${c.loginMaxFailuresPerUsername} per name`);
  t.ok(c.loginMaxLockoutSec > c.loginLockoutSec, 'locks grow');
  t.throws(() => loadHubConfig({ FLOWBILL_LOGIN_MAX_FAILURES_PER_USERNAME: '0' }), /FLOWBILL_LOGIN_MAX_FAILURES_PER_USERNAME/);
  t.throws(() => loadHubConfig({ FLOWBILL_LOGIN_LOCKOUT_SEC: '600', FLOWBILL_LOGIN_MAX_LOCKOUT_SEC: '300' }), /FLOWBILL_LOGIN_MAX_LOCKOUT_SEC/);
});

t.test('HTTP: 60 wrong passwords at once lock the name after the threshold; even the right one is refused; counted and logged once; the lock expires and grows', async (t) => {
  const h = await hub(t);
  const { loginMaxFailuresPerUsername: max, loginLockoutSec } = loadHubConfig({});
  const tries = await Promise.all(Array.from({ length: 60 }, (_, i) => h.login('noc', `wrong-${i}`)));
  const statuses = tries.map((r) => r.status);
  t.equal(statuses.filter((s) => s === 401).length, max, `${max} passwords checked, even though all 60 came at once`);
  t.equal(statuses.filter((s) => s === 429).length, 60 - max, 'the rest refused');
  const locked = tries.find((r) => r.status === 429)!;
  t.equal(locked.body.error.code, 'TOO_MANY_ATTEMPTS');
  t.equal(locked.retryAfter, String(loginLockoutSec), 'Retry-After: the whole lock (the clock did not move)');
  t.same(locked.body.error.details, { retryAfterSec: loginLockoutSec });

  const right = await h.login('noc', NOC_PW);
  t.equal(right.status, 429, 'the right password is refused while locked (it is not even checked)');
  t.notOk(right.body.token);
  t.equal((await h.login('noc', NOC_PW, 'isp1')).status, 429, 'with the organization too: the same name in the same namespace');

  let c = (await h.counters()).login;
  t.match(c, { loginFailures: max, loginLockouts: 1, loginRefusedLocked: 60 - max + 2, loginLockedNow: 1 });
  const lockLines = h.lines(/HTTP logins for this username locked/);
  t.equal(lockLines.length, 1, 'one log line for the one lockout');
  t.match(lockLines[0].obj, { scope: 'username', username: 'op:isp1/noc', address: '127.0.0.1', untilMs: h.clock.nowMs() + loginLockoutSec * 1000 });
  t.notOk(JSON.stringify(h.warnings).includes('wrong-'), 'no password is ever logged');
  t.equal((await h.login('admin', 'admin-pw')).status, 200, 'another name from the same address is not locked');

  h.clock.advanceMs(loginLockoutSec * 1000);
  for (let i = 0; i < max; i++) t.equal((await h.login('noc', `again-${i}`)).status, 401);
  const second = await h.login('noc', NOC_PW);
  t.equal(second.status, 429, 'failing again right after the lock locks again...');
  t.equal(second.retryAfter, String(2 * loginLockoutSec), '...twice as long');
  t.equal(h.lines(/HTTP logins for this username locked/).length, 2);
  h.clock.advanceMs(2 * loginLockoutSec * 1000);
  const ok = await h.login('noc', NOC_PW);
  t.equal(ok.status, 200, 'after the lock: the right password logs in');
  c = (await h.counters()).login;
  t.match(c, { loginLockouts: 2, loginLockedNow: 0 });
});

t.test('HTTP: an unknown name locks exactly like a known one (a lock reveals nothing)', async (t) => {
  const h = await hub(t);
  const { loginMaxFailuresPerUsername: max } = loadHubConfig({});
  const codes: number[] = [];
  for (let i = 0; i <= max; i++) codes.push((await h.login('nobody-here', `guess-${i}`)).status);
  t.same(codes, [...new Array(max).fill(401), 429]);
  t.match(h.lines(/HTTP logins for this username locked/)[0].obj, { username: '*/nobody-here' });
});

t.test('HTTP: many names failing from one address lock the address, not who logged in from there before', async (t) => {
  const h = await hub(t, { loginMaxFailuresPerAddress: 20 });
  // admin logged in from 127.0.0.1 when the harness started: a known-good pair.
  for (let i = 0; i < 20; i++) t.equal((await h.login(`someone-${i}`, 'wrong-password-1')).status, 401);
  const fresh = await h.login('someone-else', 'wrong-password-1');
  t.equal(fresh.status, 429, 'the address is locked for new names');
  t.equal((await h.login('noc', NOC_PW)).status, 429, 'and for names that never logged in from it');
  t.equal((await h.login('admin', 'admin-pw')).status, 200, 'a name that logged in from here before still does (a NAT\'d office keeps working)');
  const lines = h.lines(/HTTP logins for this address locked/);
  t.equal(lines.length, 1);
  t.match(lines[0].obj, { scope: 'address', address: '127.0.0.1', username: '*/someone-19' });
  t.equal((await h.counters()).login.loginLockouts, 1);
});

t.test('HTTP behind a reverse proxy: the address is the one the proxy saw, only when FLOWBILL_TRUST_PROXY says so', async (t) => {
  const xff = (ip: string) => ({ 'x-forwarded-for': `203.0.113.66, ${ip}` }); // the client's claim, then what the proxy saw
  const proxied = await hub(t, { loginMaxFailuresPerAddress: 3, trustProxy: true });
  for (let i = 0; i < 3; i++) t.equal((await proxied.login(`p-${i}`, 'wrong-password-1', undefined, xff('198.51.100.9'))).status, 401);
  t.equal((await proxied.login('p-x', 'wrong-password-1', undefined, xff('198.51.100.9'))).status, 429, 'that client is locked...');
  t.equal((await proxied.login('p-y', 'wrong-password-1', undefined, xff('198.51.100.10'))).status, 401, '...not everyone behind the proxy');
  t.match(proxied.lines(/locked/)[0].obj, { scope: 'address', address: '198.51.100.9' });

  const direct = await hub(t, { loginMaxFailuresPerAddress: 3 });
  for (let i = 0; i < 3; i++) t.equal((await direct.login(`d-${i}`, 'wrong-password-1', undefined, xff(`198.51.100.${i}`))).status, 401);
  t.equal((await direct.login('d-x', 'wrong-password-1', undefined, xff('198.51.100.99'))).status, 429, 'without a trusted proxy, a forged X-Forwarded-For changes nothing');
});

t.test('HTTP: unknown names, customers (with or without a password) and operator users take about as long to refuse', async (t) => {
  const h = await hub(t, { loginMaxFailuresPerUsername: 10_000, loginMaxFailuresPerAddress: 100_000 });
  const noc = (await h.login('noc', NOC_PW)).body.token as string;
  const op = (method: string, path: string, body: unknown) => h.must(h.api(method, `/api/v1/operators/isp1${path}`, body, noc));
  for (const [id, password] of [['cust', CUST_PW], ['nopw', undefined]] as const) {
    await op('POST', '/clients', { clientId: id, name: id });
    await op('POST', '/services', { serviceId: id, clientId: id, type: 'vps', label: id });
    await op('POST', '/access-records', { serviceId: id, username: id, ...(password ? { password } : {}), group: { kind: 'ip_group', value: id } });
  }
  const kinds: Record<string, () => Promise<unknown>> = {
    user: () => h.login('noc', 'wrong-password-1'),
    unknown: () => h.login(`ghost-${Math.random().toString(36).slice(2)}`, 'wrong-password-1'),
    customer: () => h.login('cust', 'wrong-password-1'),
    customerWithoutPassword: () => h.login('nopw', 'wrong-password-1'),
    unknownInOrganization: () => h.login('ghost', 'wrong-password-1', 'isp1'),
  };
  const ms: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  for (let round = 0; round < 15; round++) {
    for (const [kind, attempt] of Object.entries(kinds)) { // interleaved: load on the machine hits every kind alike
      const t0 = performance.now();
      await attempt();
      ms[kind].push(performance.now() - t0);
    }
  }
  const medians = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]));
  t.comment(`median ms per refusal: ${JSON.stringify(medians)}`);
  // Before: an unknown name or a customer answered in ~1-3 ms against ~40+ ms for a user (scrypt).
  for (const kind of ['unknown', 'customer', 'customerWithoutPassword', 'unknownInOrganization']) {
    t.ok(medians[kind] > 0.4 * medians.user, `${kind} (${medians[kind]} ms) is not much faster than a user (${medians.user} ms)`);
    t.ok(medians[kind] < 2.5 * medians.user, `${kind} is not much slower either`);
  }
});

t.test('MQTT CONNECT: lockout after N failures, one counter and one log line per lock, expires on the clock', async (t) => {
  const h = await hub(t, { mqttAuthMaxFailures: 4 });
  const { mqttAuthLockoutSec } = loadHubConfig({});
  for (let i = 0; i < 4; i++) await t.rejects(h.connect('edge-nobody', `wrong-${i}`), /Bad username or password/i);
  await t.rejects(h.connect('edge-nobody', 'wrong-again'), /Not authorized/i, 'locked: refused without checking');
  const c = (await h.counters()).broker;
  t.match(c, { authFailures: 4, authLockouts: 2, authRefusedLocked: 1 });
  const lines = h.lines(/MQTT logins for this (username|address) locked/);
  t.equal(lines.length, c.authLockouts, 'one log line per lockout');
  t.same(lines.map((l) => l.obj.scope).sort(), ['address', 'username']);
  t.match(lines.find((l) => l.obj.scope === 'username')!.obj, { username: 'edge-nobody', remoteAddress: /127\.0\.0\.1/ });
  h.clock.advanceMs(mqttAuthLockoutSec * 1000);
  await t.rejects(h.connect('edge-nobody', 'wrong-later'), /Bad username or password/i, 'the lock expired: checked again');
});
