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
 *   The hub stores (edge_id, seq) at most once, so resending is always safe.
 * - Heartbeat: ONLINE status with counters and exporters every heartbeatIntervalMs (retained).
 * - Malformed ack / config payloads: counted, logged once per kind, never thrown.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { createOnceLogger } from '../../common/logger';
import type { KeyValueStore } from '../../common/kv/kv-store';
import { encodeJson, decodeJson } from '../../common/kv/json-codec';
import { edgeTopic } from '../../common/topics';
import {
  ackCodec, edgeConfigCodec, edgeStatusCodec, liveFlowsCodec, AckStatus, EdgeState,
  type Counters, type ExporterStatus, type EdgeConfig as CollectionConfig, type LiveFlows,
} from '../../proto/codec';
import type { Outbox } from '../outbox/outbox';
import type { EdgeAgentConfig } from '../config';

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
  const timers: ReturnType<typeof setInterval>[] = [];
  const stats = { batchesPublished: 0, batchesAcked: 0, batchesRejected: 0, malformedAcks: 0, malformedConfigs: 0 };

  function statusPayload(state: EdgeState): Buffer {
    const s = deps.status();
    return Buffer.from(edgeStatusCodec.encode({
      edgeId: config.edgeId, tenantId: config.tenantId, state, session, atMs: clock.nowMs(),
      softwareVersion: deps.softwareVersion ?? '0.1.0', counters: s.counters, exporters: s.exporters,
      configVersion: s.configVersion, collectionPaused: s.collectionPaused,
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
      if (inFlight.has(seq)) continue;
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
      log.error({ seq: ack.seq, reason: ack.reason }, 'hub REJECTED a summary batch; dropped from the outbox');
    } else {
      stats.batchesAcked++;
    }
    await outbox.remove(ack.seq);
    pump();
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
      await kv.write([{ type: 'put', key: SESSION_KEY, value: encodeJson(session) }]);
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
      client.on('reconnect', nextSession);
      client.on('connect', () => {
        log.info({ session, url: config.mqttUrl }, 'connected to the hub broker');
        inFlight.clear(); // whatever was in flight goes out again
        client!.publish(topics.status, statusPayload(EdgeState.BIRTH), { qos: 1, retain: true });
        client!.subscribe([topics.ack, topics.config], { qos: 1 }, (err) => {
          if (err) log.error({ err: err.message }, 'subscribe to ack/config failed');
        });
        pump();
      });
      client.on('close', () => inFlight.clear());
      client.on('error', (err) => once.warnOnce(`mqtt-${(err as { code?: string }).code ?? err.message}`, { err: err.message }, 'MQTT connection error'));
      client.on('message', (topic, payload) => {
        if (topic === topics.ack) void handleAck(payload).catch((err) => log.error({ err }, 'ack handling failed'));
        else if (topic === topics.config) handleConfig(payload);
      });
      outbox.onAppend(pump);
      timers.push(setInterval(() => {
        if (client?.connected) client.publish(topics.status, statusPayload(EdgeState.ONLINE), { qos: 1, retain: true });
      }, config.heartbeatIntervalMs));
      timers.push(setInterval(checkAckTimeouts, Math.max(10, Math.min(1000, Math.floor(config.ackTimeoutMs / 4)))));
    },

    async stop(opts = {}) {
      stopped = true;
      for (const t of timers) clearInterval(t);
      timers.length = 0;
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
      client.publish(topics.live, Buffer.from(liveFlowsCodec.encode(live)), { qos: 0, retain: false });
    },

    pump,

    stats: () => ({ connected: client?.connected ?? false, session, inFlight: inFlight.size, ...stats }),
  };
}
