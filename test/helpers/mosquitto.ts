/**
 * A throwaway Mosquitto (Debian's mosquitto 2) per test: its own config in a temp dir, free loopback
 * ports, stopped in teardown. `hasMosquitto` / `dynsecPlugin` let tests skip with a reason when the
 * broker or its dynamic-security plugin is not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { freeTcpPort } from './free-ports';
import { stackDir } from './stack-dir';

export const hasMosquitto = spawnSync('mosquitto', ['-h']).error === undefined;

/** Where Debian (and most distributions) put the plugin; undefined when absent. */
export const dynsecPlugin = ['/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so', '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so', '/usr/lib/mosquitto_dynamic_security.so']
  .find((p) => existsSync(p));

interface TestHost { teardown(fn: () => unknown): void }

export interface MosquittoOptions {
  /** Listeners to open, each a free loopback port; `lines` go right under the listener line. */
  listeners?: { lines?: string[] }[];
  /** Global lines (after the listeners). */
  lines?: string[];
  /** Set up dynamic-security with this admin (mosquitto_ctrl dynsec init). */
  dynsecAdmin?: { username: string; password: string };
}

export async function startMosquitto(t: TestHost, opts: MosquittoOptions = {}): Promise<{ ports: number[]; dir: string }> {
  const dir = stackDir(t, 'flowbill-mosquitto-');
  const listeners = opts.listeners ?? [{}];
  const ports: number[] = [];
  for (let i = 0; i < listeners.length; i++) ports.push(await freeTcpPort());
  const lines = listeners.flatMap((l, i) => [`listener ${ports[i]} 127.0.0.1`, ...(l.lines ?? [])]);
  if (opts.dynsecAdmin) {
    if (!dynsecPlugin) throw new Error('mosquitto_dynamic_security.so not found');
    const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', `${dir}/dynsec.json`, opts.dynsecAdmin.username, opts.dynsecAdmin.password]);
    if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr}`);
    lines.push(`plugin ${dynsecPlugin}`, `plugin_opt_config_file ${dir}/dynsec.json`);
  }
  lines.push(...(opts.lines ?? []), 'persistence false', `user ${os.userInfo().username}`, 'log_dest stderr', 'log_type error', '');
  writeFileSync(`${dir}/mosquitto.conf`, lines.join('\n'));
  const broker = spawn('mosquitto', ['-c', `${dir}/mosquitto.conf`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  broker.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  t.teardown(() => { broker.kill('SIGTERM'); });
  for (const port of ports) await waitForPort(port, () => stderr);
  return { ports, dir };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; else throws with what stderr() says. */
export async function waitForPort(port: number, stderr: () => string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port}: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A TCP relay to the broker whose connections the test can cut: the broker sees a socket close with
 * no DISCONNECT, as when a hub process is killed; closing the relay also refuses reconnects.
 */
export async function startRelay(t: TestHost, targetPort: number): Promise<{ port: number; kill(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, '127.0.0.1');
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const end = () => { inbound.destroy(); outbound.destroy(); };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kill = () => { server.close(); for (const s of sockets) s.destroy(); sockets.clear(); };
  t.teardown(kill);
  return { port: (server.address() as net.AddressInfo).port, kill };
}
