import type { Content, TDocumentDefinitions } from 'pdfmake/interfaces';
import type { Bill, BillSamples } from './bill';
import { explainBill, NOT_RECORDED } from './bill-explanation';
import { billGraph, billGraphSvg } from './bill-graph';
import { renderPdf } from '../pdf/render-pdf';
import { formatMoney } from '../../common/money';
import { SLOT_SEC } from './percentile';
import { bytesPerSlotToBps, formatBps } from './rates';

const SAMPLE_GROUPS_PER_ROW = 3;

const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');

/** The bill's report: plan, period, figures, rule, graph and every 5-minute sample. */
export function billPdfDefinition(bill: Bill, samples: BillSamples): TDocumentDefinitions {
  const money = (m: number) => formatMoney(m, bill.charge.currency);
  const t = bill.tariff;
  const explanation = explainBill(bill, samples);
  const s = explanation.slots;
  const fig = (v: number | null) => (v === null ? NOT_RECORDED : String(v));
  const facts: [string, string][] = [
    ['Plan', bill.planName],
    ['Subject', bill.subjectId],
    ['Billing cycle', `${iso(bill.cycleStartSec)} – ${iso(bill.cycleEndSec)}`],
    ['Billed period', `${iso(bill.spanStartSec)} – ${iso(bill.spanEndSec)}`],
    ['Reason', bill.reason.replace(/_/g, ' ')],
    ['95th percentile method', bill.method === 'merge' ? 'In & Out merge (in and out samples pooled)' : 'In & Out separate (higher of in and out)'],
    ['Samples (n)', `${bill.n} five-minute slots per direction; ${bill.rankedSamples} ranked`],
    ['Discarded', `${bill.discardedSamples} highest samples (floor(${bill.rankedSamples}/20)); the next, number ${fig(s.takenRank)} from the top, is the 95th`],
    ['Coverage', `${fig(s.presentSlots)} of ${fig(s.spanSlots)} slots with data, ${fig(s.zeroFilledSlots)} without (counted as zero): ` +
      `${s.coveragePercent === null ? NOT_RECORDED : `${s.coveragePercent.toFixed(2)} %`}; the operator's collectors reported in ${fig(s.edgeReportedSlots)}`],
    ['Share of the cycle', `${fig(s.billedSlots)} of ${fig(s.cycleSlots)} five-minute slots${explanation.prorated ? ' (prorated)' : ''}`],
    ...(bill.p95InBps !== undefined ? [['95th in / out', `${formatBps(bill.p95InBps)} / ${formatBps(bill.p95OutBps!)}`] as [string, string]] : []),
    ...(bill.p95MergedBps !== undefined ? [['95th merged', formatBps(bill.p95MergedBps)] as [string, string]] : []),
    ['Billed 95th percentile', `${formatBps(bill.p95Bps)} (${Math.round(bill.p95Bps)} bps)`],
    ['Tariff', `base ${formatBps(t.baseSpeedBps)} for ${money(t.baseCostMinor)}; +${money(t.additionalCostMinor)} per ${formatBps(t.additionalSpeedBps)}`],
    ['Additional blocks', String(bill.charge.additionalBlocks)],
    ['Amount', money(bill.charge.amountMinor)],
    ['Rule', bill.charge.rule],
  ];
  const rows: Content[][] = [];
  const n = samples.bytesIn.length;
  const perCol = Math.ceil(n / SAMPLE_GROUPS_PER_ROW);
  const header: Content[] = [];
  for (let g = 0; g < SAMPLE_GROUPS_PER_ROW; g++) header.push({ text: 'slot start (UTC)', bold: true }, { text: 'in bps', bold: true }, { text: 'out bps', bold: true });
  rows.push(header);
  for (let r = 0; r < perCol; r++) {
    const row: Content[] = [];
    for (let g = 0; g < SAMPLE_GROUPS_PER_ROW; g++) {
      const i = g * perCol + r;
      if (i < n) {
        const mark = samples.reported[i] ? '' : ' -';
        row.push(iso(samples.firstSlotSec + i * SLOT_SEC).slice(0, 16), String(Math.round(bytesPerSlotToBps(samples.bytesIn[i]!))) + mark, String(Math.round(bytesPerSlotToBps(samples.bytesOut[i]!))));
      } else row.push('', '', '');
    }
    rows.push(row);
  }
  return {
    info: { title: `Bill ${bill.billNo}`, subject: `${bill.planName} ${bill.subjectId}` },
    defaultStyle: { font: 'Helvetica', fontSize: 9 },
    pageMargins: [40, 40, 40, 40],
    content: [
      { text: `Bandwidth bill no. ${bill.billNo}`, fontSize: 16, bold: true, margin: [0, 0, 0, 8] },
      { table: { widths: [130, '*'], body: facts.map(([k, v]) => [{ text: k, bold: true }, v]) }, layout: 'lightHorizontalLines' },
      // Self-contained: the figures again, in sentences a customer can follow with a calculator.
      { text: 'How this amount was computed', bold: true, fontSize: 11, margin: [0, 12, 0, 4] },
      { ol: explanation.steps, margin: [0, 0, 0, 4] },
      { text: 'Speed over time (in, out, billed 95th)', bold: true, margin: [0, 12, 0, 4] },
      { svg: billGraphSvg(billGraph(bill, samples)), width: 515 },
      { text: `5-minute samples (${n}; - marks slots with no report, counted as 0 bps)`, bold: true, margin: [0, 12, 0, 4], pageBreak: 'before' },
      { table: { headerRows: 1, widths: Array(SAMPLE_GROUPS_PER_ROW).fill(['*', 'auto', 'auto']).flat(), body: rows }, fontSize: 6, layout: 'noBorders' },
    ],
  };
}

/** Rendered with the hub's standard fonts (hub/pdf/render-pdf.ts: Helvetica, text the font can draw). */
export async function renderBillPdf(bill: Bill, samples: BillSamples): Promise<Uint8Array> {
  return renderPdf(billPdfDefinition(bill, samples));
}
