/**
 * The edge agent's composition root: receive → decode → classify → aggregate → outbox → publish.
 * No socket is opened and no connection made until start(). main.ts owns the KV store and signals.
 * Decode, flow bounds, classify and top talkers are the flow front (flow-front.ts), feeding the
 * aggregator; this module keeps aggregation, outbox, publishing and checkpoints.
 *
 * Durability: every checkpointIntervalMs, flush() closes the due buckets and writes, in ONE atomic
 * KV write, (a) their SummaryBatches into the outbox and (b) the checkpoint of what is still open
 * (including the removal of the closed buckets). A kill -9 therefore loses at most the flows since
 * the last flush, and a bucket is never both still open on disk and in the outbox (counted twice).
 */
import type { Clock } from '../common/clock';
import type { Logger } from '../common/logger';
import { createErrorRecorder, createSafeTicker, type Timers } from '../common/ticker';
import { createSerialQueue } from '../common/serial-queue';
import type { KeyValueStore } from '../common/kv/kv-store';
import { emptyCounters, type Counters, type EdgeConfig as CollectionConfig, type ExporterStatus, type Summary } from '../proto/codec';
import type { FlowDecoder } from './decode/flow-decoder';
import type { EdgeAgentConfig } from './config';
import { loadCollectionConfig, saveCollectionConfig } from './classify/collection-config-store';
import { createBucketAggregator } from './aggregate/bucket-aggregator';
import { aggregatorCheckpointOps, loadAggregatorState } from './aggregate/aggregator-checkpoint-store';
import { createOutbox } from './outbox/outbox';
import { createMqttSummaryPublisher, type MqttConnect } from './publish/mqtt-summary-publisher';
import type { UdpReceiver } from './receive/udp-receiver';
import { createConfiguredUdpReceiver } from './receive/choose-udp-reader';
import { createFlowFront, type DatagramKind } from './flow-front';

// Other modules (edge/threads/) import DatagramKind from here, where it lived before flow-front.ts.
export type { DatagramKind } from './flow-front';

export interface EdgeDeps {
  config: Readonly<EdgeAgentConfig>;
  clock: Clock;
  log: Logger;
  /** Open buckets, outbox, collection config, session counter. Not closed by stop(). */
  kv: KeyValueStore;
  /** Defaults to createFlowDecoder({ log }). */
  decoder?: FlowDecoder;
  /** sFlow v5 datagrams (ingest kind 'sflow', the sFlow port). Defaults to createSflowDecoder({ log }). */
  sflowDecoder?: FlowDecoder;
  /** Defaults to mqtt.connect. */
  mqttConnect?: MqttConnect;
  /** false: no UDP socket; feed datagrams through ingest() (tests, benches). Default true. */
  listenUdp?: boolean;
  /** false: no MQTT (benches). Default true. */
  publish?: boolean;
  softwareVersion?: string;
  /** Interval timers for checkpoints, decoder expiry, live view, heartbeat. Default: the process's. */
  timers?: Timers;
  /** Datagrams dropped before ingest (the threaded host's full queue: edge/threads/); counter datagrams_dropped. */
  datagramsDropped?: () => number;
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
  sflowPort: number | undefined;
}

export interface Edge {
  /** udpRecvBufferBytes: what the kernel granted (Linux reports twice the usable size). */
  start(): Promise<{ udpPort: number | undefined; udpRecvBufferBytes: number | undefined; sflowPort: number | undefined }>;
  /**
   * Clean shutdown: final flush, OFFLINE status, close socket and MQTT. Rejects (after closing
   * everything) when the final checkpoint could not be written: the caller must exit nonzero.
   */
  stop(): Promise<void>;
  /** Close due buckets into the outbox and checkpoint the rest, atomically. Serialized. */
  flush(): Promise<void>;
  /**
   * One datagram from an exporter (what the UDP receivers call). kind: the listener it came in on
   * ('netflow': NetFlow v5/v9/IPFIX port; 'sflow': the sFlow port). Never throws: errors are counted.
   */
  ingest(datagram: Uint8Array, exporter: string, kind?: DatagramKind): void;
  applyCollectionConfig(config: CollectionConfig): Promise<void>;
  status(): EdgeStatusReport;
}

const DECODER_EXPIRE_INTERVAL_MS = 5000;

export function createEdge(deps: EdgeDeps): Edge {
  const { config, clock, log, kv } = deps;
  const aggregator = createBucketAggregator({
    closeGraceSec: config.closeGraceSec, clock, // the clock stamps bucket revisions (content identity)
    maxOpenBuckets: config.maxOpenBuckets, maxSubjects: config.maxSubjects, maxBucketRows: config.maxBucketRows,
  });
  // The aggregator itself is the sink, not a wrapper: the front calls addCoded once per classified record.
  const front = createFlowFront({ config, log, sink: aggregator, decoder: deps.decoder, sflowDecoder: deps.sflowDecoder, startMs: clock.nowMs() });
  const outbox = createOutbox({
    kv, log: log.child({ module: 'outbox' }), edgeId: config.edgeId, tenantId: config.tenantId,
    maxBytes: config.outboxMaxBytes, batchMaxSummaries: config.batchMaxSummaries, firstSeq: clock.nowMs(),
  });
  let udp: UdpReceiver | undefined;
  let udpPort: number | undefined;
  let sflowUdp: UdpReceiver | undefined;
  let sflowPort: number | undefined;
  let udpRecvBufferBytes: number | undefined;
  // Every tick, the datagram path and the publisher's handlers count their caught throws here.
  const errors = createErrorRecorder({ log, clock });
  const ticker = createSafeTicker({ log, clock, timers: deps.timers, errors });
  let lastFlushError: unknown;
  let flushWriteErrors = 0; // for stores without health()
  const flushes = createSerialQueue(); // one flush at a time; a failed one does not stop the next
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
    timers: deps.timers,
    errors,
  });

  async function applyCollectionConfig(c: CollectionConfig): Promise<void> {
    const collection = front.collection();
    const same = c.version === collection.version && c.collectionPaused === collection.collectionPaused;
    if (same && started) return; // the retained config is delivered again on every reconnect
    try {
      await saveCollectionConfig(kv, c);
    } catch (err) {
      // Disk full: apply it in memory all the same (a pause or new IP groups must take effect now);
      // the hub's retained config is delivered again on the next connect and saved then.
      log.error({ err, version: c.version }, 'cannot save the collection config; applied in memory only');
    }
    if (c.collectionPaused !== collection.collectionPaused) {
      log.warn({ version: c.version, reason: c.pauseReason }, c.collectionPaused ? 'collection PAUSED by the hub: new flows are counted, not billed' : 'collection resumed');
    }
    const { ipGroupCount } = front.useCollection(c);
    log.info({ version: c.version, ipGroups: ipGroupCount, allInterfaces: c.allInterfaces, interfaces: c.interfaces.length }, 'collection config applied');
  }

  // The UDP receiver must keep reading whatever one datagram does to the code below.
  function ingest(datagram: Uint8Array, exporter: string, kind: DatagramKind = 'netflow'): void {
    try {
      front.ingest(datagram, exporter, kind, clock.nowMs());
    } catch (err) {
      errors.record('ingest', err);
    }
  }

  async function doFlush(): Promise<void> {
    const nowMs = clock.nowMs();
    const summaries = pendingSummaries.concat(aggregator.closeDue(nowMs));
    const cp = aggregator.checkpoint();
    cp.removed = pendingRemoved.concat(cp.removed);
    let staged: ReturnType<typeof outbox.stage>;
    try {
      // stage() inside the try: if it throws, the closed summaries are kept and retried, not lost.
      staged = outbox.stage(summaries, nowMs);
      await kv.write([...staged.ops, ...aggregatorCheckpointOps(cp)]);
    } catch (err) {
      // Nothing was written (atomic): keep the closed summaries and rewrite all open buckets next time.
      pendingSummaries = summaries;
      pendingRemoved = cp.removed;
      aggregator.markAllDirty();
      // Logged when the failing starts, then counted (store_write_errors); the store logs recovery.
      if (lastFlushError === undefined) log.error({ err, closedSummaries: summaries.length }, 'checkpoint write failed; closed buckets kept in memory, retried every checkpoint');
      else log.debug({ err: (err as Error)?.message, closedSummaries: summaries.length, failures: flushWriteErrors + 1 }, 'checkpoint write failed again');
      lastFlushError = err;
      flushWriteErrors++;
      return;
    }
    pendingSummaries = [];
    pendingRemoved = [];
    lastFlushError = undefined;
    staged.commit();
    const totals = aggregator.totals();
    log.debug({ closedSummaries: summaries.length, batches: staged.seqs.length, openBytes: totals.bytes, openFlows: totals.flows, changedBuckets: cp.changed.length }, 'checkpoint written');
  }

  function flush(): Promise<void> {
    return flushes.run(doFlush);
  }

  function status(): EdgeStatusReport {
    const d = front.status();
    const o = outbox.stats();
    const p = publisher?.stats();
    const a = aggregator.stats();
    return {
      counters: {
        ...emptyCounters(),
        packetsReceived: d.packetsReceived, flowsDecoded: d.flowsDecoded, decodeErrors: d.decodeErrors,
        templateMisses: d.templateMisses, pendingExpired: d.pendingExpired, sequenceGaps: d.sequenceGaps,
        outboxDepth: o.depth, outboxBytes: o.bytes, outboxDropped: o.dropped,
        batchesPublished: p?.batchesPublished ?? 0, batchesAcked: p?.batchesAcked ?? 0, batchesRejected: p?.batchesRejected ?? 0,
        lateFlows: a.lateFlows, unclassifiedFlows: d.unclassifiedFlows, flowsOutOfBounds: d.flowsOutOfBounds,
        internalErrors: errors.count(), storeWriteErrors: kv.health?.().writeErrors ?? flushWriteErrors,
        datagramsDropped: deps.datagramsDropped?.() ?? 0,
        // Every bounded table's refusals and evictions: decoder (exporters, templates, domains, held
        // data), classifier (interface subjects), aggregator (buckets, subjects, rows, counter limit).
        tableEvictions: d.tableEvictions + a.refusedHits,
      },
      exporters: d.exporters,
      configVersion: d.configVersion,
      collectionPaused: d.collectionPaused,
      pausedFlows: d.pausedFlows,
      openBuckets: a.openBuckets,
      activeSubjects: a.activeSubjects,
      mqttConnected: p?.connected ?? false,
      session: p?.session ?? 0,
      udpPort,
      sflowPort,
    };
  }

  return {
    async start() {
      const stored = await loadCollectionConfig(kv);
      if (stored) front.useCollection(stored);
      const state = await loadAggregatorState(kv, log.child({ module: 'aggregate' }));
      const restored = aggregator.restore(state.meta, state.buckets);
      if (restored.droppedRows > 0 || restored.droppedBuckets > 0) {
        log.error({ droppedRows: restored.droppedRows, droppedBuckets: restored.droppedBuckets, keptRows: restored.rows, problems: restored.problems },
          'restored aggregator state had invalid rows (older versions); they were dropped, the rest is kept');
      }
      await outbox.load();
      started = true;
      log.info({ restoredBuckets: state.buckets.length, outboxDepth: outbox.stats().depth, configVersion: front.collection().version, paused: front.collection().collectionPaused }, 'edge state restored');

      // unref: the socket and the MQTT client keep the process alive, not the housekeeping timers.
      // Guarded: a throw or rejection in a tick is counted (internal_errors) and logged, never fatal.
      ticker.every('checkpoint', config.checkpointIntervalMs, () => flush(), { unref: true });
      ticker.every('decoder-expire', DECODER_EXPIRE_INTERVAL_MS, () => front.expire(clock.nowMs()), { unref: true });
      if (config.liveIntervalMs > 0 && publisher) {
        ticker.every('live', config.liveIntervalMs, () => {
          const nowMs = clock.nowMs();
          const { windowSec, talkers, samplingOneIn } = front.takeTalkers(nowMs, config.liveTopN);
          publisher.publishLive({ edgeId: config.edgeId, atMs: nowMs, windowSec, talkers, samplingOneIn });
        }, { unref: true });
      }
      if (publisher) await publisher.start();
      if (deps.listenUdp !== false) {
        udp = createConfiguredUdpReceiver(config.udpReader, { // native (C, recvmmsg) or Node dgram; ring bounded like the threads' queue
          ringBytes: config.threadQueueBytes, host: config.udpHost, port: config.udpPort, recvBufferBytes: config.udpRecvBufferBytes,
          log: log.child({ module: 'receive' }), onDatagram: ingest,
        });
        const bound = await udp.start();
        udpPort = bound.port;
        udpRecvBufferBytes = bound.recvBufferBytes;
        log.info({ address: bound.address, port: bound.port, recvBufferBytes: bound.recvBufferBytes }, 'listening for NetFlow/IPFIX');
        if (config.sflowPort >= 0) {
          sflowUdp = createConfiguredUdpReceiver(config.udpReader, {
            ringBytes: config.threadQueueBytes, host: config.udpHost, port: config.sflowPort, recvBufferBytes: config.udpRecvBufferBytes,
            log: log.child({ module: 'receive-sflow' }), onDatagram: (d, e) => ingest(d, e, 'sflow'),
          });
          const sf = await sflowUdp.start();
          sflowPort = sf.port;
          log.info({ address: sf.address, port: sf.port, recvBufferBytes: sf.recvBufferBytes }, 'listening for sFlow v5');
        }
      }
      return { udpPort, udpRecvBufferBytes, sflowPort };
    },

    async stop() {
      ticker.stopAll();
      await udp?.stop();
      await sflowUdp?.stop();
      await flush();
      const failed = lastFlushError;
      await publisher?.stop({ publishOffline: true });
      if (failed !== undefined) {
        // What is on disk (the last good checkpoint and the outbox) is intact; what is only in
        // memory is lost with this process. Say how much, and let main exit nonzero.
        const open = aggregator.totals();
        const reason = (failed as Error)?.message ?? String(failed);
        log.error({ err: failed, closedSummariesNotWritten: pendingSummaries.length, openBytes: open.bytes, openFlows: open.flows, ...status().counters },
          `edge stopped WITHOUT its final checkpoint (${reason}): ${pendingSummaries.length} closed summaries and the open buckets' flows since the last written checkpoint are lost; the data on disk is intact`);
        throw new Error(`final checkpoint failed: ${reason}`);
      }
      log.info(status().counters, 'edge stopped');
    },

    flush,
    ingest,
    applyCollectionConfig,
    status,
  };
}
