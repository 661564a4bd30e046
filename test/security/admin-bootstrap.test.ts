/**
 * Issue 9, the first super_admin. The hole: `npm run hub` created "admin" with the password "admin"
 * (FLOWBILL_ADMIN_PASSWORD's default), so every hub whose operator missed that key was open. Now a
 * real hub without the key prints a generated one-time password once, stores it only hashed, and a
 * session with it may only read /me, log out and change the password. FLOWBILL_ADMIN_PASSWORD
 * (automation chose it) skips the forced change; `npm start`'s demo keeps admin / admin.
 *
 * Against the real hub: in-process (test/hub/spine/hub-harness.ts, every module) for the API rules,
 * and the real program (`node --import tsx hub/main.ts` on free ports, LevelDB in a temp dir) for
 * what is printed on stdout across restarts.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { createHubModules } from '../../hub/hub-modules';
import { MIN_NEW_PASSWORD_CHARS } from '../../hub/identity/password-policy';
import { captureWarnings } from '../helpers/capture-logger';
import { freeTcpPort, freeUdpPort } from '../helpers/free-ports';
import { startTestHub } from '../hub/spine/hub-harness';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ONE_TIME = /^[A-Za-z0-9_-]{20}$/;
const CHANGE_REQUIRED = { status: 403, body: { error: { code: 'PASSWORD_CHANGE_REQUIRED' } } };

/** A hub as `npm run hub` makes it: no FLOWBILL_ADMIN_PASSWORD. Its warn lines are kept. */
async function realHub(t: Test, opts: { kv?: ReturnType<typeof createMemoryKvStore>; adminPassword?: string } = {}) {
  const { log, warnings } = captureWarnings();
  const hub = await startTestHub({ kv: opts.kv, modules: createHubModules, log, config: { adminPassword: opts.adminPassword } });
  t.teardown(() => hub.close());
  const login = async (username: string, password: string) => hub.api('POST', '/api/v1/login', { username, password });
  const printed = warnings.map((w) => w.obj.oneTimePassword).filter((p): p is string => typeof p === 'string');
  /** The warn lines about the super_admin (other modules may warn about their own things). */
  const aboutAdmin = warnings.map((w) => w.msg ?? String(w.obj)).filter((line) => /super_admin/.test(line));
  return { hub, login, warnings, printed, aboutAdmin };
}

t.test('npm run hub: admin / admin does not log in; a one-time password, printed once, must be changed first', async (t) => {
  const kv = createMemoryKvStore();
  const { hub, login, warnings, printed } = await realHub(t, { kv });

  t.equal((await login('admin', 'admin')).status, 401, 'the old default password is refused');
  t.equal((await login('admin', 'admin-pw')).status, 401, 'nor any fixed one');
  t.equal(printed.length, 1, 'one one-time password printed');
  const otp = printed[0]!;
  t.match(otp, ONE_TIME, '20 random base64url characters');
  t.match(warnings.find((w) => w.obj.oneTimePassword)?.msg, new RegExp(`one-time password ${otp}`), 'the line says it in words too');
  for await (const [key, value] of kv.entries({})) {
    t.notOk(Buffer.from(value).toString('utf8').includes(otp), `${key}: the one-time password is not stored in clear`);
  }

  const session = await login('admin', otp);
  t.equal(session.status, 200, 'the printed password logs in');
  const token = session.body.token as string;
  const other = (await login('admin', otp)).body.token as string; // a second session, e.g. another browser
  const me = await hub.api('GET', '/api/v1/me', undefined, token);
  t.equal(me.status, 200);
  t.equal(me.body.mustChangePassword, true, '/me tells the UI a change is required');
  t.equal(me.body.principal.role, 'super_admin');

  // Everything else answers 403 PASSWORD_CHANGE_REQUIRED, however the path is spelled.
  for (const [method, route, body] of [
    ['GET', '/api/v1/operators'], ['POST', '/api/v1/operators', { operatorId: 'x', name: 'X' }], ['GET', '/api/v1/operators/'],
    ['GET', '/API/V1/OPERATORS'], ['GET', '//api/v1/operators'], ['GET', '/api/v1/price-book'], ['GET', '/api/v1/health'],
    ['POST', '/api/v1/operators/x/users/y/password'], ['GET', '/api/v1/nonexistent'],
  ] as const) {
    t.match(await hub.api(method, route, body, token), CHANGE_REQUIRED, `${method} ${route}`);
  }
  t.equal((await hub.api('GET', '/', undefined, token)).status, 200, 'the web UI itself still loads (it shows the change page)');

  // The change: checked current password, a long enough new one that differs from it.
  const change = (body: unknown, tok = token) => hub.api('POST', '/api/v1/me/password', body, tok);
  t.match(await change({ currentPassword: 'wrong', newPassword: 'a-long-new-password' }), { status: 403, body: { error: { code: 'CURRENT_PASSWORD_WRONG' } } });
  t.match(await change({ currentPassword: otp, newPassword: 'x'.repeat(MIN_NEW_PASSWORD_CHARS - 1) }), { status: 400, body: { error: { code: 'VALIDATION_FAILED' } } }, 'too short');
  t.match(await change({ currentPassword: otp, newPassword: otp }), { status: 400, body: { error: { code: 'VALIDATION_FAILED', message: /differ/ } } }, 'the same password');
  t.match(await change({ currentPassword: otp }), { status: 400 }, 'no new password');
  t.match(await hub.api('GET', '/api/v1/operators', undefined, token), CHANGE_REQUIRED, 'failed attempts change nothing');
  const done = await change({ currentPassword: otp, newPassword: 'correct horse battery' });
  t.match(done, { status: 200, body: { ok: true, endedSessions: 1 } });

  t.equal((await hub.api('GET', '/api/v1/operators', undefined, token)).status, 200, 'after the change everything works, in the same session');
  t.equal((await hub.api('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'ISP One' }, token)).status, 201);
  t.equal((await hub.api('GET', '/api/v1/me', undefined, token)).body.mustChangePassword, false);
  t.equal((await hub.api('GET', '/api/v1/me', undefined, other)).status, 401, 'the other session was ended');
  t.equal((await login('admin', otp)).status, 401, 'the one-time password no longer works');
  t.equal((await login('admin', 'correct horse battery')).status, 200, 'the new one does');

  await t.test('a second start on the same data prints nothing and keeps the new password', async (t) => {
    await hub.close();
    const again = await realHub(t, { kv });
    t.same(again.printed, [], 'no password printed');
    t.same(again.aboutAdmin, [], 'no warning either: the change was made');
    t.equal((await again.login('admin', 'correct horse battery')).status, 200);
  });
});

t.test('a second start before the change prints nothing new, and the printed password still works', async (t) => {
  const kv = createMemoryKvStore();
  const first = await realHub(t, { kv });
  await first.hub.close();
  const second = await realHub(t, { kv });
  t.same(second.printed, [], 'printed once, at creation only');
  t.match(second.aboutAdmin, [/has not changed its one-time password yet/], 'a reminder without the password');
  t.notOk(second.aboutAdmin.join('\n').includes(first.printed[0]!));
  const res = await second.login('admin', first.printed[0]!);
  t.equal(res.status, 200);
  t.match(await second.hub.api('GET', '/api/v1/operators', undefined, res.body.token), CHANGE_REQUIRED);
});

t.test('FLOWBILL_ADMIN_PASSWORD: automation chose it, so no forced change and nothing printed', async (t) => {
  const { hub, login, printed, aboutAdmin } = await realHub(t, { adminPassword: 'set-by-automation' });
  t.same(printed, []);
  t.same(aboutAdmin, []);
  const res = await login('admin', 'set-by-automation');
  t.equal(res.status, 200);
  t.equal((await hub.api('GET', '/api/v1/me', undefined, res.body.token)).body.mustChangePassword, false);
  t.equal((await hub.api('GET', '/api/v1/operators', undefined, res.body.token)).status, 200);
});

t.test('a data dir made by the demo (admin / admin) and then run as a real hub forces a change', async (t) => {
  const kv = createMemoryKvStore();
  const demo = await realHub(t, { kv, adminPassword: 'admin' });
  const demoSession = await demo.login('admin', 'admin');
  t.equal(demoSession.status, 200, 'the demo keeps admin / admin');
  t.equal((await demo.hub.api('GET', '/api/v1/operators', undefined, demoSession.body.token)).status, 200, 'without a forced change');
  await demo.hub.close();

  const real = await realHub(t, { kv });
  t.same(real.printed, []);
  t.match(real.aboutAdmin, [/still has the demo password/]);
  const res = await real.login('admin', 'admin');
  t.match(await real.hub.api('GET', '/api/v1/operators', undefined, res.body.token), CHANGE_REQUIRED);
});

t.test('an operator_admin resets a user of their own tenant to a one-time password', async (t) => {
  const { hub, login } = await realHub(t, { adminPassword: 'set-by-automation' });
  const admin = (await login('admin', 'set-by-automation')).body.token as string;
  const as = (token: string) => (method: string, route: string, body?: unknown) => hub.api(method, `/api/v1${route}`, body, token);
  for (const op of ['isp1', 'isp2']) {
    await as(admin)('POST', '/operators', { operatorId: op, name: op });
    await as(admin)('POST', `/operators/${op}/users`, { username: `boss-${op}`, password: 'boss-password-1', role: 'operator_admin' });
  }
  const noc = (await as(admin)('POST', '/operators/isp1/users', { username: 'noc1', password: 'noc-password-1', role: 'operator_readonly' })).body.user;
  const boss1 = as((await login('boss-isp1', 'boss-password-1')).body.token);
  const boss2 = as((await login('boss-isp2', 'boss-password-1')).body.token);
  const nocSession = (await login('noc1', 'noc-password-1')).body.token as string;

  t.match(await boss2('POST', `/operators/isp1/users/${noc.userId}/password`), { status: 404 }, 'another tenant: not found');
  t.match(await boss2('POST', `/operators/isp2/users/${noc.userId}/password`), { status: 404 }, 'nor through its own tenant');
  t.match(await as(nocSession)('POST', `/operators/isp1/users/${noc.userId}/password`), { status: 403 }, 'a read-only user may not');
  const bossSelf = (await hub.api('GET', '/api/v1/me', undefined, (await login('boss-isp1', 'boss-password-1')).body.token)).body.principal.userId;
  t.match(await boss1('POST', `/operators/isp1/users/${bossSelf}/password`), { status: 400 }, 'not one\'s own: that is /me/password');

  const reset = await boss1('POST', `/operators/isp1/users/${noc.userId}/password`);
  t.equal(reset.status, 200);
  t.match(reset.body, { user: { username: 'noc1', mustChangePassword: true }, oneTimePassword: ONE_TIME });
  t.equal((await hub.api('GET', '/api/v1/me', undefined, nocSession)).status, 401, 'the user\'s sessions ended');
  t.equal((await login('noc1', 'noc-password-1')).status, 401, 'the old password is gone');
  const fresh = (await login('noc1', reset.body.oneTimePassword)).body.token as string;
  t.match(await hub.api('GET', '/api/v1/operators/isp1', undefined, fresh), CHANGE_REQUIRED);
  t.equal((await hub.api('POST', '/api/v1/me/password', { currentPassword: reset.body.oneTimePassword, newPassword: 'noc-chose-this-one' }, fresh)).status, 200);
  t.equal((await hub.api('GET', '/api/v1/operators/isp1', undefined, fresh)).status, 200);
  t.equal((await hub.api('POST', '/api/v1/me/password', { currentPassword: 'noc-chose-this-one', newPassword: 'boss-password-1' }, (await login('boss-isp1', 'boss-password-1')).body.token)).status, 403,
    'a user\'s own change needs their own current password');
});

t.test('customers cannot change their password here: it is their operator\'s access record', async (t) => {
  const { hub, login } = await realHub(t, { adminPassword: 'set-by-automation' });
  const admin = (await login('admin', 'set-by-automation')).body.token as string;
  const ok = async (method: string, route: string, body?: unknown) => {
    const res = await hub.api(method, `/api/v1${route}`, body, admin);
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await ok('POST', '/operators', { operatorId: 'isp1', name: 'ISP One' });
  await ok('POST', '/operators/isp1/clients', { clientId: 'alice', name: 'Alice' });
  await ok('POST', '/operators/isp1/services', { serviceId: 'vps-1', clientId: 'alice', type: 'vps', label: 'VPS' });
  await ok('POST', '/operators/isp1/access-records', { serviceId: 'vps-1', username: 'alice', password: 'alice-secret-1', ipAddress: '203.0.113.0/28' });
  const cust = await login('alice', 'alice-secret-1');
  t.equal(cust.status, 200);
  const res = await hub.api('POST', '/api/v1/me/password', { currentPassword: 'alice-secret-1', newPassword: 'a-new-long-password' }, cust.body.token);
  t.match(res, { status: 403, body: { error: { code: 'FORBIDDEN', message: /access record/ } } });
  t.equal((await login('alice', 'alice-secret-1')).status, 200, 'unchanged');
});

/** The real program: `node --import tsx hub/main.ts` (or `entry`) with LevelDB in `dataDir`, stdout's JSON lines kept. */
async function runHubProgram(t: Test, dataDir: string, args: string[], env: Record<string, string> = {}, entry = 'hub/main.ts') {
  const httpPort = await freeTcpPort();
  const mqttPort = await freeTcpPort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, FLOWBILL_HUB_DATA_DIR: dataDir, FLOWBILL_HTTP_PORT: String(httpPort), FLOWBILL_MQTT_PORT: String(mqttPort), FLOWBILL_JOBS: 'off', ...env };
  if (!('FLOWBILL_ADMIN_PASSWORD' in env)) delete childEnv.FLOWBILL_ADMIN_PASSWORD;
  const proc = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const raw: string[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      raw.push(line);
      if (/flowbill hub ready/.test(line)) resolve();
    });
    void exited.then((code) => reject(new Error(`hub exited (${code}) before ready: ${stderr.slice(-2000)}`)));
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 90_000);
  t.teardown(() => { clearTimeout(timer); proc.kill('SIGKILL'); });
  await ready;
  const api = async (method: string, route: string, body?: unknown, token?: string) => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1${route}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as any };
  };
  return {
    api,
    stdout: () => raw.join('\n'),
    async stop() { proc.kill('SIGTERM'); t.equal(await exited, 0, 'stopped cleanly'); clearTimeout(timer); },
  };
}

t.test('the real program (hub/main.ts)', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-admin-bootstrap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  await t.test('npm run hub: prints a one-time password once; admin / admin is refused', async (t) => {
    const data = path.join(dir, 'real');
    const first = await runHubProgram(t, data, []);
    const printed = [...first.stdout().matchAll(/one-time password ([A-Za-z0-9_-]{20})\b/g)].map((m) => m[1]!);
    t.equal(new Set(printed).size, 1, 'one password on stdout');
    const otp = printed[0]!;
    t.equal((await first.api('POST', '/login', { username: 'admin', password: 'admin' })).status, 401);
    const token = (await first.api('POST', '/login', { username: 'admin', password: otp })).body.token;
    t.match(await first.api('GET', '/operators', undefined, token), CHANGE_REQUIRED);
    t.equal((await first.api('POST', '/me/password', { currentPassword: otp, newPassword: 'chosen-by-the-admin' }, token)).status, 200);
    t.equal((await first.api('GET', '/operators', undefined, token)).status, 200);
    await first.stop();

    const second = await runHubProgram(t, data, []);
    t.notMatch(second.stdout(), /one-time password [A-Za-z0-9_-]{20}/, 'the second start prints no password');
    t.notOk(second.stdout().includes(otp));
    t.equal((await second.api('POST', '/login', { username: 'admin', password: otp })).status, 401, 'the old password fails');
    t.equal((await second.api('POST', '/login', { username: 'admin', password: 'chosen-by-the-admin' })).status, 200, 'the new one lasts');
    await second.stop();
  });

  await t.test('FLOWBILL_ADMIN_PASSWORD: that password, no forced change, nothing printed', async (t) => {
    const hub = await runHubProgram(t, path.join(dir, 'env'), [], { FLOWBILL_ADMIN_PASSWORD: 'from-the-environment' });
    t.notMatch(hub.stdout(), /one-time password/);
    t.notOk(hub.stdout().includes('from-the-environment'), 'a configured password is never printed');
    const token = (await hub.api('POST', '/login', { username: 'admin', password: 'from-the-environment' })).body.token;
    t.equal((await hub.api('GET', '/operators', undefined, token)).status, 200);
    await hub.stop();
  });

  // `npm start` is its own program since issue 10 (demo/main.ts: the hub program, then a local edge and the demo exporter).
  await t.test('npm start (demo/main.ts): admin / admin, said in the ready line, no forced change', async (t) => {
    const edgeEnv = { FLOWBILL_EDGE_DATA_DIR: path.join(dir, 'demo-edge'), FLOWBILL_EDGE_UDP_PORT: String(await freeUdpPort()), FLOWBILL_EDGE_SFLOW_PORT: '0' };
    const hub = await runHubProgram(t, path.join(dir, 'demo'), [], edgeEnv, 'demo/main.ts');
    t.match(hub.stdout(), /flowbill hub ready: .*log in as admin \/ admin/);
    t.notMatch(hub.stdout(), /one-time password/);
    const token = (await hub.api('POST', '/login', { username: 'admin', password: 'admin' })).body.token;
    t.equal((await hub.api('GET', '/operators', undefined, token)).status, 200);
    await hub.stop();
  });
});
