import { formatMinor } from '../../common/money';
import type { Bill, BillSamples } from './bill';
import type { BillExplanation } from './bill-explanation';
import { NOT_RECORDED } from './bill-explanation';
import { SLOT_SEC } from './percentile';
import { bytesPerSlotToBps } from './rates';

/** One row per 5-minute slot of the bill: the data points the 95th was computed from. */
export interface DataPoint {
  slotStartSec: number;
  slotStartIso: string;
  bytesIn: number;
  bytesOut: number;
  inBps: number;
  outBps: number;
  reported: boolean;
}

export function dataPoints(samples: BillSamples): DataPoint[] {
  const out: DataPoint[] = [];
  for (let i = 0; i < samples.bytesIn.length; i++) {
    const slotStartSec = samples.firstSlotSec + i * SLOT_SEC;
    out.push({
      slotStartSec, slotStartIso: new Date(slotStartSec * 1000).toISOString(),
      bytesIn: samples.bytesIn[i]!, bytesOut: samples.bytesOut[i]!,
      inBps: bytesPerSlotToBps(samples.bytesIn[i]!), outBps: bytesPerSlotToBps(samples.bytesOut[i]!),
      reported: samples.reported[i] === 1,
    });
  }
  return out;
}

/** RFC 4180 CSV (CRLF line ends, header row); rates with up to 3 decimals, bytes exact. */
export function dataPointsCsv(samples: BillSamples): string {
  const rows = ['slot_start_utc,slot_start_sec,bytes_in,bytes_out,in_bps,out_bps,reported'];
  for (const p of dataPoints(samples)) {
    rows.push(`${p.slotStartIso},${p.slotStartSec},${p.bytesIn},${p.bytesOut},${round3(p.inBps)},${round3(p.outBps)},${p.reported ? 1 : 0}`);
  }
  return rows.join('\r\n') + '\r\n';
}

function round3(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

/**
 * The bill's figures as RFC 4180 CSV, one `field,value` row each: what a person needs beside the
 * data points to recompute the amount in a spreadsheet (slots, missing = zero, the 95th rule, the
 * tariff, proration). Money in major units of `currency`; "not recorded" where an old bill lacks a figure.
 */
export function billSummaryCsv(bill: Bill, explanation: BillExplanation): string {
  const s = explanation.slots;
  const c = bill.charge.currency;
  const t = bill.tariff;
  const iso = (sec: number) => new Date(sec * 1000).toISOString();
  const fig = (v: number | null) => (v === null ? NOT_RECORDED : String(v));
  const rows: [string, string | number][] = [
    ['bill_no', bill.billNo],
    ['plan', bill.planName],
    ['subject', bill.subjectId],
    ['reason', bill.reason],
    ['cycle_start_utc', iso(bill.cycleStartSec)],
    ['cycle_end_utc', iso(bill.cycleEndSec)],
    ['period_start_utc', iso(bill.spanStartSec)],
    ['period_end_utc', iso(bill.spanEndSec)],
    ['slots_in_period', fig(s.spanSlots)],
    ['samples_present', fig(s.presentSlots)],
    ['samples_zero_filled', fig(s.zeroFilledSlots)],
    ['coverage_percent', s.coveragePercent === null ? NOT_RECORDED : s.coveragePercent.toFixed(2)],
    ['collector_reported_slots', fig(s.edgeReportedSlots)],
    ['percentile_method', bill.method],
    ['samples_ranked', fig(s.rankedSamples)],
    ['samples_dropped', fig(s.droppedSamples)],
    ['taken_rank_from_top', fig(s.takenRank)],
    ['p95_bytes_per_slot', Math.round(bill.p95Bytes)],
    ['p95_bps', round3(bill.p95Bps)],
    ['base_speed_bps', t.baseSpeedBps],
    ['base_cost', formatMinor(t.baseCostMinor, c)],
    ['additional_speed_bps', t.additionalSpeedBps],
    ['additional_cost', formatMinor(t.additionalCostMinor, c)],
    ['additional_blocks', bill.charge.additionalBlocks],
    ['cycle_amount', formatMinor(bill.charge.cycleAmountMinor, c)],
    ['billed_slots', fig(s.billedSlots)],
    ['cycle_slots', fig(s.cycleSlots)],
    ['amount', formatMinor(bill.charge.amountMinor, c)],
    ['currency', c],
  ];
  return ['field,value', ...rows.map(([k, v]) => `${k},${csvField(String(v))}`)].join('\r\n') + '\r\n';
}

/**
 * RFC 4180: quote a field holding a comma, quote or line break; double the quotes inside. A text
 * starting like a formula (= + - @) gets a leading apostrophe, so a spreadsheet shows a plan name
 * instead of running it (OWASP "CSV injection"); no figure of this file starts that way.
 */
function csvField(raw: string): string {
  const v = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
