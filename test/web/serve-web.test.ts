import t from 'tap';
import Router from '@koa/router';
import { createTestApp, callApi } from '../helpers/test-app';
import { createWebRouter } from '../../web/serve-web';

/** The web router next to an API router, as the hub mounts them: static files must not shadow the API. */
function app() {
  const api = new Router();
  api.get('/healthz', (ctx) => { ctx.body = { ok: true }; });
  api.get('/api/v1/ping', (ctx) => { ctx.body = { pong: true }; });
  return createTestApp([createWebRouter(), api]);
}

t.test('serves the app shell, modules, styles and uPlot with their content types', async (t) => {
  const a = app();
  const index = await callApi(a, 'GET', '/');
  t.equal(index.status, 200);
  t.match(index.headers['content-type'], /^text\/html/);
  t.match(index.body, /<script type="module" src="\/app.js">/);
  t.equal(index.headers['cache-control'], 'no-cache');
  t.match((await callApi(a, 'GET', '/customer')).headers['content-type'], /^text\/html/, 'the customers\' link opens the app');
  t.match((await callApi(a, 'GET', '/app.js')).headers['content-type'], /^text\/javascript/);
  t.match((await callApi(a, 'GET', '/styles.css')).headers['content-type'], /^text\/css/);
  t.match((await callApi(a, 'GET', '/favicon.svg')).headers['content-type'], /^image\/svg\+xml/);
  const page = await callApi(a, 'GET', '/pages/dashboard.js');
  t.equal(page.status, 200);
  t.match(page.headers['content-type'], /^text\/javascript/);
  const uplot = await callApi(a, 'GET', '/vendor/uplot/uPlot.esm.js');
  t.equal(uplot.status, 200);
  t.match(uplot.headers['content-type'], /^text\/javascript/);
  t.match(uplot.body, /export \{ uPlot as default \}|export default/);
  t.match((await callApi(a, 'GET', '/vendor/uplot/uPlot.min.css')).headers['content-type'], /^text\/css/);
});

t.test('never serves sources, other node_modules files or paths outside web/', async (t) => {
  const a = app();
  for (const path of ['/serve-web.ts', '/vendor/uplot/package.json', '/vendor/uplot/uPlot.cjs.js', '/pages/..%2Fserve-web.ts', '/pages/../serve-web.ts', '/..%2Fpackage.json', '/%2e%2e/package.json', '/pages/Missing.js', '/nope.js']) {
    const res = await callApi(a, 'GET', path);
    t.equal(res.status, 404, path);
    t.notMatch(String(res.body), /createWebRouter|"dependencies"/, `${path} leaks nothing`);
  }
});

t.test('passes on to routers mounted after it', async (t) => {
  const a = app();
  t.same((await callApi(a, 'GET', '/healthz')).body, { ok: true });
  t.same((await callApi(a, 'GET', '/api/v1/ping')).body, { pong: true });
  const missing = await callApi(a, 'GET', '/api/v1/nothing');
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'NOT_FOUND');
});
