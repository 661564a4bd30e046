import type { FlowRecord } from '../../../edge/decode/flow-record';
import ipaddr from 'ipaddr.js';
import { buildV5, type V5Flow } from '../../../edge/demo/netflow-v5-writer';

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

/**
 * `count` NetFlow v5 datagrams of 30 records each (flow bytes 1000..1029, one packet), ended 1 s
 * before nowMs so the edge's flow bounds accept them; running sequence numbers.
 */
export function v5Datagrams(count: number, nowMs: number): Buffer[] {
  const list: Buffer[] = [];
  for (let d = 0; d < count; d++) {
    const flows: V5Flow[] = [];
    for (let r = 0; r < 30; r++) flows.push({ src: [198, 51, 100, r], dst: [203, 0, 113, d & 255], inputIf: 1, outputIf: 2, packets: 1, bytes: 1000 + r, startMs: nowMs - 5000, endMs: nowMs - 1000 });
    list.push(buildV5(flows, { nowMs, sequence: d * 30 }));
  }
  return list;
}
