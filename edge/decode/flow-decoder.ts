import type { FlowRecord } from './flow-record';
import type { InterfaceCountersStatus } from './sflow/counter-samples';

/** Per-exporter state the decoder reports for the status message and the Sources page. */
export interface ExporterDecodeStats {
  address: string;
  netflowVersion: number;
  packets: number;
  flows: number;
  bytes: number;
  sequenceGaps: number;
  lastSeenMs: number;
  templates: number;
  /** The rate of the last record decoded: finite, >= 1 (may be fractional, RFC 5477). */
  samplingRate: number;
  /** 'sflow' for the sFlow decoder; absent: NetFlow (netflowVersion 5/9) or IPFIX (10). */
  protocol?: 'netflow' | 'ipfix' | 'sflow';
  /** sFlow: datagrams lost by the per-(agent, sub-agent) datagram sequence numbers. */
  datagramsLost?: number;
  /** sFlow: packets the agent could not sample (the samples' `drops` counter increments). */
  samplesDropped?: number;
  /** sFlow: the last generic interface counters (counter samples) per ifIndex. */
  ifCounters?: InterfaceCountersStatus[];
  /** NetFlow v9/IPFIX: ifName/ifDescr per ifIndex from options data (IE 82/83), bounded and capped. */
  interfaceNames?: { ifIndex: number; name: string; description: string }[];
}

export interface DecoderCounters {
  packetsReceived: number;
  flowsDecoded: number;
  decodeErrors: number;
  templateMisses: number;
  pendingExpired: number;
  sequenceGaps: number;
  /**
   * Entries the decoder's bounded tables let go of: exporters (beyond maxExporters, or silent longer
   * than exporterIdleMs), observation domains, templates and samplers beyond their caps.
   */
  tableEvictions: number;
}

/**
 * FlowDecoder port: NetFlow v5 / v9 / IPFIX datagrams in, FlowRecords out.
 * Pure apart from its own template/sampling/sequence state; time comes in as arguments.
 * Never throws on bad input: it counts, logs once, and returns whatever it could decode.
 * Data that arrives before its template is held and returned by a later decode() call
 * (the one that brings the template), or counted in pendingExpired by expire().
 */
export interface FlowDecoder {
  decode(datagram: Uint8Array, exporter: string, receivedAtMs: number): FlowRecord[];
  /**
   * Same decoding, counters and state as decode(), for a consumer that is done with the records
   * before it decodes the next datagram (the edge's ingest loop). LIFETIME: the returned array and
   * the records in it belong to the decoder and are overwritten by the next decodeTransient() call;
   * copy anything kept longer (top-talkers copies its addresses). Saves the per-record objects and
   * address views decode() allocates (GC at 50k datagrams/s x 30 records): records are reused, their
   * addresses are copies (so `datagram` may be overwritten as soon as the call returns), and the
   * arrays are reused too (one per result length: never shrunk, so never reallocated). It holds
   * exactly this call's records, held data released by this datagram included, whatever happens
   * inside. Optional: a decoder without it is used through decode().
   */
  decodeTransient?(datagram: Uint8Array, exporter: string, receivedAtMs: number): readonly FlowRecord[];
  /** Drop held data older than the hold time and forget exporters silent too long; call periodically. */
  expire(nowMs: number): void;
  counters(): DecoderCounters;
  exporters(): ExporterDecodeStats[];
}
