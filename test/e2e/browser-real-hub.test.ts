/**
 * The web UI in a real headless browser (Debian's chromium driven by playwright-core) against the
 * REAL hub of test/e2e/stack.ts (every module, LevelDB, embedded aedes) fed by a real edge: NetFlow
 * v9 datagrams → edge → MQTT → hub → HTTP → the pages. No stubs: what the pages show is what the
 * hub's routes really answer. Screenshots go to test-output/screenshots/real-*.png for a human.
 * Skips cleanly when /usr/bin/chromium is absent.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../../hub/http/security-headers';
import { createStack, waitFor } from './stack';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { mixedFlows, sendV9 } from './helpers/v9-traffic';
import { SHOTS, shooter, watchPage } from '../web/helpers/browser-harness';

const OP = 'isp-real';
// The hub's clock starts at the next full hour of real time: Chromium's cookie jar runs on real
// time, and a session cookie whose expiry the hub computed from a clock in the past would be
// dropped at once. The pages' clock is then set to the hub's, so "last 24 hours" covers the data.
const START_MS = Math.ceil(Date.now() / 3600_000) * 3600_000;
const GROUPS = [
  { name: 'cust-a', prefixes: ['10.1.0.0/16'] },
  { name: 'cust-b', prefixes: ['10.2.0.0/16'] },
];

/** Download-heavy flows for both groups over [fromMs, toMs): cust-a gets about 4x cust-b's traffic. */
const flows = (fromMs: number, toMs: number) => mixedFlows(fromMs, toMs, { count: 120, packetBase: 800, remotes: ['192.0.2.1', '198.51.100.7', '203.0.113.50'] });

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  const dir = stackDir(t);
  const stack = await createStack(dir, { startMs: START_MS, operatorId: OP, ipGroups: GROUPS });
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  const errors: string[] = [];

  t.teardown(async () => {
    await browser?.close();
    await stack.close();
  });

  t.before(async () => {
    await mkdir(SHOTS, { recursive: true });
    // Ten minutes of traffic, crossing a bucket boundary; the exporter sends it at +10 min.
    stack.clock.setMs(START_MS + 10 * 60_000);
    await sendV9(stack.udpPort, flows(START_MS + 60_000, START_MS + 9 * 60_000), START_MS + 10 * 60_000, START_MS - 86_400_000);
    await waitFor('flows decoded by the edge', async () => (stack.edge.status().counters.flowsDecoded >= 120 ? true : undefined), 10_000);
    // Close the buckets (5-minute buckets + 60 s grace) and wait until the hub's API has them.
    stack.clock.setMs(START_MS + 20 * 60_000);
    const from = START_MS / 1000 - 300;
    await waitFor('both groups stored on the hub', async () => {
      const [a, b] = await Promise.all([stack.subjectTotals('ipg:cust-a', from, from + 3600), stack.subjectTotals('ipg:cust-b', from, from + 3600)]);
      return a.bytesIn > 0 && b.bytesIn > 0 && stack.edge.status().counters.outboxDepth === 0 ? true : undefined;
    }, 30_000);

    await stack.api('POST', `/operators/${OP}/users`, { username: 'noc-admin', password: 'noc-admin-pw-1', role: 'operator_admin' });
    await stack.api('POST', `/operators/${OP}/bill-plans`, {
      name: 'Customer A 95th', billingPeriod: 'monthly', generationDay: 1, emails: 'billing@isp.example',
      currency: 'USD', baseSpeedBps: 100_000_000, baseCostMinor: 50_000, additionalSpeedBps: 10_000_000, additionalCostMinor: 4_000,
      percentileMethod: 'merge', subjectIds: ['ipg:cust-a'],
    });
    const { client } = await stack.api('POST', `/operators/${OP}/clients`, { clientId: 'client-b', name: 'Customer B Hosting' });
    const { service } = await stack.api('POST', `/operators/${OP}/services`, { serviceId: 'svc-b1', clientId: client.clientId, type: 'vps', label: 'VPS B1' });
    await stack.api('POST', `/operators/${OP}/access-records`, {
      serviceId: service.serviceId, username: 'cust-b-login', password: 'cust-b-secret', enabled: true,
      group: { kind: 'ip_group', value: 'cust-b' }, ipAddress: '10.2.0.10',
    });

    // A throwaway profile per context (playwright's launch makes a temp user-data-dir), so the
    // customer's context below shares no cookie with the operator's.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    context = await freshContext();
  });

  async function freshContext(): Promise<BrowserContext> {
    const ctx = await browser!.newContext({
      viewport: { width: 1280, height: 900 },
      timezoneId: 'America/New_York', // the UI must show UTC whatever the browser's zone
    });
    await ctx.clock.install({ time: stack.clock.nowMs() });
    return ctx;
  }

  async function newPage(ctx: BrowserContext): Promise<Page> {
    const page = await ctx.newPage();
    // A 401 from /me before login is expected; anything else failing to load is a bug. The hub's CSP
    // (hub/http/security-headers.ts): any violation is a console error, failing the last test.
    await watchPage(page, errors);
    page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
    return page;
  }

  async function login(page: Page, username: string, password: string): Promise<void> {
    const res = await page.goto(`${stack.httpUrl}/`);
    if (res?.headers()['content-security-policy'] !== CONTENT_SECURITY_POLICY) errors.push(`the page came without the hub's CSP: ${res?.headers()['content-security-policy']}`);
    await page.waitForSelector('#username');
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('#login-submit');
  }

  /** Screenshot for a human, and a check no page prints a JavaScript blank as text. */
  const shot = shooter('real', errors);

  t.test('operator admin created through the API logs in and sees the real hub\'s data', async (t) => {
    const page = await newPage(context!);
    await login(page, 'noc-admin', 'noc-admin-pw-1');

    await t.test('dashboard: both IP groups with non-zero rates', async (t) => {
      await page.waitForSelector('#top-table');
      await page.waitForSelector('#subject-chart canvas');
      const rows = await page.$$eval('#top-table tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
      const rowA = rows.find((r) => /cust-a/.test(r));
      const rowB = rows.find((r) => /cust-b/.test(r));
      t.ok(rowA, `cust-a listed (rows: ${rows.join(' | ')})`);
      t.ok(rowB, 'cust-b listed');
      t.match(rowA, /[1-9][\d.,]* (bps|kbps|Mbps|Gbps)/, 'cust-a has a non-zero rate');
      t.match(rowB, /[1-9][\d.,]* (bps|kbps|Mbps|Gbps)/, 'cust-b has a non-zero rate');
      t.ok(rows.indexOf(rowA!) < rows.indexOf(rowB!), 'the bigger group ranks first');
      t.match(await page.textContent('#totals'), /[1-9][\d.,]* (bps|kbps|Mbps|Gbps)/);
      t.match(await page.textContent('main'), /UTC/);
      t.notMatch(await page.textContent('#nav'), /Operators/, 'no super_admin pages for an operator admin');
      await shot(page, 'dashboard');
    });

    await t.test('sources: the edge is online and lists its exporter', async (t) => {
      await page.click('#nav a[href="#/sources"]');
      await page.waitForSelector('#edges-table');
      const rows = await page.$$eval('#edges-table tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
      t.equal(rows.length, 1, 'one edge enrolled');
      const edgeRow = rows[0];
      t.match(edgeRow, /e2e-edge/);
      t.match(edgeRow, /online/);
      const exporter = await page.waitForSelector('tr[data-exporter="127.0.0.1"]');
      t.match(await exporter.textContent(), /NetFlow v9/);
      t.match(await exporter.textContent(), /120/, '120 flows heard');
      await shot(page, 'sources');
    });

    await t.test('bill plans: the plan made through the API is listed with its subject', async (t) => {
      await page.click('#nav a[href="#/plans"]');
      await page.waitForSelector('#plans');
      await page.waitForFunction(() => /Customer A 95th/.test(document.querySelector('#plans')?.textContent ?? ''));
      const plans = await page.textContent('#plans');
      t.match(plans, /Customer A 95th/);
      t.match(plans, /ipg:cust-a/);
      t.match(plans, /500\.00 USD/);
      await shot(page, 'bill-plans');
      await page.click('#nav a[href="#/reports"]');
      await page.waitForSelector('#bills-table');
      t.match(await page.textContent('#bills'), /No bills yet/, 'no cycle has closed: no bills');
      await shot(page, 'reports');
    });

    await t.test('account: the add-on trial started by the stack shows its days left', async (t) => {
      await page.click('#nav a[href="#/account"]');
      await page.waitForSelector('#addons');
      const cells = await page.$$eval('#addons tr[data-addon="netflow"] td', (tds) => tds.map((td) => td.textContent ?? ''));
      const { subscription } = await stack.api('GET', `/operators/${OP}/subscription`);
      const { addon } = subscription as { addon: { status: string; daysLeft: number; trial: { endsAtMs: number } } };
      t.equal(addon.status, 'trial');
      t.ok(addon.daysLeft > 0, `the hub counts ${addon.daysLeft} days left`);
      t.ok(cells.some((c) => c.startsWith('trial')), `status cell reads trial (${cells.join(' | ')})`);
      t.ok(cells.includes(String(addon.daysLeft)), 'the days-left cell shows the hub\'s figure');
      const ends = new Date(addon.trial.endsAtMs).toISOString().slice(0, 16).replace('T', ' ');
      t.ok(cells.some((c) => c.includes(`trial ends ${ends} UTC`)), `trial end ${ends} UTC shown`);
      t.ok(await page.$('#addons button[data-action="activate"]'), 'can activate during the trial');
      t.equal(await page.$('#addons button[data-action="start-trial"]'), null, 'no second trial');
      await shot(page, 'account');
    });

    await t.test('customers: the client and its access record are listed', async (t) => {
      await page.click('#nav a[href="#/customers"]');
      await page.waitForSelector('#clients-table');
      t.match(await page.textContent('#clients-table'), /Customer B Hosting/);
      await page.waitForSelector('#records-table');
      t.match(await page.textContent('#records-table'), /cust-b-login[\s\S]*VPS B1/);
      await shot(page, 'customers');
    });

    await t.test('log out: a cookie POST through the CSRF guard ends the session', async (t) => {
      await page.click('#logout');
      await page.waitForSelector('#username');
      const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
      t.equal(me, 401, 'the session is gone (the page\'s fetch still sends the cookie, were it set)');
    });
    await page.close();
  });

  t.test('customer in a fresh browser context sees only their group\'s traffic', async (t) => {
    const fresh = await freshContext();
    const page = await newPage(fresh);
    const seen: string[] = [];
    page.on('request', (req) => { if (req.url().includes('/api/v1/')) seen.push(new URL(req.url()).pathname + new URL(req.url()).search); });
    await login(page, 'cust-b-login', 'cust-b-secret');
    await page.waitForSelector('#customer-chart canvas');
    const nav = await page.$$eval('#nav a', (as) => as.map((a) => a.textContent));
    t.same(nav, ['My traffic']);
    const options = await page.$$eval('#customer-subject option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    t.same(options, ['ipg:cust-b'], 'only the granted group is offered');
    t.match(await page.textContent('#customer-summary'), /Peak in[\s\S]*[1-9][\d.,]* (bps|kbps|Mbps|Gbps)/);
    await page.waitForSelector('#customer-services table');
    t.match(await page.textContent('#customer-services'), /VPS B1[\s\S]*vps[\s\S]*cust-b[\s\S]*10\.2\.0\.10/);
    t.notMatch(await page.innerText('body'), /cust-a/, 'nothing of the other group');
    t.notOk(seen.some((u) => /cust-a|\/operators\//.test(u)), `no operator or other-group requests (${seen.join(', ')})`);
    // The series the page drew is the hub's series for cust-b, not cust-a's.
    const from = START_MS / 1000 - 300;
    const b = await stack.subjectTotals('ipg:cust-b', from, from + 3600);
    const a = await stack.subjectTotals('ipg:cust-a', from, from + 3600);
    t.ok(a.bytesIn > b.bytesIn, 'the groups differ, so the check below means something');
    const drawnBytes = await page.evaluate(async ({ fromSec, toSec }) => {
      const res = await fetch(`/api/v1/customer/series?subjectId=ipg%3Acust-b&fromSec=${fromSec}&toSec=${toSec}`);
      const body = await res.json() as { points: { bytesIn: number }[] };
      return body.points.reduce((s, p) => s + Number(p.bytesIn), 0);
    }, { fromSec: from, toSec: from + 3600 });
    t.equal(drawnBytes, b.bytesIn, 'the customer\'s series equals the operator API\'s for cust-b');
    const forbidden = await page.evaluate(async ({ fromSec, toSec }) => (await fetch(`/api/v1/customer/series?subjectId=ipg%3Acust-a&fromSec=${fromSec}&toSec=${toSec}`)).status, { fromSec: from, toSec: from + 3600 });
    t.ok(forbidden === 403 || forbidden === 404, `another group's series is refused (${forbidden})`);
    errors.splice(0, errors.length, ...errors.filter((e) => !/customer\/series\?subjectId=ipg%3Acust-a/.test(e))); // that refusal was the point
    await shot(page, 'customer-view');
    await page.close();
    await fresh.close();
  });

  t.test('no script errors, failed requests or blanks in any page', async (t) => {
    t.same(errors, []);
  });
}
