/**
 * One subject's day of 5-minute slots, and its compact binary value.
 *
 * A UTC day holds 288 slots of six additive counters. Most subjects report every slot, but a
 * subject that appears mid-day or an idle interface reports few, so the value is sparse:
 *
 *   byte 0        layout version (1)
 *   bytes 1..36   presence bitmap, slot i -> byte 1 + (i >> 3), bit (i & 7)
 *   then          for each present slot in ascending order, six unsigned LEB128 varints:
 *                 bytesIn, bytesOut, packetsIn, packetsOut, flowsIn, flowsOut
 *
 * Varints keep a full day of a busy interface near 288 x 6 x 5 bytes instead of 288 x 6 x 8.
 * Counts stay below 2^53 (ingest caps them), so plain JS numbers are exact.
 */
import { BUCKET_SEC } from '../../common/bucket';
import type { SeriesPoint, SlotColumns } from '../ports';

/** A slot holds one 5-minute bucket (common/bucket.ts). */
export const SLOT_SEC = BUCKET_SEC;
export const DAY_SEC = 86_400;
export const SLOTS_PER_DAY = DAY_SEC / SLOT_SEC; // 288
export const COUNTER_FIELDS = ['bytesIn', 'bytesOut', 'packetsIn', 'packetsOut', 'flowsIn', 'flowsOut'] as const;
export type CounterField = (typeof COUNTER_FIELDS)[number];
export type SlotCounters = Record<CounterField, number>;

const FIELDS = COUNTER_FIELDS.length;
const BITMAP_BYTES = SLOTS_PER_DAY / 8; // 36
const LAYOUT_VERSION = 1;

export interface DayChunk {
  /** Slot i's counters at [i * 6, i * 6 + 6), in COUNTER_FIELDS order. */
  readonly values: Float64Array;
  /** Which slots hold a report (a slot can be present with all counters zero: the edge reported silence). */
  readonly present: Uint8Array;
}

export function emptyDayChunk(): DayChunk {
  return { values: new Float64Array(SLOTS_PER_DAY * FIELDS), present: new Uint8Array(BITMAP_BYTES) };
}

export function dayStartSecOf(sec: number): number {
  return sec - (((sec % DAY_SEC) + DAY_SEC) % DAY_SEC);
}

export function slotOf(bucketStartSec: number): number {
  return Math.floor((bucketStartSec - dayStartSecOf(bucketStartSec)) / SLOT_SEC);
}

export function isSlotPresent(chunk: DayChunk, slot: number): boolean {
  return (chunk.present[slot >> 3] & (1 << (slot & 7))) !== 0;
}

/** Adds (never overwrites): summaries are additive, revisions add to the first report. */
export function addToSlot(chunk: DayChunk, slot: number, counters: SlotCounters): void {
  chunk.present[slot >> 3] |= 1 << (slot & 7);
  const base = slot * FIELDS;
  for (let f = 0; f < FIELDS; f++) chunk.values[base + f] += counters[COUNTER_FIELDS[f]];
}

export function readSlot(chunk: DayChunk, slot: number): SlotCounters {
  const base = slot * FIELDS;
  const v = chunk.values;
  return { bytesIn: v[base], bytesOut: v[base + 1], packetsIn: v[base + 2], packetsOut: v[base + 3], flowsIn: v[base + 4], flowsOut: v[base + 5] };
}

/** Worst case: every slot present, every counter a 7-byte varint (values < 2^50 after validation; 8 bytes up to 2^56). */
const scratch = new Uint8Array(1 + BITMAP_BYTES + SLOTS_PER_DAY * FIELDS * 8);

export function encodeDayChunk(chunk: DayChunk): Uint8Array {
  scratch[0] = LAYOUT_VERSION;
  scratch.set(chunk.present, 1);
  let pos = 1 + BITMAP_BYTES;
  const values = chunk.values;
  for (let slot = 0; slot < SLOTS_PER_DAY; slot++) {
    if ((chunk.present[slot >> 3] & (1 << (slot & 7))) === 0) continue;
    for (let i = slot * FIELDS, end = i + FIELDS; i < end; i++) {
      // Unsigned LEB128; counts exceed 32 bits.
      // Above 2^31 arithmetic (x * (1 / 128) is exact, a power of two), then integer operators.
      let v = values[i]!;
      while (v >= 0x80000000) {
        const q = Math.floor(v * (1 / 0x80));
        scratch[pos++] = (v - q * 0x80) | 0x80;
        v = q;
      }
      while (v >= 0x80) {
        scratch[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      scratch[pos++] = v;
    }
  }
  return scratch.slice(0, pos);
}

/** Throws on a value this code did not write (wrong version or truncated): storage corruption is loud. */
export function decodeDayChunk(bytes: Uint8Array): DayChunk {
  const len = bytes.length;
  if (len < 1 + BITMAP_BYTES || bytes[0] !== LAYOUT_VERSION) throw new Error(`day chunk: unknown layout (version ${bytes[0]}, ${len} bytes)`);
  const chunk = emptyDayChunk();
  chunk.present.set(bytes.subarray(1, 1 + BITMAP_BYTES));
  const values = chunk.values;
  let pos = 1 + BITMAP_BYTES;
  for (let b = 0; b < BITMAP_BYTES; b++) {
    const bits = bytes[1 + b]!;
    if (bits === 0) continue; // eight absent slots at once
    for (let bit = 0; bit < 8; bit++) {
      if ((bits & (1 << bit)) === 0) continue;
      for (let i = ((b << 3) | bit) * FIELDS, end = i + FIELDS; i < end; i++) {
        let value = 0;
        let scale = 1;
        for (;;) {
          if (pos >= len) throw new Error('day chunk: truncated');
          const byte = bytes[pos++]!;
          value += (byte & 0x7f) * scale;
          if (byte < 0x80) break;
          scale *= 0x80;
        }
        values[i] = value;
      }
    }
  }
  return chunk;
}

const slotScratch = new Float64Array(FIELDS);

/**
 * The read path: decodes one stored chunk straight into `out` as plain point objects (one literal
 * shape, no intermediate chunk, no spread), keeping slots whose start lies in [fromSec, toSec).
 * Same checks as decodeDayChunk: an unknown layout or a truncated value throws.
 */
export function decodeDayChunkPoints(bytes: Uint8Array, dayStartSec: number, fromSec: number, toSec: number, out: SeriesPoint[]): void {
  const len = bytes.length;
  if (len < 1 + BITMAP_BYTES || bytes[0] !== LAYOUT_VERSION) throw new Error(`day chunk: unknown layout (version ${bytes[0]}, ${len} bytes)`);
  let pos = 1 + BITMAP_BYTES;
  for (let b = 0; b < BITMAP_BYTES; b++) {
    const bits = bytes[1 + b]!;
    if (bits === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if ((bits & (1 << bit)) === 0) continue;
      // Six varints, in COUNTER_FIELDS order.
      for (let f = 0; f < FIELDS; f++) {
        let value = 0;
        let scale = 1;
        for (;;) {
          if (pos >= len) throw new Error('day chunk: truncated');
          const byte = bytes[pos++]!;
          value += (byte & 0x7f) * scale;
          if (byte < 0x80) break;
          scale *= 0x80;
        }
        slotScratch[f] = value;
      }
      const bucketStartSec = dayStartSec + ((b << 3) | bit) * SLOT_SEC;
      if (bucketStartSec < fromSec || bucketStartSec >= toSec) continue;
      const v = slotScratch;
      out.push({ bucketStartSec, bytesIn: v[0]!, bytesOut: v[1]!, packetsIn: v[2]!, packetsOut: v[3]!, flowsIn: v[4]!, flowsOut: v[5]! });
    }
  }
}

/**
 * The bill run's read path: adds the bytes of each present slot in [firstSlotSec, firstSlotSec + n * 300)
 * into the columns at (bucketStartSec - firstSlotSec) / 300 and marks it reported. Packets and
 * flows are skipped over without being computed. Same checks as decodeDayChunk.
 */
export function decodeDayChunkColumns(bytes: Uint8Array, dayStartSec: number, firstSlotSec: number, n: number, into: SlotColumns): void {
  const len = bytes.length;
  if (len < 1 + BITMAP_BYTES || bytes[0] !== LAYOUT_VERSION) throw new Error(`day chunk: unknown layout (version ${bytes[0]}, ${len} bytes)`);
  const { bytesIn, bytesOut, reported } = into;
  // Index in the columns of this day's slot 0 (negative when the day starts before the span).
  const offset = (dayStartSec - firstSlotSec) / SLOT_SEC;
  let pos = 1 + BITMAP_BYTES;
  for (let b = 0; b < BITMAP_BYTES; b++) {
    const bits = bytes[1 + b]!;
    if (bits === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if ((bits & (1 << bit)) === 0) continue;
      let vin = 0;
      let vout = 0;
      for (let f = 0; f < 2; f++) {
        let value = 0;
        let scale = 1;
        for (;;) {
          if (pos >= len) throw new Error('day chunk: truncated');
          const byte = bytes[pos++]!;
          value += (byte & 0x7f) * scale;
          if (byte < 0x80) break;
          scale *= 0x80;
        }
        if (f === 0) vin = value; else vout = value;
      }
      // packetsIn, packetsOut, flowsIn, flowsOut: four varints to step over.
      for (let f = 0; f < 4; f++) {
        for (;;) {
          if (pos >= len) throw new Error('day chunk: truncated');
          if (bytes[pos++]! < 0x80) break;
        }
      }
      const i = offset + ((b << 3) | bit);
      if (i < 0 || i >= n) continue;
      bytesIn[i] += vin;
      bytesOut[i] += vout;
      reported[i] = 1;
    }
  }
}

/** Coverage: a bare 288-bit bitmap per (operator, day) of slots any of its edges reported. */
export function emptyCoverage(): Uint8Array {
  return new Uint8Array(BITMAP_BYTES);
}

export function markCoverage(bitmap: Uint8Array, slot: number): boolean {
  const before = bitmap[slot >> 3];
  bitmap[slot >> 3] = before | (1 << (slot & 7));
  return bitmap[slot >> 3] !== before;
}

export function countCoverage(bitmap: Uint8Array, fromSlot: number, toSlotExclusive: number): number {
  let n = 0;
  for (let slot = Math.max(0, fromSlot); slot < Math.min(SLOTS_PER_DAY, toSlotExclusive); slot++) if (bitmap[slot >> 3] & (1 << (slot & 7))) n++;
  return n;
}

/** "2026-11-23": sortable, readable day key of a UTC day start. */
const dayKeys = new Map<number, string>();
export function dayKey(dayStartSec: number): string {
  let key = dayKeys.get(dayStartSec);
  if (key === undefined) {
    key = new Date(dayStartSec * 1000).toISOString().slice(0, 10);
    if (dayKeys.size > 100_000) dayKeys.clear();
    dayKeys.set(dayStartSec, key);
  }
  return key;
}
