/**
 * The valid traffic both edge fuzzers send after the hostile datagrams: known flows into the fuzz's
 * legit IP group (LEGIT_PREFIX, which the mutator never writes), as v5 from one exporter and v9
 * (template in every datagram) from another, so its totals can be compared to the byte.
 */
import { buildV5, type V5Flow } from '../../edge/demo/netflow-v5-writer';
import { buildV9Datagram, type V9Flow } from '../../edge/demo/netflow-v9-writer';

export interface LegitTraffic {
  v5Datagrams: Uint8Array[];
  v9Datagrams: Uint8Array[];
  /** Into the group: bytes and packets over both exporters (every flow is "in"). */
  expectedBytes: number;
  expectedPackets: number;
  expectedFlows: number;
}

/** `count` flows per exporter, flow i ending at endMsOf(i) and lasting 400 ms; headers at nowMs. */
export function legitTraffic(opts: { count: number; nowMs: number; endMsOf: (i: number) => number; v9SourceId: number }): LegitTraffic {
  let expectedBytes = 0, expectedPackets = 0;
  const v5: V5Flow[] = [];
  const v9: V9Flow[] = [];
  for (let i = 0; i < opts.count; i++) {
    const bytes = 1500 + i * 101, packets = 1 + (i % 5);
    expectedBytes += 2 * bytes;
    expectedPackets += 2 * packets;
    const endMs = opts.endMsOf(i);
    v5.push({ src: [203, 0, 113, 1 + (i % 200)], dst: [198, 18, 77, 1 + i], inputIf: 1, outputIf: 2, packets, bytes, startMs: endMs - 400, endMs });
    v9.push({ src: Uint8Array.of(203, 0, 113, 7), dst: Uint8Array.of(198, 18, 77, 100 + i), inputIf: 3, outputIf: 4, packets, bytes, startMs: endMs - 400, endMs, srcPort: 443, dstPort: 40000 + i, protocol: 6 });
  }
  const { nowMs } = opts;
  const v5Datagrams: Uint8Array[] = [];
  const v9Datagrams: Uint8Array[] = [];
  for (let i = 0; i < v5.length; i += 30) v5Datagrams.push(buildV5(v5.slice(i, i + 30), { nowMs, sequence: i }));
  for (let i = 0; i < v9.length; i += 20) {
    v9Datagrams.push(buildV9Datagram({ nowMs, bootMs: nowMs - 3_600_000, sequence: i / 20, sourceId: opts.v9SourceId, withTemplate: true, flows: v9.slice(i, i + 20) }));
  }
  return { v5Datagrams, v9Datagrams, expectedBytes, expectedPackets, expectedFlows: 2 * opts.count };
}
