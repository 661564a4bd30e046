/**
 * The login page's Organization field (issue 9) in a real headless browser (Debian's chromium via
 * playwright-core) against the real hub (every module). One name, "sam", with one password, is a
 * customer of isp-a and an operator user of isp-b: without an organization the hub refuses
 * (ORGANIZATION_REQUIRED) and the page shows the field; the customer's NetFlow link
 * (/customer?org=isp-a, as in the welcome mail) fills it in and keeps it hidden.
 * Skips cleanly when /usr/bin/chromium is absent.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { createHubModules } from '../../hub/hub-modules';
import { startTestHub } from '../hub/spine/hub-harness';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';

const SAM_PW = 'same-password-both-1';

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  // Chromium's cookie jar runs on real time: the hub's clock must not be in the past.
  const h = await startTestHub({ modules: createHubModules, nowMs: Math.ceil(Date.now() / 3600_000) * 3600_000, config: { dataDir: stackDir(t) } });
  let browser: Browser | undefined;
  t.teardown(async () => {
    await browser?.close();
    await h.close();
  });
  const must = async (res: Promise<{ status: number; body: any }>) => {
    const r = await res;
    if (r.status >= 300) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  for (const op of ['isp-a', 'isp-b']) await must(h.admin('POST', '/api/v1/operators', { operatorId: op, name: op }));
  await must(h.admin('POST', '/api/v1/operators/isp-a/clients', { clientId: 'sam', name: 'Sam' }));
  await must(h.admin('POST', '/api/v1/operators/isp-a/services', { serviceId: 'vps-sam', clientId: 'sam', type: 'vps', label: 'VPS' }));
  const record = (await must(h.admin('POST', '/api/v1/operators/isp-a/access-records', { serviceId: 'vps-sam', username: 'sam', password: SAM_PW, group: { kind: 'ip_group', value: 'sam' } }))).record;
  await must(h.admin('POST', '/api/v1/operators/isp-b/users', { username: 'sam', password: SAM_PW, role: 'operator_admin' }));
  const netflowUrl = (await must(h.admin('GET', '/api/v1/operators/isp-a/access-records'))).records.find((r: { recordId: string }) => r.recordId === record.recordId).effectiveNetflowUrl as string;

  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: CHROMIUM_ARGS,
  });
  const errors: string[] = [];
  async function newPage(): Promise<Page> {
    const page = await (await browser!.newContext()).newPage(); // a fresh cookie jar each time
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(`console: ${msg.text()}`); });
    return page;
  }
  const bodyOf = (page: Page) => page.waitForResponse((r) => r.url().endsWith('/api/v1/login')).then((r) => r.request().postDataJSON());

  t.test("the customer's NetFlow link: organization filled in and hidden; the customer view opens", async (t) => {
    t.match(netflowUrl, /\/customer\?org=isp-a$/);
    const page = await newPage();
    await page.goto(netflowUrl.replace(/^http:\/\/127\.0\.0\.1:\d+/, h.httpUrl));
    await page.waitForSelector('#username');
    t.equal(await page.inputValue('#organization'), 'isp-a');
    t.notOk(await page.isVisible('#organization-label'), 'the field is out of the way');
    await page.fill('#username', 'sam');
    await page.fill('#password', SAM_PW);
    const sent = bodyOf(page);
    await page.click('#login-submit');
    t.same(await sent, { username: 'sam', password: SAM_PW, operatorId: 'isp-a' });
    await page.waitForSelector('#view[data-page="customer-view"]');
  });

  t.test('without one: the hub asks for the organization, the field appears, and it decides', async (t) => {
    const page = await newPage();
    await page.goto(`${h.httpUrl}/`);
    await page.waitForSelector('#username');
    t.ok(await page.isVisible('#organization-label'), 'optional field shown on the plain login page');
    await page.fill('#username', 'sam');
    await page.fill('#password', SAM_PW);
    const sent = bodyOf(page);
    await page.click('#login-submit');
    t.same(await sent, { username: 'sam', password: SAM_PW }, 'an empty organization is not sent');
    const msg = await page.waitForSelector('#login-message .notice.error');
    t.match(await msg.textContent(), /organization/i);
    await page.fill('#organization', 'isp-b');
    await page.click('#login-submit');
    await page.waitForSelector('#view[data-page="dashboard"]');
    t.same(errors, [], 'no page errors');
  });
}
