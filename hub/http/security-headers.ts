import type { Middleware } from 'koa';

/**
 * The Content-Security-Policy of every response. The web UI is plain ES modules, one stylesheet of
 * its own and uPlot's, all served by the hub: no inline script or style, no eval, no data: images.
 * uPlot styles its elements through the CSSOM (el.style.x = …), which style-src does not govern, so
 * style-src needs no 'unsafe-inline'. test/web/browser.test.ts and test/e2e/browser-real-hub.test.ts
 * fail on any CSP violation the pages report.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Security headers on every response (pages, scripts, API answers, errors), set before the
 * handlers run so a route may still override one (none needs to):
 * - CSP above; X-Frame-Options DENY for browsers without frame-ancestors (clickjacking);
 * - X-Content-Type-Options nosniff: a JSON or CSV answer is never run as a script or page;
 * - Referrer-Policy same-origin: the hub's URLs (operator ids, bill numbers) do not leak to other
 *   sites, while the hub's own requests keep their Referer (csrf-guard's fallback when Origin lacks);
 * - Cache-Control no-store on /api: answers carry tenants' data and a browser or proxy must not keep
 *   them (the web files keep serve-web's "no-cache").
 */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    if (ctx.path === '/api' || ctx.path.startsWith('/api/')) ctx.set('Cache-Control', 'no-store');
    await next();
  };
}
