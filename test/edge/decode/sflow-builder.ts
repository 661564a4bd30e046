/**
 * Byte-level builders for sFlow v5 datagrams in tests (sflow_version_5.txt): XDR words written
 * explicitly, opaque data padded to 4 bytes.
 */
import { bytes, ip4, ip6, u16, u32, u64 } from './packet-builder';

export function pad4(b: number[]): number[] {
  return [...b, ...Array((4 - (b.length % 4)) % 4).fill(0)];
}

/** A sample or record: data_format, length, body. */
export function xdrItem(format: number, body: number[]): number[] {
  return [...u32(format), ...u32(body.length), ...body];
}

export function sflowDatagram(h: { agent: string; subAgent?: number; sequence: number; uptimeMs?: number; count?: number },
  samples: number[][]): Uint8Array {
  const v6 = h.agent.includes(':');
  return bytes(
    u32(5), u32(v6 ? 2 : 1), v6 ? ip6(h.agent) : ip4(h.agent), u32(h.subAgent ?? 0), u32(h.sequence),
    u32(h.uptimeMs ?? 1000), u32(h.count ?? samples.length), ...samples,
  );
}

export interface FlowSampleSpec {
  sequence: number;
  sourceType?: number;
  sourceIndex: number;
  rate: number;
  pool?: number;
  drops?: number;
  /** Compact: (format << 30) | value; expanded: format and value apart. */
  inFormat?: number;
  input: number;
  outFormat?: number;
  output: number;
  count?: number;
}

export function flowSample(s: FlowSampleSpec, records: number[][]): number[] {
  const body = [
    ...u32(s.sequence), ...u32(((s.sourceType ?? 0) << 24 | s.sourceIndex) >>> 0), ...u32(s.rate), ...u32(s.pool ?? 0),
    ...u32(s.drops ?? 0), ...u32((((s.inFormat ?? 0) << 30) | s.input) >>> 0), ...u32((((s.outFormat ?? 0) << 30) | s.output) >>> 0),
    ...u32(s.count ?? records.length), ...records.flat(),
  ];
  return xdrItem(1, body);
}

export function expandedFlowSample(s: FlowSampleSpec, records: number[][]): number[] {
  const body = [
    ...u32(s.sequence), ...u32(s.sourceType ?? 0), ...u32(s.sourceIndex), ...u32(s.rate), ...u32(s.pool ?? 0),
    ...u32(s.drops ?? 0), ...u32(s.inFormat ?? 0), ...u32(s.input), ...u32(s.outFormat ?? 0), ...u32(s.output),
    ...u32(s.count ?? records.length), ...records.flat(),
  ];
  return xdrItem(3, body);
}

/** Raw packet header record 0:1. */
export function rawHeader(protocol: number, frameLength: number, header: number[], stripped = 4): number[] {
  return xdrItem(1, [...u32(protocol), ...u32(frameLength), ...u32(stripped), ...u32(header.length), ...pad4(header)]);
}

export function ethernet(type: number, tags: Array<{ tpid: number; vlan: number }> = []): number[] {
  return [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
    ...tags.flatMap((t) => [...u16(t.tpid), ...u16(t.vlan)]), ...u16(type),
  ];
}

export function mplsLabel(label: number, bottom: boolean): number[] {
  return u32(((label << 12) | (bottom ? 0x100 : 0) | 64) >>> 0);
}

export function ipv4Header(src: string, dst: string, protocol: number, totalLength: number, fragmentOffset = 0): number[] {
  return [0x45, 0, ...u16(totalLength), ...u16(1), ...u16(fragmentOffset), 64, protocol, ...u16(0), ...ip4(src), ...ip4(dst)];
}

export function ipv6Header(src: string, dst: string, nextHeader: number, payloadLength: number): number[] {
  return [0x60, 0, 0, 0, ...u16(payloadLength), nextHeader, 64, ...ip6(src), ...ip6(dst)];
}

export function ports(src: number, dst: number): number[] {
  return [...u16(src), ...u16(dst), ...u32(0), ...u32(0), 0x50, 0x10, 0, 0, 0, 0, 0, 0];
}

export function sampledIpv4(length: number, protocol: number, src: string, dst: string, srcPort: number, dstPort: number): number[] {
  return xdrItem(3, [...u32(length), ...u32(protocol), ...ip4(src), ...ip4(dst), ...u32(srcPort), ...u32(dstPort), ...u32(0), ...u32(0)]);
}

export function extendedSwitch(srcVlan: number, dstVlan: number): number[] {
  return xdrItem(1001, [...u32(srcVlan), ...u32(0), ...u32(dstVlan), ...u32(0)]);
}

export function extendedRouter(nextHop: string): number[] {
  return xdrItem(1002, [...u32(1), ...ip4(nextHop), ...u32(24), ...u32(24)]);
}

export function extendedGateway(nextHop: string, as: number, srcAs: number, srcPeerAs: number): number[] {
  return xdrItem(1003, [...u32(1), ...ip4(nextHop), ...u32(as), ...u32(srcAs), ...u32(srcPeerAs), ...u32(0), ...u32(0), ...u32(100)]);
}

export interface IfCountersSpec {
  ifIndex: number; speed: number; inOctets: number; outOctets: number;
  inErrors?: number; outErrors?: number; inDiscards?: number; outDiscards?: number;
}

export function counterSample(sequence: number, sourceIndex: number, c: IfCountersSpec, extra: number[][] = []): number[] {
  const ifCounters = xdrItem(1, [
    ...u32(c.ifIndex), ...u32(6), ...u64(c.speed), ...u32(1), ...u32(3), ...u64(c.inOctets),
    ...u32(10), ...u32(0), ...u32(0), ...u32(c.inDiscards ?? 0), ...u32(c.inErrors ?? 0), ...u32(0),
    ...u64(c.outOctets), ...u32(20), ...u32(0), ...u32(0), ...u32(c.outDiscards ?? 0), ...u32(c.outErrors ?? 0), ...u32(0),
  ]);
  const records = [...extra, ifCounters];
  return xdrItem(2, [...u32(sequence), ...u32(sourceIndex), ...u32(records.length), ...records.flat()]);
}
