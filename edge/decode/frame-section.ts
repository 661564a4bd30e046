/**
 * Packet-sampling records (PSAMP style, RFC 5476/5477): some routers (Juniper inline monitoring,
 * Cisco/Nokia "datalink" exports) send one record per sampled packet with the packet's first bytes
 * in dataLinkFrameSection (IE 315) and its size in dataLinkFrameSize (312) instead of flow fields and
 * counters. This reads addresses, protocol, ports and the IP length out of that header copy.
 * Handles Ethernet, 802.1Q/QinQ tags, MPLS label stacks (with IPv4/IPv6 payloads, or Ethernet
 * over MPLS with a control word), IPv4, IPv6 with extension headers.
 */
export interface SampledPacketHeader {
  srcIp: Uint8Array | null;
  dstIp: Uint8Array | null;
  protocol: number;
  srcPort: number;
  dstPort: number;
  /** IPv4 total length / IPv6 40 + payload length, 0 when no IP header was found. */
  ipLength: number;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_MPLS = 0x8847;

/** Parses the header copy in bytes[start, end) into `out` (reset first). Never throws. */
export function parseFrameSection(bytes: Uint8Array, start: number, end: number, out: SampledPacketHeader): void {
  out.srcIp = null; out.dstIp = null; out.protocol = 0; out.srcPort = 0; out.dstPort = 0; out.ipLength = 0;
  parseEthernet(bytes, start, end, out, 0);
}

function u16(b: Uint8Array, p: number): number { return (b[p] << 8) | b[p + 1]; }

function parseEthernet(b: Uint8Array, p: number, end: number, out: SampledPacketHeader, depth: number): void {
  if (end - p < 14 || depth > 2) return;
  let type = u16(b, p + 12);
  p += 14;
  while ((type === ETH_VLAN || type === ETH_QINQ) && end - p >= 4) {
    type = u16(b, p + 2);
    p += 4;
  }
  parseEtherType(b, p, end, type, out, depth);
}

function parseEtherType(b: Uint8Array, p: number, end: number, type: number, out: SampledPacketHeader, depth: number): void {
  if (type === ETH_IPV4) parseIPv4(b, p, end, out);
  else if (type === ETH_IPV6) parseIPv6(b, p, end, out);
  else if (type === ETH_MPLS) {
    // Label stack entries until the bottom-of-stack bit (RFC 3032).
    while (end - p >= 4) {
      const bottom = (b[p + 2] & 0x01) !== 0;
      p += 4;
      if (bottom) break;
    }
    if (p >= end) return;
    const nibble = b[p] >> 4;
    if (nibble === 4) parseIPv4(b, p, end, out);
    else if (nibble === 6) parseIPv6(b, p, end, out);
    else if (nibble === 0) parseEthernet(b, p + 4, end, out, depth + 1); // RFC 4448 control word, then Ethernet
  }
}

function parseIPv4(b: Uint8Array, p: number, end: number, out: SampledPacketHeader): void {
  if (end - p < 20) return;
  const ihl = (b[p] & 0x0f) * 4;
  out.ipLength = u16(b, p + 2);
  out.protocol = b[p + 9];
  out.srcIp = b.subarray(p + 12, p + 16);
  out.dstIp = b.subarray(p + 16, p + 20);
  const fragmentOffset = u16(b, p + 6) & 0x1fff;
  if (fragmentOffset === 0) parsePorts(b, p + ihl, end, out.protocol, out);
}

function parseIPv6(b: Uint8Array, p: number, end: number, out: SampledPacketHeader): void {
  if (end - p < 40) return;
  out.ipLength = 40 + u16(b, p + 4);
  out.srcIp = b.subarray(p + 8, p + 24);
  out.dstIp = b.subarray(p + 24, p + 40);
  let next = b[p + 6];
  p += 40;
  // Hop-by-hop (0), routing (43, SRv6), destination options (60): skip by their length.
  while ((next === 0 || next === 43 || next === 60) && end - p >= 8) {
    const length = (b[p + 1] + 1) * 8;
    next = b[p];
    p += length;
  }
  out.protocol = next;
  parsePorts(b, p, end, next, out);
}

function parsePorts(b: Uint8Array, p: number, end: number, protocol: number, out: SampledPacketHeader): void {
  if ((protocol === 6 || protocol === 17 || protocol === 132) && end - p >= 4) {
    out.srcPort = u16(b, p);
    out.dstPort = u16(b, p + 2);
  }
}
