// `npm run build:native`: builds the native UDP reader (udp_batch_reader.node) with the node-gyp that
// npm bundles, offline, against the installed Node's headers (npm's nodedir setting, else
// process.execPath's prefix). Exit code 0 on success. With --optional a failure only prints one line
// and exits 0: the edge then reads with Node's dgram (FLOWBILL_EDGE_UDP_READER=auto).
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const optional = process.argv.includes('--optional');

function fail(reason) {
  if (optional) {
    console.log(`flowbill: native UDP reader not built (${reason}); the edge will use Node's dgram`);
    process.exit(0);
  }
  console.error(`build:native: ${reason}`);
  process.exit(1);
}

if (process.platform !== 'linux') fail(`${process.platform} is not Linux (recvmmsg)`);

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  // npm's own copy: <npm>/node_modules/node-gyp, next to npm's bin/npm-cli.js.
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const bin of ['/usr/bin/npm', '/usr/local/bin/npm']) {
    try { candidates.push(path.join(path.dirname(realpathSync(bin)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')); } catch { /* not there */ }
  }
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found (neither npm_config_node_gyp nor npm\'s bundled copy)');

// Offline: the headers of the running Node, never a download.
const nodedir = process.env.npm_config_nodedir
  ?? [path.join(path.dirname(process.execPath), '..'), '/usr', '/usr/local'].find((d) => existsSync(path.join(d, 'include', 'node', 'node_api.h')));
if (!nodedir) fail('Node\'s headers (include/node/node_api.h) not found; install them or set npm_config_nodedir');

const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--release'], { cwd: here, stdio: optional ? 'pipe' : 'inherit', encoding: 'utf8' });
if (r.status !== 0) {
  if (optional && r.stderr) process.stderr.write(r.stderr.split('\n').filter((l) => /error/i.test(l)).slice(0, 5).join('\n') + '\n');
  fail(`node-gyp exited with ${r.status ?? r.signal}`);
}
console.log(`flowbill: native UDP reader built: ${path.join(here, 'build', 'Release', 'udp_batch_reader.node')}`);
