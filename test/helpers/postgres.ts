import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Test } from 'tap';
import { freeTcpPort } from './free-ports';

const run = promisify(execFile);

/** A throwaway PostgreSQL cluster for one test file. */
export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/flowbill_test (trust auth: no password). */
  url: string;
  /** Stops the cluster (immediate shutdown: it holds nothing worth keeping) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

interface RunAs {
  /** The command prefix that runs a program as the cluster's owner: [] when we are not root. */
  prefix: string[];
  uid: number;
  gid: number;
}

/** Debian's server binaries: /usr/lib/postgresql/<major>/bin, the newest major that has initdb and pg_ctl. */
function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/**
 * postgres refuses to run as root, and tests run as root here (and in CI): the cluster then belongs to the
 * unprivileged `postgres` user that Debian's package creates, and every server command goes through runuser.
 */
function findRunAs(): RunAs | string {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return { prefix: [], uid, gid: process.getgid?.() ?? 0 };
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const u = id('-u');
  const g = id('-g');
  if (u.status !== 0 || g.status !== 0) return 'running as root and there is no unprivileged "postgres" user to own the cluster';
  if (spawnSync('runuser', ['--help'], { stdio: 'ignore' }).error !== undefined) return 'runuser (util-linux) not found';
  return { prefix: ['runuser', '-u', 'postgres', '--'], uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Why PostgreSQL tests cannot run on this machine, or undefined when they can. Usable as tap's `{ skip }` option. */
export function postgresSkipReason(): string | undefined {
  if (findBinDir() === undefined) return 'PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin (apt-get install postgresql)';
  const as = findRunAs();
  return typeof as === 'string' ? as : undefined;
}

/**
 * Starts a private cluster on a free 127.0.0.1 port in a temp dir (trust auth, loopback only, no unix socket
 * outside the temp dir) with fsync and synchronous_commit off: durability is worthless for a test and costs
 * seconds. Creates database flowbill_test and returns its URL. Stopped and removed at the test's teardown,
 * and by a watchdog if this process dies first (a killed test file must not leave a server behind).
 * Returns undefined, after a t.comment saying why, when the binaries or the `postgres` user are absent:
 * the caller skips: `if (!server) { t.pass('skipped: no PostgreSQL here'); return; }`.
 */
export async function startPostgres(t: Test): Promise<TestPostgres | undefined> {
  const reason = postgresSkipReason();
  if (reason !== undefined) { t.comment(`PostgreSQL tests skipped: ${reason}`); return undefined; }
  const bin = findBinDir()!;
  const as = findRunAs() as RunAs;
  const dir = mkdtempSync(join(tmpdir(), 'flowbill-pg-'));
  chownSync(dir, as.uid, as.gid);
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const asOwner = (program: string, args: string[], timeoutMs = 60_000) => {
    const [cmd, ...rest] = [...as.prefix, join(bin, program), ...args];
    return run(cmd, rest, { timeout: timeoutMs, cwd: dir });
  };

  const watchdog = startWatchdog(dir, data, bin, as);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try { await asOwner('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '30']); } catch { /* never started, or already gone */ }
    watchdog.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  t.teardown(stop);

  try {
    await asOwner('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    let port = 0;
    // the free port may be taken between the probe and the server's bind: try a few
    for (let attempt = 1; ; attempt++) {
      port = await freeTcpPort();
      const opts = [
        `-c port=${port}`, "-c listen_addresses=127.0.0.1", `-c unix_socket_directories=${dir}`,
        '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off',
        // several test files run at once on a small machine: keep each cluster small
        '-c shared_buffers=16MB', '-c max_connections=60',
      ].join(' ');
      try {
        await asOwner('pg_ctl', ['start', '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', opts]);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    try { await admin.query('CREATE DATABASE flowbill_test'); } finally { await admin.end(); }
    return { url: `postgres://postgres@127.0.0.1:${port}/flowbill_test`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A detached shell that waits for this process to exit, then stops the cluster and removes its directory.
 * tap kills a test file that times out; Node's exit hooks do not run then, and postmaster would live on.
 */
function startWatchdog(dir: string, data: string, bin: string, as: RunAs): { kill(): void } {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const pgCtl = [...as.prefix, join(bin, 'pg_ctl')].map(q).join(' ');
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; `
    + `${pgCtl} stop -D ${q(data)} -m immediate >/dev/null 2>&1; rm -rf ${q(dir)}`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return { kill() { try { if (child.pid !== undefined) process.kill(child.pid); } catch { /* already gone */ } } };
}
