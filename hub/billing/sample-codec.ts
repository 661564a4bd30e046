import type { BillSamples } from './bill';

/**
 * Binary layout of the samples kept behind every bill (NOTES: a disputed bill must be recomputable):
 *   varint firstSlotSec, varint n, then per slot: varint (bytesIn + 1), or 0 when the slot was not
 *   reported; and varint bytesOut only for reported slots.
 * Byte counts are integers below 2^53; LEB128 keeps a month of a 1 Gbps link near 12 bytes per slot.
 */
// Reused between calls (a month needs ~143 KB at worst): encoding 10,000 bills in a run should not
// allocate and collect 10,000 worst-case buffers. The result is a right-sized copy.
let scratch = new Uint8Array(0);

export function encodeSamples(s: BillSamples): Uint8Array {
  const n = s.bytesIn.length;
  if (scratch.length < 20 + n * 2 * 8) scratch = new Uint8Array(20 + n * 2 * 8);
  const { bytesIn, bytesOut, reported } = s;
  let pos = putVarint(scratch, 0, s.firstSlotSec);
  pos = putVarint(scratch, pos, n);
  for (let i = 0; i < n; i++) {
    if (reported[i]) { pos = putVarint(scratch, pos, bytesIn[i]! + 1); pos = putVarint(scratch, pos, bytesOut[i]!); } else scratch[pos++] = 0;
  }
  return scratch.slice(0, pos);
}

/**
 * Unsigned LEB128 of Math.round(v) at out[pos]; returns the position after it. Plain function with
 * the position passed in and out (no closure over a captured counter: it runs 18,000 times a bill).
 * Below 2^31 the low bits use integer operators; above, arithmetic (counts exceed 32 bits).
 */
function putVarint(out: Uint8Array, pos: number, v: number): number {
  let x = Math.round(v);
  // x * (1 / 128) is exact (a power of two), and cheaper than a division.
  while (x >= 0x80000000) { const q = Math.floor(x * (1 / 0x80)); out[pos++] = (x - q * 0x80) | 0x80; x = q; }
  while (x >= 0x80) { out[pos++] = (x & 0x7f) | 0x80; x >>>= 7; }
  out[pos++] = x;
  return pos;
}

export function decodeSamples(bytes: Uint8Array): BillSamples {
  cursor = 0;
  const firstSlotSec = getVarint(bytes);
  const n = getVarint(bytes);
  const s: BillSamples = { firstSlotSec, bytesIn: new Float64Array(n), bytesOut: new Float64Array(n), reported: new Uint8Array(n) };
  const { bytesIn, bytesOut, reported } = s;
  for (let i = 0; i < n; i++) {
    const vin = getVarint(bytes);
    if (vin === 0) continue;
    reported[i] = 1;
    bytesIn[i] = vin - 1;
    bytesOut[i] = getVarint(bytes);
  }
  return s;
}

/** Read position of getVarint: module state, not a closure (decoding is synchronous, never re-entered). */
let cursor = 0;

function getVarint(bytes: Uint8Array): number {
  let x = 0;
  let scale = 1;
  for (;;) {
    if (cursor >= bytes.length) throw new Error('truncated bill samples');
    const b = bytes[cursor++]!;
    x += (b & 0x7f) * scale;
    if (b < 0x80) return x;
    scale *= 0x80;
  }
}
