/**
 * The classified hand-off between the threaded edge's two stages (issue 13): stage A (main thread:
 * decode, bound, classify) encodes each datagram's classified records into one payload, the hand-off
 * ring carries it (datagram-ring.ts), and stage B (the worker) decodes it straight into its
 * aggregator. Pure: no I/O, no timers, no threads; the stages drive it.
 *
 * Only what BucketAggregator.add(flow, hits) reads travels: the flow's startMs, endMs, bytes and
 * packets (split-flow.ts needs no more) and its hits. Subject keys (subject-keys.ts) are per isolate,
 * so a hit travels as A's key, and A's key is DEFINED (key, kind, subject id) in the payload before
 * the first record that uses it; B maps A's key to its own SubjectHit pair (classifier.ts hitPair:
 * subjectKeyOf in B's isolate).
 *
 * THE layout of a payload: entries back to back, each a multiple of 8 bytes, little-endian (the
 * payload never leaves the machine). Offsets are from the payload's start, and every field sits at
 * a multiple of its size from there (the ring puts a payload 4 bytes past an 8-byte boundary, so
 * absolute alignment is 4: DataView does not mind).
 *
 *   SUBJECT (8 + id bytes, padded to 8):
 *     [u8 TAG_SUBJECT][u8 kind (proto SubjectKind)][u16 id bytes][u32 A-key][UTF-8 subject id][0 pad]
 *   RECORD (40 + 4 * (hits - 1), padded to 8: 40, 48, 48, 56 for 1..4 hits):
 *     [u8 TAG_RECORD][u8 hits 1..4][u16 0][u32 hit 0][f64 startMs][f64 endMs][f64 bytes][f64 packets]
 *     [u32 hit 1 .. hit n-1][0 pad]
 *     each hit is (A-key << 1) | direction (0 in, 1 out: classifier.ts DIRECTION_*).
 *
 * The numbers travel as f64, so whatever the flow held arrives unchanged (the aggregator, not the
 * hand-off, refuses non-integer or non-finite ones, and counts them as it always did).
 *
 * Contract between the two ends:
 * - An encoder defines a key once for its life. So every payload it hands out must reach ONE decoder,
 *   in order: a lost payload can carry the definition later records rely on (they then count as
 *   malformed). A new decoder needs a new encoder; a new encoder may feed an old decoder (a
 *   definition of a known A-key replaces it).
 * - A-keys are below MAX_HANDOFF_KEYS (2^24 subjects; FLOWBILL_EDGE_MAX_SUBJECTS is at most 10M): the
 *   encoder throws a RangeError beyond it, and the decoder counts such a key as malformed, so a
 *   garbage key never makes it allocate a table of billions.
 * - The decoder never throws on a payload and never reads past its end: a bad tag, a truncated
 *   entry, a record whose key has no definition or a bad definition count one malformed payload,
 *   and the rest of that payload is skipped (records before it were delivered).
 */
import type { FlowRecord } from '../decode/flow-record';
import { SubjectKind } from '../../proto/codec';
import { hitPair, type HitPair, type SubjectHit } from '../classify/classifier';

export const TAG_SUBJECT = 1;
export const TAG_RECORD = 2;
/** Hits per record: the classifier makes at most 4 (input and output interface, destination and source group). */
export const MAX_HITS = 4;
/** A-keys are below this (see the contract above). */
export const MAX_HANDOFF_KEYS = 1 << 24;
const ENTRY_ALIGN = 8;
const SUBJECT_HEADER_BYTES = 8;
const RECORD_FIXED_BYTES = 40;
const MAX_ID_BYTES = 0xffff;

/** Size of a SUBJECT entry whose id is idBytes of UTF-8. */
export function subjectEntryBytes(idBytes: number): number {
  return (SUBJECT_HEADER_BYTES + idBytes + ENTRY_ALIGN - 1) & ~(ENTRY_ALIGN - 1);
}

/** Size of a RECORD entry with `hits` hits (1..MAX_HITS). */
export function recordEntryBytes(hits: number): number {
  return (RECORD_FIXED_BYTES + 4 * (hits - 1) + ENTRY_ALIGN - 1) & ~(ENTRY_ALIGN - 1);
}

const RECORD_MAX_BYTES = recordEntryBytes(MAX_HITS);

export interface HandoffEncoder {
  /**
   * One classified record of the current datagram (hits: the classifier's result, consumed now).
   * No hits: nothing to hand off (the aggregator ignores such a flow). More than MAX_HITS hits or a
   * key at or above MAX_HANDOFF_KEYS: RangeError (a bug upstream, not input), nothing written.
   */
  add(flow: FlowRecord, hits: readonly SubjectHit[]): void;
  /** Bytes encoded since the last take (0 = nothing to hand off). */
  readonly pendingBytes: number;
  /** The encoded payload since the last take (a view into a reused buffer: valid until the next add). */
  take(): Uint8Array;
}

export function createHandoffEncoder(opts: { initialBytes?: number } = {}): HandoffEncoder {
  let buffer = new ArrayBuffer(Math.max(RECORD_MAX_BYTES, Math.ceil((opts.initialBytes ?? 64 * 1024) / ENTRY_ALIGN) * ENTRY_ALIGN));
  let view = new DataView(buffer);
  let bytes = new Uint8Array(buffer);
  let length = 0;
  // Bit k: A-key k was defined by this encoder. Grown by doubling to cover the highest key seen.
  let defined = new Uint8Array(1024);
  const utf8 = new TextEncoder();

  /** Room for `need` more bytes (doubling; the content is copied). */
  function reserve(need: number): void {
    if (length + need <= buffer.byteLength) return;
    let size = buffer.byteLength * 2;
    while (size < length + need) size *= 2;
    const grown = new ArrayBuffer(size);
    const grownBytes = new Uint8Array(grown);
    grownBytes.set(bytes.subarray(0, length));
    buffer = grown; bytes = grownBytes; view = new DataView(grown);
  }

  function isDefined(key: number): boolean {
    const i = key >>> 3;
    return i < defined.length && (defined[i] & (1 << (key & 7))) !== 0;
  }

  // Once per key: allocation is fine here.
  function define(hit: SubjectHit): void {
    const key = hit.subjectKey;
    const maxIdBytes = hit.subjectId.length * 3; // UTF-8 bytes per UTF-16 unit, at most
    reserve(subjectEntryBytes(maxIdBytes));
    const { written } = utf8.encodeInto(hit.subjectId, bytes.subarray(length + SUBJECT_HEADER_BYTES, length + SUBJECT_HEADER_BYTES + maxIdBytes));
    if (written === 0 || written > MAX_ID_BYTES) throw new RangeError(`hand-off: subject id of ${written} UTF-8 bytes (expected 1..${MAX_ID_BYTES})`);
    view.setUint8(length, TAG_SUBJECT);
    view.setUint8(length + 1, hit.kind);
    view.setUint16(length + 2, written, true);
    view.setUint32(length + 4, key, true);
    const end = length + subjectEntryBytes(written);
    bytes.fill(0, length + SUBJECT_HEADER_BYTES + written, end);
    length = end;
    const i = key >>> 3;
    if (i >= defined.length) {
      let size = defined.length * 2;
      while (size <= i) size *= 2;
      const grown = new Uint8Array(size); grown.set(defined); defined = grown;
    }
    defined[i] |= 1 << (key & 7);
  }

  return {
    add(flow, hits) {
      const n = hits.length;
      if (n === 0) return;
      if (n > MAX_HITS) throw new RangeError(`hand-off: ${n} hits for one flow (at most ${MAX_HITS})`);
      for (let i = 0; i < n; i++) {
        const key = hits[i].subjectKey;
        if (!(key >= 0 && key < MAX_HANDOFF_KEYS)) throw new RangeError(`hand-off: subject key ${key} (expected 0..${MAX_HANDOFF_KEYS - 1})`);
        if (!isDefined(key)) define(hits[i]);
      }
      const size = recordEntryBytes(n);
      reserve(size);
      const v = view;
      const o = length;
      v.setUint8(o, TAG_RECORD);
      v.setUint8(o + 1, n);
      v.setUint16(o + 2, 0, true);
      v.setUint32(o + 4, hits[0].subjectKey * 2 + hits[0].direction, true);
      v.setFloat64(o + 8, flow.startMs, true);
      v.setFloat64(o + 16, flow.endMs, true);
      v.setFloat64(o + 24, flow.bytes, true);
      v.setFloat64(o + 32, flow.packets, true);
      for (let i = 1; i < n; i++) v.setUint32(o + 36 + 4 * i, hits[i].subjectKey * 2 + hits[i].direction, true);
      if ((n & 1) === 0) v.setUint32(o + 36 + 4 * n, 0, true); // the pad of an even count
      length = o + size;
    },
    get pendingBytes() { return length; },
    take() {
      const payload = new Uint8Array(buffer, 0, length);
      length = 0;
      return payload;
    },
  };
}

export interface HandoffSink {
  /** The flow and hits are reused by the next record: consume them now (the aggregator copies numbers). */
  add(flow: FlowRecord, hits: readonly SubjectHit[]): void;
}

export interface HandoffDecoder {
  /**
   * Feeds every record of one payload to the sink, in order; definitions update the key map. Never
   * throws for the payload's content (a throw from the sink propagates).
   */
  read(payload: Uint8Array, sink: HandoffSink): void;
  /** Malformed payloads seen (counted, never thrown: one bad payload must not stop stage B). */
  readonly malformed: number;
}

const KNOWN_KINDS: ReadonlySet<number> = new Set(Object.values(SubjectKind).filter((k) => k !== SubjectKind.UNSPECIFIED));

export function createHandoffDecoder(): HandoffDecoder {
  // A-key → slot + 1 (0: not defined), and B's hits by slot: in at 2 * slot, out at 2 * slot + 1. A
  // typed index, not an array indexed by A-key: one high key (garbage, or the first definition of a
  // big table) must not fill a JS array of millions (it cost 1.7 s and 500 MB at 2^24).
  let slotOfKey = new Int32Array(1024);
  const hitsBySlot: SubjectHit[] = [];
  let malformed = 0;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  // The one record handed to the sink, reused: only the aggregator's four fields change.
  const flow: FlowRecord = {
    exporter: '', observationDomain: 0, srcIp: new Uint8Array(4), dstIp: new Uint8Array(4),
    inputIf: 0, outputIf: 0, bytes: 0, packets: 0, samplingRate: 1, startMs: 0, endMs: 0,
    protocol: 0, srcPort: 0, dstPort: 0,
  };
  // One reused hits array per count (classifier.ts `results`): setting `length` is a slow path in V8.
  const results: SubjectHit[][] = [[], [undefined!], [undefined!, undefined!], [undefined!, undefined!, undefined!], [undefined!, undefined!, undefined!, undefined!]];
  // Payloads from the ring share its SharedArrayBuffer: one DataView over it, no allocation per payload.
  let viewBuffer: ArrayBufferLike | undefined;
  let view: DataView | undefined;

  function hitOf(word: number): SubjectHit | undefined {
    const key = word >>> 1;
    const slot = key < slotOfKey.length ? slotOfKey[key] : 0;
    return slot === 0 ? undefined : hitsBySlot[2 * (slot - 1) + (word & 1)];
  }

  function define(key: number, pair: HitPair): void {
    if (key >= slotOfKey.length) {
      let size = slotOfKey.length * 2;
      while (size <= key) size *= 2;
      const grown = new Int32Array(size); grown.set(slotOfKey); slotOfKey = grown;
    }
    let slot = slotOfKey[key];
    if (slot === 0) { slot = hitsBySlot.length / 2 + 1; slotOfKey[key] = slot; }
    hitsBySlot[2 * (slot - 1)] = pair.in; // appends for a new slot, replaces for a redefined key
    hitsBySlot[2 * (slot - 1) + 1] = pair.out;
  }

  /** A SUBJECT entry at o (its 8-byte header is inside the payload); its end, or -1 when bad. */
  function readSubject(v: DataView, bytesBuf: Uint8Array, o: number, end: number, base: number): number {
    const kind = v.getUint8(o + 1);
    const idBytes = v.getUint16(o + 2, true);
    const key = v.getUint32(o + 4, true);
    const next = o + subjectEntryBytes(idBytes);
    if (idBytes === 0 || next > end || !KNOWN_KINDS.has(kind) || key >= MAX_HANDOFF_KEYS) return -1;
    let id: string;
    try {
      id = utf8.decode(bytesBuf.subarray(o - base + SUBJECT_HEADER_BYTES, o - base + SUBJECT_HEADER_BYTES + idBytes));
    } catch {
      return -1; // not UTF-8
    }
    if (id.includes('\n')) return -1; // never in a subject id (checkpoints join ids with it)
    define(key, hitPair(id, kind as SubjectKind));
    return next;
  }

  return {
    read(payload, sink) {
      if (payload.buffer !== viewBuffer) { viewBuffer = payload.buffer; view = new DataView(payload.buffer); }
      const v = view!;
      const base = payload.byteOffset;
      const end = base + payload.byteLength;
      let o = base;
      while (o < end) {
        if (o + ENTRY_ALIGN > end) { malformed++; return; }
        const tag = v.getUint8(o);
        if (tag === TAG_RECORD) {
          const n = v.getUint8(o + 1);
          if (n === 0 || n > MAX_HITS || v.getUint16(o + 2, true) !== 0) { malformed++; return; }
          const next = o + recordEntryBytes(n);
          if (next > end) { malformed++; return; }
          const hits = results[n];
          const h0 = hitOf(v.getUint32(o + 4, true));
          if (h0 === undefined) { malformed++; return; }
          hits[0] = h0;
          for (let i = 1; i < n; i++) {
            const h = hitOf(v.getUint32(o + 36 + 4 * i, true));
            if (h === undefined) { malformed++; return; }
            hits[i] = h;
          }
          flow.startMs = v.getFloat64(o + 8, true);
          flow.endMs = v.getFloat64(o + 16, true);
          flow.bytes = v.getFloat64(o + 24, true);
          flow.packets = v.getFloat64(o + 32, true);
          o = next;
          sink.add(flow, hits);
        } else if (tag === TAG_SUBJECT) {
          const next = readSubject(v, payload, o, end, base);
          if (next < 0) { malformed++; return; }
          o = next;
        } else {
          malformed++;
          return;
        }
      }
    },
    get malformed() { return malformed; },
  };
}
