/**
 * The Invoices page in a real headless browser (Debian's chromium driven by playwright-core) against
 * a REAL hub (test/hub/spine/hub-harness.ts, every module): the super_admin records a payment, issues
 * a partial and then a full credit note, sees the hub's refusal of an overpayment; a read-only operator
 * user sees status, amount due, credit notes and PDF links and no forms. Screenshots:
 * test-output/screenshots/invoices-*.png. Skips cleanly when /usr/bin/chromium is absent.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createHubModules } from '../../hub/hub-modules';
import { startTestHub } from '../hub/spine/hub-harness';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { expectedRefusals, login, SHOTS, shooter, watchPage } from './helpers/browser-harness';

// Chromium's cookie jar runs on real time; the hub's clock only moves forward from near it, so
// session cookies (expiring on the hub's clock) stay alive.
const START_MS = Math.ceil(Date.now() / 3600_000) * 3600_000;
const start = new Date(START_MS);
const NEXT_MONTH_MS = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1, 0, 5);

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  const hub = await startTestHub({ modules: createHubModules, nowMs: START_MS });
  let browser: Browser | undefined;
  const errors: string[] = [];
  /** Refusals a test provokes on purpose, as "<status> <path>"; any other failing request is a bug. */
  const expected = new Set<string>();
  /** The super_admin's API token, taken after the clock's jump (the harness's own has expired by then). */
  let adminToken = '';
  const adminGet = async (route: string) => (await hub.api('GET', `/api/v1${route}`, undefined, adminToken)).body;

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
    const must = async (method: string, route: string, body?: unknown) => {
      const res = await hub.admin(method, `/api/v1${route}`, body);
      if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    await must('POST', '/operators', { operatorId: 'isp1', name: 'ISP One' });
    await must('POST', '/operators/isp1/users', { username: 'viewer', password: 'viewer-password-1', role: 'operator_readonly' });
    await must('PUT', '/operators/isp1/active-customers', { count: 800 });
    hub.clock.setMs(NEXT_MONTH_MS);
    adminToken = (await hub.api('POST', '/api/v1/login', { username: 'admin', password: 'admin-pw' })).body.token as string;
    const run = await hub.api('POST', '/api/v1/admin/jobs/invoices/run', undefined, adminToken);
    if (JSON.stringify(run.body.result) !== '["INV-000001"]') throw new Error(`invoice run: ${JSON.stringify(run.body)}`);
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Tokyo' });
    const page = await context.newPage();
    await watchPage(page, errors, { tolerate: expectedRefusals(expected) });
    return { context, page };
  }

  async function openInvoices(page: Page, username: string, password: string): Promise<void> {
    await login(page, hub.httpUrl, username, password, '#nav a[href="#/invoices"]');
    await page.click('#nav a[href="#/invoices"]');
    await page.waitForSelector('#invoices-table');
  }

  const shot = shooter('invoices', errors);

  const row = (page: Page) => page.textContent('#invoices-table tr[data-invoice="INV-000001"]');

  t.test('super_admin: pay part, refused overpayment, partial credit, full credit voids', async (t) => {
    const { context, page } = await newPage();
    await openInvoices(page, 'admin', 'admin-pw');
    const total = (await adminGet('/operators/isp1/invoices/INV-000001')).invoice.totalMinor as number;
    t.match(await row(page), /INV-000001[\s\S]*unpaid[\s\S]*PDF/);
    await page.click('#invoices-table button.linkish');
    await page.waitForSelector('#payment-form');
    await shot(page, 'detail');

    expected.add('409 /api/v1/operators/isp1/invoices/INV-000001/payments');
    await page.fill('#payment-form input[name="amount"]', '99999.00');
    await page.fill('#payment-form input[name="reference"]', 'too much');
    await page.click('#payment-form button[type="submit"]');
    await page.waitForSelector('#invoice-message .notice.error');
    t.match(await page.textContent('#invoice-message'), /PAYMENT_EXCEEDS_AMOUNT_DUE/, 'the hub\'s refusal is shown');
    expected.delete('409 /api/v1/operators/isp1/invoices/INV-000001/payments');

    await page.fill('#payment-form input[name="amount"]', '100.00');
    await page.fill('#payment-form input[name="reference"]', 'SEPA-1');
    await page.click('#payment-form button[type="submit"]');
    await page.waitForSelector('#invoice-message .notice.success');
    t.match(await page.textContent('#invoice-message'), /Payment recorded on INV-000001/);
    t.match(await row(page), /partially paid/);
    t.match(await page.textContent('#invoice-payments'), /SEPA-1[\s\S]*100\.00 USD/);

    await page.fill('#credit-form input[name="reason"]', 'goodwill');
    await page.fill('#credit-form input[name="line-1"]', '10.00');
    await page.click('#credit-form button[type="submit"]');
    await page.waitForFunction(() => /Credit note CN-000001 issued/.test(document.querySelector('#invoice-message')?.textContent ?? ''));
    t.match(await page.textContent('#credit-notes-table'), /CN-000001[\s\S]*INV-000001[\s\S]*-10\.00 USD[\s\S]*partial credit[\s\S]*goodwill/);
    const due = (await adminGet('/operators/isp1/invoices/INV-000001')).invoice.amountDueMinor;
    t.equal(due, total - 10_000 - 1_000, 'paid 100.00 and credited 10.00: the hub agrees');
    await shot(page, 'partial');

    await page.fill('#credit-form input[name="reason"]', 'billed in error');
    await page.check('#credit-form input[name="full"]');
    await page.click('#credit-form button[type="submit"]');
    await page.waitForFunction(() => /CN-000002 issued: INV-000001 is void/.test(document.querySelector('#invoice-message')?.textContent ?? ''));
    t.match(await row(page), /void[\s\S]*refund due 100\.00 USD/, 'the paid part is now owed back');
    t.equal(await page.locator('#credit-form').count(), 0, 'no more credit on a void invoice');
    t.equal(await page.locator('#payment-form').count(), 0);
    await shot(page, 'void');
    await context.close();
  });

  t.test('read-only operator user: status, amount due, credit notes, PDFs; no forms', async (t) => {
    const { context, page } = await newPage();
    await openInvoices(page, 'viewer', 'viewer-password-1');
    t.match(await row(page), /void/);
    t.match(await page.textContent('#credit-notes-table'), /CN-000002[\s\S]*voids the invoice/);
    await page.click('#invoices-table button.linkish');
    await page.waitForSelector('#invoice-state');
    t.equal(await page.locator('#payment-form, #credit-form').count(), 0, 'no write forms for a read-only user');
    const href = await page.getAttribute('#invoices-table a.pdf-link', 'href');
    t.equal(href, '/api/v1/operators/isp1/invoices/INV-000001/pdf');
    const pdf = await context.request.get(`${hub.httpUrl}${href}`);
    t.equal(pdf.headers()['content-type'], 'application/pdf', 'the link downloads the PDF with the session cookie');
    const cnHref = await page.getAttribute('#credit-notes-table a.pdf-link', 'href');
    t.match(cnHref, /^\/api\/v1\/operators\/isp1\/credit-notes\/CN-00000[12]\/pdf$/);
    t.equal((await context.request.get(`${hub.httpUrl}${cnHref}`)).status(), 200);
    await shot(page, 'readonly');
    await context.close();
  });

  t.test('no script errors, unexpected failed requests or blanks in any page', async (t) => {
    t.same(errors, []);
  });
}
