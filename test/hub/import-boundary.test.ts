/**
 * Issue 10: the hub does not import the edge. The local demo stack, which runs both, is its own
 * program (demo/main.ts); hub/ reaches the edge only through MQTT and the shared proto/ and common/.
 * Every .ts file under hub/ is read, and each module specifier it imports, re-exports or loads
 * dynamically is resolved from the file's folder: none may land in edge/.
 */
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `import … from 'x'`, `export … from 'x'`, `import 'x'`, `import('x')`, `require('x')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

/** The specifiers in `source` that resolve (from `file`) into the repository's edge/ folder. */
function edgeImports(file: string, source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(SPECIFIER)) {
    const spec = m[1]!;
    const target = spec.startsWith('.') ? path.relative(ROOT, path.resolve(path.dirname(file), spec)) : spec;
    if (target.split(/[\\/]/)[0] === 'edge') found.push(spec);
  }
  return found;
}

async function tsFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath ?? (e as { path?: string }).path!, e.name));
}

t.test('the rule catches each form of import (so an empty result below means something)', async (t) => {
  const file = path.join(ROOT, 'hub', 'ops', 'x.ts');
  t.same(edgeImports(file, `import { a } from '../../edge/create-edge';`), ['../../edge/create-edge']);
  t.same(edgeImports(file, `export * from "../../edge/config";`), ['../../edge/config']);
  t.same(edgeImports(file, `import '../../edge/side-effect';`), ['../../edge/side-effect']);
  t.same(edgeImports(file, `const m = await import('../../edge/demo/demo-exporter');`), ['../../edge/demo/demo-exporter']);
  t.same(edgeImports(file, `import type { Edge } from 'edge/create-edge';`), ['edge/create-edge']);
  t.same(edgeImports(file, `import { x } from '../edges/edge-registry'; import y from '../../common/clock';`), [], 'hub/edges and common are not the edge');
});

t.test('no file under hub/ imports the edge', async (t) => {
  const files = await tsFilesUnder(path.join(ROOT, 'hub'));
  t.ok(files.length > 50, `read ${files.length} files under hub/`);
  const offenders: string[] = [];
  for (const file of files) {
    for (const spec of edgeImports(file, await readFile(file, 'utf8'))) offenders.push(`${path.relative(ROOT, file)}: ${spec}`);
  }
  t.same(offenders, [], 'the demo stack (demo/) is the program that runs hub and edge together');
});
