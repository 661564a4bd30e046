/**
 * Issue 11 (H5): the dashboard and live flows as a NOC uses them, in headless chromium against the
 * REAL hub of test/e2e/stack.ts fed by a real edge (NetFlow v9 → edge → MQTT → hub → HTTP → page).
 * As operator_readonly (the NOC's viewer role): the window ends at the last complete bucket,
 * averages are over the covered span (20 min of data in a 24 h window: the 888 kbps case),
 * custom range, drag-to-zoom and reset, search, page 2, CSV downloads checked cell by cell, then live
 * flows with exporter / IP group / address filters and the protocol and port breakdowns.
 * Screenshots: test-output/screenshots/h5-*.png.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { V9Flow } from '../../edge/demo/netflow-v9-writer';
import { createStack, waitFor } from '../e2e/stack';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { ip4, sendV9 as sendV9From } from '../e2e/helpers/v9-traffic';
import { login, SHOTS, shooter, watchPage } from './helpers/browser-harness';

const OP = 'isp-h5';
// Next full hour of real time: Chromium's cookie jar runs on real time (see browser-real-hub.test.ts).
const START_MS = Math.ceil(Date.now() / 3600_000) * 3600_000;
const START_SEC = START_MS / 1000;
const N_GROUPS = 12;
const GROUPS = Array.from({ length: N_GROUPS }, (_, i) => ({ name: `cust-${String(i + 1).padStart(2, '0')}`, prefixes: [`10.${i + 1}.0.0/16`] }));

/** Downloads into group n (10.n.x.x) over [fromMs, toMs): group n gets n x the base volume; TCP 443, plus UDP 53 and SSH. */
function flows(fromMs: number, toMs: number, perGroup = 8): V9Flow[] {
  const out: V9Flow[] = [];
  for (let n = 1; n <= N_GROUPS; n++) {
    for (let i = 0; i < perGroup; i++) {
      const startMs = fromMs + Math.floor((i / perGroup) * (toMs - fromMs - 20_000));
      const kind = i % 4; // 0,1: https download, 2: dns answer, 3: ssh upload
      const cust = `10.${n}.0.${10 + i}`;
      const remote = kind === 2 ? '198.51.100.53' : '192.0.2.10';
      const bytes = n * (kind === 2 ? 20_000 : 400_000) + i;
      const download = kind !== 3;
      out.push({
        src: ip4(download ? remote : cust), dst: ip4(download ? cust : remote), inputIf: download ? 1 : 2, outputIf: download ? 2 : 1,
        packets: Math.ceil(bytes / 1200), bytes, startMs, endMs: startMs + 10_000,
        srcPort: kind === 2 ? 53 : kind === 3 ? 41_000 + i : 443, dstPort: kind === 2 ? 53_000 + i : kind === 3 ? 22 : 40_000 + i, protocol: kind === 2 ? 17 : 6,
      });
    }
  }
  return out;
}

/** This test's exporter is source 9, booted a day before START. */
async function sendV9(port: number, list: V9Flow[], nowMs: number, sequence = 1): Promise<void> {
  await sendV9From(port, list, nowMs, START_MS - 86_400_000, sequence, 9);
}

/** RFC 4180 CSV as the page writes it (no quoted commas in these files) → rows of cells. */
const parseCsv = (text: string) => text.trim().split('\r\n').map((l) => l.split(','));

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  const dir = stackDir(t);
  const stack = await createStack(dir, { startMs: START_MS, operatorId: OP, ipGroups: GROUPS, liveIntervalMs: 500, liveTopN: 200 });
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  t.teardown(async () => {
    await browser?.close();
    await stack.close();
  });

  t.before(async () => {
    await mkdir(SHOTS, { recursive: true });
    // 20 minutes of traffic (buckets START, +5, +10, +15), sent at +20 min; then the clock goes to +32
    // min so those buckets close (60 s grace) while the one at +30 is running.
    stack.clock.setMs(START_MS + 20 * 60_000);
    await sendV9(stack.udpPort, flows(START_MS + 30_000, START_MS + 20 * 60_000 - 1_000, 16), START_MS + 20 * 60_000);
    await waitFor('flows decoded', async () => (stack.edge.status().counters.flowsDecoded >= N_GROUPS * 16 ? true : undefined), 10_000);
    stack.clock.setMs(START_MS + 32 * 60_000);
    await waitFor('all groups stored on the hub', async () => {
      const all = await Promise.all(GROUPS.map((g) => stack.subjectTotals(`ipg:${g.name}`, START_SEC, START_SEC + 3600)));
      return all.every((x) => x.bytesIn > 0) && stack.edge.status().counters.outboxDepth === 0 ? true : undefined;
    }, 30_000);
    await stack.api('POST', `/operators/${OP}/users`, { username: 'noc-viewer', password: 'noc-viewer-pw-1', role: 'operator_readonly' });

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1366, height: 768 }, timezoneId: 'Europe/Berlin', acceptDownloads: true });
    await context.clock.install({ time: stack.clock.nowMs() });
    page = await context.newPage();
    // Before login the shell asks /me or /session; their 401 is expected.
    await watchPage(page, errors, { tolerate: (res) => res.status() === 401 && /\/api\/v1\/(me|session)$/.test(res.url()) });
    await login(page, stack.httpUrl, 'noc-viewer', 'noc-viewer-pw-1');
  });

  const shotPage = shooter('h5', errors);
  const shot = (name: string) => shotPage(page, name);

  async function download(selector: string): Promise<{ name: string; rows: string[][] }> {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
    const file = await dl.path();
    return { name: dl.suggestedFilename(), rows: parseCsv(await readFile(file!, 'utf8')) };
  }

  const tableRows = () => page.$$eval('#top-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
  const waitRendered = async () => { await page.waitForSelector('#top-table'); await page.waitForSelector('#subject-chart canvas'); };

  t.test('dashboard: window ends at the last complete bucket, averages over the covered span, page 1 of 2', async (t) => {
    await page.goto(`${stack.httpUrl}/#/dashboard`);
    await waitRendered();
    const rows = await tableRows();
    // 12 IP groups + the exporter's two interfaces (the trial collects every interface); each
    // interface carries all the traffic, so they rank first.
    t.equal(rows.length, 10, 'ten a page');
    t.match(rows[0]![0], /127\.0\.0\.1/, 'an interface with all the traffic first');
    t.match(rows[2]![0], /cust-12/, 'then the biggest group');
    t.match(await page.textContent('#page-info'), /1–10 of 14 · page 1 of 2/);
    t.equal(rows[2]![3], '20 min', 'averaged over the 20 minutes with data, not 24 h');
    // 24 h window ending where the running bucket (+30 min) starts: never in the future.
    t.match(await page.textContent('#range-note'), new RegExp(`– ${new Date(START_MS + 30 * 60_000).toISOString().slice(0, 16).replace('T', ' ')} UTC \\(1 d,`));
    t.match(await page.textContent('#chart-note'), /over the 20 min with data/);

    const csv = await download('#csv-table');
    t.match(csv.name, /^flowbill-top-subjects-.*-p1\.csv$/);
    t.same(csv.rows[0]!.slice(0, 8), ['rank', 'subject_id', 'label', 'kind', 'avg_in_bps', 'avg_out_bps', 'averaged_over_sec', 'first_data_utc']);
    t.equal(csv.rows.length, 11, 'header + the 10 rows shown');
    const top = Object.fromEntries(csv.rows[0]!.map((h, i) => [h, csv.rows[3]![i]]));
    t.equal(top.subject_id, 'ipg:cust-12');
    t.equal(top.averaged_over_sec, '1200');
    t.equal(Number(top.avg_in_bps), Math.round((Number(top.bytes_in) * 8) / 1200), 'avg = bytes x 8 / covered seconds');
    t.ok(Number(top.avg_in_bps) > ((Number(top.bytes_in) * 8) / 86_400) * 50, 'not bytes over the 24 h window (the 888 kbps bug: 72x too low here)');
    t.equal(top.range_to_utc, new Date(START_MS + 30 * 60_000).toISOString());

    const chartCsv = await download('#csv-chart');
    t.same(chartCsv.rows[0], ['bucket_start_utc', 'bucket_start_unix', 'in_bps', 'out_bps']);
    t.equal(chartCsv.rows.length, 1 + 288, 'one row per bucket of the 24 h window');
    const last = chartCsv.rows.at(-1)!;
    t.equal(Number(last[1]) + 300, START_SEC + 30 * 60, 'the last bucket shown is the last complete one');
    const withData = chartCsv.rows.slice(1).filter((r) => r[2] !== '');
    t.same(withData.map((r) => Number(r[1])), [0, 300, 600, 900].map((d) => START_SEC + d), 'the four buckets with data');
    await page.setViewportSize({ width: 1366, height: 768 });
    await shot('dashboard-24h');
  });

  t.test('dashboard: page 2, then search', async (t) => {
    await page.click('#page-next');
    await page.waitForFunction(() => /11–14 of 14/.test(document.querySelector('#page-info')?.textContent ?? ''));
    await waitRendered();
    const rows = await tableRows();
    t.same(rows.map((r) => r[0]), ['cust-04', 'cust-03', 'cust-02', 'cust-01'], 'the rest, in rank order');
    t.ok(await page.$('#page-next[disabled]'), 'no page 3');
    const csv = await download('#csv-table');
    t.same(csv.rows.slice(1).map((r) => [r[0], r[1]]), [['11', 'ipg:cust-04'], ['12', 'ipg:cust-03'], ['13', 'ipg:cust-02'], ['14', 'ipg:cust-01']], 'the CSV is the page shown');

    await page.fill('#subject-search', 'CUST-1');
    await page.click('#search-submit');
    await page.waitForFunction(() => /of 3 ·/.test(document.querySelector('#page-info')?.textContent ?? ''));
    await waitRendered();
    t.same((await tableRows()).map((r) => r[0]), ['cust-12', 'cust-11', 'cust-10'], 'search runs before paging, on the hub');
    t.match(page.url(), /q=CUST-1/, 'the search is in the URL');
    t.match(await page.textContent('#totals'), /Subjects matching "CUST-1"\s*3/);
    await shot('dashboard-search');
    await page.click('#search-clear');
    await page.waitForFunction(() => /of 14 ·/.test(document.querySelector('#page-info')?.textContent ?? ''));
  });

  t.test('dashboard: custom range from the pickers', async (t) => {
    await waitRendered();
    const utc = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    await page.fill('#range-from', utc(START_MS + 5 * 60_000));
    await page.fill('#range-to', utc(START_MS + 15 * 60_000));
    await page.click('#range-apply');
    await page.waitForSelector('#range-reset');
    await waitRendered();
    t.match(page.url(), new RegExp(`from=${START_SEC + 300}&to=${START_SEC + 900}`));
    t.match(await page.textContent('#range-note'), /\(10 min, /);
    t.equal((await tableRows())[2]![3], '10 min', 'averaged over the two buckets in range');
    const chartCsv = await download('#csv-chart');
    t.same(chartCsv.rows.slice(1).map((r) => Number(r[1])), [START_SEC + 300, START_SEC + 600]);
    t.ok(chartCsv.rows.slice(1).every((r) => Number(r[2]) > 0), 'both have data');

    // A range reaching into the future is cut at the last complete bucket; a reversed one is refused.
    await page.fill('#range-from', utc(START_MS + 40 * 60_000));
    await page.fill('#range-to', utc(START_MS + 50 * 60_000));
    await page.click('#range-apply');
    await page.waitForFunction(() => (document.querySelector('#range-error')?.textContent ?? '') !== '');
    t.match(await page.textContent('#range-error'), /after the last complete 5-minute bucket/);
    await shot('dashboard-custom-range');
    await page.click('#range-reset');
    await page.waitForFunction(() => !document.querySelector('#range-reset'));
    await waitRendered();
    t.equal(await page.$eval('#window', (el) => (el as HTMLSelectElement).value), '24h', 'reset: back to the last 24 hours');
  });

  t.test('dashboard: drag across the chart zooms the whole page; reset', async (t) => {
    await page.goto(`${stack.httpUrl}/#/dashboard?window=1h`);
    // The hash change re-renders in place: wait for the NEW page's chart, not the old one's.
    await page.waitForFunction(() => /\(1 h 00 min,/.test(document.querySelector('#range-note')?.textContent ?? '') && !!document.querySelector('#chart-note'));
    const over = await page.$('#subject-chart .u-over');
    await over!.scrollIntoViewIfNeeded(); // the mouse works in viewport coordinates: bring the chart into view
    const box = (await over!.boundingBox())!;
    // The 1 h window runs from -30 min to +30 min: its right half is [START, +30 min).
    await page.mouse.move(box.x + box.width * 0.52, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await page.waitForSelector('#range-reset');
    await waitRendered();
    const url = new URL(page.url().replace('#', ''));
    const from = Number(url.searchParams.get('from'));
    const to = Number(url.searchParams.get('to'));
    t.ok(from >= START_SEC - 300 && from <= START_SEC + 300, `zoom starts near the start of the data (${from - START_SEC} s)`);
    t.ok(to > from && to <= START_SEC + 1800, 'and ends inside the window');
    t.equal(from % 300, 0, 'bucket-aligned');
    t.match(await page.textContent('#window'), /Custom range/);
    await shot('dashboard-zoomed');
    await page.click('#range-reset');
    await page.waitForFunction(() => !document.querySelector('#range-reset'));
  });

  t.test('live flows: filters and breakdowns by protocol and port', async (t) => {
    // Keep traffic coming so each half-second snapshot of the edge has talkers.
    let seq = 1000;
    let sending = true;
    const pump = (async () => {
      while (sending) {
        // The hub's clock follows the page's (installed at the hub's time, then running), so the
        // snapshots' receivedAtMs stay fresh and the page shows no "stale" notice.
        stack.clock.setMs(Math.max(stack.clock.nowMs(), await page.evaluate(() => Date.now())));
        const now = stack.clock.nowMs();
        await sendV9(stack.udpPort, flows(now - 15_000, now, 4), now, seq);
        seq += 10;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      await page.click('#nav a[href="#/live"]');
      await page.waitForSelector('#talkers tbody tr', { timeout: 20_000 });
      t.notOk(await page.$('#live .badge.warn'), 'no stale notice while the edge publishes');
      await page.waitForSelector('#protocol-table');
      t.match(await page.textContent('#protocol-table'), /TCP[\s\S]*UDP/, 'TCP above UDP');
      t.match(await page.textContent('#ports-table'), /443\/tcp\s*https/);
      t.match(await page.textContent('#ports-table'), /53\/udp\s*dns/);
      t.match(await page.textContent('#ports-table'), /22\/tcp\s*ssh/);
      await page.waitForFunction(() => Array.from((document.querySelector('#live-exporter') as HTMLSelectElement).options).some((o) => o.value === '127.0.0.1'));

      await page.selectOption('#live-subject', 'ipg:cust-05');
      await page.waitForFunction(() => /matching IP group cust-05/.test(document.querySelector('#live-summary')?.textContent ?? ''));
      await page.click('#live-pause');
      const rows = await page.$$eval('#talkers tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
      t.ok(rows.length > 0, 'cust-05 has live flows');
      t.ok(rows.every((r) => /10\.5\.0\./.test(r)), 'only cust-05 addresses');
      await shot('live-subject');
      await page.click('#live-pause');

      await page.click('#live-clear');
      await page.fill('#live-address', '10.7.0.0/16');
      await page.selectOption('#live-exporter', '127.0.0.1');
      await page.waitForFunction(() => /exporter 127\.0\.0\.1, address 10\.7\.0\.0\/16/.test(document.querySelector('#live-summary')?.textContent ?? ''));
      await page.click('#live-pause');
      const cidrRows = await page.$$eval('#talkers tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
      t.ok(cidrRows.length > 0 && cidrRows.every((r) => /10\.7\.0\./.test(r)), 'CIDR filter');
      t.match(await page.textContent('#ports-table'), /443\/tcp/, 'breakdowns of the filtered flows');
      await page.click('#live-pause');

      await page.fill('#live-address', '198.51.100.53');
      await page.click('#live-apply');
      await page.waitForFunction(() => /address 198\.51\.100\.53/.test(document.querySelector('#live-summary')?.textContent ?? ''));
      await page.click('#live-pause');
      t.match(await page.textContent('#protocol-table'), /UDP/);
      t.notMatch(await page.textContent('#protocol-table'), /TCP/, 'only the DNS server\'s flows: UDP');
      t.notOk(await page.$('#live .badge.warn'), 'still fresh');
      await page.setViewportSize({ width: 1280, height: 900 });
      await shot('live-filtered');
      await page.click('#live-pause');
    } finally {
      sending = false;
      await pump;
    }
  });

  t.test('no page errors, console errors, CSP violations or failed API calls', async (t) => {
    t.same(errors, []);
  });
}
