import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { runCli } from '../../provisioning/cli';
import { describeFlowPacket } from '../../provisioning/check-command';
import { createTestIo, freeUdpPort } from './helpers/test-io';

/** A real embedded aedes broker that knows one edge login (like the hub's, after a rotation). */
async function startBroker(valid: { username: string; password: string }) {
  const broker = await Aedes.createBroker();
  broker.authenticate = (_client, username, password, done) => {
    if (username === valid.username && password?.toString() === valid.password) return done(null, true);
    // MQTT 3.1.1 CONNACK 5 "not authorized", as the hub answers a revoked or rotated edge.
    done(Object.assign(new Error('not authorized'), { returnCode: 5 }) as AuthenticateError, false);
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); broker.handle(s); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

async function startHealthServer(status: number) {
  const server = http.createServer((_req, res) => { res.writeHead(status); res.end(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function closedTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function writeConfig(dir: string, o: { mqttUrl: string; password: string; udpPort: number; hubUrl?: string }) {
  const file = path.join(dir, 'edge.json');
  await fs.writeFile(file, JSON.stringify({ edgeId: 'edge-1', tenantId: 'isp1', mqttUrl: o.mqttUrl, mqttUsername: 'edge-1', mqttPassword: o.password, udpHost: '127.0.0.1', udpPort: o.udpPort, dataDir: dir }));
  if (o.hubUrl) await fs.writeFile(path.join(dir, 'edge.provision.json'), JSON.stringify({ edgeName: 'pop-1', hubUrl: o.hubUrl, edgeId: 'edge-1' }));
  return file;
}

/** A minimal NetFlow v9 header (RFC 3954 §5.1): version 9, count 0, uptime, secs, sequence, source id. */
const V9_HEADER = Buffer.from('0009000000000001000000020000000300000004', 'hex');

t.test('check passes: hub reachable, MQTT login, UDP port free, first exporter packet reported', async (t) => {
  const broker = await startBroker({ username: 'edge-1', password: 'good' });
  const hub = await startHealthServer(200);
  t.teardown(async () => { await broker.close(); await hub.close(); });
  const udpPort = await freeUdpPort();
  const file = await writeConfig(t.testdir(), { mqttUrl: broker.url, password: 'good', udpPort, hubUrl: hub.url });
  const io = createTestIo();
  const exporter = dgram.createSocket('udp4');
  t.teardown(() => exporter.close());
  io.onLine = (line) => { if (line.includes('waiting up to')) exporter.send(V9_HEADER, udpPort, '127.0.0.1'); };
  const code = await runCli(['check', '--config', file, '--wait-seconds', '10'], io);
  const text = io.out.join('\n');
  t.equal(code, 0, text);
  t.match(text, /^ok {3}config: edge edge-1, operator isp1$/m);
  t.match(text, /^ok {3}hub reachable: .*\/api\/v1\/health answered HTTP 200$/m);
  t.match(text, /^ok {3}mqtt login: mqtt:\/\/127\.0\.0\.1:\d+ as edge-1$/m);
  t.match(text, new RegExp(`^ok {3}udp port free: \\[127\\.0\\.0\\.1\\]:${udpPort}$`, 'm'));
  t.match(text, /^ok {3}first exporter packet: from 127\.0\.0\.1 port \d+: NetFlow v9, 20 bytes$/m);
  t.match(text, /all checks passed/);
});

t.test('check fails clearly: rotated MQTT password, port in use, hub without a health route still counts as reachable', async (t) => {
  const broker = await startBroker({ username: 'edge-1', password: 'rotated' });
  const hub = await startHealthServer(404);
  t.teardown(async () => { await broker.close(); await hub.close(); });
  const busy = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => busy.bind(0, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const file = await writeConfig(t.testdir(), { mqttUrl: broker.url, password: 'old', udpPort: busy.address().port, hubUrl: hub.url });
  const io = createTestIo();
  t.equal(await runCli(['check', '--config', file, '--wait-seconds', '1'], io), 1);
  const text = io.out.join('\n');
  t.match(text, /^ok {3}hub reachable: .* answered HTTP 404$/m);
  t.match(text, /^FAIL mqtt login: .*not authorized \(revoked or rotated credentials\? re-run provision --force\)$/m);
  t.match(text, /^FAIL udp port free: .*in use: stop flowbill-edge/m);
  t.match(text, /^skip first exporter packet/m);
  t.match(text, /check failed/);
});

t.test('check: unreachable hub, unreachable broker, no packet in time, broken config, --hub override', async (t) => {
  const dir = t.testdir();
  const udpPort = await freeUdpPort();
  const closed = await closedTcpPort();
  const file = await writeConfig(dir, { mqttUrl: `mqtt://127.0.0.1:${closed}`, password: 'x', udpPort });
  const io = createTestIo();
  t.equal(await runCli(['check', '--config', file, '--wait-seconds', '1', '--hub', `http://127.0.0.1:${closed}`], io), 1);
  const text = io.out.join('\n');
  t.match(text, /^FAIL hub reachable: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/health: ECONNREFUSED/m);
  t.match(text, /^FAIL mqtt login: mqtt:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/m);
  t.match(text, /^ok {3}udp port free/m);
  t.match(text, /^FAIL first exporter packet: nothing within 1 s/m);

  const noHub = createTestIo();
  await runCli(['check', '--config', file, '--wait-seconds', '0'], noHub);
  t.match(noHub.out.join('\n'), /^FAIL hub reachable: no hub URL/m);
  t.match(noHub.out.join('\n'), /^skip first exporter packet: --wait-seconds 0$/m);

  await fs.writeFile(path.join(dir, 'bad.json'), JSON.stringify({ edgeId: 'edge/1', tenantId: 'isp1', mqttUrl: 'mqtt://x', mqttUsername: 'u', mqttPassword: 'p', udpHost: '::', udpPort: 2055, dataDir: '/x' }));
  const bad = createTestIo();
  t.equal(await runCli(['check', '--config', path.join(dir, 'bad.json')], bad), 1);
  t.match(bad.out.join('\n'), /^FAIL config: .*edgeId/m);
  const missing = createTestIo();
  t.equal(await runCli(['check', '--config', path.join(dir, 'nope.json')], missing), 2);
  t.match(missing.errs.join('\n'), /cannot read/);
});

t.test('the first word of a datagram names the protocol', async (t) => {
  t.equal(describeFlowPacket(Buffer.from([0, 5, 0, 1])), 'NetFlow v5, 4 bytes');
  t.equal(describeFlowPacket(Buffer.from([0, 10, 0, 16])), 'IPFIX, 4 bytes');
  t.match(describeFlowPacket(Buffer.from([0, 0, 0, 5])), /not NetFlow\/IPFIX.*sFlow/);
  t.match(describeFlowPacket(Buffer.from([1])), /too short/);
});
