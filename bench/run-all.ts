/**
 * `npm run bench`: runs every bench/*-bench.ts in its own process, one after another (they must not
 * compete for this 2-core machine), and prints their figures. `npm run bench -- decode` runs those
 * whose file name contains "decode".
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const scripts: [string, string[]][] = readdirSync(dir).filter((f) => f.endsWith('-bench.ts') && f.includes(filter)).sort().map((f) => [f, []]);
// Issue 8's fuzzers, shorter than their own defaults (`tsx bench/fuzz-edge.ts` sends 1,000,000 datagrams).
scripts.push(...([['fuzz-edge.ts', ['--datagrams', '200000']], ['fuzz-hub.ts', ['--payloads', '1000', '--raw', '200']]] as [string, string[]][]).filter(([f]) => f.includes(filter)));
// Issue 13's yardstick (~5 minutes): loss-free rate of the edge program against nfcapd, same sender.
scripts.push(...([['nfcapd-vs-edge.ts', []]] as [string, string[]][]).filter(([f]) => f.includes(filter)));
let failed = 0;
for (const [script, args] of scripts) {
  console.log(`\n== ${script} ${args.join(' ')}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', path.join(dir, script), ...args], { stdio: 'inherit', env: { ...process.env, LOG_LEVEL: 'silent' } });
  if (res.status !== 0) { failed++; console.log(`!! ${script} exited with ${res.status}`); }
}
process.exit(failed ? 1 : 0);
