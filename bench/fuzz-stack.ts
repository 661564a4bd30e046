/**
 * Real processes for the fuzz benches (bench/fuzz-edge.ts, bench/fuzz-hub.ts): a hub (`hub/main.ts`,
 * LevelDB, embedded broker, every module) and an edge (`edge/main.ts`) as child processes in a temp
 * dir, watched for exits, error-level log lines and RSS (/proc/<pid>/status VmRSS). Children run as
 * `node --import tsx <main>` (what `npx tsx` runs, without the npx and tsx wrapper processes), so the
 * pid watched is the program's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freeTcpPort, freeUdpPort } from '../test/helpers/free-ports';
export { freeTcpPort, freeUdpPort };
export const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}


/** VmRSS of a pid in bytes, or undefined when the process is gone. */
export function rssOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const mib = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / 2 ** 20).toFixed(0)} MiB`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Exit code / signal once it exited. */
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  logLines: number;
  lastLogMs: number;
  /** Error/fatal log lines (pino level >= 50), the first 50 kept. */
  errorLines: string[];
  errorCount: number;
  stderrTail: string;
  peakRss: number;
  sampleRss(): number | undefined;
  /** Resolves when a stdout line matches. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

export function spawnChild(name: string, mainFile: string, env: Record<string, string>, args: string[] = []): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, mainFile), ...args], {
    cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const child: Child = {
    name, proc, exited: undefined, logLines: 0, lastLogMs: Date.now(), errorLines: [], errorCount: 0, stderrTail: '', peakRss: 0,
    sampleRss() {
      const r = rssOf(proc.pid);
      if (r !== undefined && !child.exited) child.peakRss = Math.max(child.peakRss, r);
      return r;
    },
    waitForLine(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no log line matching ${re} within ${timeoutMs} ms; stderr: ${child.stderrTail.slice(-2000)}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      });
    },
    async stop() {
      if (child.exited) return;
      proc.kill('SIGTERM');
      const deadline = Date.now() + 20_000;
      while (!child.exited && Date.now() < deadline) await sleep(100);
      if (!child.exited) proc.kill('SIGKILL');
      while (!child.exited) await sleep(50);
    },
  };
  let buf = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      child.logLines++;
      child.lastLogMs = Date.now();
      const level = /"level":(\d+)/.exec(line);
      if (level && Number(level[1]) >= 50) {
        child.errorCount++;
        if (child.errorLines.length < 50) child.errorLines.push(line.slice(0, 2000));
      }
      for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i].re.test(line)) { waiters[i].resolve(line); waiters.splice(i, 1); }
    }
  });
  proc.stderr!.on('data', (chunk: Buffer) => { child.stderrTail = (child.stderrTail + chunk.toString('utf8')).slice(-20_000); });
  proc.on('exit', (code, signal) => { child.exited = { code, signal }; });
  return child;
}

export interface HubProcess {
  child: Child;
  httpUrl: string;
  mqttPort: number;
  mqttUrl: string;
  api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/** Starts hub/main.ts on free ports with its data in `dir`, waits for /api/v1/health, logs in as admin. */
export async function startHubProcess(dir: string, extraEnv: Record<string, string> = {}): Promise<HubProcess> {
  const httpPort = await freeTcpPort();
  const mqttPort = await freeTcpPort();
  const child = spawnChild('hub', 'hub/main.ts', {
    FLOWBILL_HUB_DATA_DIR: path.join(dir, 'hub'), FLOWBILL_HTTP_PORT: String(httpPort), FLOWBILL_MQTT_PORT: String(mqttPort),
    FLOWBILL_ADMIN_PASSWORD: 'fuzz-admin', FLOWBILL_JOBS: 'off', ...extraEnv,
  });
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let token = '';
  async function api(method: string, route: string, body?: unknown) {
    const res = await fetch(`${httpUrl}/api/v1${route}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed as any };
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exited) throw new Error(`hub exited at start (${JSON.stringify(child.exited)}): ${child.stderrTail.slice(-3000)}`);
    try { if ((await api('GET', '/health')).status === 200) break; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`hub not healthy within 60 s: ${child.stderrTail.slice(-3000)}`);
    await sleep(250);
  }
  token = (await api('POST', '/login', { username: 'admin', password: 'fuzz-admin' })).body.token;
  return { child, httpUrl, mqttPort, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, api };
}

/** An operator with the NetFlow add-on's trial (else collection is paused), IP groups, and one provisioned edge. */
export async function setUpOperator(hub: HubProcess, operatorId: string, ipGroups: { name: string; prefixes: string[] }[], edgeNames: string[]) {
  const must = async (method: string, route: string, body?: unknown) => {
    const r = await hub.api(method, route, body);
    if (r.status >= 300) throw new Error(`${method} ${route}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await must('POST', '/operators', { operatorId, name: `Fuzz ${operatorId}` });
  await must('PUT', `/operators/${operatorId}/active-customers`, { count: 900 });
  await must('POST', `/operators/${operatorId}/addons/netflow/start-trial`);
  for (const g of ipGroups) await must('POST', `/operators/${operatorId}/ip-groups`, g);
  const creds: { edgeId: string; tenantId: string; username: string; password: string; mqttUrl: string }[] = [];
  for (const name of edgeNames) creds.push((await must('POST', `/operators/${operatorId}/edges`, { name })).credentials);
  return creds;
}

export async function subjectTotals(hub: HubProcess, operatorId: string, subjectId: string, fromSec: number, toSec: number) {
  const r = await hub.api('GET', `/operators/${operatorId}/subjects/${encodeURIComponent(subjectId)}/series?fromSec=${fromSec}&toSec=${toSec}`);
  return r.status === 200 ? (r.body.totals as { bytesIn: number; packetsIn: number; flowsIn: number; bytesOut: number }) : undefined;
}
