import type { Bill, BillSamples } from './bill';
import { SLOT_SEC } from './percentile';
import { bytesPerSlotToBps, formatBps } from './rates';

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

/**
 * The graph as SVG for the PDF. A month has 8928 slots and a page is ~500 points wide, so each
 * column shows the highest rate of the slots it covers: peaks stay visible (an average would hide
 * exactly the bursts the 95th is about).
 */
export function billGraphSvg(g: BillGraph, widthPt = 515, heightPt = 200): string {
  const left = 48, right = 8, top = 14, bottom = 22;
  const w = widthPt - left - right;
  const h = heightPt - top - bottom;
  const n = g.inBps.length;
  const maxBps = Math.max(1, g.p95Bps, ...peaks(g.inBps, 1), ...peaks(g.outBps, 1)) * 1.05;
  const y = (bps: number) => (top + h - (bps / maxBps) * h).toFixed(1);
  const columns = Math.max(1, Math.min(n, Math.floor(w)));
  const line = (values: number[]) => {
    const cols = peaks(values, columns);
    return cols.map((v, i) => `${(left + (cols.length === 1 ? 0 : (i / (cols.length - 1)) * w)).toFixed(1)},${y(v)}`).join(' ');
  };
  const fmtDay = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 10);
  const firstSec = g.slotStartSec[0] ?? 0;
  const lastSec = (g.slotStartSec[n - 1] ?? firstSec) + SLOT_SEC;
  const p95y = y(g.p95Bps);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPt}" height="${heightPt}" viewBox="0 0 ${widthPt} ${heightPt}">`,
    `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999" stroke-width="0.5"/>`,
    n > 0 ? `<polyline points="${line(g.inBps)}" fill="none" stroke="#1f77b4" stroke-width="0.6"/>` : '',
    n > 0 ? `<polyline points="${line(g.outBps)}" fill="none" stroke="#2ca02c" stroke-width="0.6"/>` : '',
    `<line x1="${left}" y1="${p95y}" x2="${left + w}" y2="${p95y}" stroke="#d62728" stroke-width="1" stroke-dasharray="4,2"/>`,
    `<text x="${left - 4}" y="${top + 4}" font-size="7" text-anchor="end">${esc(formatBps(maxBps))}</text>`,
    `<text x="${left - 4}" y="${top + h}" font-size="7" text-anchor="end">0</text>`,
    `<text x="${left}" y="${heightPt - 8}" font-size="7">${fmtDay(firstSec)}</text>`,
    `<text x="${left + w}" y="${heightPt - 8}" font-size="7" text-anchor="end">${fmtDay(lastSec)}</text>`,
    `<text x="${left + 4}" y="${top - 4}" font-size="7" fill="#1f77b4">in</text>`,
    `<text x="${left + 20}" y="${top - 4}" font-size="7" fill="#2ca02c">out</text>`,
    `<text x="${left + 42}" y="${top - 4}" font-size="7" fill="#d62728">95th ${esc(formatBps(g.p95Bps))}</text>`,
    '</svg>',
  ].join('');
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
