/**
 * Issue 9 (hub security): CSRF, security headers and the session cookie, against the real hub over
 * HTTP (startTestHub with every module). The hole: a cookie-only, form-encoded POST from another
 * origin (what an auto-submitting <form> on any page does) issued an enrollment token. Cookie
 * requests are made with fetch and a Cookie header, as a browser would send them.
 */
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { collect, prefixRange } from '../../common/kv/kv-store';
import { loadHubConfig, type HubConfig } from '../../hub/config';
import { createHubModules } from '../../hub/hub-modules';
import { CONTENT_SECURITY_POLICY } from '../../hub/http/security-headers';
import { startTestHub } from '../hub/spine/hub-harness';

const OP = 'isp-csrf';
const EVIL = 'http://evil.example';
const PUBLIC_HTTPS = 'https://billing.isp.example';

type TestHub = Awaited<ReturnType<typeof startTestHub>>;

interface Req { body?: string; type?: string; cookie?: string; origin?: string; referer?: string; bearer?: string }

async function send(hub: TestHub, method: string, route: string, r: Req = {}) {
  const headers: Record<string, string> = {};
  if (r.type) headers['content-type'] = r.type;
  if (r.cookie) headers.cookie = `fb_session=${r.cookie}`;
  if (r.origin) headers.origin = r.origin;
  if (r.referer) headers.referer = r.referer;
  if (r.bearer) headers.authorization = `Bearer ${r.bearer}`;
  const res = await fetch(`${hub.httpUrl}${route}`, { method, headers, body: r.body, redirect: 'manual' });
  const text = await res.text();
  const body = res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body };
}

const json = (v: unknown) => ({ body: JSON.stringify(v), type: 'application/json' });

/** Logs in as the browser does (JSON, from the hub's own page) and returns the cookie's value and header. */
async function cookieLogin(hub: TestHub, username = 'admin', password = 'admin-pw') {
  const res = await send(hub, 'POST', '/api/v1/login', { ...json({ username, password }), origin: hub.httpUrl });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('fb_session='));
  if (!setCookie) throw new Error('login set no session cookie');
  return { cookie: setCookie.slice('fb_session='.length).split(';')[0]!, setCookie, token: res.body.token as string };
}

async function enrollmentTokensStored(hub: TestHub): Promise<number> {
  return (await collect(hub.kv, prefixRange('edges-token/'))).length;
}

async function startHub(t: Test, config: Partial<HubConfig> = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-csrf-'));
  const hub = await startTestHub({ modules: createHubModules, config: { dataDir, ...config } });
  t.teardown(async () => { await hub.close(); await rm(dataDir, { recursive: true, force: true }); });
  t.equal((await hub.admin('POST', '/api/v1/operators', { operatorId: OP, name: 'CSRF ISP' })).status, 201);
  return hub;
}

const tokensRoute = `/api/v1/operators/${OP}/enrollment-tokens`;

t.test('the hole: a form-encoded cookie POST from another origin issues no enrollment token', async (t) => {
  const hub = await startHub(t);
  const { cookie } = await cookieLogin(hub);
  const before = await enrollmentTokensStored(hub);

  // What <form method=post action=".../enrollment-tokens"> on evil.example submits with the victim's cookie.
  const form = await send(hub, 'POST', tokensRoute, { body: 'confirm=1', type: 'application/x-www-form-urlencoded', cookie, origin: EVIL });
  t.equal(form.status, 415, `refused (the hole answered 201 with a token; got ${form.status} ${JSON.stringify(form.body)})`);
  t.equal(form.body.error?.code, 'UNSUPPORTED_MEDIA_TYPE');
  t.notOk(form.body.token, 'no token in the answer');

  // The other two encodings a form can use, and the same form without Origin (old browsers, privacy tools).
  const plain = await send(hub, 'POST', tokensRoute, { body: '{"ttlHours":24}', type: 'text/plain', cookie, origin: EVIL });
  t.equal(plain.status, 415, 'enctype=text/plain carrying JSON text is refused');
  const multipart = await send(hub, 'POST', tokensRoute, { body: '--x\r\nContent-Disposition: form-data; name="ttlHours"\r\n\r\n24\r\n--x--\r\n', type: 'multipart/form-data; boundary=x', cookie, origin: EVIL });
  t.equal(multipart.status, 415, 'multipart is refused');
  const noOrigin = await send(hub, 'POST', tokensRoute, { body: 'ttlHours=24', type: 'application/x-www-form-urlencoded', cookie });
  t.equal(noOrigin.status, 415, 'a form without Origin is refused too');
  const noType = await send(hub, 'POST', tokensRoute, { body: '{"ttlHours":24}', cookie, origin: hub.httpUrl });
  t.equal(noType.status, 415, 'a body without any content type is refused');

  t.equal(await enrollmentTokensStored(hub), before, 'no enrollment token was stored');
});

t.test('cookie-authenticated JSON needs the hub\'s own Origin (or Referer)', async (t) => {
  const hub = await startHub(t);
  const { cookie } = await cookieLogin(hub);
  const before = await enrollmentTokensStored(hub);
  const body = json({ ttlHours: 1 });

  for (const [what, headers] of [
    ['another origin', { origin: EVIL }],
    ['the same host on another port', { origin: hub.httpUrl.replace(/:\d+$/, ':1') }],
    ['https instead of http', { origin: hub.httpUrl.replace('http:', 'https:') }],
    ['an opaque origin', { origin: 'null' }],
    ['neither Origin nor Referer', {}],
    ['only a foreign Referer', { referer: `${EVIL}/page.html` }],
    ['a garbage Referer', { referer: 'not a url' }],
  ] as const) {
    const res = await send(hub, 'POST', tokensRoute, { ...body, cookie, ...headers });
    t.equal(res.status, 403, `${what}: refused`);
    t.equal(res.body.error?.code, 'CSRF_REJECTED', `${what}: coded error`);
  }
  t.equal(await enrollmentTokensStored(hub), before, 'no enrollment token was stored');

  const same = await send(hub, 'POST', tokensRoute, { ...body, cookie, origin: hub.httpUrl });
  t.equal(same.status, 201, 'same-origin JSON works');
  t.type(same.body.token, 'string');
  const byReferer = await send(hub, 'POST', tokensRoute, { ...body, cookie, referer: `${hub.httpUrl}/#/sources` });
  t.equal(byReferer.status, 201, 'a same-origin Referer stands in for a missing Origin');
  t.equal(await enrollmentTokensStored(hub), before + 2);

  // Every unsafe method is guarded, not only POST.
  const put = await send(hub, 'PUT', `/api/v1/operators/${OP}/ip-groups/g1`, { ...json({ prefixes: ['10.0.0.0/8'] }), cookie, origin: EVIL });
  t.equal(put.status, 403);
  const del = await send(hub, 'DELETE', `/api/v1/operators/${OP}/ip-groups/g1`, { cookie, origin: EVIL });
  t.equal(del.status, 403);
  // A forged logout does not end the victim's session.
  const logout = await send(hub, 'POST', '/api/v1/logout', { cookie, origin: EVIL });
  t.equal(logout.status, 403);
  t.equal((await send(hub, 'GET', '/api/v1/me', { cookie })).status, 200, 'still logged in');
  // A safe method needs no Origin (navigations and the pages' GETs).
  t.equal((await send(hub, 'GET', `/api/v1/operators/${OP}/edges`, { cookie })).status, 200);
});

t.test('behind a TLS reverse proxy: the public URL\'s origin is the hub\'s own', async (t) => {
  const hub = await startHub(t, { publicUrl: `${PUBLIC_HTTPS}/` });
  const { cookie } = await cookieLogin(hub);
  // The proxy forwards to http://127.0.0.1:<port> (Host rewritten); the browser's Origin is the public one.
  const res = await send(hub, 'POST', tokensRoute, { ...json({}), cookie, origin: PUBLIC_HTTPS });
  t.equal(res.status, 201);
  const http = await send(hub, 'POST', tokensRoute, { ...json({}), cookie, origin: PUBLIC_HTTPS.replace('https:', 'http:') });
  t.equal(http.status, 403, 'the public host over plain http is another origin');
});

t.test('Bearer clients need no Origin; the JSON rule still holds for them', async (t) => {
  const hub = await startHub(t);
  const res = await send(hub, 'POST', tokensRoute, { ...json({ ttlHours: 1 }), bearer: hub.adminToken });
  t.equal(res.status, 201, 'Bearer without Origin');
  const evil = await send(hub, 'POST', tokensRoute, { ...json({ ttlHours: 1 }), bearer: hub.adminToken, origin: EVIL });
  t.equal(evil.status, 201, 'a Bearer token is not ambient: a forged request cannot carry it');
  const form = await send(hub, 'POST', tokensRoute, { body: 'ttlHours=1', type: 'application/x-www-form-urlencoded', bearer: hub.adminToken });
  t.equal(form.status, 415);
  const empty = await send(hub, 'POST', `/api/v1/operators/${OP}/addons/netflow/start-trial`, { bearer: hub.adminToken });
  t.not(empty.status, 415, 'a POST without a body needs no content type');

  // The edge's field enrollment: no login, the one-time token in a JSON body, no Origin (provisioning CLI).
  const enroll = await send(hub, 'POST', '/api/v1/enroll', json({ token: res.body.token, name: 'edge-1' }));
  t.equal(enroll.status, 201);
  t.type(enroll.body.credentials.password, 'string');
  // Scripts that send a JSON type on an empty POST keep working (local-stack, e2e stack).
  const emptyJson = await send(hub, 'POST', `/api/v1/operators/${OP}/edges/${enroll.body.edge.edgeId}/rotate`, { type: 'application/json', bearer: hub.adminToken });
  t.equal(emptyJson.status, 200);
});

t.test('login: JSON only, and refused from another Origin (login CSRF)', async (t) => {
  const hub = await startHub(t);
  const creds = json({ username: 'admin', password: 'admin-pw' });
  const evil = await send(hub, 'POST', '/api/v1/login', { ...creds, origin: EVIL });
  t.equal(evil.status, 403);
  t.equal(evil.body.error?.code, 'CSRF_REJECTED');
  t.same(evil.headers.getSetCookie(), [], 'no session cookie planted');
  const form = await send(hub, 'POST', '/api/v1/login', { body: 'username=admin&password=admin-pw', type: 'application/x-www-form-urlencoded' });
  t.equal(form.status, 415);
  t.equal((await send(hub, 'POST', '/api/v1/login', creds)).status, 200, 'API clients send no Origin');
  t.equal((await send(hub, 'POST', '/api/v1/login', { ...creds, origin: hub.httpUrl })).status, 200, 'the hub\'s own login page');
});

t.test('security headers on pages, scripts, API answers and errors', async (t) => {
  const hub = await startHub(t);
  const { cookie } = await cookieLogin(hub);
  const cases: [string, Awaited<ReturnType<typeof send>>][] = [
    ['HTML', await send(hub, 'GET', '/')],
    ['JS', await send(hub, 'GET', '/app.js')],
    ['uPlot', await send(hub, 'GET', '/vendor/uplot/uPlot.esm.js')],
    ['API', await send(hub, 'GET', '/api/v1/me', { cookie })],
    ['API 401', await send(hub, 'GET', '/api/v1/me')],
    ['API 415', await send(hub, 'POST', '/api/v1/login', { body: 'x=1', type: 'application/x-www-form-urlencoded' })],
    ['API 403', await send(hub, 'POST', '/api/v1/logout', { cookie, origin: EVIL })],
    ['404', await send(hub, 'GET', '/no-such-page')],
  ];
  t.match(cases[0]![1].headers.get('content-type'), /text\/html/);
  t.match(cases[1]![1].headers.get('content-type'), /javascript/);
  for (const [what, res] of cases) {
    const csp = res.headers.get('content-security-policy') ?? '';
    t.equal(csp, CONTENT_SECURITY_POLICY, `${what}: CSP`);
    for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'"]) {
      t.ok(csp.split('; ').includes(d), `${what}: ${d}`);
    }
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: no unsafe-*`);
    t.equal(res.headers.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
    t.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
    t.equal(res.headers.get('referrer-policy'), 'same-origin', `${what}: Referrer-Policy`);
  }
  for (const [what, res] of cases.filter(([w]) => w.startsWith('API'))) t.equal(res.headers.get('cache-control'), 'no-store', `${what}: no-store`);
  t.equal(cases[0]![1].headers.get('cache-control'), 'no-cache', 'pages keep no-cache (revalidated, not stored forever)');
});

t.test('the session cookie: HttpOnly, SameSite=Strict, Path=/, Secure when the public URL is https', async (t) => {
  const attrs = (setCookie: string) => setCookie.toLowerCase().split(';').map((s) => s.trim());

  await t.test('http public URL (default auto): not Secure', async (t) => {
    const hub = await startHub(t);
    const { setCookie, cookie } = await cookieLogin(hub);
    const a = attrs(setCookie);
    for (const want of ['httponly', 'samesite=strict', 'path=/']) t.ok(a.includes(want), want);
    t.notOk(a.includes('secure'), 'no Secure over a plain-http public URL');
    const out = await send(hub, 'POST', '/api/v1/logout', { cookie, origin: hub.httpUrl });
    t.equal(out.status, 200);
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith('fb_session='))!;
    t.match(cleared, /^fb_session=;/);
    t.match(cleared.toLowerCase(), /expires=thu, 01 jan 1970/);
    for (const want of ['httponly', 'samesite=strict', 'path=/']) t.ok(attrs(cleared).includes(want), `cleared with ${want}`);
    t.equal((await send(hub, 'GET', '/api/v1/me', { cookie })).status, 401, 'logged out');
  });

  await t.test('https public URL: Secure, although the hub\'s own hop is plain HTTP (TLS proxy)', async (t) => {
    const hub = await startHub(t, { publicUrl: PUBLIC_HTTPS });
    const { setCookie, cookie } = await cookieLogin(hub);
    const a = attrs(setCookie);
    for (const want of ['httponly', 'samesite=strict', 'path=/', 'secure']) t.ok(a.includes(want), want);
    const out = await send(hub, 'POST', '/api/v1/logout', { cookie, origin: PUBLIC_HTTPS });
    t.equal(out.status, 200, 'clearing a Secure cookie over plain HTTP does not throw either');
    t.ok(attrs(out.headers.getSetCookie().find((c) => c.startsWith('fb_session='))!).includes('secure'));
  });

  await t.test('FLOWBILL_COOKIE_SECURE on / off override auto', async (t) => {
    const on = await startHub(t, { cookieSecure: 'on' });
    t.ok(attrs((await cookieLogin(on)).setCookie).includes('secure'), 'on: Secure over an http public URL');
    const off = await startHub(t, { cookieSecure: 'off', publicUrl: PUBLIC_HTTPS });
    t.notOk(attrs((await cookieLogin(off)).setCookie).includes('secure'), 'off: not Secure even for https');
  });

  t.test('config: FLOWBILL_COOKIE_SECURE is validated', async (t) => {
    t.equal(loadHubConfig({}).cookieSecure, 'auto');
    t.equal(loadHubConfig({ FLOWBILL_COOKIE_SECURE: 'on' }).cookieSecure, 'on');
    t.throws(() => loadHubConfig({ FLOWBILL_COOKIE_SECURE: 'yes' }), /FLOWBILL_COOKIE_SECURE=yes: expected auto, on or off/);
  });
});
