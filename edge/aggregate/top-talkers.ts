/**
 * Top talkers for the live view (LiveFlows, QoS 0, not billing data). Counts bytes per 5-tuple and
 * exporter over one window, then take() returns the N biggest and starts a new window. Bounded:
 * once maxKeys distinct flows are tracked in a window, new keys are ignored until the next window
 * (the biggest talkers are almost always already in).
 *
 * Sampled at high rates (issue 13): at 3M records/s the table below cost 29% of an edge worker, more
 * than decode or aggregation, for a view that shows a few dozen rows. So a window tracks every record
 * until it has seen `exactRecords` of them, then about 1 record in `stride` (rule: samplingStride).
 * A tracked record adds its bytes and packets times the stride it was drawn with, so every estimate is
 * unbiased, and the stride may change at any record. Skipping is a countdown re-armed with a
 * pseudo-random gap (xorshift32) of mean `stride`: a fixed gap would alias with periodic traffic (an
 * exporter's 30 records per datagram) and always land on the same flows. Quiet windows (tests, small
 * edges) stay exact, as before. Billing never reads these numbers: the aggregator counts every record.
 *
 * Hot path: add() runs for every record. A string key per record (exporter|src|dst|proto|ports)
 * and a Map lookup cost ~1.5 µs a record, more than decode, classify and aggregate together; so
 * the key is 11 int32 words (exporter number, address lengths + protocol, ports, 4 + 4 address
 * words) in an open-addressing table over typed arrays, and an entry is a row of those arrays: no
 * allocation per record or per entry. Values a typed word cannot hold exactly (a protocol or port
 * outside 0..65535, an address that is not 4 or 16 bytes) take the string-keyed Map of old, in the
 * same entry numbering, so every flow is keyed exactly as before.
 */
import type { FlowRecord } from '../decode/flow-record';
import type { Talker } from '../../proto/codec';
import { formatIpBytes } from '../../common/ip-prefix';

export interface TopTalkers {
  add(flow: FlowRecord): void;
  /**
   * The top n of the window that ends at nowMs; resets the window. Bytes, packets and bits per
   * second are whole numbers (estimates when sampled). samplingOneIn: the largest stride a counted
   * record of the window was drawn with; absent when every record was counted (as proto3 omits 1's
   * stand-in, 0), so exact windows read exactly as before sampling existed.
   */
  take(nowMs: number, n: number): { windowSec: number; talkers: Talker[]; samplingOneIn?: number };
  /** The current window's sampling so far (tests and diagnostics): records seen, records tracked, stride now. */
  sampling(): { seenRecords: number; trackedRecords: number; stride: number };
}

export const DEFAULT_EXACT_RECORDS = 65_536;
export const MAX_STRIDE = 1024;

/**
 * Rule: the sampling stride of a window that has seen `seen` records and started at `startStride`.
 * - 1 (every record counted) until the window has seen `exactRecords` records;
 * - then the smallest power of two above seen / exactRecords: 2 from exactRecords, 4 from twice that,
 *   and so on, so each doubling of the records seen tracks about exactRecords / 2 more records;
 * - never below the window's start stride (the previous window's last stride, halved: steady heavy
 *   traffic is sampled from a window's first record, and a quiet window decays back to 1);
 * - at most MAX_STRIDE.
 * Tracked records per window: about exactRecords * (1 + log2(seen / exactRecords) / 2) up to the cap,
 * seen / MAX_STRIDE beyond, whatever the rate.
 */
export function samplingStride(seen: number, exactRecords: number, startStride: number): number {
  let policy = 1;
  if (seen >= exactRecords) {
    policy = 2;
    while (policy < MAX_STRIDE && seen >= exactRecords * policy) policy *= 2;
  }
  return Math.min(MAX_STRIDE, Math.max(startStride, policy));
}

/** The seen count at which samplingStride's doubling step next changes (Infinity once capped). */
function nextStrideChangeAt(seen: number, exactRecords: number): number {
  if (seen < exactRecords) return exactRecords;
  const policy = samplingStride(seen, exactRecords, 1);
  return policy >= MAX_STRIDE ? Infinity : exactRecords * policy;
}

/** Key words per entry: exporter, lengths+protocol, ports, src[4], dst[4]. */
const KEY_WORDS = 11;
/**
 * Entries a new table has room for (~1.2 MB), so a busy edge's first window grows it twice to the
 * 50,000 cap instead of six times from 1,024 (a third of a cold edge's first 200 ms under load).
 */
const INITIAL_ENTRIES = 16_384;

/** A fallback entry's flow: FlowRecord addresses are views into the datagram (zero-copy decoder), so copies. */
interface OddEntry { exporter: string; srcIp: Uint8Array; dstIp: Uint8Array; protocol: number; srcPort: number; dstPort: number }

function ipKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** MurmurHash3's finalizer: FNV's multiply only moves bits up, the slot index takes the low ones. */
function fmix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** Slots: a power of two at least twice the entries (the probe loops stop at an empty slot). */
function tableSizeFor(entries: number): number {
  let size = 2;
  while (size < entries * 2) size *= 2;
  return size;
}

function addrWord(a: Uint8Array, o: number): number {
  return (a[o] << 24) | (a[o + 1] << 16) | (a[o + 2] << 8) | a[o + 3];
}

function isPortLike(n: number): boolean {
  return (n & 0xffff) === n; // an integer in 0..65535 (false for NaN, fractions, negatives)
}

function addrOf(keys: Int32Array, base: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let w = 0; w < len / 4; w++) {
    const v = keys[base + w];
    out[4 * w] = v >>> 24; out[4 * w + 1] = (v >>> 16) & 255; out[4 * w + 2] = (v >>> 8) & 255; out[4 * w + 3] = v & 255;
  }
  return out;
}

export function createTopTalkers(opts: {
  startMs: number; maxKeys?: number;
  /** Records a window counts exactly before it starts sampling (see samplingStride). */
  exactRecords?: number;
  /** The gaps' pseudo-random seed (any non-zero 32-bit value); fixed by default, so runs repeat. */
  seed?: number;
}): TopTalkers {
  const maxKeys = opts.maxKeys ?? 50_000;
  const exactRecords = Math.max(1, opts.exactRecords ?? DEFAULT_EXACT_RECORDS);
  let windowStartMs = opts.startMs;
  // Sampling (see the header and samplingStride). `countdown` records are left in the current gap of
  // `armed` records, drawn at stride `armedStride`: the gap's last record is tracked with that weight.
  let rng = (opts.seed ?? 0x2545f491) | 0 || 1;
  let startStride = 1;
  let stride = 1;
  let seenBeforeGap = 0;
  let armed = 1;
  let armedStride = 1;
  let countdown = 1;
  let tracked = 0;
  let largestWeight = 1;
  let strideChangeAt = exactRecords;
  // Entries 0 .. count-1 in insertion order (take() breaks ties in bytes by it, as a Map's order did).
  let count = 0;
  let capacity = Math.max(1, Math.min(maxKeys, INITIAL_ENTRIES));
  let keys = new Int32Array(capacity * KEY_WORDS);
  let bytes = new Float64Array(capacity);
  let packets = new Float64Array(capacity);
  /** Open addressing: entry + 1, 0 = empty; at most half full. */
  // Slot i is table[2i] = entry + 1 (0 = empty) and table[2i + 1] = its key's hash, side by side (one
  // cache line per probe): a probe reads an entry's key words only when the hashes match.
  let slots = tableSizeFor(capacity);
  let table = new Int32Array(slots * 2);
  let mask = slots - 1;
  // Exporter numbers, per window (at most one new one per new entry, so bounded by maxKeys).
  let exporterIds = new Map<string, number>();
  let exporters: string[] = [];
  let lastExporter: string | undefined;
  let lastExporterId = -1;
  // Fallback for flows whose key does not fit the words (see the header).
  let oddKeys = new Map<string, number>();
  let odd = new Map<number, OddEntry>();

  /** A gap of mean `stride`, uniform in [1, 2 * stride - 1]; stride 1 draws nothing (exact windows stay exact). */
  function armGap(): void {
    armedStride = stride;
    if (stride === 1) { armed = 1; countdown = 1; return; }
    rng ^= rng << 13; rng ^= rng >>> 17; rng ^= rng << 5; // xorshift32
    armed = 1 + Math.floor(((rng >>> 0) / 4294967296) * (2 * stride - 1));
    countdown = armed;
  }

  function grow(): void {
    capacity = Math.min(maxKeys, capacity * 2);
    const k = new Int32Array(capacity * KEY_WORDS); k.set(keys); keys = k;
    const b = new Float64Array(capacity); b.set(bytes); bytes = b;
    const p = new Float64Array(capacity); p.set(packets); packets = p;
    // Re-insert from the old table: it holds each entry's hash (odd entries are not in it), so
    // nothing is rehashed (the first window after a start grows to maxKeys).
    const old = table;
    slots = tableSizeFor(capacity);
    table = new Int32Array(slots * 2);
    mask = slots - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) tableInsert(old[i] - 1, old[i + 1]);
  }

  function tableInsert(entry: number, hash: number): void {
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      if (table[2 * i] === 0) { table[2 * i] = entry + 1; table[2 * i + 1] = hash; return; }
    }
  }

  function exporterId(exporter: string): number {
    if (exporter === lastExporter) return lastExporterId;
    let id = exporterIds.get(exporter);
    if (id === undefined) { id = exporters.length; exporterIds.set(exporter, id); exporters.push(exporter); }
    lastExporter = exporter; lastExporterId = id;
    return id;
  }

  function addOdd(flow: FlowRecord, w: number): void {
    const key = `${flow.exporter}|${ipKey(flow.srcIp)}|${ipKey(flow.dstIp)}|${flow.protocol}|${flow.srcPort}|${flow.dstPort}`;
    const e = oddKeys.get(key);
    if (e !== undefined) { bytes[e] += flow.bytes * w; packets[e] += flow.packets * w; return; }
    if (count >= maxKeys) return;
    if (count === capacity) grow();
    const entry = count++;
    oddKeys.set(key, entry);
    odd.set(entry, { exporter: flow.exporter, srcIp: flow.srcIp.slice(), dstIp: flow.dstIp.slice(), protocol: flow.protocol, srcPort: flow.srcPort, dstPort: flow.dstPort });
    keys.fill(-1, entry * KEY_WORDS, (entry + 1) * KEY_WORDS);
    bytes[entry] = flow.bytes * w; packets[entry] = flow.packets * w;
  }

  // The probe key is written into the row after the last entry (the next entry's row when it is new).
  function track(flow: FlowRecord): void {
    const w = armedStride;
    seenBeforeGap += armed;
    tracked++;
    if (w > largestWeight) largestWeight = w;
    if (seenBeforeGap >= strideChangeAt) {
      stride = samplingStride(seenBeforeGap, exactRecords, startStride);
      strideChangeAt = nextStrideChangeAt(seenBeforeGap, exactRecords);
    }
    armGap();
    const src = flow.srcIp, dst = flow.dstIp;
    const srcLen = src.length, dstLen = dst.length;
    if ((srcLen !== 4 && srcLen !== 16) || (dstLen !== 4 && dstLen !== 16) || !isPortLike(flow.protocol) || !isPortLike(flow.srcPort) || !isPortLike(flow.dstPort)) {
      addOdd(flow, w);
      return;
    }
    if (count === capacity && count < maxKeys) grow();
    // At maxKeys there is no free row: probe with a row of scratch words.
    const base = count < capacity ? count * KEY_WORDS : -1;
    const k = base >= 0 ? keys : scratch;
    const b = base >= 0 ? base : 0;
    k[b] = exporterId(flow.exporter);
    k[b + 1] = (srcLen << 24) | (dstLen << 16) | flow.protocol;
    k[b + 2] = (flow.srcPort << 16) | flow.dstPort;
    if (srcLen === 4) { k[b + 3] = addrWord(src, 0); k[b + 4] = 0; k[b + 5] = 0; k[b + 6] = 0; }
    else { k[b + 3] = addrWord(src, 0); k[b + 4] = addrWord(src, 4); k[b + 5] = addrWord(src, 8); k[b + 6] = addrWord(src, 12); }
    if (dstLen === 4) { k[b + 7] = addrWord(dst, 0); k[b + 8] = 0; k[b + 9] = 0; k[b + 10] = 0; }
    else { k[b + 7] = addrWord(dst, 0); k[b + 8] = addrWord(dst, 4); k[b + 9] = addrWord(dst, 8); k[b + 10] = addrWord(dst, 12); }
    let h = 0x811c9dc5;
    for (let w = 0; w < KEY_WORDS; w++) h = Math.imul(h ^ k[b + w], 0x01000193);
    h = fmix(h);
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const slot = table[2 * i];
      if (slot === 0) break;
      if (table[2 * i + 1] !== h) continue;
      const o = (slot - 1) * KEY_WORDS;
      if (keys[o] === k[b] && keys[o + 1] === k[b + 1] && keys[o + 2] === k[b + 2] && keys[o + 3] === k[b + 3] && keys[o + 7] === k[b + 7]
        && keys[o + 4] === k[b + 4] && keys[o + 5] === k[b + 5] && keys[o + 6] === k[b + 6]
        && keys[o + 8] === k[b + 8] && keys[o + 9] === k[b + 9] && keys[o + 10] === k[b + 10]) {
        bytes[slot - 1] += flow.bytes * w; packets[slot - 1] += flow.packets * w;
        return;
      }
    }
    if (count >= maxKeys) return;
    const entry = count++; // its key words are already in place
    table[2 * i] = entry + 1;
    table[2 * i + 1] = h;
    bytes[entry] = flow.bytes * w; packets[entry] = flow.packets * w;
  }

  return {
    // Small enough for V8 to inline at the caller: on a busy edge most records stop at the countdown.
    add(flow) {
      if (--countdown > 0) return; // skipped: sampled out (never at stride 1)
      track(flow);
    },

    take(nowMs, n) {
      const windowSec = Math.max(1, Math.round((nowMs - windowStartMs) / 1000));
      const order = Array.from({ length: count }, (_, e) => e).sort((a, b) => bytes[b] - bytes[a]).slice(0, n);
      const talkers = order.map((e): Talker => {
        const o = odd.get(e);
        let exporter: string, srcIp: Uint8Array, dstIp: Uint8Array, protocol: number, srcPort: number, dstPort: number;
        if (o) ({ exporter, srcIp, dstIp, protocol, srcPort, dstPort } = o);
        else {
          const base = e * KEY_WORDS;
          exporter = exporters[keys[base]];
          srcIp = addrOf(keys, base + 3, keys[base + 1] >>> 24);
          dstIp = addrOf(keys, base + 7, (keys[base + 1] >>> 16) & 255);
          protocol = keys[base + 1] & 0xffff;
          srcPort = keys[base + 2] >>> 16;
          dstPort = keys[base + 2] & 0xffff;
        }
        // Whole numbers: Talker's counters are uint64 on the wire.
        return {
          src: formatIpBytes(srcIp), dst: formatIpBytes(dstIp), protocol, srcPort, dstPort, bytes: Math.round(bytes[e]), packets: Math.round(packets[e]),
          bitsPerSec: Math.round((bytes[e] * 8) / windowSec), exporter,
        };
      });
      const samplingOneIn = largestWeight;
      // The next window starts at this one's last stride, halved (samplingStride's rule).
      startStride = Math.max(1, stride >> 1);
      stride = startStride;
      seenBeforeGap = 0; tracked = 0; largestWeight = 1;
      strideChangeAt = exactRecords;
      armGap();
      count = 0;
      table.fill(0);
      exporterIds = new Map(); exporters = []; lastExporter = undefined; lastExporterId = -1;
      if (odd.size > 0) { oddKeys = new Map(); odd = new Map(); }
      windowStartMs = nowMs;
      return samplingOneIn > 1 ? { windowSec, talkers, samplingOneIn } : { windowSec, talkers };
    },
    sampling() {
      return { seenRecords: seenBeforeGap + armed - countdown, trackedRecords: tracked, stride };
    },
  };
}

const scratch = new Int32Array(KEY_WORDS);
