import type { Bill, BillSamples } from './bill';
import { SLOT_SEC } from './percentile';
import { bytesPerSlotToBps, formatBps } from './rates';
import { REPORT_DEFAULT_ZONE, reportClock, reportDay, zoneName, zoneOffsetSec } from '../pdf/report-time';

/** The speed-time graph of a bill: every slot's in and out rate, and the billed 95th as a line. */
export interface BillGraph {
  slotStartSec: number[];
  inBps: number[];
  outBps: number[];
  /** 1 where the subject was reported in the slot. */
  reported: number[];
  p95Bps: number;
  p95InBps?: number;
  p95OutBps?: number;
  method: Bill['method'];
}

export function billGraph(bill: Bill, samples: BillSamples): BillGraph {
  const n = samples.bytesIn.length;
  const g: BillGraph = { slotStartSec: new Array(n), inBps: new Array(n), outBps: new Array(n), reported: Array.from(samples.reported), p95Bps: bill.p95Bps, method: bill.method };
  for (let i = 0; i < n; i++) {
    g.slotStartSec[i] = samples.firstSlotSec + i * SLOT_SEC;
    g.inBps[i] = bytesPerSlotToBps(samples.bytesIn[i]!);
    g.outBps[i] = bytesPerSlotToBps(samples.bytesOut[i]!);
  }
  if (bill.p95InBps !== undefined) { g.p95InBps = bill.p95InBps; g.p95OutBps = bill.p95OutBps; }
  return g;
}

/** Tick steps the time axis may use: whole hours and days, so labels read like a clock or a calendar. */
const TIME_STEPS_SEC = [3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400];
const MAX_TIME_TICKS = 8;

/** Time ticks over [fromSec, toSec]: local midnights / whole hours of the zone (offset taken at the span's start). */
export function timeTicks(fromSec: number, toSec: number, timeZone = REPORT_DEFAULT_ZONE): { sec: number; label: string }[] {
  const span = Math.max(1, toSec - fromSec);
  const step = TIME_STEPS_SEC.find((s) => span / s <= MAX_TIME_TICKS) ?? TIME_STEPS_SEC[TIME_STEPS_SEC.length - 1]!;
  const offset = zoneOffsetSec(fromSec, timeZone);
  const align = Math.min(step, 86400);
  const ticks: { sec: number; label: string }[] = [];
  for (let local = Math.ceil((fromSec + offset) / align) * align; local - offset <= toSec; local += step) {
    const sec = local - offset;
    const midnight = reportClock(sec, timeZone) === '00:00';
    ticks.push({ sec, label: step >= 86400 || midnight ? reportDay(sec, timeZone).replace(/ \d{4}$/, '') : reportClock(sec, timeZone) });
  }
  return ticks;
}

/** Rate ticks from 0: a 1-2-5 step giving 3 to 6 lines up to maxBps, labelled in SI units (formatBps). */
export function rateTicks(maxBps: number): { bps: number; label: string }[] {
  const raw = Math.max(maxBps, 1) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: { bps: number; label: string }[] = [];
  for (let i = 0; i * step <= maxBps * (1 + 1e-9); i++) ticks.push({ bps: i * step, label: formatBps(i * step) });
  return ticks;
}

/**
 * The graph as SVG for the PDF, with a time axis (ticks at local hours or days of the zone, the zone
 * named) and a rate axis (SI ticks). A month has 8928 slots and a page is ~500 points wide, so each
 * column shows the highest rate of the slots it covers: peaks stay visible (an average would hide
 * exactly the bursts the 95th is about).
 */
export function billGraphSvg(g: BillGraph, opts: { timeZone?: string; widthPt?: number; heightPt?: number } = {}): string {
  const widthPt = opts.widthPt ?? 515, heightPt = opts.heightPt ?? 210;
  const timeZone = opts.timeZone ?? REPORT_DEFAULT_ZONE;
  const left = 58, right = 10, top = 16, bottom = 30;
  const w = widthPt - left - right;
  const h = heightPt - top - bottom;
  const n = g.inBps.length;
  const firstSec = g.slotStartSec[0] ?? 0;
  const lastSec = (g.slotStartSec[n - 1] ?? firstSec) + SLOT_SEC;
  const peak = Math.max(1, g.p95Bps, ...peaks(g.inBps, 1), ...peaks(g.outBps, 1));
  const rTicks = rateTicks(peak * 1.05);
  const maxBps = Math.max(peak * 1.05, rTicks[rTicks.length - 1]!.bps);
  const y = (bps: number) => (top + h - (bps / maxBps) * h).toFixed(1);
  const x = (sec: number) => (left + ((sec - firstSec) / Math.max(1, lastSec - firstSec)) * w).toFixed(1);
  const columns = Math.max(1, Math.min(n, Math.floor(w)));
  const line = (values: number[]) => {
    const cols = peaks(values, columns);
    return cols.map((v, i) => `${(left + (cols.length === 1 ? 0 : (i / (cols.length - 1)) * w)).toFixed(1)},${y(v)}`).join(' ');
  };
  const p95y = y(g.p95Bps);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPt}" height="${heightPt}" viewBox="0 0 ${widthPt} ${heightPt}">`,
  ];
  for (const t of rTicks) {
    out.push(`<line x1="${left}" y1="${y(t.bps)}" x2="${left + w}" y2="${y(t.bps)}" stroke="#ddd" stroke-width="0.4"/>`);
    out.push(`<text x="${left - 4}" y="${(Number(y(t.bps)) + 2.5).toFixed(1)}" font-size="7" text-anchor="end">${esc(t.label)}</text>`);
  }
  for (const t of n > 0 ? timeTicks(firstSec, lastSec, timeZone) : []) {
    out.push(`<line x1="${x(t.sec)}" y1="${top}" x2="${x(t.sec)}" y2="${top + h + 3}" stroke="#ddd" stroke-width="0.4"/>`);
    out.push(`<text x="${x(t.sec)}" y="${top + h + 11}" font-size="7" text-anchor="middle">${esc(t.label)}</text>`);
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999" stroke-width="0.5"/>`,
    n > 0 ? `<polyline points="${line(g.inBps)}" fill="none" stroke="#1f77b4" stroke-width="0.6"/>` : '',
    n > 0 ? `<polyline points="${line(g.outBps)}" fill="none" stroke="#2ca02c" stroke-width="0.6"/>` : '',
    `<line x1="${left}" y1="${p95y}" x2="${left + w}" y2="${p95y}" stroke="#d62728" stroke-width="1" stroke-dasharray="4,2"/>`,
    `<text x="${left + w / 2}" y="${heightPt - 4}" font-size="7" text-anchor="middle">Time (${esc(zoneName(timeZone))})</text>`,
    `<text x="${left}" y="${top - 5}" font-size="7" text-anchor="end">Rate</text>`,
    `<text x="${left + 4}" y="${top - 5}" font-size="7" fill="#1f77b4">in</text>`,
    `<text x="${left + 20}" y="${top - 5}" font-size="7" fill="#2ca02c">out</text>`,
    `<text x="${left + 42}" y="${top - 5}" font-size="7" fill="#d62728">billed 95th percentile ${esc(formatBps(g.p95Bps))}</text>`,
    '</svg>',
  );
  return out.join('');
}

/** Splits values into `columns` runs and keeps each run's maximum. */
function peaks(values: number[], columns: number): number[] {
  const n = values.length;
  if (n === 0) return [0];
  const cols = Math.min(columns, n);
  const out = new Array<number>(cols).fill(0);
  for (let i = 0; i < n; i++) {
    const c = Math.min(cols - 1, Math.floor((i * cols) / n));
    if (values[i]! > out[c]!) out[c] = values[i]!;
  }
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
