/**
 * Issue 11's editors in headless chromium against the REAL hub (test/e2e/stack.ts: every module,
 * LevelDB, embedded broker): users and roles, read-only MQTT consumers, access records (edit with the
 * subject picker, welcome mail preview and send, delete) and bill plans (edit with errors next to
 * their field), each driven as operator_admin; then operator_readonly sees no write control and the
 * API refuses its writes. Screenshots: test-output/screenshots/h3-*.png.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createStack } from '../e2e/stack';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { login as logIn, SHOTS, shooter, watchPage } from './helpers/browser-harness';

const OP = 'isp-h3';
// Real time's next hour: chromium's cookie jar runs on real time (see browser-real-hub.test.ts).
const START_MS = Math.ceil(Date.now() / 3600_000) * 3600_000;

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  const dir = stackDir(t);
  const stack = await createStack(dir, { startMs: START_MS, operatorId: OP, ipGroups: [{ name: 'cust-a', prefixes: ['10.1.0.0/16'] }, { name: 'cust-b', prefixes: ['10.2.0.0/16'] }] });
  let browser: Browser | undefined;
  const errors: string[] = [];
  let recordId = '';

  t.teardown(async () => {
    await browser?.close();
    await stack.close();
  });

  t.before(async () => {
    await mkdir(SHOTS, { recursive: true });
    for (const [username, role] of [['h3-admin', 'operator_admin'], ['h3-noc', 'operator_readonly'], ['h3-viewer', 'operator_readonly']]) {
      await stack.api('POST', `/operators/${OP}/users`, { username, password: `${username}-pw-1`, role });
    }
    await stack.api('POST', `/operators/${OP}/bill-plans`, {
      name: 'Transit 95th', billingPeriod: 'monthly', generationDay: 1, emails: 'billing@isp.example',
      currency: 'USD', baseSpeedBps: 100_000_000, baseCostMinor: 50_000, additionalSpeedBps: 10_000_000, additionalCostMinor: 4_000,
      percentileMethod: 'merge', subjectIds: [],
    });
    const { client } = await stack.api('POST', `/operators/${OP}/clients`, { clientId: 'client-b', name: 'Customer B Hosting', email: 'ops@customer-b.example' });
    const { service } = await stack.api('POST', `/operators/${OP}/services`, { serviceId: 'svc-b1', clientId: client.clientId, type: 'vps', label: 'VPS B1' });
    const { record } = await stack.api('POST', `/operators/${OP}/access-records`, {
      serviceId: service.serviceId, username: 'cust-b-login', password: 'cust-b-secret', enabled: true, group: { kind: 'ip_group', value: 'cust-b' },
    });
    recordId = record.recordId;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  async function newPage(viewport: { width: number; height: number }): Promise<Page> {
    const ctx = await browser!.newContext({ viewport });
    const page = await ctx.newPage();
    // The editors' refusals (field errors) are answered on purpose: no response counts as an error here.
    await watchPage(page, errors, { tolerate: () => true });
    page.on('dialog', (d) => void d.accept());
    return page;
  }

  const login = (page: Page, username: string, password: string) => logIn(page, stack.httpUrl, username, password, '#nav a');

  const shot = shooter('h3', errors);
  const text = async (page: Page, sel: string) => (await page.textContent(sel)) ?? '';

  t.test('operator_admin: users, consumers, access records, bill plans', async (t) => {
    const page = await newPage({ width: 1366, height: 768 });
    await login(page, 'h3-admin', 'h3-admin-pw-1');

    await t.test('users: add, reset to a one-time password, disable; not yourself', async (t) => {
      await page.click('#nav a[href="#/users"]');
      await page.waitForSelector('#users-table');
      t.match(await text(page, 'tr[data-user="h3-admin"]'), /you/, 'no actions on yourself');
      await page.fill('#new-user input[name=username]', 'night-shift');
      await page.fill('#new-user input[name=password]', 'night-pw-1');
      await page.selectOption('#new-user select[name=role]', 'operator_readonly');
      await page.click('#new-user button[type=submit]');
      await page.waitForSelector('tr[data-user="night-shift"]');
      t.match(await text(page, 'tr[data-user="night-shift"]'), /operator readonly/);

      await page.click('tr[data-user="night-shift"] button[data-action=reset]');
      await page.waitForSelector('#one-time-password');
      const otp = (await text(page, '#one-time-password code')).trim();
      t.ok(otp.length >= 12, 'the one-time password is shown');
      t.match(await text(page, '#one-time-password'), /must change it at next login/);
      await page.waitForFunction(() => /must change password/.test(document.querySelector('tr[data-user="night-shift"]')?.textContent ?? ''));
      const res = await fetch(`${stack.httpUrl}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'night-shift', password: otp }) });
      t.equal(res.status, 200, 'the one-time password logs in');

      await page.click('tr[data-user="h3-noc"] button[data-action=disable]');
      await page.waitForFunction(() => /disabled/.test(document.querySelector('tr[data-user="h3-noc"]')?.textContent ?? ''));
      t.match(await text(page, '#users-message'), /h3-noc disabled/);
      const refused = await fetch(`${stack.httpUrl}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'h3-noc', password: 'h3-noc-pw-1' }) });
      t.equal(refused.status, 401, 'the disabled user cannot log in');
      await shot(page, 'users');
    });

    await t.test('consumers: create shows the password once, revoke', async (t) => {
      await page.fill('#new-consumer input[name=name]', 'billing export');
      await page.click('#new-consumer button[type=submit]');
      await page.waitForSelector('#consumer-credentials');
      t.ok(((await text(page, '#consumer-password')).trim()).length >= 16, 'password shown');
      t.match(await text(page, '#consumer-credentials'), new RegExp(`flowbill/v1/${OP}/\\+/stored`));
      await page.waitForSelector('#consumers-table');
      t.match(await text(page, '#consumers-table'), /billing export/);
      await shot(page, 'consumers-created');
      await page.click('#consumers-table button[data-revoke]');
      await page.waitForSelector('#consumers .empty');
      t.match(await text(page, '#consumers-message'), /billing export revoked/);
      t.same((await stack.api('GET', `/operators/${OP}/consumers`)).consumers, [], 'gone on the hub');
    });

    await t.test('access record: edit with the subject picker, welcome mail preview and send, delete', async (t) => {
      await page.click('#nav a[href="#/customers"]');
      await page.click('#clients-table a');
      await page.waitForSelector(`tr[data-record="${recordId}"]`);
      await page.click(`tr[data-record="${recordId}"] button[data-action=edit]`);
      await page.waitForSelector('#edit-record');
      t.same(await page.$$eval('#edit-record select[name=groupValue] option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['', 'cust-a', 'cust-b'], 'IP groups to pick from');
      t.equal(await page.$eval('#edit-record select[name=groupValue]', (s) => (s as HTMLSelectElement).value), 'cust-b', 'the current group is selected');
      await page.selectOption('#edit-record select[name=groupValue]', 'cust-a');
      await page.fill('#edit-record input[name=ipAddress]', '10.1.999.1');
      await page.click('#edit-record button[type=submit]');
      await page.waitForSelector('#edit-record .field-error[data-field=ipAddress]');
      t.ok(await page.isVisible('#edit-record .field-error[data-field=ipAddress]'), 'a bad address is refused next to its field');
      await shot(page, 'record-field-error');
      await page.fill('#edit-record input[name=ipAddress]', '10.1.0.0/24');
      await page.click('#edit-record button[type=submit]');
      await page.waitForFunction((id) => /cust-a/.test(document.querySelector(`tr[data-record="${id}"]`)?.textContent ?? ''), recordId);
      t.match(await text(page, '#customer-message'), /saved/);
      const row = await text(page, `tr[data-record="${recordId}"]`);
      t.match(row, /ip group: cust-a/);
      t.match(row, /10\.1\.0\.0\/24/);

      await page.click(`tr[data-record="${recordId}"] button[data-action=welcome]`);
      await page.waitForSelector('#welcome-text');
      t.match(await text(page, '#welcome-preview'), /ops@customer-b\.example/);
      t.match(await text(page, '#welcome-text'), /cust-b-login/, 'merge fields filled: the login');
      t.match(await text(page, '#welcome-text'), /VPS B1/, 'merge fields filled: the service');
      t.notMatch(await text(page, '#welcome-text'), /\{\$/, 'no merge field left unfilled');
      await shot(page, 'welcome-preview');
      await page.click('#send-welcome');
      await page.waitForFunction(() => /Welcome mail sent to ops@customer-b\.example/.test(document.querySelector('#customer-message')?.textContent ?? ''));
      const outbox = await readdir(path.join(dir, 'hub', 'mail-outbox'), { recursive: true }).catch(() => [] as string[]);
      t.ok(outbox.some((f) => String(f).endsWith('.eml')), `the mail is in the hub's outbox (${outbox.join(', ')})`);

      await page.click(`tr[data-record="${recordId}"] button[data-action=delete]`);
      await page.waitForSelector('p#records-table.empty');
      t.match(await text(page, '#customer-message'), /deleted/);
      t.same((await stack.api('GET', `/operators/${OP}/access-records`)).records, [], 'deleted on the hub');
      await page.waitForSelector('#new-record select[name=groupValue]');
      await shot(page, 'customer-detail');
    });

    await t.test('bill plan: edit name, e-mails and tariff; a bad e-mail shows next to its field', async (t) => {
      await page.click('#nav a[href="#/plans"]');
      await page.waitForSelector('button[data-edit-plan]');
      await page.click('button[data-edit-plan]');
      await page.waitForSelector('#edit-plan');
      t.equal(await page.inputValue('#edit-plan input[name=baseCost]'), '500.00', 'the tariff as it is');
      await page.fill('#edit-plan input[name=name]', 'Transit 95th (2027)');
      await page.fill('#edit-plan input[name=emails]', 'billing@isp.example, not-an-address');
      await page.fill('#edit-plan input[name=baseCost]', '550');
      await page.click('#edit-plan button[type=submit]');
      await page.waitForSelector('#edit-plan .field-error[data-field=emails]');
      t.match(await text(page, '#edit-plan .field-error[data-field=emails]'), /not-an-address/);
      await page.fill('#edit-plan input[name=baseSpeed]', 'fast');
      await page.click('#edit-plan button[type=submit]');
      await page.waitForSelector('#edit-plan .field-error[data-field=baseSpeed]');
      await shot(page, 'plan-field-errors');
      await page.fill('#edit-plan input[name=baseSpeed]', '100');
      await page.fill('#edit-plan input[name=emails]', 'billing@isp.example, noc@isp.example');
      await page.click('#edit-plan button[type=submit]');
      await page.waitForFunction(() => /550\.00 USD/.test(document.querySelector('#plans')?.textContent ?? ''));
      t.match(await text(page, '#plans-message'), /saved/);
      const { plans } = await stack.api('GET', `/operators/${OP}/bill-plans`);
      t.equal(plans[0].name, 'Transit 95th (2027)');
      t.same(plans[0].emails, ['billing@isp.example', 'noc@isp.example']);
      t.equal(plans[0].tariffs.at(-1).baseCostMinor, 55_000, 'the new tariff');
      t.match(await text(page, '#plans'), /550\.00 USD/);
      await shot(page, 'bill-plans');
    });
    await page.context().close();
  });

  t.test('operator_readonly: no write controls, and the API refuses its writes', async (t) => {
    const page = await newPage({ width: 1280, height: 900 });
    await login(page, 'h3-viewer', 'h3-viewer-pw-1');
    await page.click('#nav a[href="#/users"]');
    await page.waitForSelector('#users-table');
    await page.waitForSelector('#consumers .empty, #consumers-table');
    t.equal(await page.locator('#new-user, #new-consumer, #users-table button, #consumers-table button').count(), 0, 'users page: lists only');
    await shot(page, 'users-readonly');
    await page.click('#nav a[href="#/plans"]');
    await page.waitForSelector('#plans section');
    t.equal(await page.locator('button[data-edit-plan], #new-plan').count(), 0, 'plans: no edit, no create');
    await page.click('#nav a[href="#/customers"]');
    await page.click('#clients-table a');
    await page.waitForSelector('#services-table');
    t.equal(await page.locator('#new-record, button[data-action]').count(), 0, 'customer: no record controls');

    const users = (await stack.api('GET', `/operators/${OP}/users`)).users as { userId: string; username: string }[];
    const admin = users.find((u) => u.username === 'h3-admin')!;
    // The browser context's own cookie (page.request shares it), with the page's Origin as the CSRF guard wants.
    const call = async (method: string, p: string, data?: unknown) => (await page.request.fetch(`${stack.httpUrl}/api/v1/operators/${OP}${p}`, {
      method, headers: { origin: stack.httpUrl, 'content-type': 'application/json' }, data: data === undefined ? undefined : JSON.stringify(data),
    })).status();
    t.equal(await call('GET', '/users'), 200, 'the session reads');
    const statuses = [
      await call('POST', '/users', { username: 'sneaky', password: 'sneaky-pw', role: 'operator_admin' }),
      await call('PATCH', `/users/${admin.userId}`, { enabled: false }),
      await call('POST', `/users/${admin.userId}/password`),
      await call('POST', '/consumers', { name: 'x' }),
      await call('PATCH', '/bill-plans/nope', { name: 'x' }),
      await call('POST', '/clients', { name: 'x' }),
    ];
    t.same(statuses, [403, 403, 403, 403, 403, 403], 'every write refused with 403');
    await page.context().close();
  });

  t.test('no page errors, console errors, CSP violations or blank values', async (t) => {
    t.same(errors, []);
  });
}
