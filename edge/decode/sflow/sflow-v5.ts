/**
 * sFlow v5 datagrams (sflow_version_5.txt, sflow.org), walked by length. Pure: the walk reports what
 * it finds to an SflowSink, which keeps all state (sequence numbers, tables, records).
 *
 * Every structure is XDR: big-endian 32-bit words, opaque data padded to 4 bytes. Samples and records
 * each carry (data_format, length); the walk steps over them by that length (an unknown format is
 * skipped, not an error), and every length is bounded by what is left of its enclosing structure
 * before it is used. The sample count and record counts in the headers are hints: the walk stops at
 * the count or at the end of the bytes, whichever comes first, and reports a short datagram.
 *
 * data_format = enterprise << 12 | format; enterprise 0 is sFlow.org's standard structures.
 */
import { IF_COUNTERS_LENGTH, readIfCounters, type InterfaceCounters } from './counter-samples';
import { createSampledPacket, parseSampledHeader, type SampledPacket } from './raw-header';

export const SFLOW_VERSION_5 = 5;

// Sample types (enterprise 0)
export const SAMPLE_FLOW = 1;
export const SAMPLE_COUNTERS = 2;
export const SAMPLE_FLOW_EXPANDED = 3;
export const SAMPLE_COUNTERS_EXPANDED = 4;

// Flow record types (enterprise 0)
export const RECORD_RAW_HEADER = 1;
export const RECORD_SAMPLED_IPV4 = 3;
export const RECORD_SAMPLED_IPV6 = 4;
export const RECORD_EXTENDED_SWITCH = 1001;
export const RECORD_EXTENDED_ROUTER = 1002;
export const RECORD_EXTENDED_GATEWAY = 1003;

// Counter record types (enterprise 0)
export const COUNTERS_GENERIC_INTERFACE = 1;

/** Interface formats (top 2 bits of the compact input/output words; a word of its own in expanded samples). */
export const IF_FORMAT_INDEX = 0;
export const IF_FORMAT_DISCARDED = 1;
export const IF_FORMAT_MULTIPLE = 2;
/** "The interface is not known" (also: packets to or from the agent itself). */
export const IF_UNKNOWN = 0x3fffffff;

/** One flow sample as the walk found it. Reused: overwritten for every sample. */
export interface FlowSample {
  expanded: boolean;
  sequence: number;
  sourceIdType: number;
  sourceIdIndex: number;
  samplingRate: number;
  samplePool: number;
  drops: number;
  inputFormat: number;
  inputValue: number;
  outputFormat: number;
  outputValue: number;
  /** True when a raw header or sampled IPv4/IPv6 record gave addresses (in `packet`). */
  hasPacket: boolean;
  packet: SampledPacket;
  /** Original frame length (raw header record), or the IP length of a sampled IPv4/IPv6 record; -1 if none. */
  frameLength: number;
  /** Extended switch record 0:1001: source / destination VLAN, -1 when absent. */
  srcVlan: number;
  dstVlan: number;
  /** Extended router 0:1002 / gateway 0:1003 seen (their contents are not used for billing). */
  hasRouter: boolean;
  hasGateway: boolean;
  /** Extended gateway: the AS of the router and the source / destination peer AS, 0 when absent. */
  asNumber: number;
  srcAs: number;
  srcPeerAs: number;
}

export function createFlowSample(): FlowSample {
  return {
    expanded: false, sequence: 0, sourceIdType: 0, sourceIdIndex: 0, samplingRate: 0, samplePool: 0, drops: 0,
    inputFormat: 0, inputValue: 0, outputFormat: 0, outputValue: 0, hasPacket: false, packet: createSampledPacket(),
    frameLength: -1, srcVlan: -1, dstVlan: -1, hasRouter: false, hasGateway: false, asNumber: 0, srcAs: 0, srcPeerAs: 0,
  };
}

/** Where the walk reports to. The decoder implements it; tests can too. */
export interface SflowSink {
  /** The datagram header. Return false to stop (e.g. the exporter's state could not be had). */
  header(agent: Uint8Array, subAgentId: number, sequence: number, uptimeMs: number, samples: number): boolean;
  flowSample(sample: FlowSample): void;
  counterSample(sequence: number, sourceIdType: number, sourceIdIndex: number, ifCounters: InterfaceCounters | undefined): void;
  /** A malformed part: counted and logged by the sink; the walk goes on where it safely can. */
  fail(kind: string, detail: Record<string, unknown>): void;
}

/**
 * Walk one datagram. Never throws on any input (every read is bounded first); returns the number of
 * samples walked.
 */
export function walkSflowV5(bytes: Uint8Array, view: DataView, sink: SflowSink, scratch: FlowSample): number {
  const length = bytes.length;
  if (length < 8) { sink.fail('truncated-header', { protocol: 'sflow', length }); return 0; }
  const version = view.getUint32(0);
  if (version !== SFLOW_VERSION_5) { sink.fail('unknown-version', { protocol: 'sflow', version }); return 0; }
  const addressType = view.getUint32(4);
  const addressLength = addressType === 1 ? 4 : addressType === 2 ? 16 : -1;
  if (addressLength < 0) { sink.fail('bad-agent-address', { addressType }); return 0; }
  let p = 8 + addressLength;
  if (p + 16 > length) { sink.fail('truncated-header', { protocol: 'sflow', length }); return 0; }
  const agent = bytes.subarray(8, 8 + addressLength);
  const subAgentId = view.getUint32(p);
  const sequence = view.getUint32(p + 4);
  const uptimeMs = view.getUint32(p + 8);
  const count = view.getUint32(p + 12);
  p += 16;
  if (!sink.header(agent, subAgentId, sequence, uptimeMs, count)) return 0;

  let walked = 0;
  while (walked < count) {
    if (p + 8 > length) {
      sink.fail('truncated-samples', { count, present: walked });
      return walked;
    }
    const format = view.getUint32(p);
    const sampleLength = view.getUint32(p + 4);
    const start = p + 8;
    if (sampleLength > length - start) {
      // The rest of the datagram cannot be framed: stop here, keep what was decoded.
      sink.fail('truncated-sample', { format, sampleLength, available: length - start });
      return walked;
    }
    const end = start + sampleLength;
    walked++;
    if (format === SAMPLE_FLOW || format === SAMPLE_FLOW_EXPANDED) {
      walkFlowSample(bytes, view, start, end, format === SAMPLE_FLOW_EXPANDED, sink, scratch);
    } else if (format === SAMPLE_COUNTERS || format === SAMPLE_COUNTERS_EXPANDED) {
      walkCounterSample(view, start, end, format === SAMPLE_COUNTERS_EXPANDED, sink);
    }
    // else: another enterprise's sample, or a later standard one: skipped by its length.
    p = end;
  }
  return walked;
}

function walkFlowSample(
  bytes: Uint8Array, view: DataView, start: number, end: number, expanded: boolean, sink: SflowSink, s: FlowSample,
): void {
  const fixed = expanded ? 44 : 32;
  if (end - start < fixed) { sink.fail('truncated-flow-sample', { expanded, length: end - start }); return; }
  let p = start;
  s.expanded = expanded;
  s.sequence = view.getUint32(p);
  if (expanded) {
    s.sourceIdType = view.getUint32(p + 4);
    s.sourceIdIndex = view.getUint32(p + 8);
    p += 12;
  } else {
    const source = view.getUint32(p + 4);
    s.sourceIdType = source >>> 24;
    s.sourceIdIndex = source & 0x00ffffff;
    p += 8;
  }
  s.samplingRate = view.getUint32(p);
  s.samplePool = view.getUint32(p + 4);
  s.drops = view.getUint32(p + 8);
  p += 12;
  if (expanded) {
    s.inputFormat = view.getUint32(p);
    s.inputValue = view.getUint32(p + 4);
    s.outputFormat = view.getUint32(p + 8);
    s.outputValue = view.getUint32(p + 12);
    p += 16;
  } else {
    const input = view.getUint32(p);
    const output = view.getUint32(p + 4);
    s.inputFormat = input >>> 30;
    s.inputValue = input & 0x3fffffff;
    s.outputFormat = output >>> 30;
    s.outputValue = output & 0x3fffffff;
    p += 8;
  }
  const records = view.getUint32(p);
  p += 4;
  s.hasPacket = false;
  s.frameLength = -1;
  s.srcVlan = s.dstVlan = -1;
  s.hasRouter = s.hasGateway = false;
  s.asNumber = s.srcAs = s.srcPeerAs = 0;
  let fromHeader = false;
  for (let r = 0; r < records; r++) {
    if (p + 8 > end) { sink.fail('truncated-flow-records', { records, present: r }); break; }
    const format = view.getUint32(p);
    const recordLength = view.getUint32(p + 4);
    const rs = p + 8;
    if (recordLength > end - rs) { sink.fail('truncated-flow-record', { format, recordLength, available: end - rs }); break; }
    const re = rs + recordLength;
    p = re;
    if (format === RECORD_RAW_HEADER) {
      if (recordLength < 16) { sink.fail('bad-raw-header', { recordLength }); continue; }
      const protocol = view.getUint32(rs);
      const frameLength = view.getUint32(rs + 4);
      // rs + 8: stripped (octets removed before the header was taken, e.g. the FCS); not needed:
      // frame_length is already the length of the frame on the wire.
      const headerLength = view.getUint32(rs + 12);
      if (headerLength > re - rs - 16) { sink.fail('bad-raw-header', { headerLength, recordLength }); continue; }
      s.frameLength = frameLength;
      fromHeader = true;
      s.hasPacket = parseSampledHeader(bytes, view, rs + 16, rs + 16 + headerLength, protocol, s.packet);
    } else if (format === RECORD_SAMPLED_IPV4 || format === RECORD_SAMPLED_IPV6) {
      // Used only when the sample carries no raw header (some agents send these instead).
      const v6 = format === RECORD_SAMPLED_IPV6;
      const need = v6 ? 56 : 32;
      if (recordLength < need) { sink.fail('bad-sampled-ip', { format, recordLength }); continue; }
      if (fromHeader) continue;
      const a = v6 ? 16 : 4;
      const pk = s.packet;
      pk.ipVersion = v6 ? 6 : 4;
      pk.protocol = view.getUint32(rs + 4) & 0xff;
      pk.srcIp = bytes.subarray(rs + 8, rs + 8 + a);
      pk.dstIp = bytes.subarray(rs + 8 + a, rs + 8 + 2 * a);
      pk.srcPort = view.getUint32(rs + 8 + 2 * a) & 0xffff;
      pk.dstPort = view.getUint32(rs + 12 + 2 * a) & 0xffff;
      pk.vlan = 0;
      pk.mplsLabels = 0;
      s.frameLength = view.getUint32(rs);
      s.hasPacket = true;
    } else if (format === RECORD_EXTENDED_SWITCH) {
      if (recordLength < 16) { sink.fail('bad-extended-switch', { recordLength }); continue; }
      s.srcVlan = view.getUint32(rs);
      s.dstVlan = view.getUint32(rs + 8);
    } else if (format === RECORD_EXTENDED_ROUTER) {
      // next_hop (address type + 4/16 bytes), src_mask_len, dst_mask_len
      const type = recordLength >= 4 ? view.getUint32(rs) : 0;
      const need = type === 1 ? 16 : type === 2 ? 28 : -1;
      if (need < 0 || recordLength < need) { sink.fail('bad-extended-router', { recordLength, addressType: type }); continue; }
      s.hasRouter = true;
    } else if (format === RECORD_EXTENDED_GATEWAY) {
      // next_hop address, as, src_as, src_peer_as, then AS path segments, communities, local_pref
      const type = recordLength >= 4 ? view.getUint32(rs) : 0;
      const a = type === 1 ? 4 : type === 2 ? 16 : -1;
      if (a < 0 || recordLength < 4 + a + 12) { sink.fail('bad-extended-gateway', { recordLength, addressType: type }); continue; }
      s.hasGateway = true;
      s.asNumber = view.getUint32(rs + 4 + a);
      s.srcAs = view.getUint32(rs + 8 + a);
      s.srcPeerAs = view.getUint32(rs + 12 + a);
    }
    // else: any other record (ethernet frame data, extended user/url/mpls, vendor ones): skipped by length.
  }
  sink.flowSample(s);
}

function walkCounterSample(view: DataView, start: number, end: number, expanded: boolean, sink: SflowSink): void {
  const fixed = expanded ? 16 : 12;
  if (end - start < fixed) { sink.fail('truncated-counter-sample', { expanded, length: end - start }); return; }
  let p = start;
  const sequence = view.getUint32(p);
  let sourceIdType: number;
  let sourceIdIndex: number;
  if (expanded) {
    sourceIdType = view.getUint32(p + 4);
    sourceIdIndex = view.getUint32(p + 8);
    p += 12;
  } else {
    const source = view.getUint32(p + 4);
    sourceIdType = source >>> 24;
    sourceIdIndex = source & 0x00ffffff;
    p += 8;
  }
  const records = view.getUint32(p);
  p += 4;
  let ifCounters: InterfaceCounters | undefined;
  for (let r = 0; r < records; r++) {
    if (p + 8 > end) { sink.fail('truncated-counter-records', { records, present: r }); break; }
    const format = view.getUint32(p);
    const recordLength = view.getUint32(p + 4);
    const rs = p + 8;
    if (recordLength > end - rs) { sink.fail('truncated-counter-record', { format, recordLength, available: end - rs }); break; }
    p = rs + recordLength;
    if (format === COUNTERS_GENERIC_INTERFACE) {
      if (recordLength < IF_COUNTERS_LENGTH) { sink.fail('bad-if-counters', { recordLength }); continue; }
      ifCounters = readIfCounters(view, rs);
    }
    // else: ethernet, processor, vendor counters: skipped by length.
  }
  sink.counterSample(sequence, sourceIdType, sourceIdIndex, ifCounters);
}
