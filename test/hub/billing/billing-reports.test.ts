import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PDFParse } from 'pdf-parse';
import { silentLogger } from '../../../common/logger';
import { createMailer, outboxDirOf } from '../../../hub/mail/create-mailer';
import { bpsToBytesPerSlot } from '../../../hub/billing/rates';
import { basePlan, ms, sec, setupBilling } from './billing-fixture';

const IF1 = 'if:10.0.0.1/1';

t.test('reports: data points JSON and CSV, graph, and a PDF that holds the figures', async (t) => {
  const { api, billing, series, mailer } = setupBilling('2026-11-01T00:00:00Z', { realPdf: true });
  const start = sec('2026-11-01T00:00:00Z');
  // 8640 slots at 12 Mbps in, 2 Mbps out, except a burst of 300 slots at 40 Mbps in
  const bytesIn: number[] = [];
  const bytesOut: number[] = [];
  for (let i = 0; i < 8640; i++) { bytesIn.push(bpsToBytesPerSlot(i < 300 ? 40e6 : 12e6)); bytesOut.push(bpsToBytesPerSlot(2e6)); }
  series.add('isp1', IF1, start, bytesIn, bytesOut);
  await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1] });
  await billing.runDueJobs(ms('2026-12-01T01:00:00Z'));
  const bill = (await api('GET', '/bills/1')).body.bill;
  // merge: 17280 samples, 864 dropped: the 865th highest is 12 Mbps (only 300 at 40 Mbps)
  t.equal(bill.p95Bps, 12e6);
  t.equal(bill.charge.additionalBlocks, 2);
  t.equal(bill.charge.amountMinor, 55_000);

  const dp = await api('GET', '/bills/1/data-points');
  t.equal(dp.body.dataPoints.length, 8640);
  t.same(dp.body.dataPoints[0], { slotStartSec: start, slotStartIso: '2026-11-01T00:00:00.000Z', bytesIn: 1_500_000_000, bytesOut: 75_000_000, inBps: 40e6, outBps: 2e6, reported: true });
  const csv = await api('GET', '/bills/1/data-points.csv');
  t.match(csv.headers['content-type'], /^text\/csv/);
  const rows = csv.body.split('\r\n');
  t.equal(rows[0], 'slot_start_utc,slot_start_sec,bytes_in,bytes_out,in_bps,out_bps,reported');
  t.equal(rows[1], `2026-11-01T00:00:00.000Z,${start},1500000000,75000000,40000000,2000000,1`);
  t.equal(rows.length, 8640 + 2, 'header, one row per slot, final CRLF');

  const graph = (await api('GET', '/bills/1/graph')).body.graph;
  t.equal(graph.inBps.length, 8640);
  t.equal(graph.p95Bps, 12e6);

  const pdf = await api('GET', '/bills/1/pdf');
  t.equal(pdf.headers['content-type'], 'application/pdf');
  t.equal(pdf.raw.subarray(0, 5).toString(), '%PDF-');
  const text = (await new PDFParse({ data: new Uint8Array(pdf.raw) }).getText()).text;
  // Issue 11: the PDF names the traffic and prints dates for people ('1 Nov 2026 00:00 UTC'), not ids and ISO stamps.
  for (const needle of ['Bandwidth bill no. 1', 'Gold 10M', 'Interface 1 of 10.0.0.1', '1 Nov 2026 00:00 to 1 Dec 2026 00:00 UTC', '8640 five-minute slots', '17280 ranked', '864 highest', '12 Mbps', '550.00 USD', 'How this amount was computed', 'whole billing cycle (8640 slots)', 'or part of it', '1 Nov 2026 00:05', '40000000', 'Speed over time']) {
    t.ok(text.includes(needle), `PDF holds "${needle}"`);
  }

  t.equal(mailer.sent.length, 1, 'report mailed when generated');
  t.same(mailer.sent[0]!.to, ['noc@cust.example', 'billing@cust.example']);
  t.equal(mailer.sent[0]!.attachments![0]!.filename, 'bill-1.pdf');
  t.match(mailer.sent[0]!.text, /Amount: 550\.00 USD/);
  t.match(mailer.sent[0]!.text, /Samples: 8640 of 8640 five-minute slots reported, 0 without data counted as zero \(coverage 100\.00 %\); 8640 of 8640 slots of the cycle billed/);
  await billing.runDueJobs(ms('2026-12-01T02:00:00Z'));
  t.equal(mailer.sent.length, 1, 'mailed once');
  t.equal((await api('GET', '/bills/99/pdf')).status, 404);
});

t.test('with no SMTP configured the generated report lands in <dataDir>/mail-outbox with the PDF', async (t) => {
  const dataDir = t.testdir({});
  const mailer = createMailer({ dataDir, smtpUrl: undefined, mailFrom: 'billing@isp.example' }, silentLogger);
  const { api, billing, series, clock } = setupBilling('2026-11-20T00:00:00Z', { mailer, realPdf: true });
  series.add('isp1', IF1, sec('2026-11-20T00:00:00Z'), [bpsToBytesPerSlot(5e6)], [bpsToBytesPerSlot(1e6)]);
  const plan = (await api('POST', '/bill-plans', { ...basePlan, subjectIds: [IF1] })).body.plan;
  await billing.runDueJobs(ms('2026-11-20T00:00:00Z'));
  (clock as any).setMs(ms('2026-11-20T00:30:00Z'));
  await api('DELETE', `/bill-plans/${plan.planId}/subjects/${encodeURIComponent(IF1)}`);
  t.same(await readdir(outboxDirOf({ dataDir })).catch(() => []), [], 'mail is sent by the run, not in the request');
  await billing.runDueJobs(ms('2026-11-20T01:00:00Z'));
  const files = await readdir(outboxDirOf({ dataDir }));
  t.equal(files.length, 1);
  const eml = await readFile(path.join(outboxDirOf({ dataDir }), files[0]!), 'utf8');
  t.match(eml, /^To: noc@cust\.example, billing@cust\.example\r\n/m);
  t.match(eml, /^Subject: Bill 1: Gold 10M, if:10\.0\.0\.1\/1\r\n/m);
  t.match(eml, /Content-Type: application\/pdf; name=bill-1\.pdf/);
});
