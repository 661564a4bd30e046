/**
 * The sampled packet's header (sFlow v5 flow record 0:1, "sampled_header") down to the addresses
 * and ports a FlowRecord needs. Pure; every read is checked against the header's own end, since the
 * agent copies only the first 128 bytes or so of the frame (header_length), wherever that cuts.
 *
 * Link layers: Ethernet (header_protocol 1) with any number of 802.1Q / 802.1ad (QinQ) tags and an
 * MPLS label stack; raw IPv4 (11) and IPv6 (12). Transport: TCP/UDP/SCTP ports; ICMP and ICMPv6 as
 * NetFlow exporters report them (dstPort = type * 256 + code). Fragments after the first carry no ports.
 */

/** sFlow v5 header_protocol values (sFlow v5 spec, "sampled_header"). */
export const HEADER_ETHERNET = 1;
export const HEADER_IPV4 = 11;
export const HEADER_IPV6 = 12;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100; // 802.1Q
const ETHERTYPE_QINQ = 0x88a8; // 802.1ad service tag
const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard QinQ (Cisco, Juniper)
const ETHERTYPE_MPLS = 0x8847;
const ETHERTYPE_MPLS_MULTICAST = 0x8848;

/** Tags / labels / IPv6 extension headers walked at most; the header's length bounds them anyway. */
const MAX_TAGS = 8;
const MAX_LABELS = 16;
const MAX_EXTENSION_HEADERS = 8;

/** What the decoder keeps of a sampled packet. Reused: overwritten by each parse. */
export interface SampledPacket {
  /** 4 or 6 once an IP header was found, else 0. */
  ipVersion: number;
  /** Views into the datagram (4 or 16 bytes). */
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  protocol: number;
  srcPort: number;
  dstPort: number;
  /** Outer 802.1Q VLAN id (0 when untagged), MPLS labels seen: for tests and logs. */
  vlan: number;
  mplsLabels: number;
}

export function createSampledPacket(): SampledPacket {
  const empty = new Uint8Array(0);
  return { ipVersion: 0, srcIp: empty, dstIp: empty, protocol: 0, srcPort: 0, dstPort: 0, vlan: 0, mplsLabels: 0 };
}

function resetPacket(p: SampledPacket): void {
  p.ipVersion = 0;
  p.protocol = 0;
  p.srcPort = 0;
  p.dstPort = 0;
  p.vlan = 0;
  p.mplsLabels = 0;
}

/**
 * Parse the header bytes [start, end) of `bytes` as `headerProtocol` into `out`.
 * Returns true when an IPv4 or IPv6 header with both addresses was found.
 */
export function parseSampledHeader(
  bytes: Uint8Array, view: DataView, start: number, end: number, headerProtocol: number, out: SampledPacket,
): boolean {
  resetPacket(out);
  if (headerProtocol === HEADER_IPV4) return parseIpv4(bytes, view, start, end, out);
  if (headerProtocol === HEADER_IPV6) return parseIpv6(bytes, view, start, end, out);
  if (headerProtocol !== HEADER_ETHERNET) return false;
  if (end - start < 14) return false;
  let p = start + 12;
  let type = view.getUint16(p);
  p += 2;
  for (let tags = 0; tags < MAX_TAGS && (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD); tags++) {
    if (p + 4 > end) return false;
    if (tags === 0) out.vlan = view.getUint16(p) & 0x0fff;
    type = view.getUint16(p + 2);
    p += 4;
  }
  if (type === ETHERTYPE_MPLS || type === ETHERTYPE_MPLS_MULTICAST) {
    // RFC 3032: 4-byte entries, bottom of stack is bit 8 of the third byte. The payload's type is not
    // in the stack: guess it from the IP version nibble, as every collector does.
    let bottom = false;
    for (let n = 0; n < MAX_LABELS && !bottom; n++) {
      if (p + 4 > end) return false;
      bottom = (bytes[p + 2] & 0x01) !== 0;
      out.mplsLabels++;
      p += 4;
    }
    if (!bottom || p >= end) return false;
    const nibble = bytes[p] >> 4;
    if (nibble === 4) return parseIpv4(bytes, view, p, end, out);
    if (nibble === 6) return parseIpv6(bytes, view, p, end, out);
    return false;
  }
  if (type === ETHERTYPE_IPV4) return parseIpv4(bytes, view, p, end, out);
  if (type === ETHERTYPE_IPV6) return parseIpv6(bytes, view, p, end, out);
  return false;
}

function parseIpv4(bytes: Uint8Array, view: DataView, p: number, end: number, out: SampledPacket): boolean {
  if (p + 20 > end || bytes[p] >> 4 !== 4) return false;
  const ihl = (bytes[p] & 0x0f) * 4;
  out.ipVersion = 4;
  out.protocol = bytes[p + 9];
  out.srcIp = bytes.subarray(p + 12, p + 16);
  out.dstIp = bytes.subarray(p + 16, p + 20);
  const fragmentOffset = view.getUint16(p + 6) & 0x1fff;
  if (ihl >= 20 && fragmentOffset === 0) parsePorts(bytes, view, p + ihl, end, out, 1);
  return true;
}

function parseIpv6(bytes: Uint8Array, view: DataView, p: number, end: number, out: SampledPacket): boolean {
  if (p + 40 > end || bytes[p] >> 4 !== 6) return false;
  out.ipVersion = 6;
  out.srcIp = bytes.subarray(p + 8, p + 24);
  out.dstIp = bytes.subarray(p + 24, p + 40);
  let next = bytes[p + 6];
  let q = p + 40;
  // RFC 8200 §4: hop-by-hop (0), routing (43), destination options (60) are (len + 1) * 8 bytes;
  // fragment (44) is 8 bytes and only the first fragment has the transport header.
  for (let n = 0; n < MAX_EXTENSION_HEADERS; n++) {
    if (next === 0 || next === 43 || next === 60) {
      if (q + 2 > end) { out.protocol = next; return true; }
      next = bytes[q];
      q += (bytes[q + 1] + 1) * 8;
    } else if (next === 44) {
      if (q + 8 > end) { out.protocol = next; return true; }
      const offset = view.getUint16(q + 2) >> 3;
      next = bytes[q];
      q += 8;
      if (offset !== 0) { out.protocol = next; return true; }
    } else {
      break;
    }
  }
  out.protocol = next;
  parsePorts(bytes, view, q, end, out, 58);
  return true;
}

function parsePorts(bytes: Uint8Array, view: DataView, p: number, end: number, out: SampledPacket, icmp: number): void {
  const proto = out.protocol;
  if (proto === 6 || proto === 17 || proto === 132) {
    if (p + 4 > end) return;
    out.srcPort = view.getUint16(p);
    out.dstPort = view.getUint16(p + 2);
  } else if (proto === icmp) {
    if (p + 2 > end) return;
    out.dstPort = bytes[p] * 256 + bytes[p + 1];
  }
}
