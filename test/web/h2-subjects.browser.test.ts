/**
 * Subjects page (web/pages/subjects.js) in headless chromium against the REAL hub and edge of
 * test/e2e/stack.ts, as the roles that use it. The exporter (127.0.0.1) sends NetFlow v9 flows on
 * ifIndex 1/2 and an options record naming them (IE 82/83, the "Interface" scope), so the names on
 * the page come edge → EdgeStatus → hub → page. operator_admin: adds a group with a bad prefix and
 * sees the hub's error, fixes it, previews (overlap flagged), saves, deletes with the billing
 * warning; narrows the selection and deselects an interface; names one. operator_readonly: no
 * controls. Screenshots: test-output/screenshots/h2-*.png.
 */
import t from 'tap';
import { stackDir } from '../helpers/stack-dir';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildV9Datagram, type V9Flow } from '../../edge/demo/netflow-v9-writer';
import { createStack, waitFor } from '../e2e/stack';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { set, u32, v9OptionsTemplate, v9Packet } from '../edge/decode/packet-builder';
import { login, SHOTS, shooter, watchPage } from './helpers/browser-harness';

const OP = 'isp-h2';
const START_MS = Math.ceil(Date.now() / 3600_000) * 3600_000;
const ip4 = (s: string) => Uint8Array.from(s.split('.').map(Number));
const padded = (s: string, n: number) => [...Buffer.from(s), ...Array(n).fill(0)].slice(0, n);

async function send(port: number, datagrams: Uint8Array[]): Promise<void> {
  const sock = dgram.createSocket('udp4');
  try {
    for (const d of datagrams) await new Promise<void>((resolve, reject) => sock.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  } finally { sock.close(); }
}

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skip: ${CHROMIUM} is not installed`);
} else {
  const { chromium } = await import('playwright-core');
  const dir = stackDir(t);
  const stack = await createStack(dir, { startMs: START_MS, operatorId: OP, ipGroups: [{ name: 'cust-a', prefixes: ['10.1.0.0/16'] }] });
  let browser: Browser | undefined;
  const errors: string[] = [];
  t.teardown(async () => { await browser?.close(); await stack.close(); });

  t.before(async () => {
    await mkdir(SHOTS, { recursive: true });
    stack.clock.setMs(START_MS + 10 * 60_000);
    const flows: V9Flow[] = [1, 2].map((inputIf) => ({
      src: ip4('192.0.2.1'), dst: ip4('10.1.0.9'), inputIf, outputIf: 3 - inputIf, packets: 1000, bytes: 1_200_000,
      startMs: START_MS + 60_000, endMs: START_MS + 120_000, srcPort: 443, dstPort: 40_000, protocol: 6,
    }));
    const names = v9Packet({ uptimeMs: 86_400_000, unixSecs: Math.floor((START_MS + 10 * 60_000) / 1000), sequence: 1, sourceId: 9 },
      set(1, v9OptionsTemplate(300, [[2, 4]], [[82, 16], [83, 32]]), true),
      set(300, [...u32(1), ...padded('Gi0/0/1', 16), ...padded('Transit uplink', 32), ...u32(2), ...padded('Gi0/0/2', 16), ...padded('', 32)], true));
    await send(stack.udpPort, [
      buildV9Datagram({ nowMs: START_MS + 10 * 60_000, bootMs: START_MS - 86_400_000, sequence: 1, sourceId: 7, withTemplate: true, flows }),
      names,
    ]);
    await waitFor('flows decoded', async () => (stack.edge.status().counters.flowsDecoded >= 2 ? true : undefined), 10_000);
    stack.clock.setMs(START_MS + 20 * 60_000);
    await waitFor('interface series and names on the hub', async () => {
      const res = await stack.api('GET', `/operators/${OP}/interfaces`);
      const x = res.exporters.find((e: { address: string }) => e.address === '127.0.0.1');
      return x && x.interfaces.some((i: { exporterName: string; hasTraffic: boolean }) => i.exporterName === 'Gi0/0/1' && i.hasTraffic) ? true : undefined;
    }, 30_000);
    await stack.api('POST', `/operators/${OP}/users`, { username: 'noc-admin', password: 'noc-admin-pw-1', role: 'operator_admin' });
    await stack.api('POST', `/operators/${OP}/users`, { username: 'noc-viewer', password: 'noc-viewer-pw-1', role: 'operator_readonly' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  async function openAs(username: string, password: string, viewport: { width: number; height: number }): Promise<Page> {
    const ctx = await browser!.newContext({ viewport });
    await ctx.clock.install({ time: stack.clock.nowMs() });
    const page = await ctx.newPage();
    await watchPage(page, errors);
    await login(page, stack.httpUrl, username, password, '#nav a[href="#/subjects"]');
    await page.click('#nav a[href="#/subjects"]');
    try {
      await page.waitForSelector('#ip-groups-table', { state: 'attached', timeout: 10_000 });
    } catch (err) {
      await page.screenshot({ path: path.join(SHOTS, 'h2-debug.png') });
      throw new Error(`${(err as Error).message}\n${await page.innerText('body')}`);
    }
    await page.waitForSelector('[data-exporter="127.0.0.1"]');
    return page;
  }

  const shot = shooter('h2', errors);

  /** Answers the next confirm() with `accept`, returning its text. */
  function nextDialog(page: Page, accept = true): Promise<string> {
    return new Promise((resolve) => page.once('dialog', async (d) => { resolve(d.message()); await (accept ? d.accept() : d.dismiss()); }));
  }

  t.test('operator_admin edits IP groups and interfaces', async (t) => {
    const page = await openAs('noc-admin', 'noc-admin-pw-1', { width: 1366, height: 768 });

    await page.fill('#ipg-name', 'cust-c');
    await page.fill('#ipg-prefixes', '10.3.0.0/16\n10.3.0.1/8');
    await page.click('#ipg-save');
    await page.waitForFunction(() => /10\.3\.0\.1\/8/.test(document.querySelector('#ipg-prefixes-error')?.textContent ?? ''));
    t.match(await page.textContent('#ipg-prefixes-error'), /"10\.3\.0\.1\/8": .*host bits/i, 'the hub\'s error next to the field');
    t.notMatch(await page.textContent('#ip-groups-table'), /cust-c/, 'not saved');
    await shot(page, 'bad-prefix');

    await page.fill('#ipg-prefixes', '10.3.0.0/16\n10.1.5.0/24\n10.4.0.10-10.4.0.20');
    await page.click('#ipg-preview-button');
    await page.waitForSelector('#ipg-overlaps.notice');
    t.match(await page.textContent('#ipg-overlaps'), /10\.1\.5\.0\/24 overlaps 10\.1\.0\.0\/16 of cust-a/);
    t.equal(await page.textContent('#ipg-prefixes-error'), '', 'no error left');
    await shot(page, 'preview');

    await page.fill('#ipg-prefixes', '10.3.0.0/16\n10.4.0.10-10.4.0.20');
    await page.click('#ipg-save');
    await page.waitForFunction(() => /cust-c/.test(document.querySelector('#ip-groups-table')?.textContent ?? ''));
    t.match(await page.textContent('#ip-groups-table'), /10\.3\.0\.0\/16, 10\.4\.0\.10-10\.4\.0\.20/);
    t.same((await stack.api('GET', `/operators/${OP}/ip-groups/cust-c`)).ipGroup.prefixes, ['10.3.0.0/16', '10.4.0.10-10.4.0.20']);
    await shot(page, 'group-saved');

    const asked = nextDialog(page);
    await page.click('button[data-delete="cust-c"]');
    t.match(await asked, /current cycle is billed now/);
    await page.waitForFunction(() => !/cust-c/.test(document.querySelector('#ip-groups-table')?.textContent ?? ''));
    await t.rejects(stack.api('GET', `/operators/${OP}/ip-groups/cust-c`), /404/, 'deleted on the hub');

    // Interfaces: names from the exporter's options data.
    const block = '[data-exporter="127.0.0.1"]';
    t.match(await page.textContent(`${block} [data-if-name="127.0.0.1/1"]`), 'Gi0/0/1');
    t.match(await page.textContent(block), /Transit uplink/);
    t.ok(await page.isDisabled(`${block} input[data-if="127.0.0.1/2"]`), 'every interface billed: boxes locked');
    await page.uncheck('#if-all');
    await page.waitForFunction(() => !(document.querySelector('input[data-if="127.0.0.1/2"]') as HTMLInputElement | null)?.disabled);
    t.equal((await stack.api('GET', `/operators/${OP}/interface-selection`)).selection.allInterfaces, false);
    const deselect = nextDialog(page);
    await page.uncheck(`${block} input[data-if="127.0.0.1/2"]`);
    t.match(await deselect, /127\.0\.0\.1 ifIndex 2 \(Gi0\/0\/2\).*billed now/);
    // This save's own message: unticking "bill every interface" above already showed "Selection saved".
    await page.waitForFunction(() => /Selection saved; billed now/.test(document.querySelector('#subjects-message')?.textContent ?? ''));
    const sel = (await stack.api('GET', `/operators/${OP}/interface-selection`)).selection;
    t.same(sel.interfaces, [{ exporter: '127.0.0.1', ifIndex: 1 }], 'ifIndex 2 no longer a billing subject');

    await page.fill(`${block} input[data-if-name-input="127.0.0.1/1"]`, 'Transit A (AS64500)');
    await page.press(`${block} input[data-if-name-input="127.0.0.1/1"]`, 'Enter');
    await page.waitForFunction(() => document.querySelector('[data-if-name="127.0.0.1/1"]')?.textContent === 'Transit A (AS64500)');
    t.pass('the operator\'s name replaces the exporter\'s');
    const { subjects } = await stack.api('GET', `/operators/${OP}/subjects`);
    t.ok(subjects.some((x: { label: string }) => x.label === 'Transit A (AS64500) (127.0.0.1 ifIndex 1)'), 'the dashboard\'s subject label carries the name');
    t.ok(subjects.some((x: { label: string }) => x.label === 'Gi0/0/2 (127.0.0.1 ifIndex 2)'), 'and the exporter\'s ifName where the operator gave none');
    await shot(page, 'interfaces-1366');
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot(page, 'subjects-1280');
    await page.context().close();
  });

  t.test('operator_readonly sees subjects without controls', async (t) => {
    const page = await openAs('noc-viewer', 'noc-viewer-pw-1', { width: 1280, height: 900 });
    t.equal(await page.$('#ipg-form'), null, 'no group form');
    t.equal(await page.$('button[data-delete]'), null, 'no delete');
    t.ok(await page.isDisabled('#if-all'));
    t.equal(await page.$('[data-if-name-input]'), null, 'no naming');
    t.match(await page.textContent('[data-if-name="127.0.0.1/1"]'), 'Transit A (AS64500)');
    await shot(page, 'readonly');
    await page.context().close();
  });

  t.test('no page error, console error, CSP violation or blank text', async (t) => {
    t.same(errors, []);
  });
}
