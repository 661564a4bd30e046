/**
 * Issue 11, "bills without destruction", in a real headless browser against the REAL hub of
 * test/e2e/stack.ts (every module, LevelDB, embedded aedes) fed by a real edge (NetFlow v9):
 *   - operator_admin opens Reports: the current cycle so far per subject (95th, coverage, amount so
 *     far, projected), generates a bill now (confirmation), sees it listed, the preview moves on, the
 *     subject stays in its plan and the bill's mail is in the outbox at once;
 *   - operator_readonly sees the preview without the button;
 *   - a deleted plan stays in the Plan filter with its bills.
 * Screenshots: test-output/screenshots/h4-*.png. Skips when /usr/bin/chromium is absent.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { V9Flow } from '../../edge/demo/netflow-v9-writer';
import { createStack, waitFor } from '../e2e/stack';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { ip4, sendV9 } from '../e2e/helpers/v9-traffic';
import { login as logIn, SHOTS, shooter, watchPage } from './helpers/browser-harness';

const OP = 'isp-h4';
// Near real time (Chromium's cookie jar runs on it; see browser-real-hub.test.ts), on a full hour.
const START_MS = Math.ceil(Date.now() / 3600_000) * 3600_000;

/** Downloads to 10.1.x.x (cust-a) spread over [fromMs, toMs). */
function flows(fromMs: number, toMs: number): V9Flow[] {
  return Array.from({ length: 60 }, (_, i) => {
    const startMs = fromMs + Math.floor((i / 60) * (toMs - fromMs - 20_000));
    return {
      src: ip4('192.0.2.1'), dst: ip4(`10.1.0.${20 + (i % 11)}`), inputIf: 1, outputIf: 2,
      packets: 1000 + i, bytes: (1000 + i) * 1200, startMs, endMs: startMs + 15_000, srcPort: 443, dstPort: 40_000 + i, protocol: 6,
    };
  });
}

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  const dir = stackDir(t);
  const stack = await createStack(dir, { startMs: START_MS, operatorId: OP, ipGroups: [{ name: 'cust-a', prefixes: ['10.1.0.0/16'] }, { name: 'cust-b', prefixes: ['10.2.0.0/16'] }] });
  let browser: Browser | undefined;
  const errors: string[] = [];
  let planId = '';

  t.teardown(async () => {
    await browser?.close();
    await stack.close();
  });

  t.before(async () => {
    await mkdir(SHOTS, { recursive: true });
    // The plan first, so the traffic below falls inside the subject's stretch in it.
    planId = (await stack.api('POST', `/operators/${OP}/bill-plans`, {
      name: 'Customer A 95th', billingPeriod: 'monthly', generationDay: 1, emails: 'billing@isp.example',
      currency: 'USD', baseSpeedBps: 1_000_000, baseCostMinor: 50_000, additionalSpeedBps: 100_000, additionalCostMinor: 4_000,
      percentileMethod: 'merge', subjectIds: ['ipg:cust-a'],
    })).plan.planId;
    stack.clock.setMs(START_MS + 10 * 60_000);
    await sendV9(stack.udpPort, flows(START_MS + 60_000, START_MS + 9 * 60_000), START_MS + 10 * 60_000, START_MS - 86_400_000);
    await waitFor('flows decoded by the edge', async () => (stack.edge.status().counters.flowsDecoded >= 60 ? true : undefined), 10_000);
    stack.clock.setMs(START_MS + 20 * 60_000);
    await waitFor('cust-a stored on the hub', async () => {
      const a = await stack.subjectTotals('ipg:cust-a', START_MS / 1000, START_MS / 1000 + 3600);
      return a.bytesIn > 0 && stack.edge.status().counters.outboxDepth === 0 ? true : undefined;
    }, 30_000);
    // 35 minutes in: generate-now may bill up to the boundary 15 minutes back (+20 min).
    stack.clock.setMs(START_MS + 35 * 60_000);
    await stack.api('POST', `/operators/${OP}/users`, { username: 'h4-admin', password: 'h4-admin-pw-1', role: 'operator_admin' });
    await stack.api('POST', `/operators/${OP}/users`, { username: 'h4-noc', password: 'h4-noc-pw-1', role: 'operator_readonly' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  async function newPage(viewport: { width: number; height: number }): Promise<{ ctx: BrowserContext; page: Page }> {
    // A zone that is not UTC: Reports shows the viewer's local time and names the zone.
    const ctx = await browser!.newContext({ viewport, timezoneId: 'Europe/Berlin' });
    await ctx.clock.install({ time: stack.clock.nowMs() });
    const page = await ctx.newPage();
    await watchPage(page, errors);
    return { ctx, page };
  }

  async function login(page: Page, username: string, password: string): Promise<void> {
    await logIn(page, stack.httpUrl, username, password, '#nav a[href="#/reports"]');
  }

  const shot = shooter('h4', errors);

  t.test('operator_admin: preview of the cycle so far, generate a bill now, the subject stays in its plan', async (t) => {
    const { ctx, page } = await newPage({ width: 1366, height: 768 });
    await login(page, 'h4-admin', 'h4-admin-pw-1');
    await page.click('#nav a[href="#/reports"]');
    await page.waitForSelector('#preview-table tbody tr');
    const row = (await page.textContent('#preview-table tbody tr'))!;
    t.match(row, /Customer A 95th/);
    t.match(row, /ipg:cust-a/);
    t.match(row, /[1-9][\d.]* (kbps|Mbps)/, 'a non-zero 95th so far');
    t.match(row, /of 7 slots/, '35 minutes: 7 whole slots so far');
    t.match(row, /USD/);
    t.match(await page.textContent('#preview-note'), /if the rest of the cycle stays at the 95th so far/);
    t.match(await page.textContent('#preview-table thead'), /Europe\/Berlin/, 'the zone is named');
    t.match(await page.textContent('#bill-run-line'), /none with bills due for this operator yet/); // stored now (issue 10), not per hub process
    await shot(page, 'reports-preview');

    let dialogText = '';
    page.once('dialog', (d) => { dialogText = d.message(); void d.accept(); });
    await page.click('#preview-table button.generate-now');
    await page.waitForSelector('#generate-now-done');
    t.match(dialogText, /stays in the plan/, 'confirmation says the subject stays');
    t.match(await page.textContent('#generate-now-done'), /Bill #1 made for ipg:cust-a/);
    await page.waitForFunction(() => /generated now/.test(document.querySelector('#bills-table')?.textContent ?? ''));
    const bills = await page.$$eval('#bills-table tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    t.equal(bills.length, 1);
    t.match(bills[0], /#1[\s\S]*generated now/);
    // The preview now starts where the bill ended: +20 min, shown in Berlin time.
    const cut = new Date(START_MS + 20 * 60_000);
    const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(cut);
    await page.waitForFunction((hhmm) => (document.querySelector('#preview-table tbody tr')?.textContent ?? '').includes(`${hhmm} –`), berlin);
    t.match(await page.textContent('#preview-table tbody tr'), /of 3 slots/, 'the rest of the cycle: +20..+35 min');
    await shot(page, 'reports-generated');

    const plan = (await stack.api('GET', `/operators/${OP}/bill-plans/${planId}`)).plan;
    t.ok(plan.associations.some((a: { subjectId: string; toSec?: number }) => a.subjectId === 'ipg:cust-a' && a.toSec === undefined), 'still in the plan');
    const outbox = path.join(dir, 'hub', 'mail-outbox');
    const mail = await waitFor('the bill mail in the outbox', async () => {
      const files = (await readdir(outbox).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'));
      for (const f of files) {
        const text = await readFile(path.join(outbox, f), 'utf8');
        if (/Bill 1/.test(text)) return text;
      }
      return undefined;
    }, 20_000);
    t.match(mail, /billing@isp\.example/, 'mailed to the plan\'s address when the bill was made');

    await page.click('a.bill-link[href="#/reports/1"]');
    await page.waitForSelector('#bill-figures');
    t.match(await page.textContent('main'), /generated now/);
    // Issue 11: the explanation's times in the viewer's zone like the header; no developer wording.
    t.match(await page.textContent('#bill-explanation'), /The billed period, \d{1,2} \w{3} \d{4} \d\d:\d\d to .* Europe\/Berlin, has/);
    t.match(await page.textContent('#bill-span'), /\(Europe\/Berlin\)/);
    t.notMatch(await page.textContent('main'), /minor units|Unrounded/);
    await shot(page, 'bill-generated');
    await ctx.close();
  });

  t.test('operator_readonly: the preview without the button', async (t) => {
    const { ctx, page } = await newPage({ width: 1280, height: 900 });
    await login(page, 'h4-noc', 'h4-noc-pw-1');
    await page.click('#nav a[href="#/reports"]');
    await page.waitForSelector('#preview-table tbody tr');
    t.equal(await page.$$eval('button.generate-now', (b) => b.length), 0, 'no Generate button for a read-only user');
    await shot(page, 'reports-readonly');
    await ctx.close();
  });

  t.test('a deleted plan stays in the Plan filter with its bills', async (t) => {
    await stack.api('DELETE', `/operators/${OP}/bill-plans/${planId}`);
    const { ctx, page } = await newPage({ width: 1280, height: 900 });
    await login(page, 'h4-admin', 'h4-admin-pw-1');
    await page.click('#nav a[href="#/reports"]');
    await page.waitForSelector('#bills-table');
    const options = await page.$$eval('#plan-filter option', (os) => os.map((o) => o.textContent ?? ''));
    t.same(options, ['All plans', 'Customer A 95th (deleted)']);
    await page.selectOption('#plan-filter', planId);
    await page.waitForFunction(() => /plan deleted/.test(document.querySelector('#bills-table')?.textContent ?? ''));
    const bills = await page.$$eval('#bills-table tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    t.equal(bills.length, 2, 'the generated bill and the deletion bill');
    t.equal(await page.$$eval('#preview-table', (x) => x.length), 0, 'no preview for a deleted plan');
    await shot(page, 'reports-deleted-plan');
    await ctx.close();
  });

  t.test('no page errors, CSP violations or blank values', async (t) => {
    t.same(errors, []);
  });
}
