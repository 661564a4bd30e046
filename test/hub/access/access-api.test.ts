import t from 'tap';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { createMemoryKvStore } from '../../../common/kv/memory-kv-store';
import { collect, prefixRange } from '../../../common/kv/kv-store';
import { createManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logger';
import { errorMiddleware } from '../../../hub/http/error-middleware';
import { authenticate } from '../../../hub/http/authenticate';
import { createIdentityStore } from '../../../hub/identity/identity-store';
import { createIdentityRoutes } from '../../../hub/identity/identity-routes';
import { createLoginThrottle, DEFAULT_LOGIN_THROTTLE_RULES } from '../../../hub/security/login-throttle';
import { createAccessModule } from '../../../hub/access/access-module';
import { keyRingFromHex } from '../../../hub/security/key-ring';
import type { MailMessage, SeriesPoint, SeriesReader, SubjectInfo } from '../../../hub/ports';
import { callApi } from '../../helpers/test-app';

const T0 = Date.UTC(2026, 0, 1);

function fakeSeriesReader(): SeriesReader & { reads: string[] } {
  const subjects: Record<string, SubjectInfo[]> = {
    isp1: [
      { subjectId: 'ipg:alice-vps', kind: 'ip_group', label: 'Alice VPS', firstSeenSec: 100, lastSeenSec: 900 },
      { subjectId: 'ipg:bob-dedi', kind: 'ip_group', label: 'Bob dedicated', firstSeenSec: 100, lastSeenSec: 900 },
      { subjectId: 'ipg:alice-net', kind: 'ip_group', label: 'Alice subnet', firstSeenSec: 100, lastSeenSec: 900 },
      { subjectId: 'if:10.0.0.1/7', kind: 'interface', label: 'ACME uplink', firstSeenSec: 100, lastSeenSec: 900 },
    ],
  };
  const reads: string[] = [];
  const point = (bucketStartSec: number): SeriesPoint => ({ bucketStartSec, bytesIn: 1000, bytesOut: 2000, packetsIn: 10, packetsOut: 20, flowsIn: 1, flowsOut: 2 });
  return {
    reads,
    async readSeries(op, subjectId, fromSec) { reads.push(`${op}:${subjectId}`); return [point(fromSec)]; },
    async listSubjects(op) { return subjects[op] ?? []; },
    async reportedBucketCount() { return 0; },
    async readSlotColumns() {},
  };
}

async function setup() {
  const clock = createManualClock(T0);
  const kv = createMemoryKvStore();
  const identity = createIdentityStore(kv);
  await identity.createOperator('isp1', 'ISP One', T0);
  await identity.createOperator('isp2', 'ISP Two', T0);
  await identity.createUser({ username: 'boss1', password: 'pw-boss1', role: 'operator_admin', operatorId: 'isp1' }, T0);
  await identity.createUser({ username: 'noc1', password: 'pw-noc1', role: 'operator_readonly', operatorId: 'isp1' }, T0);
  await identity.createUser({ username: 'boss2', password: 'pw-boss2', role: 'operator_admin', operatorId: 'isp2' }, T0);
  const sent: MailMessage[] = [];
  const mailer = { async send(m: MailMessage) { sent.push(m); return { id: `mail-${sent.length}` }; } };
  const seriesReader = fakeSeriesReader();
  const ipGroups = { async listIpGroups(op: string) { return op === 'isp1' ? [{ name: 'alice-net', prefixes: ['203.0.113.0/29'] }, { name: 'bob-dedi', prefixes: ['198.51.100.0/24'] }] : []; } };
  const access = createAccessModule({
    kv, clock, log: silentLogger, seriesReader, mailer, ipGroups,
    config: { publicUrl: 'https://hub.example.net/' }, secretKeys: keyRingFromHex('5a'.repeat(32)),
  });
  const app = new Koa();
  app.use(errorMiddleware(silentLogger)).use(bodyParser()).use(authenticate(identity, clock));
  for (const r of [createIdentityRoutes({ identity, clock, sessionTtlHours: 1, customers: access.customerLoginVerifier, throttle: createLoginThrottle({ rules: DEFAULT_LOGIN_THROTTLE_RULES, clock, log: silentLogger }) }), ...access.routers]) app.use(r.routes()).use(r.allowedMethods());

  const tokens = new Map<string, string>();
  const login = async (username: string, password: string) => callApi(app, 'POST', '/api/v1/login', { body: { username, password } });
  const as = async (username: string, password = `pw-${username}`) => {
    if (!tokens.has(username)) {
      const res = await login(username, password);
      if (res.status !== 200) throw new Error(`login ${username}: ${JSON.stringify(res.body)}`);
      tokens.set(username, res.body.token);
    }
    const headers = { authorization: `Bearer ${tokens.get(username)}` };
    return (method: string, path: string, body?: unknown) => callApi(app, method, path, { headers, body });
  };
  return { app, kv, clock, access, sent, seriesReader, login, as };
}

/** isp1: clients alice (two VPS) and bob (a dedicated server); isp2: carol. */
async function seed(s: Awaited<ReturnType<typeof setup>>) {
  const boss = await s.as('boss1');
  const ok = async (p: Promise<{ status: number; body: any }>, status = 201) => {
    const res = await p;
    if (res.status !== status) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await ok(boss('POST', '/api/v1/operators/isp1/clients', { clientId: 'alice', name: 'Alice Ltd', email: 'alice@example.com' }));
  await ok(boss('POST', '/api/v1/operators/isp1/clients', { clientId: 'bob', name: 'Bob', email: 'bob@example.com' }));
  await ok(boss('POST', '/api/v1/operators/isp1/services', { serviceId: 'vps-1', clientId: 'alice', type: 'vps', label: 'VPS Small' }));
  await ok(boss('POST', '/api/v1/operators/isp1/services', { serviceId: 'vps-2', clientId: 'alice', type: 'cloud', label: 'Cloud Server' }));
  await ok(boss('POST', '/api/v1/operators/isp1/services', { serviceId: 'dedi-1', clientId: 'bob', type: 'dedicated', label: 'Dedicated' }));
  const r1 = (await ok(boss('POST', '/api/v1/operators/isp1/access-records', {
    serviceId: 'vps-1', username: 'alice', password: 'alice-secret-1', group: { kind: 'ip_group', value: 'alice-vps' }, notes: 'INTERNAL: pays late',
  }))).record;
  const r2 = (await ok(boss('POST', '/api/v1/operators/isp1/access-records', {
    serviceId: 'vps-2', username: 'alice', ipAddress: '203.0.113.0/28', notes: 'INTERNAL: second box',
  }))).record;
  const rb = (await ok(boss('POST', '/api/v1/operators/isp1/access-records', {
    serviceId: 'dedi-1', username: 'bob', password: 'bob-secret-12', group: { kind: 'ip_group', value: 'bob-dedi' },
  }))).record;
  return { boss, r1, r2, rb, ok };
}

t.test('operators create clients, services and records; passwords are encrypted at rest and never returned', async (t) => {
  const s = await setup();
  const { boss, r1, r2 } = await seed(s);
  t.equal(r1.clientId, 'alice', 'client detected from the service');
  t.equal(r1.clientName, 'Alice Ltd');
  t.equal(r1.hasPassword, true);
  t.equal(r1.effectiveNetflowUrl, 'https://hub.example.net/customer?org=isp1', 'the hub\'s own view, with the organization for the login page');
  t.equal(r2.hasPassword, true, 'the second service reuses the login, and its password');
  const list = await boss('GET', '/api/v1/operators/isp1/access-records');
  t.equal(list.body.records.length, 3);
  t.same((await boss('GET', '/api/v1/operators/isp1/access-records?clientId=bob')).body.records.map((r: { serviceId: string }) => r.serviceId), ['dedi-1']);
  t.equal((await boss('GET', '/api/v1/operators/isp1/access-records?username=alice')).body.records.length, 2);
  const raw = JSON.stringify(list.body);
  t.notOk(raw.includes('alice-secret-1'), 'no plaintext in the API');
  t.notOk(raw.includes('ciphertext'), 'no ciphertext in the API');
  const stored = (await collect(s.kv, prefixRange('access/'))).map(([, v]) => Buffer.from(v).toString('utf8')).join('\n');
  t.notOk(stored.includes('alice-secret-1'), 'no plaintext at rest');
  t.match(stored, /ciphertextB64/);

  const noc = await s.as('noc1');
  t.equal((await noc('GET', '/api/v1/operators/isp1/access-records')).status, 200, 'read-only reads');
  t.equal((await noc('POST', '/api/v1/operators/isp1/clients', { name: 'x' })).status, 403, 'read-only cannot write');
  t.equal((await noc('PATCH', `/api/v1/operators/isp1/access-records/${r1.recordId}`, { enabled: false })).status, 403);
  const other = await s.as('boss2');
  t.equal((await other('GET', `/api/v1/operators/isp1/access-records/${r1.recordId}`)).status, 404, 'another tenant gets 404');
  t.equal((await other('GET', '/api/v1/operators/isp2/access-records')).body.records.length, 0);
});

t.test('validation and conflicts give coded errors', async (t) => {
  const s = await setup();
  const { boss, r1 } = await seed(s);
  const post = (body: unknown) => boss('POST', '/api/v1/operators/isp1/access-records', body);
  await boss('POST', '/api/v1/operators/isp1/services', { serviceId: 'vps-3', clientId: 'alice', type: 'vps', label: 'Third' });
  await boss('POST', '/api/v1/operators/isp1/services', { serviceId: 'dedi-2', clientId: 'bob', type: 'dedicated', label: 'Second dedicated' });
  const cases: [unknown, number, string, RegExp][] = [
    [{ serviceId: 'vps-1', username: 'alice', group: { kind: 'ip_group', value: 'x' } }, 409, 'CONFLICT', /already has an access record/],
    [{ serviceId: 'vps-3', username: 'alice', ipAddress: '203.0.113.5/28' }, 400, 'VALIDATION_FAILED', /host bits/],
    [{ serviceId: 'vps-3', username: 'alice' }, 400, 'VALIDATION_FAILED', /group or ipAddress/],
    [{ serviceId: 'vps-3', username: 'alice', group: { kind: 'vlan', value: '1' } }, 400, 'VALIDATION_FAILED', /group.kind/],
    [{ serviceId: 'vps-3', username: 'alice', group: { kind: 'interface', value: '10.0.0.1' } }, 400, 'VALIDATION_FAILED', /group.value/],
    [{ serviceId: 'vps-3', username: 'a b', ipAddress: '203.0.113.1' }, 400, 'VALIDATION_FAILED', /username/],
    [{ serviceId: 'vps-3', username: 'alice', password: 'short', ipAddress: '203.0.113.1' }, 400, 'VALIDATION_FAILED', /password/],
    [{ serviceId: 'vps-3', username: 'bob', ipAddress: '203.0.113.1' }, 409, 'LOGIN_TAKEN', /bob/],
    [{ serviceId: 'vps-3', username: 'noc1', ipAddress: '203.0.113.1' }, 409, 'LOGIN_TAKEN', /noc1/],
    [{ serviceId: 'dedi-2', username: 'alice', ipAddress: '198.51.100.1' }, 409, 'LOGIN_TAKEN', /alice/],
    [{ serviceId: 'nope', username: 'zed', ipAddress: '198.51.100.1' }, 404, 'NOT_FOUND', /service/],
    [{ serviceId: 'vps-3', username: 'zed', netflowUrl: 'javascript:alert(1)', ipAddress: '198.51.100.1' }, 400, 'VALIDATION_FAILED', /netflowUrl/],
  ];
  for (const [body, status, code, msg] of cases) {
    const res = await post(body);
    t.equal(res.status, status, JSON.stringify(body));
    t.equal(res.body.error?.code, code);
    t.match(res.body.error?.message, msg);
  }
  t.equal((await boss('PATCH', `/api/v1/operators/isp1/access-records/${r1.recordId}`, { password: 'x', clearPassword: true })).status, 400);
  t.equal((await boss('PATCH', '/api/v1/operators/isp1/services/vps-1', { clientId: 'bob' })).body.error.code, 'CONFLICT', 'a service does not change client');
  t.equal((await boss('DELETE', '/api/v1/operators/isp1/services/vps-1')).status, 409, 'a service with a record is not deleted');
  t.equal((await boss('DELETE', '/api/v1/operators/isp1/clients/alice')).status, 409);
  t.equal((await boss('POST', '/api/v1/operators/isp1/services', { clientId: 'alice', type: 'mainframe', label: 'x' })).status, 400);
});

t.test('customers log in with their record credentials and see only their enabled records', async (t) => {
  const s = await setup();
  const { boss, r1, r2 } = await seed(s);
  t.equal((await s.login('alice', 'wrong-password')).status, 401);
  const res = await s.login('alice', 'alice-secret-1');
  t.equal(res.status, 200);
  t.same(res.body.principal, { userId: 'customer:isp1/alice', username: 'alice', role: 'customer', operatorId: 'isp1', customerLogin: 'alice' });
  const alice = await s.as('alice', 'alice-secret-1');
  const subjects = (await alice('GET', '/api/v1/customer/subjects')).body.subjects.map((x: { subjectId: string }) => x.subjectId);
  // vps-1: its IP group; vps-2 (203.0.113.0/28): the operator's group alice-net (203.0.113.0/29) lies inside it.
  t.same(subjects, ['ipg:alice-net', 'ipg:alice-vps']);
  const series = await alice('GET', '/api/v1/customer/series?subjectId=ipg:alice-vps&fromSec=3600&toSec=7200');
  t.equal(series.status, 200);
  t.same(series.body.points[0].bytesIn, 1000);
  t.equal((await alice('GET', '/api/v1/customer/series?subjectId=ipg:bob-dedi&fromSec=3600&toSec=7200')).status, 404, "another customer's subject is not there");
  t.equal((await alice('GET', '/api/v1/customer/series?subjectId=ipg:alice-vps&fromSec=7200&toSec=3600')).status, 400);
  t.same(s.seriesReader.reads, ['isp1:ipg:alice-vps'], 'the forbidden subject was never read');
  const services = (await alice('GET', '/api/v1/customer/services')).body.services;
  t.equal(services.length, 2);
  t.notOk(JSON.stringify(services).includes('INTERNAL'), 'internal notes never reach the customer');
  t.equal((await alice('GET', '/api/v1/operators/isp1/access-records')).status, 403, 'a customer is not an operator');

  const bob = await s.as('bob', 'bob-secret-12');
  t.same((await bob('GET', '/api/v1/customer/subjects')).body.subjects.map((x: { subjectId: string }) => x.subjectId), ['ipg:bob-dedi']);
  const boss2 = await s.as('boss2');
  t.equal((await boss2('GET', '/api/v1/customer/subjects')).status, 403, 'operators use their own API');

  // Disabling takes effect at once, even in an open session.
  await boss('PATCH', `/api/v1/operators/isp1/access-records/${r1.recordId}`, { enabled: false });
  t.same((await alice('GET', '/api/v1/customer/subjects')).body.subjects.map((x: { subjectId: string }) => x.subjectId), ['ipg:alice-net']);
  await boss('PATCH', `/api/v1/operators/isp1/access-records/${r2.recordId}`, { enabled: false });
  t.same((await alice('GET', '/api/v1/customer/subjects')).body.subjects, [], 'disabled records show nothing');
  t.equal((await alice('GET', '/api/v1/customer/series?subjectId=ipg:alice-vps&fromSec=3600&toSec=7200')).status, 404);
  t.equal((await s.login('alice', 'alice-secret-1')).status, 401, 'no enabled record, no login');
});

t.test('editing: blank password keeps, a new one replaces for every service of the login, clearPassword removes', async (t) => {
  const s = await setup();
  const { boss, r1, r2 } = await seed(s);
  const patch = (id: string, body: unknown) => boss('PATCH', `/api/v1/operators/isp1/access-records/${id}`, body);
  t.equal((await patch(r1.recordId, { password: '', notes: 'edited' })).body.record.notes, 'edited');
  t.equal((await s.login('alice', 'alice-secret-1')).status, 200, 'blank password kept the stored one');
  t.equal((await patch(r2.recordId, { password: 'alice-secret-2' })).status, 200);
  t.equal((await s.login('alice', 'alice-secret-1')).status, 401);
  t.equal((await s.login('alice', 'alice-secret-2')).status, 200, 'one login, one password across services');
  const cleared = await patch(r1.recordId, { clearPassword: true });
  t.equal(cleared.body.record.hasPassword, false);
  t.equal((await s.login('alice', 'alice-secret-2')).status, 401, 'a cleared password cannot log in');
  await patch(r1.recordId, { password: 'alice-secret-3' });
  // Renaming one record's login to a fresh username carries the password over.
  const renamed = await patch(r2.recordId, { username: 'alice-cloud' });
  t.equal(renamed.body.record.hasPassword, true);
  t.equal((await s.login('alice-cloud', 'alice-secret-3')).status, 200);
  // Deleting the last record of a login frees the username.
  t.equal((await boss('DELETE', `/api/v1/operators/isp1/access-records/${r2.recordId}`)).status, 204);
  t.equal((await s.login('alice-cloud', 'alice-secret-3')).status, 401);
  t.equal((await boss('POST', '/api/v1/operators/isp1/access-records', { serviceId: 'dedi-1', username: 'alice-cloud', ipAddress: '198.51.100.9' })).status, 409, 'dedi-1 still has its record');
});

t.test('client area: Network usage section; password only when the operator enables it', async (t) => {
  const s = await setup();
  const { boss, r1 } = await seed(s);
  const area = async () => (await boss('GET', '/api/v1/operators/isp1/services/vps-1/client-area')).body.section;
  let section = await area();
  t.same(section, { title: 'Network usage', buttonLabel: 'View traffic', buttonUrl: 'https://hub.example.net/customer?org=isp1', username: 'alice', group: 'IP group alice-vps', ipAddress: '' });
  await boss('PATCH', `/api/v1/operators/isp1/access-records/${r1.recordId}`, { showPasswordInClientArea: true, netflowUrl: 'https://portal.example.com/traffic' });
  section = await area();
  t.equal(section.password, 'alice-secret-1');
  t.equal(section.buttonUrl, 'https://portal.example.com/traffic');
  t.notOk(JSON.stringify(section).includes('INTERNAL'), 'no internal notes');
  await boss('PATCH', `/api/v1/operators/isp1/access-records/${r1.recordId}`, { enabled: false });
  t.equal(await area(), null, 'disabled record: no section');
  t.equal((await boss('GET', '/api/v1/operators/isp1/services/nope/client-area')).status, 404);
});

t.test('welcome mail: merge fields rendered and sent through the Mailer; disabled record renders no NetFlow block', async (t) => {
  const s = await setup();
  const { boss, r1 } = await seed(s);
  const url = `/api/v1/operators/isp1/access-records/${r1.recordId}/welcome-mail`;
  const res = await boss('POST', url, {});
  t.equal(res.status, 200);
  t.equal(s.sent.length, 1);
  const mail = s.sent[0];
  t.same(mail.to, ['alice@example.com']);
  t.equal(mail.subject, 'Your VPS Small is ready');
  t.match(mail.text, /https:\/\/hub\.example\.net\/customer\?org=isp1\n/);
  t.match(mail.text, /Username: alice\n/);
  t.match(mail.text, /Password: alice-secret-1\n/);
  t.match(mail.text, /Group: alice-vps\n/);
  t.notMatch(mail.text, /IP address/);
  t.notMatch(mail.text, /INTERNAL/);
  t.match(mail.html, /<a href="https:\/\/hub\.example\.net\/customer\?org=isp1">/);

  const custom = await boss('POST', url, {
    dryRun: true, to: ['ops@example.com'], subject: 'Hi {$client_name}',
    text: '{if $netflow_enabled}U={$netflow_username} P={$netflow_password} G={$netflow_group} IP={$netflow_ip_address} URL={$netflow_url}{else}none{/if} {$unknown_field}',
    html: '<p>{$client_name}</p>',
  });
  t.equal(s.sent.length, 1, 'dry run sends nothing');
  t.equal(custom.body.message.text, 'U=alice P=alice-secret-1 G=alice-vps IP= URL=https://hub.example.net/customer?org=isp1 {$unknown_field}');
  await boss('PATCH', '/api/v1/operators/isp1/clients/alice', { name: 'Alice <&> Co' });
  const escaped = await boss('POST', url, { dryRun: true, html: '<p>{$client_name}</p>' });
  t.equal(escaped.body.message.html, '<p>Alice &lt;&amp;&gt; Co</p>');
  t.equal((await boss('POST', url, { dryRun: true, text: '{if $netflow_enabled}x' })).body.error.code, 'VALIDATION_FAILED');

  await boss('PATCH', `/api/v1/operators/isp1/access-records/${r1.recordId}`, { enabled: false });
  const disabled = await boss('POST', url, { dryRun: true, text: '[{if $netflow_enabled}NETFLOW {$netflow_username}{/if}] {$netflow_password}' });
  t.equal(disabled.body.message.text, '[] ', 'disabled: no block, and no field leaks outside it');
  await boss('POST', url, {});
  t.notMatch(s.sent[1].text, /Network usage|alice-secret/);
  t.equal((await (await s.as('noc1'))('POST', url, {})).status, 403, 'read-only cannot send');
});

t.test('a wrong secret key refuses customer logins instead of crashing', async (t) => {
  const s = await setup();
  await seed(s);
  const other = createAccessModule({
    kv: s.kv, clock: s.clock, log: silentLogger, seriesReader: fakeSeriesReader(), mailer: { send: async () => ({ id: 'x' }) },
    config: { publicUrl: 'http://x' }, secretKeys: keyRingFromHex('77'.repeat(32)),
  });
  t.equal(await other.customerLoginVerifier.verify('isp1', 'alice', 'alice-secret-1'), undefined);
  t.same(await s.access.customerLoginVerifier.verify('isp1', 'alice', 'alice-secret-1'), { operatorId: 'isp1', customerLogin: 'alice' });
});
