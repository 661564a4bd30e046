import { SLOT_SEC } from './percentile';

/** A 5-minute sample's average rate: bytes × 8 / 300 (exact as a double for any real byte count). */
export function bytesPerSlotToBps(bytes: number): number {
  return (bytes * 8) / SLOT_SEC;
}

/** bits per second → bytes in one 5-minute slot (inverse of bytesPerSlotToBps), for tests and fixtures. */
export function bpsToBytesPerSlot(bps: number): number {
  return Math.round((bps * SLOT_SEC) / 8);
}

/** "1.427 Mbps": SI prefixes (network rates are decimal), up to 3 decimals. */
export function formatBps(bps: number): string {
  const units: [number, string][] = [[1e12, 'Tbps'], [1e9, 'Gbps'], [1e6, 'Mbps'], [1e3, 'kbps']];
  for (const [scale, unit] of units) {
    if (Math.abs(bps) >= scale) return `${trim(bps / scale)} ${unit}`;
  }
  return `${trim(bps)} bps`;
}

function trim(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}
