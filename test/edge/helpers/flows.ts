import type { FlowRecord } from '../../../edge/decode/flow-record';
import ipaddr from 'ipaddr.js';

export function ip(text: string): Uint8Array {
  return Uint8Array.from(ipaddr.parse(text).toByteArray());
}

export function flow(over: Partial<FlowRecord> & { src?: string; dst?: string } = {}): FlowRecord {
  const { src, dst, ...rest } = over;
  return {
    exporter: '192.0.2.1', observationDomain: 0,
    srcIp: ip(src ?? '198.51.100.1'), dstIp: ip(dst ?? '203.0.113.1'),
    inputIf: 1, outputIf: 2, bytes: 1000, packets: 10, samplingRate: 1,
    startMs: 1_700_000_000_000, endMs: 1_700_000_001_000, protocol: 6, srcPort: 1234, dstPort: 443,
    ...rest,
  };
}
