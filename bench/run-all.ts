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
const scripts = readdirSync(dir).filter((f) => f.endsWith('-bench.ts') && f.includes(filter)).sort();
let failed = 0;
for (const script of scripts) {
  console.log(`\n== ${script}`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', path.join(dir, script)], { stdio: 'inherit', env: { ...process.env, LOG_LEVEL: 'silent' } });
  if (res.status !== 0) { failed++; console.log(`!! ${script} exited with ${res.status}`); }
}
process.exit(failed ? 1 : 0);
