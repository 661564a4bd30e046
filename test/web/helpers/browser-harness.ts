/**
 * The pieces every real-browser page test repeated: the listeners that turn page errors, failed
 * responses, console errors and CSP violations into entries of the test's `errors` list, the login
 * form, and the screenshot that also fails on JavaScript blanks in the page's text. One copy, so the
 * error rules stay the same across tests; what differs per test (which failing response is expected,
 * which selector means "logged in", the screenshot prefix) is a parameter.
 */
import path from 'node:path';
import type { Page, Response } from 'playwright-core';

export const SHOTS = path.resolve('test-output/screenshots');

/** The 401 from GET /api/v1/me before login: the shell's "who am I" when nobody is. */
export const tolerateMe401 = (res: Response): boolean => res.status() === 401 && res.url().endsWith('/api/v1/me');

export interface WatchOptions {
  /** A failing (>= 400) response the flow expects; any other one is an error. Default: tolerateMe401. */
  tolerate?: (res: Response) => boolean;
  /**
   * true: every console error, "Failed to load resource" included, and every console warning is an
   * error (for pages that must load without a single failed request). Default false.
   */
  strictConsole?: boolean;
  /** Report CSP violations as console errors. Default true. */
  csp?: boolean;
}

/**
 * Records into `errors`: uncaught page errors, responses >= 400 not tolerated, console errors other
 * than the browser's own "Failed to load resource" (the response listener already names those), and
 * CSP violations (reported by an init script as console errors).
 */
export async function watchPage(page: Page, errors: string[], { tolerate = tolerateMe401, strictConsole = false, csp = true }: WatchOptions = {}): Promise<void> {
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('response', (res) => { if (res.status() >= 400 && !tolerate(res)) errors.push(`HTTP ${res.status()} ${res.url()}`); });
  if (strictConsole) {
    page.on('console', (msg) => { if (msg.type() === 'error' || msg.type() === 'warning') errors.push(`console ${msg.type()}: ${msg.text()}`); });
  } else {
    page.on('console', (msg) => { if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(`console: ${msg.text()}`); });
  }
  if (csp) await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`)));
}

/** A tolerate() for the refusals a flow provokes on purpose, as "<status> <path>" (plus GET /me's 401 unless `me401` is false). */
export function expectedRefusals(expected: ReadonlySet<string>, me401 = true): (res: Response) => boolean {
  return (res) => {
    const what = `${res.status()} ${new URL(res.url()).pathname}`;
    return expected.has(what) || (me401 && what === '401 /api/v1/me');
  };
}

/** Logs in through the form at baseUrl and, if given, waits for `readySelector` (what the test needs next). */
export async function login(page: Page, baseUrl: string, username: string, password: string, readySelector?: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.waitForSelector('#username');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#login-submit');
  if (readySelector) await page.waitForSelector(readySelector);
}

/**
 * A shot(page, name) that saves test-output/screenshots/<prefix>-<name>.png for a human and records
 * an error if the page's text shows null/undefined/NaN/[object Object].
 */
export function shooter(prefix: string, errors: string[]): (page: Page, name: string) => Promise<void> {
  return async (page, name) => {
    await page.screenshot({ path: path.join(SHOTS, `${prefix}-${name}.png`), fullPage: true });
    const blank = /\b(null|undefined|NaN|\[object Object\])\b/.exec(await page.innerText('body'));
    if (blank) errors.push(`${name}: page shows "${blank[0]}"`);
  };
}
