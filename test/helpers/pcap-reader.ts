import { readFileSync } from 'node:fs';

/** One UDP datagram read from a capture. */
export interface PcapUdpDatagram {
  tsMs: number;
  /** Source / destination address as text (dotted IPv4 or full-form IPv6 hex groups). */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;

/**
 * Reads the UDP datagrams of a classic libpcap file (either byte order, µs or ns timestamps; link
 * types Ethernet with 802.1Q/QinQ tags, Linux cooked, raw IP, BSD loopback), IPv4 or IPv6, in order.
 * IPv4 fragments are reassembled (big IPFIX messages get fragmented). Not pcapng.
 */
export function readPcapUdp(path: string): PcapUdpDatagram[] {
  const file = readFileSync(path);
  const magicLe = file.readUInt32LE(0);
  let le: boolean;
  let nanos: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) { le = true; nanos = magicLe === 0xa1b23c4d; }
  else if (file.readUInt32BE(0) === 0xa1b2c3d4 || file.readUInt32BE(0) === 0xa1b23c4d) {
    le = false; nanos = file.readUInt32BE(0) === 0xa1b23c4d;
  } else throw new Error(`${path}: not a libpcap file (pcapng is not supported)`);
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const out: PcapUdpDatagram[] = [];
  const fragments = new Map<string, { parts: Array<{ offset: number; data: Buffer }>; total: number; header: Buffer }>();
  let p = 24;
  while (p + 16 <= file.length) {
    const tsMs = u32(p) * 1000 + Math.floor(u32(p + 4) / (nanos ? 1_000_000 : 1000));
    const capLen = u32(p + 8);
    const frame = file.subarray(p + 16, p + 16 + capLen);
    p += 16 + capLen;
    let q = 0;
    let etherType: number;
    if (linkType === LINKTYPE_ETHERNET) {
      etherType = frame.readUInt16BE(12);
      q = 14;
      while ((etherType === 0x8100 || etherType === 0x88a8) && q + 4 <= frame.length) {
        etherType = frame.readUInt16BE(q + 2);
        q += 4;
      }
    } else if (linkType === LINKTYPE_LINUX_SLL) {
      etherType = frame.readUInt16BE(14);
      q = 16;
    } else if (linkType === LINKTYPE_RAW) {
      etherType = (frame[0] >> 4) === 6 ? 0x86dd : 0x0800;
    } else if (linkType === LINKTYPE_NULL) {
      etherType = (frame[4] >> 4) === 6 ? 0x86dd : 0x0800;
      q = 4;
    } else throw new Error(`${path}: unsupported link type ${linkType}`);

    if (etherType === 0x0800) {
      const ihl = (frame[q] & 0x0f) * 4;
      const totalLength = frame.readUInt16BE(q + 2);
      if (frame[q + 9] !== 17) continue;
      const src = `${frame[q + 12]}.${frame[q + 13]}.${frame[q + 14]}.${frame[q + 15]}`;
      const dst = `${frame[q + 16]}.${frame[q + 17]}.${frame[q + 18]}.${frame[q + 19]}`;
      const flagsFrag = frame.readUInt16BE(q + 6);
      const more = (flagsFrag & 0x2000) !== 0;
      const fragOffset = (flagsFrag & 0x1fff) * 8;
      let ipPayload = frame.subarray(q + ihl, q + totalLength);
      if (more || fragOffset > 0) {
        const key = `${src}>${dst}#${frame.readUInt16BE(q + 4)}`;
        let entry = fragments.get(key);
        if (!entry) { entry = { parts: [], total: -1, header: Buffer.alloc(0) }; fragments.set(key, entry); }
        entry.parts.push({ offset: fragOffset, data: Buffer.from(ipPayload) });
        if (!more) entry.total = fragOffset + ipPayload.length;
        const have = entry.parts.reduce((n, f) => n + f.data.length, 0);
        if (entry.total < 0 || have < entry.total) continue;
        const whole = Buffer.alloc(entry.total);
        for (const f of entry.parts) f.data.copy(whole, f.offset);
        fragments.delete(key);
        ipPayload = whole;
      }
      pushUdp(out, tsMs, src, dst, ipPayload);
    } else if (etherType === 0x86dd) {
      const payloadLength = frame.readUInt16BE(q + 4);
      let next = frame[q + 6];
      const src = ipv6Text(frame.subarray(q + 8, q + 24));
      const dst = ipv6Text(frame.subarray(q + 24, q + 40));
      let r = q + 40;
      const end = q + 40 + payloadLength;
      // Hop-by-hop, routing, destination options: skip to UDP.
      while (next === 0 || next === 43 || next === 60) {
        next = frame[r];
        r += (frame[r + 1] + 1) * 8;
      }
      if (next !== 17) continue;
      pushUdp(out, tsMs, src, dst, frame.subarray(r, end));
    }
  }
  return out;
}

function pushUdp(out: PcapUdpDatagram[], tsMs: number, src: string, dst: string, udp: Buffer): void {
  if (udp.length < 8) return;
  const udpLength = udp.readUInt16BE(4);
  out.push({
    tsMs, src, dst, srcPort: udp.readUInt16BE(0), dstPort: udp.readUInt16BE(2),
    // UDP length, not the frame: Ethernet pads short frames.
    payload: Buffer.from(udp.subarray(8, Math.min(udp.length, udpLength || udp.length))),
  });
}

function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}
