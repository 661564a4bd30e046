/**
 * The edge agent's composition root: receive → decode → classify → aggregate → outbox → publish.
 * No socket is opened and no connection made until start(). main.ts owns the KV store and signals.
 *
 * Durability: every checkpointIntervalMs, flush() closes the due buckets and writes, in ONE atomic
 * KV write, (a) their SummaryBatches into the outbox and (b) the checkpoint of what is still open
 * (including the removal of the closed buckets). A kill -9 therefore loses at most the flows since
 * the last flush, and a bucket is never both still open on disk and in the outbox (counted twice).
 */
import type { Clock } from '../common/clock';
import type { Logger } from '../common/logger';
import { createOnceLogger } from '../common/logger';
import type { KeyValueStore } from '../common/kv/kv-store';
import { emptyCounters, type Counters, type EdgeConfig as CollectionConfig, type ExporterStatus, type Summary } from '../proto/codec';
import type { FlowDecoder } from './decode/flow-decoder';
import { createFlowDecoder } from './decode/create-flow-decoder';
import type { EdgeAgentConfig } from './config';
import { createClassifier, defaultCollectionConfig, type Classifier } from './classify/classifier';
import { loadCollectionConfig, saveCollectionConfig } from './classify/collection-config-store';
import { createBucketAggregator } from './aggregate/bucket-aggregator';
import { aggregatorCheckpointOps, loadAggregatorState } from './aggregate/aggregator-checkpoint-store';
import { createTopTalkers } from './aggregate/top-talkers';
import { createOutbox } from './outbox/outbox';
import { createMqttSummaryPublisher, type MqttConnect } from './publish/mqtt-summary-publisher';
import { createUdpReceiver, type UdpReceiver } from './receive/udp-receiver';
import { createRefusalCounter, flowBoundsFromConfig, outOfBoundsReason } from './validate/flow-bounds';

export interface EdgeDeps {
  config: Readonly<EdgeAgentConfig>;
  clock: Clock;
  log: Logger;
  /** Open buckets, outbox, collection config, session counter. Not closed by stop(). */
  kv: KeyValueStore;
  /** Defaults to createFlowDecoder({ log }). */
  decoder?: FlowDecoder;
  /** Defaults to mqtt.connect. */
  mqttConnect?: MqttConnect;
  /** false: no UDP socket; feed datagrams through ingest() (tests, benches). Default true. */
  listenUdp?: boolean;
  /** false: no MQTT (benches). Default true. */
  publish?: boolean;
  softwareVersion?: string;
}

export interface EdgeStatusReport {
  counters: Counters;
  exporters: ExporterStatus[];
  configVersion: number;
  collectionPaused: boolean;
  pausedFlows: number;
  openBuckets: number;
  activeSubjects: number;
  mqttConnected: boolean;
  session: number;
  udpPort: number | undefined;
}

export interface Edge {
  /** udpRecvBufferBytes: what the kernel granted (Linux reports twice the usable size). */
  start(): Promise<{ udpPort: number | undefined; udpRecvBufferBytes: number | undefined }>;
  /** Clean shutdown: final flush, OFFLINE status, close socket and MQTT. */
  stop(): Promise<void>;
  /** Close due buckets into the outbox and checkpoint the rest, atomically. Serialized. */
  flush(): Promise<void>;
  /** One datagram from an exporter (what the UDP receiver calls). */
  ingest(datagram: Uint8Array, exporter: string): void;
  applyCollectionConfig(config: CollectionConfig): Promise<void>;
  status(): EdgeStatusReport;
}

const DECODER_EXPIRE_INTERVAL_MS = 5000;

export function createEdge(deps: EdgeDeps): Edge {
  const { config, clock, log, kv } = deps;
  const once = createOnceLogger(log);
  const decoder = deps.decoder ?? createFlowDecoder({ log: log.child({ module: 'decode' }) });
  const aggregator = createBucketAggregator({ closeGraceSec: config.closeGraceSec });
  const topTalkers = createTopTalkers({ startMs: clock.nowMs() });
  const outbox = createOutbox({
    kv, log: log.child({ module: 'outbox' }), edgeId: config.edgeId, tenantId: config.tenantId,
    maxBytes: config.outboxMaxBytes, batchMaxSummaries: config.batchMaxSummaries, firstSeq: clock.nowMs(),
  });
  let collection: CollectionConfig = defaultCollectionConfig();
  const classifierOptions = { maxSubjects: config.maxSubjects };
  let classifier: Classifier = createClassifier(collection, classifierOptions);
  // Interface hits refused by earlier classifiers (one is built per collection config).
  let refusedHitsOfOldClassifiers = 0;
  let unclassifiedFlows = 0;
  let pausedFlows = 0;
  let udp: UdpReceiver | undefined;
  let udpPort: number | undefined;
  let udpRecvBufferBytes: number | undefined;
  const timers: ReturnType<typeof setInterval>[] = [];
  let flushChain: Promise<void> = Promise.resolve();
  // Closed buckets whose write failed: retried (first) by the next flush.
  let pendingSummaries: Summary[] = [];
  let pendingRemoved: ReturnType<typeof aggregator.checkpoint>['removed'] = [];
  let started = false;

  const publisher = deps.publish === false ? undefined : createMqttSummaryPublisher({
    config, outbox, kv, clock, log: log.child({ module: 'publish' }),
    status: () => { const s = status(); return { counters: s.counters, exporters: s.exporters, configVersion: s.configVersion, collectionPaused: s.collectionPaused }; },
    onConfig: (c) => { void applyCollectionConfig(c).catch((err) => log.error({ err }, 'cannot apply collection config')); },
    connect: deps.mqttConnect,
    softwareVersion: deps.softwareVersion,
  });

  function useCollection(c: CollectionConfig): void {
    collection = c;
    refusedHitsOfOldClassifiers += classifier.refusedInterfaceHits();
    classifier = createClassifier(c, classifierOptions);
    for (const e of classifier.configErrors) once.warnOnce(`config-${c.version}-${e}`, { version: c.version }, `collection config entry skipped: ${e}`);
  }

  async function applyCollectionConfig(c: CollectionConfig): Promise<void> {
    const same = c.version === collection.version && c.collectionPaused === collection.collectionPaused;
    if (same && started) return; // the retained config is delivered again on every reconnect
    await saveCollectionConfig(kv, c);
    if (c.collectionPaused !== collection.collectionPaused) {
      log.warn({ version: c.version, reason: c.pauseReason }, c.collectionPaused ? 'collection PAUSED by the hub: new flows are counted, not billed' : 'collection resumed');
    }
    useCollection(c);
    log.info({ version: c.version, ipGroups: classifier.ipGroupCount, allInterfaces: c.allInterfaces, interfaces: c.interfaces.length }, 'collection config applied');
  }

  // Reused records (FlowDecoder.decodeTransient): nothing below keeps a record past this loop; the
  // aggregator copies numbers and top-talkers copies addresses.
  const decodeForIngest = decoder.decodeTransient !== undefined
    ? decoder.decodeTransient.bind(decoder)
    : decoder.decode.bind(decoder);
  const live = config.liveIntervalMs > 0;

  const bounds = flowBoundsFromConfig(config);
  const refused = createRefusalCounter(config.maxExporters);

  function ingest(datagram: Uint8Array, exporter: string): void {
    const nowMs = clock.nowMs();
    const flows = decodeForIngest(datagram, exporter, nowMs);
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
      const hits = classifier.classify(f);
      if (hits.length === 0) unclassifiedFlows++;
      else aggregator.add(f, hits);
      if (live) topTalkers.add(f);
    }
  }

  async function doFlush(): Promise<void> {
    const nowMs = clock.nowMs();
    const summaries = pendingSummaries.concat(aggregator.closeDue(nowMs));
    const cp = aggregator.checkpoint();
    cp.removed = pendingRemoved.concat(cp.removed);
    const staged = outbox.stage(summaries, nowMs);
    try {
      await kv.write([...staged.ops, ...aggregatorCheckpointOps(cp)]);
    } catch (err) {
      // Nothing was written (atomic): keep the closed summaries and rewrite all open buckets next time.
      pendingSummaries = summaries;
      pendingRemoved = cp.removed;
      aggregator.markAllDirty();
      log.error({ err, closedSummaries: summaries.length }, 'checkpoint write failed; will retry');
      return;
    }
    pendingSummaries = [];
    pendingRemoved = [];
    staged.commit();
    const totals = aggregator.totals();
    log.debug({ closedSummaries: summaries.length, batches: staged.seqs.length, openBytes: totals.bytes, openFlows: totals.flows, changedBuckets: cp.changed.length }, 'checkpoint written');
  }

  function flush(): Promise<void> {
    flushChain = flushChain.then(doFlush, doFlush);
    return flushChain;
  }

  function status(): EdgeStatusReport {
    const d = decoder.counters();
    const o = outbox.stats();
    const p = publisher?.stats();
    const a = aggregator.stats();
    return {
      counters: {
        ...emptyCounters(),
        packetsReceived: d.packetsReceived, flowsDecoded: d.flowsDecoded, decodeErrors: d.decodeErrors,
        templateMisses: d.templateMisses, pendingExpired: d.pendingExpired, sequenceGaps: d.sequenceGaps,
        outboxDepth: o.depth, outboxBytes: o.bytes, outboxDropped: o.dropped,
        batchesPublished: p?.batchesPublished ?? 0, batchesAcked: p?.batchesAcked ?? 0,
        lateFlows: a.lateFlows, unclassifiedFlows, flowsOutOfBounds: refused.total(),
        tableEvictions: refusedHitsOfOldClassifiers + classifier.refusedInterfaceHits(),
      },
      exporters: decoder.exporters().map((e) => ({
        address: e.address, netflowVersion: e.netflowVersion, packets: e.packets, flows: e.flows, sequenceGaps: e.sequenceGaps,
        lastSeenMs: e.lastSeenMs, templates: e.templates, samplingRate: e.samplingRate, bytes: e.bytes,
        flowsOutOfBounds: refused.ofExporter(e.address),
      })),
      configVersion: collection.version,
      collectionPaused: collection.collectionPaused,
      pausedFlows,
      openBuckets: a.openBuckets,
      activeSubjects: a.activeSubjects,
      mqttConnected: p?.connected ?? false,
      session: p?.session ?? 0,
      udpPort,
    };
  }

  return {
    async start() {
      const stored = await loadCollectionConfig(kv);
      if (stored) useCollection(stored);
      const state = await loadAggregatorState(kv);
      aggregator.restore(state.meta, state.buckets);
      await outbox.load();
      started = true;
      log.info({ restoredBuckets: state.buckets.length, outboxDepth: outbox.stats().depth, configVersion: collection.version, paused: collection.collectionPaused }, 'edge state restored');

      // unref: the socket and the MQTT client keep the process alive, not the housekeeping timers.
      timers.push(setInterval(() => { void flush(); }, config.checkpointIntervalMs));
      timers.push(setInterval(() => decoder.expire(clock.nowMs()), DECODER_EXPIRE_INTERVAL_MS));
      if (config.liveIntervalMs > 0 && publisher) {
        timers.push(setInterval(() => {
          const nowMs = clock.nowMs();
          const { windowSec, talkers } = topTalkers.take(nowMs, config.liveTopN);
          publisher.publishLive({ edgeId: config.edgeId, atMs: nowMs, windowSec, talkers });
        }, config.liveIntervalMs));
      }
      for (const timer of timers) timer.unref?.();
      if (publisher) await publisher.start();
      if (deps.listenUdp !== false) {
        udp = createUdpReceiver({
          host: config.udpHost, port: config.udpPort, recvBufferBytes: config.udpRecvBufferBytes,
          log: log.child({ module: 'receive' }), onDatagram: ingest,
        });
        const bound = await udp.start();
        udpPort = bound.port;
        udpRecvBufferBytes = bound.recvBufferBytes;
        log.info({ address: bound.address, port: bound.port, recvBufferBytes: bound.recvBufferBytes }, 'listening for NetFlow/IPFIX');
      }
      return { udpPort, udpRecvBufferBytes };
    },

    async stop() {
      for (const t of timers) clearInterval(t);
      timers.length = 0;
      await udp?.stop();
      await flush();
      await publisher?.stop({ publishOffline: true });
      log.info(status().counters, 'edge stopped');
    },

    flush,
    ingest,
    applyCollectionConfig,
    status,
  };
}
