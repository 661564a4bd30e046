/**
 * The threaded edge's SIGTERM on a full disk, through the real program (`node --import tsx
 * edge/main.ts`, FLOWBILL_EDGE_THREADS=2): the worker's final checkpoint cannot be written, so the
 * process must exit 1 with the 'shutdown FAILED' line (what is on disk stays intact), as the
 * single-thread main.ts does. LevelDB on a 5 MB tmpfs filled by a filler file; needs root (mount),
 * skipped with the reason otherwise.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import dgram from 'node:dgram';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildV5, type V5Flow } from '../../edge/demo/netflow-v5-writer';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function tryMount(): { dir?: string; reason?: string } {
  if (process.platform !== 'linux') return { reason: `tmpfs mount needs Linux (platform ${process.platform})` };
  if (process.getuid?.() !== 0) return { reason: 'not running as root: cannot mount a 5 MB tmpfs' };
  const dir = mkdtempSync(path.join(tmpdir(), 'flowbill-threaded-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=5m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    rmdirSync(dir);
    return { reason: `mount -t tmpfs not permitted here: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}` };
  }
}

function fillDisk(dir: string): void {
  const fd = openSync(path.join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x55);
  try {
    for (;;) writeSync(fd, chunk, 0, Math.max(1, Math.min(chunk.length, statfsSync(dir).bavail * statfsSync(dir).bsize || 1)));
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

/** Each flow on its own input interface: one open-bucket row per flow, so a checkpoint is tens of KB (a few bytes could fit in a page tmpfs already gave the log file). */
function datagrams(count: number, base: number): Buffer[] {
  const prevBucketMs = Math.floor(Date.now() / 300_000) * 300_000 - 300_000;
  return Array.from({ length: count }, (_, d) => {
    const flows: V5Flow[] = [];
    for (let r = 0; r < 30; r++) flows.push({ src: [198, 51, 100, r], dst: [203, 0, 113, d], inputIf: base + d * 30 + r, outputIf: 2, packets: 1, bytes: base + r, startMs: prevBucketMs + 1000, endMs: prevBucketMs + 2000 });
    return buildV5(flows, { nowMs: Date.now(), sequence: d * 30 });
  });
}

function send(port: number, list: Buffer[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    let i = 0;
    const next = () => { if (i === list.length) { s.close(); resolve(); return; } s.send(list[i++], port, '127.0.0.1', next); };
    next();
  });
}

const mounted = tryMount();
if (!mounted.dir) {
  t.plan(0, `skipped: ${mounted.reason}`);
} else {
  const dir = mounted.dir;
  t.teardown(() => {
    try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); }
    rmdirSync(dir);
  });

  t.test('threaded edge: SIGTERM while the disk is full exits 1 with the shutdown FAILED line', async (t) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'edge/main.ts'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env, FLOWBILL_EDGE_CONFIG: '', FLOWBILL_EDGE_THREADS: '2', FLOWBILL_EDGE_ID: 'df', FLOWBILL_EDGE_TENANT_ID: 'op1',
        FLOWBILL_EDGE_MQTT_URL: 'mqtt://127.0.0.1:1', FLOWBILL_EDGE_UDP_HOST: '127.0.0.1', FLOWBILL_EDGE_UDP_PORT: '0', FLOWBILL_EDGE_SFLOW_PORT: '-1',
        FLOWBILL_EDGE_DATA_DIR: dir, FLOWBILL_EDGE_CHECKPOINT_INTERVAL_MS: '1000', FLOWBILL_EDGE_CLOSE_GRACE_SEC: '600',
        FLOWBILL_EDGE_LIVE_INTERVAL_MS: '0', LOG_LEVEL: 'debug',
      },
    });
    t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
    const lines: Record<string, unknown>[] = [];
    const waiters = new Set<() => void>();
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      try { lines.push(JSON.parse(line)); } catch { return; }
      for (const w of waiters) w();
    });
    const waitLog = (pred: (l: Record<string, unknown>) => boolean) => new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error('timed out waiting for an edge log line')); }, 60_000);
      const check = () => { const hit = lines.find(pred); if (hit) { waiters.delete(check); clearTimeout(timer); resolve(hit); } };
      waiters.add(check);
      check();
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

    const listening = await waitLog((l) => l.msg === 'listening for NetFlow/IPFIX');
    await send(listening.port as number, datagrams(10, 1));
    await waitLog((l) => l.msg === 'checkpoint written' && (l.openBytes as number) > 0);
    fillDisk(dir);
    await send(listening.port as number, datagrams(40, 1000)); // 1200 new rows: the final checkpoint must write them
    proc.kill('SIGTERM');
    const code = await exited;
    if (code !== 1) t.comment(JSON.stringify({ code, lines: lines.filter((l) => l.msg !== 'checkpoint written').map((l) => ({ msg: l.msg, err: (l.err as { message?: string })?.message })) }));
    t.equal(code, 1, 'exit code 1');
    t.ok(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown FAILED')), 'the shutdown FAILED line');
    t.ok(lines.some((l) => typeof l.msg === 'string' && l.msg.includes('WITHOUT its final checkpoint')), 'the worker says what was not saved');
  });
}
