import { createOnceLogger, type Logger } from '../../../common/logger';
import type { DecoderCounters, ExporterDecodeStats, FlowDecoder } from '../flow-decoder';
import type { FlowRecord } from '../flow-record';
import { createRecencyQueue, type Recent } from '../recency-queue';
import { createSequenceTracker, type SequenceTracker } from '../sequence-tracker';
import { formatAgentAddress, isUnspecified } from './agent-address';
import type { InterfaceCounters, InterfaceCountersStatus } from './counter-samples';
import {
  createFlowSample, IF_FORMAT_INDEX, IF_UNKNOWN, walkSflowV5, type FlowSample, type SflowSink,
} from './sflow-v5';

/**
 * Every table is bounded: an sFlow datagram names its agent, sub-agent and source ids itself, so a
 * spoofer can make up any number of each. Beyond a cap the least recently used entry goes (counted
 * in tableEvictions), as in the NetFlow decoder.
 */
export interface SflowDecoderOptions {
  log: Logger;
  /** Agents kept (default 10,000); a new one beyond evicts the one silent longest. */
  maxExporters?: number;
  /** expire() forgets an agent silent this long, with its sequence state and counters (default 24 h). */
  exporterIdleMs?: number;
  /** Sub-agents per agent (default 64; a chassis numbers its line cards). */
  maxSubAgentsPerExporter?: number;
  /** Data sources (sub-agent, source id) per agent, each with its own sample sequence (default 4096). */
  maxSourcesPerExporter?: number;
  /** Data sources over all agents (default 200,000). */
  maxSources?: number;
  /** Interfaces whose last if_counters are kept, per agent (default 512) and in all (default 4096: they go in the status message). */
  maxIfCountersPerExporter?: number;
  maxIfCounters?: number;
}

/** What an sFlow agent adds to the common exporter stats. */
export interface SflowExporterStats extends ExporterDecodeStats {
  protocol: 'sflow';
  /** Lost datagrams by the datagram sequence numbers, per (agent, sub-agent). */
  datagramsLost: number;
  /** Packets the agent meant to sample and could not (sum of the samples' `drops` increments). */
  samplesDropped: number;
  /** Flow samples without an IPv4/IPv6 header (ARP, LLDP, STP, truncated): not counted as flows. */
  samplesNotIp: number;
  ifCounters: InterfaceCountersStatus[];
}

/** The FlowDecoder port, with the sFlow fields of each exporter typed. */
export interface SflowDecoder extends FlowDecoder {
  exporters(): SflowExporterStats[];
}

interface SourceState extends Recent {
  key: number;
  sub: SubAgentState;
  sequence: SequenceTracker;
  /** Last `drops` value seen (a cumulative counter per source); -1 before the first sample. */
  lastDrops: number;
}

interface SubAgentState {
  id: number;
  agent: AgentState;
  datagrams: SequenceTracker;
  sources: Map<number, SourceState>;
}

interface IfCountersEntry extends Recent {
  agent: AgentState;
  counters: InterfaceCountersStatus;
}

interface AgentState extends Recent {
  address: string;
  packets: number;
  flows: number;
  bytes: number;
  sequenceGaps: number;
  datagramsLost: number;
  samplesDropped: number;
  samplesNotIp: number;
  lastSeenMs: number;
  samplingRate: number;
  subAgents: Map<number, SubAgentState>;
  sourceOrder: ReturnType<typeof createRecencyQueue<SourceState>>;
  ifCounters: Map<number, IfCountersEntry>;
  ifOrder: ReturnType<typeof createRecencyQueue<IfCountersEntry>>;
}

/**
 * No frame is longer: IPv4/IPv6 packets stop at 64 KiB, and host agents (hsflowd) that sample before
 * segmentation report GSO/GRO super-frames of up to 64 KiB plus headers. A longer frame_length is a
 * malformed (or forged) sample, refused before it is multiplied by the rate.
 */
export const MAX_FRAME_LENGTH = 65_535 + 256;

/** Source ids are 8-bit type and (expanded) 32-bit index: one exact number. */
function sourceKey(type: number, index: number): number {
  return (type & 0xff) * 4294967296 + index;
}

/**
 * The FlowDecoder for sFlow v5 (its own UDP port, 6343). One FlowRecord per flow sample whose header
 * holds an IPv4 or IPv6 packet:
 * - bytes = frame_length x sampling_rate, packets = sampling_rate. frame_length is the length of the
 *   frame on the wire (layer 2 header and, from hardware agents, the FCS), as Akvorado and pmacct
 *   count it, and as the agent's if_counters count ifIn/OutOctets: the sampled estimate and the
 *   counters agree. (A NetFlow exporter counts the IP length: ~18-22 bytes less per packet.)
 * - input/output ifIndex from the sample; an interface "discarded", "multiple" or "unknown/local"
 *   gives 0 (no interface subject on that side).
 * - startMs = endMs = the receive time (a sample is one packet, seen now).
 * - exporter: the agent address in the datagram (what operators configure on the switch; stays the
 *   same whatever interface or NAT the datagram leaves by); the UDP source when the agent left it 0.
 * - observationDomain: the sub-agent id.
 *
 * Loss: datagram sequence numbers per (agent, sub-agent) count lost datagrams (datagramsLost); flow
 * sample sequence numbers per (agent, sub-agent, source id) count lost flow samples, which are the
 * decoder's sequenceGaps (each one is `rate` packets not billed). The samples' `drops` counter
 * (packets the agent could not sample, for lack of resources) is summed per agent as samplesDropped
 * and NOT turned into bytes: the drops are not attributable to addresses or a direction, so adding
 * them would bill subjects on a guess; the counter tells the operator the agent is overloaded.
 *
 * Zero-copy like the NetFlow decoder: decode()'s srcIp/dstIp are views into the datagram.
 */
export function createSflowDecoder(opts: SflowDecoderOptions): SflowDecoder {
  const log = opts.log;
  let nowMs = 0;
  const once = createOnceLogger(log, 10_000, { nowMs: () => nowMs });
  const onceTable = createOnceLogger(log, 100, { maxLinesPerWindow: Infinity });
  const maxExporters = Math.max(1, opts.maxExporters ?? 10_000);
  const exporterIdleMs = opts.exporterIdleMs ?? 86_400_000;
  const maxSubAgents = Math.max(1, opts.maxSubAgentsPerExporter ?? 64);
  const maxSourcesPerExporter = Math.max(1, opts.maxSourcesPerExporter ?? 4096);
  const maxSources = Math.max(1, opts.maxSources ?? 200_000);
  const maxIfPerExporter = Math.max(1, opts.maxIfCountersPerExporter ?? 512);
  const maxIf = Math.max(1, opts.maxIfCounters ?? 4096);

  const agents = new Map<string, AgentState>();
  const agentOrder = createRecencyQueue<AgentState>();
  const sourceOrder = createRecencyQueue<SourceState>(); // over all agents
  const ifOrder = createRecencyQueue<IfCountersEntry>(); // over all agents
  let tick = 0;
  const counters: DecoderCounters = {
    packetsReceived: 0, flowsDecoded: 0, decodeErrors: 0, templateMisses: 0, pendingExpired: 0, sequenceGaps: 0,
    tableEvictions: 0,
  };

  function evicted(kind: string, detail: Record<string, unknown>): void {
    counters.tableEvictions++;
    onceTable.warnOnce(`sflow-table-eviction|${kind}`, { kind, ...detail },
      `sFlow decoder table full or idle: evicting the least recently used entry (${kind})`);
  }

  function dropSource(source: SourceState): void {
    const sub = source.sub;
    if (sub.sources.get(source.key) === source) sub.sources.delete(source.key);
    sub.agent.sourceOrder.delete(source);
    sourceOrder.delete(source);
  }

  function dropSubAgent(sub: SubAgentState): void {
    for (const source of sub.sources.values()) dropSource(source);
    if (sub.agent.subAgents.get(sub.id) === sub) sub.agent.subAgents.delete(sub.id);
  }

  function dropIf(entry: IfCountersEntry): void {
    const agent = entry.agent;
    if (agent.ifCounters.get(entry.counters.ifIndex) === entry) agent.ifCounters.delete(entry.counters.ifIndex);
    agent.ifOrder.delete(entry);
    ifOrder.delete(entry);
  }

  function dropAgent(agent: AgentState): void {
    for (const sub of agent.subAgents.values()) dropSubAgent(sub);
    for (const entry of agent.ifCounters.values()) dropIf(entry);
    agents.delete(agent.address);
    agentOrder.delete(agent);
  }

  function agentFor(address: string): AgentState {
    let agent = agents.get(address);
    if (agent !== undefined) return agent;
    while (agents.size >= maxExporters) {
      const old = agentOrder.evict();
      if (old === undefined) break;
      dropAgent(old);
      evicted('exporter', { exporter: old.address, maxExporters });
    }
    agent = {
      address, packets: 0, flows: 0, bytes: 0, sequenceGaps: 0, datagramsLost: 0, samplesDropped: 0, samplesNotIp: 0,
      lastSeenMs: 0, samplingRate: 1, lastUse: tick, subAgents: new Map(), sourceOrder: createRecencyQueue(),
      ifCounters: new Map(), ifOrder: createRecencyQueue(),
    };
    agents.set(address, agent);
    agentOrder.add(agent);
    return agent;
  }

  function subAgentFor(agent: AgentState, id: number): SubAgentState {
    let sub = agent.subAgents.get(id);
    if (sub !== undefined) return sub;
    if (agent.subAgents.size >= maxSubAgents) {
      // Oldest created first (Map order): sub-agents are a chassis' line cards, few and long-lived.
      for (const old of agent.subAgents.values()) { dropSubAgent(old); break; }
      evicted('sub-agent', { exporter: agent.address, maxSubAgentsPerExporter: maxSubAgents });
    }
    // Datagram numbers: one per datagram, so the windows of v9's export-packet numbering.
    sub = { id, agent, datagrams: createSequenceTracker(100_000, 64), sources: new Map() };
    agent.subAgents.set(id, sub);
    return sub;
  }

  function sourceFor(sub: SubAgentState, key: number): SourceState {
    let source = sub.sources.get(key);
    if (source !== undefined) {
      source.lastUse = tick;
      return source;
    }
    const agent = sub.agent;
    while (agent.sourceOrder.size >= maxSourcesPerExporter) {
      const old = agent.sourceOrder.evict();
      if (old === undefined) break;
      dropSource(old);
      evicted('source', { exporter: agent.address, maxSourcesPerExporter });
    }
    while (sourceOrder.size >= maxSources) {
      const old = sourceOrder.evict();
      if (old === undefined) break;
      dropSource(old);
      evicted('source-total', { exporter: old.sub.agent.address, maxSources });
    }
    // Sample numbers: one per flow sample; a few hundred samples per second per busy port.
    source = { key, sub, sequence: createSequenceTracker(1_000_000, 1024), lastDrops: -1, lastUse: tick };
    sub.sources.set(key, source);
    agent.sourceOrder.add(source);
    sourceOrder.add(source);
    return source;
  }

  function keepIfCounters(agent: AgentState, c: InterfaceCounters): void {
    const existing = agent.ifCounters.get(c.ifIndex);
    if (existing !== undefined) {
      existing.counters = { ...c, lastSeenMs: nowMs };
      existing.lastUse = tick;
      return;
    }
    while (agent.ifOrder.size >= maxIfPerExporter) {
      const old = agent.ifOrder.evict();
      if (old === undefined) break;
      dropIf(old);
      evicted('if-counters', { exporter: agent.address, maxIfCountersPerExporter: maxIfPerExporter });
    }
    while (ifOrder.size >= maxIf) {
      const old = ifOrder.evict();
      if (old === undefined) break;
      dropIf(old);
      evicted('if-counters-total', { exporter: old.agent.address, maxIfCounters: maxIf });
    }
    const entry: IfCountersEntry = { agent, counters: { ...c, lastSeenMs: nowMs }, lastUse: tick };
    agent.ifCounters.set(c.ifIndex, entry);
    agent.ifOrder.add(entry);
    ifOrder.add(entry);
  }

  // Per datagram: who sent it and where its records go.
  let udpSource = '';
  let agent: AgentState | undefined;
  let sub: SubAgentState | undefined;
  let out: FlowRecord[] = [];
  let pool: FlowRecord[] | undefined;
  let lastAgentBytes = new Uint8Array(0);
  let lastAgentText = '';

  function fail(kind: string, detail: Record<string, unknown>): void {
    counters.decodeErrors++;
    const exporter = agent?.address ?? udpSource;
    once.warnOnce(`${exporter}|sflow|${kind}`, { exporter, protocol: 'sflow', ...detail }, `sFlow decode error: ${kind}`);
  }

  function agentText(bytes: Uint8Array): string {
    if (isUnspecified(bytes)) return udpSource;
    if (bytes.length === lastAgentBytes.length) {
      let same = true;
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== lastAgentBytes[i]) { same = false; break; }
      if (same) return lastAgentText;
    }
    lastAgentBytes = bytes.slice();
    lastAgentText = formatAgentAddress(bytes);
    return lastAgentText;
  }

  function interfaceOf(format: number, value: number): number {
    return format === IF_FORMAT_INDEX && value !== IF_UNKNOWN ? value : 0;
  }

  function emit(s: FlowSample, rate: number): void {
    const a = agent!;
    const pk = s.packet;
    const bytes = s.frameLength * rate;
    const inputIf = interfaceOf(s.inputFormat, s.inputValue);
    const outputIf = interfaceOf(s.outputFormat, s.outputValue);
    const observationDomain = sub!.id;
    if (pool === undefined) {
      out.push({
        exporter: a.address, observationDomain, srcIp: pk.srcIp, dstIp: pk.dstIp, inputIf, outputIf,
        bytes, packets: rate, samplingRate: rate, startMs: nowMs, endMs: nowMs,
        protocol: pk.protocol, srcPort: pk.srcPort, dstPort: pk.dstPort,
      });
      return;
    }
    // Reused record (see FlowDecoder.decodeTransient): address arrays of its own, copied into.
    const at = out.length;
    let f = pool[at];
    if (f === undefined) {
      f = {
        exporter: '', observationDomain: 0, srcIp: new Uint8Array(4), dstIp: new Uint8Array(4), inputIf: 0, outputIf: 0,
        bytes: 0, packets: 0, samplingRate: 1, startMs: 0, endMs: 0, protocol: 0, srcPort: 0, dstPort: 0,
      };
      pool.push(f);
    }
    if (f.srcIp.length !== pk.srcIp.length) { f.srcIp = new Uint8Array(pk.srcIp.length); f.dstIp = new Uint8Array(pk.srcIp.length); }
    f.srcIp.set(pk.srcIp);
    f.dstIp.set(pk.dstIp);
    f.exporter = a.address;
    f.observationDomain = observationDomain;
    f.inputIf = inputIf;
    f.outputIf = outputIf;
    f.bytes = bytes;
    f.packets = rate;
    f.samplingRate = rate;
    f.startMs = nowMs;
    f.endMs = nowMs;
    f.protocol = pk.protocol;
    f.srcPort = pk.srcPort;
    f.dstPort = pk.dstPort;
    out.push(f);
  }

  const sink: SflowSink = {
    header(agentBytes, subAgentId, sequence) {
      const address = agentText(agentBytes);
      agent = agentFor(address);
      agent.lastUse = tick;
      agent.packets++;
      agent.lastSeenMs = nowMs;
      sub = subAgentFor(agent, subAgentId);
      const lost = sub.datagrams.observe(sequence, 1);
      if (lost !== 0) agent.datagramsLost = Math.max(0, agent.datagramsLost + lost);
      return true;
    },
    flowSample(s) {
      const a = agent!;
      const source = sourceFor(sub!, sourceKey(s.sourceIdType, s.sourceIdIndex));
      const lost = source.sequence.observe(s.sequence, 1);
      if (lost !== 0) {
        a.sequenceGaps += lost;
        counters.sequenceGaps += lost;
      }
      // drops: cumulative per source. A smaller value is a restarted agent: count from 0 again.
      const drops = s.drops;
      if (source.lastDrops >= 0) a.samplesDropped += drops >= source.lastDrops ? drops - source.lastDrops : drops;
      source.lastDrops = drops;
      // sFlow v5: sampling_rate is "1 in N"; 0 is not a rate, read as unsampled (NetFlow v5's rule).
      const rate = s.samplingRate > 0 ? s.samplingRate : 1;
      a.samplingRate = rate;
      if (!s.hasPacket || s.frameLength < 0) {
        a.samplesNotIp++;
        return;
      }
      if (s.frameLength > MAX_FRAME_LENGTH) {
        fail('bad-frame-length', { frameLength: s.frameLength });
        return;
      }
      emit(s, rate);
    },
    counterSample(_sequence, _type, _index, ifCounters) {
      if (ifCounters !== undefined) keepIfCounters(agent!, ifCounters);
    },
    fail,
  };

  const scratch = createFlowSample();
  const transientOut: FlowRecord[] = [];
  const transientPool: FlowRecord[] = [];

  function decodeInto(input: Uint8Array, exporterAddress: string, receivedAtMs: number, into: FlowRecord[], recordPool: FlowRecord[] | undefined): FlowRecord[] {
    counters.packetsReceived++;
    tick = counters.packetsReceived;
    nowMs = receivedAtMs;
    udpSource = exporterAddress;
    agent = undefined;
    sub = undefined;
    out = into;
    pool = recordPool;
    const datagram = Object.getPrototypeOf(input) === Uint8Array.prototype ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
    try {
      walkSflowV5(datagram, view, sink, scratch);
    } catch (err) {
      // Every read is bounds-checked; this keeps "never throws" true if one was missed.
      fail('internal', { error: String(err) });
    }
    const decodedBy = agent as AgentState | undefined; // set by the walk's header()
    if (decodedBy !== undefined) {
      let bytes = 0;
      for (let i = 0; i < into.length; i++) bytes += into[i].bytes;
      decodedBy.flows += into.length;
      decodedBy.bytes += bytes;
    }
    counters.flowsDecoded += into.length;
    agent = undefined;
    sub = undefined;
    out = [];
    pool = undefined;
    return into;
  }

  return {
    decode(input, exporterAddress, receivedAtMs) {
      return decodeInto(input, exporterAddress, receivedAtMs, [], undefined);
    },
    decodeTransient(input, exporterAddress, receivedAtMs) {
      transientOut.length = 0;
      return decodeInto(input, exporterAddress, receivedAtMs, transientOut, transientPool);
    },
    expire(now) {
      nowMs = now;
      for (const a of agents.values()) {
        if (now - a.lastSeenMs > exporterIdleMs) {
          dropAgent(a);
          evicted('idle-exporter', { exporter: a.address, exporterIdleMs });
        }
      }
    },
    counters() {
      return { ...counters };
    },
    exporters(): SflowExporterStats[] {
      const stats: SflowExporterStats[] = [];
      for (const a of agents.values()) {
        const ifCounters: InterfaceCountersStatus[] = [];
        for (const e of a.ifCounters.values()) ifCounters.push({ ...e.counters });
        ifCounters.sort((x, y) => x.ifIndex - y.ifIndex);
        stats.push({
          address: a.address, netflowVersion: 5, protocol: 'sflow', packets: a.packets, flows: a.flows, bytes: a.bytes,
          sequenceGaps: a.sequenceGaps, lastSeenMs: a.lastSeenMs, templates: 0, samplingRate: a.samplingRate,
          datagramsLost: a.datagramsLost, samplesDropped: a.samplesDropped, samplesNotIp: a.samplesNotIp, ifCounters,
        });
      }
      return stats;
    },
  };
}
