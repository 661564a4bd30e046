/**
 * A Koa app for testing one module's routers without the rest of the hub:
 * error middleware, JSON body parser, and the caller's principal from an "x-test-principal" header
 * (JSON), so each request states who calls it. Use with node:http-free `callApi` below.
 */
import Koa from 'koa';
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { errorMiddleware } from '../../hub/http/error-middleware';
import { silentLogger } from '../../common/logger';
import type { Principal } from '../../hub/http/principal';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export function createTestApp(routers: Router[]): Koa {
  const app = new Koa();
  app.use(errorMiddleware(silentLogger));
  app.use(bodyParser());
  app.use(async (ctx, next) => {
    const raw = ctx.get('x-test-principal');
    if (raw) ctx.state.principal = JSON.parse(raw) as Principal;
    await next();
  });
  for (const r of routers) app.use(r.routes()).use(r.allowedMethods());
  return app;
}

export interface ApiResponse { status: number; body: any; headers: http.IncomingHttpHeaders; raw: Buffer }

/** Serve the app on an ephemeral loopback port for one request (Koa's callback needs a real req/res). */
export async function callApi(app: Koa, method: string, path: string, opts: { principal?: Principal; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.principal) headers['x-test-principal'] = JSON.stringify(opts.principal);
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const raw = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    const body = type.includes('json') ? JSON.parse(raw.toString('utf8')) : raw.toString('utf8');
    return { status: res.status, body, headers: Object.fromEntries([...(res.headers as unknown as Iterable<[string, string]>)]), raw };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
