/**
 * Issue 10: `npm start` is its own program, demo/main.ts (the hub program, then one local edge and the
 * demo exporter), run here for real: `node --import tsx demo/main.ts` on free ports with its data in
 * a temp dir. The noc login works, the local edge is online with the demo's exporters heard, and
 * SIGTERM stops everything cleanly. The hub program refuses the demo flags it used to take, naming
 * where they went, rather than quietly starting a real hub instead.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { EdgesResponse } from '../../common/api/edges';
import { stackDir } from '../helpers/stack-dir';
import { freeTcpPort, freeUdpPort } from '../helpers/free-ports';
import { waitFor } from '../e2e/stack';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(t: Test, entry: string, args: string[], env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, FLOWBILL_JOBS: 'off', ...env };
  delete childEnv.FLOWBILL_ADMIN_PASSWORD;
  const proc = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 90_000);
  t.teardown(() => { clearTimeout(timer); proc.kill('SIGKILL'); });
  return { proc, lines, exited, stderr: () => stderr };
}

t.test('npm start (demo/main.ts): hub, local edge and demo exporter; noc / flowbill sees the edge online; SIGTERM stops cleanly', async (t) => {
  const dir = stackDir(t);
  const httpPort = await freeTcpPort();
  const mqttPort = await freeTcpPort();
  const udpPort = await freeUdpPort();
  const demo = run(t, 'demo/main.ts', [], {
    FLOWBILL_HUB_DATA_DIR: path.join(dir, 'hub'), FLOWBILL_HTTP_PORT: String(httpPort), FLOWBILL_MQTT_PORT: String(mqttPort),
    FLOWBILL_PUBLIC_MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
    FLOWBILL_EDGE_DATA_DIR: path.join(dir, 'edge'), FLOWBILL_EDGE_UDP_PORT: String(udpPort), FLOWBILL_EDGE_SFLOW_PORT: '0',
  });
  void demo.exited.then((code) => { if (code !== 0) t.fail(`demo exited (${code}): ${demo.stderr().slice(-2000)}`); });
  await waitFor('the local edge to listen', async () => (demo.lines.some((l) => /local edge listening .*udp 127\.0\.0\.1:/.test(l)) ? true : undefined), 60_000);
  t.ok(demo.lines.some((l) => /flowbill hub ready: .*log in as admin \/ admin/.test(l)), 'the hub program said it was ready, with the demo login');
  t.ok(demo.lines.some((l) => l.includes(`udp 127.0.0.1:${udpPort}`)), 'on FLOWBILL_EDGE_UDP_PORT');

  const api = `http://127.0.0.1:${httpPort}/api/v1`;
  const login = await fetch(`${api}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'noc', password: 'flowbill' }) });
  t.equal(login.status, 200, 'noc / flowbill logs in');
  const { token } = (await login.json()) as { token: string };
  const edges = async () => ((await (await fetch(`${api}/operators/demo/edges`, { headers: { authorization: `Bearer ${token}` } })).json()) as EdgesResponse).edges;
  const edge = await waitFor('the local edge to be online and hear the demo exporter', async () => {
    const [e] = await edges();
    return e && e.status.online && e.status.exporters.length > 0 ? e : undefined;
  }, 60_000);
  t.equal(edge.name, 'local-edge');

  demo.proc.kill('SIGTERM');
  t.equal(await demo.exited, 0, 'stopped cleanly');
});

t.test('hub/main.ts refuses --with-edge / --demo and names the demo program', async (t) => {
  const hub = run(t, 'hub/main.ts', ['--with-edge', '--demo'], { FLOWBILL_HUB_DATA_DIR: path.join(stackDir(t), 'hub'), FLOWBILL_HTTP_PORT: '0', FLOWBILL_MQTT_PORT: '0' });
  t.equal(await hub.exited, 1);
  t.match(hub.stderr(), /flowbill hub failed to start: --with-edge --demo: the local demo stack is its own program now: npm start \(tsx demo\/main\.ts\)/);
  t.notOk(hub.lines.some((l) => /flowbill hub ready/.test(l)), 'no hub was started');
});
