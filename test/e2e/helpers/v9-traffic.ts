/**
 * NetFlow v9 traffic for the real-hub browser tests (test/e2e/stack.ts fed through its edge's UDP
 * port). One copy, because every browser test repeated the same generator and sender, and a fix to
 * one (datagram size, template, sequence) must reach all of them.
 */
import dgram from 'node:dgram';
import { buildV9Datagram, V9_MAX_RECORDS, type V9Flow } from '../../../edge/demo/netflow-v9-writer';

export const ip4 = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));

export interface MixedFlowOptions {
  /** How many flows, spread evenly over [fromMs, toMs - 20 s). */
  count: number;
  /** Flow i carries (packetBase + i) packets of 1200 bytes. */
  packetBase: number;
  /** Remote addresses, taken in turn. */
  remotes: readonly string[];
}

/**
 * Traffic for both customer groups (cust-a 10.1.0.0/16, cust-b 10.2.0.0/16) over [fromMs, toMs):
 * every fifth flow is cust-b's, so cust-a gets about 4x cust-b; three in four are downloads.
 */
export function mixedFlows(fromMs: number, toMs: number, { count, packetBase, remotes }: MixedFlowOptions): V9Flow[] {
  const out: V9Flow[] = [];
  for (let i = 0; i < count; i++) {
    const startMs = fromMs + Math.floor((i / count) * (toMs - fromMs - 20_000));
    const cust = i % 5 === 4 ? `10.2.0.${10 + (i % 7)}` : `10.1.${i % 3}.${20 + (i % 11)}`;
    const remote = remotes[i % remotes.length]!;
    const download = i % 4 !== 0;
    out.push({
      src: ip4(download ? remote : cust), dst: ip4(download ? cust : remote), inputIf: download ? 1 : 2, outputIf: download ? 2 : 1,
      packets: packetBase + i, bytes: (packetBase + i) * 1200, startMs, endMs: startMs + 15_000,
      srcPort: download ? 443 : 40_000 + i, dstPort: download ? 40_000 + i : 443, protocol: 6,
    });
  }
  return out;
}

/**
 * Sends the flows to 127.0.0.1:port as v9 datagrams (template in each) from source `sourceId`, the
 * exporter booted at bootMs and reporting nowMs. Sequence numbers start at `sequence`; returns the next one.
 */
export async function sendV9(port: number, list: V9Flow[], nowMs: number, bootMs: number, sequence = 1, sourceId = 7): Promise<number> {
  const sock = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < list.length; i += V9_MAX_RECORDS) {
      const dgm = buildV9Datagram({ nowMs, bootMs, sequence: sequence++, sourceId, withTemplate: true, flows: list.slice(i, i + V9_MAX_RECORDS) });
      await new Promise<void>((resolve, reject) => sock.send(dgm, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    sock.close();
  }
  return sequence;
}
