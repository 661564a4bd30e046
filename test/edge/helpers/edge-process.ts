/**
 * The real edge program as a child process (`node --import tsx edge/main.ts`), with its JSON log
 * lines collected, and a plain v5 sender: what the process-level edge tests share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Child { proc: ChildProcess; lines: Record<string, unknown>[]; waitLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>> }

export function startEdge(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'edge/main.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    try { lines.push(JSON.parse(line)); } catch { return; }
    for (const w of waiters) w();
  });
  return {
    proc, lines,
    waitLog(pred, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find(pred);
          if (hit) { waiters.delete(check); clearTimeout(timer); resolve(hit); }
        };
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error('timed out waiting for an edge log line')); }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export function send(port: number, datagrams: Buffer[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    let i = 0;
    const next = () => {
      if (i === datagrams.length) { s.close(); resolve(); return; }
      s.send(datagrams[i++], port, '127.0.0.1', next);
    };
    next();
  });
}
