/**
 * Issue 11, "Customers' own view", as the customer uses it: logged in with their access record's
 * login against the REAL hub (test/e2e/stack.ts: every module, LevelDB, aedes, a real edge fed NetFlow
 * v9). They see their service by its label, this cycle's totals and 95th percentile so far (the same
 * figures the operator's preview computes), and their own bills with PDFs; another customer's bill
 * answers 404 whether asked for directly or guessed. Screenshots: test-output/screenshots/h6-*.png.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createStack, waitFor } from '../e2e/stack';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { mixedFlows, sendV9 } from '../e2e/helpers/v9-traffic';
import { login, SHOTS, shooter, watchPage } from './helpers/browser-harness';

const OP = 'isp-h6';
// Real time's next full hour (Chromium's cookie jar runs on real time; see browser-real-hub.test.ts).
const START_MS = Math.ceil(Date.now() / 3600_000) * 3600_000;
const GROUPS = [{ name: 'cust-a', prefixes: ['10.1.0.0/16'] }, { name: 'cust-b', prefixes: ['10.2.0.0/16'] }];

/** Downloads to both groups over [fromMs, toMs); cust-a about 4x cust-b. */
const flows = (fromMs: number, toMs: number) => mixedFlows(fromMs, toMs, { count: 100, packetBase: 900, remotes: ['192.0.2.1'] });
const BOOT_MS = START_MS - 86_400_000;

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  const stack = await createStack(stackDir(t), { startMs: START_MS, operatorId: OP, ipGroups: GROUPS });
  let browser: Browser | undefined;
  const errors: string[] = [];
  const bills: Record<string, number> = {};
  const untilSecB = START_MS / 1000 + 20 * 60;
  t.teardown(async () => { await browser?.close(); await stack.close(); });

  t.before(async () => {
    await mkdir(SHOTS, { recursive: true });
    stack.clock.setMs(START_MS + 10 * 60_000);
    await sendV9(stack.udpPort, flows(START_MS + 60_000, START_MS + 9 * 60_000), START_MS + 10 * 60_000, BOOT_MS);
    await waitFor('flows decoded', async () => (stack.edge.status().counters.flowsDecoded >= 100 ? true : undefined), 10_000);
    stack.clock.setMs(START_MS + 20 * 60_000);
    const from = START_MS / 1000 - 300;
    await waitFor('both groups stored', async () => {
      const [a, b] = await Promise.all([stack.subjectTotals('ipg:cust-a', from, from + 3600), stack.subjectTotals('ipg:cust-b', from, from + 3600)]);
      return a.bytesIn > 0 && b.bytesIn > 0 && stack.edge.status().counters.outboxDepth === 0 ? true : undefined;
    }, 30_000);

    // One plan per customer, each subject joined at START (the plans are made with the clock set back).
    stack.clock.setMs(START_MS);
    const plan = { billingPeriod: 'monthly', generationDay: 1, emails: 'billing@isp.example', currency: 'EUR', baseSpeedBps: 1_000_000, baseCostMinor: 10_000, additionalSpeedBps: 1_000_000, additionalCostMinor: 500, percentileMethod: 'merge' };
    const a = (await stack.api('POST', `/operators/${OP}/bill-plans`, { ...plan, name: 'Transit A', subjectIds: ['ipg:cust-a'] })).plan;
    const b = (await stack.api('POST', `/operators/${OP}/bill-plans`, { ...plan, name: 'Transit B 1M', subjectIds: ['ipg:cust-b'] })).plan;
    // An interim bill for each, up to START+20 min (generate-now needs its end 15 min in the past).
    stack.clock.setMs(START_MS + 40 * 60_000);
    const untilSec = untilSecB;
    bills.a = (await stack.api('POST', `/operators/${OP}/bill-plans/${a.planId}/subjects/${encodeURIComponent('ipg:cust-a')}/generate-now`, { untilSec, idempotencyKey: 'h6-a' })).bill.billNo;
    bills.b = (await stack.api('POST', `/operators/${OP}/bill-plans/${b.planId}/subjects/${encodeURIComponent('ipg:cust-b')}/generate-now`, { untilSec, idempotencyKey: 'h6-b' })).bill.billNo;

    for (const [id, name, svc, label, group, login] of [
      ['client-a', 'Alpha Web Ltd', 'svc-a1', 'Alpha dedicated 1', 'cust-a', 'cust-a-login'],
      ['client-b', 'Customer B Hosting', 'svc-b1', 'VPS B1 (Budapest)', 'cust-b', 'cust-b-login'],
    ] as const) {
      await stack.api('POST', `/operators/${OP}/clients`, { clientId: id, name });
      await stack.api('POST', `/operators/${OP}/services`, { serviceId: svc, clientId: id, type: 'vps', label });
      await stack.api('POST', `/operators/${OP}/access-records`, { serviceId: svc, username: login, password: `${login}-secret`, enabled: true, group: { kind: 'ip_group', value: group } });
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  async function customerPage(viewport: { width: number; height: number }): Promise<Page> {
    const ctx = await browser!.newContext({ viewport, timezoneId: 'Europe/Budapest', acceptDownloads: true });
    await ctx.clock.install({ time: stack.clock.nowMs() });
    const page = await ctx.newPage();
    await watchPage(page, errors);
    await login(page, stack.httpUrl, 'cust-b-login', 'cust-b-login-secret');
    return page;
  }

  const shot = shooter('h6', errors);

  t.test('customer: service by label, cycle totals and 95th so far, own bills and PDF', async (t) => {
    const page = await customerPage({ width: 1366, height: 768 });
    await page.waitForSelector('#customer-summary .stat >> text=95th percentile so far');
    await page.waitForSelector('#customer-bills table');
    const option = await page.textContent('#customer-subject option');
    t.equal(option, 'VPS B1 (Budapest) · cust-b', 'the service by its label, the traffic\'s name after it');

    // The figures are the hub's: the operator preview's 95th, and the series' totals over the same span.
    const plans = (await stack.api('GET', `/operators/${OP}/bill-plans`)).plans as { planId: string; name: string }[];
    const planB = plans.find((p) => p.name === 'Transit B 1M')!;
    const preview = (await stack.api('GET', `/operators/${OP}/bill-plans/${planB.planId}/preview`)).previews[0];
    const usage = await page.evaluate(async () => (await fetch('/api/v1/customer/usage?subjectId=ipg%3Acust-b')).json());
    t.equal(usage.cycle.p95Bps, preview.p95Bps, 'the same 95th as the operator\'s preview');
    t.equal(usage.period, 'billing_cycle');
    const totals = await stack.subjectTotals('ipg:cust-b', usage.fromSec, usage.toSec);
    t.equal(usage.bytesIn, totals.bytesIn, 'cycle bytes in = the series over the span');
    t.ok(usage.bytesIn > 0, 'the cycle\'s traffic, though an interim bill already counted it');
    t.equal(usage.fromSec, usage.cycle.cycleStartSec, 'totals from the cycle\'s start');
    const summary = await page.innerText('#customer-summary');
    t.match(summary, /Data in\s+[\d.,]+ [kMG]?B/);
    t.match(summary, /95th percentile so far\s+[\d.,]+ (bps|kbps|Mbps)/);
    t.match(await page.innerText('#customer-period'), /Plan Transit B 1M; billing cycle .*\(Europe\/Budapest\)/, 'times with the viewer\'s zone named');
    // All of this traffic (START+1..9 min) is on the interim bill (START..START+20): the next bill counts
    // nothing yet, so the 95th so far is rightly 0, and the page says why next to the graph's peak.
    t.equal(usage.cycle.p95Bps, 0, 'nothing since the interim bill: the next bill\'s 95th is 0');
    t.equal(usage.cycle.slotsWithData, 0);
    t.equal(usage.cycle.spanStartSec, untilSecB, 'the next bill starts where the interim bill ended');
    t.match(await page.innerText('#customer-p95-why'), new RegExp(`no traffic since your bill No\\. ${bills.b} ended .*the traffic before that is on that bill`), 'the 0 is explained in one line');

    // Only their own bill is listed.
    const rows = await page.$$eval('#customer-bills tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    t.equal(rows.length, 1);
    t.match(rows[0]!, new RegExp(`No\\. ${bills.b}.*VPS B1 \\(Budapest\\).*Transit B 1M`));
    t.notMatch(await page.innerText('body'), /Alpha|cust-a|Transit A/, 'nothing of the other customer');

    // Their PDF through the page's own link: names the customer (the client) and the operator.
    const href = await page.getAttribute('#customer-bills a.pdf-link', 'href');
    t.equal(href, `/api/v1/customer/bills/${bills.b}/pdf`);
    const pdf = await page.evaluate(async (u) => { const r = await fetch(u!); return { status: r.status, type: r.headers.get('content-type'), bytes: Array.from(new Uint8Array(await r.arrayBuffer())) }; }, href);
    t.equal(pdf.status, 200);
    t.equal(pdf.type, 'application/pdf');
    const file = path.join(t.testdir({}), 'b.pdf');
    writeFileSync(file, Uint8Array.from(pdf.bytes));
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    for (const needle of ['E2E ISP for Customer B Hosting', 'Plan Transit B 1M', 'Interim bill for the cycle so far', 'UTC']) t.ok(text.includes(needle), `PDF: "${needle}"`);

    // Another customer's bill, and one that does not exist: the same 404.
    const status = await page.evaluate(async (nos) => Promise.all(nos.map(async (n) => (await fetch(`/api/v1/customer/bills/${n}/pdf`)).status)), [bills.a!, 9999]);
    t.same(status, [404, 404], 'another customer\'s bill is not found, exactly like a missing one');
    const usageA = await page.evaluate(async () => (await fetch('/api/v1/customer/usage?subjectId=ipg%3Acust-a')).status);
    t.equal(usageA, 404, 'another customer\'s usage is not found');
    errors.splice(0, errors.length, ...errors.filter((e) => !/HTTP 404 .*\/customer\/(bills\/\d+\/pdf|usage\?subjectId=ipg%3Acust-a)/.test(e))); // those refusals were the point
    await shot(page, 'customer-1366');
    await page.context().close();
  });

  t.test('customer at 1280x900', async (t) => {
    const page = await customerPage({ width: 1280, height: 900 });
    await page.waitForSelector('#customer-summary .stat >> text=95th percentile so far');
    await page.waitForSelector('#customer-bills table');
    await page.waitForSelector('#customer-chart canvas');
    t.ok(await page.isVisible('#customer-bills a.pdf-link'));
    await shot(page, 'customer-1280');
    await page.context().close();
  });

  t.test('customer with traffic after the interim bill: 95th and coverage so far are the operator preview\'s, not 0', async (t) => {
    // cust-b downloads again at START+41..49 min, after the interim bill's end (START+20): the next bill counts it.
    const decoded = stack.edge.status().counters.flowsDecoded;
    stack.clock.setMs(START_MS + 50 * 60_000);
    await sendV9(stack.udpPort, flows(START_MS + 41 * 60_000, START_MS + 49 * 60_000), START_MS + 50 * 60_000, BOOT_MS);
    await waitFor('flows decoded', async () => (stack.edge.status().counters.flowsDecoded >= decoded + 100 ? true : undefined), 10_000);
    stack.clock.setMs(START_MS + 60 * 60_000);
    const from = START_MS / 1000 + 40 * 60;
    await waitFor('new traffic stored', async () => {
      const b = await stack.subjectTotals('ipg:cust-b', from, from + 600);
      return b.bytesIn > 0 && stack.edge.status().counters.outboxDepth === 0 ? true : undefined;
    }, 30_000);

    const page = await customerPage({ width: 1366, height: 768 });
    await page.waitForSelector('#customer-summary .stat >> text=95th percentile so far');
    await page.waitForSelector('#customer-period');
    const plans = (await stack.api('GET', `/operators/${OP}/bill-plans`)).plans as { planId: string; name: string }[];
    const planB = plans.find((p) => p.name === 'Transit B 1M')!;
    const preview = (await stack.api('GET', `/operators/${OP}/bill-plans/${planB.planId}/preview`)).previews[0];
    const usage = await page.evaluate(async () => (await fetch('/api/v1/customer/usage?subjectId=ipg%3Acust-b')).json());
    t.equal(usage.cycle.spanStartSec, untilSecB, 'the next bill still starts at the interim bill\'s end');
    t.ok(usage.cycle.p95Bps > 0, 'a 95th so far, now that the next bill has traffic');
    t.ok(usage.cycle.coveragePercent > 0, 'coverage above 0');
    t.equal(usage.cycle.p95Bps, preview.p95Bps, 'the same 95th as the operator\'s preview');
    t.equal(usage.cycle.coveragePercent, preview.coveragePercent, 'the same coverage as the operator\'s preview');
    t.equal(usage.cycle.slotsWithData, preview.slotsWithData);
    t.equal(usage.cycle.slotsSoFar, preview.slotsSoFar);
    const summary = await page.innerText('#customer-summary');
    t.match(summary, /95th percentile so far\s+[1-9][\d.,]* (bps|kbps|Mbps)/, 'the page shows the non-zero 95th');
    t.match(summary, new RegExp(`Coverage\\s+${preview.coveragePercent.toFixed(2).replace('.', '\\.')} %`), 'and the preview\'s coverage');
    t.equal(await page.$('#customer-p95-why'), null, 'no "why 0" line when the 95th is not 0');
    await shot(page, 'customer-traffic-1366');
    await page.context().close();
  });

  t.test('no script errors, failed requests or blanks', async (t) => {
    t.same(errors, []);
  });
}
