/**
 * The web UI's main flows in a real headless browser (Debian's chromium driven by playwright-core)
 * against the stub hub (test/web/stub-hub.ts). Screenshots go to test-output/screenshots/ for a
 * human to look at. Skips cleanly when /usr/bin/chromium is absent.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../../hub/http/security-headers';
import { NOW_MS, startStubHub, type StubHub } from './stub-hub';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';

const SHOTS = path.resolve('test-output/screenshots');

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  let hub: StubHub;
  let context: BrowserContext;
  let userDataDir: string;
  const errors: string[] = [];

  t.before(async () => {
    await mkdir(SHOTS, { recursive: true });
    hub = await startStubHub();
    userDataDir = await mkdtemp(path.join(os.tmpdir(), 'flowbill-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timezoneId: 'Asia/Tokyo', // the UI must show UTC whatever the browser's zone
    });
    // The page's clock starts at the stub's "now" and runs; tests advance it to see refreshes.
    await context.clock.install({ time: NOW_MS });
  });

  t.teardown(async () => {
    await context?.close();
    await hub?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    // A 401 from /me before login is expected; anything else failing to load is a bug.
    page.on('response', (res) => { if (res.status() >= 400 && !(res.status() === 401 && res.url().endsWith('/api/v1/me'))) errors.push(`HTTP ${res.status()} ${res.url()}`); });
    page.on('console', (msg) => { if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(`console: ${msg.text()}`); });
    // The stub serves the hub's CSP (hub/http/security-headers.ts): a violation is a console error too.
    await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`)));
    return page;
  }

  async function login(page: Page, username: string, password: string): Promise<void> {
    await context.clearCookies(); // one browser profile for all tests: start each login logged out
    await page.goto(`${hub.url}/`);
    await page.waitForSelector('#username');
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('#login-submit');
  }

  /** Screenshot for a human, and a check no page prints a JavaScript blank as text. */
  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    const text = await page.innerText('body');
    const blank = /\b(null|undefined|NaN|\[object Object\])\b/.exec(text);
    if (blank) errors.push(`${name}: page shows "${blank[0]}"`);
  }

  t.test('the pages run under the hub\'s Content-Security-Policy, and a violation would be caught', async (t) => {
    const page = await newPage();
    const res = await page.goto(`${hub.url}/`);
    t.equal(res?.headers()['content-security-policy'], CONTENT_SECURITY_POLICY);
    t.equal(res?.headers()['x-frame-options'], 'DENY');
    await page.waitForSelector('#username');
    // Controls: an inline script and a style attribute are blocked and reported, so the final "no
    // errors" check would see a page that needs either.
    const before = errors.length;
    const reported = page.waitForEvent('console', { predicate: (m) => /CSP violation: style-src/.test(m.text()) });
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.inlineScriptRan = true';
      document.head.append(s);
      document.body.setAttribute('style', 'background: red');
    });
    await reported;
    t.equal(await page.evaluate(() => (window as unknown as { inlineScriptRan?: boolean }).inlineScriptRan), undefined, 'the inline script did not run');
    t.not(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(255, 0, 0)', 'the style attribute was not applied');
    const caught = errors.splice(before);
    t.ok(caught.some((e) => /CSP violation: script-src/.test(e)), `inline script reported (${caught.join(' | ')})`);
    t.ok(caught.some((e) => /CSP violation: style-src/.test(e)), 'style attribute reported');
    await page.close();
  });

  t.test('a wrong password shows the hub\'s error on the login page', async (t) => {
    const page = await newPage();
    await login(page, 'alice', 'nope');
    const msg = await page.waitForSelector('#login-message .notice.error');
    errors.splice(0); // the 401 of the wrong password is the point of this test
    t.match(await msg.textContent(), /INVALID_CREDENTIALS: wrong username or password/);
    await shot(page, 'login-error');
    await page.close();
  });

  t.test('operator admin: login → dashboard, sources, live flows, reports → bill, add-on trial', async (t) => {
    const page = await newPage();
    await login(page, 'alice', 'alice-pw');

    await t.test('dashboard shows totals, top subjects and a chart', async (t) => {
      await page.waitForSelector('#top-table');
      await page.waitForSelector('#subject-chart canvas');
      const rows = await page.$$eval('#top-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
      t.equal(rows.length, 4);
      t.match(rows[0], /Transit A/);
      t.match(await page.textContent('#totals'), /Busiest: Transit A[^,]*, in[\s\S]*(kbps|Mbps|Gbps)[\s\S]*average over/);
      t.match(await page.textContent('#nav'), /Dashboard.*Sources.*Live flows.*Reports.*Account/);
      t.notMatch(await page.textContent('#nav'), /Operators/, 'no super_admin pages for an operator admin');
      t.match(await page.textContent('main'), /UTC/);
      await shot(page, 'dashboard');
    });

    await t.test('sources show edges, exporters, gaps, templates and online/offline', async (t) => {
      await page.click('#nav a[href="#/sources"]');
      await page.waitForSelector('#edges-table');
      const fra = await page.textContent('#edges-table tr[data-edge="edge-fra-1"]');
      const ams = await page.textContent('#edges-table tr[data-edge="edge-ams-2"]');
      t.match(fra, /online/);
      t.match(fra, /37/, 'sequence gaps');
      t.match(ams, /offline/);
      t.match(ams, /3 h ago/);
      const cell = (edge: string, label: string) => page.textContent(`#edges-table tr[data-edge="${edge}"] td[data-label="${label}"]`);
      t.equal(await cell('edge-fra-1', 'Rejected batches'), '2', 'batches the hub REJECTED, from the edge heartbeat');
      t.ok(await page.$('#edges-table tr[data-edge="edge-fra-1"] td[data-label="Rejected batches"] .badge'), 'shown as an alarm');
      t.equal(await cell('edge-fra-1', 'Refused flows'), '1,204');
      t.equal(await cell('edge-fra-1', 'Evictions'), '3');
      t.equal(await cell('edge-ams-2', 'Rejected batches'), '0');
      t.match(await page.textContent('tr[data-exporter="192.0.2.1"]'), /NetFlow v9[\s\S]*1:1000/);
      t.match(await page.textContent('tr[data-exporter="198.51.100.9"]'), /IPFIX[\s\S]*none yet/, 'IPFIX exporter without templates is flagged');
      t.match(await page.textContent('tr[data-exporter="203.0.113.5"]'), /n\/a \(v5\)/);
      t.match(await page.textContent('tr[data-exporter="192.0.2.1"]'), /—/, 'no rate from a single status');
      await page.clock.runFor(15_100);
      await page.waitForFunction(() => /100\.0 Mbps/.test(document.querySelector('tr[data-exporter="192.0.2.1"]')?.textContent ?? ''));
      t.pass('rate from two successive statuses: 125 MB in 10 s = 100.0 Mbps');
      await page.click('#enrollment-token');
      t.equal(await (await page.waitForSelector('#enrollment-token-value')).textContent(), 'fbe_stub-token-123');
      t.match(await page.textContent('#sources-message'), /valid until 2026-11-24 12:00 UTC/);
      await shot(page, 'sources');
    });

    await t.test('live flows refresh every few seconds', async (t) => {
      await page.click('#nav a[href="#/live"]');
      await page.waitForSelector('#talkers tbody tr');
      t.equal(await page.getAttribute('#live-updated', 'data-refreshes'), '1');
      const first = await page.textContent('#talkers tbody tr:first-child');
      t.match(first, /198\.51\.100\.10:443/);
      t.match(await page.textContent('#talkers'), /\[2001:db8::42\]:50000/, 'IPv6 endpoints are bracketed');
      t.match(await page.textContent('#live-sampling'), /about 1 in 32 flow records .*billing counts every record/, 'a sampling edge says its talkers are estimates');
      const before = hub.calls.get('/api/v1/operators/isp-one/live-flows') ?? 0;
      await page.clock.runFor(3100);
      await page.waitForFunction(() => document.querySelector('#live-updated')?.getAttribute('data-refreshes') === '2');
      t.ok((hub.calls.get('/api/v1/operators/isp-one/live-flows') ?? 0) > before, 'polled the API again');
      t.not(await page.textContent('#talkers tbody tr:first-child'), first, 'the top row shows the new rate');
      await shot(page, 'live-flows');
      await page.clock.runFor(3100);
      await page.waitForFunction(() => document.querySelector('#live-updated')?.getAttribute('data-refreshes') === '3');
    });

    await t.test('reports list bills most recent first; details draw the graph with the 95th line and the data points', async (t) => {
      const calls = hub.calls.get('/api/v1/operators/isp-one/live-flows');
      await page.click('#nav a[href="#/reports"]');
      await page.waitForSelector('#bills-table');
      await page.clock.runFor(10_000);
      t.equal(hub.calls.get('/api/v1/operators/isp-one/live-flows'), calls, 'leaving the page stopped the live refresh');
      const bills = await page.$$eval('#bills-table tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
      // Reports show the viewer's local time with the zone named (issue 11): the cycles start 00:00 UTC = 09:00 in Tokyo.
      t.match(bills[0], /#7[\s\S]*2026-10-01 09:00 – 2026-11-01 09:00/, 'October (newest) first');
      t.match(bills[1], /#3[\s\S]*2026-09-01 09:00 – 2026-10-01 09:00/);
      t.match(await page.textContent('#bills-table thead'), /Period \(Asia\/Tokyo\)/);
      t.match(await page.textContent('#preview-table'), /ipg:hosting-dc1[\s\S]*112.0 Mbps[\s\S]*6,498 of 6,500 slots/);
      t.match(await page.textContent('#bill-run-line'), /1 of 1 bills done/);
      t.match(await page.textContent('#bill-run-line'), /on hub-2[\s\S]*last checked 2026-11-01 10:20 \(Asia\/Tokyo\) on hub-3, nothing more due/, 'the hub that ran it, and the later empty check (issue 10)');
      t.match(bills[0], /USD/);
      await shot(page, 'reports');

      await page.click('a.bill-link[href="#/reports/7"]');
      await page.waitForSelector('#bill-chart canvas');
      await page.waitForFunction(() => Number((document.querySelector('#bill-chart .chart') as HTMLElement | null)?.dataset.referenceLinesDrawn) >= 1);
      t.match(await page.textContent('#bill-figures'), /8,928 five-minute slots; 8,928 ranked, top 446 discarded/);
      t.match(await page.textContent('#bill-amount'), /^\d{1,3}(,\d{3})*\.\d{2} USD$/);
      t.match(await page.textContent('#bill-p95'), /Mbps/);
      t.equal(await page.getAttribute('#bill-pdf', 'href'), '/api/v1/operators/isp-one/bills/7/pdf');
      t.equal(await page.getAttribute('#bill-csv', 'href'), '/api/v1/operators/isp-one/bills/7/data-points.csv');
      t.equal(await page.getAttribute('#bill-summary-csv', 'href'), '/api/v1/operators/isp-one/bills/7/summary.csv');
      t.match(await page.textContent('#bill-coverage'), /^8,916 of 8,928 slots with data, 12 without \(counted as zero\): 99\.86 %$/);
      t.match(await page.textContent('#bill-explanation'), /The other 12 slots had no report and count as zero traffic\./);
      const points = await page.$$eval('#points-table tbody tr', (trs) => trs.length);
      t.equal(points, 288, 'first day of data points');
      t.match(await page.textContent('#points-table tbody tr:first-child'), /2026-10-01 00:00 UTC/);
      t.match(await page.textContent('#points-page'), /page 1 of 31 \(8,928 points\)/);
      await page.click('#points-next');
      await page.waitForFunction(() => /page 2 of 31/.test(document.querySelector('#points-page')?.textContent ?? ''));
      t.match(await page.textContent('#points-table tbody tr:first-child'), /2026-10-02 00:00 UTC/);
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, 'bill-details');
    });

    await t.test('account: start the add-on trial and see the days left', async (t) => {
      await page.click('#nav a[href="#/account"]');
      await page.waitForSelector('#addons');
      t.match(await page.textContent('#addons'), /not started/);
      await page.click('#addons button[data-action="start-trial"]');
      await page.waitForSelector('#account-message .notice.success');
      const row = await page.textContent('#addons tr[data-addon="netflow"]');
      t.match(row, /trial/);
      t.match(row, /trial ends 2026-12-08 12:00 UTC/);
      t.match(row, /15/);
      t.equal(await page.$('#addons button[data-action="start-trial"]'), null, 'no second trial');
      t.ok(await page.$('#addons button[data-action="activate"]'), 'can activate during the trial');
      t.match(await page.textContent('#subscription'), /Mid[\s\S]*299\.00 USD/);
      await shot(page, 'account-trial');
    });

    await t.test('invoices list with amounts from minor units', async (t) => {
      await page.click('#nav a[href="#/invoices"]');
      await page.waitForSelector('#invoices-table');
      t.match(await page.textContent('#invoices-table'), /INV-000004[\s\S]*299\.00 USD/);
      await shot(page, 'invoices');
    });

    await t.test('bill plans show tariffs and subjects; customers list their access records', async (t) => {
      await page.click('#nav a[href="#/plans"]');
      await page.waitForSelector('#new-plan');
      const plans = await page.textContent('#plans');
      t.match(plans, /Hosting DC1 burst[\s\S]*500\.00 USD up to 100\.0 Mbps, then 40\.00 USD per 10\.00 Mbps/);
      t.match(plans, /ipg:hosting-dc1/);
      await shot(page, 'bill-plans');
      await page.click('#nav a[href="#/customers"]');
      await page.waitForSelector('#clients-table');
      t.match(await page.textContent('#clients-table'), /Example Hosting Ltd/);
      t.match(await page.textContent('#records-table'), /cust-7[\s\S]*VPS 42[\s\S]*enabled/);
      await page.click('#clients-table a');
      await page.waitForSelector('#services-table');
      t.match(await page.textContent('#services-table'), /VPS 42[\s\S]*vps/);
      await shot(page, 'customer-detail');
    });

    await t.test('log out returns to the login page', async (t) => {
      await page.click('#logout');
      await page.waitForSelector('#username');
      t.equal(await page.textContent('#nav'), '');
    });
    await page.close();
  });

  t.test('customer login sees only the customer view', async (t) => {
    const page = await newPage();
    await login(page, 'cust-7', 'cust-pw');
    await page.waitForSelector('#customer-chart canvas');
    const nav = await page.$$eval('#nav a', (as) => as.map((a) => a.textContent));
    t.same(nav, ['My traffic']);
    t.match(await page.textContent('#customer-subject'), /VPS 42/);
    t.match(await page.textContent('#customer-summary'), /Peak in[\s\S]*(kbps|Mbps)/);
    await page.waitForSelector('#customer-services table');
    t.match(await page.textContent('#customer-services'), /VPS 42[\s\S]*vps[\s\S]*IP group cust-7-vps[\s\S]*203\.0\.113\.42/);
    await shot(page, 'customer-view');
    // Typing an operator page's address leads back to the customer's own view.
    await page.goto(`${hub.url}/#/sources`);
    await page.waitForSelector('#customer-chart canvas');
    t.equal(await page.evaluate(() => location.hash), '#/my');
    t.equal(hub.calls.get('/api/v1/operators/isp-one/edges') !== undefined && false, false);
    await page.close();
  });

  t.test('super_admin: operators and add-on visibility pages, operator picked in the header', async (t) => {
    const page = await newPage();
    await login(page, 'root', 'root-pw');
    await page.waitForSelector('#top-table');
    t.equal(await page.inputValue('#operator-select'), 'isp-one', 'the only operator is picked');
    t.match(await page.textContent('#nav'), /Operators.*Add-on visibility/);
    await page.click('#nav a[href="#/admin/operators"]');
    await page.waitForSelector('#operators-table');
    t.match(await page.textContent('#operators-table'), /isp-one[\s\S]*ISP One/);
    await page.waitForSelector('#hub-counters');
    t.match(await page.textContent('#hub-health'), /connected[\s\S]*batchesStored[\s\S]*8,800/);
    await shot(page, 'admin-operators');
    await page.click('#nav a[href="#/admin/addons"]');
    await page.waitForSelector('#visibility-table');
    t.match(await page.textContent('#visibility-table'), /offered/);
    await page.click('#visibility-table button[data-operator="isp-one"]');
    await page.waitForSelector('#addons-message .notice.success');
    await page.waitForFunction(() => /hidden/.test(document.querySelector('#visibility-table')?.textContent ?? ''));
    t.pass('hidden after the click');
    await shot(page, 'admin-addons');
    await page.click('#nav a[href="#/account"]');
    await page.waitForSelector('#addons');
    t.match(await page.textContent('#addons'), /not offered to this operator/);
    t.equal(await page.$('#addons button[data-action]'), null, 'no add-on actions while hidden');
    t.match(await page.textContent('#tiers'), /Small[\s\S]*99\.00 USD[\s\S]*Large[\s\S]*no limit/, 'super_admin sees the tiers to switch to');
    await shot(page, 'account-super-admin');
    await page.close();
  });

  t.test('narrow screen: tables stack and stay readable', async (t) => {
    const page = await newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await login(page, 'alice', 'alice-pw');
    await page.waitForSelector('#top-table');
    await page.click('#nav a[href="#/sources"]');
    await page.waitForSelector('#edges-table');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    t.ok(overflow <= 1, `no horizontal scrolling (overflow ${overflow}px)`);
    await shot(page, 'sources-narrow');
    await page.close();
  });

  t.test('no script errors in any page', async (t) => {
    t.same(errors, []);
  });
}
