/**
 * edge/receive/reader-priority.ts in a child process (a nice value is per thread, and this test's
 * own must not change): -10 is either applied, or (without root or CAP_SYS_NICE) refused with one
 * info line; never a warning, never a throw. 0 does nothing.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const moduleUrl = new URL('../../edge/receive/reader-priority.ts', import.meta.url).href;

function runChild(nice: number, asNobody: boolean): { before: number; after: number; lines: Array<{ level: string; msg: string }> } {
  const code = `
    const os = await import('node:os');
    const { setReaderNice } = await import(${JSON.stringify(moduleUrl)});
    const lines = [];
    const log = { info: (_o, msg) => lines.push({ level: 'info', msg }), warn: (_o, msg) => lines.push({ level: 'warn', msg }) };
    const before = os.getPriority(0);
    setReaderNice(${nice}, log);
    console.log(JSON.stringify({ before, after: os.getPriority(0), lines }));`;
  const args = ['--import', 'tsx', '--input-type=module', '-e', code];
  const r = asNobody
    ? spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, ...args], { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

t.test('0 leaves the thread as it is and says nothing', async (t) => {
  const r = runChild(0, false);
  t.equal(r.after, r.before);
  t.same(r.lines, []);
});

t.test('-10 is applied, or refused with one info line when the process may not raise priority', async (t) => {
  const r = runChild(-10, false);
  t.equal(r.lines.length, 1);
  t.equal(r.lines[0].level, 'info');
  if (r.after === -10) t.match(r.lines[0].msg, /nice value set/);
  else { t.equal(r.after, r.before); t.match(r.lines[0].msg, /keeps nice 0/); }
});

/** Why the unprivileged case cannot run here, or false: it needs root (to drop to nobody), setpriv, and a checkout nobody can read. */
function nobodyCannotRun(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to drop to nobody';
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const probe = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'test', '-r', `${repo}/node_modules/tsx/package.json`]);
  if (probe.error) return `setpriv not available (${probe.error.message})`;
  return probe.status === 0 ? false : 'nobody cannot read this checkout';
}

t.test('without privileges: one info line, nice unchanged, no warning', { skip: nobodyCannotRun() }, async (t) => {
  const r = runChild(-10, true);
  t.equal(r.after, r.before);
  t.same(r.lines.map((l) => l.level), ['info']);
  t.match(r.lines[0].msg, /needs root or CAP_SYS_NICE/);
});
