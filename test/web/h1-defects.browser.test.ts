/**
 * Issue 11 (H1): a new operator and the small defects, in headless chromium against the REAL hub
 * (test/e2e/stack.ts), as the roles that meet them:
 * - anyone loading the page: no 401 in the console (the shell asks GET /api/v1/session, 200 either way);
 * - super_admin: navigation on one line at 1366 and 1280 px; creates an operator through the form
 *   (its `pattern` compiles under the v flag: no console error) and a user for it; the new operator's
 *   Account page says in one line how to reach a tier that can try the add-on; trial, activation, and
 *   Cancel asked for confirmation and not offered again after it;
 * - operator_admin of a new operator on the small tier: one line saying whom to ask.
 * Any page error, console error, CSP violation, HTTP error or "undefined/null/NaN" text fails the test.
 * Screenshots: test-output/screenshots/h1-*.png.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { createStack } from '../e2e/stack';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { expectedRefusals, login as logIn, SHOTS, shooter, watchPage } from './helpers/browser-harness';

// The hub's clock starts at the next full hour of real time: chromium's cookie jar runs on real time.
const START_MS = Math.ceil(Date.now() / 3600_000) * 3600_000;

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  const dir = stackDir(t);
  await mkdir(SHOTS, { recursive: true });
  const stack = await createStack(dir, { startMs: START_MS, operatorId: 'isp-h1', ipGroups: [{ name: 'cust-a', prefixes: ['10.1.0.0/16'] }] });
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(async () => { await browser.close(); await stack.close(); });
  const errors: string[] = [];
  /** Responses the flow expects to fail (none so far). */
  const expected = new Set<string>();

  async function newPage(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext({ viewport, timezoneId: 'Europe/Berlin' });
    await context.clock.install({ time: stack.clock.nowMs() });
    const page = await context.newPage();
    // Strict: not even GET /me's 401, and console warnings count too.
    await watchPage(page, errors, { tolerate: expectedRefusals(expected, false), strictConsole: true });
    return page;
  }

  const login = (page: Page, username: string, password: string) => logIn(page, stack.httpUrl, username, password, '#logout');

  const shot = shooter('h1', errors);

  /** Where the nav's links are: how many lines they take, whether their line overflows, the header's height. */
  async function navLayout(page: Page) {
    return page.evaluate(() => {
      const links = Array.from(document.querySelectorAll<HTMLElement>('#nav a'));
      const tops = new Set(links.map((a) => Math.round(a.getBoundingClientRect().top)));
      const header = document.querySelector('header.topbar')!.getBoundingClientRect();
      const nav = document.getElementById('nav')!;
      return { links: links.length, rows: tops.size, navScrollWidth: nav.scrollWidth, navWidth: nav.clientWidth, headerHeight: Math.round(header.height), scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth };
    });
  }

  t.test('logged out: the first load asks /api/v1/session (200) and logs no 401', async (t) => {
    const page = await newPage({ width: 1366, height: 768 });
    const session = page.waitForResponse((r) => r.url().endsWith('/api/v1/session'));
    await page.goto(`${stack.httpUrl}/`);
    t.equal((await session).status(), 200);
    await page.waitForSelector('#username');
    t.same(await (await session).json(), { principal: null, mustChangePassword: false });
    await shot(page, 'login');
    await page.context().close();
  });

  t.test('super_admin: the navigation stays on one line at 1366 and 1280 px', async (t) => {
    for (const viewport of [{ width: 1366, height: 768 }, { width: 1280, height: 900 }]) {
      const page = await newPage(viewport);
      await login(page, 'admin', 'admin-pw');
      await page.selectOption('#operator-select', 'isp-h1');
      await page.waitForSelector('#nav a[href="#/dashboard"]');
      await page.click('#nav a[href="#/account"]');
      await page.waitForSelector('#addons');
      const layout = await navLayout(page);
      t.ok(layout.links >= 10, `${viewport.width} px: every page linked (${layout.links})`);
      t.equal(layout.rows, 1, `${viewport.width} px: one row of links`);
      t.ok(layout.headerHeight <= 90, `${viewport.width} px: the header is two lines high at most, brand and session, then the pages (${layout.headerHeight} px)`);
      t.equal(layout.navScrollWidth, layout.navWidth, `${viewport.width} px: the pages' line fits without scrolling`);
      t.ok(layout.scrollWidth <= layout.width, `${viewport.width} px: no horizontal scrolling (${layout.scrollWidth})`);
      await shot(page, `nav-${viewport.width}`);
      await page.context().close();
    }
  });

  t.test('super_admin creates an operator and a user; the Account page says how to try the add-on; cancel asks and is not offered again', async (t) => {
    const page = await newPage({ width: 1366, height: 768 });
    await login(page, 'admin', 'admin-pw');
    await page.click('#nav a[href="#/admin/operators"]');
    await page.waitForSelector('#new-operator');
    // The id pattern follows the hub's rule (1-64 of A-Z a-z 0-9 _ -) and compiles under the v flag.
    t.equal(await page.$eval('#new-operator input[name=operatorId]', (i: HTMLInputElement) => { i.value = 'bad id!'; return i.checkValidity(); }), false, 'a space and "!" are refused in the browser');
    await page.fill('#new-operator input[name=operatorId]', 'New_ISP-2');
    t.equal(await page.$eval('#new-operator input[name=operatorId]', (i: HTMLInputElement) => i.checkValidity()), true, 'the hub\'s characters are accepted');
    await page.fill('#new-operator input[name=name]', 'New ISP');
    await page.click('#new-operator button[type=submit]');
    await page.waitForSelector('#operators-message .success');
    t.match(await page.textContent('#operators-message'), /New_ISP-2 created.*Small tier.*Account/);
    await page.selectOption('form:has(input[name=username]) select[name=operatorId]', 'New_ISP-2');
    await page.fill('form:has(input[name=username]) input[name=username]', 'newnoc');
    await page.fill('form:has(input[name=username]) input[name=password]', 'newnoc-pw-12345');
    await page.click('form:has(input[name=username]) button[type=submit]');
    await page.waitForFunction(() => /User newnoc created/.test(document.querySelector('#operators-message')?.textContent ?? ''));
    await shot(page, 'operator-created');

    await page.selectOption('#operator-select', 'New_ISP-2');
    await page.click('#nav a[href="#/account"]');
    await page.waitForSelector('#addon-ineligible-hint');
    t.match(await page.textContent('#addon-ineligible-hint'), /switch this operator from Small to Mid or Large/);
    await shot(page, 'account-new-operator');

    await page.click('#tiers tr:has-text("Mid") button');
    await page.waitForSelector('#addons [data-action="start-trial"]');
    t.notOk(await page.$('#addon-ineligible-hint'), 'the hint goes once the tier can run the add-on');
    await page.click('#addons [data-action="start-trial"]');
    await page.waitForSelector('#addons .badge:has-text("trial")');
    t.notOk(await page.$('#addons [data-action="cancel"]'), 'no Cancel during the trial: it ends by itself, never charged');

    await page.click('#addons [data-action="activate"]');
    await page.waitForSelector('#addons [data-action="cancel"]');
    const dialogs: string[] = [];
    page.once('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    await page.click('#addons [data-action="cancel"]');
    await page.waitForTimeout(300);
    t.match(dialogs[0], /^Cancel NetFlow Traffic Analysis\? It stays active until the end of the paid period/, 'asked first');
    t.ok(await page.$('#addons .badge:has-text("active")'), 'dismissed: still active');
    t.ok(await page.$('#addons [data-action="cancel"]'), 'and Cancel still offered');

    page.once('dialog', (d) => { void d.accept(); });
    await page.click('#addons [data-action="cancel"]');
    await page.waitForSelector('#addons .badge:has-text("not renewing")');
    t.notOk(await page.$('#addons [data-action="cancel"]'), 'Cancel is not offered again');
    t.ok(await page.$('#addons [data-action="enable-renewal"]'), 'Enable renewal is the way back');
    await shot(page, 'account-cancelled');
    await page.context().close();
  });

  t.test('operator_admin of a new operator on the small tier: one line saying whom to ask', async (t) => {
    await stack.api('POST', '/operators', { operatorId: 'small-isp', name: 'Small ISP' });
    await stack.api('POST', '/operators/small-isp/users', { username: 'smallnoc', password: 'smallnoc-pw-123', role: 'operator_admin' });
    const page = await newPage({ width: 1280, height: 900 });
    await login(page, 'smallnoc', 'smallnoc-pw-123');
    await page.click('#nav a[href="#/account"]');
    await page.waitForSelector('#addon-ineligible-hint');
    t.match(await page.textContent('#addon-ineligible-hint'), /needs a larger tier than Small: ask your flowbill provider \(super_admin\)/);
    await shot(page, 'account-small-operator');
    await page.context().close();
  });

  t.test('no page error, console error or warning, CSP violation, HTTP error or blank text', async (t) => {
    t.same(errors, []);
  });
}
