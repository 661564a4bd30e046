import Router from '@koa/router';
import type { Context } from 'koa';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { currenciesModuleSource } from './currencies-module';

/** Content types of the only file kinds the web UI ships. Anything else under web/ is never served. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The two uPlot files the pages import, served from node_modules so nothing is copied into web/. */
const UPLOT_FILES: Record<string, string> = {
  'uPlot.esm.js': 'text/javascript; charset=utf-8',
  'uPlot.min.css': 'text/css; charset=utf-8',
};

/** Page modules and top-level assets: lower-case kebab names only, so no path can climb out of web/. */
const PAGE_FILE = /^[a-z0-9][a-z0-9-]*\.js$/;
const TOP_FILE = /^[a-z0-9][a-z0-9-]*\.(js|css|html|svg)$/;

export interface WebRouterOptions {
  /** Folder holding index.html, app.js, styles.css and pages/ (default: this file's folder). */
  webDir?: string;
  /** Folder holding uPlot's dist files (default: resolved from node_modules/uplot). */
  uplotDistDir?: string;
}

function defaultUplotDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');
}

/**
 * Serves the web UI (plain ES modules, no build step) at / and uPlot at /vendor/uplot/*.
 * Only GET/HEAD of known file names; .ts sources beside them (this file) are never served.
 * Everything answers "Cache-Control: no-cache" so a hub upgrade is seen on the next load
 * (the browser still revalidates cheaply; the files are a few kilobytes).
 */
export function createWebRouter(options: WebRouterOptions = {}): Router {
  const webDir = options.webDir ?? path.dirname(fileURLToPath(import.meta.url));
  const uplotDir = options.uplotDistDir ?? defaultUplotDir();
  const router = new Router();

  /** Answers with the file, or returns false (the caller then passes on to the next middleware). */
  async function send(ctx: Context, file: string, type: string | undefined): Promise<boolean> {
    if (!type) return false;
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    ctx.type = type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = body;
    return true;
  }

  // Each route passes on when it has no such file, so routers mounted after this one (API, health) still answer.
  router.get('/', async (ctx, next) => {
    if (!(await send(ctx, path.join(webDir, 'index.html'), CONTENT_TYPES['.html']))) await next();
  });

  // The customers' link (access records default to <publicUrl>/customer): the same app, which opens
  // the customer view after login.
  router.get('/customer', async (ctx, next) => {
    if (!(await send(ctx, path.join(webDir, 'index.html'), CONTENT_TYPES['.html']))) await next();
  });

  router.get('/vendor/uplot/:file', async (ctx, next) => {
    const name = ctx.params.file;
    const type = Object.hasOwn(UPLOT_FILES, name) ? UPLOT_FILES[name] : undefined;
    if (!(await send(ctx, path.join(uplotDir, name), type))) await next();
  });

  router.get('/pages/:file', async (ctx, next) => {
    const name = ctx.params.file;
    const type = PAGE_FILE.test(name) ? CONTENT_TYPES['.js'] : undefined;
    if (!(await send(ctx, path.join(webDir, 'pages', name), type))) await next();
  });

  // Not a file: the hub's ISO 4217 table as a module (web/currencies-module.ts), so format.js cannot
  // drift from the exponents billing uses. Before '/:file', which would look for it on disk.
  const currenciesJs = currenciesModuleSource();
  router.get('/currencies.js', (ctx) => {
    ctx.type = CONTENT_TYPES['.js']!;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = currenciesJs;
  });

  router.get('/:file', async (ctx, next) => {
    const name = ctx.params.file;
    const type = TOP_FILE.test(name) ? CONTENT_TYPES[path.extname(name)] : undefined;
    if (!(await send(ctx, path.join(webDir, name), type))) await next();
  });

  return router;
}
