// Every web module is type-checked (web/tsconfig.json checks only files that opt in with `// @ts-check`,
// because checkJs is off): a file without the header would silently escape `tsc -p web/tsconfig.json`,
// and with it the check that pages read only what the hub's API shapes (common/api) promise.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const webDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'docs' ? [] : jsFiles(full);
    return e.name.endsWith('.js') ? [full] : [];
  });
}

t.test('every web .js file starts with // @ts-check', async (t) => {
  const files = jsFiles(webDir);
  t.ok(files.length > 10, 'found the web modules');
  const missing = files.filter((f) => !readFileSync(f, 'utf8').startsWith('// @ts-check')).map((f) => path.relative(webDir, f));
  t.same(missing, [], 'files without the header');
});
