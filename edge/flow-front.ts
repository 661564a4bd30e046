/**
 * The edge's flow front: everything a datagram goes through BEFORE the aggregator.
 * decode (NetFlow v5/v9/IPFIX and sFlow decoders) → collection paused? → flow bounds → classify →
 * sink.addCoded(flow, hit codes) (the aggregator), plus the live view's top talkers.
 *
 * Why a module of its own: one concept (what a datagram becomes before it is counted) apart from
 * the edge's durability logic (create-edge.ts), and a front that can be tested alone. Its status()
 * is plain data. (Issue 13 tried running it on the main thread and the aggregator in the worker,
 * a two-stage pipeline: on two cores it measured slower than one worker doing both; see README.)
 *
 * Hot path: ingest() runs once per datagram and its loop once per record; the loop allocates
 * nothing and calls sink.addCoded directly (pass the aggregator itself as the sink, not a wrapper).
 * Hits travel as hit codes (classify/subject-keys.ts) in one reused Int32Array.
 */
import type { Logger } from '../common/logger';
import { createOnceLogger } from '../common/logger';
import type { EdgeConfig as CollectionConfig, ExporterStatus, Talker } from '../proto/codec';
import type { DecoderCounters, FlowDecoder } from './decode/flow-decoder';
import type { FlowRecord } from './decode/flow-record';
import { createFlowDecoder } from './decode/create-flow-decoder';
import { createSflowDecoder } from './decode/sflow/create-sflow-decoder';
import type { EdgeAgentConfig } from './config';
import { createClassifier, defaultCollectionConfig, MAX_HITS, type Classifier } from './classify/classifier';
import { createTopTalkers } from './aggregate/top-talkers';
import { createRefusalCounter, flowBoundsFromConfig, outOfBoundsReason } from './validate/flow-bounds';

/** Which listener a datagram came in on, and so which decoder reads it. */
export type DatagramKind = 'netflow' | 'sflow';

/**
 * Where classified flows go: the bucket aggregator (its addCoded() has this signature). Called only
 * for flows with at least one hit: codes[0, n) are hit codes (classify/subject-keys.ts; subjectHitOf
 * in classifier.ts turns one into a SubjectHit). LIFETIME: `flow` and `codes` are reused after
 * addCoded() returns (the decoder's transient records, the front's code array): copy what you keep.
 */
export interface FlowSink {
  addCoded(flow: FlowRecord, codes: Int32Array, n: number): void;
}

/**
 * The front's share of the edge's status: both decoders' counters summed, with tableEvictions also
 * counting the interface hits the classifiers refused (old and current). Plain data only.
 */
export interface FrontStatus extends DecoderCounters {
  flowsOutOfBounds: number;
  unclassifiedFlows: number;
  /** Decoded while the hub had collection paused: counted, not billed. */
  pausedFlows: number;
  /** NetFlow exporters then sFlow agents, as the status message carries them. */
  exporters: ExporterStatus[];
  configVersion: number;
  collectionPaused: boolean;
}

export interface FlowFront {
  /** One datagram; may throw (the caller counts it: createEdge's ingest records 'ingest' errors). */
  ingest(datagram: Uint8Array, exporter: string, kind: DatagramKind, nowMs: number): void;
  /**
   * Classify with this collection config from now on (pause included). Returns the IP groups the
   * new classifier kept (for createEdge's 'collection config applied' line).
   */
  useCollection(c: CollectionConfig): { ipGroupCount: number };
  /** The collection config in use. */
  collection(): CollectionConfig;
  status(): FrontStatus;
  /** The live view: the top n talkers of the window ending at nowMs; starts a new window. */
  takeTalkers(nowMs: number, n: number): { windowSec: number; talkers: Talker[]; samplingOneIn?: number };
  /** The decoders' periodic expiry (held data past its hold time, silent exporters). */
  expire(nowMs: number): void;
}

export interface FlowFrontDeps {
  config: Readonly<EdgeAgentConfig>;
  log: Logger;
  sink: FlowSink;
  /** Defaults to createFlowDecoder from config. */
  decoder?: FlowDecoder;
  /** sFlow v5 datagrams (kind 'sflow'). Defaults to createSflowDecoder from config. */
  sflowDecoder?: FlowDecoder;
  /** Start of the first top-talkers window. */
  startMs: number;
}

export function createFlowFront(deps: FlowFrontDeps): FlowFront {
  const { config, log, sink } = deps;
  const once = createOnceLogger(log);
  const decoder = deps.decoder ?? createFlowDecoder({
    log: log.child({ module: 'decode' }),
    maxExporters: config.maxExporters,
    maxTemplatesPerExporter: config.maxTemplatesPerExporter,
    exporterIdleMs: config.exporterIdleSec * 1000,
  });
  // A decoder of its own: sFlow state (agents, sources, interface counters) is keyed by agent address.
  const sflowDecoder = deps.sflowDecoder ?? createSflowDecoder({
    log: log.child({ module: 'decode-sflow' }),
    maxExporters: config.maxExporters,
    exporterIdleMs: config.exporterIdleSec * 1000,
  });
  const topTalkers = createTopTalkers({ startMs: deps.startMs });
  let collection: CollectionConfig = defaultCollectionConfig();
  const classifierOptions = { maxSubjects: config.maxSubjects };
  let classifier: Classifier = createClassifier(collection, classifierOptions);
  // Interface hits refused by earlier classifiers (one is built per collection config).
  let refusedHitsOfOldClassifiers = 0;
  let unclassifiedFlows = 0;
  let pausedFlows = 0;

  // Reused records (FlowDecoder.decodeTransient): nothing below keeps a record past this loop; the
  // aggregator copies numbers and top-talkers copies addresses.
  const decodeForIngest = decoder.decodeTransient !== undefined
    ? decoder.decodeTransient.bind(decoder)
    : decoder.decode.bind(decoder);
  const decodeSflow = sflowDecoder.decodeTransient !== undefined
    ? sflowDecoder.decodeTransient.bind(sflowDecoder)
    : sflowDecoder.decode.bind(sflowDecoder);
  const live = config.liveIntervalMs > 0;

  const bounds = flowBoundsFromConfig(config);
  const hitCodes = new Int32Array(MAX_HITS);
  const refused = createRefusalCounter(config.maxExporters);

  function ingest(datagram: Uint8Array, exporter: string, kind: DatagramKind, nowMs: number): void {
    const flows = kind === 'sflow' ? decodeSflow(datagram, exporter, nowMs) : decodeForIngest(datagram, exporter, nowMs);
    if (collection.collectionPaused) { pausedFlows += flows.length; return; }
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      const reason = outOfBoundsReason(f, nowMs, bounds);
      if (reason !== undefined) {
        if (refused.count(f.exporter, reason)) {
          log.warn({ exporter: f.exporter, reason, startMs: f.startMs, endMs: f.endMs, bytes: f.bytes, packets: f.packets, samplingRate: f.samplingRate },
            `flow refused by the sanity bounds: ${reason} (further ones are only counted, per exporter and reason)`);
        }
        continue;
      }
      const n = classifier.classifyInto(f, hitCodes);
      if (n === 0) unclassifiedFlows++;
      else sink.addCoded(f, hitCodes, n);
      if (live) topTalkers.add(f);
    }
  }

  function useCollection(c: CollectionConfig): { ipGroupCount: number } {
    collection = c;
    refusedHitsOfOldClassifiers += classifier.refusedInterfaceHits();
    classifier = createClassifier(c, classifierOptions);
    for (const e of classifier.configErrors) once.warnOnce(`config-${c.version}-${e}`, { version: c.version }, `collection config entry skipped: ${e}`);
    return { ipGroupCount: classifier.ipGroupCount };
  }

  function status(): FrontStatus {
    const d = sumDecoderCounters(decoder.counters(), sflowDecoder.counters());
    return {
      packetsReceived: d.packetsReceived, flowsDecoded: d.flowsDecoded, decodeErrors: d.decodeErrors,
      templateMisses: d.templateMisses, pendingExpired: d.pendingExpired, sequenceGaps: d.sequenceGaps,
      tableEvictions: (d.tableEvictions ?? 0) + refusedHitsOfOldClassifiers + classifier.refusedInterfaceHits(),
      flowsOutOfBounds: refused.total(),
      unclassifiedFlows,
      pausedFlows,
      exporters: decoder.exporters().concat(sflowDecoder.exporters()).map((e) => ({
        address: e.address, netflowVersion: e.netflowVersion, packets: e.packets, flows: e.flows, sequenceGaps: e.sequenceGaps,
        lastSeenMs: e.lastSeenMs, templates: e.templates, samplingRate: e.samplingRate, bytes: e.bytes,
        flowsOutOfBounds: refused.ofExporter(e.address),
        protocol: e.protocol ?? (e.netflowVersion === 10 ? 'ipfix' : 'netflow'),
        datagramsLost: e.datagramsLost ?? 0, samplesDropped: e.samplesDropped ?? 0,
        ifCounters: (e.ifCounters ?? []).map((c) => ({
          ifIndex: c.ifIndex, ifSpeed: c.ifSpeed, inOctets: c.inOctets, outOctets: c.outOctets, inErrors: c.inErrors,
          outErrors: c.outErrors, inDiscards: c.inDiscards, outDiscards: c.outDiscards, ifStatus: c.ifStatus, lastSeenMs: c.lastSeenMs,
        })),
        interfaceNames: e.interfaceNames ?? [],
      })),
      configVersion: collection.version,
      collectionPaused: collection.collectionPaused,
    };
  }

  return {
    ingest,
    useCollection,
    collection: () => collection,
    status,
    takeTalkers: (nowMs, n) => topTalkers.take(nowMs, n),
    expire(nowMs) { decoder.expire(nowMs); sflowDecoder.expire(nowMs); },
  };
}

/** Both decoders' counters as one set (the status message has one Counters). */
function sumDecoderCounters(a: DecoderCounters, b: DecoderCounters): DecoderCounters {
  return {
    packetsReceived: a.packetsReceived + b.packetsReceived, flowsDecoded: a.flowsDecoded + b.flowsDecoded,
    decodeErrors: a.decodeErrors + b.decodeErrors, templateMisses: a.templateMisses + b.templateMisses,
    pendingExpired: a.pendingExpired + b.pendingExpired, sequenceGaps: a.sequenceGaps + b.sequenceGaps,
    tableEvictions: (a.tableEvictions ?? 0) + (b.tableEvictions ?? 0),
  };
}
