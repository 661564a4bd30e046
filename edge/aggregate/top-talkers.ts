/**
 * Top talkers for the live view (LiveFlows, QoS 0, not billing data). Counts bytes per 5-tuple and
 * exporter over one window, then take() returns the N biggest and starts a new window. Bounded:
 * once maxKeys distinct flows are tracked in a window, new keys are ignored until the next window
 * (the biggest talkers are almost always already in).
 */
import type { FlowRecord } from '../decode/flow-record';
import type { Talker } from '../../proto/codec';
import { formatIpBytes } from '../../common/ip-prefix';

/** Copies of what the talker needs: FlowRecord addresses are views into the datagram (zero-copy decoder). */
interface Entry { flow: Pick<FlowRecord, 'exporter' | 'srcIp' | 'dstIp' | 'protocol' | 'srcPort' | 'dstPort'>; bytes: number; packets: number }

export interface TopTalkers {
  add(flow: FlowRecord): void;
  /** The top n of the window that ends at nowMs; resets the window. */
  take(nowMs: number, n: number): { windowSec: number; talkers: Talker[] };
}

function ipKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

export function createTopTalkers(opts: { startMs: number; maxKeys?: number }): TopTalkers {
  const maxKeys = opts.maxKeys ?? 50_000;
  let windowStartMs = opts.startMs;
  let entries = new Map<string, Entry>();
  return {
    add(flow) {
      const key = `${flow.exporter}|${ipKey(flow.srcIp)}|${ipKey(flow.dstIp)}|${flow.protocol}|${flow.srcPort}|${flow.dstPort}`;
      const e = entries.get(key);
      if (e) { e.bytes += flow.bytes; e.packets += flow.packets; return; }
      if (entries.size >= maxKeys) return;
      entries.set(key, {
        flow: { exporter: flow.exporter, srcIp: flow.srcIp.slice(), dstIp: flow.dstIp.slice(), protocol: flow.protocol, srcPort: flow.srcPort, dstPort: flow.dstPort },
        bytes: flow.bytes, packets: flow.packets,
      });
    },
    take(nowMs, n) {
      const windowSec = Math.max(1, Math.round((nowMs - windowStartMs) / 1000));
      const top = [...entries.values()].sort((a, b) => b.bytes - a.bytes).slice(0, n);
      entries = new Map();
      windowStartMs = nowMs;
      return {
        windowSec,
        talkers: top.map((e) => ({
          src: formatIpBytes(e.flow.srcIp), dst: formatIpBytes(e.flow.dstIp), protocol: e.flow.protocol,
          srcPort: e.flow.srcPort, dstPort: e.flow.dstPort, bytes: e.bytes, packets: e.packets,
          bitsPerSec: Math.round((e.bytes * 8) / windowSec), exporter: e.flow.exporter,
        })),
      };
    },
  };
}
