/**
 * The edge agent's own configuration (not the proto EdgeConfig the hub pushes; that one is
 * "collection config" and lives in edge/collection-config-store.ts).
 *
 * Sources, later wins: built-in defaults → the JSON file named by FLOWBILL_EDGE_CONFIG (written by
 * the provisioning CLI, keys as below) → environment variables FLOWBILL_EDGE_*. Parsed and validated
 * once, then frozen. A bad or unknown key fails fast naming the key and what was expected.
 */
import { readFileSync } from 'node:fs';
import { SAFE_ID } from '../common/topics';

export interface EdgeAgentConfig {
  /** FLOWBILL_EDGE_ID: this edge's id ([A-Za-z0-9_-]); part of every topic and batch. */
  edgeId: string;
  /** FLOWBILL_EDGE_TENANT_ID: the operator (tenant) this edge belongs to. */
  tenantId: string;
  /** FLOWBILL_EDGE_MQTT_URL: the hub's broker, mqtt://host:port or mqtts://host:port. */
  mqttUrl: string;
  /** FLOWBILL_EDGE_MQTT_USERNAME: this edge's MQTT credentials (issued at provisioning). */
  mqttUsername: string;
  /** FLOWBILL_EDGE_MQTT_PASSWORD */
  mqttPassword: string;
  /** FLOWBILL_EDGE_UDP_HOST: NetFlow listen address; '::' is dual stack (IPv4 and IPv6). */
  udpHost: string;
  /** FLOWBILL_EDGE_UDP_PORT: NetFlow/IPFIX listen port. */
  udpPort: number;
  /** FLOWBILL_EDGE_SFLOW_PORT: sFlow v5 listen port, same host as udpHost; 0 = ephemeral, -1 = no sFlow listener. */
  sflowPort: number;
  /** FLOWBILL_EDGE_UDP_RECV_BUFFER_BYTES: SO_RCVBUF; bursts from many exporters need room (the kernel may cap it, see net.core.rmem_max). */
  udpRecvBufferBytes: number;
  /** FLOWBILL_EDGE_DATA_DIR: LevelDB with open buckets, outbox and the last collection config. */
  dataDir: string;
  /** FLOWBILL_EDGE_CHECKPOINT_INTERVAL_MS: how often open buckets are saved and due buckets closed; a kill -9 loses at most this much. */
  checkpointIntervalMs: number;
  /** FLOWBILL_EDGE_CLOSE_GRACE_SEC: a bucket stays open this long after its end for stragglers (active timeouts, export delay). */
  closeGraceSec: number;
  /** FLOWBILL_EDGE_OUTBOX_MAX_BYTES: bound of unacked batches on disk; beyond it the oldest are dropped (loudly). */
  outboxMaxBytes: number;
  /** FLOWBILL_EDGE_BATCH_MAX_SUMMARIES: summaries per SummaryBatch message. */
  batchMaxSummaries: number;
  /** FLOWBILL_EDGE_HEARTBEAT_INTERVAL_MS: ONLINE status with counters. */
  heartbeatIntervalMs: number;
  /** FLOWBILL_EDGE_LIVE_INTERVAL_MS: top talkers (LiveFlows, QoS 0); 0 disables. */
  liveIntervalMs: number;
  /** FLOWBILL_EDGE_LIVE_TOP_N: talkers per LiveFlows message. */
  liveTopN: number;
  /** FLOWBILL_EDGE_ACK_TIMEOUT_MS: a published batch without the hub's Ack after this long is sent again. */
  ackTimeoutMs: number;
  /** FLOWBILL_EDGE_MAX_IN_FLIGHT_BATCHES: published but not yet acked batches at a time. */
  maxInFlightBatches: number;

  // Bounds on what an exporter (or anyone spoofing one) can make the edge hold or count. Every
  // refusal and eviction is counted (status counters) and logged once per kind.
  /** FLOWBILL_EDGE_MAX_FLOW_AGE_SEC: a flow that ended longer ago than this is refused (late data window). */
  maxFlowAgeSec: number;
  /** FLOWBILL_EDGE_MAX_FLOW_FUTURE_SEC: a flow that ends further in the future than this is refused (exporter clock ahead). */
  maxFlowFutureSec: number;
  /** FLOWBILL_EDGE_MAX_BYTES_PER_FLOW: one flow record's bytes after sampling; above it the record is refused (2^44 ≈ a 400 Gbit/s link for 6 minutes). */
  maxBytesPerFlow: number;
  /** FLOWBILL_EDGE_MAX_PACKETS_PER_FLOW: one flow record's packets after sampling. */
  maxPacketsPerFlow: number;
  /** FLOWBILL_EDGE_MAX_SAMPLING_RATE: the largest sampling rate (1 in N) accepted; fractional rates >= 1 are fine. */
  maxSamplingRate: number;
  /** FLOWBILL_EDGE_MAX_EXPORTERS: exporters with decoding state; a new one beyond it evicts the longest silent. */
  maxExporters: number;
  /** FLOWBILL_EDGE_MAX_TEMPLATES_PER_EXPORTER: cached templates per exporter (all its domains); beyond it the least recently used goes. */
  maxTemplatesPerExporter: number;
  /** FLOWBILL_EDGE_EXPORTER_IDLE_SEC: an exporter silent this long is forgotten with its templates and sampling state. */
  exporterIdleSec: number;
  /** FLOWBILL_EDGE_MAX_OPEN_BUCKETS: open plus late 5-minute buckets held at once (the time window needs ~(age+future)/300). */
  maxOpenBuckets: number;
  /** FLOWBILL_EDGE_MAX_SUBJECTS: distinct billing subjects the edge tracks (interfaces seen + IP groups). */
  maxSubjects: number;
  /** FLOWBILL_EDGE_MAX_BUCKET_ROWS: (bucket, subject) rows over all held buckets, ~52 bytes each. */
  maxBucketRows: number;

  /** FLOWBILL_EDGE_THREADS: 2 = one thread reads the UDP socket(s), a worker thread decodes, aggregates and checkpoints (edge/threads/); 1 = all on one thread (small boxes, tests). */
  threads: number;
  /** FLOWBILL_EDGE_THREAD_QUEUE_BYTES: bound of the datagrams queued between the two threads (threads=2); beyond it datagrams are dropped and counted (datagrams_dropped). */
  threadQueueBytes: number;
  /** FLOWBILL_EDGE_READER_NICE: nice value of the UDP-reading thread only (threads=2; Linux nice is per thread), default -10, so a busy box starves the worker, whose lag the queue absorbs, rather than the socket (edge/receive/reader-priority.ts). Negative needs root or CAP_SYS_NICE (without it the edge says so and runs at 0); 0 leaves it. */
  readerNice: number;
  /** FLOWBILL_EDGE_UDP_READER: how datagrams are read. 'native': the C addon (edge/receive/native/, `npm run build:native`) reads the socket with recvmmsg on its own thread into a shared ring; 'node': Node's dgram; 'auto' (default): native when built, else node with one info line saying why. */
  udpReader: 'auto' | 'native' | 'node';
}

type KeySpec =
  | { kind: 'string'; def: string; allowEmpty?: boolean; pattern?: RegExp; expect?: string }
  | { kind: 'int'; def: number; min: number; max: number };

const SPEC: { [K in keyof EdgeAgentConfig]: KeySpec & { env: string } } = {
  edgeId: { env: 'FLOWBILL_EDGE_ID', kind: 'string', def: 'edge-1', pattern: SAFE_ID, expect: '1-64 of [A-Za-z0-9_-]' },
  tenantId: { env: 'FLOWBILL_EDGE_TENANT_ID', kind: 'string', def: 'demo', pattern: SAFE_ID, expect: '1-64 of [A-Za-z0-9_-]' },
  mqttUrl: { env: 'FLOWBILL_EDGE_MQTT_URL', kind: 'string', def: 'mqtt://127.0.0.1:1883', pattern: /^(mqtts?|wss?|tcp|tls):\/\/\S+$/, expect: 'an mqtt://, mqtts://, ws:// or wss:// URL' },
  mqttUsername: { env: 'FLOWBILL_EDGE_MQTT_USERNAME', kind: 'string', def: '', allowEmpty: true },
  mqttPassword: { env: 'FLOWBILL_EDGE_MQTT_PASSWORD', kind: 'string', def: '', allowEmpty: true },
  udpHost: { env: 'FLOWBILL_EDGE_UDP_HOST', kind: 'string', def: '::' },
  udpPort: { env: 'FLOWBILL_EDGE_UDP_PORT', kind: 'int', def: 2055, min: 0, max: 65535 },
  sflowPort: { env: 'FLOWBILL_EDGE_SFLOW_PORT', kind: 'int', def: 6343, min: -1, max: 65535 },
  udpRecvBufferBytes: { env: 'FLOWBILL_EDGE_UDP_RECV_BUFFER_BYTES', kind: 'int', def: 8 * 1024 * 1024, min: 65536, max: 1024 * 1024 * 1024 },
  dataDir: { env: 'FLOWBILL_EDGE_DATA_DIR', kind: 'string', def: './data/edge' },
  checkpointIntervalMs: { env: 'FLOWBILL_EDGE_CHECKPOINT_INTERVAL_MS', kind: 'int', def: 5000, min: 100, max: 300_000 },
  closeGraceSec: { env: 'FLOWBILL_EDGE_CLOSE_GRACE_SEC', kind: 'int', def: 60, min: 0, max: 86_400 },
  outboxMaxBytes: { env: 'FLOWBILL_EDGE_OUTBOX_MAX_BYTES', kind: 'int', def: 512 * 1024 * 1024, min: 1024, max: Number.MAX_SAFE_INTEGER },
  batchMaxSummaries: { env: 'FLOWBILL_EDGE_BATCH_MAX_SUMMARIES', kind: 'int', def: 1000, min: 1, max: 10_000 }, // the hub refuses batches of more (FLOWBILL_INGEST_MAX_BATCH_SUMMARIES)
  heartbeatIntervalMs: { env: 'FLOWBILL_EDGE_HEARTBEAT_INTERVAL_MS', kind: 'int', def: 30_000, min: 100, max: 3_600_000 },
  liveIntervalMs: { env: 'FLOWBILL_EDGE_LIVE_INTERVAL_MS', kind: 'int', def: 5000, min: 0, max: 3_600_000 },
  liveTopN: { env: 'FLOWBILL_EDGE_LIVE_TOP_N', kind: 'int', def: 20, min: 1, max: 1000 },
  ackTimeoutMs: { env: 'FLOWBILL_EDGE_ACK_TIMEOUT_MS', kind: 'int', def: 30_000, min: 50, max: 3_600_000 },
  maxInFlightBatches: { env: 'FLOWBILL_EDGE_MAX_IN_FLIGHT_BATCHES', kind: 'int', def: 16, min: 1, max: 10_000 },
  maxFlowAgeSec: { env: 'FLOWBILL_EDGE_MAX_FLOW_AGE_SEC', kind: 'int', def: 86_400, min: 300, max: 7 * 86_400 },
  maxFlowFutureSec: { env: 'FLOWBILL_EDGE_MAX_FLOW_FUTURE_SEC', kind: 'int', def: 600, min: 0, max: 86_400 },
  maxBytesPerFlow: { env: 'FLOWBILL_EDGE_MAX_BYTES_PER_FLOW', kind: 'int', def: 2 ** 44, min: 1, max: 2 ** 50 },
  maxPacketsPerFlow: { env: 'FLOWBILL_EDGE_MAX_PACKETS_PER_FLOW', kind: 'int', def: 2 ** 40, min: 1, max: 2 ** 50 },
  maxSamplingRate: { env: 'FLOWBILL_EDGE_MAX_SAMPLING_RATE', kind: 'int', def: 2 ** 24, min: 1, max: 2 ** 32 },
  maxExporters: { env: 'FLOWBILL_EDGE_MAX_EXPORTERS', kind: 'int', def: 10_000, min: 1, max: 1_000_000 },
  maxTemplatesPerExporter: { env: 'FLOWBILL_EDGE_MAX_TEMPLATES_PER_EXPORTER', kind: 'int', def: 256, min: 1, max: 65_536 },
  exporterIdleSec: { env: 'FLOWBILL_EDGE_EXPORTER_IDLE_SEC', kind: 'int', def: 86_400, min: 60, max: 30 * 86_400 },
  maxOpenBuckets: { env: 'FLOWBILL_EDGE_MAX_OPEN_BUCKETS', kind: 'int', def: 400, min: 4, max: 10_000 },
  maxSubjects: { env: 'FLOWBILL_EDGE_MAX_SUBJECTS', kind: 'int', def: 250_000, min: 1, max: 10_000_000 },
  maxBucketRows: { env: 'FLOWBILL_EDGE_MAX_BUCKET_ROWS', kind: 'int', def: 2_000_000, min: 1000, max: 100_000_000 },
  threads: { env: 'FLOWBILL_EDGE_THREADS', kind: 'int', def: 2, min: 1, max: 2 },
  threadQueueBytes: { env: 'FLOWBILL_EDGE_THREAD_QUEUE_BYTES', kind: 'int', def: 64 * 1024 * 1024, min: 1024 * 1024, max: 4 * 1024 * 1024 * 1024 },
  readerNice: { env: 'FLOWBILL_EDGE_READER_NICE', kind: 'int', def: -10, min: -20, max: 19 },
  udpReader: { env: 'FLOWBILL_EDGE_UDP_READER', kind: 'string', def: 'auto', pattern: /^(auto|native|node)$/, expect: 'auto, native or node' },
};

function parseValue(key: string, spec: KeySpec, raw: unknown, source: string): string | number {
  const where = `config ${key} (${source})`;
  if (spec.kind === 'int') {
    const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < spec.min || n > spec.max) {
      throw new Error(`${where}=${JSON.stringify(raw)}: expected an integer from ${spec.min} to ${spec.max}`);
    }
    return n;
  }
  if (typeof raw !== 'string') throw new Error(`${where}=${JSON.stringify(raw)}: expected a string`);
  if (!spec.allowEmpty && raw === '') throw new Error(`${where}: must not be empty`);
  if (spec.pattern && !spec.pattern.test(raw)) throw new Error(`${where}=${JSON.stringify(raw)}: expected ${spec.expect ?? spec.pattern}`);
  return raw;
}

export interface LoadEdgeConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Injected for tests; reads FLOWBILL_EDGE_CONFIG's file. */
  readFile?: (path: string) => string;
  overrides?: Partial<EdgeAgentConfig>;
}

/** Defaults → JSON file (FLOWBILL_EDGE_CONFIG) → FLOWBILL_EDGE_* env vars → overrides; validated and frozen. */
export function loadEdgeConfig(opts: LoadEdgeConfigOptions = {}): Readonly<EdgeAgentConfig> {
  const env = opts.env ?? process.env;
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SPEC)) out[key] = spec.def;

  const file = env.FLOWBILL_EDGE_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFile(file));
    } catch (err) {
      throw new Error(`config FLOWBILL_EDGE_CONFIG=${file}: cannot read a JSON object (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`config FLOWBILL_EDGE_CONFIG=${file}: expected a JSON object`);
    for (const [key, raw] of Object.entries(parsed)) {
      const spec = (SPEC as Record<string, KeySpec>)[key];
      if (!spec) throw new Error(`config ${key} (${file}): unknown key; known keys: ${Object.keys(SPEC).join(', ')}`);
      out[key] = parseValue(key, spec, raw, file);
    }
  }
  for (const [key, spec] of Object.entries(SPEC)) {
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') out[key] = parseValue(key, spec, raw, spec.env);
  }
  for (const [key, raw] of Object.entries(opts.overrides ?? {})) {
    const spec = (SPEC as Record<string, KeySpec>)[key];
    if (!spec) throw new Error(`config ${key} (overrides): unknown key`);
    out[key] = parseValue(key, spec, raw, 'overrides');
  }
  return Object.freeze(out as unknown as EdgeAgentConfig);
}

/** The environment variable of each key, for docs and error messages. */
export const EDGE_CONFIG_ENV: Readonly<Record<keyof EdgeAgentConfig, string>> = Object.freeze(
  Object.fromEntries(Object.entries(SPEC).map(([k, s]) => [k, s.env])) as Record<keyof EdgeAgentConfig, string>,
);
