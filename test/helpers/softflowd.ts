import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface SoftflowdRun {
  /** libpcap file to read (see writePcap). */
  pcapPath: string;
  /** Collector: '127.0.0.1:PORT' or '[::1]:PORT'. */
  target: string;
  version: 5 | 9 | 10;
  /** More flags, e.g. ['-6'] (track IPv6), ['-s', '10'] (1:10 sampling), ['-A', 'milli'] (IPFIX absolute times). */
  extraArgs?: string[];
  /** Kill softflowd if it has not exited by then (default 20 s). */
  timeoutMs?: number;
}

export interface SoftflowdResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** True when the softflowd binary is on PATH (tests skip otherwise). */
export function softflowdAvailable(): boolean {
  const r = spawnSync('softflowd', ['-h'], { stdio: 'ignore' });
  return r.error === undefined;
}

/**
 * Runs a real exporter over a capture: `softflowd -r <pcap> -n <target> -v <v> -a`.
 * With -r softflowd (1.1.0) reads the whole file, expires every flow still active at end of file,
 * sends the export datagrams, prints its statistics and exits; it does not fork in this mode.
 * Do NOT add -d: with -d and -r, softflowd 1.1.0 keeps running after end of file instead of exiting
 * (checked here). -a makes it use the capture's timestamps as its clock, so flow times come from
 * the pcap.
 * Pid file and control socket go to a private temp dir (the child's cwd) so parallel runs do not
 * collide. The control socket is given as a short relative name on purpose: softflowd 1.1.0 with -r
 * never exits when -c names a path longer than about 12 characters (checked here: `-c /tmp/abcde/c`
 * exits, `-c /tmp/abcdef/c` hangs after end of file).
 * Resolves when the process exits (the datagrams are sent by then; the caller's UDP socket may
 * still have to drain them: wait for the expected count or a short quiet period).
 */
export function runSoftflowd(run: SoftflowdRun): Promise<SoftflowdResult> {
  const work = mkdtempSync(join(tmpdir(), 'softflowd-'));
  const args = [
    '-r', resolve(run.pcapPath), '-n', run.target, '-v', String(run.version), '-a',
    '-p', 'pid', '-c', 'ctl',
    ...(run.extraArgs ?? []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('softflowd', args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs ?? 20_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      rmSync(work, { recursive: true, force: true });
      reject(err);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      rmSync(work, { recursive: true, force: true });
      if (exitCode !== 0) reject(new Error(`softflowd ${args.join(' ')} exited ${exitCode}: ${stderr}`));
      else resolve({ exitCode, stdout, stderr });
    });
  });
}
