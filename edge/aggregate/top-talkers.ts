/**
 * Top talkers for the live view (LiveFlows, QoS 0, not billing data). Counts bytes per 5-tuple and
 * exporter over one window, then take() returns the N biggest and starts a new window. Bounded:
 * once maxKeys distinct flows are tracked in a window, new keys are ignored until the next window
 * (the biggest talkers are almost always already in).
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
  /** The top n of the window that ends at nowMs; resets the window. */
  take(nowMs: number, n: number): { windowSec: number; talkers: Talker[] };
}

/** Key words per entry: exporter, lengths+protocol, ports, src[4], dst[4]. */
const KEY_WORDS = 11;
const INITIAL_ENTRIES = 1024;

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

export function createTopTalkers(opts: { startMs: number; maxKeys?: number }): TopTalkers {
  const maxKeys = opts.maxKeys ?? 50_000;
  let windowStartMs = opts.startMs;
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

  function grow(): void {
    capacity = Math.min(maxKeys, capacity * 2);
    const k = new Int32Array(capacity * KEY_WORDS); k.set(keys); keys = k;
    const b = new Float64Array(capacity); b.set(bytes); bytes = b;
    const p = new Float64Array(capacity); p.set(packets); packets = p;
    slots = tableSizeFor(capacity);
    table = new Int32Array(slots * 2);
    mask = slots - 1;
    for (let e = 0; e < count; e++) if (!odd.has(e)) tableInsert(e, hashAt(e * KEY_WORDS));
  }

  function hashAt(base: number): number {
    let h = 0x811c9dc5;
    for (let w = 0; w < KEY_WORDS; w++) h = Math.imul(h ^ keys[base + w], 0x01000193);
    return fmix(h);
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

  function addOdd(flow: FlowRecord): void {
    const key = `${flow.exporter}|${ipKey(flow.srcIp)}|${ipKey(flow.dstIp)}|${flow.protocol}|${flow.srcPort}|${flow.dstPort}`;
    const e = oddKeys.get(key);
    if (e !== undefined) { bytes[e] += flow.bytes; packets[e] += flow.packets; return; }
    if (count >= maxKeys) return;
    if (count === capacity) grow();
    const entry = count++;
    oddKeys.set(key, entry);
    odd.set(entry, { exporter: flow.exporter, srcIp: flow.srcIp.slice(), dstIp: flow.dstIp.slice(), protocol: flow.protocol, srcPort: flow.srcPort, dstPort: flow.dstPort });
    keys.fill(-1, entry * KEY_WORDS, (entry + 1) * KEY_WORDS);
    bytes[entry] = flow.bytes; packets[entry] = flow.packets;
  }

  // The probe key is written into the row after the last entry (the next entry's row when it is new).
  return {
    add(flow) {
      const src = flow.srcIp, dst = flow.dstIp;
      const srcLen = src.length, dstLen = dst.length;
      if ((srcLen !== 4 && srcLen !== 16) || (dstLen !== 4 && dstLen !== 16) || !isPortLike(flow.protocol) || !isPortLike(flow.srcPort) || !isPortLike(flow.dstPort)) {
        addOdd(flow);
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
          bytes[slot - 1] += flow.bytes; packets[slot - 1] += flow.packets;
          return;
        }
      }
      if (count >= maxKeys) return;
      const entry = count++; // its key words are already in place
      table[2 * i] = entry + 1;
      table[2 * i + 1] = h;
      bytes[entry] = flow.bytes; packets[entry] = flow.packets;
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
        return {
          src: formatIpBytes(srcIp), dst: formatIpBytes(dstIp), protocol, srcPort, dstPort, bytes: bytes[e], packets: packets[e],
          bitsPerSec: Math.round((bytes[e] * 8) / windowSec), exporter,
        };
      });
      count = 0;
      table.fill(0);
      exporterIds = new Map(); exporters = []; lastExporter = undefined; lastExporterId = -1;
      if (odd.size > 0) { oddKeys = new Map(); odd = new Map(); }
      windowStartMs = nowMs;
      return { windowSec, talkers };
    },
  };
}

const scratch = new Int32Array(KEY_WORDS);
