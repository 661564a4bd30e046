/**
 * Hostile input for the hub (issue 8), shared by test/fuzz/mqtt-fuzz.test.ts (small, deterministic)
 * and bench/fuzz-hub.ts (long): what a holder of a real edge's MQTT credentials can publish on its
 * summaries topic, and what anyone can write to the broker's TCP port before authenticating.
 */
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import mqtt, { type MqttClient } from 'mqtt';
import { edgeTopic } from '../../common/topics';
import { ackCodec, summaryBatchCodec, SubjectKind, type Ack, type Summary, type SummaryBatch } from '../../proto/codec';
import { createRng, mutate, type Rng } from './datagram-mutator';
import { BUCKET_SEC } from '../../common/bucket';

export { BUCKET_SEC };

export function summary(subjectId: string, bucketStartSec: number, bytesIn: number, over: Partial<Summary> = {}): Summary {
  return {
    subjectId, subjectKind: subjectId.startsWith('if:') ? SubjectKind.INTERFACE : SubjectKind.IP_GROUP, bucketStartSec, durationSec: BUCKET_SEC,
    bytesIn, bytesOut: 0, packetsIn: Math.max(1, Math.floor(bytesIn / 1000)), packetsOut: 0, flowsIn: 1, flowsOut: 0, revision: 0, ...over,
  };
}

export function batch(edgeId: string, tenantId: string, seq: number, summaries: Summary[], over: Partial<SummaryBatch> = {}): SummaryBatch {
  return { edgeId, tenantId, seq, createdAtMs: 0, oldestUnackedSeq: seq, summaries, ...over };
}

// ---------------------------------------------------------------- protobuf by hand (what the codec refuses to write)

function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do { let b = Number(x & 0x7fn); x >>= 7n; if (x > 0n) b |= 0x80; out.push(b); } while (x > 0n);
  return out;
}
/** Concatenation without spreading (a 1 MiB subject id would overflow the stack as call arguments). */
function cat(parts: ArrayLike<number>[]): number[] {
  const out: number[] = [];
  for (const p of parts) for (let i = 0; i < p.length; i++) out.push(p[i]);
  return out;
}
const key = (field: number, wire: number) => varint(BigInt((field << 3) | wire));
const lenDelim = (field: number, body: ArrayLike<number>) => cat([key(field, 2), varint(BigInt(body.length)), body]);
const str = (s: string): ArrayLike<number> => Buffer.from(s, 'utf8');

/** A Summary message with raw (possibly out-of-range) numbers: field numbers of proto/flowbill.proto. */
function rawSummary(subjectId: string, nums: Partial<Record<'kind' | 'bucket' | 'duration' | 'bytesIn' | 'bytesOut' | 'packetsIn' | 'packetsOut' | 'flowsIn' | 'flowsOut' | 'revision', bigint>>): number[] {
  const fields: [keyof typeof nums, number][] = [['kind', 2], ['bucket', 3], ['duration', 4], ['bytesIn', 5], ['bytesOut', 6], ['packetsIn', 7], ['packetsOut', 8], ['flowsIn', 9], ['flowsOut', 10], ['revision', 11]];
  const parts: ArrayLike<number>[] = [lenDelim(1, str(subjectId))];
  for (const [k, f] of fields) if (nums[k] !== undefined) parts.push(key(f, 0), varint(nums[k]!));
  return cat(parts);
}

function rawBatch(edgeId: string, tenantId: string, seq: bigint, summaries: number[][], oldest = seq): Uint8Array {
  const parts: ArrayLike<number>[] = [lenDelim(1, str(edgeId)), lenDelim(2, str(tenantId)), key(3, 0), varint(seq), key(5, 0), varint(oldest)];
  for (const s of summaries) parts.push(lenDelim(6, s));
  return Uint8Array.from(cat(parts));
}

export interface HubFuzzContext {
  edgeId: string;
  tenantId: string;
  /** The hub's clock, seconds. */
  nowSec: number;
  /** A subject name this fuzz never writes to (the valid batch afterwards uses it). */
  legitSubjectId: string;
}

export interface HubFuzzPayload { name: string; payload: Uint8Array }

/** Checks against the schema the hub decodes: our field numbers must match proto/flowbill.proto. */
export function selfCheck(): void {
  const b = summaryBatchCodec.decode(rawBatch('e', 't', 7n, [rawSummary('ipg:x', { bucket: 600n, duration: 300n, bytesIn: 5n })]));
  if (b.edgeId !== 'e' || b.tenantId !== 't' || b.seq !== 7 || b.summaries[0]?.bytesIn !== 5 || b.summaries[0].durationSec !== 300) {
    throw new Error(`hub-payloads: hand-written protobuf does not match proto/flowbill.proto: ${JSON.stringify(b)}`);
  }
}

/**
 * One hostile payload for the summaries topic. `big` allows the expensive ones (1e5+ summaries,
 * multi-MB payloads); the tap test draws a few of each kind, the bench many.
 */
export function hostileSummaryPayload(rng: Rng, ctx: HubFuzzContext, opts: { big: boolean }): HubFuzzPayload {
  const { edgeId, tenantId } = ctx;
  const aligned = Math.floor(ctx.nowSec / BUCKET_SEC) * BUCKET_SEC;
  const past = aligned - BUCKET_SEC * (1 + rng.int(2000));
  const seq = BigInt(1 + rng.int(1_000_000));
  const subject = () => rng.pick(['if:10.0.0.1/1', 'ipg:fuzz-a', 'ipg:fuzz-b', `if:192.0.2.${rng.int(256)}/${rng.int(100)}`]);
  const kinds = [
    'random-bytes', 'mutated-valid', 'truncated', 'huge-varint', 'length-overflow', 'nested-groups', 'empty', 'bizarre-subjects',
    'huge-counts', 'negative-counts', 'future-buckets', 'past-buckets', 'unaligned', 'wrong-tenant', 'wrong-edge', 'seq-max',
    'seq-zero', 'duplicate-seq', 'many-summaries', 'oversize', 'many-subjects-same-bucket', 'revisions',
  ];
  const kind = rng.pick(kinds);
  const valid = () => summaryBatchCodec.encode(batch(edgeId, tenantId, Number(seq), [summary(subject(), past, 1 + rng.int(1e6))]));
  switch (kind) {
    case 'random-bytes': return { name: kind, payload: rng.bytes(rng.pick([1, 7, 100, 4096, opts.big ? 1 << 20 : 8192])) };
    case 'mutated-valid': return { name: kind, payload: mutate(rng, valid(), () => valid()) };
    case 'truncated': { const v = valid(); return { name: kind, payload: v.subarray(0, rng.int(v.length)) }; }
    case 'huge-varint': return { name: kind, payload: Uint8Array.from([0x18, ...Array(rng.pick([10, 11, 64])).fill(0xff), 0x01]) };
    case 'length-overflow': return { name: kind, payload: Uint8Array.from([0x32, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]) }; // summaries field claiming 4 GB
    case 'nested-groups': {
      // Unknown field 15 as start-group, nested: protobuf readers skip groups recursively.
      const depth = opts.big ? 200_000 : rng.pick([100, 5000, 50_000]);
      const b = new Uint8Array(depth * 2);
      for (let i = 0; i < depth; i++) b[i] = 0x7b; // (15 << 3) | 3
      for (let i = 0; i < depth; i++) b[depth + i] = 0x7c; // (15 << 3) | 4
      return { name: kind, payload: b };
    }
    case 'empty': return { name: kind, payload: new Uint8Array(0) };
    case 'bizarre-subjects': {
      const ids = ['', 'if:', 'ipg:', 'if:/', 'if:x/-1', 'if:x/1e400', 'if:x/NaN', 'ipg:../../etc', 'ipg:a\u0000b', 'if:\u0000/0', 'ipg:' + 'é'.repeat(40),
        'if:' + 'a'.repeat(opts.big ? 1 << 20 : 70_000) + '/1', 'ipg:\ud800', 'if:10.0.0.1/9007199254740993', '__proto__', 'ipg:constructor', 'if:2001:db8::1/4294967296'];
      const s = rng.chance(0.5) ? [rng.pick(ids)] : ids;
      return { name: kind, payload: rawBatch(edgeId, tenantId, seq, s.map((id) => rawSummary(id, { kind: BigInt(rng.int(5)), bucket: BigInt(past), duration: 300n, bytesIn: 1000n }))) };
    }
    case 'huge-counts': {
      const v = rng.pick([2n ** 53n, 2n ** 53n + 1n, 2n ** 62n, 2n ** 64n - 1n, 2n ** 50n + 1n]);
      return { name: kind, payload: rawBatch(edgeId, tenantId, seq, [rawSummary(subject(), { bucket: BigInt(past), duration: 300n, bytesIn: v, packetsIn: v, flowsIn: v, revision: v })]) };
    }
    case 'negative-counts': // int64 -1 as a varint: the codec's longs:Number gives 1.8e19 or -1 depending on the type
      return { name: kind, payload: rawBatch(edgeId, tenantId, seq, [rawSummary(subject(), { bucket: BigInt(past), duration: -1n, bytesIn: -1n, packetsIn: -5n })]) };
    case 'future-buckets': {
      const b = rng.pick([aligned + BUCKET_SEC * 10, aligned + 86_400 * 365 * 100, 2 ** 53 - 300, 2 ** 32 * 300]);
      return { name: kind, payload: rawBatch(edgeId, tenantId, seq, [rawSummary(subject(), { bucket: BigInt(b - (b % 300)), duration: 300n, bytesIn: 1n })]) };
    }
    case 'past-buckets':
      return { name: kind, payload: rawBatch(edgeId, tenantId, seq, [rawSummary(subject(), { bucket: BigInt(rng.pick([0, 300, 946_684_500, 1_000_000_200])), duration: 300n, bytesIn: 1n })]) };
    case 'unaligned':
      return { name: kind, payload: rawBatch(edgeId, tenantId, seq, [rawSummary(subject(), { bucket: BigInt(past + 1 + rng.int(298)), duration: BigInt(rng.pick([0, 1, 299, 301, 86_400])), bytesIn: 1n })]) };
    case 'wrong-tenant': return { name: kind, payload: summaryBatchCodec.encode(batch(edgeId, rng.pick(['other', '', 'x'.repeat(1000)]), Number(seq), [summary(subject(), past, 5)])) };
    case 'wrong-edge': return { name: kind, payload: summaryBatchCodec.encode(batch(rng.pick(['other-edge', '', '../']), tenantId, Number(seq), [summary(subject(), past, 5)])) };
    case 'seq-max': return { name: kind, payload: rawBatch(edgeId, tenantId, rng.pick([2n ** 53n - 1n, 2n ** 64n - 1n, 2n ** 63n]), [rawSummary(subject(), { bucket: BigInt(past), duration: 300n, bytesIn: 7n })], rng.pick([2n ** 53n - 1n, 2n ** 64n - 1n, 0n])) };
    case 'seq-zero': return { name: kind, payload: rawBatch(edgeId, tenantId, 0n, [rawSummary(subject(), { bucket: BigInt(past), duration: 300n, bytesIn: 7n })]) };
    case 'duplicate-seq': return { name: kind, payload: valid() };
    case 'many-summaries': {
      const n = opts.big ? rng.pick([100_000, 200_000]) : rng.pick([2000, 20_000]);
      const s: Summary[] = [];
      for (let i = 0; i < n; i++) s.push(summary(`if:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/${i % 64}`, past - BUCKET_SEC * (i % 500), 1 + i));
      return { name: `${kind}-${n}`, payload: summaryBatchCodec.encode(batch(edgeId, tenantId, Number(seq), s)) };
    }
    case 'oversize': {
      const n = opts.big ? rng.pick([8 << 20, 64 << 20]) : rng.pick([3 << 20, 6 << 20]);
      // A valid head, then an unknown length-delimited field of n bytes (a decoder must skip it).
      const head = Uint8Array.from(cat([lenDelim(1, str(edgeId)), lenDelim(2, str(tenantId)), key(15, 2), varint(BigInt(n))]));
      const out = new Uint8Array(head.length + n);
      out.set(head);
      return { name: `${kind}-${n >> 20}MiB`, payload: out };
    }
    case 'many-subjects-same-bucket': {
      const n = opts.big ? 50_000 : 3000;
      const s: Summary[] = [];
      for (let i = 0; i < n; i++) s.push(summary(`ipg:g${i}`, past, 1));
      return { name: kind, payload: summaryBatchCodec.encode(batch(edgeId, tenantId, Number(seq), s)) };
    }
    default: { // revisions: additive revisions of one bucket, many of them
      const s: Summary[] = [];
      for (let i = 0; i < 500; i++) s.push(summary(subject(), past, 1, { revision: rng.pick([0, 1, 2 ** 31, 2 ** 32 - 1, i]) }));
      return { name: kind, payload: summaryBatchCodec.encode(batch(edgeId, tenantId, Number(seq), s)) };
    }
  }
}

// ---------------------------------------------------------------- raw MQTT garbage on the TCP port

export interface RawCase { name: string; chunks: Buffer[] }

function connectPacket(clientId: string, username?: string, password?: string): Buffer {
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60, username, password: password === undefined ? undefined : Buffer.from(password) } as mqttPacket.IConnectPacket);
}

/** Byte streams written to the broker port by someone without (or with) credentials. */
export function rawMqttCase(rng: Rng, creds: { username: string; password: string; edgeId: string; tenantId: string }): RawCase {
  const kinds = ['connect-200mb', 'connect-max-remaining', 'random-bytes', 'bad-protocol', 'subscribe-flood', 'deep-topic', 'publish-before-connect', 'qos3', 'slowloris', 'bad-credentials', 'remaining-length-5-bytes', 'pingreq-flood'];
  const kind = rng.pick(kinds);
  switch (kind) {
    case 'connect-200mb': {
      // CONNECT announcing 200 MB (remaining length varint), then a little of it: must be refused, not buffered.
      const len = 200 * 1024 * 1024;
      const head = Buffer.from([0x10, (len & 0x7f) | 0x80, ((len >> 7) & 0x7f) | 0x80, ((len >> 14) & 0x7f) | 0x80, (len >> 21) & 0x7f]);
      return { name: kind, chunks: [head, Buffer.from(connectPacket('x').subarray(2)), Buffer.alloc(64 * 1024)] };
    }
    case 'connect-max-remaining': return { name: kind, chunks: [Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), Buffer.from(rng.bytes(4096))] };
    case 'remaining-length-5-bytes': return { name: kind, chunks: [Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0])] };
    case 'random-bytes': return { name: kind, chunks: [Buffer.from(rng.bytes(rng.pick([1, 2, 16, 1000, 65536])))] };
    case 'bad-protocol': {
      const c = connectPacket(`${creds.username}-m${rng.u32()}`, creds.username, creds.password);
      return { name: kind, chunks: [Buffer.from(mutate(rng, c, () => c))] };
    }
    case 'subscribe-flood': {
      // Authenticated as the edge, one SUBSCRIBE with thousands of filters (most refused by the ACL).
      const filters = Array.from({ length: 5000 }, (_, i) => ({ topic: i % 3 === 0 ? `flowbill/v1/${creds.tenantId}/${creds.edgeId}/ack` : i % 3 === 1 ? '#' : `flowbill/v1/+/+/x${i}/#`, qos: 1 as const }));
      const sub = mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: filters } as mqttPacket.ISubscribePacket);
      return { name: kind, chunks: [connectPacket(`${creds.username}-sub${rng.u32()}`, creds.username, creds.password), sub] };
    }
    case 'deep-topic': {
      const topic = `flowbill/v1/${creds.tenantId}/${creds.edgeId}/summaries/` + '/'.repeat(100_000);
      const pub = mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 0, dup: false, retain: false } as mqttPacket.IPublishPacket);
      const sub = mqttPacket.generate({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'a/'.repeat(50_000) + '#', qos: 0 }] } as mqttPacket.ISubscribePacket);
      return { name: kind, chunks: [connectPacket(`${creds.username}-deep${rng.u32()}`, creds.username, creds.password), sub, pub] };
    }
    case 'publish-before-connect': {
      const pub = mqttPacket.generate({ cmd: 'publish', topic: `flowbill/v1/${creds.tenantId}/${creds.edgeId}/summaries`, payload: Buffer.from('x'), qos: 1, messageId: 1, dup: false, retain: false } as mqttPacket.IPublishPacket);
      return { name: kind, chunks: [pub] };
    }
    case 'qos3': return { name: kind, chunks: [connectPacket(`${creds.username}-q3${rng.u32()}`, creds.username, creds.password), Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01])] };
    case 'slowloris': return { name: kind, chunks: [Buffer.from([0x10]), Buffer.from([0x7f])] }; // a partial CONNECT, then silence
    case 'pingreq-flood': return { name: kind, chunks: [connectPacket(`${creds.username}-ping${rng.u32()}`, creds.username, creds.password), Buffer.alloc(20_000, Buffer.from([0xc0, 0x00]))] };
    default: return { name: kind, chunks: [connectPacket(`fuzz-bad-${rng.u32()}`, `user${rng.int(100)}`, 'wrong')] };
  }
}

/**
 * Writes a raw case to host:port from `localAddress` and waits until the broker closes the socket or
 * holdMs passes (then destroys it). Resolves with what happened; never rejects.
 */
export function sendRaw(port: number, c: RawCase, opts: { localAddress?: string; holdMs: number }): Promise<'closed-by-broker' | 'held' | 'error'> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
    let done = false;
    const finish = (how: 'closed-by-broker' | 'held' | 'error') => { if (!done) { done = true; clearTimeout(timer); socket.destroy(); resolve(how); } };
    const timer = setTimeout(() => finish('held'), opts.holdMs);
    socket.on('error', () => finish('error'));
    socket.on('close', () => finish('closed-by-broker'));
    socket.on('data', () => { /* CONNACK / SUBACK: ignored */ });
    socket.on('connect', () => {
      for (const chunk of c.chunks) if (!socket.destroyed) socket.write(chunk, () => undefined);
    });
  });
}

export { createRng };

/** Connects an edge client and collects its acks by seq. */
export async function edgeClient(mqttUrl: string, creds: { username: string; password: string; tenantId: string; edgeId: string }) {
  const { username, password } = creds;
  const acks = new Map<number, Ack>();
  const waiters = new Map<number, (a: Ack) => void>();
  let client: MqttClient | undefined;
  let reconnects = 0;
  async function ensure(): Promise<MqttClient> {
    if (client?.connected) return client;
    client?.end(true);
    if (client) reconnects++;
    // Client ids are bound to the identity (hub/edges/mqtt-acl.ts): <username>-<suffix>.
    const c = await mqtt.connectAsync(mqttUrl, { username, password, clientId: `${username}-fuzz${reconnects}`, reconnectPeriod: 0, connectTimeout: 5000 });
    c.on('error', () => undefined);
    c.on('message', (_topic, payload) => {
      try {
        const a = ackCodec.decode(payload);
        acks.set(a.seq, a);
        waiters.get(a.seq)?.(a);
      } catch { /* not ours to judge */ }
    });
    await c.subscribeAsync(edgeTopic(creds.tenantId, creds.edgeId, 'ack'), { qos: 1 });
    client = c;
    return c;
  }
  return {
    ensure,
    get reconnects() { return reconnects; },
    async publish(topic: string, payload: Uint8Array, timeoutMs = 3000): Promise<'puback' | 'timeout' | 'closed'> {
      const c = await ensure();
      let onClose: (() => void) | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        return await Promise.race([
          c.publishAsync(topic, Buffer.from(payload), { qos: 1 }).then(() => 'puback' as const, () => 'closed' as const),
          new Promise<'closed'>((r) => { onClose = () => r('closed'); c.once('close', onClose); }),
          new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); }),
        ]);
      } finally {
        clearTimeout(timer);
        if (onClose) c.off('close', onClose);
      }
    },
    waitAck(seq: number, timeoutMs = 10_000): Promise<Ack> {
      const have = acks.get(seq);
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for seq ${seq} within ${timeoutMs} ms`)), timeoutMs);
        waiters.set(seq, (a) => { clearTimeout(timer); resolve(a); });
      });
    },
    close() { client?.end(true); },
  };
}


