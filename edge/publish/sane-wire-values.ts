/**
 * Values that protobuf can encode, made from values that may not be: the last step before the
 * status heartbeat, the will/BIRTH and LiveFlows are encoded. The codec verifies and throws on a
 * uint32 of 1.5 or a uint64 of Infinity (and would wrap a negative uint64 into 2^64 - n); a counter
 * that went bad must show as a clamped number on the status page, not stop the heartbeat.
 * Kept here, not in proto/codec.ts: the codec stays strict, so billing batches with such values fail
 * loudly where they are made.
 */
import type { Counters, ExporterStatus, InterfaceCounters, LiveFlows, Talker } from '../../proto/codec';

const UINT32_MAX = 0xffff_ffff;

/** uint64 counter: a finite, non-negative, safe integer (NaN and -Infinity → 0, +Infinity → 2^53 - 1). */
export function uint64Count(n: unknown): number {
  if (typeof n !== 'number' || Number.isNaN(n) || n <= 0) return 0;
  if (n >= Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  return Math.round(n);
}

/** uint32 field clamped to [min, 2^32 - 1]; non-numbers and NaN → min. */
export function uint32Value(n: unknown, min = 0): number {
  if (typeof n !== 'number' || Number.isNaN(n)) return min;
  if (n >= UINT32_MAX) return UINT32_MAX;
  return Math.max(min, Math.round(n));
}

/** ExporterStatus.sampling_rate (uint32): round(rate) within [1, 2^32 - 1]; anything non-finite → 1. */
export function uint32SamplingRate(rate: unknown): number {
  if (typeof rate !== 'number' || !Number.isFinite(rate)) return 1;
  return uint32Value(rate, 1);
}

function text(s: unknown): string {
  return typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
}

export function saneCounters(c: Counters): Counters {
  const out = {} as Record<string, number>;
  for (const [k, v] of Object.entries(c)) out[k] = uint64Count(v);
  return out as unknown as Counters;
}

export function saneExporterStatus(e: ExporterStatus): ExporterStatus {
  return {
    address: text(e.address),
    netflowVersion: uint32Value(e.netflowVersion),
    packets: uint64Count(e.packets),
    flows: uint64Count(e.flows),
    sequenceGaps: uint64Count(e.sequenceGaps),
    lastSeenMs: uint64Count(e.lastSeenMs),
    templates: uint32Value(e.templates),
    samplingRate: uint32SamplingRate(e.samplingRate),
    bytes: uint64Count(e.bytes),
    flowsOutOfBounds: uint64Count(e.flowsOutOfBounds),
    protocol: text(e.protocol),
    datagramsLost: uint64Count(e.datagramsLost),
    samplesDropped: uint64Count(e.samplesDropped),
    ifCounters: (Array.isArray(e.ifCounters) ? e.ifCounters : []).map(saneInterfaceCounters),
    interfaceNames: (Array.isArray(e.interfaceNames) ? e.interfaceNames : []).map((n) => ({
      ifIndex: uint32Value(n.ifIndex), name: text(n.name), description: text(n.description),
    })),
  };
}

export function saneInterfaceCounters(c: InterfaceCounters): InterfaceCounters {
  return {
    ifIndex: uint32Value(c.ifIndex), ifSpeed: uint64Count(c.ifSpeed), inOctets: uint64Count(c.inOctets),
    outOctets: uint64Count(c.outOctets), inErrors: uint32Value(c.inErrors), outErrors: uint32Value(c.outErrors),
    inDiscards: uint32Value(c.inDiscards), outDiscards: uint32Value(c.outDiscards), ifStatus: uint32Value(c.ifStatus),
    lastSeenMs: uint64Count(c.lastSeenMs),
  };
}

export function saneTalker(t: Talker): Talker {
  return {
    src: text(t.src), dst: text(t.dst), exporter: text(t.exporter),
    protocol: uint32Value(t.protocol), srcPort: uint32Value(t.srcPort), dstPort: uint32Value(t.dstPort),
    bytes: uint64Count(t.bytes), packets: uint64Count(t.packets), bitsPerSec: uint64Count(t.bitsPerSec),
  };
}

export function saneLiveFlows(l: LiveFlows): LiveFlows {
  return {
    edgeId: text(l.edgeId), atMs: uint64Count(l.atMs), windowSec: uint32Value(l.windowSec, 1),
    talkers: (Array.isArray(l.talkers) ? l.talkers : []).map(saneTalker),
    ...(l.samplingOneIn === undefined ? {} : { samplingOneIn: uint32Value(l.samplingOneIn) }),
  };
}
