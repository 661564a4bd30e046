import type { BillSamples } from './bill';
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
