/**
 * The forced and the voluntary password change in a real headless browser (Debian's chromium driven
 * by playwright-core) against a REAL hub (test/hub/spine/hub-harness.ts, every module) started as
 * `npm run hub` starts it: no FLOWBILL_ADMIN_PASSWORD, so "admin" gets a one-time password. The UI
 * must show the change page and nothing else until the change, then the role's home page; operator
 * users change their password from Account. Screenshots: test-output/screenshots/password-*.png.
 * Skips cleanly when /usr/bin/chromium is absent.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createHubModules } from '../../hub/hub-modules';
import { captureWarnings } from '../helpers/capture-logger';
import { startTestHub } from '../hub/spine/hub-harness';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { expectedRefusals, login as logIn, SHOTS, shooter, watchPage } from './helpers/browser-harness';

// Chromium's cookie jar runs on real time: the hub's clock starts near it, so session cookies live.
const START_MS = Math.ceil(Date.now() / 3600_000) * 3600_000;

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  const { log, warnings } = captureWarnings();
  const hub = await startTestHub({ modules: createHubModules, log, nowMs: START_MS, config: { adminPassword: undefined } });
  const otp = warnings.map((w) => w.obj.oneTimePassword).find((p): p is string => typeof p === 'string')!;
  let browser: Browser | undefined;
  const errors: string[] = [];
  /** Refusals a test provokes on purpose, as "<status> <path>"; any other failing request is a bug. */
  const expected = new Set<string>();

  t.teardown(async () => {
    await browser?.close();
    await hub.close();
  });

  t.before(async () => {
    await mkdir(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await watchPage(page, errors, { tolerate: expectedRefusals(expected), csp: false });
    return { context, page };
  }

  const login = (page: Page, username: string, password: string) => logIn(page, hub.httpUrl, username, password);

  const shot = shooter('password', errors);

  async function changeForm(page: Page, current: string, next: string, again = next): Promise<void> {
    await page.fill('#current-password', current);
    await page.fill('#new-password', next);
    await page.fill('#new-password-again', again);
    await page.click('#password-submit');
  }

  t.test('the super_admin with the one-time password sees only the change page, then the admin pages', async (t) => {
    t.match(otp, /^[A-Za-z0-9_-]{20}$/, 'the hub printed a one-time password');
    const { context, page } = await newPage();
    await login(page, 'admin', otp);
    await page.waitForSelector('#password-form');
    t.equal(await page.evaluate(() => location.hash), '#/change-password');
    t.match(await page.textContent('main h1'), /Choose your password/);
    t.equal(await page.locator('#nav a').count(), 0, 'no navigation while the change is required');
    t.equal(await page.locator('#operator-select').count(), 0, 'no operator selector either');
    t.equal(await page.title(), 'Change password · flowbill');
    await shot(page, 'forced');

    // Typing another page's address leads back here.
    await page.evaluate(() => { location.hash = '#/admin/operators'; });
    await page.waitForFunction(() => location.hash === '#/change-password');
    await page.waitForSelector('#password-form');

    await changeForm(page, otp, 'short');
    t.match(await page.textContent('#password-message'), /at least 12 characters/, 'the form says the rule before asking the hub');
    await changeForm(page, otp, 'a-good-long-password', 'a-different-one-here');
    t.match(await page.textContent('#password-message'), /differ/);
    expected.add('403 /api/v1/me/password');
    await changeForm(page, 'not-the-one-time-password', 'a-good-long-password');
    await page.waitForSelector('#password-message .notice.error');
    t.match(await page.textContent('#password-message'), /CURRENT_PASSWORD_WRONG/, 'the hub\'s refusal is shown');
    expected.delete('403 /api/v1/me/password');
    t.equal(await page.evaluate(() => location.hash), '#/change-password', 'still locked');
    await shot(page, 'forced-error');

    await changeForm(page, otp, 'the-admins-own-password');
    await page.waitForFunction(() => location.hash === '#/admin/operators');
    await page.waitForSelector('#nav a');
    t.match(await page.textContent('#nav'), /Operators/, 'the role\'s home page with its navigation');
    t.ok(await page.locator('#change-password-link').isVisible(), 'the header offers a later change');
    await shot(page, 'after-forced');
    await context.close();

    t.equal((await hub.api('POST', '/api/v1/login', { username: 'admin', password: otp })).status, 401, 'the one-time password is spent');
  });

  t.test('an operator user changes their password from the account page', async (t) => {
    const admin = (await hub.api('POST', '/api/v1/login', { username: 'admin', password: 'the-admins-own-password' })).body.token as string;
    const must = async (method: string, route: string, body?: unknown) => {
      const res = await hub.api(method, `/api/v1${route}`, body, admin);
      if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    await must('POST', '/operators', { operatorId: 'isp1', name: 'ISP One' });
    await must('PUT', '/operators/isp1/active-customers', { count: 800 });
    await must('POST', '/operators/isp1/users', { username: 'noc', password: 'noc-password-1', role: 'operator_admin' });

    const { context, page } = await newPage();
    await login(page, 'noc', 'noc-password-1');
    await page.waitForSelector('#nav a[href="#/account"]');
    await page.click('#nav a[href="#/account"]');
    await page.waitForSelector('#addons');
    await page.waitForSelector('#account-change-password');
    await shot(page, 'account');
    await page.click('#account-change-password');
    await page.waitForSelector('#password-form');
    t.match(await page.textContent('main h1'), /^Change password$/);
    t.ok(await page.locator('#nav a').count() > 0, 'a voluntary change keeps the navigation');
    await changeForm(page, 'noc-password-1', 'noc-chose-a-long-one');
    await page.waitForSelector('#password-message .notice.success');
    t.match(await page.textContent('#password-message'), /Password changed/);
    await shot(page, 'voluntary');
    await context.close();

    t.equal((await hub.api('POST', '/api/v1/login', { username: 'noc', password: 'noc-password-1' })).status, 401, 'old password gone');
    t.equal((await hub.api('POST', '/api/v1/login', { username: 'noc', password: 'noc-chose-a-long-one' })).status, 200, 'new one works');
  });

  t.test('a reset by the operator\'s admin sends the user to the change page at the next login', async (t) => {
    const admin = (await hub.api('POST', '/api/v1/login', { username: 'admin', password: 'the-admins-own-password' })).body.token as string;
    const { user } = (await hub.api('POST', '/api/v1/operators/isp1/users', { username: 'night-shift', password: 'night-password-1', role: 'operator_readonly' }, admin)).body;
    const reset = (await hub.api('POST', `/api/v1/operators/isp1/users/${user.userId}/password`, undefined, admin)).body;
    const { context, page } = await newPage();
    await login(page, 'night-shift', reset.oneTimePassword);
    await page.waitForSelector('#password-form');
    t.match(await page.textContent('main'), /reset/);
    await changeForm(page, reset.oneTimePassword, 'night-shift-own-password');
    await page.waitForFunction(() => location.hash === '#/dashboard');
    await page.waitForSelector('#nav a[href="#/dashboard"]');
    await context.close();
  });

  t.test('no script errors, unexpected failed requests or blanks in any page', async (t) => {
    t.same(errors, []);
  });
}
