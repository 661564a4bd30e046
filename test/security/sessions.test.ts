/**
 * Issue 9 (hub security): login sessions are stored under the SHA-256 of their token, never the token
 * itself; expired ones are refused, deleted when presented, and purged hourly by the hub's ticker
 * (driven here by manual timers: no sleeping); logout deletes the session. Against the real hub.
 */
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { collect, prefixRange, type KeyValueStore } from '../../common/kv/kv-store';
import { encodeJson } from '../../common/kv/json-codec';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import { createManualTimers } from '../../common/ticker';
import { createHubModules } from '../../hub/hub-modules';
import { startTestHub } from '../hub/spine/hub-harness';

const HOUR_MS = 3600_000;
const TTL_HOURS = 12; // FLOWBILL_SESSION_TTL_HOURS default

type TestHub = Awaited<ReturnType<typeof startTestHub>>;

async function start(t: Test, opts: { kv?: KeyValueStore } = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-sessions-'));
  const timers = createManualTimers();
  const hub = await startTestHub({ modules: createHubModules, config: { dataDir }, timers, kv: opts.kv });
  t.teardown(async () => { await hub.close(); await rm(dataDir, { recursive: true, force: true }); });
  return { hub, timers };
}

/** Logs in as the web UI does; returns the token (also the cookie's value). */
async function login(hub: TestHub): Promise<string> {
  const res = await fetch(`${hub.httpUrl}/api/v1/login`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: hub.httpUrl },
    body: JSON.stringify({ username: 'admin', password: 'admin-pw' }),
  });
  const body = await res.json() as { token: string };
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('fb_session='))!;
  if (cookie.slice('fb_session='.length).split(';')[0] !== body.token) throw new Error('cookie and body carry different tokens');
  return body.token;
}

async function me(hub: TestHub, token: string, via: 'bearer' | 'cookie'): Promise<number> {
  const headers: Record<string, string> = via === 'bearer' ? { authorization: `Bearer ${token}` } : { cookie: `fb_session=${token}` };
  return (await fetch(`${hub.httpUrl}/api/v1/me`, { headers })).status;
}

const sessionKeys = async (kv: KeyValueStore) => (await collect(kv, prefixRange('session/'))).map(([k]) => k);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

t.test('the store holds no plaintext session token, only its SHA-256', async (t) => {
  const { hub } = await start(t);
  const tokens = [hub.adminToken, await login(hub), await login(hub)];
  const everything = await collect(hub.kv, {});
  t.ok(everything.length > 0);
  for (const token of tokens) {
    const leaks = everything.filter(([k, v]) => k.includes(token) || Buffer.from(v).toString('latin1').includes(token)).map(([k]) => k);
    t.same(leaks, [], 'the token appears in no key and no value');
    t.ok(everything.some(([k]) => k === `session/${sha256(token)}`), 'the session is keyed by the token\'s SHA-256');
    t.equal(await me(hub, token, 'bearer'), 200, 'and the presented token still authenticates');
    t.equal(await me(hub, token, 'cookie'), 200);
  }
  t.equal(await me(hub, sha256(tokens[1]!), 'bearer'), 401, 'the stored hash is not itself a token');
});

t.test('expired sessions are refused, deleted when presented, and purged hourly', async (t) => {
  const { hub, timers } = await start(t);
  const presented = await login(hub);
  const idle = await login(hub);
  hub.clock.advanceMs(TTL_HOURS * HOUR_MS - 1);
  t.equal(await me(hub, presented, 'cookie'), 200, 'valid until its expiry');
  const fresh = await login(hub);
  hub.clock.advanceMs(1);

  t.equal(await me(hub, presented, 'cookie'), 401, 'expired: refused by cookie');
  t.equal(await me(hub, presented, 'bearer'), 401, 'expired: refused by bearer');
  const keys = await sessionKeys(hub.kv);
  t.notOk(keys.includes(`session/${sha256(presented)}`), 'the presented expired session was deleted at once');
  t.ok(keys.includes(`session/${sha256(idle)}`), 'an expired session nobody presents stays until the purge');

  await timers.tick(HOUR_MS);
  const after = await sessionKeys(hub.kv);
  t.notOk(after.includes(`session/${sha256(idle)}`), 'the hourly purge deleted it');
  t.ok(after.includes(`session/${sha256(fresh)}`), 'a live session survives the purge');
  t.equal(await me(hub, fresh, 'cookie'), 200);

  t.equal(timers.activePeriodsMs().filter((ms) => ms === HOUR_MS).length, 1, 'one hourly purge timer while the hub runs');
  await hub.close();
  t.equal(timers.active(), 0, 'stop() clears it');
});

t.test('logout deletes the session', async (t) => {
  const { hub } = await start(t);
  const token = await login(hub);
  const other = await login(hub);
  const res = await fetch(`${hub.httpUrl}/api/v1/logout`, { method: 'POST', headers: { cookie: `fb_session=${token}`, origin: hub.httpUrl } });
  t.equal(res.status, 200);
  t.notOk((await sessionKeys(hub.kv)).includes(`session/${sha256(token)}`), 'gone from the store');
  t.equal(await me(hub, token, 'cookie'), 401);
  t.equal(await me(hub, token, 'bearer'), 401);
  t.equal(await me(hub, other, 'cookie'), 200, 'the user\'s other session is untouched');
  const bearerOut = await fetch(`${hub.httpUrl}/api/v1/logout`, { method: 'POST', headers: { authorization: `Bearer ${other}` } });
  t.equal(bearerOut.status, 200);
  t.equal(await me(hub, other, 'bearer'), 401, 'a Bearer logout deletes it too');
});

t.test('sessions stored before hashing (session/<token>) are dropped at start: those users log in again', async (t) => {
  const kv = createMemoryKvStore();
  const legacy = 'LegacyPlainToken_abcdefghijklmn';
  await kv.write([{ type: 'put', key: `session/${legacy}`, value: encodeJson({ token: legacy, principal: { userId: 'u', username: 'admin', role: 'super_admin' }, expiresAtMs: Date.UTC(2030, 0, 1) }) }]);
  const { hub } = await start(t, { kv });
  t.notOk((await sessionKeys(kv)).includes(`session/${legacy}`), 'the plaintext-keyed record is gone');
  t.equal(await me(hub, legacy, 'bearer'), 401);
});
