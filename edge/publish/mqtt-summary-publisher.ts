/**
 * MQTT adapter between the outbox and the hub (mqtt.js).
 *
 * - Connects with the edge's credentials; last will = EdgeStatus OFFLINE (retained) on …/status.
 *   Every connect attempt increments a persisted session counter (Sparkplug's bdSeq idea) that is
 *   carried by both the will and the BIRTH, so the hub can ignore a late will of an old session.
 * - On connect: BIRTH (retained), subscribe …/ack and …/config at QoS 1, then (re)send every batch
 *   still in the outbox, oldest first, at most maxInFlightBatches unacked at a time.
 * - A batch leaves the outbox ONLY on the hub's Ack message (STORED / DUPLICATE, or REJECTED which
 *   is counted and logged). MQTT PUBACK is not proof of storage: aedes sends it before the hub has
 *   handled the message (NOTES). Unacked batches are sent again after a reconnect or ackTimeoutMs.
 *   The hub stores each summary's content identity at most once, so resending is always safe.
 * - Heartbeat: ONLINE status with counters and exporters every heartbeatIntervalMs (retained).
 * - Malformed ack / config payloads: counted, logged once per kind, never thrown.
 * - Ticks and MQTT event handlers run guarded (common/ticker.ts): a throw is counted in
 *   internalErrors and logged, never fatal. Status and LiveFlows values are clamped to what their
 *   protobuf types can carry before encoding (sane-wire-values.ts).
 * - A failed delete after an Ack (disk full) is not fatal: the batch is not resent while its delete
 *   is retried on the ack-timeout tick; should the process stop first, the batch is still on disk,
 *   goes out again after the restart and the hub answers DUPLICATE, which removes it.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../../common/clock';
import { createRateLimitedLog } from '../../common/rate-limited-log';
import type { Logger } from '../../common/logger';
import { createOnceLogger } from '../../common/logger';
import { createSafeTicker, guardTick, type ErrorRecorder, type Timers } from '../../common/ticker';
import type { KeyValueStore } from '../../common/kv/kv-store';
import { encodeJson, decodeJson } from '../../common/kv/json-codec';
import { edgeTopic } from '../../common/topics';
import {
  ackCodec, edgeConfigCodec, edgeStatusCodec, liveFlowsCodec, AckStatus, EdgeState,
  type Counters, type ExporterStatus, type EdgeConfig as CollectionConfig, type LiveFlows,
} from '../../proto/codec';
import type { Outbox } from '../outbox/outbox';
import type { EdgeAgentConfig } from '../config';
import { saneCounters, saneExporterStatus, saneLiveFlows, uint64Count } from './sane-wire-values';

const SESSION_KEY = 'publish/session';

export type MqttConnect = (url: string, opts: IClientOptions) => MqttClient;

/** What the heartbeat reports; supplied by the composition root. */
export interface EdgeStatusSnapshot {
  counters: Counters;
  exporters: ExporterStatus[];
  configVersion: number;
  collectionPaused: boolean;
}

export interface MqttSummaryPublisherDeps {
  config: Pick<EdgeAgentConfig, 'edgeId' | 'tenantId' | 'mqttUrl' | 'mqttUsername' | 'mqttPassword' | 'heartbeatIntervalMs' | 'ackTimeoutMs' | 'maxInFlightBatches'>;
  outbox: Outbox;
  /** Holds the session counter. */
  kv: KeyValueStore;
  clock: Clock;
  log: Logger;
  status: () => EdgeStatusSnapshot;
  /** A valid collection config arrived on …/config. */
  onConfig: (config: CollectionConfig) => void;
  connect?: MqttConnect;
  softwareVersion?: string;
  reconnectPeriodMs?: number;
  /** Defaults to the process's timers (common/ticker.ts). */
  timers?: Timers;
  /** Where caught tick / handler errors are counted; defaults to the publisher's own. */
  errors?: ErrorRecorder;
}

export interface PublisherStats {
  connected: boolean;
  session: number;
  inFlight: number;
  batchesPublished: number;
  batchesAcked: number;
  batchesRejected: number;
  malformedAcks: number;
  malformedConfigs: number;
  /** Deletes after an Ack that failed (disk full); each such batch is retried or re-acked later. */
  ackRemoveErrors: number;
  /** Acked batches whose delete is waiting for a retry. */
  ackedNotRemoved: number;
  /** Caught throws in ticks and event handlers (status counter internal_errors). */
  internalErrors: number;
}

export interface MqttSummaryPublisher {
  start(): Promise<void>;
  /** Stops timers; with publishOffline (clean shutdown) sends OFFLINE first. Leaves the outbox as is. */
  stop(opts?: { publishOffline?: boolean }): Promise<void>;
  publishLive(live: LiveFlows): void;
  /** Ask for a send round now (the outbox also notifies on append). */
  pump(): void;
  stats(): PublisherStats;
}

export function createMqttSummaryPublisher(deps: MqttSummaryPublisherDeps): MqttSummaryPublisher {
  const { config, outbox, clock, log, kv } = deps;
  // Loud (error level, counted in batchesRejected every time) but at most a line every 10 s, with
  // the number suppressed: a hub rejecting a backlog must not bury the rest of the log.
  const rejectedLog = createRateLimitedLog({ log, clock, intervalMs: 10_000, level: 'error' });
  const once = createOnceLogger(log);
  const topics = {
    summaries: edgeTopic(config.tenantId, config.edgeId, 'summaries'),
    ack: edgeTopic(config.tenantId, config.edgeId, 'ack'),
    status: edgeTopic(config.tenantId, config.edgeId, 'status'),
    config: edgeTopic(config.tenantId, config.edgeId, 'config'),
    live: edgeTopic(config.tenantId, config.edgeId, 'live'),
  };
  let client: MqttClient | undefined;
  let session = 0;
  let stopped = false;
  const inFlight = new Map<number, number>(); // seq → sentAtMs
  const ticker = createSafeTicker({ log, clock, timers: deps.timers, errors: deps.errors });
  const errors = ticker.errors;
  const stats = { batchesPublished: 0, batchesAcked: 0, batchesRejected: 0, malformedAcks: 0, malformedConfigs: 0, ackRemoveErrors: 0 };
  // Acked by the hub, delete failed: not resent, delete retried by the ack-timeout tick.
  const ackedNotRemoved = new Set<number>();

  function statusPayload(state: EdgeState): Buffer {
    const s = deps.status();
    return Buffer.from(edgeStatusCodec.encode({
      edgeId: config.edgeId, tenantId: config.tenantId, state, session: uint64Count(session), atMs: uint64Count(clock.nowMs()),
      softwareVersion: deps.softwareVersion ?? '0.1.0', counters: saneCounters(s.counters), exporters: s.exporters.map(saneExporterStatus),
      configVersion: uint64Count(s.configVersion), collectionPaused: s.collectionPaused === true,
    }));
  }

  /** Next session number, persisted; the will of the coming connection carries it. */
  function nextSession(): void {
    session++;
    kv.write([{ type: 'put', key: SESSION_KEY, value: encodeJson(session) }]).catch((err) => log.error({ err }, 'cannot persist the MQTT session counter'));
    if (client) client.options.will = willFor();
  }

  function willFor(): IClientOptions['will'] {
    return { topic: topics.status, payload: statusPayload(EdgeState.OFFLINE), qos: 1, retain: true };
  }

  let pumping = false;
  let pumpAgain = false;
  async function pumpOnce(): Promise<void> {
    for (const seq of outbox.seqs()) {
      if (stopped || !client?.connected) return;
      if (inFlight.size >= config.maxInFlightBatches) return;
      if (inFlight.has(seq) || ackedNotRemoved.has(seq)) continue;
      const bytes = await outbox.read(seq);
      if (!bytes || !client?.connected || inFlight.has(seq)) continue;
      inFlight.set(seq, clock.nowMs());
      stats.batchesPublished++;
      client.publish(topics.summaries, Buffer.from(bytes), { qos: 1 }, (err) => {
        // A failed publish is not a lost batch: it stays in the outbox and goes out again.
        if (err) log.debug({ seq, err: err.message }, 'summary batch publish failed; will resend');
      });
    }
  }
  function pump(): void {
    if (pumping) { pumpAgain = true; return; }
    pumping = true;
    void (async () => {
      try {
        do { pumpAgain = false; await pumpOnce(); } while (pumpAgain);
      } catch (err) {
        log.error({ err }, 'outbox pump failed');
      } finally {
        pumping = false;
      }
    })();
  }

  async function handleAck(payload: Buffer): Promise<void> {
    let ack;
    try {
      ack = ackCodec.decode(payload);
    } catch (err) {
      stats.malformedAcks++;
      once.warnOnce('ack-undecodable', { err: (err as Error).message }, 'malformed Ack on the ack topic');
      return;
    }
    if (ack.edgeId !== config.edgeId || !Number.isSafeInteger(ack.seq) || ack.seq <= 0 || ![AckStatus.STORED, AckStatus.DUPLICATE, AckStatus.REJECTED].includes(ack.status as 1 | 2 | 3)) {
      stats.malformedAcks++;
      once.warnOnce('ack-invalid', { edgeId: ack.edgeId, seq: ack.seq, status: ack.status }, 'Ack for another edge, without a seq or without a status');
      return;
    }
    inFlight.delete(ack.seq);
    if (!outbox.has(ack.seq)) { pump(); return; } // a second ack for a resent batch
    if (ack.status === AckStatus.REJECTED) {
      stats.batchesRejected++;
      rejectedLog.warn('rejected', { seq: ack.seq, reason: ack.reason, batchesRejected: stats.batchesRejected },
        `hub REJECTED summary batch ${ack.seq}: ${ack.reason || '(no reason given)'}; its billing data is dropped from the outbox`);
    } else {
      stats.batchesAcked++;
    }
    await removeAcked(ack.seq);
    pump();
  }

  async function removeAcked(seq: number): Promise<void> {
    try {
      await outbox.remove(seq);
      ackedNotRemoved.delete(seq);
    } catch (err) {
      stats.ackRemoveErrors++;
      const retried = outbox.has(seq);
      if (retried) ackedNotRemoved.add(seq); else ackedNotRemoved.delete(seq);
      once.warnOnce(`ack-remove-${(err as { code?: string }).code ?? 'error'}`, { seq, err: (err as Error).message, retried },
        retried ? 'deleting an acked batch from the outbox failed; retrying, the batch is not resent meanwhile'
          : 'deleting an acked batch from the outbox failed; it stays on disk and is resent after a restart (the hub answers DUPLICATE)');
    }
  }

  async function retryAckedRemovals(): Promise<void> {
    for (const seq of [...ackedNotRemoved]) {
      if (!outbox.has(seq)) { ackedNotRemoved.delete(seq); continue; }
      await removeAcked(seq);
      if (ackedNotRemoved.has(seq)) return; // still failing: the store is down, try again next tick
    }
  }

  function handleConfig(payload: Buffer): void {
    if (payload.length === 0) return; // retained message cleared
    let cfg: CollectionConfig;
    try {
      cfg = edgeConfigCodec.decode(payload);
    } catch (err) {
      stats.malformedConfigs++;
      once.warnOnce('config-undecodable', { err: (err as Error).message }, 'malformed EdgeConfig on the config topic');
      return;
    }
    try {
      deps.onConfig(cfg);
    } catch (err) {
      stats.malformedConfigs++;
      once.warnOnce('config-rejected', { err: (err as Error).message }, 'EdgeConfig could not be applied');
    }
  }

  function checkAckTimeouts(): void {
    const now = clock.nowMs();
    let expired = 0;
    for (const [seq, sentAtMs] of inFlight) {
      if (now - sentAtMs >= config.ackTimeoutMs) { inFlight.delete(seq); expired++; }
    }
    if (expired > 0) {
      log.warn({ expired }, 'no Ack from the hub within the ack timeout; resending');
      pump();
    }
  }

  return {
    async start() {
      const stored = await kv.get(SESSION_KEY);
      session = stored ? decodeJson<number>(stored) : 0;
      session++;
      try {
        await kv.write([{ type: 'put', key: SESSION_KEY, value: encodeJson(session) }]);
      } catch (err) {
        // Disk full at start: run on; the session is persisted again on the next reconnect.
        log.error({ err, session }, 'cannot persist the MQTT session counter at start; continuing');
      }
      const connect = deps.connect ?? ((url: string, opts: IClientOptions) => mqtt.connect(url, opts));
      client = connect(config.mqttUrl, {
        clientId: `flowbill-edge-${config.tenantId}-${config.edgeId}`,
        username: config.mqttUsername || undefined,
        password: config.mqttPassword || undefined,
        clean: true,
        reconnectPeriod: deps.reconnectPeriodMs ?? 2000,
        connectTimeout: 10_000,
        queueQoSZero: false,
        will: willFor(),
      });
      client.on('reconnect', guardTick('mqtt-reconnect', nextSession, errors));
      client.on('connect', guardTick('mqtt-connect', () => {
        log.info({ session, url: config.mqttUrl }, 'connected to the hub broker');
        inFlight.clear(); // whatever was in flight goes out again
        client!.publish(topics.status, statusPayload(EdgeState.BIRTH), { qos: 1, retain: true });
        client!.subscribe([topics.ack, topics.config], { qos: 1 }, (err) => {
          if (err) log.error({ err: err.message }, 'subscribe to ack/config failed');
        });
        pump();
      }, errors));
      client.on('close', () => inFlight.clear());
      client.on('error', (err) => once.warnOnce(`mqtt-${(err as { code?: string }).code ?? err.message}`, { err: err.message }, 'MQTT connection error'));
      client.on('message', (topic: string, payload: Buffer) => {
        if (topic === topics.ack) guardTick('ack', () => handleAck(payload), errors)();
        else if (topic === topics.config) guardTick('config', () => handleConfig(payload), errors)();
      });
      outbox.onAppend(pump);
      ticker.every('heartbeat', config.heartbeatIntervalMs, () => {
        if (client?.connected) client.publish(topics.status, statusPayload(EdgeState.ONLINE), { qos: 1, retain: true });
      });
      ticker.every('ack-timeout', Math.max(10, Math.min(1000, Math.floor(config.ackTimeoutMs / 4))), async () => {
        checkAckTimeouts();
        await retryAckedRemovals();
      });
    },

    async stop(opts = {}) {
      stopped = true;
      ticker.stopAll();
      const c = client;
      if (!c) return;
      if (opts.publishOffline && c.connected) {
        await Promise.race([
          c.publishAsync(topics.status, statusPayload(EdgeState.OFFLINE), { qos: 1, retain: true }).catch(() => undefined),
          new Promise((r) => setTimeout(r, 2000).unref()),
        ]);
      }
      await Promise.race([c.endAsync(!c.connected), new Promise((r) => setTimeout(r, 2000).unref())]);
      c.removeAllListeners();
      c.on('error', () => {}); // a late socket error after end must not become an uncaught 'error' event
    },

    publishLive(live) {
      if (!client?.connected) return; // best effort, QoS 0: never queued
      let payload: Buffer;
      try {
        payload = Buffer.from(liveFlowsCodec.encode(saneLiveFlows(live)));
      } catch (err) {
        errors.record('live-encode', err);
        return;
      }
      client.publish(topics.live, payload, { qos: 0, retain: false });
    },

    pump,

    stats: () => ({ connected: client?.connected ?? false, session, inFlight: inFlight.size, ...stats, ackedNotRemoved: ackedNotRemoved.size, internalErrors: errors.count() }),
  };
}
