import type { Content, TDocumentDefinitions } from 'pdfmake/interfaces';
import type { Bill, BillSamples } from './bill';
import { explainBill, NOT_RECORDED } from './bill-explanation';
import { billGraph, billGraphSvg } from './bill-graph';
import { renderPdf } from '../pdf/render-pdf';
import { formatMoney } from '../../common/money';
import { SLOT_SEC } from './percentile';
import { bytesPerSlotToBps, formatBps } from './rates';
import { spanSlots } from './bill';
import { parseSubjectId } from '../../common/subject-id';
import { REPORT_DEFAULT_ZONE, reportClock, reportDateTime, reportDay, reportSpan, zoneName } from '../pdf/report-time';

const SAMPLE_GROUPS_PER_ROW = 3;

/**
 * Who and where the report is for, looked up by the caller (bill-parties.ts): names the bill itself
 * does not store, and the zone its times are printed in. Each falls back to something true: the
 * operator's id, the traffic the bill counted, UTC.
 */
export interface BillParties {
  operatorName?: string;
  customerName?: string;
  /** IANA zone of the operator; absent: UTC, and the report says UTC. */
  timeZone?: string;
}

const REASONS: Record<Bill['reason'], string> = {
  cycle_end: 'End of the billing cycle',
  subject_removed: 'Taken out of the plan during the cycle',
  subject_unmanaged: 'Traffic no longer collected during the cycle',
  plan_deleted: 'Plan closed during the cycle',
  generated_now: 'Interim bill for the cycle so far',
};

/** The traffic a bill counted, as a customer reads it ("IP group acme", "Interface 3 of 10.0.0.1"). */
export function describeSubject(subjectId: string): string {
  const p = parseSubjectId(subjectId);
  if (p?.kind === 'interface') return `Interface ${p.ifIndex} of ${p.exporter}`;
  if (p?.kind === 'ip_group') return `IP group ${p.group}`;
  return subjectId;
}

/** The bill's report: parties, plan, period, figures, the computation in words, graph and every 5-minute sample. */
export function billPdfDefinition(bill: Bill, samples: BillSamples, parties: BillParties = {}): TDocumentDefinitions {
  const tz = parties.timeZone ?? REPORT_DEFAULT_ZONE;
  const money = (m: number) => formatMoney(m, bill.charge.currency);
  const t = bill.tariff;
  const explanation = explainBill(bill, samples, tz); // its times in the zone the rest of the report uses
  const s = explanation.slots;
  const fig = (v: number | null) => (v === null ? NOT_RECORDED : String(v));
  // The span exactly as billed: the slots the bill counted, first slot's start to last slot's end.
  const billed = spanSlots({ startSec: bill.spanStartSec, endSec: bill.spanEndSec });
  const billedEndSec = billed.firstSlotSec + billed.n * SLOT_SEC;
  const traffic = describeSubject(bill.subjectId);
  const facts: [string, string][] = [
    ['Operator', parties.operatorName || bill.operatorId],
    ['Customer', parties.customerName || traffic],
    ['Traffic counted', traffic],
    ['Plan', bill.planName],
    ['Billing cycle', reportSpan(bill.cycleStartSec, bill.cycleEndSec, tz)],
    ['Billed period', `${reportSpan(billed.firstSlotSec, billedEndSec, tz)} (${billed.n} five-minute slots)`],
    ['Reason', REASONS[bill.reason] ?? bill.reason.replace(/_/g, ' ')],
    ['Issued', reportDateTime(Math.floor(bill.generatedAtMs / 1000), tz)],
    ['95th percentile method', bill.method === 'merge' ? 'In and out together (in and out samples pooled)' : 'In and out separately (the higher of the two)'],
    ['Samples', `${bill.n} five-minute samples per direction; ${bill.rankedSamples} ranked${bill.method === 'merge' ? ' together' : ' per direction'}`],
    ['Set aside', `the ${bill.discardedSamples} highest (5 % of ${bill.rankedSamples}, rounded down); the next, number ${fig(s.takenRank)} from the top, is the 95th percentile`],
    ['Coverage', `${fig(s.presentSlots)} of ${fig(s.spanSlots)} slots with data, ${fig(s.zeroFilledSlots)} without (counted as zero): ` +
      `${s.coveragePercent === null ? NOT_RECORDED : `${s.coveragePercent.toFixed(2)} %`}; the operator's collectors reported in ${fig(s.edgeReportedSlots)}`],
    ['Share of the cycle', `${fig(s.billedSlots)} of ${fig(s.cycleSlots)} five-minute slots${explanation.prorated ? ' (prorated)' : ''}`],
    ...(bill.p95InBps !== undefined ? [['95th in / out', `${formatBps(bill.p95InBps)} / ${formatBps(bill.p95OutBps!)}`] as [string, string]] : []),
    ...(bill.p95MergedBps !== undefined ? [['95th in and out together', formatBps(bill.p95MergedBps)] as [string, string]] : []),
    ['Billed 95th percentile', formatBps(bill.p95Bps)],
    ['Tariff', `${formatBps(t.baseSpeedBps)} included for ${money(t.baseCostMinor)} per cycle; each further ${formatBps(t.additionalSpeedBps)} or part of it: ${money(t.additionalCostMinor)}`],
    ['Additional steps', String(bill.charge.additionalBlocks)],
    ['Amount', money(bill.charge.amountMinor)],
  ];
  const rows: Content[][] = [];
  const n = samples.bytesIn.length;
  const perCol = Math.ceil(n / SAMPLE_GROUPS_PER_ROW);
  const header: Content[] = [];
  for (let g = 0; g < SAMPLE_GROUPS_PER_ROW; g++) header.push({ text: `slot start (${zoneName(tz)})`, bold: true }, { text: 'in bps', bold: true }, { text: 'out bps', bold: true });
  rows.push(header);
  for (let r = 0; r < perCol; r++) {
    const row: Content[] = [];
    for (let g = 0; g < SAMPLE_GROUPS_PER_ROW; g++) {
      const i = g * perCol + r;
      if (i < n) {
        const mark = samples.reported[i] ? '' : ' -';
        const slotSec = samples.firstSlotSec + i * SLOT_SEC;
        row.push(`${reportDay(slotSec, tz)} ${reportClock(slotSec, tz)}`, String(Math.round(bytesPerSlotToBps(samples.bytesIn[i]!))) + mark, String(Math.round(bytesPerSlotToBps(samples.bytesOut[i]!))));
      } else row.push('', '', '');
    }
    rows.push(row);
  }
  return {
    info: { title: `Bill ${bill.billNo}`, subject: `${bill.planName}, ${parties.customerName || traffic}` },
    defaultStyle: { font: 'Helvetica', fontSize: 9 },
    pageMargins: [40, 40, 40, 40],
    content: [
      { text: `Bandwidth bill no. ${bill.billNo}`, fontSize: 16, bold: true, margin: [0, 0, 0, 2] },
      { text: `${parties.operatorName || bill.operatorId} for ${parties.customerName || traffic}`, fontSize: 11, margin: [0, 0, 0, 8] },
      { table: { widths: [130, '*'], body: facts.map(([k, v]) => [{ text: k, bold: true }, v]) }, layout: 'lightHorizontalLines' },
      // Self-contained: the figures again, in sentences a customer can follow with a calculator.
      { text: 'How this amount was computed', bold: true, fontSize: 11, margin: [0, 12, 0, 4] },
      { ol: explanation.steps, margin: [0, 0, 0, 4] },
      { text: 'Speed over time (in, out, billed 95th)', bold: true, margin: [0, 12, 0, 4] },
      { svg: billGraphSvg(billGraph(bill, samples), { timeZone: tz }), width: 515 },
      { text: `5-minute samples (${n}; - marks slots with no report, counted as 0 bps)`, bold: true, margin: [0, 12, 0, 4], pageBreak: 'before' },
      { table: { headerRows: 1, widths: Array(SAMPLE_GROUPS_PER_ROW).fill(['*', 'auto', 'auto']).flat(), body: rows }, fontSize: 6, layout: 'noBorders' },
    ],
  };
}

/** Rendered with the hub's standard fonts (hub/pdf/render-pdf.ts: Helvetica, text the font can draw). */
export async function renderBillPdf(bill: Bill, samples: BillSamples, parties: BillParties = {}): Promise<Uint8Array> {
  return renderPdf(billPdfDefinition(bill, samples, parties));
}
