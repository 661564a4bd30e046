/** NetFlow v5 writer for tests and benches (Cisco fixed format: 24-byte header, 48-byte records, ≤ 30 records). */
export interface V5Flow {
  src: [number, number, number, number];
  dst: [number, number, number, number];
  inputIf: number;
  outputIf: number;
  packets: number;
  bytes: number;
  /** Absolute unix ms of first / last packet. */
  startMs: number;
  endMs: number;
  srcPort?: number;
  dstPort?: number;
  protocol?: number;
}

export function buildV5(flows: V5Flow[], opts: { nowMs: number; uptimeMs?: number; sequence: number; samplingInterval?: number }): Buffer {
  if (flows.length > 30) throw new Error('v5 carries at most 30 records');
  const buf = Buffer.alloc(24 + 48 * flows.length);
  const uptimeMs = opts.uptimeMs ?? 86_400_000;
  const bootMs = opts.nowMs - uptimeMs;
  buf.writeUInt16BE(5, 0);
  buf.writeUInt16BE(flows.length, 2);
  buf.writeUInt32BE(uptimeMs >>> 0, 4);
  buf.writeUInt32BE(Math.floor(opts.nowMs / 1000), 8);
  buf.writeUInt32BE((opts.nowMs % 1000) * 1_000_000, 12);
  buf.writeUInt32BE(opts.sequence >>> 0, 16);
  buf.writeUInt16BE(opts.samplingInterval ?? 0, 22);
  flows.forEach((f, i) => {
    const o = 24 + 48 * i;
    buf.set(f.src, o);
    buf.set(f.dst, o + 4);
    buf.writeUInt16BE(f.inputIf, o + 12);
    buf.writeUInt16BE(f.outputIf, o + 14);
    buf.writeUInt32BE(f.packets, o + 16);
    buf.writeUInt32BE(f.bytes, o + 20);
    buf.writeUInt32BE((f.startMs - bootMs) >>> 0, o + 24);
    buf.writeUInt32BE((f.endMs - bootMs) >>> 0, o + 28);
    buf.writeUInt16BE(f.srcPort ?? 443, o + 32);
    buf.writeUInt16BE(f.dstPort ?? 50000, o + 34);
    buf.writeUInt8(f.protocol ?? 6, o + 38);
  });
  return buf;
}
