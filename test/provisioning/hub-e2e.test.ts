/**
 * End to end against the real hub (createHub on ephemeral ports, embedded broker) with the access
 * module plugged in: provision with an operator login and with an enrollment token, check, revoke;
 * then a customer logs in with an access record and sees only their subject.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startTestHub } from '../hub/spine/hub-harness';
import type { HubContext } from '../../hub/create-hub';
import { createAccessModule } from '../../hub/access/access-module';
import { runCli } from '../../provisioning/cli';
import { createTestIo, freeUdpPort } from './helpers/test-io';

t.test('provision → check → revoke → check, and a customer login, on the real hub', async (t) => {
  const sent: unknown[] = [];
  const h = await startTestHub({
    modules: (ctx: HubContext) => {
      const access = createAccessModule({
        kv: ctx.kv, clock: ctx.clock, log: ctx.log, config: ctx.config, secretKeys: ctx.secretKeys, seriesReader: ctx.seriesReader,
        mailer: { async send(m) { sent.push(m); return { id: 'm1' }; } },
      });
      return { modules: [access], customerLoginVerifier: access.customerLoginVerifier };
    },
  });
  t.teardown(() => h.close());
  t.equal((await h.admin('POST', '/api/v1/operators', { operatorId: 'isp1', name: 'ISP One' })).status, 201);
  t.equal((await h.admin('POST', '/api/v1/operators/isp1/users', { username: 'boss', password: 'boss-pw', role: 'operator_admin' })).status, 201);

  const dir = stackDir(t);
  const out = path.join(dir, 'edge.json');
  const io = createTestIo();
  const args = ['provision', '--hub', h.httpUrl, '--user', 'boss', '--password', 'boss-pw', '--operator', 'isp1', '--name', 'pop-fra-1', '--out', out, '--systemd-dir', dir];
  t.equal(await runCli(args, io), 0, io.errs.join('\n'));
  // The harness leaves FLOWBILL_PUBLIC_MQTT_URL at its default port; point the file at the broker's ephemeral port.
  const pointAtBroker = async (file: string) => {
    const c = JSON.parse(await fs.readFile(file, 'utf8'));
    await fs.writeFile(file, JSON.stringify({ ...c, mqttUrl: h.mqttUrl, udpHost: '127.0.0.1', udpPort: await freeUdpPort() }));
    return c;
  };
  const config = await pointAtBroker(out);
  t.equal(config.tenantId, 'isp1');
  t.match(config.edgeId, /^edge-/);

  const check = createTestIo();
  t.equal(await runCli(['check', '--config', out, '--wait-seconds', '0'], check), 0, check.out.join('\n'));
  t.match(check.out.join('\n'), /^ok {3}hub reachable: .*HTTP 200$/m);
  t.match(check.out.join('\n'), /^ok {3}mqtt login/m);

  // Re-running is safe: same edge, same credentials still valid.
  t.equal(await runCli(args, createTestIo()), 0);
  t.equal(JSON.parse(await fs.readFile(out, 'utf8')).mqttPassword, config.mqttPassword);

  const boss = (await h.api('POST', '/api/v1/login', { username: 'boss', password: 'boss-pw' })).body.token as string;
  t.equal((await h.api('POST', `/api/v1/operators/isp1/edges/${config.edgeId}/revoke`, {}, boss)).status, 200);
  const revoked = createTestIo();
  t.equal(await runCli(['check', '--config', out, '--wait-seconds', '0'], revoked), 1);
  t.match(revoked.out.join('\n'), /^FAIL mqtt login: .*(not authorized|bad user name or password)/m);

  // A one-time enrollment token provisions a second box without operator credentials.
  const { token } = (await h.api('POST', '/api/v1/operators/isp1/enrollment-tokens', {}, boss)).body;
  const out2 = path.join(dir, 'edge2.json');
  const enrolled = createTestIo();
  t.equal(await runCli(['provision', '--hub', h.httpUrl, '--token', token, '--name', 'pop-ams-1', '--out', out2, '--systemd-dir', dir], enrolled), 0, enrolled.errs.join('\n'));
  await pointAtBroker(out2);
  const check2 = createTestIo();
  t.equal(await runCli(['check', '--config', out2, '--wait-seconds', '0'], check2), 0, check2.out.join('\n'));
  const reuse = createTestIo();
  t.equal(await runCli(['provision', '--hub', h.httpUrl, '--token', token, '--name', 'pop-ams-1', '--out', out2, '--systemd-dir', dir, '--force'], reuse), 1, 'a token works once');
  t.match(reuse.errs.join('\n'), /ENROLLMENT_TOKEN_INVALID/);

  // Customer access through the real login route.
  const api = (m: string, p: string, b?: unknown) => h.api(m, p, b, boss);
  t.equal((await api('POST', '/api/v1/operators/isp1/clients', { clientId: 'alice', name: 'Alice' })).status, 201);
  t.equal((await api('POST', '/api/v1/operators/isp1/services', { serviceId: 'vps-1', clientId: 'alice', type: 'vps', label: 'VPS' })).status, 201);
  t.equal((await api('POST', '/api/v1/operators/isp1/access-records', { serviceId: 'vps-1', username: 'alice', password: 'alice-pw-123', group: { kind: 'ip_group', value: 'alice' } })).status, 201);
  const login = await h.api('POST', '/api/v1/login', { username: 'alice', password: 'alice-pw-123' });
  t.equal(login.status, 200);
  t.equal(login.body.principal.role, 'customer');
  const subjects = await h.api('GET', '/api/v1/customer/subjects', undefined, login.body.token);
  t.same(subjects.body.subjects.map((s: { subjectId: string }) => s.subjectId), ['ipg:alice']);
  t.equal((await h.api('POST', '/api/v1/operators/isp1/access-records', { serviceId: 'vps-1', username: 'boss', ipAddress: '192.0.2.1' }, boss)).body.error.code, 'CONFLICT');
  // An address-only record: the operator's IP group inside the customer's subnet becomes visible.
  t.equal((await api('POST', '/api/v1/operators/isp1/ip-groups', { name: 'alice-subnet', prefixes: ['203.0.113.0/29'] })).status, 201);
  t.equal((await api('POST', '/api/v1/operators/isp1/ip-groups', { name: 'pop-wide', prefixes: ['203.0.113.0/24'] })).status, 201);
  t.equal((await api('POST', '/api/v1/operators/isp1/services', { serviceId: 'dedi-1', clientId: 'alice', type: 'dedicated', label: 'Dedicated' })).status, 201);
  t.equal((await api('POST', '/api/v1/operators/isp1/access-records', { serviceId: 'dedi-1', username: 'alice', ipAddress: '203.0.113.0/28' })).status, 201);
  const after = await h.api('GET', '/api/v1/customer/subjects', undefined, login.body.token);
  t.same(after.body.subjects.map((s: { subjectId: string }) => s.subjectId), ['ipg:alice', 'ipg:alice-subnet'], 'the wider POP group stays hidden');
});
