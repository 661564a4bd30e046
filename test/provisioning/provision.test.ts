import t from 'tap';
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { runCli } from '../../provisioning/cli';
import { parseEdgeConfigFile } from '../../provisioning/edge-config-file';
import { createTestIo } from './helpers/test-io';

/** A fake hub implementing the three endpoints provisioning uses, idempotent by name like the real one. */
async function startFakeHub() {
  const calls: { method: string; path: string; auth?: string; body: any }[] = [];
  const edges = new Map<string, { edgeId: string; rotation: number }>();
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : {};
    calls.push({ method: req.method!, path: req.url!, auth: req.headers.authorization, body });
    const send = (status: number, json: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(json)); };
    const issue = (operatorId: string, name: string) => {
      const e = edges.get(name) ?? { edgeId: `edge-${edges.size + 1}`, rotation: 0 };
      e.rotation++;
      edges.set(name, e);
      send(201, { edge: { edgeId: e.edgeId, name }, credentials: { edgeId: e.edgeId, tenantId: operatorId, mqttUrl: 'mqtt://hub.example.net:1883', username: e.edgeId, password: `secret-${e.rotation}` } });
    };
    if (req.method === 'POST' && req.url === '/api/v1/login') {
      return body.username === 'boss' && body.password === 'pw' ? send(200, { token: 'tok-1' }) : send(401, { error: { code: 'INVALID_CREDENTIALS', message: 'wrong username or password' } });
    }
    const m = /^\/api\/v1\/operators\/([^/]+)\/edges$/.exec(req.url!);
    if (req.method === 'POST' && m) return req.headers.authorization === 'Bearer tok-1' ? issue(m[1], body.name) : send(401, { error: { code: 'UNAUTHENTICATED', message: 'log in first' } });
    if (req.method === 'POST' && req.url === '/api/v1/enroll') {
      return body.token === 'enroll-ok' ? issue('isp9', body.name) : send(401, { error: { code: 'ENROLLMENT_TOKEN_INVALID', message: 'invalid or expired enrollment token' } });
    }
    send(404, { error: { code: 'NOT_FOUND', message: 'no route' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

t.test('provision with operator credentials writes a 0600 edge config and a systemd unit; re-running is safe', async (t) => {
  const hub = await startFakeHub();
  t.teardown(hub.close);
  const dir = t.testdir();
  const out = path.join(dir, 'etc/flowbill/edge.json');
  const unitDir = path.join(dir, 'systemd');
  const args = ['provision', '--hub', hub.url, '--user', 'boss', '--password', 'pw', '--operator', 'isp1', '--name', 'pop-fra-1', '--out', out, '--systemd-dir', unitDir, '--udp-port', '2056'];

  const io = createTestIo();
  t.equal(await runCli(args, io), 0, io.errs.join('\n'));
  t.same(hub.calls.map((c) => `${c.method} ${c.path}`), ['POST /api/v1/login', 'POST /api/v1/operators/isp1/edges']);
  t.same(hub.calls[1].body, { name: 'pop-fra-1' });
  t.equal(hub.calls[1].auth, 'Bearer tok-1');
  const text = await fs.readFile(out, 'utf8');
  t.same(JSON.parse(text), {
    edgeId: 'edge-1', tenantId: 'isp1', mqttUrl: 'mqtt://hub.example.net:1883', mqttUsername: 'edge-1', mqttPassword: 'secret-1',
    udpHost: '::', udpPort: 2056, dataDir: '/var/lib/flowbill-edge',
  });
  t.ok(parseEdgeConfigFile(text).ok, 'the edge loader accepts it');
  t.equal((await fs.stat(out)).mode & 0o777, 0o600, 'secrets file is 0600');
  const unit = await fs.readFile(path.join(unitDir, 'flowbill-edge.service'), 'utf8');
  t.match(unit, /^ExecStart=\/usr\/bin\/node --import tsx \/opt\/flowbill\/edge\/main\.ts$/m);
  t.match(unit, new RegExp(`^LoadCredential=edge.json:${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
  t.match(unit, /^Environment=FLOWBILL_EDGE_CONFIG=%d\/edge\.json$/m);
  t.match(unit, /^Restart=always$/m);
  t.match(unit, /^NoNewPrivileges=yes$/m);
  t.match(unit, /^ProtectSystem=strict$/m);
  t.match(unit, /^StateDirectory=flowbill-edge$/m);
  t.notMatch(unit, /MemoryDenyWriteExecute/, 'V8 needs W+X pages');
  t.notMatch(unit, /secret-1/, 'no secret in the unit');

  // Same name again: kept, the hub is not called, nothing rotates.
  const again = createTestIo();
  t.equal(await runCli(args, again), 0);
  t.match(again.out.join('\n'), /already provisioned/);
  t.match(again.out.join('\n'), /up to date/);
  t.equal(hub.calls.length, 2);
  t.equal(await fs.readFile(out, 'utf8'), text);

  // Another name into the same file is refused.
  const other = createTestIo();
  t.equal(await runCli([...args.slice(0, -6), '--name', 'pop-ams-1', '--out', out], other), 2);
  t.match(other.errs.join('\n'), /already holds edge "pop-fra-1"/);

  // --force re-registers: the hub rotates the credentials of the same edge.
  const forced = createTestIo();
  t.equal(await runCli([...args, '--force'], forced), 0);
  const rotated = JSON.parse(await fs.readFile(out, 'utf8'));
  t.equal(rotated.edgeId, 'edge-1');
  t.equal(rotated.mqttPassword, 'secret-2');
});

t.test('provision with an enrollment token; clear errors for bad token, bad login, unreachable hub, bad usage', async (t) => {
  const hub = await startFakeHub();
  t.teardown(hub.close);
  const dir = t.testdir();
  const common = ['--name', 'pop-1', '--out', path.join(dir, 'edge.json'), '--systemd-dir', dir];
  const io = createTestIo();
  t.equal(await runCli(['provision', '--hub', hub.url, '--token', 'enroll-ok', ...common], io), 0, io.errs.join('\n'));
  t.same(hub.calls.map((c) => c.body), [{ token: 'enroll-ok', name: 'pop-1' }]);
  t.equal(JSON.parse(await fs.readFile(path.join(dir, 'edge.json'), 'utf8')).tenantId, 'isp9');

  const cases: [string[], number, RegExp][] = [
    [['provision', '--hub', hub.url, '--token', 'nope', ...common, '--force'], 1, /HTTP 401 ENROLLMENT_TOKEN_INVALID/],
    [['provision', '--hub', hub.url, '--user', 'boss', '--password', 'bad', '--operator', 'isp1', ...common, '--force'], 1, /INVALID_CREDENTIALS/],
    [['provision', '--hub', 'http://127.0.0.1:1', '--token', 'x', ...common, '--force'], 1, /cannot reach the hub/],
    [['provision', '--hub', hub.url, '--user', 'boss', ...common], 2, /--password is required/],
    [['provision', '--hub', hub.url, '--token', 'x', '--udp-port', '70000', ...common], 2, /--udp-port/],
    [['provision', '--hub', 'not a url', '--token', 'x', ...common], 2, /--hub/],
    [['provision', '--bogus'], 2, /Unknown option/],
    [['frobnicate'], 2, /unknown command/],
  ];
  for (const [argv, code, msg] of cases) {
    const e = createTestIo();
    t.equal(await runCli(argv, e), code, argv.join(' '));
    t.match(e.errs.join('\n'), msg);
  }
  t.equal(JSON.parse(await fs.readFile(path.join(dir, 'edge.json'), 'utf8')).mqttPassword, 'secret-1', 'failed runs leave the config alone');

  await fs.writeFile(path.join(dir, 'broken.json'), '{"edgeId": 5}');
  const broken = createTestIo();
  t.equal(await runCli(['provision', '--hub', hub.url, '--token', 'enroll-ok', '--name', 'x', '--out', path.join(dir, 'broken.json'), '--systemd-dir', dir], broken), 2);
  t.match(broken.errs.join('\n'), /not a valid edge config/);
});
