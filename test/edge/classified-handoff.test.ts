/**
 * The classified hand-off between the threaded edge's two stages (edge/threads/classified-handoff.ts),
 * with no threads: what stage A's classifier produced, stage B's sink receives (same numbers, same
 * subject ids, kinds and directions, in order), with B's own subject keys; a subject is defined once
 * per encoder; malformed payloads are counted and never throw; the encoder's buffer grows.
 */
import t from 'tap';
import {
  createHandoffDecoder, createHandoffEncoder, MAX_HANDOFF_KEYS, MAX_HITS, recordEntryBytes, subjectEntryBytes,
  TAG_RECORD, TAG_SUBJECT, type HandoffSink,
} from '../../edge/threads/classified-handoff';
import { createClassifier, defaultCollectionConfig, DIRECTION_IN, DIRECTION_OUT, type SubjectHit } from '../../edge/classify/classifier';
import { subjectKeyOf } from '../../edge/classify/subject-keys';
import { createBucketAggregator } from '../../edge/aggregate/bucket-aggregator';
import { createManualClock } from '../../common/clock';
import { SubjectKind } from '../../proto/codec';
import type { FlowRecord } from '../../edge/decode/flow-record';
import { RING_HEADER_BYTES, RECORD_HEADER_BYTES } from '../../edge/receive/datagram-ring';
import { flow } from './helpers/flows';

interface Seen { startMs: number; endMs: number; bytes: number; packets: number; hits: string[] }
const hitText = (h: SubjectHit) => `${h.subjectId}|${h.kind}|${h.direction === DIRECTION_IN ? 'in' : 'out'}`;
const seenOf = (f: FlowRecord, hits: readonly SubjectHit[]): Seen =>
  ({ startMs: f.startMs, endMs: f.endMs, bytes: f.bytes, packets: f.packets, hits: hits.map(hitText) });

/** A sink that copies what it is given (the decoder reuses its record and hits arrays). */
function collector(): HandoffSink & { seen: Seen[]; hits: SubjectHit[] } {
  const seen: Seen[] = [];
  const hits: SubjectHit[] = [];
  return { seen, hits, add(f, h) { seen.push(seenOf(f, h)); hits.push(...h); } };
}

/** The documented layout, walked from the test's side: every entry's tag, offset and size. */
interface Entry { tag: number; at: number; size: number; /** SUBJECT: its A-key */ key?: number; /** RECORD: its hits' A-keys */ keys?: number[] }
function entries(payload: Uint8Array): Entry[] {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: Entry[] = [];
  for (let o = 0; o < payload.length;) {
    const tag = v.getUint8(o);
    if (tag === TAG_SUBJECT) {
      const size = subjectEntryBytes(v.getUint16(o + 2, true));
      out.push({ tag, at: o, size, key: v.getUint32(o + 4, true) });
      o += size;
    } else if (tag === TAG_RECORD) {
      const n = v.getUint8(o + 1);
      const size = recordEntryBytes(n);
      const keys = [v.getUint32(o + 4, true) >>> 1];
      for (let i = 1; i < n; i++) keys.push(v.getUint32(o + 36 + 4 * i, true) >>> 1);
      out.push({ tag, at: o, size, keys });
      o += size;
    } else throw new Error(`tag ${tag} at ${o}`);
  }
  return out;
}

/** xorshift32: the fuzz is the same on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

const T0 = 1_700_000_000_000;
const collection = {
  ...defaultCollectionConfig(),
  allInterfaces: true,
  ipGroups: [
    { name: 'cust-a', prefixes: ['198.51.100.0/24'] },
    { name: 'cust-b', prefixes: ['203.0.113.0/24'] },
    { name: 'cust-v6', prefixes: ['2001:db8:1::/48'] },
  ],
};

/** Flows of one datagram: interface and group hits, in and out, 1..4 hits, v4 and v6, one unclassified. */
function datagramFlows(d: number): FlowRecord[] {
  const exporter = d % 2 === 0 ? '192.0.2.1' : '2001:db8:ff::1';
  const at = T0 + d * 60_000;
  return [
    flow({ exporter, inputIf: 1, outputIf: 0, src: '192.0.2.200', dst: '192.0.2.201', bytes: 100 + d, packets: 1, startMs: at, endMs: at + 1000 }), // 1 hit
    flow({ exporter, inputIf: 1, outputIf: 2, src: '192.0.2.200', dst: '203.0.113.9', bytes: 200 + d, packets: 2, startMs: at, endMs: at + 2000 }), // 3
    flow({ exporter, inputIf: 3, outputIf: 4, src: '198.51.100.7', dst: '203.0.113.9', bytes: 300 + d, packets: 3, startMs: at - 400_000, endMs: at }), // 4, two buckets
    flow({ exporter, inputIf: 0, outputIf: 0, src: '198.51.100.1', dst: '198.51.100.2', bytes: 400 + d, packets: 4, startMs: at, endMs: at }), // 2: both directions of cust-a
    flow({ exporter, inputIf: 0, outputIf: 5, src: '2001:db8:1::5', dst: '2001:db8:9::1', bytes: 500 + d, packets: 5, startMs: at, endMs: at + 10 }), // 2, v6
    flow({ exporter, inputIf: 0, outputIf: 0, src: '192.0.2.1', dst: '192.0.2.2', bytes: 600 + d, packets: 6, startMs: at, endMs: at }), // 0 hits
    flow({ exporter, inputIf: 7, outputIf: 0, src: '2001:db8:9::1', dst: '2001:db8:1::ab', bytes: 2 ** 40 + d, packets: 7, startMs: at, endMs: at + 5 }), // 2, v6
  ];
}

t.test('round trip: what A classified, B receives (numbers, subject ids, kinds, directions, in order); one definition per key', async (t) => {
  const classifier = createClassifier(collection);
  const encoder = createHandoffEncoder({ initialBytes: 256 });
  const decoder = createHandoffDecoder();
  const sink = collector();
  const expected: Seen[] = [];
  const hitCounts = new Set<number>();
  const definedKeys: number[] = [];
  const idOfAKey = new Map<number, string>();
  for (let d = 0; d < 12; d++) {
    for (const f of datagramFlows(d)) {
      const hits = classifier.classify(f);
      hitCounts.add(hits.length);
      if (hits.length > 0) expected.push(seenOf(f, hits));
      for (const h of hits) idOfAKey.set(h.subjectKey, h.subjectId);
      encoder.add(f, hits);
    }
    t.ok(encoder.pendingBytes > 0);
    const payload = encoder.take();
    t.equal(encoder.pendingBytes, 0, 'take() empties the encoder');
    const walked = entries(payload);
    // Every record's keys are defined earlier in this payload or in an earlier one.
    const known = new Set(definedKeys);
    for (const e of walked) {
      if (e.tag === TAG_SUBJECT) { definedKeys.push(e.key!); known.add(e.key!); }
      else if (!e.keys!.every((k) => known.has(k))) t.fail(`datagram ${d}: a record at ${e.at} uses a key not yet defined`);
    }
    t.equal(walked.reduce((s, e) => s + e.size, 0), payload.length);
    decoder.read(payload, sink);
  }
  t.same([...hitCounts].sort(), [0, 1, 2, 3, 4], 'flows with 0..4 hits');
  t.equal(decoder.malformed, 0);
  t.same(sink.seen, expected, 'same records, in order');
  t.equal(definedKeys.length, new Set(definedKeys).size, 'each key defined once per encoder');
  t.same(new Set(definedKeys), new Set(idOfAKey.keys()), 'every key used is defined');
  t.ok(sink.hits.some((h) => h.subjectId === 'ipg:cust-a' && h.direction === DIRECTION_IN) && sink.hits.some((h) => h.subjectId === 'ipg:cust-a' && h.direction === DIRECTION_OUT), 'both directions of one group');
  t.ok(sink.hits.some((h) => h.subjectId === 'if:2001:db8:ff::1/7' && h.kind === SubjectKind.INTERFACE), 'an interface of an IPv6 exporter');
  t.ok(sink.hits.some((h) => h.subjectId === 'ipg:cust-v6'), 'an IPv6 group');
  // B's hits are frozen pairs, shared between records: one object per (subject, direction).
  const byText = new Map<string, SubjectHit>();
  for (const h of sink.hits) {
    t.ok(Object.isFrozen(h));
    const prev = byText.get(hitText(h));
    if (prev) t.equal(prev, h);
    else byText.set(hitText(h), h);
  }
});

t.test('the aggregator fed through the hand-off closes the same summaries as fed directly', async (t) => {
  const classifier = createClassifier(collection);
  const direct = createBucketAggregator({ closeGraceSec: 0, clock: createManualClock(T0) });
  const viaHandoff = createBucketAggregator({ closeGraceSec: 0, clock: createManualClock(T0) });
  const encoder = createHandoffEncoder();
  const decoder = createHandoffDecoder();
  for (let d = 0; d < 12; d++) {
    for (const f of datagramFlows(d)) {
      const hits = classifier.classify(f);
      if (hits.length > 0) direct.add(f, hits);
      encoder.add(f, hits);
    }
    decoder.read(encoder.take(), viaHandoff);
  }
  const closeAt = T0 + 3_600_000;
  const a = direct.closeDue(closeAt);
  t.ok(a.length > 10);
  t.same(viaHandoff.closeDue(closeAt), a);
  t.same(viaHandoff.stats(), direct.stats());
});

t.test("B's subject keys are its own: A's keys only name definitions", async (t) => {
  // A's isolate numbered these subjects differently: keys that B uses for OTHER ids, and a big one.
  const ids = ['ipg:handoff-x', 'if:192.0.2.77/9', 'ipg:handoff-y'];
  const bKeyOfOther = subjectKeyOf('ipg:handoff-unrelated');
  const aKeys = [bKeyOfOther, 5000, MAX_HANDOFF_KEYS - 1];
  const kinds = [SubjectKind.IP_GROUP, SubjectKind.INTERFACE, SubjectKind.IP_GROUP];
  const aHit = (i: number, direction: 0 | 1): SubjectHit => ({ subjectId: ids[i], subjectKey: aKeys[i], kind: kinds[i], direction });
  const encoder = createHandoffEncoder();
  const decoder = createHandoffDecoder();
  const sink = collector();
  encoder.add(flow({ bytes: 1 }), [aHit(0, 0), aHit(1, 1), aHit(2, 0), aHit(0, 1)]);
  encoder.add(flow({ bytes: 2 }), [aHit(2, 1)]);
  decoder.read(encoder.take(), sink);
  t.equal(decoder.malformed, 0);
  t.same(sink.seen.map((s) => s.hits), [
    ['ipg:handoff-x|2|in', 'if:192.0.2.77/9|1|out', 'ipg:handoff-y|2|in', 'ipg:handoff-x|2|out'],
    ['ipg:handoff-y|2|out'],
  ]);
  for (const h of sink.hits) t.equal(h.subjectKey, subjectKeyOf(h.subjectId), `${h.subjectId}: B's key`);
  t.not(sink.hits[0].subjectKey, bKeyOfOther, "A's key of x is B's key of another id: not used");
});

t.test('take() and add() details: empty payloads, no hits, non-ASCII ids, a new encoder for the same decoder', async (t) => {
  const encoder = createHandoffEncoder();
  t.equal(encoder.take().length, 0, 'nothing added: an empty payload');
  encoder.add(flow(), []);
  t.equal(encoder.pendingBytes, 0, 'a flow without hits is not handed off (the aggregator ignores it)');
  const decoder = createHandoffDecoder();
  const sink = collector();
  decoder.read(new Uint8Array(0), sink);
  t.equal(sink.seen.length + decoder.malformed, 0);

  const hit: SubjectHit = { subjectId: 'ipg:grüße-€-😀', subjectKey: 7, kind: SubjectKind.IP_GROUP, direction: 1 };
  encoder.add(flow({ bytes: 3, startMs: 1.5, endMs: Number.NaN, packets: -1 }), [hit]);
  const first = encoder.take().slice(); // take() is a view into the reused buffer: keep a copy
  t.same(entries(first).map((e) => e.tag), [TAG_SUBJECT, TAG_RECORD], 'definition, then record');
  encoder.add(flow({ bytes: 4 }), [hit]);
  t.equal(encoder.pendingBytes, recordEntryBytes(1), 'defined once per encoder: the second payload has the record only');
  decoder.read(first, sink);
  decoder.read(encoder.take(), sink);
  t.equal(decoder.malformed, 0);
  // A new encoder defines the key again for the same decoder: the definition replaces the old one.
  const again = createHandoffEncoder();
  again.add(flow({ bytes: 5 }), [{ ...hit, subjectId: 'ipg:replaced', direction: 0 }]);
  decoder.read(again.take(), sink);
  t.equal(decoder.malformed, 0);
  t.same(sink.seen.map((s) => [s.startMs, s.endMs, s.bytes, s.packets, s.hits[0]]), [
    [1.5, Number.NaN, 3, -1, 'ipg:grüße-€-😀|2|out'],
    [T0, T0 + 1000, 4, 10, 'ipg:grüße-€-😀|2|out'],
    [T0, T0 + 1000, 5, 10, 'ipg:replaced|2|in'],
  ], 'numbers travel unchanged (the aggregator, not the hand-off, judges them); UTF-8 ids');

  t.throws(() => encoder.add(flow(), [hit, hit, hit, hit, hit]), RangeError, `more than ${MAX_HITS} hits`);
  t.throws(() => encoder.add(flow(), [{ ...hit, subjectKey: MAX_HANDOFF_KEYS }]), RangeError, 'a key beyond the format');
  t.equal(encoder.pendingBytes, 0, 'nothing written by a refused add');
});

t.test('A-keys at and beyond MAX_HANDOFF_KEYS: the decoder refuses them, and the highest one costs no big table', async (t) => {
  const definition = (key: number) => {
    const p = new Uint8Array(subjectEntryBytes(5));
    const v = new DataView(p.buffer);
    v.setUint8(0, TAG_SUBJECT); v.setUint8(1, SubjectKind.IP_GROUP); v.setUint16(2, 5, true); v.setUint32(4, key, true);
    p.set(new TextEncoder().encode('ipg:k'), 8);
    return p;
  };
  const decoder = createHandoffDecoder();
  decoder.read(definition(MAX_HANDOFF_KEYS), collector());
  decoder.read(definition(0xffffffff), collector());
  t.equal(decoder.malformed, 2);
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  decoder.read(definition(MAX_HANDOFF_KEYS - 1), collector());
  t.equal(decoder.malformed, 2, 'the highest key is valid');
  t.ok(process.memoryUsage().heapUsed - heapBefore < 16 << 20, 'no JS array of 2^24 entries (a typed index outside the heap)');
  t.comment(`defining key 2^24 - 1 took ${(performance.now() - t0).toFixed(1)} ms`);
  const encoder = createHandoffEncoder();
  const sink = collector();
  encoder.add(flow({ bytes: 9 }), [{ subjectId: 'ipg:k', subjectKey: MAX_HANDOFF_KEYS - 1, kind: SubjectKind.IP_GROUP, direction: 1 }]);
  const payload = encoder.take();
  decoder.read(payload.subarray(entries(payload)[1].at), sink); // the record alone: the key is known
  t.same(sink.seen.map((s) => s.hits), [['ipg:k|2|out']]);
});

t.test('the buffer grows past initialBytes and keeps what was encoded', async (t) => {
  const encoder = createHandoffEncoder({ initialBytes: 16 });
  const decoder = createHandoffDecoder();
  const expected: Seen[] = [];
  for (let i = 0; i < 3000; i++) {
    const id = `if:2001:db8:aaaa:bbbb:cccc:dddd:eeee:${(i % 1000).toString(16)}/${i}`;
    const hits: SubjectHit[] = [{ subjectId: id, subjectKey: 10_000 + i, kind: SubjectKind.INTERFACE, direction: (i & 1) as 0 | 1 }];
    if (i % 3 === 0) hits.push({ subjectId: 'ipg:grow', subjectKey: 3, kind: SubjectKind.IP_GROUP, direction: 0 });
    const f = flow({ bytes: i, packets: i + 1, startMs: T0 + i, endMs: T0 + 2 * i });
    expected.push(seenOf(f, hits));
    encoder.add(f, hits);
  }
  t.ok(encoder.pendingBytes > 3000 * 48, `one payload of ${encoder.pendingBytes} bytes`);
  const sink = collector();
  decoder.read(encoder.take(), sink);
  t.equal(decoder.malformed, 0);
  t.same(sink.seen, expected);
});

t.test('payloads in place in a SharedArrayBuffer at the ring offset (4 past an 8-byte boundary), from two buffers in turn', async (t) => {
  const classifier = createClassifier(collection);
  const encoder = createHandoffEncoder();
  const decoder = createHandoffDecoder();
  const sink = collector();
  const expected: Seen[] = [];
  const sabs = [new SharedArrayBuffer(64 * 1024), new SharedArrayBuffer(64 * 1024)];
  for (let d = 0; d < 6; d++) {
    for (const f of datagramFlows(d)) {
      const hits = classifier.classify(f);
      if (hits.length > 0) expected.push(seenOf(f, hits));
      encoder.add(f, hits);
    }
    const payload = encoder.take();
    const at = RING_HEADER_BYTES + 8 * d + RECORD_HEADER_BYTES;
    const inRing = new Uint8Array(sabs[d % 2], at, payload.length);
    inRing.set(payload);
    decoder.read(inRing, sink);
  }
  t.equal(decoder.malformed, 0);
  t.same(sink.seen, expected);
});

/** Two payloads of one encoder: the first defines everything the second uses (same exporter, same subjects). */
function samplePayloads(): Uint8Array[] {
  const classifier = createClassifier(collection);
  const encoder = createHandoffEncoder();
  const out: Uint8Array[] = [];
  for (const d of [0, 2]) {
    for (const f of datagramFlows(d)) encoder.add(f, classifier.classify(f));
    out.push(encoder.take().slice());
  }
  return out;
}

t.test('malformed payloads are counted, never thrown; the records before the fault are delivered', async (t) => {
  const [first, second] = samplePayloads();
  const walked = entries(first);
  const boundaries = new Set(walked.map((e) => e.at + e.size));
  boundaries.add(0);
  // Every truncation of the first payload.
  for (let len = 0; len <= first.length; len++) {
    const decoder = createHandoffDecoder();
    const sink = collector();
    decoder.read(first.subarray(0, len), sink);
    const whole = walked.filter((e) => e.tag === TAG_RECORD && e.at + e.size <= len).length;
    if (decoder.malformed !== (boundaries.has(len) ? 0 : 1) || sink.seen.length !== whole) {
      t.fail(`truncated to ${len}: malformed ${decoder.malformed}, ${sink.seen.length} records (expected ${whole})`);
      return;
    }
  }
  t.pass(`${first.length + 1} truncations`);

  // Records of keys this decoder never saw defined: the second payload alone.
  const fresh = createHandoffDecoder();
  const sink = collector();
  t.equal(entries(second)[0].tag, TAG_RECORD, 'the second payload starts with a record');
  fresh.read(second, sink);
  t.equal(fresh.malformed, 1);
  t.equal(sink.seen.length, 0);

  // A bad tag after the first record: that record is delivered, the rest is lost and counted.
  const bad = first.slice();
  const firstRecord = walked.findIndex((e) => e.tag === TAG_RECORD);
  bad[walked[firstRecord + 1].at] = 0x7f;
  const d2 = createHandoffDecoder();
  const s2 = collector();
  d2.read(bad, s2);
  t.equal(d2.malformed, 1);
  t.equal(s2.seen.length, 1, 'the one record before the bad tag');
  // The decoder carries on: the whole payload again (its definitions, its records), then the next one.
  d2.read(first, s2);
  d2.read(second, s2);
  t.equal(d2.malformed, 1);
  t.equal(s2.seen.length, 1 + walked.filter((e) => e.tag === TAG_RECORD).length + entries(second).filter((e) => e.tag === TAG_RECORD).length);
});

t.test('seeded fuzz: flipped bytes, garbage and cut payloads never throw, and the decoder stays usable', async (t) => {
  const [first, second] = samplePayloads();
  const next = rng(0x13c0ffee);
  const decoder = createHandoffDecoder();
  let delivered = 0;
  const sink: HandoffSink = {
    add(f, hits) {
      delivered++;
      if (hits.length < 1 || hits.length > MAX_HITS) throw new Error(`${hits.length} hits`);
      for (const h of hits) {
        if (h.direction !== 0 && h.direction !== 1) throw new Error(`direction ${h.direction}`);
        if (h.kind !== SubjectKind.INTERFACE && h.kind !== SubjectKind.IP_GROUP) throw new Error(`kind ${h.kind}`);
        if (h.subjectId.length === 0 || h.subjectId.includes('\n')) throw new Error(`id ${JSON.stringify(h.subjectId)}`);
      }
      if (typeof f.bytes !== 'number') throw new Error('bytes');
    },
  };
  const rounds = 3000;
  for (let i = 0; i < rounds; i++) {
    const base = (i & 1) === 0 ? first : second;
    let p: Uint8Array;
    switch (next() % 4) {
      case 0: { // a few flipped bytes
        p = base.slice();
        for (let k = 1 + (next() % 4); k > 0; k--) p[next() % p.length] ^= 1 + (next() % 255);
        break;
      }
      case 1: { // garbage of a random length
        p = new Uint8Array(next() % 300);
        for (let k = 0; k < p.length; k++) p[k] = next() & 255;
        if (p.length > 0 && (next() & 1) === 0) p[0] = (next() & 1) === 0 ? TAG_RECORD : TAG_SUBJECT;
        break;
      }
      case 2: // cut anywhere
        p = base.subarray(0, next() % (base.length + 1));
        break;
      default: { // a random 16-byte window overwritten
        p = base.slice();
        const at = next() % p.length;
        for (let k = at; k < Math.min(p.length, at + 16); k++) p[k] = next() & 255;
      }
    }
    decoder.read(p, sink); // any throw (from the decoder or the sink's checks) fails the test
  }
  t.ok(decoder.malformed > rounds / 4 && decoder.malformed <= rounds, `${decoder.malformed} malformed of ${rounds}, ${delivered} records delivered`);
  // Still correct afterwards with a new encoder (its definitions replace whatever garbage defined).
  const classifier = createClassifier(collection);
  const encoder = createHandoffEncoder();
  const expected: Seen[] = [];
  for (const f of datagramFlows(3)) {
    const hits = classifier.classify(f);
    if (hits.length > 0) expected.push(seenOf(f, hits));
    encoder.add(f, hits);
  }
  const before = decoder.malformed;
  const good = collector();
  decoder.read(encoder.take(), good);
  t.equal(decoder.malformed, before);
  t.same(good.seen, expected);
});

t.test('micro-measure: encode + decode per record (reported, not asserted)', async (t) => {
  const classifier = createClassifier(collection);
  const flows: FlowRecord[] = [];
  for (let r = 0; r < 30; r++) {
    flows.push(flow({ inputIf: 1 + (r % 3), outputIf: 10 + (r % 2), src: `198.51.100.${r}`, dst: `203.0.113.${r}`, bytes: 1000 + r, packets: 1, startMs: T0, endMs: T0 + 1000 }));
  }
  const encoder = createHandoffEncoder();
  const decoder = createHandoffDecoder();
  let bytes = 0;
  const sink: HandoffSink = { add(f) { bytes += f.bytes; } };
  const datagram = () => {
    for (let i = 0; i < flows.length; i++) encoder.add(flows[i], classifier.classify(flows[i]));
    decoder.read(encoder.take(), sink);
  };
  for (let i = 0; i < 500; i++) datagram(); // warm up
  const datagrams = 4000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < datagrams; i++) datagram();
  const ns = Number(process.hrtime.bigint() - t0);
  // Classification is in the loop (it produces the hits); measure it alone to report the difference.
  const c0 = process.hrtime.bigint();
  let hits = 0;
  for (let i = 0; i < datagrams; i++) for (let r = 0; r < flows.length; r++) hits += classifier.classify(flows[r]).length;
  const classifyNs = Number(process.hrtime.bigint() - c0);
  const records = datagrams * flows.length;
  t.comment(`hand-off encode+decode: ~${((ns - classifyNs) / records).toFixed(0)} ns per record (4 hits, 30-record datagrams; ${(ns / records).toFixed(0)} ns with classification, ${(classifyNs / records).toFixed(0)} ns classification alone)`);
  t.equal(decoder.malformed, 0);
  t.ok(bytes > 0 && hits === records * 4);
});
