/**
 * Issue 11, "Reports and PDF": the bill PDF as a reader sees it, text extracted with poppler's
 * pdftotext (what a customer's PDF viewer copies out): the operator, customer and plan names, dates
 * with their time zone, the billed span exactly as billed (first slot's start to last slot's end),
 * glyphs the embedded font draws (the arrow once printed as "!"), and no developer wording.
 * Each page is also rendered with pdftoppm to test-output/screenshots/h6-pdf-*.png to be looked at.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeBill, samplesFromSeries, type Bill, type BillSamples } from '../../../hub/billing/bill';
import { cycleContaining } from '../../../hub/billing/bill-cycle';
import { renderBillPdf, type BillParties } from '../../../hub/billing/bill-pdf';
import { rateTicks, timeTicks } from '../../../hub/billing/bill-graph';
import { bpsToBytesPerSlot } from '../../../hub/billing/rates';
import type { Tariff } from '../../../hub/billing/bill-plan';
import { reportClock, reportSpan } from '../../../hub/pdf/report-time';

const sec = (iso: string) => Date.parse(iso) / 1000;
const SHOTS = 'test-output/screenshots';

const tariff = (method: Tariff['percentileMethod']): Tariff => ({
  effectiveFromSec: 0, currency: 'EUR', baseSpeedBps: 10_000_000, baseCostMinor: 10_000, additionalSpeedBps: 1_000_000, additionalCostMinor: 750, percentileMethod: method,
});

/** A diurnal-looking series over the span: 8-30 Mbps in, a third of that out, a burst every day at 20:00. */
function bill(opts: { subjectId: string; fromIso: string; toIso: string; method: Tariff['percentileMethod']; reason: Bill['reason']; planName: string }): { bill: Bill; samples: BillSamples } {
  const span = { startSec: sec(opts.fromIso), endSec: sec(opts.toIso) };
  const cycle = cycleContaining('monthly', 1, span.startSec);
  const points = [];
  for (let s = Math.floor(span.startSec / 300) * 300; s < span.endSec; s += 300) {
    const hour = new Date(s * 1000).getUTCHours();
    const inBps = 8e6 + 22e6 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI)) + (hour === 20 ? 40e6 : 0);
    if ((s / 300) % 97 === 0) continue; // a few slots without a report
    points.push({ bucketStartSec: s, bytesIn: bpsToBytesPerSlot(inBps), bytesOut: bpsToBytesPerSlot(inBps / 3), packetsIn: 1, packetsOut: 1, flowsIn: 1, flowsOut: 1 });
  }
  const samples = samplesFromSeries(span, points);
  return {
    samples,
    bill: computeBill({
      plan: { operatorId: 'isp1', planId: 'p1', name: opts.planName, emails: [] }, tariff: tariff(opts.method), cycle, span,
      subjectId: opts.subjectId, reason: opts.reason, samples, billNo: 42, generatedAtMs: span.endSec * 1000 + 17_000,
    }),
  };
}

async function pdfText(name: string, b: { bill: Bill; samples: BillSamples }, parties: BillParties): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'h6-pdf-'));
  try {
    const file = join(dir, 'bill.pdf');
    writeFileSync(file, await renderBillPdf(b.bill, b.samples, parties));
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    // Pages as PNGs for a person to look at (the first two: facts and graph; the samples table).
    mkdirSync(SHOTS, { recursive: true });
    execFileSync('pdftoppm', ['-png', '-r', '90', '-f', '1', '-l', '2', file, join(dir, 'page')]);
    for (const f of readdirSync(dir).filter((x) => x.startsWith('page'))) renameSync(join(dir, f), join(SHOTS, `h6-pdf-${name}-${f.replace(/^page-0*/, 'p')}`));
    return text;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What must never reach a reader of the PDF, whatever the bill. */
function checkNoDeveloperWording(t: Test, text: string): void {
  t.notOk(text.includes('!'), 'no "!" (the arrow the standard font cannot draw)');
  t.notOk(/[→←↑↓]/.test(text), 'no arrows');
  t.notOk(/minor units|unrounded|floor\(|\bsubjectId\b|\bipg:|\bif:|undefined|NaN|\[object|\bnull\b/i.test(text), 'no developer wording');
  t.notOk(/\d{4}-\d\d-\d\dT\d\d:\d\d/.test(text), 'no ISO timestamps');
}

t.test('mid-slot removal, UTC: names, zone named, span exactly as billed (slots counted), axes ticked', async (t) => {
  // Joined 10 Nov 12:02:30, removed 12 Nov 09:57:10: the slots that overlap the span are billed (period-slots.ts).
  const b = bill({ subjectId: 'if:192.0.2.1/7', fromIso: '2026-11-10T12:02:30Z', toIso: '2026-11-12T09:57:10Z', method: 'separate', reason: 'subject_removed', planName: 'Transit 10M burst' });
  const text = await pdfText('removal-utc', b, { operatorName: 'Example Networks Kft.', customerName: 'Acme Hosting Ltd' });
  const flat = text.replace(/\s+/g, ' ');
  for (const needle of [
    'Example Networks Kft.', 'Acme Hosting Ltd', 'Transit 10M burst', 'Interface 7 of 192.0.2.1',
    'Billed period 10 Nov 2026 12:00 to 12 Nov 2026 10:00 UTC (552 five-minute slots)',
    'The billed period, 10 Nov 2026 12:00 to 12 Nov 2026 10:00 UTC, has 552 five-minute slots.',
    'Billing cycle 1 Nov 2026 00:00 to 1 Dec 2026 00:00 UTC',
    'Taken out of the plan during the cycle', 'Time (UTC)', 'slot start (UTC)', 'How this amount was computed',
  ]) t.ok(flat.includes(needle), `PDF: "${needle}"`);
  t.match(flat, /\b\d+(\.\d+)? Mbps\b/, 'rate ticks in SI units');
  t.match(flat, /11 Nov\b/, 'a time tick at the local midnight');
  checkNoDeveloperWording(t, text);
});

t.test('a whole month in the operator\'s zone (merge): times in Europe/Budapest with the zone named', async (t) => {
  const b = bill({ subjectId: 'ipg:acme', fromIso: '2026-10-01T00:00:00Z', toIso: '2026-11-01T00:00:00Z', method: 'merge', reason: 'cycle_end', planName: 'Gold 10M' });
  const text = await pdfText('month-budapest', b, { operatorName: 'Example Networks Kft.', customerName: 'Acme Hosting Ltd', timeZone: 'Europe/Budapest' });
  const flat = text.replace(/\s+/g, ' ');
  // 1 Oct 00:00 UTC is 02:00 CEST; 1 Nov 00:00 UTC is 01:00 CET (summer time ended on 25 Oct).
  t.ok(flat.includes('1 Oct 2026 02:00 to 1 Nov 2026 01:00 Europe/Budapest (8928 five-minute slots)'), 'billed span in the operator\'s zone');
  t.ok(flat.includes('The billed period, 1 Oct 2026 02:00 to 1 Nov 2026 01:00 Europe/Budapest, has 8928'), 'the explanation in the same zone');
  t.ok(flat.includes('Time (Europe/Budapest)'));
  t.ok(flat.includes('IP group acme'));
  t.ok(flat.includes('End of the billing cycle'));
  checkNoDeveloperWording(t, text);
});

t.test('without names: the operator id and the traffic counted, still in words', async (t) => {
  const b = bill({ subjectId: 'ipg:acme', fromIso: '2026-11-01T00:00:00Z', toIso: '2026-11-01T06:00:00Z', method: 'merge', reason: 'generated_now', planName: 'Gold' });
  const flat = (await pdfText('no-names', b, {})).replace(/\s+/g, ' ');
  t.ok(flat.includes('Operator isp1'));
  t.ok(flat.includes('Customer IP group acme'));
  t.ok(flat.includes('Interim bill for the cycle so far'));
});

t.test('ticks: local hours/days of the zone; 1-2-5 rate steps in SI units', async (t) => {
  const day = timeTicks(sec('2026-11-10T00:00:00Z'), sec('2026-11-11T00:00:00Z'));
  t.same(day.map((x) => x.label), ['10 Nov', '03:00', '06:00', '09:00', '12:00', '15:00', '18:00', '21:00', '11 Nov']);
  const month = timeTicks(sec('2026-10-01T00:00:00Z'), sec('2026-11-01T00:00:00Z'), 'Europe/Budapest');
  t.ok(month.length >= 3 && month.length <= 9, `${month.length} ticks over a month`);
  t.equal(reportClock(month[0]!.sec, 'Europe/Budapest'), '00:00', 'on a local midnight');
  t.same(rateTicks(43e6).map((x) => x.label), ['0 bps', '10 Mbps', '20 Mbps', '30 Mbps', '40 Mbps']);
  t.same(rateTicks(950).map((x) => x.label), ['0 bps', '200 bps', '400 bps', '600 bps', '800 bps']);
  t.equal(reportSpan(sec('2026-11-10T12:00:00Z'), sec('2026-11-12T10:00:00Z')), '10 Nov 2026 12:00 to 12 Nov 2026 10:00 UTC');
});
