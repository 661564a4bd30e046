/**
 * In-process harness for fuzzing the edge: a real createEdge (memory KV, manual clock, no UDP) whose
 * publisher talks to a fake MQTT client, so the heartbeat (EdgeStatus) and live (LiveFlows) encoders
 * run on the edge's own timers. The timers are common/ticker's manual Timers: runTimers(ms) runs the
 * checkpoint, decoder expiry, live and heartbeat work that many milliseconds would have run, without
 * sleeping.
 *
 * What counts as a finding (a bug the fuzz found, never "expected hostile input"):
 *  - ingest(), flush(), status() or a timer's callback throws / rejects;
 *  - an error-level log line (checkpoint write failed, pump failed, …);
 *  - the decoder's last-resort catch fired (a warn with kind "internal": a missed bounds check);
 *  - a status / live payload that does not decode, or carries a non-finite or negative counter.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createManualClock } from '../../common/clock';
import { collect, prefixRange, type KeyValueStore } from '../../common/kv/kv-store';
import { createMemoryKvStore } from '../../common/kv/memory-kv-store';
import type { Logger } from '../../common/logger';
import { createManualTimers } from '../../common/ticker';
import { loadEdgeConfig, type EdgeAgentConfig } from '../../edge/config';
import { createEdge, type Edge } from '../../edge/create-edge';
import type { MqttConnect } from '../../edge/publish/mqtt-summary-publisher';
import { saneCounters, saneExporterStatus } from '../../edge/publish/sane-wire-values';
import { edgeStatusCodec, liveFlowsCodec, summaryBatchCodec, type Summary } from '../../proto/codec';
import { LEGIT_PREFIX } from './datagram-mutator';

export const LEGIT_GROUP = 'fuzz-legit';

export interface Finding { kind: string; message: string; stack?: string }

/** A Logger that keeps error lines and the decoder's "internal" warnings as findings. */
export function createRecordingLogger(findings: Finding[]): Logger & { lines: number } {
  const make = (bindings: Record<string, unknown>): Logger & { lines: number } => {
    const rec = {
      lines: 0,
      debug() { rec.lines++; },
      info() { rec.lines++; },
      warn(obj: object | string, msg?: string) {
        rec.lines++;
        if (typeof obj === 'object' && (obj as { kind?: string }).kind === 'internal') {
          findings.push({ kind: 'decoder-internal', message: `${msg}: ${JSON.stringify({ ...bindings, ...obj })}` });
        }
      },
      error(obj: object | string, msg?: string) {
        rec.lines++;
        const err = typeof obj === 'object' ? (obj as { err?: Error }).err : undefined;
        findings.push({ kind: 'error-log', message: `${msg ?? obj}: ${err?.message ?? JSON.stringify(obj)}`, stack: err?.stack });
      },
      child(b: Record<string, unknown>) { return make({ ...bindings, ...b }); },
    };
    return rec;
  };
  return make({});
}

function checkFinite(what: string, o: Record<string, unknown>, findings: Finding[]): void {
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) findings.push({ kind: 'bad-counter', message: `${what}.${k} = ${v}` });
  }
}

/** An mqtt.js stand-in that is always connected and decodes what the edge publishes. */
function createFakeMqtt(findings: Finding[]) {
  const seen = { status: 0, live: 0, summaries: 0, talkers: 0 };
  const connect: MqttConnect = () => {
    const client = Object.assign(new EventEmitter(), {
      connected: true,
      options: {} as Record<string, unknown>,
      publish(topic: string, payload: Buffer, _opts: unknown, cb?: (err?: Error) => void) {
        try {
          if (topic.endsWith('/status')) {
            const s = edgeStatusCodec.decode(payload);
            seen.status++;
            checkFinite('status.counters', s.counters as unknown as Record<string, unknown>, findings);
            for (const e of s.exporters) checkFinite(`status.exporter[${e.address}]`, e as unknown as Record<string, unknown>, findings);
          } else if (topic.endsWith('/live')) {
            const l = liveFlowsCodec.decode(payload);
            seen.live++;
            seen.talkers += l.talkers.length;
            for (const tk of l.talkers) checkFinite('live.talker', tk as unknown as Record<string, unknown>, findings);
          } else if (topic.endsWith('/summaries')) {
            summaryBatchCodec.decode(payload);
            seen.summaries++;
          }
        } catch (err) {
          findings.push({ kind: 'undecodable-publish', message: `${topic}: ${(err as Error).message}`, stack: (err as Error).stack });
        }
        cb?.();
        return client;
      },
      async publishAsync(topic: string, payload: Buffer) { client.publish(topic, payload, {}); },
      subscribe(_t: unknown, _o: unknown, cb?: (err?: Error) => void) { cb?.(); return client; },
      async endAsync() { client.connected = false; },
    });
    setImmediate(() => client.emit('connect'));
    return client as unknown as ReturnType<MqttConnect>;
  };
  return { connect, seen };
}

export interface EdgeFuzzHarness {
  edge: Edge;
  kv: KeyValueStore;
  config: Readonly<EdgeAgentConfig>;
  clock: ReturnType<typeof createManualClock>;
  findings: Finding[];
  published: { status: number; live: number; summaries: number; talkers: number };
  /** ingest() with any throw recorded as a finding (with the datagram index for the report). */
  ingest(bytes: Uint8Array, exporter: string): boolean;
  /** Advance the manual clock and run the edge's interval timers for that time; then await a flush. */
  advance(ms: number): Promise<void>;
  /** Run the interval timers for ms (the manual clock was moved already), flush, status, heartbeat encode. */
  runTimers(ms: number): Promise<void>;
  /** Every summary in the outbox (decoded). */
  outboxSummaries(): Promise<Summary[]>;
  close(): Promise<void>;
}

/** Config for the fuzz: caps low enough for a few thousand spoofed exporters to hit them. */
export function fuzzEdgeConfig(overrides: Partial<EdgeAgentConfig> = {}): Readonly<EdgeAgentConfig> {
  return loadEdgeConfig({
    env: {},
    overrides: {
      edgeId: 'fuzz-edge', tenantId: 'fuzz', closeGraceSec: 60, checkpointIntervalMs: 5000, heartbeatIntervalMs: 1000,
      liveIntervalMs: 1000, liveTopN: 50, ackTimeoutMs: 60_000,
      maxExporters: 256, maxTemplatesPerExporter: 64, maxSubjects: 20_000, maxBucketRows: 200_000,
      ...overrides,
    },
  });
}

export async function startEdgeFuzzHarness(opts: { startMs: number; config?: Readonly<EdgeAgentConfig> }): Promise<EdgeFuzzHarness> {
  const findings: Finding[] = [];
  const log = createRecordingLogger(findings);
  const config = opts.config ?? fuzzEdgeConfig();
  const kv = createMemoryKvStore();
  const clock = createManualClock(opts.startMs);
  const timers = createManualTimers();
  const mqtt = createFakeMqtt(findings);
  const edge = createEdge({ config, clock, log, kv, listenUdp: false, mqttConnect: mqtt.connect, timers });
  try {
    await edge.start();
    await edge.applyCollectionConfig({
      version: 1, collectionPaused: false, pauseReason: '', allInterfaces: true, interfaces: [],
      ipGroups: [{ name: LEGIT_GROUP, prefixes: [LEGIT_PREFIX] }, { name: 'docs', prefixes: ['203.0.113.0/24', '2001:db8::/32'] }, { name: 'cgnat', prefixes: ['100.64.0.0/10'] }],
    });
    await new Promise((r) => setImmediate(r)); // the fake client's 'connect'
  } catch (err) {
    await edge.stop().catch(() => undefined);
    throw err;
  }

  const harness: EdgeFuzzHarness = {
    edge, kv, config, clock, findings, published: mqtt.seen,
    ingest(bytes, exporter) {
      try {
        edge.ingest(bytes, exporter);
        return true;
      } catch (err) {
        findings.push({ kind: 'ingest-throw', message: (err as Error).message, stack: (err as Error).stack });
        return false;
      }
    },
    async advance(ms) {
      clock.advanceMs(ms);
      await harness.runTimers(ms);
    },
    async runTimers(ms) {
      try {
        await timers.tick(ms);
      } catch (err) {
        findings.push({ kind: 'timer-throw', message: (err as Error).message, stack: (err as Error).stack });
      }
      try {
        await edge.flush();
        const s = edge.status();
        checkFinite('status().counters', s.counters as unknown as Record<string, unknown>, findings);
        // What the heartbeat sends, encoded here too as the publisher does it (values clamped to their
        // protobuf types by sane-wire-values.ts: status() may hold e.g. a fractional sampling rate).
        edgeStatusCodec.encode({
          edgeId: config.edgeId, tenantId: config.tenantId, state: 2, session: 1, atMs: clock.nowMs(), softwareVersion: 'fuzz',
          counters: saneCounters(s.counters), exporters: s.exporters.map(saneExporterStatus), configVersion: s.configVersion, collectionPaused: s.collectionPaused,
        });
      } catch (err) {
        findings.push({ kind: 'flush-or-status-throw', message: (err as Error).message, stack: (err as Error).stack });
      }
    },
    async outboxSummaries() {
      const out: Summary[] = [];
      for (const [, v] of await collect(kv, prefixRange('outbox/batch/'))) out.push(...summaryBatchCodec.decode(v).summaries);
      return out;
    },
    async close() {
      await edge.stop();
    },
  };
  return harness;
}

// ---------------------------------------------------------------- regression fixtures

export interface RegressionFixture {
  description: string;
  /** The receiver clock when the datagrams arrive. */
  nowMs: number;
  datagrams: { exporter: string; hex: string }[];
  finding: Finding;
}

export const REGRESSIONS_DIR = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'regressions');

/** Replays datagrams into a fresh edge, then runs its timers, closes every bucket and stops it; returns the findings (empty = fixed). */
export async function replay(nowMs: number, datagrams: { exporter: string; bytes: Uint8Array }[]): Promise<Finding[]> {
  const h = await startEdgeFuzzHarness({ startMs: nowMs });
  try {
    for (const d of datagrams) h.ingest(d.bytes, d.exporter);
    await h.advance(6000);
    h.clock.advanceMs(400_000);
    await h.runTimers(6000);
  } finally {
    await h.close().catch((err) => h.findings.push({ kind: 'stop-throw', message: (err as Error).message, stack: (err as Error).stack }));
  }
  return h.findings;
}

type Datagram = { exporter: string; bytes: Uint8Array };

/**
 * Shrinks a finding's input (delta debugging): the last datagram alone if that reproduces, else
 * chunks of the list removed by halves, then byte chunks removed from each remaining datagram,
 * keeping only changes that still reproduce a finding of the same kind. Bounded by maxReplays.
 */
export async function minimize(nowMs: number, input: Datagram[], kind: string, maxReplays = 150): Promise<Datagram[]> {
  let replays = 0;
  const reproduces = async (ds: Datagram[]) => {
    replays++;
    return (await replay(nowMs, ds)).some((f) => f.kind === kind);
  };
  let cur = input.slice();
  if (cur.length > 1 && await reproduces(cur.slice(-1))) cur = cur.slice(-1);
  for (let chunk = cur.length >> 1; chunk >= 1 && replays < maxReplays; chunk >>= 1) {
    for (let at = 0; at < cur.length && cur.length > 1 && replays < maxReplays;) {
      const without = cur.slice(0, at).concat(cur.slice(at + chunk));
      if (without.length > 0 && await reproduces(without)) cur = without; else at += chunk;
    }
  }
  for (let k = cur.length - 1; k >= 0 && replays < maxReplays; k--) {
    let d = cur[k];
    for (let chunk = Math.max(1, d.bytes.length >> 1); chunk >= 1 && replays < maxReplays; chunk >>= 1) {
      for (let at = 0; at < d.bytes.length && replays < maxReplays;) {
        const b = new Uint8Array(d.bytes.length - Math.min(chunk, d.bytes.length - at));
        b.set(d.bytes.subarray(0, at)); b.set(d.bytes.subarray(at + chunk), at);
        const candidate = { exporter: d.exporter, bytes: b };
        const next = cur.slice(); next[k] = candidate;
        if (await reproduces(next)) { d = candidate; cur = next; } else at += chunk;
      }
    }
  }
  return cur;
}

export function saveRegression(name: string, fixture: RegressionFixture): string {
  mkdirSync(REGRESSIONS_DIR, { recursive: true });
  const file = join(REGRESSIONS_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify(fixture, null, 2) + '\n');
  return file;
}

export function loadRegressions(): { file: string; fixture: RegressionFixture }[] {
  let files: string[];
  try { files = readdirSync(REGRESSIONS_DIR).filter((f) => f.endsWith('.json')).sort(); } catch { return []; }
  return files.map((f) => ({ file: f, fixture: JSON.parse(readFileSync(join(REGRESSIONS_DIR, f), 'utf8')) as RegressionFixture }));
}

export const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
