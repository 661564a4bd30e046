/**
 * Issue 9, secrets at rest. The hole: without FLOWBILL_SECRET_KEY the hub encrypted customers'
 * NetFlow passwords with an all-zero AES key (hub/config.ts's DEV_SECRET), so anyone with a copy of
 * the database could read them, and nothing said so. Now the key comes from FLOWBILL_SECRET_KEY or a
 * random key generated into <dataDir>/secret-keys.json (0600, refused when others can read it), values
 * name their key (kid), and keys rotate by environment or `npm run hub -- rotate-secret-key`.
 *
 * Against the real hub: in-process (test/hub/spine/hub-harness.ts, every module) for the stored values
 * and the environment rotation, and the real program (`node --import tsx hub/main.ts`, LevelDB in a
 * temp dir) for the key file and the rotation command.
 */
import t, { type Test } from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { spawn } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { prefixRange, type KeyValueStore } from '../../common/kv/kv-store';
import { decodeJson, encodeJson } from '../../common/kv/json-codec';
import { openLevelKvStore } from '../../common/kv/level-kv-store';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import type { Logger } from '../../common/logger';
import type { CustomerLogin } from '../../hub/access/access-model';
import type { SealedSecret } from '../../hub/access/secret-box';
import { createHubModules } from '../../hub/hub-modules';
import { loadHubKeyRing, secretKeyFilePath, type KeyFile } from '../../hub/security/key-ring-file';
import { keyIdOf, LEGACY_ZERO_KEY } from '../../hub/security/key-ring';
import { freeTcpPort } from '../helpers/free-ports';
import { startTestHub } from '../hub/spine/hub-harness';
import { sealV1 } from './legacy-sealed-secret';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ZERO = '00'.repeat(32);
const K1 = 'a1'.repeat(32);
const K2 = 'b2'.repeat(32);
const K3 = 'c3'.repeat(32);
const kidOf = (hex: string) => keyIdOf(Buffer.from(hex, 'hex'));
const OP = 'isp1';
const PW = { alice: 'alice-netflow-pw-1', bob: 'bob-netflow-pw-22' } as const;
/** The associated data the access repository binds a customer password to. */
/** The kid a stored login's password names (undefined for v1 or none). */
const kidStored = (login: CustomerLogin) => (login.password?.v === 2 ? login.password.kid : undefined);
const aadOf = (login: { operatorId: string; username: string }) => `flowbill/access-login/${login.operatorId}/${login.username}`;

/** AES-256-GCM open with one key, whatever the format version says: true if the tag checks. */
function gcmOpens(keyHex: string, sealed: SealedSecret, aad: string, plaintext: string): boolean {
  try {
    const d = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), Buffer.from(sealed.ivB64, 'base64'));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(Buffer.from(sealed.tagB64, 'base64'));
    return Buffer.concat([d.update(Buffer.from(sealed.ciphertextB64, 'base64')), d.final()]).toString('utf8') === plaintext;
  } catch {
    return false;
  }
}

/** The stored login of `username` (whatever its key layout) and its key. */
async function storedLogin(kv: KeyValueStore, username: string): Promise<{ key: string; login: CustomerLogin }> {
  for await (const [key, value] of kv.entries(prefixRange('access/login/'))) {
    const login = decodeJson<CustomerLogin>(value);
    if (login.username === username) return { key, login };
  }
  throw new Error(`no stored login ${username}`);
}

/** Every log line at every level, for assertions on what was said (and what was not). */
function captureLog() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (obj: object | string, msg?: string) => {
    lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
  };
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return { log, lines, text: () => JSON.stringify(lines) };
}

type Api = (method: string, route: string, body?: unknown, token?: string) => Promise<{ status: number; body: any }>;

/** An operator with customers alice (and bob) holding access records with NetFlow passwords, through the API. */
async function seedCustomers(api: Api, adminToken: string, usernames: Array<keyof typeof PW> = ['alice']): Promise<void> {
  const ok = async (method: string, route: string, body: unknown) => {
    const res = await api(method, route, body, adminToken);
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  await ok('POST', '/operators', { operatorId: OP, name: 'ISP One' });
  for (const u of usernames) {
    await ok('POST', `/operators/${OP}/clients`, { clientId: u, name: u });
    await ok('POST', `/operators/${OP}/services`, { serviceId: `vps-${u}`, clientId: u, type: 'vps', label: 'VPS' });
    await ok('POST', `/operators/${OP}/access-records`, { serviceId: `vps-${u}`, username: u, password: PW[u], group: { kind: 'ip_group', value: u } });
  }
}
const customerLogin = async (api: Api, username: keyof typeof PW) => (await api('POST', '/login', { username, password: PW[username], operatorId: OP })).status;

/** The in-process hub with every module, on `kv`; config overrides as the environment would set them. */
async function inProcessHub(t: Test, kv: KeyValueStore, config: { secretKeyHex?: string; retiredSecretKeysHex?: string[] } = {}) {
  const captured = captureLog();
  const h = await startTestHub({ kv, modules: createHubModules, log: captured.log, config: { dataDir: stackDir(t), ...config } });
  const api: Api = (method, route, body, token) => h.api(method, `/api/v1${route}`, body, token);
  return { ...h, ...captured, api };
}

t.test('the hole: a customer password stored through the API is not sealed with the all-zero key', async (t) => {
  const kv = createMemoryKvStore();
  // No key at all (how tests and embedders call createHub): a random key of the process, and a warning.
  const h = await inProcessHub(t, kv);
  await seedCustomers(h.api, h.adminToken);
  await h.close();
  t.match(h.lines.find((l) => l.level === 'warn' && /no secret key given/.test(l.msg)), { msg: /cannot be read after a restart/ });
  const { login } = await storedLogin(kv, 'alice');
  t.equal(login.password?.v, 2, 'the new format, naming its key');
  t.not((login.password as { kid: string }).kid, LEGACY_ZERO_KEY.kid);
  t.notOk(gcmOpens(ZERO, login.password!, aadOf(login), PW.alice), 'the zero key does not open it');

  // With FLOWBILL_SECRET_KEY: that key, and only that key, opens it.
  const kv2 = createMemoryKvStore();
  const h2 = await inProcessHub(t, kv2, { secretKeyHex: K1 });
  await seedCustomers(h2.api, h2.adminToken);
  await h2.close();
  const stored = (await storedLogin(kv2, 'alice')).login;
  t.match(stored.password, { v: 2, kid: kidOf(K1) });
  t.ok(gcmOpens(K1, stored.password!, aadOf(stored), PW.alice), 'control: the configured key opens it with this associated data');
  t.notOk(gcmOpens(ZERO, stored.password!, aadOf(stored), PW.alice), 'the zero key does not');
  t.notOk(h2.text().includes(K1), 'the key is never logged');
});

t.test('rotation by environment: new FLOWBILL_SECRET_KEY, old one retired, restart re-seals; idempotent; a lost key never crashes the start', async (t) => {
  const kv = createMemoryKvStore();
  const first = await inProcessHub(t, kv, { secretKeyHex: K1 });
  await seedCustomers(first.api, first.adminToken, ['alice', 'bob']);
  await first.close();
  t.equal(kidStored((await storedLogin(kv, 'alice')).login), kidOf(K1));

  const rotated = await inProcessHub(t, kv, { secretKeyHex: K2, retiredSecretKeysHex: [K1] });
  for (const u of ['alice', 'bob'] as const) {
    t.equal(kidStored((await storedLogin(kv, u)).login), kidOf(K2), `${u}: re-sealed under the new key at start`);
    t.equal(await customerLogin(rotated.api, u), 200, `${u}: logs in with the same password`);
  }
  t.match(rotated.lines.find((l) => /re-sealed 2 stored customer password/.test(l.msg)), { level: 'info', obj: { resealed: 2, kid: kidOf(K2) } });
  t.match(rotated.lines.find((l) => /retired secret keys no stored value uses/.test(l.msg)), { obj: { kids: [kidOf(K1)] } }, 'says the old key can go');
  t.notOk(rotated.text().includes(K1) || rotated.text().includes(K2), 'no key in the log');
  await rotated.close();

  const again = await inProcessHub(t, kv, { secretKeyHex: K2 });
  t.notOk(again.lines.some((l) => /re-sealed/.test(l.msg)), 'a second start has nothing to re-seal');
  t.equal(await customerLogin(again.api, 'alice'), 200, 'the retired key is no longer needed');
  await again.close();

  // The operator lost K2: the hub starts anyway, says how many values no key opens, and refuses those logins.
  const lost = await inProcessHub(t, kv, { secretKeyHex: K3 });
  t.match(lost.lines.find((l) => l.level === 'error'), { obj: { count: 2, usernames: ['alice', 'bob'], kids: [kidOf(K2)] }, msg: /cannot be opened with any secret key/ });
  t.equal(await customerLogin(lost.api, 'alice'), 401);
  t.equal(kidStored((await storedLogin(kv, 'alice')).login), kidOf(K2), 'left as it was, for when the key is found');
  await lost.close();
});

t.test('legacy installs: v1 values under the all-zero default are opened once, re-sealed, and warned about', async (t) => {
  const kv = createMemoryKvStore();
  const first = await inProcessHub(t, kv, { secretKeyHex: K1 });
  await seedCustomers(first.api, first.adminToken, ['alice', 'bob']);
  await first.close();
  // As a version before key ids left them: alice's under the zero key (FLOWBILL_SECRET_KEY unset),
  // bob's under the FLOWBILL_SECRET_KEY of the time.
  for (const [u, keyHex] of [['alice', ZERO], ['bob', K1]] as const) {
    const { key, login } = await storedLogin(kv, u);
    await kv.write([{ type: 'put', key, value: encodeJson({ ...login, password: sealV1(keyHex, PW[u], aadOf(login)) }) }]);
  }

  const upgraded = await inProcessHub(t, kv, { secretKeyHex: K1 });
  const warning = upgraded.lines.find((l) => /insecure all-zero default key/.test(l.msg));
  t.match(warning, { level: 'warn', obj: { legacyZeroKey: 1, kid: kidOf(K1) } }, 'one value was under the zero key');
  t.match(upgraded.lines.find((l) => /re-sealed 2/.test(l.msg)), { obj: { resealed: 2 } });
  for (const u of ['alice', 'bob'] as const) {
    const { login } = await storedLogin(kv, u);
    t.match(login.password, { v: 2, kid: kidOf(K1) }, `${u}: now v2 under the current key`);
    t.notOk(gcmOpens(ZERO, login.password!, aadOf(login), PW[u]));
    t.equal(await customerLogin(upgraded.api, u), 200, `${u}: same password`);
  }
  await upgraded.close();
  const later = await inProcessHub(t, kv, { secretKeyHex: K1 });
  t.notOk(later.lines.some((l) => /all-zero/.test(l.msg)), 'warned once: nothing is left under the zero key');
  await later.close();
});

t.test('key file: generated 0600 on first start, reused, refused when others can read it', async (t) => {
  const dataDir = path.join(stackDir(t), 'not', 'yet', 'there');
  const file = secretKeyFilePath(dataDir);
  const load = (log = captureLog(), env: { secretKeyHex?: string; retiredSecretKeysHex?: string[] } = {}) =>
    loadHubKeyRing({ dataDir, secretKeyHex: env.secretKeyHex, retiredSecretKeysHex: env.retiredSecretKeysHex ?? [], nowMs: Date.UTC(2026, 0, 2), log: log.log });

  const log = captureLog();
  // Two starts racing on an empty data dir end up with one key.
  const [a, b] = await Promise.all([load(log), load(log)]);
  t.equal(a.ring.current.kid, b.ring.current.kid, 'one key, whoever created the file');
  t.equal(a.file, file);
  t.equal((await stat(file)).mode & 0o777, 0o600, 'mode 0600');
  const content = JSON.parse(await readFile(file, 'utf8')) as KeyFile;
  t.same(Object.keys(content).sort(), ['currentKid', 'keys', 'v']);
  t.equal(content.v, 1);
  t.equal(content.keys.length, 1);
  t.match(content.keys[0], { kid: a.ring.current.kid, keyHex: /^[0-9a-f]{64}$/, createdAt: '2026-01-02T00:00:00.000Z' });
  t.equal(content.currentKid, content.keys[0]!.kid);
  t.equal(kidOf(content.keys[0]!.keyHex), content.currentKid, 'the kid is derived from the key');
  t.not(content.keys[0]!.keyHex, ZERO);
  const generated = log.lines.filter((l) => /generated a random secret key/.test(l.msg));
  t.equal(generated.length, 1, 'said once');
  t.match(generated[0], { level: 'warn', obj: { file, kid: a.ring.current.kid } });
  t.notOk(log.text().includes(content.keys[0]!.keyHex), 'where it lives is logged, never the key');

  const second = captureLog();
  t.equal((await load(second)).ring.current.kid, a.ring.current.kid, 'the next start reuses it');
  t.notOk(second.lines.some((l) => /generated/.test(l.msg)), 'and says nothing about generating');

  for (const mode of [0o644, 0o640, 0o604]) {
    await chmod(file, mode);
    await t.rejects(load(), { message: new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} has mode 0${mode.toString(8)}: it is readable by other users.*chmod 600`) }, `mode 0${mode.toString(8)} refused`);
  }
  await chmod(file, 0o600);

  // FLOWBILL_SECRET_KEY set: it seals; the file's key (and FLOWBILL_SECRET_KEYS_RETIRED) only open.
  const env = await load(captureLog(), { secretKeyHex: K1, retiredSecretKeysHex: [K2] });
  t.equal(env.ring.current.kid, kidOf(K1));
  t.same(env.ring.retired.map((k) => k.kid), [kidOf(K2), a.ring.current.kid]);
  t.equal(env.file, undefined);

  // A damaged file is refused rather than half-used.
  await writeFile(file, JSON.stringify({ ...content, keys: [{ ...content.keys[0], kid: 'ffffffffffffffff' }] }), { mode: 0o600 });
  await t.rejects(load(), /does not match the key/);
});

/** The real program: `node --import tsx hub/main.ts [args]` with LevelDB in `dataDir`; stdout kept. */
function runHubProgram(t: Test, dataDir: string, args: string[], env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, FLOWBILL_HUB_DATA_DIR: dataDir, FLOWBILL_JOBS: 'off', FLOWBILL_ADMIN_PASSWORD: 'admin-password-1', ...env };
  for (const k of ['FLOWBILL_SECRET_KEY', 'FLOWBILL_SECRET_KEYS_RETIRED']) if (!(k in env)) delete childEnv[k];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const onLine = (fn: (line: string) => void) => readline.createInterface({ input: proc.stdout! }).on('line', (line) => { lines.push(line); fn(line); });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 90_000);
  t.teardown(() => { clearTimeout(timer); proc.kill('SIGKILL'); });
  return { proc, exited, onLine, stdout: () => lines.join('\n'), stderr: () => stderr };
}

/** `npm run hub` on free ports; resolves once it is ready. */
async function startHubProgram(t: Test, dataDir: string, env: Record<string, string> = {}) {
  const httpPort = await freeTcpPort();
  const run = runHubProgram(t, dataDir, [], { FLOWBILL_HTTP_PORT: String(httpPort), FLOWBILL_MQTT_PORT: String(await freeTcpPort()), ...env });
  await new Promise<void>((resolve, reject) => {
    run.onLine((line) => { if (/flowbill hub ready/.test(line)) resolve(); });
    void run.exited.then((code) => reject(new Error(`hub exited (${code}) before ready: ${run.stderr().slice(-2000)}`)));
  });
  const api: Api = async (method, route, body, token) => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1${route}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as any };
  };
  const adminToken = (await api('POST', '/login', { username: 'admin', password: 'admin-password-1' })).body.token as string;
  return { ...run, api, adminToken, async stop() { run.proc.kill('SIGTERM'); t.equal(await run.exited, 0, 'stopped cleanly'); } };
}

/** `npm run hub -- rotate-secret-key`: exit code and output. */
async function rotateCommand(t: Test, dataDir: string, env: Record<string, string> = {}) {
  const run = runHubProgram(t, dataDir, ['rotate-secret-key'], env);
  run.onLine(() => undefined);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

async function readStored(dataDir: string, username: string) {
  const kv = await openLevelKvStore(path.join(dataDir, 'db'));
  try { return (await storedLogin(kv, username)).login; } finally { await kv.close(); }
}

t.test('the real program: key file on first start, `rotate-secret-key`, refusal of a readable key file', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-secrets-at-rest-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, 'hub');
  const file = secretKeyFilePath(dataDir);

  const first = await startHubProgram(t, dataDir);
  const keyFile = () => readFile(file, 'utf8').then((s) => JSON.parse(s) as KeyFile);
  const k0 = await keyFile();
  t.equal((await stat(file)).mode & 0o777, 0o600, 'generated with mode 0600');
  t.match(first.stdout(), new RegExp(`generated a random secret key .*in ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), 'says where it lives');
  t.notOk(first.stdout().includes(k0.keys[0]!.keyHex), 'never the key');
  await seedCustomers(first.api, first.adminToken);
  t.equal(await customerLogin(first.api, 'alice'), 200);
  // Rotating while the hub runs is refused (LevelDB admits one process) and leaves the key file alone.
  const busy = await rotateCommand(t, dataDir);
  t.equal(busy.code, 1);
  t.match(busy.stderr, /stop the hub first/);
  t.same(await keyFile(), k0);
  await first.stop();

  const before = await readStored(dataDir, 'alice');
  t.match(before.password, { v: 2, kid: k0.currentKid }, 'sealed under the generated key');
  t.ok(gcmOpens(k0.keys[0]!.keyHex, before.password!, aadOf(before), PW.alice), 'control');
  t.notOk(gcmOpens(ZERO, before.password!, aadOf(before), PW.alice), 'not under the zero key');

  const rotation = await rotateCommand(t, dataDir);
  t.equal(rotation.code, 0, rotation.stderr);
  const k1 = await keyFile();
  t.not(k1.currentKid, k0.currentKid, 'a new current key');
  t.same(k1.keys.map((k) => k.kid), [k1.currentKid], 'the old key is dropped once nothing uses it');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'still 0600');
  t.match(rotation.stdout, new RegExp(`new current secret key ${k1.currentKid}`));
  t.match(rotation.stdout, /customer passwords: 1 re-sealed, 0 already under the current key, 0 that no key opens/);
  t.match(rotation.stdout, new RegExp(`retired keys dropped from the file: ${k0.currentKid}`));
  t.notOk(rotation.stdout.includes(k1.keys[0]!.keyHex) || rotation.stdout.includes(k0.keys[0]!.keyHex), 'no key printed');
  const after = await readStored(dataDir, 'alice');
  t.match(after.password, { v: 2, kid: k1.currentKid }, 'the old kid is gone from the stored value');

  await chmod(file, 0o644);
  const refused = runHubProgram(t, dataDir, [], { FLOWBILL_HTTP_PORT: String(await freeTcpPort()), FLOWBILL_MQTT_PORT: String(await freeTcpPort()) });
  refused.onLine(() => undefined);
  t.equal(await refused.exited, 1, 'a key file others can read stops the start');
  t.match(refused.stderr(), /flowbill hub failed to start: secret key file .* has mode 0644: it is readable by other users.*chmod 600/);
  await chmod(file, 0o600);

  const second = await startHubProgram(t, dataDir);
  t.equal(await customerLogin(second.api, 'alice'), 200, 'the customer logs in with the same password after the rotation');
  await second.stop();

  const envManaged = await rotateCommand(t, dataDir, { FLOWBILL_SECRET_KEY: K1 });
  t.equal(envManaged.code, 1);
  t.match(envManaged.stderr, /FLOWBILL_SECRET_KEY is set.*FLOWBILL_SECRET_KEYS_RETIRED/, 'with the key in the environment, the command says how to rotate it there');
  t.same(await keyFile(), k1, 'and leaves the file alone');
});
