import { readNtpTimestampMs, readUint } from './byte-reader';
import type { DecodeSession, DomainState, ExporterState, MessageTime } from './decoder-state';
import { parseFrameSection, type SampledPacketHeader } from './frame-section';
import { Role } from './information-elements';
import { readInterfaceNames } from './interface-names';
import { addressView, commitRecord, copyAddresses, pooledRecord, type RecordOutput } from './record-output';
import { layoutVariableRecord, type TemplatePlan } from './template-plan';
import { initRelativeToUnixMs, uptimeToUnixMs } from './uptime-time';

const sampled: SampledPacketHeader = { srcIp: null, dstIp: null, protocol: 0, srcPort: 0, dstPort: 0, ipLength: 0 };

/**
 * Decodes the records of one v9 data flowset / IPFIX data set (bytes[start, end), after the set
 * header) with a compiled template. Flow records go to `out` (fresh or pooled: see RecordOutput);
 * options records update the domain's sampling table. Returns the number of records (IPFIX sequence numbers count them).
 */
export function decodeDataSet(
  session: DecodeSession,
  exporter: ExporterState,
  domain: DomainState,
  plan: TemplatePlan,
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  time: MessageTime,
  out: RecordOutput,
): number {
  let records = 0;
  const fixed = plan.fixedOffsets;
  if (fixed !== null) {
    const length = plan.recordLength;
    // RFC 3954 §5.3, RFC 7011 §3.3.1: trailing bytes too short for a record are padding.
    for (let p = start; p + length <= end; p += length) {
      if (plan.isOptions) applyOptionsRecord(session, exporter, domain, plan, view, p, fixed, plan.fieldLengths);
      else decodeFlowRecord(session, exporter, domain, plan, bytes, view, p, fixed, plan.fieldLengths, time, out);
      records++;
    }
    return records;
  }
  const offsets = session.scratchOffsets;
  const lengths = session.scratchLengths;
  let p = start;
  while (end - p >= plan.recordLength) {
    const recordEnd = layoutVariableRecord(plan, bytes, p, end, offsets, lengths);
    if (recordEnd < 0) {
      session.fail(exporter.address, 'truncated-record', { templateId: plan.templateId });
      break;
    }
    if (plan.isOptions) applyOptionsRecord(session, exporter, domain, plan, view, p, offsets, lengths);
    else decodeFlowRecord(session, exporter, domain, plan, bytes, view, p, offsets, lengths, time, out);
    records++;
    p = recordEnd;
  }
  return records;
}

function isZero(bytes: Uint8Array, offset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

/**
 * One flow record of a data set, appended to `out`. The one place that maps template fields to a
 * FlowRecord, for both decode() and decodeTransient(): everything is read first, then the record
 * (new or pooled) is filled and committed, so a throw never leaves a half-filled record in `out`.
 */
export function decodeFlowRecord(
  session: DecodeSession,
  exporter: ExporterState,
  domain: DomainState,
  plan: TemplatePlan,
  bytes: Uint8Array,
  view: DataView,
  base: number,
  offsets: Int32Array,
  lengths: Int32Array,
  time: MessageTime,
  out: RecordOutput,
): void {
  const rf = plan.roleField;
  let i: number;

  // Addresses: IPv4 fields unless they are absent or all zero and IPv6 fields are present
  // (some templates carry both families and zero the unused one). Kept as (source, offset, length),
  // length 0 for none, so that the pooled path copies the bytes without making a view first.
  let srcSource = bytes;
  let srcAt = 0;
  let srcLength = 0;
  let dstSource = bytes;
  let dstAt = 0;
  let dstLength = 0;
  const s4 = rf[Role.src4];
  const s6 = rf[Role.src6];
  if (s4 >= 0 && lengths[s4] === 4 && (s6 < 0 || !isZero(bytes, base + offsets[s4], 4))) {
    srcAt = base + offsets[s4];
    srcLength = 4;
    i = rf[Role.dst4];
    if (i >= 0 && lengths[i] === 4) { dstAt = base + offsets[i]; dstLength = 4; }
  } else if (s6 >= 0 && lengths[s6] === 16) {
    srcAt = base + offsets[s6];
    srcLength = 16;
    i = rf[Role.dst6];
    if (i >= 0 && lengths[i] === 16) { dstAt = base + offsets[i]; dstLength = 16; }
  } else {
    i = rf[Role.dst4];
    if (i >= 0 && lengths[i] === 4) { dstAt = base + offsets[i]; dstLength = 4; }
  }

  // Interfaces: 10/14, or the physical 252/253 some devices send instead.
  let inputIf = 0;
  let outputIf = 0;
  i = rf[Role.inIf];
  if (i < 0) i = rf[Role.inPhysIf];
  if (i >= 0) inputIf = readUint(view, base + offsets[i], lengths[i]);
  i = rf[Role.outIf];
  if (i < 0) i = rf[Role.outPhysIf];
  if (i >= 0) outputIf = readUint(view, base + offsets[i], lengths[i]);

  // Counters: delta counts; post-* deltas (egress-side counters) when the pre ones are absent; total
  // counts last, for devices that export only totals (they export each flow once, at its end).
  let rawBytes = 0;
  i = rf[Role.bytes];
  if (i < 0) i = rf[Role.postBytes];
  if (i < 0) i = rf[Role.totalBytes];
  if (i >= 0) rawBytes = readUint(view, base + offsets[i], lengths[i]);
  let rawPackets = 0;
  i = rf[Role.packets];
  if (i < 0) i = rf[Role.postPackets];
  if (i < 0) i = rf[Role.totalPackets];
  if (i >= 0) rawPackets = readUint(view, base + offsets[i], lengths[i]);

  let protocol = 0;
  i = rf[Role.protocol];
  if (i >= 0) protocol = readUint(view, base + offsets[i], lengths[i]);
  let srcPort = 0;
  i = rf[Role.srcPort];
  if (i >= 0) srcPort = readUint(view, base + offsets[i], lengths[i]);
  let dstPort = 0;
  i = rf[Role.dstPort];
  if (i >= 0) dstPort = readUint(view, base + offsets[i], lengths[i]);

  // A packet-sampling record (header copy, no counters): one sampled packet of its IP length.
  const section = rf[Role.frameSection];
  if (section >= 0 && rf[Role.bytes] < 0 && rf[Role.postBytes] < 0 && rf[Role.totalBytes] < 0) {
    const o = base + offsets[section];
    parseFrameSection(bytes, o, o + lengths[section], sampled);
    if (sampled.srcIp !== null && sampled.dstIp !== null && srcLength === 0) {
      // Views into the header copy: copyAddresses copies them (pooled) like the template's fields.
      srcSource = sampled.srcIp; srcAt = 0; srcLength = sampled.srcIp.length;
      dstSource = sampled.dstIp; dstAt = 0; dstLength = sampled.dstIp.length;
      protocol = sampled.protocol;
      srcPort = sampled.srcPort;
      dstPort = sampled.dstPort;
    }
    i = rf[Role.frameSize];
    rawBytes = sampled.ipLength > 0 ? sampled.ipLength : i >= 0 ? readUint(view, base + offsets[i], lengths[i]) : 0;
    if (rawPackets === 0) rawPackets = 1;
  }

  flowTimeMs(rf, view, base, offsets, lengths, time, domain, true);
  flowTimeMs(rf, view, base, offsets, lengths, time, domain, false);
  const startMs = flowTimesMs[0];
  let endMs = flowTimesMs[1];
  let begin = startMs;
  if (begin < 0) begin = endMs < 0 ? time.exportMs : endMs;
  if (endMs < 0 || endMs < begin) endMs = begin;

  const samplingRate = recordSamplingRate(session, exporter, rf, view, base, offsets, lengths, domain);
  const flowBytes = samplingRate === 1 ? rawBytes : Math.round(rawBytes * samplingRate);
  const flowPackets = samplingRate === 1 ? rawPackets : Math.round(rawPackets * samplingRate);
  exporter.samplingRate = samplingRate;

  if (out.pool === null) {
    // decode(): a new record with views into the datagram, in one literal (see pooledRecord).
    commitRecord(out, {
      exporter: exporter.address,
      observationDomain: domain.observationDomain,
      srcIp: addressView(srcSource, srcAt, srcLength),
      dstIp: addressView(dstSource, dstAt, dstLength),
      inputIf,
      outputIf,
      bytes: flowBytes,
      packets: flowPackets,
      samplingRate,
      startMs: begin,
      endMs,
      protocol,
      srcPort,
      dstPort,
    });
    return;
  }
  // decodeTransient(): the same values into a reused record, addresses copied.
  const record = pooledRecord(out);
  copyAddresses(out, record, srcSource, srcAt, srcLength, dstSource, dstAt, dstLength);
  record.exporter = exporter.address;
  record.observationDomain = domain.observationDomain;
  record.inputIf = inputIf;
  record.outputIf = outputIf;
  record.bytes = flowBytes;
  record.packets = flowPackets;
  record.samplingRate = samplingRate;
  record.startMs = begin;
  record.endMs = endMs;
  record.protocol = protocol;
  record.srcPort = srcPort;
  record.dstPort = dstPort;
  commitRecord(out, record);
}

/**
 * flowTimeMs's results: start in [0], end in [1]. A double returned from a call that is not inlined
 * is boxed in a new HeapNumber (two per record in the heap profile of decodeTransient, ~0.9 KB per
 * datagram); a Float64Array element is stored unboxed.
 */
const flowTimesMs = new Float64Array(2);

/**
 * Absolute start (or end) time in Unix ms from whichever time fields the template has; -1 if none.
 * Written to flowTimesMs[0] (start) or [1] (end).
 */
function flowTimeMs(
  rf: Int16Array, view: DataView, base: number, offsets: Int32Array, lengths: Int32Array,
  time: MessageTime, domain: DomainState, start: boolean,
): void {
  const slot = start ? 0 : 1;
  let i = rf[start ? Role.startMs : Role.endMs];
  if (i >= 0) { flowTimesMs[slot] = readUint(view, base + offsets[i], lengths[i]); return; }
  i = rf[start ? Role.startSec : Role.endSec];
  if (i >= 0) { flowTimesMs[slot] = readUint(view, base + offsets[i], lengths[i]) * 1000; return; }
  i = rf[start ? Role.startUs : Role.endUs];
  if (i < 0) i = rf[start ? Role.startNs : Role.endNs];
  if (i >= 0 && lengths[i] === 8) { flowTimesMs[slot] = readNtpTimestampMs(view, base + offsets[i]); return; }
  flowTimesMs[slot] = -1;
  i = rf[start ? Role.firstUptime : Role.lastUptime];
  if (i >= 0) {
    const uptimeValue = readUint(view, base + offsets[i], lengths[i]);
    if (time.uptimeMs >= 0) { flowTimesMs[slot] = uptimeToUnixMs(time.exportMs, time.uptimeMs, uptimeValue); return; }
    // IPFIX: relative to systemInitTimeMilliseconds, in the record itself or from options data.
    const initIndex = rf[Role.systemInitMs];
    const initMs = initIndex >= 0 ? readUint(view, base + offsets[initIndex], lengths[initIndex]) : domain.systemInitMs;
    if (initMs >= 0) flowTimesMs[slot] = initRelativeToUnixMs(initMs, uptimeValue, time.exportMs);
    return; // else -1: unknown origin, the caller falls back to the export time
  }
  i = rf[start ? Role.startDeltaUs : Role.endDeltaUs];
  if (i >= 0) flowTimesMs[slot] = time.exportMs - Math.floor(readUint(view, base + offsets[i], lengths[i]) / 1000);
}

/**
 * Sampling rate for one record: a rate carried in the record itself (34/50, or 305+306), else the
 * rate the domain's options data announced for the record's sampler id (48/302), else the one
 * announced without an id, else — when the domain announced exactly one sampler — that one; else 1.
 * Always finite and >= 1 (a record's bad rate is counted and ignored; the sampler table only holds
 * good ones), so bytes * rate stays finite: at most 2^64 * 2^65.
 */
function recordSamplingRate(
  session: DecodeSession, exporter: ExporterState,
  rf: Int16Array, view: DataView, base: number, offsets: Int32Array, lengths: Int32Array,
  domain: DomainState,
): number {
  const inline = samplingRateOf(rf, view, base, offsets, lengths);
  if (inline > 0) return inline;
  if (inline < 0) session.fail(exporter.address, 'bad-sampling-rate', { source: 'record' });
  const samplers = domain.samplers;
  if (samplers.size === 0) return 1;
  const i = rf[Role.samplerId];
  if (i >= 0) {
    const rate = samplers.get(readUint(view, base + offsets[i], lengths[i]));
    if (rate !== undefined) return rate;
  }
  const anonymous = samplers.get(0);
  if (anonymous !== undefined) return anonymous;
  if (samplers.size === 1) for (const rate of samplers.values()) return rate;
  return 1;
}

/** A finite rate >= 1 is a sampling rate (fractional ones too: RFC 5477 interval 2, space 1 is 1.5). */
function checkedRate(rate: number): number {
  return rate >= 1 && rate < Infinity ? rate : -1; // also refuses NaN
}

/**
 * A rate described by the fields of one record; 0 when the record describes none, -1 when it
 * describes one that is not a rate (population smaller than the sample, non-finite). An interval of
 * 0 reads as "no rate" (unsampled), as before. Fields come from compiled plans, at most 8 bytes,
 * so every value here is finite; checkedRate keeps that true whatever changes upstream.
 */
function samplingRateOf(
  rf: Int16Array, view: DataView, base: number, offsets: Int32Array, lengths: Int32Array,
): number {
  let i = rf[Role.samplingInterval];
  if (i >= 0) {
    const interval = readUint(view, base + offsets[i], lengths[i]);
    if (interval > 0) return checkedRate(interval);
  }
  i = rf[Role.packetInterval];
  const j = rf[Role.packetSpace];
  if (i >= 0 && j >= 0) {
    // RFC 5477 §8.2.2/8.2.3: select `interval` packets, then skip `space`.
    const interval = readUint(view, base + offsets[i], lengths[i]);
    const space = readUint(view, base + offsets[j], lengths[j]);
    if (interval > 0) return checkedRate((interval + space) / interval);
  }
  i = rf[Role.samplingSize];
  const k = rf[Role.samplingPopulation];
  if (i >= 0 && k >= 0) {
    // RFC 5477 §8.2.4/§8.2.5: `size` packets sampled out of every `population`.
    const size = readUint(view, base + offsets[i], lengths[i]);
    const population = readUint(view, base + offsets[k], lengths[k]);
    if (size > 0) return checkedRate(population / size);
  }
  return 0;
}

/** Options data: remember the sampler's rate, the system init time and interface names. */
export function applyOptionsRecord(
  session: DecodeSession, exporter: ExporterState,
  domain: DomainState, plan: TemplatePlan, view: DataView, base: number,
  offsets: Int32Array, lengths: Int32Array,
): void {
  const rf = plan.roleField;
  const rate = samplingRateOf(rf, view, base, offsets, lengths);
  if (rate > 0) {
    const i = rf[Role.samplerId];
    session.setSampler(domain, i >= 0 ? readUint(view, base + offsets[i], lengths[i]) : 0, rate);
  } else if (rate < 0) {
    session.fail(exporter.address, 'bad-sampling-rate', { source: 'options', templateId: plan.templateId });
  }
  const init = rf[Role.systemInitMs];
  if (init >= 0) domain.systemInitMs = readUint(view, base + offsets[init], lengths[init]);
  const nameFields = plan.interfaceNames;
  if (nameFields !== null) {
    const names = readInterfaceNames(nameFields, view, base, offsets, lengths);
    if (names !== null) session.setInterfaceName(exporter, names.ifIndex, names.entry);
  }
}
