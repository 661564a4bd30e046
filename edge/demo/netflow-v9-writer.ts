/**
 * Minimal NetFlow v9 writer (RFC 3954) for the demo exporter and tests: one IPv4 template and data
 * flowsets that use it. Header: version, count (records in this packet, templates included),
 * sysUptime, unix secs, package sequence (v9 counts export packets), source id.
 */
export interface V9Flow {
  src: Uint8Array; // 4 bytes
  dst: Uint8Array;
  inputIf: number;
  outputIf: number;
  packets: number;
  bytes: number;
  /** Absolute unix ms. */
  startMs: number;
  endMs: number;
  srcPort: number;
  dstPort: number;
  protocol: number;
}

export const DEMO_TEMPLATE_ID = 256;
// [field type, length]: RFC 3954 §8 field types.
const FIELDS: [number, number][] = [
  [8, 4],  // IPV4_SRC_ADDR
  [12, 4], // IPV4_DST_ADDR
  [10, 2], // INPUT_SNMP
  [14, 2], // OUTPUT_SNMP
  [2, 4],  // IN_PKTS
  [1, 4],  // IN_BYTES
  [22, 4], // FIRST_SWITCHED (sysUptime ms)
  [21, 4], // LAST_SWITCHED
  [7, 2],  // L4_SRC_PORT
  [11, 2], // L4_DST_PORT
  [4, 1],  // PROTOCOL
];
const RECORD_BYTES = FIELDS.reduce((a, [, l]) => a + l, 0);

/** Records per datagram that keep it under a 1400-byte MTU-safe size with a template. */
export const V9_MAX_RECORDS = Math.floor((1400 - 20 - 8 - 4 * FIELDS.length - 4 - 4) / RECORD_BYTES);

export function buildV9Datagram(opts: { nowMs: number; bootMs: number; sequence: number; sourceId: number; withTemplate: boolean; flows: V9Flow[] }): Buffer {
  const templateLen = opts.withTemplate ? 4 + 4 + 4 * FIELDS.length : 0;
  const dataRaw = opts.flows.length > 0 ? 4 + RECORD_BYTES * opts.flows.length : 0;
  const dataLen = dataRaw + ((4 - (dataRaw % 4)) % 4); // RFC 3954 §5.3: pad flowsets to 32 bits
  const buf = Buffer.alloc(20 + templateLen + dataLen);
  const uptimeMs = opts.nowMs - opts.bootMs;
  buf.writeUInt16BE(9, 0);
  buf.writeUInt16BE((opts.withTemplate ? 1 : 0) + opts.flows.length, 2);
  buf.writeUInt32BE(uptimeMs >>> 0, 4);
  buf.writeUInt32BE(Math.floor(opts.nowMs / 1000), 8);
  buf.writeUInt32BE(opts.sequence >>> 0, 12);
  buf.writeUInt32BE(opts.sourceId >>> 0, 16);
  let o = 20;
  if (opts.withTemplate) {
    buf.writeUInt16BE(0, o); buf.writeUInt16BE(templateLen, o + 2);
    buf.writeUInt16BE(DEMO_TEMPLATE_ID, o + 4); buf.writeUInt16BE(FIELDS.length, o + 6);
    o += 8;
    for (const [type, len] of FIELDS) { buf.writeUInt16BE(type, o); buf.writeUInt16BE(len, o + 2); o += 4; }
  }
  if (opts.flows.length > 0) {
    buf.writeUInt16BE(DEMO_TEMPLATE_ID, o); buf.writeUInt16BE(dataLen, o + 2);
    o += 4;
    for (const f of opts.flows) {
      buf.set(f.src, o); buf.set(f.dst, o + 4);
      buf.writeUInt16BE(f.inputIf, o + 8); buf.writeUInt16BE(f.outputIf, o + 10);
      buf.writeUInt32BE(f.packets, o + 12); buf.writeUInt32BE(f.bytes, o + 16);
      buf.writeUInt32BE((f.startMs - opts.bootMs) >>> 0, o + 20); buf.writeUInt32BE((f.endMs - opts.bootMs) >>> 0, o + 24);
      buf.writeUInt16BE(f.srcPort, o + 28); buf.writeUInt16BE(f.dstPort, o + 30);
      buf.writeUInt8(f.protocol, o + 32);
      o += RECORD_BYTES;
    }
  }
  return buf;
}
