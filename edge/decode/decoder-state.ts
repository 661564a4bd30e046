import type { DecoderCounters } from './flow-decoder';
import type { InterfaceNameEntry } from './interface-names';
import { createRecencyQueue, type Recent, type RecencyQueue } from './recency-queue';
import type { RecordOutput } from './record-output';
import { createSequenceTracker, type SequenceTracker } from './sequence-tracker';
import type { TemplateField, TemplatePlan } from './template-plan';

/**
 * The decoder's state, kept per exporter and per (exporter, version, observation domain): templates,
 * samplers and sequence tracking are scoped the way RFC 3954 §5.1 (source id) and RFC 7011 §3.1
 * (observation domain) scope them. One decoder instance must see all of an exporter's datagrams.
 */

/** Header times a data set needs to turn relative flow times into absolute ones. */
export interface MessageTime {
  /** v9 unix secs / IPFIX export time, in ms. */
  exportMs: number;
  /** v9 header sysUptime in ms; -1 for IPFIX (whose relative times use systemInitTimeMilliseconds). */
  uptimeMs: number;
}

/** A cached template and its place in the exporter's and the decoder's LRU tables. */
export interface TemplateSlot extends Recent {
  plan: TemplatePlan;
  domain: DomainState;
  /** Estimated heap bytes of the compiled plan, for the decoder's template memory budget. */
  sizeBytes: number;
}

export interface DomainState extends Recent {
  /** version * 2^32 + domain id: v9 source ids and IPFIX domains never share templates. */
  key: number;
  observationDomain: number;
  exporter: ExporterState;
  templates: Map<number, TemplateSlot>;
  /** sampler / selector id → packets per sampled packet; id 0 holds a rate announced without an id. */
  samplers: Map<number, number>;
  /** IPFIX systemInitTimeMilliseconds from options data, -1 until seen. */
  systemInitMs: number;
  sequence: SequenceTracker;
}

/** A data set that came before its template, copied out of the datagram. */
export interface PendingSet {
  domainKey: number;
  /** pendingKey(domainKey, templateId), to find held data for a template without a scan. */
  key: number;
  templateId: number;
  body: Uint8Array;
  time: MessageTime;
  receivedAtMs: number;
}

export interface ExporterState extends Recent {
  address: string;
  version: number;
  packets: number;
  flows: number;
  bytes: number;
  sequenceGaps: number;
  lastSeenMs: number;
  samplingRate: number;
  /** Lookup by key; the LRU order is in domainOrder. */
  domains: Map<number, DomainState>;
  domainOrder: RecencyQueue<DomainState>;
  /** All templates of all its domains, LRU first (bounded by maxTemplatesPerExporter). */
  templateOrder: RecencyQueue<TemplateSlot>;
  /** Held data sets in arrival order, bounded by maxPendingPerExporter. */
  pending: PendingSet[];
  /** pendingKey → how many held sets wait for that template. */
  pendingCounts: Map<number, number>;
  pendingBytes: number;
}

export function createExporterState(address: string, tick: number): ExporterState {
  return {
    address, version: 0, packets: 0, flows: 0, bytes: 0, sequenceGaps: 0, lastSeenMs: 0, samplingRate: 1, lastUse: tick,
    domains: new Map(), domainOrder: createRecencyQueue(), templateOrder: createRecencyQueue(),
    pending: [], pendingCounts: new Map(), pendingBytes: 0,
  };
}

const DOMAIN_KEY_VERSION_FACTOR = 4_294_967_296;

export function domainKeyOf(version: number, domainId: number): number {
  return version * DOMAIN_KEY_VERSION_FACTOR + domainId;
}

/** One number per (domain, template id): at most 11 * 2^48, exact in a double. */
export function pendingKey(domainKey: number, templateId: number): number {
  return domainKey * 65_536 + templateId;
}

export function createDomainState(exporter: ExporterState, version: number, domainId: number, tick: number): DomainState {
  return {
    key: domainKeyOf(version, domainId), observationDomain: domainId, exporter, lastUse: tick,
    templates: new Map(), samplers: new Map(), systemInitMs: -1,
    // v9 counts packets, v5 and IPFIX count records (tens per packet): size the windows to match.
    sequence: version === 9 ? createSequenceTracker(100_000, 64) : createSequenceTracker(3_000_000, 4096),
  };
}

/**
 * What the version decoders (netflow-v5/v9, ipfix) need from the decoder that owns the state.
 * Implemented by createFlowDecoder; the version modules stay stateless functions.
 */
export interface DecodeSession {
  readonly counters: DecoderCounters;
  /** Monotonic tick of the datagram being decoded (set by the decoder), stamped on what it uses (LRU eviction). */
  tick: number;
  /** The exporter's state for (version, source id / observation domain), created (within caps) if new. */
  domainOf(exporter: ExporterState, version: number, domainId: number): DomainState;
  /** Remember a sampler's rate (already checked: finite, >= 1) within the domain's sampler cap. */
  setSampler(domain: DomainState, samplerId: number, rate: number): void;
  /** Remember an interface's names from options data (already cleaned), within the name table's caps. */
  setSampler(domain: DomainState, samplerId: number, rate: number): void;
  /** Remember an interface's names from options data (already cleaned), within the name table's caps. */
  setInterfaceName(exporter: ExporterState, ifIndex: number, entry: InterfaceNameEntry): void;
  /** Count one malformed input and log it once per (exporter, kind). */
  fail(exporter: string, kind: string, detail?: Record<string, unknown>): void;
  /** Cache a (data or options) template and decode data held for it into `out`. */
  storeTemplate(
    exporter: ExporterState, domain: DomainState, templateId: number, fields: TemplateField[],
    isOptions: boolean, definition: Uint8Array, out: RecordOutput,
  ): void;
  withdrawTemplate(exporter: ExporterState, domain: DomainState, templateId: number): void;
  /** Hold a data set whose template is unknown (copies bytes[start, end)). */
  hold(exporter: ExporterState, domain: DomainState, templateId: number, bytes: Uint8Array,
    start: number, end: number, time: MessageTime, receivedAtMs: number): void;
  /** Scratch arrays for laying out variable-length records. */
  readonly scratchOffsets: Int32Array;
  readonly scratchLengths: Int32Array;
}
