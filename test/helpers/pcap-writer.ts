import { writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';

/** One packet to write: Ethernet + IPv4 or IPv6 (chosen by the address family) + TCP or UDP. */
export interface PcapPacketSpec {
  /** Capture time, Unix ms (softflowd -a uses it as its clock). */
  tsMs: number;
  src: string;
  dst: string;
  /** 6 (TCP) or 17 (UDP). */
  protocol: 6 | 17;
  srcPort: number;
  dstPort: number;
  /**
   * The IP packet's total length in bytes, header included (IPv4 total length; for IPv6, 40 + payload
   * length): what flow exporters count as octets. At least 40 (IPv4+TCP) / 28 (IPv4+UDP) /
   * 60 (IPv6+TCP) / 48 (IPv6+UDP); the payload is zero-filled to reach it.
   */
  ipTotalLength: number;
  /** TCP flags byte; default ACK (0x10). Use 0x11 (FIN+ACK) etc. to end flows explicitly. */
  tcpFlags?: number;
}

/** What an exporter should report for the written capture, to the byte. */
export interface PcapTotals {
  /** Sum of ipTotalLength over all packets. */
  bytes: number;
  packets: number;
  /** Distinct (src, dst, protocol, srcPort, dstPort) 5-tuples. */
  flows: number;
  /** Totals per 5-tuple key "src|dst|protocol|srcPort|dstPort". */
  byFlow: Map<string, { bytes: number; packets: number }>;
}

export function flowKey(p: Pick<PcapPacketSpec, 'src' | 'dst' | 'protocol' | 'srcPort' | 'dstPort'>): string {
  return `${p.src}|${p.dst}|${p.protocol}|${p.srcPort}|${p.dstPort}`;
}

const ETHERNET_HEADER = 14;
const LINKTYPE_ETHERNET = 1;

/**
 * Writes a classic libpcap file (little-endian, µs timestamps, Ethernet, snaplen 65535, every packet
 * captured whole) and returns the totals an exporter reading it must report. Packets are written in
 * the given order; sort them by tsMs if the reader needs a monotonic clock (softflowd -a does).
 */
export function writePcap(path: string, packets: readonly PcapPacketSpec[]): PcapTotals {
  const chunks: Buffer[] = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeInt32LE(0, 8); // thiszone
  header.writeUInt32LE(0, 12); // sigfigs
  header.writeUInt32LE(65535, 16); // snaplen
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  chunks.push(header);

  const byFlow = new Map<string, { bytes: number; packets: number }>();
  let bytes = 0;
  let ipId = 1;
  for (const p of packets) {
    const v6 = isIPv6(p.src);
    if (v6 !== isIPv6(p.dst) || (!v6 && !(isIPv4(p.src) && isIPv4(p.dst)))) {
      throw new Error(`writePcap: src ${p.src} and dst ${p.dst} must both be IPv4 or both IPv6`);
    }
    const ipHeader = v6 ? 40 : 20;
    const l4Header = p.protocol === 6 ? 20 : 8;
    if (p.ipTotalLength < ipHeader + l4Header || p.ipTotalLength > 65535) {
      throw new Error(`writePcap: ipTotalLength ${p.ipTotalLength} out of range for this packet`);
    }
    const frame = Buffer.alloc(ETHERNET_HEADER + p.ipTotalLength);
    // Ethernet: locally administered MACs, EtherType IPv4/IPv6
    Buffer.from([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]).copy(frame, 0);
    frame.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
    let q = ETHERNET_HEADER;
    if (v6) {
      frame.writeUInt32BE(0x60000000, q);
      frame.writeUInt16BE(p.ipTotalLength - 40, q + 4);
      frame[q + 6] = p.protocol;
      frame[q + 7] = 64;
      ipv6Bytes(p.src).copy(frame, q + 8);
      ipv6Bytes(p.dst).copy(frame, q + 24);
    } else {
      frame[q] = 0x45;
      frame.writeUInt16BE(p.ipTotalLength, q + 2);
      frame.writeUInt16BE(ipId++ & 0xffff, q + 4);
      frame[q + 8] = 64;
      frame[q + 9] = p.protocol;
      Buffer.from(p.src.split('.').map(Number)).copy(frame, q + 12);
      Buffer.from(p.dst.split('.').map(Number)).copy(frame, q + 16);
      frame.writeUInt16BE(ipv4Checksum(frame.subarray(q, q + 20)), q + 10);
    }
    q += ipHeader;
    frame.writeUInt16BE(p.srcPort, q);
    frame.writeUInt16BE(p.dstPort, q + 2);
    if (p.protocol === 6) {
      frame.writeUInt32BE(1, q + 4); // seq
      frame[q + 12] = 0x50; // data offset 5 words
      frame[q + 13] = p.tcpFlags ?? 0x10;
      frame.writeUInt16BE(65535, q + 14);
    } else {
      frame.writeUInt16BE(p.ipTotalLength - ipHeader, q + 4);
    }
    // L4 checksums are left 0: exporters do not verify them.
    const record = Buffer.alloc(16);
    record.writeUInt32LE(Math.floor(p.tsMs / 1000), 0);
    record.writeUInt32LE(Math.round((p.tsMs % 1000) * 1000), 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    chunks.push(record, frame);

    bytes += p.ipTotalLength;
    const key = flowKey(p);
    const f = byFlow.get(key) ?? { bytes: 0, packets: 0 };
    f.bytes += p.ipTotalLength;
    f.packets++;
    byFlow.set(key, f);
  }
  writeFileSync(path, Buffer.concat(chunks));
  return { bytes, packets: packets.length, flows: byFlow.size, byFlow };
}

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv6Bytes(text: string): Buffer {
  const [head, tail = ''] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = text.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
